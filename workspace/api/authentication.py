"""Token authentication of the API (docs/api.md, "Authentication"): knox's
hashed, expiring tokens sent as ``Authorization: Token <key>``.

Kept apart from the views (workspace/api/auth.py): DRF imports the
authentication classes while its own views module is loading.
"""

import re

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox import auth as knox_auth
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS
from rest_framework import exceptions

#: What a token looks like (knox, AUTH_TOKEN_CHARACTER_LENGTH=64): anything
#: else is refused before the database is asked.
TOKEN_RE = re.compile(r"[0-9a-f]{64}")


class TokenAuthentication(knox_auth.TokenAuthentication):
    """knox's token authentication, with one query per request and no 500 on
    a malformed header:

    - a token that is not 64 hex characters is 401 without a query (knox
      would decode it as UTF-8 and send NULs to the database);
    - the token row and its user come in one query; knox's per-request sweep
      of the user's other expired tokens is done at login instead;
    - an expired token is deleted and is 401;
    - a deactivated user's tokens are all deleted, and the request is 401.
    """

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token."))

    def authenticate_credentials(self, token):
        token = token.decode("ascii") if isinstance(token, bytes) else token
        if not TOKEN_RE.fullmatch(token):
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        digest = hash_token(token)
        row = (
            AuthToken.objects.select_related("user__company")
            .filter(token_key=token[: CONSTANTS.TOKEN_KEY_LENGTH], digest=digest)
            .first()
        )
        if row is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if row.expiry is not None and row.expiry <= timezone.now():
            row.delete()
            raise exceptions.AuthenticationFailed(_("Token expired."))
        if not row.user.is_active:
            AuthToken.objects.filter(user_id=row.user_id).delete()
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        if row.user.company is not None and not row.user.company.is_active:
            # Deactivation deletes the tenant's tokens; one read just before it committed.
            row.delete()
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return row.user, row


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "workspace.api.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Token")
