"""Write paths of the companies app (tenants, people, attendance).

Every function is keyword-only, atomic, and refuses cross-tenant references
with a ``ValidationError`` naming the field.
"""

import time
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from companies.models import Attendance, Company, DeletionReceipt, User
from companies.receipts import ReceiptAccumulator
from workspace.metrics import COMPANY_PURGE_SECONDS, COMPANY_PURGES, LAST_ACTIVE_TOUCHES
from workspace.tenancy import lock_tenant


@transaction.atomic
def company_create(*, name: str, slug: str | None = None) -> Company:
    company = Company(name=name.strip(), slug=slug or slugify(name))
    company.full_clean()
    company.save()
    return company


@transaction.atomic
def company_set_retention(*, company: Company, days: int | None) -> Company:
    """Set ``message_retention_days`` (null: keep messages forever; else 1 to
    36500). A ``ValidationError`` on ``message_retention_days`` otherwise; the
    database refuses the same (``companies_company_retention_days_range``).
    The next retention run applies it (docs/lifecycle.md, "Retention")."""
    lock_tenant(company.pk)
    if days is not None and (isinstance(days, bool) or not isinstance(days, int)):
        raise ValidationError({"message_retention_days": "Enter a whole number of days, or null."})
    company.message_retention_days = days
    company.full_clean(exclude=["slug", "name"])
    company.save(update_fields=["message_retention_days"])
    return company


# --- Deletion receipts (docs/lifecycle.md, "Deletion receipts") -------------


def receipt_record(
    *,
    kind: str,
    subject: str,
    company: Company | None = None,
    company_id: int | None = None,
    actor: User | None = None,
    accumulator: ReceiptAccumulator,
    run=None,
    batch: int | None = None,
    parameters: dict | None = None,
    at: datetime | None = None,
) -> DeletionReceipt:
    """Append a receipt for a delete, from the counts and id checksums an
    accumulator gathered. Call it inside the delete's own transaction: the
    receipt commits (or rolls back) with the delete it proves.

    ``company`` is snapshotted (id, name, slug: no foreign key, so the receipt
    survives the company's purge); ``company_id`` alone when the row is
    already gone. ``actor`` likewise (id and username); None: the system (a
    scheduled run).
    """
    if company is not None:
        company_id, name, slug = company.pk, company.name, company.slug
    else:
        name = slug = ""
        if company_id is not None:
            row = Company.objects.filter(pk=company_id).values_list("name", "slug").first()
            name, slug = row if row else ("", "")
    receipt = DeletionReceipt(
        kind=kind,
        subject=subject,
        company_id=company_id,
        company_name=name,
        company_slug=slug,
        actor_id=getattr(actor, "pk", None),
        actor_username=getattr(actor, "username", "") or "",
        run=run,
        batch=batch,
        parameters=parameters or {},
        created_at=at or timezone.now(),
        **accumulator.receipt_fields(),
    )
    receipt.full_clean()
    receipt.save()
    return receipt


def company_purge(*, company: Company, actor: User | None = None) -> None:
    """Delete a tenant and everything it owns in one statement.

    Every FK below the company carries ``ON DELETE CASCADE`` / ``SET NULL`` in
    the database (workspace/db/backends), so the database does the cascade at
    its own speed, without Django's collector loading each row into memory.
    Nothing outside the tenant refers to it (tenant consistency), so no
    lifecycle field outside it needs recomputing (docs/delete-policy.md).

    Deleting the company row needs ``FOR UPDATE`` on it, which waits for the
    tenant's writes in flight (each holds the gate of ``lock_tenant``); the
    cascade then cannot deadlock with them.

    A big tenant's cascade may take longer than a web request's
    ``statement_timeout`` (workspace/db/timeouts.py; the admin runs this in a
    request): it is lifted for this transaction only.

    A deletion receipt (kind ``company_purge``) is written in the same
    transaction; it has no foreign key to the company, so it survives it.
    Its id checksums stream every id of the tenant once (one query per
    table): the online purge of a large tenant accumulates them per batch
    instead (``ReceiptAccumulator``).

    Counted and timed (``workspace_company_purges_total{outcome}``,
    ``workspace_company_purge_duration_seconds``; workspace/metrics.py).
    """
    from companies.selectors import company_purge_preview

    started = time.perf_counter()
    outcome = "failed"
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute("SET LOCAL statement_timeout = 0")
                    # The tenant's writes in flight finish first and later
                    # ones wait (the gate of lock_tenant): the receipt's
                    # counts are exactly what the cascade removes.
                    cursor.execute(
                        f"SELECT 1 FROM {connection.ops.quote_name(Company._meta.db_table)} "
                        "WHERE id = %s FOR UPDATE",
                        [company.pk],
                    )
            snapshot = Company.objects.filter(pk=company.pk).first()
            if snapshot is None:  # purged already: nothing to delete, no receipt
                outcome = "ok"
                company.pk = None
                return
            impact = company_purge_preview(company=snapshot)
            accumulator = ReceiptAccumulator.from_impact(impact)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"DELETE FROM {connection.ops.quote_name(Company._meta.db_table)} WHERE id = %s",
                    [company.pk],
                )
            receipt_record(
                kind=DeletionReceipt.Kind.COMPANY_PURGE,
                subject=impact.subject,
                company=snapshot,
                actor=actor,
                accumulator=accumulator,
            )
        outcome = "ok"
    finally:
        COMPANY_PURGE_SECONDS.observe(time.perf_counter() - started)
        COMPANY_PURGES.labels(outcome).inc()
    company.pk = None


