"""Write paths of the companies app (tenants, people, attendance).

Every function is keyword-only, atomic, and refuses cross-tenant references
with a ``ValidationError`` naming the field.
"""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from companies.hooks import user_erasing
from companies.models import Attendance, Company, CompanyPurge, DeletionReceipt, User
from workspace.db.receipts import ReceiptAccumulator

# The purge lives in companies/purge.py (the job module reaches it without
# the services); these names stay the services' API for its callers.
from companies.purge import company_purge as company_purge
from companies.purge import company_purge_claim as company_purge_claim
from companies.purge import company_purge_run as company_purge_run
from companies.receipts import receipt_record
from companies.tenancy import lock_tenant
from workspace.db.writes import (
    Forbidden,
    acts_for_platform,
    conflict,
    delete_cascading,
    is_company_admin,
    update_allowed,
    validate,
)
from workspace.metrics import LAST_ACTIVE_TOUCHES


@transaction.atomic
def company_create(*, name: str, slug: str | None = None) -> Company:
    company = Company(name=name.strip(), slug=slug or slugify(name))
    validate(company)
    company.save()
    return company


COMPANY_EDITORS = "Only an admin of the company may change it."
#: What a company admin may change of their company (company_update).
COMPANY_FIELDS = frozenset({"name", "slug", "message_retention_days", "deletion_delay_days"})
USER_EDITORS = "Only the person themselves or an admin of their company may change them."
USER_ADMIN_FIELDS = "Only an admin of the company may change this."
#: What a person may change of themselves; the rest is their company admin's.
USER_SELF_FIELDS = frozenset({"first_name", "last_name", "email", "password"})
USER_FIELDS = USER_SELF_FIELDS | {"username", "role", "is_active", "is_staff", "is_superuser"}
#: Only the platform grants or takes away superuser status, and places a
#: person who has no company yet (a platform account) in one.
PLATFORM_FIELDS = frozenset({"is_superuser", "company"})


def company_authorize_edit(*, company_id: int | None, actor: User | None) -> None:
    """Changing a company's name, slug or settings: an admin of it (or the platform)."""
    if not (acts_for_platform(actor) or is_company_admin(actor, company_id)):
        raise Forbidden(COMPANY_EDITORS)


@transaction.atomic
def company_update(*, company: Company, actor: User | None = None, **changes) -> Company:
    """Rename a company, change its slug or its settings (``COMPANY_FIELDS``):
    an admin of it (or the platform)."""
    lock_tenant(company.pk)
    company_authorize_edit(company_id=company.pk, actor=actor)
    if isinstance(changes.get("name"), str):
        changes["name"] = changes["name"].strip()
    return update_allowed(company, changes, allowed=COMPANY_FIELDS)


@transaction.atomic
def user_update(*, user: User, actor: User | None = None, **changes) -> User:
    """Change a person: their names, e-mail and password (themselves, or an
    admin of their company), their username, role and status (an admin of
    their company), superuser status (the platform only). The company of a
    person is fixed once set (what they wrote would become cross-tenant).

    ``password``: the new raw password (hashed here), or None for an unusable
    one. A password change, like a deactivation, revokes all of the person's
    API tokens (companies/signals.py: the save is seen by the receivers).
    """
    lock_tenant(user.company_id)
    if not acts_for_platform(actor):
        if PLATFORM_FIELDS & set(changes):
            raise Forbidden(USER_ADMIN_FIELDS)
        admin = is_company_admin(actor, user.company_id)
        if not admin and actor.pk != user.pk:
            raise Forbidden(USER_EDITORS)
        if not admin and set(changes) - USER_SELF_FIELDS:
            raise Forbidden(USER_ADMIN_FIELDS)
    if "company" in changes and user.company_id is not None and changes["company"] != user.company:
        raise ValidationError({"company": "The company of a person is fixed once set."})
    fields = dict(changes)
    if "password" in changes:
        password = fields.pop("password")
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        fields["password"] = user.password
    return update_allowed(user, fields, allowed=USER_FIELDS | {"company"}, exclude=["password"])


def company_set_retention(*, company: Company, days: int | None, actor: User | None = None) -> Company:
    """Set ``message_retention_days`` (null: keep messages forever; else 1 to
    36500): ``company_update`` with that one field, after refusing a value
    that is not a whole number (the model's validators would coerce ``"30"``
    or ``True``). The database refuses the same range
    (``companies_company_retention_days_range``). The next retention run
    applies it (docs/lifecycle.md, "Retention")."""
    if days is not None and (isinstance(days, bool) or not isinstance(days, int)):
        raise ValidationError({"message_retention_days": "Enter a whole number of days, or null."})
    return company_update(company=company, actor=actor, message_retention_days=days)


