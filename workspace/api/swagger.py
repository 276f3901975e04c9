"""The Swagger UI page (/api/docs/) under the Content Security Policy."""

from urllib.parse import urlencode

from django.http import HttpResponseRedirect
from django.urls import reverse
from drf_spectacular.views import SpectacularSwaggerView
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated


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
