"""The list pages built from rows (chat/rows.py, meetings/rows.py) give exactly
the JSON the read-only serializers give for the same page: same keys in the
same order, same values, same date-time format (PostgreSQL builds the nested
lists as JSON and writes date-times its own way), on SQLite and PostgreSQL."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.renderers import JSONRenderer

from chat import selectors as chat_selectors
from chat.models import Message, MessageReaction
from chat.serializers import MessageSerializer
from chat.services import channel_create, message_create, message_delete, message_update, reaction_add
from meetings import selectors as meeting_selectors
from meetings.models import MeetingParticipant
from meetings.serializers import MeetingSerializer
from meetings.services import meeting_create

pytestmark = pytest.mark.django_db

T0 = datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)  # no fraction at all


def as_json(data):
    """What the API's renderer sends for ``data``, read back."""
    return json.loads(JSONRenderer().render(data))


def walk(client, url):
    """Every page of a list, through ``next``; and the queries of each page
    (after a first request: the first of a user also writes ``last_active``)."""
    client.get(url)
    pages, queries = [], []
    while url:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        pages.append(body["results"])
        queries.append(len(captured))
        url = body["next"]
    return pages, queries


@pytest.fixture
def busy_channel(people):
    """55 top-level messages (two pages) with every shape a row can take:
    replies, reactions, edited, a deleted thread parent, date-times without a
    fraction and with trailing zeros in it."""
    alice, bob = people["alice"], people["bob"]
    channel = channel_create(company=alice.company, name="busy", created_by=alice, members=[bob])
    top = [message_create(channel=channel, author=(alice, bob)[i % 2], body=f"message {i}") for i in range(57)]
    for i, message in enumerate(top):
        # distinct times, some without a fraction, some ending in zeros (.120000)
        created = T0 + timedelta(minutes=i, microseconds=(0, 120_000, 123_456, 500_000)[i % 4])
        Message.objects.filter(pk=message.pk).update(created_at=created)
    Message.objects.filter(pk=top[3].pk).update(created_at=T0 + timedelta(minutes=2, microseconds=120_000))  # a tie
    for i in (5, 10, 54, 56):
        for j in range(i % 4 + 1):
            message_create(channel=channel, author=bob, body=f"reply {j} to {i}", parent=top[i])
    for i, emoji in ((56, "👍"), (56, "🎉"), (55, "❤️"), (10, "👀"), (0, "😂")):
        for user in (alice, bob):
            reaction_add(message=top[i], user=user, emoji=emoji)
    MessageReaction.objects.filter(message=top[56], emoji="👍").update(created_at=T0 + timedelta(days=1))
    MessageReaction.objects.filter(message=top[55]).update(created_at=T0 + timedelta(days=2, microseconds=10))
    message_update(message=top[54], body="edited")
    Message.objects.filter(pk=top[10].pk).update(edited_at=T0 + timedelta(hours=5))
    message_delete(message=top[5])  # a parent deleted with its thread
    message_delete(message=Message.objects.filter(parent=top[54]).first())  # one reply of a thread deleted
    return channel, top


def serializer_pages(queryset, page_size=50):
    ordered = list(queryset.order_by("-created_at", "-id"))
    return [
        as_json(MessageSerializer(ordered[i : i + page_size], many=True).data)
        for i in range(0, len(ordered), page_size)
    ]


def test_message_pages_are_the_serializer_s(client_for, people, busy_channel):
    channel, top = busy_channel
    pages, queries = walk(client_for(people["bob"]), f"/api/channels/{channel.pk}/messages/")
    expected = serializer_pages(chat_selectors.channel_messages(channel=channel).filter(parent__isnull=True))
    assert [len(p) for p in pages] == [50, 6]
    assert pages == expected
    assert len(set(queries)) == 1, queries
    assert {m["id"]: m["reply_count"] for m in pages[0]}[top[54].pk] == 2
    assert top[5].pk not in {m["id"] for p in pages for m in p}


def test_thread_page_is_the_serializer_s(client_for, people, busy_channel):
    channel, top = busy_channel
    reply = Message.objects.filter(parent=top[56]).order_by("id").first()
    reaction_add(message=reply, user=people["alice"], emoji="👍")
    pages, _ = walk(client_for(people["alice"]), f"/api/channels/{channel.pk}/messages/?parent={top[56].pk}")
    assert pages == serializer_pages(chat_selectors.channel_messages(channel=channel).filter(parent=top[56]))
    assert pages[0][-1]["reactions"][0]["emoji"] == "👍"


