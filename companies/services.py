"""Write paths of the companies app (tenants, people, attendance).

Every function is keyword-only, atomic, and refuses cross-tenant references
with a ``ValidationError`` naming the field.
"""

import time
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from companies.models import Attendance, Company, CompanyPurge, User
from workspace.metrics import COMPANY_PURGE_SECONDS, COMPANY_PURGES, LAST_ACTIVE_TOUCHES
from workspace.tenancy import lock_tenant


@transaction.atomic
def company_create(*, name: str, slug: str | None = None) -> Company:
    company = Company(name=name.strip(), slug=slug or slugify(name))
    company.full_clean()
    company.save()
    return company


def company_purge(*, company: Company) -> None:
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

    Counted and timed (``workspace_company_purges_total{outcome}``,
    ``workspace_company_purge_duration_seconds``; workspace/metrics.py).
    """
    started = time.perf_counter()
    outcome = "failed"
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute("SET LOCAL statement_timeout = 0")
                cursor.execute(
                    f"DELETE FROM {connection.ops.quote_name(Company._meta.db_table)} WHERE id = %s",
                    [company.pk],
                )
        outcome = "ok"
    finally:
        COMPANY_PURGE_SECONDS.observe(time.perf_counter() - started)
        COMPANY_PURGES.labels(outcome).inc()
    company.pk = None


def user_erase(*, user: User) -> None:
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
    """
    from chat.models import Message
    from chat.services import channel_recompute_last_message

    with transaction.atomic():
        lock_tenant(user.company_id)
        if not User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True):
            raise User.DoesNotExist(f"User {user.pk} does not exist.")
        channel_ids = list(
            Message.objects.filter(author_id=user.pk).values_list("channel_id", flat=True).distinct()
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {connection.ops.quote_name(User._meta.db_table)} WHERE id = %s", [user.pk]
            )
        channel_recompute_last_message(channel_ids=channel_ids)
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


# --- Scheduled and online tenant deletion (docs/lifecycle.md) -----------------


def company_deactivate(*, company: Company, actor: User | None, deletion_delay_days: int | None = None) -> CompanyPurge:
    """Deactivate a tenant: from the commit on, its people cannot log in (their
    tokens are deleted, sessions refused) and nothing of it can be written
    (``lock_tenant`` refuses); its purge is scheduled ``deletion_delay_days``
    later (0 = now) and its job enqueued in this same transaction.

    The company row is locked ``FOR UPDATE`` first: it waits for the tenant's
    writes in flight (each holds the ``FOR KEY SHARE`` gate), so none commits
    after the deactivation."""
    from knox.models import AuthToken

    from companies.tasks import company_purge_job

    with transaction.atomic():
        locked = Company.objects.select_for_update().get(pk=company.pk)
        if not locked.is_active:
            raise ValidationError({"is_active": "The company is already deactivated."})
        if deletion_delay_days is not None:
            locked.deletion_delay_days = deletion_delay_days
        now = timezone.now()
        locked.is_active = False
        locked.deactivated_at = now
        locked.purge_scheduled_for = now + timedelta(days=locked.deletion_delay_days)
        locked.full_clean(exclude=["slug"])
        locked.save(update_fields=["is_active", "deactivated_at", "purge_scheduled_for", "deletion_delay_days"])
        AuthToken.objects.filter(user__company_id=locked.pk).delete()
        purge = CompanyPurge.objects.create(
            company_id=locked.pk,
            company_name=locked.name,
            company_slug=locked.slug,
            requested_by_id=actor.pk if actor is not None else None,
            scheduled_for=locked.purge_scheduled_for,
        )
        job = company_purge_job.using(run_after=locked.purge_scheduled_for).enqueue(company_id=locked.pk)
        purge.task_id = str(job.id)
        purge.save(update_fields=["task_id"])
    for field in ("is_active", "deactivated_at", "purge_scheduled_for", "deletion_delay_days"):
        setattr(company, field, getattr(locked, field))
    return purge


def company_reactivate(*, company: Company, actor: User | None) -> Company:
    """Cancel a scheduled purge and let the tenant in again. Refused once the
    purge has started (some of the data may be gone already)."""
    from django_tasks_db.models import DBTaskResult

    with transaction.atomic():
        locked = Company.objects.select_for_update().get(pk=company.pk)
        if locked.is_active:
            raise ValidationError({"is_active": "The company is active."})
        purge = CompanyPurge.objects.select_for_update().filter(company_id=locked.pk).first()
        if purge is not None and purge.status != CompanyPurge.Status.SCHEDULED:
            raise ValidationError({"is_active": "The purge of this company has started: it cannot be cancelled."})
        if purge is not None:
            if purge.task_id:
                DBTaskResult.objects.filter(id=purge.task_id, status="READY").delete()
            purge.delete()
        locked.is_active = True
        locked.deactivated_at = None
        locked.purge_scheduled_for = None
        locked.save(update_fields=["is_active", "deactivated_at", "purge_scheduled_for"])
    company.is_active, company.deactivated_at, company.purge_scheduled_for = True, None, None
    return company


