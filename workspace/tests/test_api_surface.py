"""The production surface (docs/api.md, "Production surface"): the Content
Security Policy of the HTML pages, Cache-Control on API responses, JSON-only
renderers with DEBUG off, and the schema/docs behind authentication.

Settings that depend on DJANGO_DEBUG are computed at import: those defaults
are checked in a subprocess with production variables (as test_deploy.py
does); the behaviour behind them in-process with override_settings."""

import json
import re
import sys

import pytest
from django.test import override_settings

from workspace.tests.test_deploy import production_env, run

pytestmark = pytest.mark.django_db


def csp_of(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def nonce_of(response) -> str:
    (nonce,) = [v[len("'nonce-") : -1] for v in csp_of(response)["script-src"] if v.startswith("'nonce-")]
    return nonce


# --- Content Security Policy -------------------------------------------------


def assert_strict_policy(response):
    policy = csp_of(response)
    assert policy["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
    assert "'unsafe-inline'" not in policy["style-src"]
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["form-action"] == ["'self'"]


def assert_inline_blocks_carry_the_nonce(response):
    """Every inline <script> that runs and every inline <style> has the
    header's nonce; every external script and stylesheet is same-origin."""
    html = response.content.decode()
    nonce = nonce_of(response)
    for tag, attrs, body in re.findall(r"<(script|style)\b([^>]*)>(.*?)</\1>", html, flags=re.S):
        if tag == "script" and re.search(r"""type=["']application/json["']""", attrs):
            continue  # a data block: never executed
        if tag == "script" and "src=" in attrs:
            assert not re.search(r"""src=["']?(https?:)?//""", attrs), attrs
            continue
        assert f'nonce="{nonce}"' in attrs, (tag, attrs, body[:80])
    assert not re.search(r"""<link[^>]+href=["']?(https?:)?//""", html)
    assert not re.search(r"\son[a-z]+=", html), "an inline event handler"


def test_admin_pages_have_the_policy(client, people):
    login = client.get("/admin/login/")
    assert login.status_code == 200
    assert_strict_policy(login)
    assert_inline_blocks_carry_the_nonce(login)

    superuser = people["admin"]
    superuser.is_staff = superuser.is_superuser = True
    superuser.save()
    client.force_login(superuser)
    for url in ("/admin/", "/admin/chat/channel/", "/admin/companies/user/add/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict_policy(response)


def test_swagger_ui_runs_its_inline_blocks_with_the_nonce(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert_strict_policy(response)
    assert_inline_blocks_carry_the_nonce(response)
    html = response.content.decode()
    assert html.count(f'nonce="{nonce_of(response)}"') >= 4  # style, 2 bundles, the init script
    # A new nonce per response.
    assert nonce_of(client.get("/api/docs/")) != nonce_of(response)


def test_browsable_api_has_the_policy(client, people):
    from rest_framework.settings import api_settings

    if not any(r.__name__ == "BrowsableAPIRenderer" for r in api_settings.DEFAULT_RENDERER_CLASSES):
        pytest.skip("browsable API off (API_BROWSABLE=0)")
    client.force_login(people["alice"])
    response = client.get("/api/users/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert_strict_policy(response)
    # Its inline <style> (code highlighting) carries the nonce; no inline script runs.
    assert "<style nonce=" in response.content.decode()
    assert_inline_blocks_carry_the_nonce(response)


def test_json_responses_have_the_policy_too(client_for, people):
    assert_strict_policy(client_for(people["alice"]).get("/api/me/"))


# --- Cache-Control -------------------------------------------------------------


def assert_no_store(response):
    assert "no-store" in response.headers.get("Cache-Control", ""), dict(response.headers)


def test_api_responses_are_not_stored(client_for, people, api_client):
    client = client_for(people["alice"])
    assert_no_store(client.get("/api/me/"))
    assert_no_store(client.get("/api/users/"))
    assert_no_store(client.get(f"/api/users/{people['bob'].pk}/"))
    assert_no_store(client.post("/api/channels/", {"name": "ops"}, format="json"))
    # Errors too: unauthenticated, unknown path, bad input.
    assert_no_store(api_client.get("/api/me/"))
    assert_no_store(client.get("/api/nothing-here/"))
    assert_no_store(client.post("/api/channels/", {"name": ""}, format="json"))


def test_the_token_endpoint_is_not_stored(api_client, people):
    ok = api_client.post(
        "/api/auth/token/", {"username": people["bob"].username, "password": "password"}, format="json"
    )
    assert ok.status_code == 200 and "token" in ok.json()
    assert_no_store(ok)
    assert_no_store(
        api_client.post("/api/auth/token/", {"username": people["bob"].username, "password": "x"}, format="json")
    )


def test_pages_outside_the_api_keep_their_own_caching(client):
    response = client.get("/api/docs/")
    assert_no_store(response)  # under /api/
    static = client.get("/static/admin/css/base.css")
    assert "no-store" not in static.headers.get("Cache-Control", "")


# --- Docs behind authentication --------------------------------------------------


@override_settings(API_DOCS_PUBLIC=False)
def test_private_docs_need_authentication(api_client, client, client_for, people):
    schema = api_client.get("/api/schema/")
    assert schema.status_code == 401
    assert schema["WWW-Authenticate"].startswith("Token")
    assert schema.json()["detail"]
    # A browser is sent to the admin login, and back.
    docs = client.get("/api/docs/")
    assert docs.status_code == 302
    assert docs["Location"] == "/admin/login/?next=%2Fapi%2Fdocs%2F"

    assert client_for(people["alice"]).get("/api/schema/").status_code == 200
    client.force_login(people["alice"])
    assert client.get("/api/docs/").status_code == 200
    assert client.get("/api/schema/").status_code == 200  # what Swagger UI fetches, with the session


@override_settings(API_DOCS_PUBLIC=True)
def test_public_docs_need_nothing(api_client):
    assert api_client.get("/api/schema/").status_code == 200
    assert api_client.get("/api/docs/").status_code == 200


# --- Production defaults (subprocess: DEBUG is read at import) -------------------

PROBE = r"""
import json
from django.conf import settings
from django.test import Client
from rest_framework.settings import api_settings
client = Client(raise_request_exception=False)
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
html = client.get("/api/users/", HTTP_ACCEPT=BROWSER, secure=True)
only_html = client.get("/api/users/", HTTP_ACCEPT="text/html", secure=True)
schema = client.get("/api/schema/", secure=True)
docs = client.get("/api/docs/", secure=True)
print(json.dumps({
    "renderers": [r.__name__ for r in api_settings.DEFAULT_RENDERER_CLASSES],
    "users_html": [html.status_code, html["Content-Type"]],
    "users_only_html": [only_html.status_code, only_html["Content-Type"]],
    "schema": [schema.status_code, schema["Content-Type"]],
    "docs": docs.status_code,
    "csp": html.get("Content-Security-Policy", ""),
    "cache": html.get("Cache-Control", ""),
}))
"""


def probe(**env) -> dict:
    result = run([sys.executable, "manage.py", "shell", "-v", "0", "-c", PROBE], production_env(**env))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_defaults_json_only_docs_private_csp():
    seen = probe()
    assert seen["renderers"] == ["JSONRenderer"]
    # A browser asking for HTML gets the API's JSON (here the 401), never the browsable page.
    assert seen["users_html"] == [401, "application/json"]
    assert seen["users_only_html"] == [406, "application/json"]  # HTML only: not acceptable
    assert seen["schema"] == [401, "application/json"]
    assert seen["docs"] == 302  # to the admin login
    # (no nonce in the header when the page used none: a JSON answer)
    assert "script-src 'self';" in seen["csp"] and "frame-ancestors 'none'" in seen["csp"]
    assert "no-store" in seen["cache"]


def test_production_overrides_and_development_defaults():
    overridden = probe(API_DOCS_PUBLIC="1", API_BROWSABLE="1")
    assert overridden["renderers"] == ["JSONRenderer", "BrowsableAPIRenderer"]
    assert overridden["schema"][0] == 200
    # (The HTML pages need `collectstatic` with DEBUG off: not run here.)

    development = probe(DJANGO_DEBUG="1")
    assert development["renderers"] == ["JSONRenderer", "BrowsableAPIRenderer"]
    assert development["users_html"][1].startswith("text/html")
    assert development["schema"][0] == 200 and development["docs"] == 200
