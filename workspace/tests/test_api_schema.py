"""The OpenAPI schema (/api/schema/) and the interactive docs (/api/docs/)."""

import re

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db

# The contract (DESIGN.md, "API"): path -> methods, exactly.
CONTRACT = {
    "/api/auth/token/": {"post"},
    "/api/me/": {"get"},
    "/api/users/": {"get"},
    "/api/users/{id}/": {"get"},
    "/api/channels/": {"get", "post"},
    "/api/channels/{id}/": {"get", "patch", "delete"},
    "/api/channels/{id}/members/": {"get", "post"},
    "/api/channels/{id}/members/{user_id}/": {"delete"},
    "/api/channels/{id}/messages/": {"get", "post"},
    "/api/messages/{id}/": {"get", "patch", "delete"},
    "/api/messages/{id}/reactions/": {"post"},
    "/api/messages/{id}/reactions/{emoji}/": {"delete"},
    "/api/meetings/": {"get", "post"},
    "/api/meetings/{id}/": {"get", "patch", "delete"},
    "/api/meetings/{id}/rsvp/": {"post"},
    "/api/meetings/{id}/join/": {"post"},
    "/api/meetings/{id}/leave/": {"post"},
    "/api/attendance/": {"get"},
    "/api/attendance/check-in/": {"post"},
    "/api/attendance/check-out/": {"post"},
}
METHODS = {"get", "post", "put", "patch", "delete", "head", "options", "trace"}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def test_generation_has_no_warning_and_validates(tmp_path):
    # The CI gate: `manage.py spectacular --fail-on-warn --validate`.
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "schema.yaml"))
    assert yaml.safe_load((tmp_path / "schema.yaml").read_text())["openapi"].startswith("3.")


def test_paths_and_methods_are_exactly_the_contract(schema):
    documented = {path: {m for m in item if m in METHODS} for path, item in schema["paths"].items()}
    assert documented == CONTRACT


def test_every_operation_documents_its_errors(schema):
    for path, method, operation in operations(schema):
        codes = set(operation["responses"])
        label = f"{method.upper()} {path}"
        if path != "/api/auth/token/":
            assert {"401"} <= codes, label
            assert operation["security"] == [{"tokenAuth": []}, {"cookieAuth": []}], label
        if "{id}" in path:
            assert "404" in codes, label
        if "requestBody" in operation:
            assert {"400", "415"} <= codes, label
            assert set(operation["requestBody"]["content"]) >= {"application/json"}, label
        for code, response in operation["responses"].items():
            if code.startswith("4"):
                assert "application/json" in response["content"], (label, code)


def test_ids_and_dates_have_formats(schema):
    for path, method, operation in operations(schema):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path" and parameter["name"] != "emoji":
                assert parameter["schema"] == {
                    "type": "integer", "format": "int64", "minimum": 1, "maximum": 2**63 - 1
                }, (path, parameter)
            if parameter["name"] in {"since", "before"}:
                assert parameter["schema"]["format"] == "date-time", (path, parameter)
    components = schema["components"]["schemas"]
    assert components["Message"]["properties"]["id"]["format"] == "int64"
    assert components["Meeting"]["properties"]["starts_at"]["format"] == "date-time"
    assert components["MeetingCreateRequest"]["properties"]["participants"]["items"]["format"] == "int64"


def test_required_texts_refuse_blank_in_the_schema(schema):
    components = schema["components"]["schemas"]
    for component, field in [
        ("ChannelCreateRequest", "name"),
        ("MessageCreateRequest", "body"),
        ("PatchedMessageUpdateRequest", "body"),
        ("ReactionCreateRequest", "emoji"),
        ("MeetingCreateRequest", "title"),
    ]:
        prop = components[component]["properties"][field]
        assert prop["minLength"] == 1, component
        pattern = re.compile(prop["pattern"])
        assert pattern.search("ok") and not pattern.search("   ") and not pattern.search("a\x00b"), component
        # Exactly what DRF's trim (str.strip) leaves: \x1d is stripped, \ufeff is not.
        assert not pattern.search("\x1d\x85\u3000") and pattern.search("\ufeff"), component


def test_swagger_ui_is_served_without_any_cdn(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "an external asset"
    assert "/api/schema/" in html


def test_optional_texts_are_empty_or_a_text_without_nul_and_never_both(schema):
    # `oneOf` demands exactly one branch: "" must not match the pattern branch.
    topic = schema["components"]["schemas"]["ChannelCreateRequest"]["properties"]["topic"]
    text, empty = topic["oneOf"]
    assert empty == {"type": "string", "maxLength": 0}
    pattern = re.compile(text["pattern"])
    assert not pattern.search("") and pattern.search(" ") and not pattern.search("a\x00")
    assert text["maxLength"] == 250
