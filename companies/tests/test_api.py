"""API of the companies app: token auth, 401 vs 403, /api/me/, /api/users/,
/api/attendance/ (docs/api.md)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from knox.models import AuthToken

from companies.factories import AttendanceFactory, CompanyFactory, UserFactory
from companies.models import Attendance, User

pytestmark = pytest.mark.django_db


# --- Authentication ---------------------------------------------------------


def test_token_for_username_and_password(api_client):
    user = UserFactory(username="ada", password="s3cret-pass")
    response = api_client.post("/api/auth/token/", {"username": "ada", "password": "s3cret-pass"}, format="json")
    assert response.status_code == 200
    assert set(response.json()) == {"token", "expires_at"}
    assert AuthToken.objects.get(user=user).digest != response.json()["token"]  # stored hashed
    # The token authenticates later requests.
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert api_client.get("/api/me/").json()["username"] == "ada"


def test_token_endpoint_takes_form_data_too(api_client):
    UserFactory(username="ada", password="s3cret-pass")
    response = api_client.post("/api/auth/token/", {"username": "ada", "password": "s3cret-pass"})
    assert response.status_code == 200


def test_token_wrong_password_is_400_without_saying_which(api_client):
    UserFactory(username="ada", password="s3cret-pass")
    response = api_client.post("/api/auth/token/", {"username": "ada", "password": "nope"}, format="json")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()
    assert not AuthToken.objects.exists()


def test_token_refused_to_inactive_user(api_client):
    UserFactory(username="ada", password="s3cret-pass", is_active=False)
    response = api_client.post("/api/auth/token/", {"username": "ada", "password": "s3cret-pass"}, format="json")
    assert response.status_code == 400


@pytest.mark.parametrize("body", [{}, {"username": "", "password": "x"}, {"username": "ada", "password": ""}])
def test_token_missing_or_blank_fields_name_the_field(api_client, body):
    response = api_client.post("/api/auth/token/", body, format="json")
    assert response.status_code == 400
    missing = {"username", "password"} - {k for k, v in body.items() if v}
    assert missing <= set(response.json())


def test_token_endpoint_ignores_a_stale_authorization_header(api_client):
    UserFactory(username="ada", password="s3cret-pass")
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = api_client.post("/api/auth/token/", {"username": "ada", "password": "s3cret-pass"}, format="json")
    assert response.status_code == 200


def test_unauthenticated_is_401_with_www_authenticate(api_client):
    response = api_client.get("/api/users/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_invalid_token_is_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    response = api_client.get("/api/me/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


def test_token_of_deactivated_user_is_401(client_for):
    user = UserFactory()
    client = client_for(user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert client.get("/api/me/").status_code == 401


def test_session_auth_works_for_the_browsable_api(client):
    user = UserFactory(password="s3cret-pass")
    client.force_login(user)
    response = client.get("/api/me/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json()["id"] == user.pk


def test_unsupported_media_type_is_415(client_for):
    client = client_for(UserFactory())
    response = client.post("/api/channels/", "name=general", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415


def test_malformed_json_is_400_with_detail(client_for):
    client = client_for(UserFactory())
    response = client.post("/api/channels/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "detail" in response.json()


def test_unknown_api_path_is_a_json_404(client_for):
    client = client_for(UserFactory())
    for path in ["/api/nope/", "/api/channels/abc/", "/api/channels/0/", f"/api/channels/{2**63}/"]:
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json() == {"detail": "Not found."}


def test_undocumented_method_is_405_with_allow(client_for):
    client = client_for(UserFactory())
    response = client.put("/api/me/", {}, format="json")
    assert response.status_code == 405
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "OPTIONS"}


# --- /api/me/ ---------------------------------------------------------------


def test_me_returns_the_user_with_the_company(client_for):
    user = UserFactory(role=User.Role.ADMIN)
    data = client_for(user).get("/api/me/").json()
    assert data["id"] == user.pk
    assert data["role"] == "admin"
    assert data["company"] == {"id": user.company.pk, "name": user.company.name, "slug": user.company.slug}


def test_platform_superuser_without_company_sees_me_but_nothing_else(client_for):
    root = User.objects.create_superuser(username="root", password="x", email="root@example.com")
    client = client_for(root)
    assert client.get("/api/me/").json()["company"] is None
    for path in ["/api/users/", "/api/channels/", "/api/meetings/", "/api/attendance/"]:
        assert client.get(path).status_code == 403, path
    assert client.post("/api/attendance/check-in/").status_code == 403


# --- /api/users/ ------------------------------------------------------------


def test_users_lists_only_the_own_company(client_for):
    me = UserFactory()
    colleague = UserFactory(company=me.company)
    UserFactory()  # another tenant
    response = client_for(me).get("/api/users/")
    assert response.status_code == 200
    data = response.json()
    assert {u["id"] for u in data["results"]} == {me.pk, colleague.pk}
    assert data["count"] == 2 and data["next"] is None


def test_users_list_is_paginated(client_for):
    me = UserFactory(username="a-me")
    for i in range(51):
        UserFactory(company=me.company, username=f"u{i:03}")
    client = client_for(me)
    first = client.get("/api/users/").json()
    assert len(first["results"]) == 50 and first["next"]
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 2 and second["next"] is None
    assert client.get("/api/users/?page=3").status_code == 404


def test_user_detail_and_other_tenant_is_404(client_for):
    me = UserFactory()
    colleague = UserFactory(company=me.company)
    stranger = UserFactory()
    client = client_for(me)
    assert client.get(f"/api/users/{colleague.pk}/").json()["username"] == colleague.username
    assert client.get(f"/api/users/{stranger.pk}/").status_code == 404
    assert client.get("/api/users/999999/").json() == client.get(f"/api/users/{stranger.pk}/").json()


# --- /api/attendance/ -------------------------------------------------------


def test_check_in_then_check_out(client_for):
    user = UserFactory()
    client = client_for(user)
    response = client.post("/api/attendance/check-in/")
    assert response.status_code == 201
    attendance = Attendance.objects.get(pk=response.json()["id"])
    assert attendance.user == user and attendance.check_out is None
    assert response.json()["check_out"] is None

    response = client.post("/api/attendance/check-out/")
    assert response.status_code == 200
    attendance.refresh_from_db()
    assert attendance.check_out is not None
    assert response.json()["check_out"] is not None


def test_second_check_in_while_open_is_409_naming_check_in(client_for):
    user = UserFactory()
    client = client_for(user)
    assert client.post("/api/attendance/check-in/").status_code == 201
    response = client.post("/api/attendance/check-in/")
    assert response.status_code == 409
    assert "check_in" in response.json()
    assert Attendance.objects.filter(user=user).count() == 1


def test_check_out_with_none_open_is_409_naming_check_out(client_for):
    user = UserFactory()
    AttendanceFactory(user=user)  # closed
    response = client_for(user).post("/api/attendance/check-out/")
    assert response.status_code == 409
    assert "check_out" in response.json()


def test_attendance_list_member_sees_own_admin_sees_company(client_for):
    admin = UserFactory(role=User.Role.ADMIN)
    member = UserFactory(company=admin.company)
    mine = AttendanceFactory(user=member)
    theirs = AttendanceFactory(user=admin)
    AttendanceFactory()  # another tenant
    member_ids = {a["id"] for a in client_for(member).get("/api/attendance/").json()["results"]}
    admin_ids = {a["id"] for a in client_for(admin).get("/api/attendance/").json()["results"]}
    assert member_ids == {mine.pk}
    assert admin_ids == {mine.pk, theirs.pk}
    assert {a["id"] for a in client_for(admin).get(f"/api/attendance/?user={member.pk}").json()["results"]} == {mine.pk}


def test_attendance_filter_by_date(client_for):
    user = UserFactory()
    day = timezone.now().replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=3)
    on_day = AttendanceFactory(user=user, check_in=day, check_out=day + timedelta(hours=8))
    AttendanceFactory(user=user, check_in=day + timedelta(days=1), check_out=day + timedelta(days=1, hours=8))
    response = client_for(user).get(f"/api/attendance/?date={day.date().isoformat()}")
    assert [a["id"] for a in response.json()["results"]] == [on_day.pk]


@pytest.mark.parametrize("query", ["date=yesterday", "date=2024-13-01", "user=abc", "user=0", f"user={2**63}"])
def test_attendance_malformed_filter_is_400_naming_the_field(client_for, query):
    response = client_for(UserFactory()).get(f"/api/attendance/?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


def test_check_in_updates_last_active(client_for):
    user = UserFactory()
    assert user.last_active is None
    client_for(user).post("/api/attendance/check-in/")
    user.refresh_from_db()
    assert user.last_active is not None


def test_company_of_another_tenant_cannot_be_reached_through_me(client_for):
    # /api/me/ has no id: it can only ever be the caller.
    a, b = UserFactory(), UserFactory(company=CompanyFactory())
    assert client_for(a).get("/api/me/").json()["id"] == a.pk
    assert client_for(b).get("/api/me/").json()["id"] == b.pk


def test_browsable_api_renders_every_page_for_a_logged_in_user(client):
    from chat.services import channel_create, message_create

    user = UserFactory()
    channel = channel_create(company=user.company, name="general", created_by=user)
    message = message_create(channel=channel, author=user, body="hello")
    client.force_login(user)
    for path in [
        "/api/me/",
        "/api/users/",
        f"/api/users/{user.pk}/",
        "/api/channels/",
        f"/api/channels/{channel.pk}/",
        f"/api/channels/{channel.pk}/members/",
        f"/api/channels/{channel.pk}/messages/",
        f"/api/messages/{message.pk}/",
        "/api/meetings/",
        "/api/attendance/",
    ]:
        response = client.get(path, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, path
        assert response["Content-Type"].startswith("text/html"), path


def test_token_authenticated_request_counts_as_activity_once_per_resolution(client_for, settings):
    # DRF authenticates inside the view; the lifecycle middleware still sees the user.
    user = UserFactory()
    client = client_for(user)
    assert client.get("/api/me/").status_code == 200
    user.refresh_from_db()
    first = user.last_active
    assert first is not None
    client.get("/api/channels/")
    user.refresh_from_db()
    assert user.last_active == first  # within LAST_ACTIVE_RESOLUTION: reads do not become writes


def test_rejected_credentials_count_as_no_activity(api_client):
    user = UserFactory()
    api_client.credentials(HTTP_AUTHORIZATION="Token wrong")
    assert api_client.get("/api/me/").status_code == 401
    user.refresh_from_db()
    assert user.last_active is None
