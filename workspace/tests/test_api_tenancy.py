"""Cross-tenant matrix of the API (OWASP API1, docs/api.md "Permissions").

For every object route and every method, a person of tenant B (an admin, the
most privileged role, and a plain member) naming an object of tenant A gets
exactly the 404 of a missing id, and tenant A's rows are unchanged.
"""

from datetime import UTC, datetime
from urllib.parse import quote

import pytest

from meetings.services import meeting_create
from workspace.testing import build_populated_tenant, diff_snapshots, snapshot_tenant_rows

pytestmark = pytest.mark.django_db

MISSING = 987_654_321


@pytest.fixture
def tenants():
    return build_populated_tenant(slug="tenant-a"), build_populated_tenant(slug="tenant-b")


def object_routes(a, b):
    """(method, path, body) for every object route, naming tenant A's objects.
    Bodies are valid, so that nothing but the object can be refused."""
    channel = a.channels[0]  # public: visible to everybody in A
    message = a.messages[0]
    meeting = a.meetings[0]
    user = a.members[0]
    emoji = quote(a.reactions[0].emoji)
    when = {"starts_at": "2031-01-01T10:00:00Z", "ends_at": "2031-01-01T11:00:00Z"}
    return [
        ("get", f"/api/users/{user.pk}/", None),
        ("get", f"/api/channels/{channel.pk}/", None),
        ("patch", f"/api/channels/{channel.pk}/", {"topic": "pwned"}),
        ("delete", f"/api/channels/{channel.pk}/", None),
        ("get", f"/api/channels/{channel.pk}/members/", None),
        ("post", f"/api/channels/{channel.pk}/members/", {"user": b.admin.pk}),
        ("delete", f"/api/channels/{channel.pk}/members/{user.pk}/", None),
        ("get", f"/api/channels/{channel.pk}/messages/", None),
        ("post", f"/api/channels/{channel.pk}/messages/", {"body": "hello from B"}),
        ("post", f"/api/channels/{channel.pk}/read/", {"message": message.pk}),
        ("get", f"/api/messages/{message.pk}/", None),
        ("patch", f"/api/messages/{message.pk}/", {"body": "pwned"}),
        ("delete", f"/api/messages/{message.pk}/", None),
        ("post", f"/api/messages/{message.pk}/reactions/", {"emoji": "🦠"}),
        ("delete", f"/api/messages/{message.pk}/reactions/{emoji}/", None),
        ("get", f"/api/meetings/{meeting.pk}/", None),
        ("patch", f"/api/meetings/{meeting.pk}/", {"title": "pwned", **when}),
        ("delete", f"/api/meetings/{meeting.pk}/", None),
        ("post", f"/api/meetings/{meeting.pk}/participants/", {"user": b.admin.pk}),
        ("delete", f"/api/meetings/{meeting.pk}/participants/{user.pk}/", None),
        ("post", f"/api/meetings/{meeting.pk}/rsvp/", {"response": "declined"}),
        ("post", f"/api/meetings/{meeting.pk}/join/", None),
        ("post", f"/api/meetings/{meeting.pk}/leave/", None),
    ]


def missing_path(path: str, a) -> str:
    """The same route with every id of tenant A replaced by a missing one."""
    parts = path.split("/")
    return "/".join(str(MISSING) if part.isdigit() else part for part in parts)


@pytest.mark.parametrize("role", ["admin", "member"])
def test_every_object_route_answers_404_to_another_tenant(client_for, tenants, role):
    a, b = tenants
    caller = b.admin if role == "admin" else b.members[0]
    client = client_for(caller)
    before = snapshot_tenant_rows(a.company)
    checked = 0
    for method, path, body in object_routes(a, b):
        response = getattr(client, method)(path, body, format="json")
        assert response.status_code == 404, (method, path, response.status_code, response.content)
        # Indistinguishable from an id that names nothing at all.
        missing = getattr(client, method)(missing_path(path, a), body, format="json")
        assert missing.status_code == 404, (method, missing_path(path, a))
        checked += 1
    assert checked == 23
    assert diff_snapshots(before, snapshot_tenant_rows(a.company)) == []


def test_ids_of_another_tenant_in_bodies_and_filters_read_as_missing(client_for, tenants):
    a, b = tenants
    client = client_for(b.admin)
    own_channel = b.channels[0]
    before = snapshot_tenant_rows(a.company)

    response = client.post("/api/channels/", {"name": "x", "members": [a.members[0].pk]}, format="json")
    assert response.status_code == 400 and "members" in response.json()
    response = client.post(f"/api/channels/{own_channel.pk}/members/", {"user": a.members[0].pk}, format="json")
    assert response.status_code == 400 and "user" in response.json()
    response = client.post(
        f"/api/channels/{own_channel.pk}/messages/", {"body": "x", "parent": a.messages[0].pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"parent": [f"No message with id {a.messages[0].pk}."]}
    when = {"title": "x", "starts_at": "2031-01-01T10:00:00Z", "ends_at": "2031-01-01T11:00:00Z"}
    response = client.post("/api/meetings/", {**when, "participants": [a.admin.pk]}, format="json")
    assert response.status_code == 400 and "participants" in response.json()
    response = client.post("/api/meetings/", {**when, "channel": a.channels[0].pk}, format="json")
    assert response.status_code == 400 and "channel" in response.json()
    own_meeting = meeting_create(
        organizer=b.admin,
        title="x",
        starts_at=datetime(2031, 1, 1, 10, tzinfo=UTC),
        ends_at=datetime(2031, 1, 1, 11, tzinfo=UTC),
    )
    response = client.post(f"/api/meetings/{own_meeting.pk}/participants/", {"user": a.members[0].pk}, format="json")
    assert response.status_code == 400 and "user" in response.json()
    response = client.delete(f"/api/meetings/{own_meeting.pk}/participants/{a.members[0].pk}/")
    assert response.status_code == 404
    # A's member in B's channel path: not a member here.
    response = client.delete(f"/api/channels/{own_channel.pk}/members/{a.members[0].pk}/")
    assert response.status_code == 404
    # Filters never widen the scope.
    response = client.get(f"/api/channels/{own_channel.pk}/messages/?parent={a.messages[0].pk}")
    assert response.status_code == 200 and response.json()["results"] == []
    response = client.get(f"/api/attendance/?user={a.members[0].pk}")
    assert response.status_code == 200 and response.json()["results"] == []

    assert diff_snapshots(before, snapshot_tenant_rows(a.company)) == []


def test_lists_never_show_another_tenant(client_for, tenants):
    a, b = tenants
    client = client_for(b.admin)
    a_ids = {
        "/api/users/": {u.pk for u in a.users},
        "/api/channels/": {c.pk for c in a.channels},
        "/api/meetings/": {m.pk for m in a.meetings},
        "/api/attendance/": {x.pk for x in a.attendances},
    }
    for path, foreign in a_ids.items():
        ids = {row["id"] for row in client.get(path).json()["results"]}
        assert ids and not ids & foreign, path
