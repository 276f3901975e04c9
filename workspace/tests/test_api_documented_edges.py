"""Documented behaviour at the edges of the query string (docs/api.md,
"Filtering" and "Pagination"): a date-time bound at the end of the
representable range is clamped, also when the "+" of its offset was not
percent-encoded; a cursor the API did not write is the fixed 404 "Invalid
cursor", whatever it decodes to, and no error repeats the raw input."""

import base64
from datetime import timedelta
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from django.utils import timezone

from chat.models import Message
from chat.services import membership_add, message_create
from meetings.services import meeting_create
from workspace.api.pagination import NewestFirstCursorPagination

pytestmark = pytest.mark.django_db

YEAR_ONE_EAST = "0001-01-01T00:00:00+05:00"  # cannot be converted to UTC in Python
YEAR_9999_WEST = "9999-12-31T23:00:00-05:00"


@pytest.fixture
def channel(company, people):
    from chat.services import channel_create

    channel = channel_create(company=company, name="edges", created_by=people["admin"])
    membership_add(channel=channel, user=people["bob"])
    return channel


def messages_url(channel):
    return f"/api/channels/{channel.pk}/messages/"


@pytest.mark.parametrize("sent_as", ["percent-encoded", "raw plus"])
def test_since_at_year_one_with_a_positive_offset_is_clamped(client_for, people, channel, sent_as):
    message = message_create(channel=channel, author=people["bob"], body="x")
    meeting_start = timezone.now() + timedelta(days=1)
    meeting = meeting_create(
        organizer=people["bob"], title="m", starts_at=meeting_start, ends_at=meeting_start + timedelta(hours=1)
    )
    client = client_for(people["bob"])
    # `?since=...+05:00` typed as is: the query string decodes "+" as a space.
    value = quote(YEAR_ONE_EAST) if sent_as == "percent-encoded" else YEAR_ONE_EAST

    since = client.get(f"{messages_url(channel)}?since={value}")
    before = client.get(f"{messages_url(channel)}?before={value}")
    meetings_since = client.get(f"/api/meetings/?since={value}")
    meetings_before = client.get(f"/api/meetings/?before={value}")

    assert since.status_code == 200, since.content
    assert [m["id"] for m in since.json()["results"]] == [message.pk]  # after "the beginning": all
    assert before.status_code == 200 and before.json()["results"] == []  # before it: nothing
    assert [m["id"] for m in meetings_since.json()["results"]] == [meeting.pk]
    assert meetings_before.status_code == 200 and meetings_before.json()["results"] == []


def test_before_at_year_9999_with_a_negative_offset_is_clamped(client_for, people, channel):
    message = message_create(channel=channel, author=people["bob"], body="x")
    response = client_for(people["bob"]).get(f"{messages_url(channel)}?before={quote(YEAR_9999_WEST)}")
    assert response.status_code == 200
    assert [m["id"] for m in response.json()["results"]] == [message.pk]


@pytest.mark.parametrize(
    "value", ["2030-01-01T00:00:00 0500", "2030-01-01 00:00:00 05:00", "<b>x</b>", "2030-01-01T00:00:00  05:00"]
)
def test_a_malformed_date_time_is_400_without_echo(client_for, people, channel, value):
    response = client_for(people["bob"]).get(f"{messages_url(channel)}?since={quote(value)}")
    assert response.status_code == 400
    assert response.json() == {"since": ["Enter an RFC 3339 date-time, e.g. 2030-01-31T09:30:00Z."]}


def cursor(raw: str) -> str:
    return base64.b64encode(raw.encode()).decode()


@pytest.mark.parametrize(
    "value",
    [
        "garbage",
        cursor("p=notadate"),  # was a 400 quoting "notadate"
        cursor("o=5&p=<script>alert(1)</script>"),
        cursor("p=2030-13-45"),  # was a 400 quoting the date
        cursor("p=2030-01-01 00:00:00"),  # naive: was compared in local time
        cursor("r=1&p=9999-12-31"),  # a date, not a date-time
        cursor("p=0001-01-01 00:00:00+05:00"),  # cannot be converted to UTC
        cursor("p="),
        cursor("p=%00"),
        cursor("o=-1"),
        cursor("r=x"),
    ],
)
def test_a_tampered_cursor_is_the_documented_404(client_for, people, channel, value):
    message_create(channel=channel, author=people["bob"], body="x")
    response = client_for(people["bob"]).get(messages_url(channel), {"cursor": value})
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid cursor"}


def test_cursors_the_api_writes_still_walk_every_page(client_for, people, channel, monkeypatch):
    monkeypatch.setattr(NewestFirstCursorPagination, "page_size", 2)
    at = timezone.now() - timedelta(days=1)
    Message.objects.bulk_create(
        Message(channel=channel, author=people["bob"], body=f"m{i}", created_at=at + timedelta(seconds=i % 3))
        for i in range(7)
    )
    client = client_for(people["bob"])
    seen, next_url, links = [], messages_url(channel), []
    while next_url:
        page = client.get(next_url)
        assert page.status_code == 200, page.content
        seen += [m["id"] for m in page.json()["results"]]
        next_url = page.json()["next"]
        links += [link for link in (page.json()["next"], page.json()["previous"]) if link]
    assert len(seen) == len(set(seen)) == 7
    # Every link the API wrote is accepted, backwards too; positions are aware.
    for link in links:
        assert client.get(link).status_code == 200, link
    positions = [
        parse_qs(base64.b64decode(parse_qs(urlsplit(link).query)["cursor"][0]).decode()).get("p") for link in links
    ]
    assert any(positions) and all(p[0].endswith("+00:00") for p in positions if p)


def test_an_invalid_choice_is_not_echoed(client_for, people):
    start = timezone.now() + timedelta(days=1)
    meeting = meeting_create(
        organizer=people["admin"],
        title="m",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        participants=[people["bob"]],
    )
    response = client_for(people["bob"]).post(
        f"/api/meetings/{meeting.pk}/rsvp/", {"response": "<img src=x>"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"response": ["Must be one of: accepted, declined, tentative."]}
