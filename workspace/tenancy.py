"""Tenant consistency: every object that refers to people refers to people of
its own company. Used by model ``clean()`` (forms, admin) and by the services.
"""

from collections import deque
from functools import cache

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections, models


def ensure_same_company(company_id: int | None, **related) -> None:
    """Raise ``ValidationError`` naming each field whose object belongs to
    another company than ``company_id``.

    ``related`` maps a field name to a model instance with a ``company_id``
    (a user, a channel) or ``None`` (not set: nothing to check).
    """
    errors = {}
    for field, obj in related.items():
        if obj is None:
            continue
        if getattr(obj, "company_id", None) != company_id:
            errors[field] = f"{obj._meta.verbose_name.capitalize()} {obj.pk} belongs to another company."
    if errors:
        raise ValidationError(errors)


class TenantInactive(PermissionDenied):
    """A write to a deactivated company (``lock_tenant``)."""


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
    (docs/lifecycle.md). The lock is PostgreSQL only: SQLite serialises writers itself.

    Raises ``Company.DoesNotExist`` (an API 404) when the tenant is gone, and
    ``TenantInactive`` (a 403) when it is deactivated (docs/lifecycle.md): the
    deactivation takes ``FOR UPDATE`` on the row, so writes in flight finish
    first and later ones see it. On SQLite (no row locks) the same check runs
    unlocked; SQLite serialises writers anyway.
    """
    connection = connections[using]
    if company_id is None:
        return
    from companies.models import Company

    table = connection.ops.quote_name(Company._meta.db_table)
    lock = " FOR KEY SHARE" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT is_active FROM {table} WHERE id = %s{lock}", [company_id])
        row = cursor.fetchone()
    if row is None:
        raise Company.DoesNotExist("The company no longer exists.")
    if not row[0]:
        raise TenantInactive("This company is deactivated: nothing of it can be changed.")


@cache
def tenant_lookup(model: type[models.Model]) -> str | None:
    """The ORM lookup from ``model`` to the owning company's id, following
    forward FKs (shortest path), e.g. ``"channel__company"`` for a message,
    ``"user__company"`` for an auth token; ``None`` for global models
    (content types, permissions, groups, sessions)."""
    from companies.models import Company

    if model is Company:
        return "pk"
    queue = deque([(model, [])])
    seen = {model}
    while queue:
        current, path = queue.popleft()
        for fk in current._meta.concrete_fields:
            if not (fk.is_relation and (fk.many_to_one or fk.one_to_one)):
                continue
            target = fk.related_model
            if target is Company:
                return "__".join([*path, fk.name])
            if target not in seen and len(path) < 4:
                seen.add(target)
                queue.append((target, [*path, fk.name]))
    return None
