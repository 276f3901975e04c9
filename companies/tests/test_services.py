"""companies/services.py: tenants, people and attendance. The attendance
rules (one open attendance, no overlap) are refused by the service with a
clear ValidationError on both databases, before the database would."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from companies.factories import AttendanceFactory, CompanyFactory, UserFactory
from companies.models import Attendance, Company, User
from companies.services import attendance_check_in, attendance_check_out, company_create, user_create
from workspace.testing import invalid

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0) - timedelta(days=2)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


# --- companies and people -------------------------------------------------------------


def test_company_create_slugifies_and_strips():
    company = company_create(name="  Acme Corp ")
    assert (company.name, company.slug) == ("Acme Corp", "acme-corp")


def test_company_create_refuses_a_taken_slug_or_a_blank_name():
    company_create(name="Acme")
    with invalid("slug"):
        company_create(name="ACME")
    with invalid("name"):
        company_create(name="   ", slug="blank")
    assert Company.objects.count() == 1


def test_user_create_in_a_company(company):
    user = user_create(company=company, username="ann", password="s3cret-Passw0rd", role="admin")
    assert user.company == company and user.is_company_admin
    assert user.check_password("s3cret-Passw0rd")
    assert not user_create(company=company, username="bob").has_usable_password()


def test_user_create_refuses_no_company_unless_superuser():
    with pytest.raises(ValidationError, match="Only platform superusers may have no company"):
        user_create(company=None, username="drifter")
    root = user_create(company=None, username="root", is_superuser=True, is_staff=True)
    assert root.company is None


def test_user_create_refuses_a_taken_username_and_an_unknown_role(company, other_company):
    user_create(company=company, username="ann")
    with invalid("username"):
        user_create(company=other_company, username="ann")
    with invalid("role"):
        user_create(company=company, username="boss", role="owner")
    assert User.objects.count() == 1


# --- attendance -----------------------------------------------------------------------


def test_check_in_and_out(company):
    user = UserFactory(company=company)
    attendance = attendance_check_in(user=user, at=T0)
    assert (attendance.company, attendance.user, attendance.check_in, attendance.check_out) == (
        company,
        user,
        T0,
        None,
    )
    closed = attendance_check_out(user=user, at=T0 + hours(8))
    assert closed.pk == attendance.pk and closed.check_out == T0 + hours(8)
    # The next one may start right when the previous ended.
    assert attendance_check_in(user=user, at=T0 + hours(8)).check_out is None


def test_second_check_in_is_refused():
    user = UserFactory()
    attendance_check_in(user=user, at=T0)
    with invalid("check_in"):
        attendance_check_in(user=user, at=T0 + hours(1))
    assert Attendance.objects.count() == 1


def test_check_in_inside_a_past_attendance_is_refused_on_every_database():
    user = UserFactory()
    AttendanceFactory(user=user, check_in=T0, check_out=T0 + hours(8))
    for at in (T0, T0 + hours(4), T0 - hours(1)):
        with invalid("check_in"):
            attendance_check_in(user=user, at=at)
    assert Attendance.objects.filter(user=user).count() == 1


def test_attendances_of_other_users_do_not_interfere():
    ann, bob = UserFactory(), UserFactory()
    attendance_check_in(user=ann, at=T0)
    attendance_check_in(user=bob, at=T0)
    attendance_check_out(user=bob, at=T0 + hours(1))
    assert Attendance.objects.get(user=ann).check_out is None


def test_check_out_without_an_open_attendance_is_refused():
    user = UserFactory()
    with invalid("check_out"):
        attendance_check_out(user=user)
    AttendanceFactory(user=user, check_in=T0, check_out=T0 + hours(8))
    with invalid("check_out"):
        attendance_check_out(user=user)


@pytest.mark.parametrize("delta", [hours(0), -hours(1)], ids=["equal", "before"])
def test_check_out_must_be_after_check_in(delta):
    user = UserFactory()
    attendance_check_in(user=user, at=T0)
    with invalid("check_out"):
        attendance_check_out(user=user, at=T0 + delta)
    assert Attendance.objects.get(user=user).check_out is None


def test_platform_superuser_cannot_check_in():
    root = UserFactory(company=None, is_superuser=True)
    with invalid("user"):
        attendance_check_in(user=root, at=T0)
    assert not Attendance.objects.exists()


def test_attendance_factory_builds_non_overlapping_attendances_for_one_user():
    user = UserFactory(company=CompanyFactory())
    first, second = AttendanceFactory(user=user), AttendanceFactory(user=user)
    assert first.check_out <= second.check_in or second.check_out <= first.check_in


# --- updates through the allowed-fields helper, with their permission rules --------


def test_company_update_by_its_admin_only():
    from companies.services import company_update
    from workspace.db.writes import UNIQUE, Forbidden, error_codes

    acme, other = company_create(name="Acme"), company_create(name="Other")
    admin = UserFactory(company=acme, role=User.Role.ADMIN)
    with pytest.raises(Forbidden):
        company_update(company=acme, actor=UserFactory(company=acme), name="Hijacked")
    with pytest.raises(Forbidden):  # an admin of another company
        company_update(company=other, actor=admin, name="Hijacked")
    company_update(company=acme, actor=admin, name=" Acme Inc ")
    assert Company.objects.get(pk=acme.pk).name == "Acme Inc"
    with invalid("slug") as info:
        company_update(company=acme, actor=admin, slug=other.slug)
    assert error_codes(info.value) == {UNIQUE}
    with invalid("created_at"):
        company_update(company=acme, actor=admin, created_at=T0)


def test_user_update_password_change_revokes_the_api_tokens():
    from knox.models import AuthToken

    from companies.services import user_update

    user = UserFactory(company=CompanyFactory())
    AuthToken.objects.create(user=user)
    AuthToken.objects.create(user=user)
    user_update(user=user, actor=user, password="a new one 123")
    user.refresh_from_db()
    assert user.check_password("a new one 123")
    assert not AuthToken.objects.filter(user=user).exists()
    # A change of name keeps them.
    AuthToken.objects.create(user=user)
    user_update(user=user, actor=user, first_name="Ada")
    assert AuthToken.objects.filter(user=user).count() == 1
    # An unusable password (None) revokes them too.
    user_update(user=user, actor=None, password=None)
    user.refresh_from_db()
    assert not user.has_usable_password()
    assert not AuthToken.objects.filter(user=user).exists()


def test_user_update_permissions():
    from companies.services import user_update
    from workspace.db.writes import Forbidden

    company = CompanyFactory()
    admin = UserFactory(company=company, role=User.Role.ADMIN)
    ada, bob = UserFactory(company=company), UserFactory(company=company)
    with pytest.raises(Forbidden):  # a colleague
        user_update(user=ada, actor=bob, first_name="X")
    with pytest.raises(Forbidden):  # promoting oneself
        user_update(user=ada, actor=ada, role=User.Role.ADMIN)
    with pytest.raises(Forbidden):  # superuser status is the platform's
        user_update(user=ada, actor=admin, is_superuser=True)
    user_update(user=ada, actor=admin, role=User.Role.ADMIN, is_active=False)
    ada.refresh_from_db()
    assert (ada.role, ada.is_active) == (User.Role.ADMIN, False)
    with invalid("company"):
        user_update(user=ada, actor=None, company=CompanyFactory())
    with invalid("role"):
        user_update(user=bob, actor=admin, role="owner")


def test_attendance_record_update_delete_by_a_company_admin():
    from companies.services import attendance_delete, attendance_record, attendance_update
    from workspace.db.writes import Forbidden

    company = CompanyFactory()
    admin = UserFactory(company=company, role=User.Role.ADMIN)
    ada = UserFactory(company=company)
    with pytest.raises(Forbidden):  # not even one's own
        attendance_record(user=ada, actor=ada, check_in=T0, check_out=T0 + hours(8))
    day = attendance_record(user=ada, actor=admin, check_in=T0, check_out=T0 + hours(8))
    with invalid("check_in"):  # overlaps the day
        attendance_record(user=ada, actor=admin, check_in=T0 + hours(7), check_out=T0 + hours(9))
    with pytest.raises(ValidationError, match="Check-out must be after check-in"):
        attendance_update(attendance=day, actor=admin, check_out=T0 - hours(1))
    attendance_update(attendance=Attendance.objects.get(pk=day.pk), actor=admin, check_out=T0 + hours(9))
    assert Attendance.objects.get(pk=day.pk).check_out == T0 + hours(9)
    with pytest.raises(Forbidden):
        attendance_delete(attendance=day, actor=ada)
    attendance_delete(attendance=day, actor=admin)
    assert not Attendance.objects.filter(user=ada).exists()