def test_empty_page(client_for, people):
    channel = channel_create(company=people["alice"].company, name="quiet", created_by=people["alice"])
    response = client_for(people["alice"]).get(f"/api/channels/{channel.pk}/messages/")
    assert response.json()["results"] == []


def test_meeting_pages_are_the_serializer_s(client_for, people):
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    channel = channel_create(company=alice.company, name="plans", created_by=alice, is_private=True, members=[bob])
    for i in range(53):
        meeting_create(
            organizer=(alice, bob)[i % 2],
            title=f"meeting {i}",
            description="" if i % 3 else f"about {i}",
            starts_at=T0 + timedelta(hours=i // 2, microseconds=(0, 120_000, 7)[i % 3]),
            ends_at=T0 + timedelta(hours=i // 2 + 1),
            channel=channel if i % 5 == 0 else None,
            participants=[carol] if i % 2 else [],
        )
    MeetingParticipant.objects.filter(user=carol).update(
        response="accepted", joined_at=T0 + timedelta(minutes=1, microseconds=500_000)
    )
    MeetingParticipant.objects.filter(user=carol, meeting__title__endswith="1").update(
        left_at=T0 + timedelta(minutes=30)
    )
    for viewer in (carol, alice):
        pages, queries = walk(client_for(viewer), "/api/meetings/")
        ordered = list(meeting_selectors.meeting_list_visible(user=viewer))
        expected = [as_json(MeetingSerializer(ordered[i : i + 50], many=True).data) for i in range(0, len(ordered), 50)]
        assert pages == expected
        assert len(set(queries)) == 1, queries
    assert [len(p) for p in pages] == [50, 3]  # alice sees all
    client = client_for(alice)
    first, second = client.get("/api/meetings/").json(), client.get("/api/meetings/?page=2").json()
    assert (first["count"], second["count"]) == (53, 53)  # counted in the page query
    assert first["next"].endswith("/api/meetings/?page=2") and first["previous"] is None
    assert second["next"] is None and second["previous"].endswith("/api/meetings/")
    assert client.get("/api/meetings/?before=2000-01-01T00:00:00Z").json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }
    for page in ("3", "0", "999999999999999999"):
        response = client.get(f"/api/meetings/?page={page}")
        assert (response.status_code, response.json()) == (404, {"detail": "Invalid page."}), page
    assert any(p["left_at"] for page in pages for m in page for p in m["participants"])


def test_channel_pages_are_the_serializer_s(client_for, people):
    """The channel list (chat/rows.py): two pages with every read state a
    channel can have for the caller, the same JSON as ChannelSerializer."""
    from chat.models import Channel, ChannelMembership
    from chat.serializers import ChannelSerializer
    from chat.services import membership_add, membership_mark_read

    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    channels = []
    for i in range(56):
        members = [bob] if i % 3 else []
        private = i % 7 == 0
        creator = (alice, carol)[i % 2]
        channel = channel_create(
            company=alice.company, name=f"ch {i % 9} {i}", created_by=creator, is_private=private, members=members
        )
        channel.__dict__["creator"] = creator
        channels.append(channel)
    channel_create(company=alice.company, name="alone", created_by=carol, is_private=True)  # bob does not see it
    for i, channel in enumerate(channels):
        if i % 4 == 0:
            continue  # empty channel
        for j in range(i % 5 + 1):
            message_create(channel=channel, author=(channel.__dict__["creator"], bob)[j % 2], body=f"m {j}")
    for i, channel in enumerate(channels):
        if i % 3 == 1:
            membership_mark_read(channel=channel, user=bob)  # read everything
        elif i % 3 == 2 and i % 2:
            first = Message.objects.filter(channel=channel).order_by("created_at", "id").first()
            if first is not None:
                membership_mark_read(channel=channel, user=bob, message=first)  # read up to the first one
    joined_later = channels[10]
    ChannelMembership.objects.filter(channel=joined_later, user=bob).delete()
    membership_add(channel=joined_later, user=bob)  # after its messages: none unread
    message_create(channel=joined_later, author=alice, body="after bob joined")
    Channel.objects.filter(pk=channels[4].pk).update(
        created_at=T0, last_message_at=T0 + timedelta(microseconds=120_000)
    )

    for viewer in (bob, alice, carol):
        pages, queries = walk(client_for(viewer), "/api/channels/")
        ordered = list(
            chat_selectors.channel_read_state(channels=chat_selectors.channel_list_visible(user=viewer), user=viewer)
        )
        expected = [as_json(ChannelSerializer(ordered[i : i + 50], many=True).data) for i in range(0, len(ordered), 50)]
        assert pages == expected, viewer
        assert len(set(queries)) == 1, queries
    bob_pages, _ = walk(client_for(bob), "/api/channels/")
    seen = {c["name"]: c for page in bob_pages for c in page}
    hidden = [i for i in range(56) if i % 7 == 0 and i % 3 == 0]  # private, bob not a member
    assert "alone" not in seen and sum(len(p) for p in bob_pages) == 56 - len(hidden)
    assert seen[joined_later.name]["unread_count"] == 1 and seen[joined_later.name]["last_read_at"] is None
    assert {c["is_member"] for c in seen.values()} == {True, False}
    assert {c["has_unread"] for c in seen.values()} == {True, False}
    assert any(c["last_read_at"] for c in seen.values()) and any(c["is_private"] for c in seen.values())
    assert any(c["last_message_at"] is None for c in seen.values())
    client = client_for(bob)
    first, second = client.get("/api/channels/").json(), client.get("/api/channels/?page=2").json()
    assert (first["count"], second["count"]) == (sum(len(p) for p in bob_pages),) * 2
    assert first["next"].endswith("/api/channels/?page=2") and first["previous"] is None
    assert second["next"] is None and second["previous"].endswith("/api/channels/")
    for page in ("3", "0", "999999999999999999", "x"):
        response = client.get(f"/api/channels/?page={page}")
        assert (response.status_code, response.json()) == (404, {"detail": "Invalid page."}), page


def test_empty_channel_list(client_for, people, company):
    from chat.models import Channel

    Channel.objects.filter(company=company).delete()
    response = client_for(people["bob"]).get("/api/channels/")
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_walking_the_lists_compiles_each_query_once_per_shape(client_for, people, busy_channel):
    """Page numbers and cursor positions are bound values: walking every
    page of a list compiles its query once per shape (workspace/db/compiled.py),
    and a second walk compiles nothing."""
    from chat.factories import ChannelFactory
    from chat.rows import CHANNEL_PAGE, MESSAGE_PAGE
    from meetings.rows import MEETING_PAGE

    channel, top = busy_channel
    ChannelFactory.create_batch(51, company=people["alice"].company, created_by=people["alice"])
    for i in range(52):
        meeting_create(organizer=people["bob"], title=f"m {i}", starts_at=T0, ends_at=T0 + timedelta(hours=1))
    for query in (MESSAGE_PAGE, CHANNEL_PAGE, MEETING_PAGE):
        query.clear()
    client = client_for(people["bob"])
    for _ in range(2):
        assert [len(p) for p in walk(client, f"/api/channels/{channel.pk}/messages/")[0]] == [50, 6]
        assert len(walk(client, f"/api/channels/{channel.pk}/messages/?parent={top[56].pk}")[0]) == 1
        assert len(walk(client, "/api/channels/")[0]) == 2
        assert len(walk(client, "/api/meetings/")[0]) == 2
    # messages: the first page, a following page (the cursor's position), a thread's first page
    assert MESSAGE_PAGE._plan.cache_info().misses == 3
    assert CHANNEL_PAGE._plan.cache_info().misses == 1
    assert MEETING_PAGE._plan.cache_info().misses == 1


def test_cursor_pages_back_and_forth_with_ties(client_for, people):
    """The cursor (DRF's CursorPagination over the compiled page query): a
    run of messages sharing one ``created_at`` across the page boundary is
    listed once, in order, forwards and back through ``previous``."""
    alice = people["alice"]
    channel = channel_create(company=alice.company, name="ties", created_by=alice)
    messages = [message_create(channel=channel, author=alice, body=f"t {i}") for i in range(120)]
    for rank, message in enumerate(messages):
        # newest first by rank; ranks 46..55 share one instant, so the first
        # page ends inside the run and the cursor carries an offset
        Message.objects.filter(pk=message.pk).update(
            created_at=T0 - timedelta(seconds=46 if 46 <= rank <= 55 else rank)
        )
    expected = list(
        Message.objects.filter(channel=channel, parent=None).order_by("-created_at", "-id").values_list("pk", flat=True)
    )
    client = client_for(alice)
    url, pages = f"/api/channels/{channel.pk}/messages/", []
    while url:
        pages.append(client.get(url).json())
        url = pages[-1]["next"]
    ids = [[m["id"] for m in page["results"]] for page in pages]
    assert [i for page in ids for i in page] == expected and len(ids) == 3
    back = client.get(pages[2]["previous"]).json()
    assert [m["id"] for m in back["results"]] == ids[1]
    first = client.get(back["previous"]).json()
    assert [m["id"] for m in first["results"]] == ids[0] and first["previous"] is None
