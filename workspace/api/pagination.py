"""Pagination: page numbers for every list, a cursor for messages."""

import re

from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination, PageNumberPagination


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
