"""Database timeouts (docs/operations.md, "Timeouts").

A web request must fail fast (a JSON 503 with ``Retry-After``,
workspace/errors.py) rather than hold a gunicorn thread behind a lock held by
another session. On PostgreSQL every connection of a web process is opened
with libpq's ``connect_timeout`` and the server settings ``lock_timeout`` and
``statement_timeout`` (sent in the startup packet: no extra round trip, and
persistent connections keep them).

Paths that need longer run without the two server limits:

- ``manage.py`` commands (``migrate``, ``seed_demo``, ``integrity_report``,
  ``integrity_audit``...) and the benchmark and load-test drivers set
  ``DJANGO_DB_TIMEOUTS=off`` before the settings load (``runserver`` keeps
  the request limits); ``DJANGO_DB_TIMEOUTS=request manage.py migrate`` opts
  back in;
- the tenant purge (``company_purge``) lifts ``statement_timeout`` for its own
  transaction (``SET LOCAL``), also when the admin runs it in a request;
- ``/healthz`` sets shorter ones for its own probe (workspace/health.py).

``connect_timeout`` applies to every process.
"""

import re
from collections.abc import Mapping

DEFAULTS = {
    "DJANGO_DB_CONNECT_TIMEOUT": "5",
    "DJANGO_DB_LOCK_TIMEOUT": "3s",
    "DJANGO_DB_STATEMENT_TIMEOUT": "10s",
}

# A PostgreSQL duration: a number with an optional unit (ms by default).
_DURATION = re.compile(r"^\d+(\.\d+)?\s*(us|ms|s|min|h|d)?$")


def _duration(name: str, value: str) -> str:
    value = value.strip()
    if not _DURATION.match(value):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"{name}={value!r}: expected a duration such as 3s, 500ms or 0 (no limit).")
    return value.replace(" ", "")


def postgres_options(environ: Mapping[str, str], options: Mapping | None = None) -> dict:
    """The ``DATABASES["default"]["OPTIONS"]`` of a PostgreSQL database, given
    the environment and the options already there (from ``DATABASE_URL``)."""
    result = dict(options or {})
    connect = environ.get("DJANGO_DB_CONNECT_TIMEOUT", DEFAULTS["DJANGO_DB_CONNECT_TIMEOUT"]).strip()
    if not connect.isdigit():
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"DJANGO_DB_CONNECT_TIMEOUT={connect!r}: expected whole seconds.")
    result.setdefault("connect_timeout", int(connect))
    if environ.get("DJANGO_DB_TIMEOUTS", "request").strip().lower() == "off":
        return result
    lock = _duration(
        "DJANGO_DB_LOCK_TIMEOUT", environ.get("DJANGO_DB_LOCK_TIMEOUT", DEFAULTS["DJANGO_DB_LOCK_TIMEOUT"])
    )
    statement = _duration(
        "DJANGO_DB_STATEMENT_TIMEOUT",
        environ.get("DJANGO_DB_STATEMENT_TIMEOUT", DEFAULTS["DJANGO_DB_STATEMENT_TIMEOUT"]),
    )
    server = [f"-c lock_timeout={lock}", f"-c statement_timeout={statement}"]
    # Options given in DATABASE_URL (?options=...) come last: they win.
    result["options"] = " ".join([*server, result.get("options", "")]).strip()
    return result
