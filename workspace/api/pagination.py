"""Pagination: page numbers for every list, a cursor for messages."""

from rest_framework.pagination import CursorPagination


class NewestFirstCursorPagination(CursorPagination):
    """Messages, newest first. ``created_at`` alone is not unique, so ``id``
    breaks ties and no message is skipped or repeated across pages."""

    ordering = ("-created_at", "-id")
    page_size = 50
