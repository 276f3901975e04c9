"""API of meetings: create, change, cancel, RSVP, join, leave (docs/api.md)."""

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.utils import timezone

from chat.services import channel_create
from companies.factories import UserFactory
from meetings.factories import MeetingFactory
from meetings.models import Meeting, MeetingParticipant
from meetings.services import meeting_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def start():
    return (timezone.now() + timedelta(days=1)).replace(microsecond=0)


@pytest.fixture
def meeting(people, start):
    return meeting_create(
        organizer=people["alice"],
        title="Sync",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        participants=[people["bob"]],
    )


def iso(value):
    return value.isoformat().replace("+00:00", "Z")


# --- create ----------------------------------------------------------------------


def test_create_meeting(client_for, people, start, company):
    body = {
        "title": " Planning ",
        "description": "Q3",
        "starts_at": iso(start),
        "ends_at": iso(start + timedelta(minutes=30)),
        "participants": [people["bob"].pk, people["carol"].pk, people["bob"].pk],
    }
    response = client_for(people["alice"]).post("/api/meetings/", body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    meeting = Meeting.objects.get(pk=data["id"])
    assert (meeting.title, meeting.organizer, meeting.company) == ("Planning", people["alice"], company)
    responses = {p["user"]: p["response"] for p in data["participants"]}
    assert responses == {people["alice"].pk: "accepted", people["bob"].pk: "pending", people["carol"].pk: "pending"}
    assert data["starts_at"] == iso(start)


def test_create_with_offset_stores_utc(client_for, people):
    body = {"title": "x", "starts_at": "2030-01-01T10:00:00+02:00", "ends_at": "2030-01-01T11:00:00+02:00"}
    data = client_for(people["alice"]).post("/api/meetings/", body, format="json").json()
    assert data["starts_at"] == "2030-01-01T08:00:00Z"


def test_ends_at_not_after_starts_at_is_400_naming_ends_at(client_for, people, start):
    for end in (start, start - timedelta(minutes=1)):
        body = {"title": "x", "starts_at": iso(start), "ends_at": iso(end)}
        response = client_for(people["alice"]).post("/api/meetings/", body, format="json")
        assert response.status_code == 400
        assert "ends_at" in response.json()
    assert not Meeting.objects.exists()


@pytest.mark.parametrize(
    "change, field",
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": None}, "title"),
        ({"starts_at": "tomorrow"}, "starts_at"),
        ({"starts_at": "2030-01-01T10:00:00"}, "starts_at"),  # no offset
        ({"starts_at": "2030-02-30T10:00:00Z"}, "starts_at"),
        ({"starts_at": 1700000000}, "starts_at"),
        ({"ends_at": "0001-01-01T00:00:00+05:00"}, "ends_at"),  # not representable in UTC
        ({"participants": "1"}, "participants"),
        ({"participants": [True]}, "participants"),
        ({"participants": [987654321]}, "participants"),
        ({"channel": 987654321}, "channel"),
        ({"channel": "1"}, "channel"),
    ],
)
def test_invalid_meeting_is_400_naming_the_field(client_for, people, start, change, field):
    body = {"title": "x", "starts_at": iso(start), "ends_at": iso(start + timedelta(hours=1)), **change}
    response = client_for(people["alice"]).post("/api/meetings/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Meeting.objects.exists()


def test_participant_from_another_company_is_400(client_for, people, start, other_company):
    stranger = UserFactory(company=other_company)
    body = {
        "title": "x",
        "starts_at": iso(start),
        "ends_at": iso(start + timedelta(hours=1)),
        "participants": [stranger.pk],
    }
    response = client_for(people["alice"]).post("/api/meetings/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"participants": [f"No user with id {stranger.pk} in your company."]}
    assert not Meeting.objects.exists()


def test_meeting_in_a_channel_you_can_see(client_for, people, start, company):
    private = channel_create(company=company, name="secret", created_by=people["bob"], is_private=True)
    public = channel_create(company=company, name="general", created_by=people["bob"])
    body = {"title": "x", "starts_at": iso(start), "ends_at": iso(start + timedelta(hours=1))}
    client = client_for(people["alice"])
    response = client.post("/api/meetings/", {**body, "channel": private.pk}, format="json")
    assert response.status_code == 400 and "channel" in response.json()
    response = client.post("/api/meetings/", {**body, "channel": public.pk}, format="json")
    assert response.status_code == 201 and response.json()["channel"] == public.pk


# --- list / retrieve ------------------------------------------------------------


def test_list_by_start_and_tenant_scoped(client_for, people, start, meeting):
    later = MeetingFactory(
        company=meeting.company,
        organizer=people["carol"],
        starts_at=start + timedelta(days=1),
        ends_at=start + timedelta(days=1, hours=1),
    )
    MeetingFactory()  # another tenant
    data = client_for(people["carol"]).get("/api/meetings/").json()
    assert [m["id"] for m in data["results"]] == [meeting.pk, later.pk]


def test_date_range_filter_selects_overlapping_meetings(client_for, people, start, meeting):
    client = client_for(people["bob"])

    def ids(query):
        return [m["id"] for m in client.get(f"/api/meetings/?{query}").json()["results"]]

    during = quote(iso(start + timedelta(minutes=30)))
    after = quote(iso(start + timedelta(hours=1)))
    assert ids(f"since={during}") == [meeting.pk]
    assert ids(f"since={after}") == []  # it has ended by then
    assert ids(f"before={quote(iso(start))}") == []  # it has not started before then
    assert ids(f"since={quote(iso(start - timedelta(days=1)))}&before={during}") == [meeting.pk]


@pytest.mark.parametrize("query", ["since=x", "since=", "before=2030-01-01", "before=2030-01-01T00:00:00"])
def test_malformed_meeting_filter_is_400(client_for, people, query):
    response = client_for(people["bob"]).get(f"/api/meetings/?{query}")
    assert response.status_code == 400 and query.split("=")[0] in response.json()


def test_meeting_in_a_private_channel_is_hidden_from_outsiders(client_for, people, start, company):
    private = channel_create(company=company, name="secret", created_by=people["bob"], is_private=True)
    hidden = meeting_create(
        organizer=people["bob"], title="secret", starts_at=start, ends_at=start + timedelta(hours=1), channel=private
    )
    assert client_for(people["carol"]).get(f"/api/meetings/{hidden.pk}/").status_code == 404
    assert client_for(people["carol"]).get("/api/meetings/").json()["results"] == []
    assert client_for(people["bob"]).get(f"/api/meetings/{hidden.pk}/").status_code == 200


# --- update / delete --------------------------------------------------------------


def test_organizer_reschedules(client_for, people, start, meeting):
    body = {"starts_at": iso(start + timedelta(hours=2)), "ends_at": iso(start + timedelta(hours=3))}
    response = client_for(people["alice"]).patch(f"/api/meetings/{meeting.pk}/", body, format="json")
    assert response.status_code == 200
    meeting.refresh_from_db()
    assert meeting.starts_at == start + timedelta(hours=2)


def test_patch_checks_the_order_against_the_stored_times(client_for, people, start, meeting):
    body = {"starts_at": iso(start + timedelta(hours=5))}  # after the stored ends_at
    response = client_for(people["alice"]).patch(f"/api/meetings/{meeting.pk}/", body, format="json")
    assert response.status_code == 400 and "starts_at" in response.json()
    meeting.refresh_from_db()
    assert meeting.starts_at == start


def test_only_the_organizer_changes_or_cancels(client_for, people, meeting):
    for name in ("bob", "admin"):
        client = client_for(people[name])
        assert client.patch(f"/api/meetings/{meeting.pk}/", {"title": "mine"}, format="json").status_code == 403
        assert client.delete(f"/api/meetings/{meeting.pk}/").status_code == 403
    meeting.refresh_from_db()
    assert meeting.title == "Sync"
    assert client_for(people["alice"]).delete(f"/api/meetings/{meeting.pk}/").status_code == 204
    assert not Meeting.objects.filter(pk=meeting.pk).exists()
    assert not MeetingParticipant.objects.filter(meeting_id=meeting.pk).exists()


def test_patch_channel_to_null_and_blank_title(client_for, people, meeting):
    client = client_for(people["alice"])
    assert client.patch(f"/api/meetings/{meeting.pk}/", {"channel": None}, format="json").status_code == 200
    response = client.patch(f"/api/meetings/{meeting.pk}/", {"title": " "}, format="json")
    assert response.status_code == 400 and "title" in response.json()


# --- rsvp / join / leave --------------------------------------------------------


def test_participant_rsvps(client_for, people, meeting):
    response = client_for(people["bob"]).post(
        f"/api/meetings/{meeting.pk}/rsvp/", {"response": "declined"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["response"] == "declined"
    assert MeetingParticipant.objects.get(meeting=meeting, user=people["bob"]).response == "declined"
    people["bob"].refresh_from_db()
    assert people["bob"].last_active is not None


@pytest.mark.parametrize("body", [{}, {"response": "maybe"}, {"response": "pending"}, {"response": 1}])
def test_invalid_rsvp_is_400(client_for, people, meeting, body):
    response = client_for(people["bob"]).post(f"/api/meetings/{meeting.pk}/rsvp/", body, format="json")
    assert response.status_code == 400 and "response" in response.json()


def test_join_then_leave(client_for, people, meeting):
    client = client_for(people["bob"])
    response = client.post(f"/api/meetings/{meeting.pk}/join/")
    assert response.status_code == 200 and response.json()["joined_at"] is not None
    response = client.post(f"/api/meetings/{meeting.pk}/leave/")
    assert response.status_code == 200
    participation = MeetingParticipant.objects.get(meeting=meeting, user=people["bob"])
    assert participation.left_at >= participation.joined_at


def test_leave_without_joining_is_409(client_for, people, meeting):
    response = client_for(people["bob"]).post(f"/api/meetings/{meeting.pk}/leave/")
    assert response.status_code == 409
    assert "user" in response.json()


def test_non_participants_may_not_rsvp_join_or_leave(client_for, people, meeting):
    client = client_for(people["carol"])
    assert client.post(f"/api/meetings/{meeting.pk}/rsvp/", {"response": "accepted"}, format="json").status_code == 403
    assert client.post(f"/api/meetings/{meeting.pk}/join/").status_code == 403
    assert client.post(f"/api/meetings/{meeting.pk}/leave/").status_code == 403
    assert not MeetingParticipant.objects.filter(meeting=meeting, user=people["carol"]).exists()


# --- participants after creation (docs/api.md, "Participants") -----------------------


def participants_url(meeting, user=None):
    base = f"/api/meetings/{meeting.pk}/participants/"
    return f"{base}{user.pk}/" if user is not None else base


def test_organizer_invites_then_removes_a_participant(client_for, people, meeting):
    client = client_for(people["alice"])
    response = client.post(participants_url(meeting), {"user": people["carol"].pk}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json() == {"user": people["carol"].pk, "response": "pending", "joined_at": None, "left_at": None}
    # The invited person takes part now: they may RSVP.
    rsvp = client_for(people["carol"]).post(
        f"/api/meetings/{meeting.pk}/rsvp/", {"response": "accepted"}, format="json"
    )
    assert rsvp.status_code == 200
    assert client.delete(participants_url(meeting, people["carol"])).status_code == 204
    assert not MeetingParticipant.objects.filter(meeting=meeting, user=people["carol"]).exists()
    assert client_for(people["carol"]).post(f"/api/meetings/{meeting.pk}/join/").status_code == 403


def test_inviting_twice_is_409_and_removing_a_non_participant_is_404(client_for, people, meeting):
    client = client_for(people["alice"])
    response = client.post(participants_url(meeting), {"user": people["bob"].pk}, format="json")
    assert response.status_code == 409
    assert response.json() == {"user": ["This user is already a participant."]}
    response = client.delete(participants_url(meeting, people["carol"]))
    assert response.status_code == 404


def test_the_organizer_cannot_be_removed_409(client_for, people, meeting):
    response = client_for(people["alice"]).delete(participants_url(meeting, people["alice"]))
    assert response.status_code == 409
    assert response.json() == {"user": ["The organizer always takes part in their meeting."]}


def test_only_the_organizer_manages_participants_403_before_400(client_for, people, meeting):
    # Neither a participant nor the company admin: the organizer only (as for
    # every change of a meeting), and the refusal comes before the body's check.
    for name in ("bob", "admin"):
        client = client_for(people[name])
        response = client.post(participants_url(meeting), {"user": "nope"}, format="json")
        assert response.status_code == 403
        assert response.json() == {"detail": "Only the organizer may add or remove participants."}
        assert client.delete(participants_url(meeting, people["bob"])).status_code == 403
    assert MeetingParticipant.objects.filter(meeting=meeting, user=people["bob"]).exists()


def test_participants_of_another_tenant(client_for, people, meeting, other_company):
    stranger = UserFactory(company=other_company)
    client = client_for(people["alice"])
    response = client.post(participants_url(meeting), {"user": stranger.pk}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["user"]
    assert client.delete(participants_url(meeting, stranger)).status_code == 404
    # Another tenant's meeting is a 404, for its own organizer's peers too.
    theirs = MeetingFactory(company=other_company)
    outsider = client_for(theirs.organizer)
    assert outsider.post(participants_url(meeting), {"user": stranger.pk}, format="json").status_code == 404
    assert client.post(participants_url(theirs), {"user": people["bob"].pk}, format="json").status_code == 404


def test_a_private_meeting_stays_hidden_and_its_removed_participant_loses_it(client_for, people, start, company):
    private = channel_create(company=company, name="secret", created_by=people["bob"], is_private=True)
    hidden = meeting_create(
        organizer=people["bob"], title="secret", starts_at=start, ends_at=start + timedelta(hours=1), channel=private
    )
    carol = client_for(people["carol"])
    # Not visible to carol: she cannot invite herself (404, not 403).
    assert carol.post(participants_url(hidden), {"user": people["carol"].pk}, format="json").status_code == 404
    organizer = client_for(people["bob"])
    assert organizer.post(participants_url(hidden), {"user": people["carol"].pk}, format="json").status_code == 201
    assert carol.get(f"/api/meetings/{hidden.pk}/").status_code == 200
    assert organizer.delete(participants_url(hidden, people["carol"])).status_code == 204
    assert carol.get(f"/api/meetings/{hidden.pk}/").status_code == 404
