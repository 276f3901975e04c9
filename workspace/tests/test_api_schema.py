"""The OpenAPI schema (/api/schema/) and the interactive docs (/api/docs/)."""

import re

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db

# The contract (DESIGN.md, "API"): path -> methods, exactly.
CONTRACT = {
    "/api/auth/token/": {"post", "delete"},
    "/api/auth/tokens/": {"delete"},
    "/api/me/": {"get"},
    "/api/company/": {"get", "patch"},
    "/api/company/deactivate/": {"post"},
    "/api/company-purges/": {"get"},
    "/api/company-purges/{id}/": {"get"},
    "/api/users/": {"get"},
    "/api/users/{id}/": {"get"},
    "/api/channels/": {"get", "post"},
    "/api/channels/{id}/": {"get", "patch", "delete"},
    "/api/channels/{id}/read/": {"post"},
    "/api/channels/{id}/members/": {"get", "post"},
    "/api/channels/{id}/members/{user_id}/": {"delete"},
    "/api/channels/{id}/messages/": {"get", "post"},
    "/api/messages/{id}/": {"get", "patch", "delete"},
    "/api/messages/{id}/reactions/": {"post"},
    "/api/messages/{id}/reactions/{emoji}/": {"delete"},
    "/api/meetings/": {"get", "post"},
    "/api/meetings/{id}/": {"get", "patch", "delete"},
    "/api/meetings/{id}/participants/": {"post"},
    "/api/meetings/{id}/participants/{user_id}/": {"delete"},
    "/api/meetings/{id}/rsvp/": {"post"},
    "/api/meetings/{id}/join/": {"post"},
    "/api/meetings/{id}/leave/": {"post"},
    "/api/attendance/": {"get"},
    "/api/attendance/check-in/": {"post"},
    "/api/attendance/check-out/": {"post"},
    # Data lifecycle (DESIGN.md "Additions": paths the project's; docs/api.md)
    "/api/users/{id}/erase-preview/": {"get"},
    "/api/channels/{id}/delete-preview/": {"get"},
    "/api/company/retention-preview/": {"get"},
    "/api/company/purge-preview/": {"get"},
    "/api/company/deletion-receipts/": {"get"},
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
        if (path, method) == ("/api/auth/token/", "post"):
            # The login: public, throttled.
            assert {"200", "400", "415", "429"} <= codes, label
            assert "Retry-After" in operation["responses"]["429"]["headers"], label
        elif (path, method) == ("/api/auth/token/", "delete"):
            # Revokes the token of the request: token authentication only.
            assert {"204", "401"} <= codes, label
            assert operation["security"] == [{"tokenAuth": []}], label
        else:
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
                    "type": "integer",
                    "format": "int64",
                    "minimum": 1,
                    "maximum": 2**63 - 1,
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


# --- The schema is true for every row the database can hold ----------------
# seed_demo fills every optional field; real data does not. Each response below
# is validated against the generated schema (OpenAPI 3.0 made JSON Schema:
# `nullable` becomes a null branch), formats checked, on the edge rows of
# workspace/edge_rows.py: empty e-mail and names, a stored e-mail that is not
# an address, null last_active, an inactive person, a platform superuser, a
# channel with no topic/creator/message, a meeting with no description/channel,
# an open attendance, a company slug the form would refuse.


def _as_json_schema(node):
    if isinstance(node, list):
        return [_as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _as_json_schema(value) for key, value in node.items() if key not in {"nullable", "example"}}
    if node.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


@pytest.fixture(scope="module")
def response_validator(schema):
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    document = _as_json_schema(schema)
    registry = Registry().with_resource("urn:api", Resource.from_contents(document, DRAFT202012))

    def validate(path: str, method: str, response) -> None:
        status = str(response.status_code)
        assert "application/json" in schema["paths"][path][method]["responses"][status]["content"]
        escaped = path.replace("~", "~0").replace("/", "~1")
        pointer = f"/paths/{escaped}/{method}/responses/{status}/content/application~1json/schema"
        validator = Draft202012Validator(
            {"$ref": f"urn:api#{pointer}"},
            registry=registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )
        errors = sorted(validator.iter_errors(response.json()), key=lambda error: list(error.absolute_path))
        assert not errors, f"{method.upper()} {path} {status}: " + "; ".join(
            f"{list(error.absolute_path)}: {error.message}" for error in errors
        )

    return validate


@pytest.fixture
def edge(company, people):
    from companies.models import Company
    from workspace.edge_rows import add_edge_rows, add_platform_superuser

    rows = add_edge_rows(company, password="password")
    rows.platform = add_platform_superuser(password="password")
    # The database refuses only an empty slug; a form would refuse this one.
    Company.objects.filter(pk=company.pk).update(slug="Edge Co.")
    return rows


def test_edge_rows_hold_the_edge_values(edge):
    assert edge.blank.email == "" and edge.blank.first_name == "" and edge.blank.last_name == ""
    assert edge.blank.last_active is None and not edge.blank.messages.exists()
    assert edge.odd_email.email == "not-an-address"
    assert not edge.inactive.is_active
    assert edge.platform.company_id is None and edge.platform.email == ""
    assert edge.channel.topic == "" and edge.channel.created_by_id is None
    assert edge.channel.last_message_at is None
    assert edge.meeting.description == "" and edge.meeting.channel_id is None
    assert edge.attendance.check_out is None


def test_responses_on_edge_rows_match_the_schema(edge, people, client_for, response_validator):
    admin = client_for(people["admin"])
    reads = [
        (client_for(edge.blank), "/api/me/", "/api/me/"),
        (client_for(edge.odd_email), "/api/me/", "/api/me/"),
        (client_for(edge.platform), "/api/me/", "/api/me/"),
        (admin, "/api/me/", "/api/me/"),
        (admin, "/api/users/", "/api/users/"),
        (admin, f"/api/users/{edge.blank.pk}/", "/api/users/{id}/"),
        (admin, f"/api/users/{edge.odd_email.pk}/", "/api/users/{id}/"),
        (admin, f"/api/users/{edge.inactive.pk}/", "/api/users/{id}/"),
        (admin, "/api/channels/", "/api/channels/"),
        (admin, f"/api/channels/{edge.channel.pk}/", "/api/channels/{id}/"),
        (admin, f"/api/channels/{edge.channel.pk}/members/", "/api/channels/{id}/members/"),
        (admin, f"/api/channels/{edge.channel.pk}/messages/", "/api/channels/{id}/messages/"),
        (admin, "/api/meetings/", "/api/meetings/"),
        (admin, f"/api/meetings/{edge.meeting.pk}/", "/api/meetings/{id}/"),
        (admin, "/api/attendance/", "/api/attendance/"),
    ]
    for client, url, path in reads:
        response = client.get(url)
        assert response.status_code == 200, (url, response.content)
        response_validator(path, "get", response)

    # A message with no reaction and no reply, read back.
    admin.post(f"/api/channels/{edge.channel.pk}/members/", {"user": people["admin"].pk}, format="json")
    posted = admin.post(f"/api/channels/{edge.channel.pk}/messages/", {"body": "first"}, format="json")
    assert posted.status_code == 201, posted.content
    response_validator("/api/channels/{id}/messages/", "post", posted)
    response_validator("/api/messages/{id}/", "get", admin.get(f"/api/messages/{posted.json()['id']}/"))


def test_an_email_the_schema_cannot_describe_is_null(edge, people, client_for):
    admin = client_for(people["admin"])
    by_id = {user["id"]: user for user in admin.get("/api/users/").json()["results"]}

    assert by_id[edge.blank.pk]["email"] is None  # "" in the database
    assert by_id[edge.odd_email.pk]["email"] is None  # not an address
    assert by_id[people["alice"].pk]["email"] == people["alice"].email
    assert by_id[edge.blank.pk]["first_name"] == "" and by_id[edge.blank.pk]["last_active"] is None
    me = client_for(edge.platform).get("/api/me/").json()
    assert me["email"] is None and me["company"] is None


def test_response_schemas_promise_only_what_the_database_guarantees(schema):
    components = schema["components"]["schemas"]
    for name in ("User", "Me"):
        email = components[name]["properties"]["email"]
        assert email["nullable"] is True and email["format"] == "email", name
    # The slug column refuses only "": no pattern promised in responses.
    assert components["Company"]["properties"]["slug"] == {"type": "string", "readOnly": True, "minLength": 1}
    # No response text claims a pattern or a minimum length the database does
    # not enforce (the request components are where those belong).
    for name, component in components.items():
        if name.endswith(("Request", "Error", "Conflict")):
            continue
        for prop, value in component.get("properties", {}).items():
            if (name, prop) in {("Company", "slug"), ("CompanySettings", "slug")}:
                continue
            assert "pattern" not in value and "minLength" not in value, (name, prop)