def user_erase(*, user: User, actor: User | None = None) -> None:
    """Erase a person and everything the delete policy ties to them (their
    messages with the replies to them, reactions, memberships, attendances,
    organized meetings), at database speed.

    ``user.delete()`` goes through Django's collector, which loads every
    message of the user (delete signals are connected); here the database
    cascades one ``DELETE`` (ON DELETE CASCADE / SET NULL on every FK), and
    ``Channel.last_message_at`` of each channel that lost messages is
    recomputed once, in one set-based statement (bench/: about 1x raw SQL).

    The user row is locked first: a message of this user being posted
    concurrently either committed before (its channel is found) or fails its
    FK check after the erasure; it cannot vanish in the cascade unseen.

    A deletion receipt (kind ``user_erase``: counts per table, id checksums)
    is written in the same transaction.
    """
    from chat.models import Message
    from chat.services import channel_recompute_last_message
    from companies.selectors import user_erase_preview

    with transaction.atomic():
        lock_tenant(user.company_id)
        if not User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True):
            raise User.DoesNotExist(f"User {user.pk} does not exist.")
        channel_ids = list(
            Message.objects.filter(author_id=user.pk).values_list("channel_id", flat=True).distinct()
        )
        impact = user_erase_preview(user=user)
        accumulator = ReceiptAccumulator.from_impact(impact)
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {connection.ops.quote_name(User._meta.db_table)} WHERE id = %s", [user.pk]
            )
        channel_recompute_last_message(channel_ids=channel_ids)
        receipt_record(
            kind=DeletionReceipt.Kind.USER_ERASE,
            subject=impact.subject,
            company_id=user.company_id,
            actor=actor,
            accumulator=accumulator,
        )
    user.pk = None


def user_touch(*, user_id: int, at: datetime, using: str = "default") -> bool:
    """Move ``User.last_active`` forward to ``at``; never backwards.

    One conditional UPDATE: concurrent writers cannot lose the newest value
    (PostgreSQL re-checks the WHERE clause on the row version it locks), and
    there is no read-modify-write. Returns whether a row was written.

    It runs on every post, reaction and RSVP, so it is sent as plain SQL:
    building it through the ORM cost more CPU than the database spends on it
    (docs/PERFORMANCE.md). The value is adapted as the ORM adapts it.
    """
    connection = connections[using]
    qn = connection.ops.quote_name
    column = qn(User._meta.get_field("last_active").column)
    value = connection.ops.adapt_datetimefield_value(at)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {qn(User._meta.db_table)} SET {column} = %s "
            f"WHERE {qn(User._meta.pk.column)} = %s AND ({column} IS NULL OR {column} < %s)",
            [value, user_id, value],
        )
        written = cursor.rowcount > 0
    LAST_ACTIVE_TOUCHES.labels("event", "true" if written else "false").inc()
    return written


def user_touch_throttled(*, user: User, now: datetime, resolution: timedelta) -> bool:
    """``user_touch`` for request activity: at most one write per ``resolution``.

    The in-memory value (loaded by authentication anyway) skips the query when
    it is fresh; the WHERE clause makes the throttle hold across processes.
    """
    threshold = now - resolution
    if user.last_active is not None and user.last_active >= threshold:
        return False
    written = bool(
        User.objects.filter(Q(last_active__isnull=True) | Q(last_active__lt=threshold), pk=user.pk)
        .update(last_active=now)
    )
    LAST_ACTIVE_TOUCHES.labels("request", "true" if written else "false").inc()
    if written:
        user.last_active = now
    return written


@transaction.atomic
def user_create(
    *,
    company: Company | None,
    username: str,
    password: str | None = None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    role: str = User.Role.MEMBER,
    is_staff: bool = False,
    is_superuser: bool = False,
) -> User:
    user = User(
        company=company,
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        role=role,
        is_staff=is_staff,
        is_superuser=is_superuser,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    return user


def attendance_validate_no_overlap(*, user: User, start: datetime, end: datetime | None, exclude_pk=None) -> None:
    """The PostgreSQL exclusion constraint refuses overlapping attendances;
    SQLite has none, so the service checks the same rule there (and gives a
    clear message on both)."""
    overlapping = Attendance.objects.filter(user=user).exclude(pk=exclude_pk)
    overlapping = overlapping.exclude(check_out__isnull=False, check_out__lte=start)
    if end is not None:
        overlapping = overlapping.exclude(check_in__gte=end)
    if overlapping.exists():
        raise ValidationError({"check_in": "This attendance overlaps another one of the same user."})


@transaction.atomic
def attendance_check_in(*, user: User, at: datetime | None = None) -> Attendance:
    at = at or timezone.now()
    if user.company_id is None:
        raise ValidationError({"user": "Only members of a company can check in."})
    lock_tenant(user.company_id)
    # Lock the user row: two concurrent check-ins of one user serialize here
    # (NO KEY UPDATE: it does not block the FK checks of the user's inserts).
    User.objects.select_for_update(no_key=True).filter(pk=user.pk).first()
    if Attendance.objects.filter(user=user, check_out__isnull=True).exists():
        raise ValidationError({"check_in": "You are already checked in."})
    attendance_validate_no_overlap(user=user, start=at, end=None)
    attendance = Attendance(company_id=user.company_id, user=user, check_in=at)
    attendance.save()
    return attendance


@transaction.atomic
def attendance_check_out(*, user: User, at: datetime | None = None) -> Attendance:
    at = at or timezone.now()
    lock_tenant(user.company_id)
    attendance = (
        Attendance.objects.select_for_update().filter(user=user, check_out__isnull=True).first()
    )
    if attendance is None:
        raise ValidationError({"check_out": "You are not checked in."})
    if at <= attendance.check_in:
        raise ValidationError({"check_out": "Check-out must be after check-in."})
    attendance.check_out = at
    attendance.save(update_fields=["check_out"])
    return attendance
