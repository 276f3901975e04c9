"""Request logging: one structured line per request (docs/operations.md).

The line carries the method, the path (never the query string: it may hold a
secret), the status, the duration and the acting user and company. Headers,
bodies and cookies are never read, so tokens and passwords cannot leak into it.
5xx tracebacks come from Django's own ``django.request`` logger. With
OpenTelemetry tracing on (workspace/tracing.py) it also carries ``trace_id``,
the id of the request's trace.
"""

import logging
import time

from django.utils.functional import SimpleLazyObject, empty
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from workspace import tracing

logger = logging.getLogger("workspace.request")


class JsonFormatter(_JsonFormatter):
    """One JSON object per record (settings.LOGGING "json" formatter).

    Every ``extra`` attribute becomes a field, except the ``request`` (and
    ``server_time``) that Django attaches to its own records: the request's
    repr carries the query string, which may hold a secret.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "request", "server_time"])
        super().__init__(*args, **kwargs)


def _actor(request) -> tuple[int | None, int | None]:
    """The authenticated user and their company, read *after* the view ran.

    DRF authenticates inside the view (token auth) and then sets the user on
    the Django request too, so reading it here sees it. A lazy session user
    that nobody looked at is not evaluated: that would cost a query per
    anonymous or static request.
    """
    user = getattr(request, "user", None)
    if user is None:
        return None, None
    if isinstance(user, SimpleLazyObject) and user._wrapped is empty:
        return None, None
    if not user.is_authenticated:
        return None, None
    return user.pk, getattr(user, "company_id", None)


class RequestLogMiddleware:
    """Outermost middleware: the duration covers the whole stack, and the
    status is the one the client receives (redirects and errors included)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        duration_ms = round((time.perf_counter() - started) * 1000, 2)
        user_id, company_id = _actor(request)
        extra = {
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": duration_ms,
            "user_id": user_id,
            "company_id": company_id,
        }
        if tracing.current_trace_id is not None:
            extra["trace_id"] = tracing.current_trace_id()
        logger.info("%s %s %s", request.method, request.path, response.status_code, extra=extra)
        return response
