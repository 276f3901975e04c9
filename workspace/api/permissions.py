from rest_framework.permissions import BasePermission


class IsCompanyMember(BasePermission):
    """An authenticated person who belongs to a company (tenant).

    Platform superusers have no company: they use the admin, and the API
    answers 403 to them everywhere except ``/api/me/``. Unauthenticated
    requests get 401 (DRF turns a failed permission into ``NotAuthenticated``
    when no credentials were accepted).
    """

    message = "Only members of a company can use this endpoint."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.company_id is not None)


class IsPlatformSuperuser(BasePermission):
    """A platform superuser (no company): the platform's own endpoints, e.g.
    the progress of tenant purges (docs/api.md)."""

    message = "Only platform superusers can use this endpoint."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_superuser and user.company_id is None)
