from rest_framework import serializers

from companies.models import Attendance, Company, CompanyPurge, DeletionReceipt, User
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
            "id",
            "username",
            "first_name",
            "last_name",
            "email",
            "role",
            "is_active",
            "last_active",
            "company",
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
        raise serializers.ValidationError(f"No user with id {', '.join(map(str, missing))} in your company.")
    return people


# --- Data lifecycle (docs/lifecycle.md): previews, retention, receipts ------


class ImpactSerializer(serializers.Serializer):
    """What a delete would remove, counted now (an impact preview)."""

    kind = serializers.ChoiceField(choices=DeletionReceipt.Kind.choices, read_only=True)
    subject = serializers.CharField(read_only=True, help_text="What would be deleted, by kind and id.")
    counts = serializers.DictField(
        child=serializers.IntegerField(min_value=1),
        read_only=True,
        help_text="Rows that would be deleted, per table (tables with none are left out).",
    )
    detached = serializers.DictField(
        child=serializers.IntegerField(min_value=1),
        read_only=True,
        help_text="Rows that would stay with a reference set to null, per `table.column`.",
    )
    total = serializers.IntegerField(min_value=0, read_only=True, help_text="Sum of `counts`.")


class RetentionPreviewSerializer(ImpactSerializer):
    days = serializers.IntegerField(
        min_value=1, max_value=36500, read_only=True, allow_null=True, help_text="Null: retention is off."
    )
    cutoff = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="Messages created before this go (null: retention is off)."
    )


def retention_preview_data(impact) -> dict:
    """The preview of a retention run; with retention off, nothing (days and
    cutoff null, no counts)."""
    if impact is None:
        return {
            "kind": "retention_run",
            "subject": "retention is off",
            "counts": {},
            "detached": {},
            "total": 0,
            "days": None,
            "cutoff": None,
        }
    return {**impact.as_dict(), **impact.parameters}


class CompanySettingsSerializer(serializers.ModelSerializer):
    slug = serializers.CharField(read_only=True, min_length=1)
    message_retention_days = serializers.IntegerField(read_only=True, allow_null=True, min_value=1, max_value=36500)
    retention_preview = serializers.SerializerMethodField(
        help_text="What the next retention run would delete if it ran now."
    )
    deletion_delay_days = serializers.IntegerField(
        read_only=True,
        min_value=0,
        max_value=3650,
        help_text="Days between the deactivation of the company and the purge of its data.",
    )

    class Meta:
        model = Company
        fields = [
            "id",
            "name",
            "slug",
            "message_retention_days",
            "retention_preview",
            "is_active",
            "deletion_delay_days",
            "deactivated_at",
            "purge_scheduled_for",
        ]
        read_only_fields = fields

    def get_retention_preview(self, company) -> RetentionPreviewSerializer:
        from companies.hooks import retention_preview

        return retention_preview_data(retention_preview(company=company))


class CompanySettingsUpdateSerializer(serializers.Serializer):
    message_retention_days = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=36500,
        help_text="Delete messages older than this many days; null keeps them forever.",
    )
    deletion_delay_days = StrictIntegerField(
        min_value=0,
        max_value=3650,
        required=False,
        help_text="Days between a deactivation and the purge (0 = purge at once).",
    )


class RetentionPreviewQuerySerializer(serializers.Serializer):
    days = serializers.IntegerField(required=False, min_value=1, max_value=36500)

    def to_internal_value(self, data):
        # DRF skips an empty optional field; ``?days=`` is not "no days".
        if "days" in data and str(data.get("days", "")).strip() == "":
            raise serializers.ValidationError({"days": ["A valid integer is required."]})
        return super().to_internal_value(data)


class DeletionReceiptSerializer(serializers.ModelSerializer):
    counts = serializers.DictField(child=serializers.IntegerField(min_value=0), read_only=True)
    detached = serializers.DictField(child=serializers.IntegerField(min_value=0), read_only=True)
    checksums = serializers.DictField(child=serializers.CharField(min_length=16, max_length=16), read_only=True)
    actor_username = serializers.CharField(read_only=True, allow_blank=True)
    actor_id = serializers.IntegerField(read_only=True, allow_null=True)
    batch = serializers.IntegerField(read_only=True, allow_null=True, min_value=1)
    run = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta:
        model = DeletionReceipt
        fields = [
            "id",
            "kind",
            "created_at",
            "subject",
            "actor_id",
            "actor_username",
            "counts",
            "detached",
            "checksums",
            "checksum",
            "run",
            "batch",
        ]
        read_only_fields = fields


class CompanyDeactivateSerializer(serializers.Serializer):
    confirm_slug = NotBlankCharField(
        max_length=100, help_text="Your company's slug, typed again: deactivation locks everyone out at once."
    )
    deletion_delay_days = StrictIntegerField(
        min_value=0,
        max_value=3650,
        required=False,
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
            "id",
            "company_id",
            "company_name",
            "company_slug",
            "status",
            "mode",
            "phase",
            "scheduled_for",
            "started_at",
            "finished_at",
            "percent",
            "total_rows",
            "deleted_rows",
            "totals",
            "deleted",
            "batches",
            "max_batch_ms",
        ]
        read_only_fields = fields