def company_purge_claim(*, company_id: int, owner: str, mode: str | None = None) -> CompanyPurge | None:
    """Start (or take over) the purge of a company for worker ``owner``.

    Returns the locked-in purge record, or None when there is nothing for this
    worker to do: cancelled (reactivated), not due yet, finished, or held by
    another worker whose lease is fresh. The first start counts the rows per
    table and picks the mode: a tenant of at most
    ``COMPANY_PURGE_ONLINE_THRESHOLD`` rows goes in one statement."""
    from companies.purge import tenant_row_counts

    now = timezone.now()
    lease = timedelta(seconds=settings.COMPANY_PURGE_LEASE_SECONDS)
    with transaction.atomic():
        company = Company.objects.select_for_update().filter(pk=company_id).first()
        purge = CompanyPurge.objects.select_for_update().filter(company_id=company_id).first()
        if purge is None or purge.status == CompanyPurge.Status.FINISHED:
            return None
        if company is not None and (company.is_active or purge.scheduled_for > now):
            return None
        held = purge.lease_owner not in ("", owner) and purge.heartbeat_at and purge.heartbeat_at > now - lease
        if held:
            return None
        if purge.status == CompanyPurge.Status.SCHEDULED:
            purge.totals = tenant_row_counts(company_id) if company is not None else {}
            purge.mode = mode or (
                CompanyPurge.Mode.SINGLE
                if sum(purge.totals.values()) <= settings.COMPANY_PURGE_ONLINE_THRESHOLD
                else CompanyPurge.Mode.ONLINE
            )
            purge.status = CompanyPurge.Status.RUNNING
            purge.started_at = now
        purge.lease_owner = owner
        purge.heartbeat_at = now
        purge.save()
    return purge


def _company_purge_finish(
    *, purge_id: int, owner: str, deleted: dict | None = None, last_batch_ms: int = 0
) -> CompanyPurge:
    """Record the end of a purge, and report it (``company_purge_finished``,
    sent inside this transaction: a receiver's writes, e.g. a deletion
    receipt, commit with it or not at all)."""
    from companies.purge import company_purge_finished, renew_lease

    with transaction.atomic():
        purge = renew_lease(purge_id=purge_id, owner=owner)
        purge.max_batch_ms = max(purge.max_batch_ms, last_batch_ms)
        if deleted is not None:
            purge.deleted = deleted
        purge.status = CompanyPurge.Status.FINISHED
        purge.finished_at = timezone.now()
        purge.lease_owner = ""
        purge.phase = ""
        purge.save()
        company_purge_finished.send(sender=CompanyPurge, purge=purge)
    return purge


def company_purge_run(
    *,
    company_id: int,
    owner: str,
    slice_seconds: float | None = None,
    mode: str | None = None,
    between_batches=None,
) -> CompanyPurge | None:
    """Work on the purge of a company for up to ``slice_seconds`` (None: until
    done). Returns the purge record (``status`` tells whether it finished), or
    None when there was nothing for this worker to do. Resumable at any point:
    the state is the database itself (docs/lifecycle.md)."""
    from companies.purge import BatchSizer, run_batch, vacuum_table

    purge = company_purge_claim(company_id=company_id, owner=owner, mode=mode)
    if purge is None:
        return None
    if purge.mode == CompanyPurge.Mode.SINGLE:
        with transaction.atomic():
            company = Company.objects.filter(pk=company_id).first()
            if company is not None:
                company_purge(company=company)
            return _company_purge_finish(purge_id=purge.pk, owner=owner, deleted=dict(purge.totals))
    deadline = None if slice_seconds is None else time.monotonic() + slice_seconds
    sizer = BatchSizer()
    last_ms = 0
    while True:
        started = time.perf_counter()
        result = run_batch(purge_id=purge.pk, owner=owner, batch_size=sizer.size, last_batch_ms=last_ms)
        last_ms = int((time.perf_counter() - started) * 1000)
        if not result.more:
            break
        if result.finished_phase:
            vacuum_table(result.finished_phase)
            sizer.new_table()
        else:
            sizer.observe(rows=result.rows, ms=last_ms)
        if between_batches is not None and result.rows:
            between_batches(CompanyPurge.objects.get(pk=purge.pk))
        if settings.COMPANY_PURGE_PAUSE_MS:
            # Leave the database (and its CPU) to the other tenants' requests
            # for a moment: a purge is not in a hurry.
            time.sleep(settings.COMPANY_PURGE_PAUSE_MS / 1000)
        if deadline is not None and time.monotonic() >= deadline:
            return CompanyPurge.objects.get(pk=purge.pk)
    return _company_purge_finish(purge_id=purge.pk, owner=owner, last_batch_ms=last_ms)


def company_update(*, company: Company, deletion_delay_days: int | None = None) -> Company:
    """Change a company's settings (today: its deletion delay)."""
    with transaction.atomic():
        lock_tenant(company.pk)
        if deletion_delay_days is not None:
            company.deletion_delay_days = deletion_delay_days
        company.full_clean(exclude=["slug"])
        company.save(update_fields=["deletion_delay_days"])
    return company
