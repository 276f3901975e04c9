"""Failing cleanly: what a request gets when something below the API breaks
(docs/operations.md, "Failing cleanly").

Under ``/api/`` every error is JSON, in production and with ``DEBUG`` on:

- a body nested too deeply for the JSON parser (``RecursionError`` raised
  while parsing) -> 400 ``{"detail": ...}``;
- a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (``RequestDataTooBig``) -> 413;
- a ``Host`` outside ``ALLOWED_HOSTS`` (``DisallowedHost``) and any other
  ``SuspiciousOperation`` -> 400;
- the database unreachable, or a statement cancelled by ``lock_timeout`` /
  ``statement_timeout`` (``OperationalError``, ``InterfaceError``), or the
  shared cache (Redis: the login throttle's counters) unreachable -> 503 with
  ``Retry-After``; elsewhere a plain-text 503 with ``Retry-After``;
- anything else Django would render as an HTML page (its debug pages, its
  ``handler400``/``handler500``) -> ``{"detail": <reason phrase>}`` with the
  same status.

Each of these is logged as ONE warning line (no traceback): they are the
client's or the infrastructure's doing, not a bug. A genuine 500 keeps its
ERROR record with the traceback (``django.request``).

The DRF exception handler (workspace/api/exceptions.py) maps the same
exceptions inside API views with ``classify``; ``FailCleanlyMiddleware`` does
it for everything else (other views, the ``Host`` check, Django's own error
pages).
"""

import logging
import traceback

from django.conf import settings
from django.core.exceptions import DisallowedHost, RequestDataTooBig, SuspiciousOperation
from django.db import InterfaceError, OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from django.http import HttpResponse, JsonResponse
from redis.exceptions import TimeoutError as RedisTimeoutError

# The shared cache (Redis, REDIS_URL) unreachable: the login throttle cannot
# count, so logins are refused with a 503 like a database outage, not a 500.
CacheUnavailable = RedisConnectionError | RedisTimeoutError

logger = logging.getLogger("workspace.errors")

API_PREFIX = "/api/"


def retry_after() -> str:
    """Seconds a client is told to wait (``Retry-After``) when the database is
    unavailable or a statement hit a timeout (``DJANGO_DB_RETRY_AFTER``)."""
    return str(getattr(settings, "DB_UNAVAILABLE_RETRY_AFTER", 5))


def is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def raised_while_parsing(exc: BaseException) -> bool:
    """Whether ``exc`` was raised inside a DRF parser (a body too deeply
    nested), rather than by our own code (a bug: that stays a 500)."""
    return any(
        frame.f_globals.get("__name__", "").startswith(("rest_framework.parsers", "json"))
        for frame, _ in traceback.walk_tb(exc.__traceback__)
    )


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def classify(exc: BaseException) -> tuple[int, str] | None:
    """``(status, detail)`` for an exception that is not a bug, else None."""
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return 413, f"Request body too large (the limit is {limit} bytes)."
    if isinstance(exc, DisallowedHost):
        return 400, "Invalid Host header."
    if isinstance(exc, SuspiciousOperation):
        return 400, "Malformed request."
    if isinstance(exc, RecursionError) and raised_while_parsing(exc):
        return 400, "JSON parse error - nested too deeply."
    if isinstance(exc, OperationalError | InterfaceError | CacheUnavailable):
        return 503, "The service is temporarily unavailable; retry later."
    return None


def log_one_line(request, status: int, exc: BaseException) -> None:
    """The one warning line of a classified failure (no traceback, no query
    string: the path only)."""
    logger.warning(
        "%s %s -> %s (%s)",
        request.method,
        request.path,
        status,
        first_line(exc),
        extra={"method": request.method, "path": request.path, "status": status, "error": type(exc).__name__},
    )


def mark_logged(response):
    """Tell Django's ``log_response`` not to log this response again."""
    response._has_been_logged = True
    return response


def error_response(request, status: int, detail: str):
    if is_api(request):
        response = JsonResponse({"detail": detail}, status=status)
    else:
        response = HttpResponse(detail, status=status, content_type="text/plain; charset=utf-8")
    if status == 503:
        response["Retry-After"] = retry_after()
    return mark_logged(response)


class FailCleanlyMiddleware:
    """Near the top of the stack: inside the request log and the API's
    ``Cache-Control`` middleware, so that its answers get the same headers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if is_api(request):
            # The Host check runs here first: deeper in the stack Django would
            # answer an HTML 400 and log an ERROR with a traceback.
            try:
                request.get_host()
            except DisallowedHost as exc:
                log_one_line(request, 400, exc)
                return error_response(request, 400, "Invalid Host header.")
        response = self.get_response(request)
        if is_api(request) and response.status_code >= 400:
            response = self.as_json(response)
        return response

    def process_exception(self, request, exc):
        """Exceptions raised by a view (DRF views map them themselves)."""
        found = classify(exc)
        if found is None:
            return None  # a bug: Django logs the traceback; ``as_json`` rewrites the page
        status, detail = found
        log_one_line(request, status, exc)
        return error_response(request, status, detail)

    @staticmethod
    def as_json(response):
        """An HTML error page of Django's (debug page, ``handler500``, CSRF
        failure...) rewritten as the API's JSON error. DRF responses are left
        alone (already JSON, or the browsable API a browser asked for)."""
        if hasattr(response, "accepted_renderer") or getattr(response, "streaming", False):
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        rewritten = JsonResponse({"detail": response.reason_phrase}, status=response.status_code)
        for header, value in response.items():  # Allow, Retry-After, CSP, Cache-Control...
            if header.lower() not in {"content-type", "content-length"}:
                rewritten[header] = value
        if getattr(response, "_has_been_logged", False):
            mark_logged(rewritten)
        return rewritten
