"""API tokens (docs/api.md, "Authentication"): a new hashed token per login,
an expiry, logout and logout-everywhere, revocation by a password change or a
deactivation on every path, and no 500 for a malformed header."""

from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from knox.models import AuthToken
from rest_framework.test import APIClient

from companies.factories import CompanyFactory, UserFactory
from companies.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret-pass"


def login(client=None, username="ada", password=PASSWORD, **kwargs):
    client = client or APIClient()
    return client.post("/api/auth/token/", {"username": username, "password": password}, format="json", **kwargs)


def authed(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def ada():
    return UserFactory(username="ada", password=PASSWORD)


# --- login ---------------------------------------------------------------


def test_login_returns_a_token_and_its_expiry(ada, settings):
    before = timezone.now()
    response = login()
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expires_at"}
    assert len(body["token"]) == 64
    expires_at = parse_datetime(body["expires_at"])
    ttl = timedelta(seconds=settings.API_TOKEN_TTL)
    assert before + ttl <= expires_at <= timezone.now() + ttl
    assert "no-store" in response["Cache-Control"]
    assert authed(body["token"]).get("/api/me/").json()["username"] == "ada"


def test_every_login_returns_a_new_token_and_the_old_ones_keep_working(ada):
    first, second = login().json()["token"], login().json()["token"]
    assert first != second
    assert AuthToken.objects.filter(user=ada).count() == 2
    assert authed(first).get("/api/me/").status_code == 200
    assert authed(second).get("/api/me/").status_code == 200


def test_the_database_holds_only_a_digest_of_the_token(ada):
    token = login().json()["token"]
    row = AuthToken.objects.get(user=ada)
    assert token not in row.digest and row.digest != token
    assert len(row.digest) == 128  # SHA-512, hex
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {AuthToken._meta.db_table}")
        dump = repr(cursor.fetchall())
    assert token not in dump


def test_login_with_form_data(ada):
    response = APIClient().post("/api/auth/token/", {"username": "ada", "password": PASSWORD})
    assert response.status_code == 200


def test_login_counts_as_activity(ada):
    assert ada.last_active is None
    login()
    ada.refresh_from_db()
    assert ada.last_active is not None


def test_wrong_password_and_inactive_user_get_no_token(ada):
    assert login(password="nope").status_code == 400
    ada.is_active = False
    ada.save()
    assert login().status_code == 400
    assert not AuthToken.objects.exists()


# --- expiry ----------------------------------------------------------------


def test_an_expired_token_is_401_and_deleted(ada):
    token = login().json()["token"]
    AuthToken.objects.filter(user=ada).update(expiry=timezone.now() - timedelta(seconds=1))
    response = authed(token).get("/api/me/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert not AuthToken.objects.exists()


def test_api_token_ttl_is_the_lifetime(ada, settings):
    from datetime import timedelta as td

    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_TTL": td(seconds=60)}
    body = login().json()
    assert parse_datetime(body["expires_at"]) <= timezone.now() + td(seconds=60)


def test_a_login_sweeps_the_users_expired_tokens(ada):
    login()
    AuthToken.objects.filter(user=ada).update(expiry=timezone.now() - timedelta(days=1))
    login()
    assert AuthToken.objects.filter(user=ada).count() == 1


# --- logout ------------------------------------------------------------------


def test_logout_revokes_only_the_calling_token(ada):
    first, second = login().json()["token"], login().json()["token"]
    response = authed(first).delete("/api/auth/token/")
    assert response.status_code == 204
    assert authed(first).get("/api/me/").status_code == 401
    assert authed(second).get("/api/me/").status_code == 200
    assert authed(first).delete("/api/auth/token/").status_code == 401


def test_logout_everywhere_revokes_every_token_of_the_caller_only(ada):
    mine = [login().json()["token"] for _ in range(3)]
    UserFactory(username="bob", password=PASSWORD)
    theirs = login(username="bob").json()["token"]
    assert authed(mine[0]).delete("/api/auth/tokens/").status_code == 204
    for token in mine:
        assert authed(token).get("/api/me/").status_code == 401
    assert authed(theirs).get("/api/me/").status_code == 200


def test_logout_needs_credentials():
    assert APIClient().delete("/api/auth/token/").status_code == 401
    assert APIClient().delete("/api/auth/tokens/").status_code == 401


def test_logout_of_this_token_is_token_only_but_everywhere_works_with_a_session(ada, client):
    login()
    client.force_login(ada)
    # A session has no token of its own to revoke.
    assert client.delete("/api/auth/token/").status_code == 401
    assert client.delete("/api/auth/tokens/").status_code == 204
    assert not AuthToken.objects.exists()


# --- revocation on credential changes ------------------------------------------


def _tokens_of(user):
    return [login(username=user.username).json()["token"] for _ in range(2)]


def test_set_password_and_save_revokes_all_tokens(ada):
    tokens = _tokens_of(ada)
    other = UserFactory(username="bob", password=PASSWORD)
    kept = login(username="bob").json()["token"]
    ada.set_password("a-new-pass-123")
    ada.save()
    for token in tokens:
        assert authed(token).get("/api/me/").status_code == 401
    assert not AuthToken.objects.filter(user=ada).exists()
    assert authed(kept).get("/api/me/").status_code == 200
    assert AuthToken.objects.filter(user=other).count() == 1


def test_a_password_hash_assigned_directly_revokes_too(ada):
    _tokens_of(ada)
    ada.password = make_password("another-pass-456")
    ada.save(update_fields=["password"])
    assert not AuthToken.objects.filter(user=ada).exists()


def test_deactivation_revokes_all_tokens(ada):
    tokens = _tokens_of(ada)
    ada.is_active = False
    ada.save()
    assert not AuthToken.objects.filter(user=ada).exists()
    # Reactivated, the old tokens stay dead.
    ada.is_active = True
    ada.save()
    assert authed(tokens[0]).get("/api/me/").status_code == 401


def test_an_unrelated_save_keeps_the_tokens(ada):
    token = login().json()["token"]
    ada.first_name = "Ada"
    ada.save()
    ada.save(update_fields=["last_login"])
    assert authed(token).get("/api/me/").status_code == 200


def test_changepassword_command_revokes(ada, monkeypatch):
    token = login().json()["token"]
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "brand-new-pass-789")
    call_command("changepassword", "ada", stdout=open("/dev/null", "w"))
    assert authed(token).get("/api/me/").status_code == 401


def test_admin_password_change_form_revokes(ada, client):
    token = login().json()["token"]
    admin = UserFactory(company=None, is_staff=True, is_superuser=True)
    client.force_login(admin)
    response = client.post(
        f"/admin/companies/user/{ada.pk}/password/",
        {"password1": "Brand-new-pass-789", "password2": "Brand-new-pass-789", "usable_password": "true"},
    )
    assert response.status_code == 302, response.content[:2000]
    assert authed(token).get("/api/me/").status_code == 401


def test_a_deactivated_users_token_is_refused_and_revoked_even_without_a_save(ada):
    token = login().json()["token"]
    User.objects.filter(pk=ada.pk).update(is_active=False)  # no signal
    assert authed(token).get("/api/me/").status_code == 401
    assert not AuthToken.objects.filter(user=ada).exists()


def test_deleting_the_user_deletes_the_tokens(ada):
    login()
    ada.delete()
    assert not AuthToken.objects.exists()


# --- malformed credentials: 401, never a 500 --------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "Token",
        "Token a b",
        "Token not-a-real-token",
        "Token " + "0" * 64,
        "Token " + "g" * 64,
        "Token " + "A" * 64,
        "Token caf\u00e9",
        "Token \x00" + "0" * 63,
        "Token " + "0" * 10000,
    ],
)
def test_malformed_or_unknown_tokens_are_401(ada, header):
    response = APIClient(raise_request_exception=False).get("/api/me/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_token_authentication_costs_one_query(ada):
    client = authed(login().json()["token"])
    client.get("/api/me/")  # last_active written once
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/me/").status_code == 200
    token_queries = [q for q in queries.captured_queries if AuthToken._meta.db_table in q["sql"]]
    assert len(token_queries) == 1


def test_a_tenant_user_token_still_scopes_to_the_company(ada):
    other = UserFactory(company=CompanyFactory(), username="eve", password=PASSWORD)
    token = login(username="eve").json()["token"]
    assert authed(token).get(f"/api/users/{ada.pk}/").status_code == 404
    assert authed(token).get(f"/api/users/{other.pk}/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_an_account_deleted_during_its_login_is_a_400_not_a_conflict(monkeypatch):
    """The tenant purged (or the person erased) between the password check
    and the token: the credentials are gone, as if they had been wrong."""
    from django.contrib.auth import authenticate as real_authenticate

    from companies.factories import UserFactory
    from companies.models import User
    from workspace.api import auth

    UserFactory(username="gone", password="s3cret-pass")

    def authenticate_then_vanish(request, **credentials):
        user = real_authenticate(request, **credentials)
        User.objects.filter(pk=user.pk).delete()
        return user

    monkeypatch.setattr(auth, "authenticate", authenticate_then_vanish)
    response = APIClient().post("/api/auth/token/", {"username": "gone", "password": "s3cret-pass"}, format="json")
    assert response.status_code == 400, response.content
    assert response.json() == {"non_field_errors": ["Unable to log in with provided credentials."]}