def user_erase(*, user: User, actor: User | None = None) -> None:
    """Erase a person and everything the delete policy ties to them (their
    messages with the replies to them, reactions, memberships, attendances,
    organized meetings), at database speed.

    ``user.delete()`` goes through Django's collector, which loads every
    message of the user (delete signals are connected); here the database
    cascades one ``DELETE`` (ON DELETE CASCADE / SET NULL on every FK). The
    apps holding derived fields over the person's rows are asked through the
    ``companies.hooks.user_erasing`` signal before the ``DELETE`` and repair
    them after it (chat recomputes ``Channel.last_message_at`` of each channel
    that lost messages once, in one set-based statement; bench/: about 1x raw
    SQL), so ``companies`` imports none of the apps above it.

    The user row is locked first: a message of this user being posted
    concurrently either committed before (its channel is found) or fails its
    FK check after the erasure; it cannot vanish in the cascade unseen.

    A deletion receipt (kind ``user_erase``: counts per table, id checksums)
    is written in the same transaction.
    """
    from companies.selectors import user_erase_preview

    with transaction.atomic():
        lock_tenant(user.company_id)
        if not User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True):
            raise User.DoesNotExist(f"User {user.pk} does not exist.")
        impact = user_erase_preview(user=user)
        accumulator = ReceiptAccumulator.from_impact(impact)
        repairs = [
            repair
            for _, repair in user_erasing.send(sender=User, user=user, using=connection.alias)
            if repair is not None
        ]
        delete_cascading(User, user.pk)
        for repair in repairs:
            repair()
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
        User.objects.filter(Q(last_active__isnull=True) | Q(last_active__lt=threshold), pk=user.pk).update(
            last_active=now
        )
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
    validate(user, exclude=["password"])
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
        raise conflict("This attendance overlaps another one of the same user.", field="check_in")


ATTENDANCE_EDITORS = "Only an admin of the company may record or correct attendances."


def _authorize_attendance_edit(*, company_id: int | None, actor: User | None) -> None:
    if not (acts_for_platform(actor) or is_company_admin(actor, company_id)):
        raise Forbidden(ATTENDANCE_EDITORS)


def _validate_attendance_times(*, user: User, start: datetime, end: datetime | None, exclude_pk=None) -> None:
    """Order, then overlap, before the row's own validation: the same errors
    on both databases (PostgreSQL's exclusion constraint cannot even build
    the range of a check-out before the check-in)."""
    if end is not None and end <= start:
        raise ValidationError({"check_out": "Check-out must be after check-in."})
    attendance_validate_no_overlap(user=user, start=start, end=end, exclude_pk=exclude_pk)


@transaction.atomic
def attendance_record(
    *, user: User, check_in: datetime, check_out: datetime | None = None, actor: User | None = None
) -> Attendance:
    """Record an attendance after the fact (the admin): an admin of the
    person's company. The same rules as check-in/out (no overlap, one open
    attendance, check-out after check-in), refused with a ``ValidationError``."""
    lock_tenant(user.company_id)
    _authorize_attendance_edit(company_id=user.company_id, actor=actor)
    User.objects.select_for_update(no_key=True).filter(pk=user.pk).first()
    attendance = Attendance(company_id=user.company_id, user=user, check_in=check_in, check_out=check_out)
    _validate_attendance_times(user=user, start=check_in, end=check_out)
    validate(attendance)
    attendance.save()
    return attendance


@transaction.atomic
def attendance_update(*, attendance: Attendance, actor: User | None = None, **changes) -> Attendance:
    """Correct an attendance's ``check_in``/``check_out`` (the admin): an
    admin of the company; the row is validated whole, overlaps refused."""
    lock_tenant(attendance.company_id)
    _authorize_attendance_edit(company_id=attendance.company_id, actor=actor)
    User.objects.select_for_update(no_key=True).filter(pk=attendance.user_id).first()
    start = changes.get("check_in", attendance.check_in)
    end = changes.get("check_out", attendance.check_out)
    if changes:
        _validate_attendance_times(user=attendance.user, start=start, end=end, exclude_pk=attendance.pk)
    return update_allowed(attendance, changes, allowed={"check_in", "check_out"})


@transaction.atomic
def attendance_delete(*, attendance: Attendance, actor: User | None = None) -> None:
    """Delete an attendance (the admin): an admin of the company."""
    lock_tenant(attendance.company_id)
    _authorize_attendance_edit(company_id=attendance.company_id, actor=actor)
    attendance.delete()


@transaction.atomic
def attendance_check_in(*, user: User, at: datetime | None = None) -> Attendance:
    at = at or timezone.now()
    if user.company_id is None:
        raise conflict("Only members of a company can check in.", field="user")
    lock_tenant(user.company_id)
    # Lock the user row: two concurrent check-ins of one user serialize here
    # (NO KEY UPDATE: it does not block the FK checks of the user's inserts).
    User.objects.select_for_update(no_key=True).filter(pk=user.pk).first()
    if Attendance.objects.filter(user=user, check_out__isnull=True).exists():
        raise conflict("You are already checked in.", field="check_in")
    attendance_validate_no_overlap(user=user, start=at, end=None)
    attendance = Attendance(company_id=user.company_id, user=user, check_in=at)
    attendance.save()
    return attendance


@transaction.atomic
def attendance_check_out(*, user: User, at: datetime | None = None) -> Attendance:
    at = at or timezone.now()
    lock_tenant(user.company_id)
    attendance = Attendance.objects.select_for_update().filter(user=user, check_out__isnull=True).first()
    if attendance is None:
        raise conflict("You are not checked in.", field="check_out")
    if at <= attendance.check_in:
        raise conflict("Check-out must be after check-in.", field="check_out")
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
