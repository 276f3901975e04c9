"""Read paths of the companies app, scoped to the caller's tenant."""

from django.db.models import QuerySet

from companies.models import Attendance, Company, DeletionReceipt, User
from workspace.db.impact import Impact, plan


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


# --- Impact previews (docs/lifecycle.md, "Impact previews") ----------------


def user_erase_preview(*, user: User) -> Impact:
    """What ``user_erase`` removes: the person, their messages with every
    reply under them, reactions, memberships, attendances, organized meetings
    with their participants, tokens...; channels they created are detached
    (``created_by`` set to NULL). One COUNT per table."""
    return plan(kind="user_erase", subject=f"user {user.pk}", root=User.objects.filter(pk=user.pk))


def company_purge_preview(*, company: Company) -> Impact:
    """What ``company_purge`` removes: every row of the tenant."""
    return plan(kind="company_purge", subject=f"company {company.pk}", root=Company.objects.filter(pk=company.pk))


def receipt_list(*, company_id: int | None = None) -> QuerySet[DeletionReceipt]:
    """Deletion receipts, newest first (a company's only, when given)."""
    receipts = DeletionReceipt.objects.all()
    if company_id is not None:
        receipts = receipts.filter(company_id=company_id)
    return receipts.order_by("-created_at", "-id")
