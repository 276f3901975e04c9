from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.postgres.fields import RangeOperators
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from workspace.db.constraints import PostgresOnlyExclusionConstraint, TsTzRange, not_blank
from workspace.tenancy import ensure_same_company


def default_deletion_delay_days() -> int:
    from django.conf import settings

    return settings.COMPANY_DELETION_DELAY_DAYS


class Company(models.Model):
    """A tenant. Deleting it purges everything it owns (docs/delete-policy.md)."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
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
            models.CheckConstraint(
                condition=Q(role__in=["admin", "member"]), name="companies_user_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.username

    @property
    def is_company_admin(self) -> bool:
        return self.role == self.Role.ADMIN


class Attendance(models.Model):
    """A workday check-in; ``check_out`` is null while the attendance is open."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="attendances")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="attendances")
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
        ]

    def __str__(self) -> str:
        end = self.check_out.isoformat() if self.check_out else "open"
        return f"{self.user_id} {self.check_in.isoformat()} - {end}"

    def clean(self) -> None:
        super().clean()
        if self.company_id and self.user_id:
            ensure_same_company(self.company_id, user=self.user)


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
