"""Pagination: page numbers for every list, a cursor for messages."""

import re
from datetime import UTC

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
