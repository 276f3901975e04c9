"""API tokens (docs/api.md, "Authentication").

- ``POST /api/auth/token/``: username + password -> ``{"token", "expires_at"}``,
  a new token per login; throttled (workspace/login_throttle.py: 429 with
  ``Retry-After``).
- ``DELETE /api/auth/token/``: revokes the token of the request.
- ``DELETE /api/auth/tokens/``: revokes every token of the caller.

Tokens are django-rest-knox's: 64 random hex characters, stored as a SHA-512
digest (the database never holds one in clear), with an expiry
(``API_TOKEN_TTL``). Sent as ``Authorization: Token <key>``.
"""

from django.contrib.auth import authenticate, user_logged_in
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from knox.models import AuthToken
from knox.settings import knox_settings
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from workspace.api.authentication import TokenAuthentication
from workspace.api.fields import NotBlankCharField, StrictCharField
from workspace.api.schema import ErrorSerializer, responses, validation_error
from workspace.login_throttle import is_locked_out, lockout_message, retry_after


class AuthTokenRequestSerializer(serializers.Serializer):
    username = NotBlankCharField(max_length=150)
    password = StrictCharField(allow_blank=False, trim_whitespace=False, max_length=4096)

    class Meta:
        ref_name = "AuthTokenCredentials"


class AuthTokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`.")
    expires_at = serializers.DateTimeField(help_text="After this instant the token is refused (401).")

    class Meta:
        ref_name = "AuthToken"


class LockedOut(exceptions.Throttled):
    """429 with ``Retry-After`` (DRF's handler sets it from ``wait``); the
    message already says how long."""

    def __init__(self, wait: int, detail: str):
        exceptions.APIException.__init__(self, detail, "throttled")
        self.wait = wait


RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    location=OpenApiParameter.HEADER,
    response=[429],
    required=True,
    description="Seconds until a login may be tried again.",
)
TOO_MANY = OpenApiResponse(
    ErrorSerializer,
    description="Too many failed logins for this username or from this address: locked out "
    "for `Retry-After` seconds (even with the right password).",
)
NO_CONTENT = OpenApiResponse(description="Revoked.")


class TokenView(APIView):
    """``POST``: log in. ``DELETE``: revoke the token of this request."""

    # The login reads the credentials from the body: a stale ``Authorization``
    # header must not turn it into a 401. The logout is token-only.
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def _is_login(self) -> bool:
        return self.request is not None and self.request.method == "POST"

    def get_authenticators(self):
        return [] if self._is_login() else [TokenAuthentication()]

    def get_permissions(self):
        return [AllowAny()] if self._is_login() else [IsAuthenticated()]

    @extend_schema(
        operation_id="auth_token_create",
        summary="Exchange a username and password for a new API token",
        description="Every login returns a new token, valid until `expires_at` (`API_TOKEN_TTL`). "
        "Send it as `Authorization: Token <token>`. Failed logins are counted per username and "
        "per client address: too many lock both out for a while (429 with `Retry-After`).",
        request=AuthTokenRequestSerializer,
        responses={
            **responses(
                {200: AuthTokenSerializer},
                bad_request=validation_error("AuthTokenError", "username", "password"),
                public=True,
                body=True,
            ),
            429: TOO_MANY,
        },
        parameters=[RETRY_AFTER],
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        serializer = AuthTokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(request._request, **serializer.validated_data)
        if is_locked_out(request):
            raise LockedOut(wait=retry_after(), detail=lockout_message())
        if user is None or not user.is_active:
            raise exceptions.ValidationError({"non_field_errors": [_("Unable to log in with provided credentials.")]})
        now = timezone.now()
        try:
            with transaction.atomic():
                # The user's expired tokens go at their next login (no sweep per request).
                AuthToken.objects.filter(user=user, expiry__lte=now).delete()
                row, token = AuthToken.objects.create(user=user, expiry=knox_settings.TOKEN_TTL)
        except IntegrityError:
            # The account was deleted (erased, or its tenant purged) between the
            # password check and the token: the credentials no longer exist.
            raise exceptions.ValidationError(
                {"non_field_errors": [_("Unable to log in with provided credentials.")]}
            ) from None
        user_logged_in.send(sender=user.__class__, request=request._request, user=user)
        data = AuthTokenSerializer({"token": token, "expires_at": row.expiry}).data
        return Response(data)

    @extend_schema(
        operation_id="auth_token_destroy",
        summary="Revoke the token of this request (log out)",
        description="The token sent in `Authorization` stops working at once. Token authentication "
        "only (a browser session has no token to revoke).",
        request=None,
        responses=responses({204: NO_CONTENT}, forbidden=False),
        auth=[{"tokenAuth": []}],
    )
    def delete(self, request, *args, **kwargs):
        AuthToken.objects.filter(digest=request.auth.digest).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenRevokeAllView(APIView):
    """``DELETE``: revoke every token of the caller (log out everywhere)."""

    @extend_schema(
        operation_id="auth_tokens_destroy",
        summary="Revoke every token of the caller (log out everywhere)",
        description="Every API token of the caller stops working, including the one of this "
        "request. A password change or a deactivation does the same.",
        request=None,
        responses=responses({204: NO_CONTENT}, forbidden="A session request without its CSRF token."),
    )
    def delete(self, request, *args, **kwargs):
        AuthToken.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
