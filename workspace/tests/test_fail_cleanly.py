"""Failing cleanly (docs/operations.md, workspace/errors.py): under /api/
every error is JSON, a too-deep or too-large body is a 400/413, the database
unavailable is a 503 with Retry-After, each logged in one warning line."""

import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.db import OperationalError, connections
from django.test import Client
from rest_framework.test import APIClient

from chat.services import channel_create

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
DEEP = "[" * 10_000 + "]" * 10_000


@pytest.fixture
def channel(company, people):
    return channel_create(company=company, name="general", created_by=people["alice"])


@pytest.fixture
def alice(client_for, people):
    client = client_for(people["alice"])
    client.raise_request_exception = False
    return client


def problems(caplog) -> list[logging.LogRecord]:
    """Records other than the request log: what an operator would read."""
    return [r for r in caplog.records if r.name != "workspace.request"]


def assert_one_warning_line(caplog):
    records = problems(caplog)
    assert len(records) == 1, [(r.name, r.levelname, r.getMessage()) for r in records]
    assert records[0].levelno == logging.WARNING
    assert records[0].exc_info is None


def assert_json(response, status):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json", response.content[:300]
    assert "detail" in response.json()


# --- nesting too deep ------------------------------------------------------------


@pytest.mark.parametrize("debug", [False, True])
def test_deeply_nested_json_is_a_400_on_the_token_endpoint(caplog, settings, debug):
    settings.DEBUG = debug
    caplog.set_level(logging.INFO)
    response = APIClient(raise_request_exception=False).post("/api/auth/token/", DEEP, content_type="application/json")

    assert_json(response, 400)
    assert "nested too deeply" in response.json()["detail"]
    assert_one_warning_line(caplog)


def test_deeply_nested_json_is_a_400_on_a_message_post(caplog, alice, channel):
    caplog.set_level(logging.INFO)
    body = '{"body": "x", "parent": ' + DEEP + "}"
    response = alice.post(f"/api/channels/{channel.pk}/messages/", body, content_type="application/json")

    assert_json(response, 400)
    assert_one_warning_line(caplog)


def test_a_recursion_bug_of_our_own_stays_a_500(alice):
    # Only a RecursionError raised by the parser is the client's fault.
    with mock.patch("companies.views.MeView.get", side_effect=RecursionError("bug")):
        response = alice.get("/api/me/")
    assert_json(response, 500)


# --- body over the upload limit ------------------------------------------------


@pytest.mark.parametrize("debug", [False, True])
def test_body_over_the_upload_limit_is_a_json_413(caplog, settings, alice, channel, debug):
    settings.DEBUG = debug
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    caplog.set_level(logging.INFO)
    body = '{"body": "' + "x" * 2000 + '"}'
    response = alice.post(f"/api/channels/{channel.pk}/messages/", body, content_type="application/json")

    assert_json(response, 413)
    assert "1000 bytes" in response.json()["detail"]
    assert_one_warning_line(caplog)


