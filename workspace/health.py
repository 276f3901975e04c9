"""``GET /healthz``: is this app server able to serve? (docs/operations.md)

200 when the database answers and every migration on disk is applied, 503
otherwise, with a small JSON body. No authentication, no session, exempt from
the HTTPS redirect (settings.SECURE_REDIRECT_EXEMPT) so that a load balancer
can probe the instance directly.

Cost: one ``SELECT 1`` per probe. The migration check (which reads the
migration files) runs until it has succeeded once in this process; after that
the answer cannot change without a deploy, and a deploy restarts the process.
"""

import logging

from django.db import DatabaseError, connection
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
    return JsonResponse({"status": "unavailable", **body}, status=503)


@never_cache
@require_safe
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("healthz: the database is unreachable")
        return _unavailable(database="unreachable")
    try:
        applied = migrations_applied()
    except DatabaseError:
        logger.exception("healthz: could not read the applied migrations")
        return _unavailable(database="ok", migrations="unknown")
    if not applied:
        logger.error("healthz: migrations are not applied")
        return _unavailable(database="ok", migrations="pending")
    return JsonResponse({"status": "ok", "database": "ok", "migrations": "applied"})
