"""Pagination: page numbers for every list, a cursor for messages."""

import re
from datetime import UTC

from django.core.paginator import EmptyPage, Paginator
from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor, CursorPagination, PageNumberPagination


class StrictPageNumberPagination(PageNumberPagination):
    """``?page=N`` with N >= 1 (``minimum: 1`` in the schema). Anything else,
    including ``?page=`` and ``?page=last``, and a page past the end, is the
    404 ``{"detail": "Invalid page."}`` DRF gives for an unknown page."""

    last_page_strings = ()

    def get_page_number(self, request, paginator):
        value = request.query_params.get(self.page_query_param)
        if value is None:
            return 1
        if not re.fullmatch(r"[0-9]{1,18}", value):
            raise NotFound(self.invalid_page_message)
        return int(value)


class NewestFirstCursorPagination(CursorPagination):
    """Messages, newest first. ``created_at`` alone is not unique, so ``id``
    breaks ties and no message is skipped or repeated across pages."""

    ordering = ("-created_at", "-id")
    page_size = 50
    invalid_cursor_message = "Invalid cursor"

    def decode_cursor(self, request):
        """DRF checks the cursor's shape but passes its position (a
        ``created_at``) to the query as given: a tampered one became a 400
        quoting it back (the field's "“x” value has an invalid format"), or a
        naive date-time. Any cursor this paginator did not write is the 404
        "Invalid cursor", with a fixed message (docs/api.md, "Pagination")."""
        cursor = super().decode_cursor(request)
        if cursor is None or cursor.position is None:
            return cursor
        try:
            position = parse_datetime(cursor.position)
            if position is None or position.utcoffset() is None:
                raise ValueError
            position = position.astimezone(UTC)
        except (ValueError, OverflowError):
            raise NotFound(self.invalid_cursor_message) from None
        return Cursor(offset=cursor.offset, reverse=cursor.reverse, position=str(position))


class WindowCountPaginator(Paginator):
    """Django's paginator for a queryset of ``.values()`` rows that carry the
    total in each row (``total_rows``: ``COUNT(*) OVER ()``, computed before
    ``LIMIT``/``OFFSET``): the page and the total in one query instead of a
    ``COUNT`` and a ``SELECT``. The same pages, total and errors: a page past
    the end (or a page number below 1) is ``EmptyPage``; the first page of
    an empty list is an empty page with a total of 0."""

    count_key = "total_rows"

    def page(self, number):
        number = int(number)
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        bottom = (number - 1) * self.per_page
        if bottom >= 2**62:  # an OFFSET past any table (and past bigint)
            raise EmptyPage(self.error_messages["no_results"])
        rows = list(self.object_list[bottom : bottom + self.per_page])
        if not rows and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        self.count = rows[0][self.count_key] if rows else 0  # instead of the cached COUNT query
        return self._get_page(rows, number, self)


class WindowCountPagination(StrictPageNumberPagination):
    """``StrictPageNumberPagination`` (same parameters, schema and errors) for
    rows annotated with ``total_rows = Window(Count("*"))``."""

    django_paginator_class = WindowCountPaginator
