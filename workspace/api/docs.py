"""Who may read the API's schema (/api/schema/) and interactive docs
(/api/docs/).

``API_DOCS_PUBLIC`` (settings, from the environment; default: on with
``DJANGO_DEBUG=1``, off in production) decides: public, or for authenticated
callers only (a token, or the session of someone logged in to the admin).
It is read on every request, so tests can switch it with ``override_settings``.
The views are in ``workspace.api.docs_views`` (this module is imported by
drf-spectacular's views, through SERVE_PERMISSIONS: it may not import them).
"""

from django.conf import settings
from rest_framework.permissions import BasePermission


class DocsAccess(BasePermission):
    """The schema and the docs: anybody when ``API_DOCS_PUBLIC``, else an
    authenticated caller (401 otherwise, as everywhere in the API)."""

    def has_permission(self, request, view) -> bool:
        if getattr(settings, "API_DOCS_PUBLIC", False):
            return True
        return bool(request.user and request.user.is_authenticated)
