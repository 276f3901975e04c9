"""Login throttling: too many failed logins per username or per client address
lock both out for a while (docs/security.md, docs/api.md "Authentication").

django-axes does the counting, for every login that goes through
``django.contrib.auth.authenticate`` with a request: ``POST /admin/login/`` and
``POST /api/auth/token/`` share the same counters. They live in Django's cache
(``AxesCacheHandler``): Redis when ``REDIS_URL`` is set, so that every gunicorn
worker sees the same counts; local memory otherwise (``make run``).

Rules (settings ``LOGIN_FAILURE_LIMIT``, ``LOGIN_LOCKOUT_SECONDS``):

- each failed login adds one to two counters, one for the username and one
  for the client address; a counter expires ``LOGIN_LOCKOUT_SECONDS`` after
  its last failure;
- when either reaches ``LOGIN_FAILURE_LIMIT``, that login and every further
  one for the username (or from the address) is refused with 429 and
  ``Retry-After``, even with the right password;
- an attempt refused during the lockout counts as a failure and restarts the
  window, so ``Retry-After`` is always the full ``LOGIN_LOCKOUT_SECONDS``;
- successful logins are not counted and reset nothing (a correct login must
  not clear the address counter an attacker is filling).

This module holds the project's pieces: the backend (first in
``AUTHENTICATION_BACKENDS``), the cache handler, the client address, the
username key and the 429 response.
"""

from __future__ import annotations

from django.conf import settings
from django.core import checks
from django.http import HttpResponse, JsonResponse

from axes.backends import AxesStandaloneBackend
from axes.handlers.cache import AxesCacheHandler
from axes.helpers import get_cache

from workspace.metrics import LOGIN_REFUSED


class LoginThrottleBackend(AxesStandaloneBackend):
    """Refuses every login of a locked-out username or address (axes).

    A call of ``authenticate()`` without a request (the test client's
    ``login()``, a shell) has no client to throttle: it is left to the next
    backend instead of raising, as axes does."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class CacheHandler(AxesCacheHandler):
    """axes' cache handler, reading the cache on each use (not once at import),
    so that a settings change (tests) takes effect."""

    def __init__(self):
        pass

    @property
    def cache(self):
        return get_cache()

    # axes' database tables are not used (the counters live in the cache):
    # a row written there by hand or by a test triggers nothing.
    def post_save_access_attempt(self, instance, **kwargs):
        pass

    def post_delete_access_attempt(self, instance, **kwargs):
        pass

    # Successes are neither counted nor logged (the request log has them).
    def user_logged_in(self, sender, request, user, **kwargs):
        pass

    def user_logged_out(self, sender, request, user, **kwargs):
        pass


def client_ip(request) -> str | None:
    """The client address: ``REMOTE_ADDR``, or, behind ``TRUSTED_PROXY_COUNT``
    reverse proxies that each append to ``X-Forwarded-For``, the address the
    outermost trusted proxy saw (counted from the right: a client can put
    anything on the left)."""
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")


def username_key(request, credentials) -> str | None:
    """The username as a counter key, prefixed so that a username that looks
    like an address (``127.0.0.1``) never shares the address's counter."""
    username = (credentials or {}).get("username")
    if username is None:
        data = getattr(request, "data", None) or getattr(request, "POST", {})
        username = data.get("username")
    if not isinstance(username, str) or not username:
        return None
    return f"user:{username}"


def retry_after() -> int:
    """Seconds until a locked-out login may be tried again: the whole window,
    which the refused attempt has just restarted."""
    return int(settings.LOGIN_LOCKOUT_SECONDS)


def lockout_message() -> str:
    return f"Too many failed login attempts. Try again in {retry_after()} seconds."


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """429 with ``Retry-After``: JSON under ``/api/``, a short page elsewhere
    (the admin login). The API's token view answers its own 429 (DRF's
    ``Throttled``), which is kept as it is. Either way axes calls this once per
    refused login: it is counted here (``workspace_login_refused_total``)."""
    LOGIN_REFUSED.labels("lockout").inc()
    if original_response is not None and original_response.status_code == 429:
        return original_response
    return refusal_response(request, title="Too many login attempts", message=lockout_message(), seconds=retry_after())


def refusal_response(request, *, title: str, message: str, seconds: int) -> HttpResponse:
    """A refused login: 429 with ``Retry-After`` and ``no-store``; JSON under
    ``/api/``, a short page elsewhere (the admin login). Shared with
    ``workspace/login_slots.py``."""
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=429)
    else:
        response = HttpResponse(
            f"<!doctype html><title>{title}</title><h1>{title}</h1><p>{message}</p>",
            status=429,
            content_type="text/html; charset=utf-8",
        )
    response["Retry-After"] = str(seconds)
    response["Cache-Control"] = "no-store"
    return response


def is_locked_out(request) -> bool:
    """Whether the last ``authenticate()`` on ``request`` was refused or ended
    in a lockout (axes flags the Django request)."""
    request = getattr(request, "_request", request)
    return bool(getattr(request, "axes_locked_out", False))


def check_shared_cache(app_configs, **kwargs):
    """In production the counters must be shared by every worker: Redis."""
    backend = settings.CACHES.get(getattr(settings, "AXES_CACHE", "default"), {}).get("BACKEND", "")
    if not settings.DEBUG and not backend.endswith("RedisCache"):
        return [
            checks.Warning(
                "Login throttling counts failures in a cache that is not shared between processes.",
                hint="Set REDIS_URL (e.g. redis://127.0.0.1:6379/0) so that every gunicorn worker "
                "sees the same counters.",
                id="workspace.W010",
            )
        ]
    return []