def test_form_login_over_the_upload_limit_is_a_json_413(caplog, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    caplog.set_level(logging.INFO)
    response = Client(raise_request_exception=False).post("/api/auth/token/", {"username": "u", "password": "p" * 2000})

    assert_json(response, 413)
    assert_one_warning_line(caplog)


# --- bad Host ------------------------------------------------------------------


@pytest.mark.parametrize("debug", [False, True])
def test_bad_host_is_a_json_400_under_api(caplog, settings, alice, debug):
    settings.DEBUG = debug
    caplog.set_level(logging.INFO)
    response = alice.get("/api/me/", HTTP_HOST="evil.example")

    assert_json(response, 400)
    assert response.json() == {"detail": "Invalid Host header."}
    assert_one_warning_line(caplog)


def test_bad_host_elsewhere_keeps_djangos_answer(settings):
    response = Client(raise_request_exception=False).get("/admin/login/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert not response["Content-Type"].startswith("application/json")


# --- any other error page --------------------------------------------------------


@pytest.mark.parametrize("debug", [False, True])
def test_a_server_error_under_api_is_json_and_keeps_its_traceback(caplog, settings, alice, debug):
    settings.DEBUG = debug
    caplog.set_level(logging.INFO)
    with mock.patch("companies.views.MeView.get", side_effect=RuntimeError("boom")):
        response = alice.get("/api/me/")

    assert_json(response, 500)
    [error] = [r for r in caplog.records if r.name == "django.request"]
    assert error.levelno == logging.ERROR and error.exc_info is not None


@pytest.mark.parametrize("debug", [False, True])
def test_an_error_raised_by_a_middleware_under_api_is_json(settings, alice, debug):
    settings.DEBUG = debug
    with mock.patch("companies.middleware.user_touch_throttled", side_effect=RuntimeError("boom")):
        response = alice.get("/api/me/")

    assert_json(response, 500)


def test_the_browsable_api_still_renders_its_error_pages_in_debug(settings, client, people):
    settings.DEBUG = True
    client.force_login(people["alice"])
    response = client.get("/api/users/999999/", HTTP_ACCEPT="text/html")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


# --- database unavailable ---------------------------------------------------------


def database_down():
    down = OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')
    return mock.patch.object(connections["default"], "cursor", side_effect=down)


@pytest.mark.parametrize("method", ["get", "post"])
def test_database_unavailable_is_a_json_503_with_retry_after(caplog, alice, channel, method):
    caplog.set_level(logging.INFO)
    with database_down():
        if method == "get":
            response = alice.get("/api/me/")
        else:
            response = alice.post(f"/api/channels/{channel.pk}/messages/", {"body": "hi"}, format="json")

    assert_json(response, 503)
    assert response["Retry-After"] == "5"
    assert_one_warning_line(caplog)
    assert "OperationalError" in problems(caplog)[0].getMessage()


def test_database_unavailable_outside_the_api_is_a_plain_503(caplog, client, people):
    client.force_login(people["alice"])
    client.raise_request_exception = False
    caplog.set_level(logging.INFO)
    with database_down():
        response = client.get("/admin/")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Content-Type"].startswith("text/plain")
    assert_one_warning_line(caplog)


def test_health_probe_logs_one_line_when_the_database_is_down(caplog, client):
    caplog.set_level(logging.INFO)
    with database_down():
        assert client.get("/healthz").status_code == 503
    assert_one_warning_line(caplog)


def test_a_real_unreachable_database_gets_503s_and_one_line_each():
    """End to end, in a process of its own whose DATABASE_URL names a closed
    port: no mock, the driver itself fails to connect."""
    script = """
from django.test import Client
client = Client(raise_request_exception=False)
for path in ("/api/me/", "/api/channels/"):
    response = client.get(path, HTTP_AUTHORIZATION="Token " + "a" * 64)  # a well-formed key
    print(response.status_code, response["Content-Type"], response.get("Retry-After"), response.content.decode())
response = client.get("/healthz")
print(response.status_code, response["Content-Type"], response.get("Retry-After"), response.content.decode())
"""
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://postgres@127.0.0.1:9/unreachable",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "x" * 50,
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_LOG_FORMAT": "text",
        "DJANGO_LOG_LEVEL": "INFO",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3, result.stdout
    for line in lines[:2]:
        assert line.startswith("503 application/json 5 "), line
    assert lines[2].startswith("503 application/json None "), lines[2]
    assert "Traceback" not in result.stderr
    log = [line for line in result.stderr.splitlines() if re.match(r"\d{4}-\d\d-\d\d ", line)]
    problems_logged = [line for line in log if " workspace.request " not in line]
    assert len(problems_logged) == 3, log  # one warning per request, the probe's included
    assert all(" WARNING " in line for line in problems_logged), log


# --- the schema says so ------------------------------------------------------------


def test_the_schema_documents_413_and_503_with_retry_after(tmp_path):
    import yaml
    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "schema.yaml"))
    schema = yaml.safe_load((tmp_path / "schema.yaml").read_text())
    methods = {"get", "post", "put", "patch", "delete"}
    operations = [(p, m, op) for p, item in schema["paths"].items() for m, op in item.items() if m in methods]
    assert operations
    for path, method, operation in operations:
        label = f"{method.upper()} {path}"
        unavailable = operation["responses"].get("503")
        assert unavailable, label
        assert unavailable["headers"]["Retry-After"]["required"] is True, label
        if "requestBody" in operation:
            assert "413" in operation["responses"], label


@pytest.mark.parametrize("path", ["/api/auth/token/", "/admin/login/"])
def test_logins_with_the_throttle_store_unreachable_are_a_503_not_a_500(caplog, path, db):
    """Redis (the login throttle's counters) down: the login cannot be
    counted, so it is refused as unavailable, with Retry-After, in one line."""
    import redis.exceptions
    from axes.handlers.cache import AxesCacheHandler

    from companies.factories import UserFactory

    UserFactory(username="ada", password="s3cret-pass")
    down = redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
    with (
        mock.patch.object(AxesCacheHandler, "is_locked", side_effect=down),
        mock.patch("workspace.login_throttle.CacheHandler.is_locked", side_effect=down),
    ):
        response = Client().post(path, {"username": "ada", "password": "wrong"}, REMOTE_ADDR="10.0.0.7")
    assert response.status_code == 503
    assert response["Retry-After"]
    if path.startswith("/api/"):
        assert response["Content-Type"].startswith("application/json")
    assert not [r for r in caplog.records if r.exc_info]
