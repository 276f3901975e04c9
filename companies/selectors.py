"""Read paths of the companies app, scoped to the caller's tenant."""

from django.db.models import QuerySet

from companies.models import Attendance, User


def user_list(*, user: User) -> QuerySet[User]:
    """The people of the caller's company (a user without company sees nobody)."""
    if user.company_id is None:
        return User.objects.none()
    return User.objects.filter(company_id=user.company_id).order_by("username", "id")


def attendance_list(*, user: User) -> QuerySet[Attendance]:
    """The caller's own attendances; a company admin sees the whole company's."""
    if user.company_id is None:
        return Attendance.objects.none()
    attendances = Attendance.objects.filter(company_id=user.company_id)
    if not user.is_company_admin:
        attendances = attendances.filter(user=user)
    return attendances.order_by("-check_in", "-id")


def company_users_by_id(*, user: User, ids: list[int]) -> tuple[list[User], list[int]]:
    """The people of the caller's company with these ids (in order, without
    duplicates), and the ids that name nobody there (missing, or another
    company's: the two are not told apart)."""
    ids = list(dict.fromkeys(ids))
    people = {person.pk: person for person in user_list(user=user).filter(pk__in=ids)}
    return [people[pk] for pk in ids if pk in people], [pk for pk in ids if pk not in people]
