from rest_framework import serializers

from companies.models import Attendance, Company, CompanyPurge, User
from workspace.api.fields import EmailOrNullField, NotBlankCharField, StrictIntegerField


class CompanySerializer(serializers.ModelSerializer):
    # The database refuses only an empty slug: the form's slug pattern is not
    # a promise the response schema can make for every stored row.
    slug = serializers.CharField(read_only=True, min_length=1)

    class Meta:
        model = Company
        fields = ["id", "name", "slug"]
        read_only_fields = fields


class UserSerializer(serializers.ModelSerializer):
    # "" in the database (no address) is null here: see EmailOrNullField.
    email = EmailOrNullField()

    class Meta:
        model = User
        fields = [
            "id", "username", "first_name", "last_name", "email", "role", "is_active",
            "last_active", "company",
        ]
        read_only_fields = fields


class MeSerializer(UserSerializer):
    company = CompanySerializer(read_only=True, allow_null=True)

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "is_staff", "is_superuser"]
        read_only_fields = fields


class AttendanceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attendance
        fields = ["id", "user", "check_in", "check_out"]
        read_only_fields = fields


def company_users(request, ids: list[int]) -> list[User]:
    """Validate ids of people of the caller's company (for a serializer's
    ``validate_<field>``): a 400 naming the field lists the others."""
    from companies.selectors import company_users_by_id

    people, missing = company_users_by_id(user=request.user, ids=ids)
    if missing:
        raise serializers.ValidationError(
            f"No user with id {', '.join(map(str, missing))} in your company."
        )
    return people


class CompanySettingsSerializer(serializers.ModelSerializer):
    """Your company, with its lifecycle (docs/lifecycle.md)."""

    slug = serializers.CharField(read_only=True)
    deletion_delay_days = serializers.IntegerField(
        read_only=True, min_value=0, max_value=3650,
        help_text="Days between the deactivation of the company and the purge of its data.",
    )

    class Meta:
        model = Company
        fields = ["id", "name", "slug", "is_active", "deletion_delay_days", "deactivated_at", "purge_scheduled_for"]
        read_only_fields = fields


class CompanySettingsUpdateSerializer(serializers.Serializer):
    deletion_delay_days = StrictIntegerField(
        min_value=0, max_value=3650, required=False,
        help_text="Days between a deactivation and the purge (0 = purge at once).",
    )


class CompanyDeactivateSerializer(serializers.Serializer):
    confirm_slug = NotBlankCharField(
        max_length=100, help_text="Your company's slug, typed again: deactivation locks everyone out at once."
    )
    deletion_delay_days = StrictIntegerField(
        min_value=0, max_value=3650, required=False,
        help_text="Days before the purge (default: the company's `deletion_delay_days`; 0 = now).",
    )


class CompanyPurgeSerializer(serializers.ModelSerializer):
    mode = serializers.CharField(read_only=True, help_text="`online`, `single`, or empty until it starts.")
    percent = serializers.IntegerField(read_only=True, min_value=0, max_value=100)
    total_rows = serializers.IntegerField(read_only=True, min_value=0)
    deleted_rows = serializers.IntegerField(read_only=True, min_value=0)
    totals = serializers.DictField(
        child=serializers.IntegerField(min_value=0), read_only=True, help_text="Rows per table when it started."
    )
    deleted = serializers.DictField(
        child=serializers.IntegerField(min_value=0), read_only=True, help_text="Rows deleted per table so far."
    )

    class Meta:
        model = CompanyPurge
        fields = [
            "id", "company_id", "company_name", "company_slug", "status", "mode", "phase", "scheduled_for",
            "started_at", "finished_at", "percent", "total_rows", "deleted_rows", "totals", "deleted", "batches",
            "max_batch_ms",
        ]
        read_only_fields = fields
