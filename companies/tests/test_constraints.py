"""Constraints of companies' tables, enforced by the database itself: each
write goes through the ORM straight to the table (no service, no
full_clean), and the named constraint refuses it."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from companies.factories import AttendanceFactory, CompanyFactory, UserFactory
from companies.models import Attendance, Company, User
from workspace.testing import refused_by

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0) - timedelta(days=10)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


# --- Company -----------------------------------------------------------------


def test_company_slug_is_unique():
    Company.objects.create(name="Acme", slug="acme")
    with refused_by("companies_company_slug_key", sqlite="companies_company.slug"):
        Company.objects.create(name="Acme again", slug="acme")


@pytest.mark.parametrize("name", ["", "   ", "\n\t", "\u00a0\u3000"])
def test_company_name_is_not_blank(name):
    with refused_by("companies_company_name_not_blank"):
        Company.objects.create(name=name, slug="blank")


def test_company_slug_is_not_blank():
    with refused_by("companies_company_slug_not_blank"):
        Company.objects.create(name="Acme", slug="")


# --- User --------------------------------------------------------------------


def test_user_without_company_is_refused_unless_superuser():
    with refused_by("companies_user_company_required_unless_superuser"):
        User.objects.create(username="drifter", company=None)
    with refused_by("companies_user_company_required_unless_superuser"):
        User.objects.create(username="staffer", company=None, is_staff=True)
    # A platform superuser is the one allowed exception.
    root = User.objects.create(username="root", company=None, is_superuser=True, is_staff=True)
    assert root.company_id is None


def test_a_superuser_cannot_lose_the_flag_while_without_company():
    root = User.objects.create(username="root", company=None, is_superuser=True)
    with refused_by("companies_user_company_required_unless_superuser"):
        User.objects.filter(pk=root.pk).update(is_superuser=False)


def test_user_role_is_one_of_the_choices():
    company = CompanyFactory()
    with refused_by("companies_user_role_valid"):
        User.objects.create(username="boss", company=company, role="owner")


def test_username_is_unique_across_tenants():
    UserFactory(username="ann")
    with refused_by("companies_user_username_key", sqlite="companies_user.username"):
        User.objects.create(username="ann", company=CompanyFactory())


def test_user_pointing_at_a_missing_company_is_refused():
    with refused_by("company_id"):
        User.objects.create(username="ghost", company_id=2_000_000_000)


# --- Attendance ----------------------------------------------------------------


@pytest.mark.parametrize("length", [hours(0), -hours(1)], ids=["equal", "before"])
def test_attendance_check_out_must_be_after_check_in(length):
    user = UserFactory()
    with refused_by("companies_attendance_check_out_after_check_in"):
        Attendance.objects.create(company=user.company, user=user, check_in=T0, check_out=T0 + length)


def test_attendance_check_out_after_check_in_is_enforced_on_update():
    attendance = AttendanceFactory(check_in=T0, check_out=T0 + hours(8))
    with refused_by("companies_attendance_check_out_after_check_in"):
        Attendance.objects.filter(pk=attendance.pk).update(check_out=T0 - hours(1))


def test_at_most_one_open_attendance_per_user():
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Two open attendances always overlap, so the exclusion constraint
            # would refuse them first: set it aside (rolled back below) to
            # prove the partial unique index on its own.
            with connection.cursor() as cursor:
                cursor.execute("ALTER TABLE companies_attendance DROP CONSTRAINT companies_attendance_no_overlap")
        user = UserFactory()
        Attendance.objects.create(company=user.company, user=user, check_in=T0)
        with refused_by("companies_attendance_one_open_per_user", sqlite="companies_attendance.user_id"):
            Attendance.objects.create(company=user.company, user=user, check_in=T0 - timedelta(days=3))
        transaction.set_rollback(True)


def test_open_attendances_of_different_users_and_closed_ones_coexist():
    ann, bob = UserFactory(), UserFactory()
    AttendanceFactory(user=ann, check_in=T0 - timedelta(days=2), check_out=T0 - timedelta(days=2) + hours(8))
    AttendanceFactory(user=ann, check_in=T0, check_out=None)
    AttendanceFactory(user=bob, check_in=T0, check_out=None)
    assert Attendance.objects.filter(check_out__isnull=True).count() == 2


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("first", "second"),
    [
        ((0, 8), (4, 12)),  # two closed intervals overlapping
        ((0, 8), (1, 2)),  # one inside the other
        ((0, 8), (-2, 1)),  # overlapping the start
        ((0, None), (2, 4)),  # a closed one inside an open one
        ((4, 8), (0, None)),  # an open one starting before a closed one
    ],
    ids=["overlap", "inside", "start", "closed-in-open", "open-over-closed"],
)
def test_attendances_of_one_user_may_not_overlap(first, second):
    user = UserFactory()

    def interval(start, end):
        return {"check_in": T0 + hours(start), "check_out": None if end is None else T0 + hours(end)}

    Attendance.objects.create(company=user.company, user=user, **interval(*first))
    with refused_by("companies_attendance_no_overlap"):
        Attendance.objects.create(company=user.company, user=user, **interval(*second))


@pytest.mark.postgres
def test_back_to_back_attendances_and_other_users_do_not_overlap():
    ann, bob = UserFactory(), UserFactory()
    Attendance.objects.create(company=ann.company, user=ann, check_in=T0, check_out=T0 + hours(4))
    # [start, end): the next one may begin exactly when the previous ended
    Attendance.objects.create(company=ann.company, user=ann, check_in=T0 + hours(4), check_out=T0 + hours(8))
    Attendance.objects.create(company=bob.company, user=bob, check_in=T0, check_out=T0 + hours(8))
    assert Attendance.objects.count() == 3


@pytest.mark.postgres
def test_overlap_is_enforced_on_update_too():
    user = UserFactory()
    Attendance.objects.create(company=user.company, user=user, check_in=T0, check_out=T0 + hours(4))
    later = Attendance.objects.create(company=user.company, user=user, check_in=T0 + hours(5), check_out=T0 + hours(6))
    with refused_by("companies_attendance_no_overlap"):
        Attendance.objects.filter(pk=later.pk).update(check_in=T0 + hours(3))


@pytest.mark.postgres
def test_model_validation_reports_the_overlap_before_the_database():
    """full_clean (admin forms) validates the exclusion constraint too."""
    user = UserFactory()
    Attendance.objects.create(company=user.company, user=user, check_in=T0, check_out=T0 + hours(8))
    overlapping = Attendance(company=user.company, user=user, check_in=T0 + hours(2), check_out=T0 + hours(3))
    with pytest.raises(ValidationError, match="may not overlap"):
        overlapping.full_clean()


def test_attendance_pointing_at_a_missing_user_is_refused():
    company = CompanyFactory()
    with refused_by("user_id"):
        Attendance.objects.create(company=company, user_id=2_000_000_000, check_in=T0)
