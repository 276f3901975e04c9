"""Model validation (``full_clean``: admin forms, services) refuses
cross-tenant references and the rules of the constraints, before the
database has to."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from companies.factories import UserFactory
from companies.models import Attendance, User
from workspace.testing import invalid

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0) - timedelta(days=1)


def test_attendance_of_a_user_of_another_company_is_invalid(company, other_company):
    stranger = UserFactory(company=other_company)
    with invalid("user"):
        Attendance(company=company, user=stranger, check_in=T0).full_clean()
    Attendance(company=other_company, user=stranger, check_in=T0).full_clean()


def test_attendance_check_out_before_check_in_is_invalid():
    user = UserFactory()
    with pytest.raises(ValidationError, match="Check-out must be after check-in"):
        Attendance(company=user.company, user=user, check_in=T0, check_out=T0).full_clean()


def test_second_open_attendance_is_invalid():
    user = UserFactory()
    Attendance.objects.create(company=user.company, user=user, check_in=T0)
    with pytest.raises(ValidationError, match="already has an open attendance"):
        Attendance(company=user.company, user=user, check_in=T0 - timedelta(days=2)).full_clean()


def test_user_without_company_is_invalid_unless_superuser():
    with pytest.raises(ValidationError, match="Only platform superusers may have no company"):
        User(username="drifter", company=None).full_clean(exclude=["password"])
    User(username="root", company=None, is_superuser=True).full_clean(exclude=["password"])
