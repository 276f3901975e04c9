"""``POST /api/auth/token/``: username + password -> ``{"token": ...}``."""

from drf_spectacular.utils import extend_schema
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import AllowAny

from workspace.api.schema import responses, validation_error


class TokenView(ObtainAuthToken):
    # Credentials come in the body: a stale ``Authorization`` header must not
    # turn a login into a 401.
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="auth_token_create",
        summary="Exchange a username and password for an API token",
        description="The same token is returned until it is deleted (admin). "
        "Send it as `Authorization: Token <key>`.",
        request=AuthTokenSerializer,
        responses=responses(
            {200: AuthTokenSerializer},
            bad_request=validation_error("AuthTokenError", "username", "password"),
            public=True,
            body=True,
        ),
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)
