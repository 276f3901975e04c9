from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.postgres.fields import RangeOperators
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import IntegrityError, models
from django.db.models import F, Q
from django.utils import timezone

from workspace.db.constraints import PostgresOnlyExclusionConstraint, TsTzRange, not_blank
from workspace.db.tenant import TenantForeignKey
from workspace.tenancy import ensure_same_company


#: Longest retention a company may set (100 years).
RETENTION_MAX_DAYS = 36500


def default_deletion_delay_days() -> int:
    from django.conf import settings

    return settings.COMPANY_DELETION_DELAY_DAYS


class Company(models.Model):
    """A tenant. Deleting it purges everything it owns (docs/delete-policy.md)."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Retention (docs/lifecycle.md, "Retention"): messages older than this
    # many days are deleted by the periodic retention run; null keeps them.
    message_retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        default=None,
        validators=[MinValueValidator(1), MaxValueValidator(RETENTION_MAX_DAYS)],
        help_text="Delete messages older than this many days (1 to 36500); empty keeps them forever.",
    )
    # Scheduled deletion (docs/lifecycle.md "Scheduled and online tenant
    # deletion"): an inactive company's people cannot log in and nothing of
    # it can be written; its purge starts at ``purge_scheduled_for``.
    # Database defaults too: a row inserted outside Django (psql, the bench's
    # set-based generator) is an active company with the default delay.
    is_active = models.BooleanField(default=True, db_default=True)
    deactivated_at = models.DateTimeField(null=True, blank=True, editable=False)
    deletion_delay_days = models.PositiveSmallIntegerField(
        default=default_deletion_delay_days,
        db_default=30,
        help_text="Days between the deactivation of the company and the purge of its data (0 = at once).",
    )
    purge_scheduled_for = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "companies"
        constraints = [
            not_blank("name", "companies_company_name_not_blank"),
            models.CheckConstraint(condition=~Q(slug=""), name="companies_company_slug_not_blank"),
            models.CheckConstraint(
                condition=Q(message_retention_days__isnull=True)
                | Q(message_retention_days__gte=1, message_retention_days__lte=RETENTION_MAX_DAYS),
                name="companies_company_retention_days_range",
                violation_error_message="Retention must be between 1 and 36500 days, or empty.",
            ),
            models.CheckConstraint(
                condition=Q(deletion_delay_days__lte=3650),
                name="companies_company_deletion_delay_days_max",
                violation_error_message="The deletion delay is at most 3650 days.",
            ),
            models.CheckConstraint(
                condition=Q(is_active=True, deactivated_at__isnull=True, purge_scheduled_for__isnull=True)
                | Q(is_active=False, deactivated_at__isnull=False, purge_scheduled_for__isnull=False),
                name="companies_company_deactivation_consistent",
                violation_error_message="An inactive company has a deactivation time and a purge time; an active one has neither.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"

    company = models.ForeignKey(
        Company,
        on_delete=models.CASCADE,
        related_name="users",
        null=True,
        blank=True,
        help_text="Null only for platform superusers.",
        db_index=False,  # companies_user_tenant_key leads with company_id
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    last_active = models.DateTimeField(null=True, blank=True, editable=False)

    objects = UserManager()

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.CheckConstraint(
                condition=Q(company__isnull=False) | Q(is_superuser=True),
                name="companies_user_company_required_unless_superuser",
                violation_error_message="Only platform superusers may have no company.",
            ),
            models.CheckConstraint(condition=Q(role__in=["admin", "member"]), name="companies_user_role_valid"),
            # What the composite tenant keys of other tables reference
            # (workspace/db/tenant.py); a superuser's NULL company matches none.
            models.UniqueConstraint(fields=["company", "id"], name="companies_user_tenant_key"),
        ]

    def __str__(self) -> str:
        return self.username

    @property
    def is_company_admin(self) -> bool:
        return self.role == self.Role.ADMIN


class Attendance(models.Model):
    """A workday check-in; ``check_out`` is null while the attendance is open."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="attendances")
    user = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        related_name="attendances",
        db_constraint=False,  # companies_attendance_user_same_company
    )
    check_in = models.DateTimeField(default=timezone.now)
    check_out = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-check_in"]
        indexes = [models.Index(fields=["user", "check_in"], name="companies_att_user_in_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(check_out__isnull=True) | Q(check_out__gt=F("check_in")),
                name="companies_attendance_check_out_after_check_in",
                violation_error_message="Check-out must be after check-in.",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(check_out__isnull=True),
                name="companies_attendance_one_open_per_user",
                violation_error_message="This user already has an open attendance.",
            ),
            PostgresOnlyExclusionConstraint(
                name="companies_attendance_no_overlap",
                expressions=[
                    ("user", RangeOperators.EQUAL),
                    (TsTzRange("check_in", "check_out"), RangeOperators.OVERLAPS),
                ],
                violation_error_message="Attendances of one user may not overlap.",
            ),
            TenantForeignKey(field="user", name="companies_attendance_user_same_company"),
        ]

    def __str__(self) -> str:
        end = self.check_out.isoformat() if self.check_out else "open"
        return f"{self.user_id} {self.check_in.isoformat()} - {end}"

    def clean(self) -> None:
        super().clean()
        if self.company_id and self.user_id:
            ensure_same_company(self.company_id, user=self.user)


class AppendOnlyError(IntegrityError):
    """A deletion receipt may not be changed or deleted."""


class DeletionReceiptQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Deletion receipts are append-only: they cannot be updated.")

    def delete(self):
        raise AppendOnlyError("Deletion receipts are append-only: they cannot be deleted.")

    def _raw_delete(self, using):
        raise AppendOnlyError("Deletion receipts are append-only: they cannot be deleted.")


class DeletionReceipt(models.Model):
    """Proof of a delete, written in the delete's own transaction
    (docs/lifecycle.md, "Deletion receipts").

    Append-only: the ORM refuses to update or delete a receipt, and on
    PostgreSQL a trigger refuses ``UPDATE`` and ``DELETE`` (migration 0003).
    No foreign key on purpose: the company, the actor and the subject are
    plain integers plus snapshots, so the receipt outlives the tenant it
    describes (a company purge does not cascade here). It holds counts and a
    checksum over the deleted ids, never deleted content.
    """

    class Kind(models.TextChoices):
        USER_ERASE = "user_erase", "User erasure"
        CHANNEL_DELETE = "channel_delete", "Channel delete"
        RETENTION_RUN = "retention_run", "Retention run"
        COMPANY_PURGE = "company_purge", "Company purge"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    company_id = models.BigIntegerField(null=True, blank=True, db_index=True, help_text="Not a foreign key.")
    company_name = models.CharField(max_length=200, blank=True, default="")
    company_slug = models.CharField(max_length=100, blank=True, default="")
    subject = models.CharField(max_length=300, help_text="What was deleted, by kind and id (no content).")
    actor_id = models.BigIntegerField(null=True, blank=True, help_text="Not a foreign key; null: the system.")
    actor_username = models.CharField(max_length=150, blank=True, default="")
    counts = models.JSONField(default=dict, blank=True, help_text="Deleted rows per table.")
    detached = models.JSONField(
        default=dict, blank=True, help_text="Rows whose reference was set to NULL, per table.column."
    )
    checksums = models.JSONField(
        default=dict, blank=True, help_text="Per table: sum of id hashes mod 2**64 (16 hex digits)."
    )
    checksum = models.CharField(max_length=64, help_text="SHA-256 over the per-table counts and checksums.")
    run = models.UUIDField(null=True, blank=True, db_index=True, help_text="Groups the batches of one run.")
    batch = models.PositiveIntegerField(null=True, blank=True)
    parameters = models.JSONField(default=dict, blank=True, help_text="E.g. the retention days and cutoff.")

    objects = DeletionReceiptQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        base_manager_name = "objects"
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["user_erase", "channel_delete", "retention_run", "company_purge"]),
                name="companies_deletionreceipt_kind_valid",
            ),
            not_blank("subject", "companies_deletionreceipt_subject_not_blank"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.subject} at {self.created_at:%Y-%m-%d %H:%M:%S}"

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Deletion receipts are append-only: they cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Deletion receipts are append-only: they cannot be deleted.")

    def clean(self) -> None:
        super().clean()
        if any(not isinstance(v, int) or v < 0 for v in self.counts.values()):
            raise ValidationError({"counts": "Counts must be non-negative integers."})


class CompanyPurge(models.Model):
    """The purge of a deactivated company: scheduled, running, finished.

    Deliberately no foreign key to ``Company``: the record outlives the tenant
    (its last batch deletes the company row), and keeps the per-table counts
    of what was deleted (``deleted``; docs/lifecycle.md). It is also the
    state that makes the online purge resumable: a worker holds it through a
    lease (``lease_owner``, ``heartbeat_at``) renewed by every batch; another
    worker takes over a lease left silent for ``COMPANY_PURGE_LEASE_SECONDS``.
    """

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"

    class Mode(models.TextChoices):
        ONLINE = "online", "Online (batches)"
        SINGLE = "single", "One statement"

    company_id = models.BigIntegerField(unique=True, help_text="Id of the purged company (no FK: kept after it).")
    company_name = models.CharField(max_length=200)
    company_slug = models.CharField(max_length=100)
    requested_by_id = models.BigIntegerField(null=True, blank=True, help_text="Id of who deactivated the company.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    mode = models.CharField(max_length=16, choices=Mode.choices, blank=True)
    scheduled_for = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=64, blank=True)
    task_id = models.CharField(max_length=64, blank=True, help_text="The job (django_tasks_db) last enqueued for it.")
    phase = models.CharField(max_length=100, blank=True, help_text="The table being deleted from.")
    totals = models.JSONField(default=dict, blank=True, help_text="Rows per table when the purge started.")
    deleted = models.JSONField(default=dict, blank=True, help_text="Rows deleted per table so far.")
    id_sums = models.JSONField(
        default=dict, blank=True, help_text="Per table: [rows, sum of id hashes mod 2**64] (the receipt's checksum)."
    )
    batches = models.PositiveIntegerField(default=0)
    max_batch_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["scheduled", "running", "finished"]), name="companies_companypurge_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="finished", finished_at__isnull=False) | ~Q(status="finished"),
                name="companies_companypurge_finished_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"purge of {self.company_slug} ({self.status})"

    @property
    def total_rows(self) -> int:
        return sum(self.totals.values())

    @property
    def deleted_rows(self) -> int:
        return sum(self.deleted.values())

    @property
    def percent(self) -> int:
        if self.status == self.Status.FINISHED:
            return 100
        total = self.total_rows
        return min(99, int(100 * self.deleted_rows / total)) if total else 0
