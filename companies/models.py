from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.postgres.fields import RangeOperators
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from workspace.db.constraints import PostgresOnlyExclusionConstraint, TsTzRange, not_blank
from workspace.db.tenant import TenantForeignKey
from workspace.tenancy import ensure_same_company


class Company(models.Model):
    """A tenant. Deleting it purges everything it owns (docs/delete-policy.md)."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "companies"
        constraints = [
            not_blank("name", "companies_company_name_not_blank"),
            models.CheckConstraint(condition=~Q(slug=""), name="companies_company_slug_not_blank"),
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
            models.CheckConstraint(
                condition=Q(role__in=["admin", "member"]), name="companies_user_role_valid"
            ),
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
