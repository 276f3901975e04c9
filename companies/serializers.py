from rest_framework import serializers

from companies.models import Attendance, Company, User
from workspace.api.fields import EmailOrNullField


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
