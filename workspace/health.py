"""``GET /healthz``: is this app server able to serve? (docs/operations.md)

200 when the database answers and every migration on disk is applied, 503
otherwise, with a small JSON body. No authentication, no session, exempt from
the HTTPS redirect (settings.SECURE_REDIRECT_EXEMPT) so that a load balancer
can probe the instance directly.

Timeouts of its own: on PostgreSQL the probe runs in a transaction with
``SET LOCAL lock_timeout`` and ``statement_timeout`` of ``HEALTHZ_TIMEOUT``
(default 1 s, ``DJANGO_HEALTHZ_TIMEOUT``), shorter than a web request's, so
that a lock or an overloaded server makes it answer 503 quickly instead of
hanging the load balancer's probe. A failure is logged as one warning line.

Cost: one ``SELECT 1`` per probe (plus the ``SET LOCAL`` on PostgreSQL). The migration check (which reads the
migration files) runs until it has succeeded once in this process; after that
the answer cannot change without a deploy, and a deploy restarts the process.
"""

import logging

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

_migrations_applied = False


def reset_cache() -> None:
    """Forget the cached migration check (tests)."""
    global _migrations_applied
    _migrations_applied = False


def migrations_applied() -> bool:
    global _migrations_applied
    if not _migrations_applied:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        _migrations_applied = not plan
    return _migrations_applied


def _unavailable(**body) -> JsonResponse:
    response = JsonResponse({"status": "unavailable", **body}, status=503)
    # The probe logged its one line; Django's log_response must not add one.
    response._has_been_logged = True
    return response


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def _limit_time(cursor) -> None:
    """This transaction's own, short, lock and statement timeouts."""
    if connection.vendor == "postgresql":
        timeout = getattr(settings, "HEALTHZ_TIMEOUT", "1s")
        cursor.execute(
            "SELECT set_config('lock_timeout', %s, true), set_config('statement_timeout', %s, true)",
            [timeout, timeout],
        )


@never_cache
@require_safe
def healthz(request):
    step = "database"
    try:
        # savepoint=False: no extra queries; in production there is no outer
        # transaction, so SET LOCAL ends with this one.
        with transaction.atomic(savepoint=False), connection.cursor() as cursor:
            _limit_time(cursor)
            cursor.execute("SELECT 1")
            cursor.fetchone()
            step = "migrations"
            applied = migrations_applied()
    except DatabaseError as exc:
        if step == "database":
            logger.warning("healthz: the database is unreachable (%s)", _first_line(exc))
            return _unavailable(database="unreachable")
        logger.warning("healthz: could not read the applied migrations (%s)", _first_line(exc))
        return _unavailable(database="ok", migrations="unknown")
    if not applied:
        logger.error("healthz: migrations are not applied")
        return _unavailable(database="ok", migrations="pending")
    return JsonResponse({"status": "ok", "database": "ok", "migrations": "applied"})
