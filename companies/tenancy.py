"""The tenant write gate: the first statement of every tenant write service
(docs/delete-policy.md). Lives with ``companies`` because it locks the company
row; the apps above (``chat``, ``meetings``) import it from here."""

from django.core.exceptions import PermissionDenied
from django.db import connections

from companies.models import Company


class TenantInactive(PermissionDenied):
    """A write to a deactivated company (``lock_tenant``): an API 403."""


def lock_tenant(company_id: int | None, *, using: str = "default") -> None:
    """Enter the tenant's write gate: first statement of every tenant write.

    Takes ``FOR KEY SHARE`` on the company row. Writers of one tenant do not
    block each other (the lock is shared, and it is the same lock the FK
    checks of their inserts take anyway), but deleting the company needs
    ``FOR UPDATE`` on that row, so a purge — ``company_purge``, the admin, or
    a ``DELETE`` typed in psql — waits for the writes in flight, and writes
    that arrive during the purge wait for it and then find the tenant gone.
    Without the gate the purge's cascade locks users before channels while a
    message post locks its channel before its author: a deadlock
    (docs/lifecycle.md). The lock is PostgreSQL only: SQLite serialises
    writers itself.

    Raises ``Company.DoesNotExist`` (an API 404) when the tenant is gone, and
    ``TenantInactive`` (a 403) when it is deactivated (docs/lifecycle.md): the
    deactivation takes ``FOR UPDATE`` on the row, so writes in flight finish
    first and later ones see it. On SQLite (no row locks) the same check runs
    unlocked.
    """
    if company_id is None:
        return
    connection = connections[using]
    table = connection.ops.quote_name(Company._meta.db_table)
    lock = " FOR KEY SHARE" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT is_active FROM {table} WHERE id = %s{lock}", [company_id])
        row = cursor.fetchone()
    if row is None:
        raise Company.DoesNotExist("The company no longer exists.")
    if not row[0]:
        raise TenantInactive("This company is deactivated: nothing of it can be changed.")
