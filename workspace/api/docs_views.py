"""The schema (/api/schema/) and Swagger UI (/api/docs/) views.

Who may read them: ``workspace.api.docs.DocsAccess`` (``API_DOCS_PUBLIC``).
"""

from urllib.parse import urlencode

from django.http import HttpResponseRedirect
from django.urls import reverse
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated
from rest_framework.renderers import JSONRenderer


class SchemaView(SpectacularAPIView):
    """The OpenAPI document (YAML by default, JSON on request). Its errors
    (401 when the docs are private) are JSON like every error under /api/,
    not rendered by the OpenAPI renderers."""

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response


class SwaggerView(SpectacularSwaggerView):
    """Swagger UI from the app's own static files (drf-spectacular-sidecar).

    The page's two inline blocks (its style and the script that starts the UI)
    carry the request's CSP nonce (``workspace/templates/api/swagger_ui.html``),
    so the policy needs no ``'unsafe-inline'`` for scripts. A browser that is
    not logged in is sent to the admin login and back when the docs are not
    public.
    """

    template_name = "api/swagger_ui.html"

    def handle_exception(self, exc):
        if isinstance(exc, NotAuthenticated | AuthenticationFailed):
            login = reverse("admin:login")
            return HttpResponseRedirect(f"{login}?{urlencode({'next': self.request.path})}")
        return super().handle_exception(exc)
