"""One structured log line per request, 5xx with their traceback, and no
secret in any log line (docs/operations.md)."""

import json
import logging

import pytest
from django.conf import settings
from django.test import Client
from knox.models import AuthToken

from companies.factories import UserFactory
from workspace.request_log import JsonFormatter

pytestmark = [pytest.mark.urls("workspace.tests.urls"), pytest.mark.django_db]

SECRET_QUERY = "s3cr3t-query-value"
PASSWORD = "correct-horse-battery-staple-42"


def render(record: logging.LogRecord) -> str:
    """The line as the production handler writes it (settings.LOGGING)."""
    options = {k: v for k, v in settings.LOGGING["formatters"]["json"].items() if k != "()"}
    return JsonFormatter(**options).format(record)


def request_lines(caplog) -> list[dict]:
    return [json.loads(render(r)) for r in caplog.records if r.name == "workspace.request"]


@pytest.fixture
def token():
    user = UserFactory()
    row, key = AuthToken.objects.create(user=user)
    row.key = key
    return row


def test_token_request_is_logged_with_user_company_status_and_duration(caplog, token):
    caplog.set_level(logging.INFO)
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")

    response = client.get(f"/probe/whoami/?token={SECRET_QUERY}")

    assert response.status_code == 200
    [line] = request_lines(caplog)
    assert line["method"] == "GET"
    assert line["path"] == "/probe/whoami/"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    # DRF authenticates inside the view: the middleware must read it after.
    assert line["user_id"] == token.user.pk
    assert line["company_id"] == token.user.company_id
    assert line["level"] == "INFO" and line["logger"] == "workspace.request"


def test_anonymous_request_has_no_user(caplog, client):
    caplog.set_level(logging.INFO)

    client.get("/probe/whoami/")

    [line] = request_lines(caplog)
    assert line["status"] == 401
    assert line["user_id"] is None and line["company_id"] is None


def test_no_secret_reaches_any_log_line(caplog, token):
    caplog.set_level(logging.DEBUG)
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}", HTTP_COOKIE=f"sessionid={SECRET_QUERY}")

    client.post(
        f"/probe/whoami/?password={SECRET_QUERY}",
        {"username": token.user.username, "password": PASSWORD},
        content_type="application/json",
    )
    Client().get(f"/probe/whoami/?api_key={SECRET_QUERY}", HTTP_AUTHORIZATION="Token wrong-token-abc")

    lines = [render(r) for r in caplog.records]
    assert len(request_lines(caplog)) == 2
    for text in lines:
        for secret in (token.key, PASSWORD, SECRET_QUERY, "wrong-token-abc", "Authorization"):
            assert secret not in text


def test_server_error_logs_its_traceback_without_secrets(caplog, token):
    caplog.set_level(logging.INFO)
    client = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Token {token.key}")

    response = client.get(f"/probe/boom/?token={SECRET_QUERY}")

    assert response.status_code == 500
    [access] = request_lines(caplog)
    assert access["status"] == 500
    [error] = [json.loads(render(r)) for r in caplog.records if r.name == "django.request"]
    assert error["level"] == "ERROR"
    assert "Traceback" in error["exc_info"]
    assert "RuntimeError: boom: the view failed" in error["exc_info"]
    assert error["status_code"] == 500
    for record in caplog.records:
        text = render(record)
        assert SECRET_QUERY not in text and token.key not in text


def test_login_logs_neither_the_password_nor_the_token(caplog):
    caplog.set_level(logging.DEBUG)
    user = UserFactory(password=PASSWORD)

    ok = Client().post(
        "/api/auth/token/", {"username": user.username, "password": PASSWORD}, content_type="application/json"
    )
    refused = Client().post(
        "/api/auth/token/", {"username": user.username, "password": PASSWORD + "x"}, content_type="application/json"
    )

    assert ok.status_code == 200 and refused.status_code == 400
    token = ok.json()["token"]
    assert [line["status"] for line in request_lines(caplog)] == [200, 400]
    for record in caplog.records:
        text = render(record)
        assert PASSWORD not in text and token not in text
