"""API of messages, threads and reactions (docs/api.md)."""

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.db import connection
from django.utils import timezone

from chat.factories import MessageFactory, MessageReactionFactory
from chat.models import Channel, Message, MessageReaction
from chat.services import channel_create, message_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(company, people):
    return channel_create(company=company, name="general", created_by=people["alice"], members=[people["bob"]])


@pytest.fixture
def private(company, people):
    return channel_create(company=company, name="secret", created_by=people["alice"], is_private=True)


def url(channel):
    return f"/api/channels/{channel.pk}/messages/"


# --- posting ----------------------------------------------------------------------


def test_member_posts_a_message(client_for, people, channel):
    response = client_for(people["bob"]).post(url(channel), {"body": "  hello  "}, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    message = Message.objects.get(pk=data["id"])
    assert (message.body, message.author, message.channel, message.parent) == ("hello", people["bob"], channel, None)
    assert data["body"] == "hello" and data["reply_count"] == 0 and data["reactions"] == []
    assert data["edited_at"] is None


def test_posting_updates_last_message_at_and_last_active(client_for, people, channel):
    bob = people["bob"]
    assert channel.last_message_at is None and bob.last_active is None
    response = client_for(bob).post(url(channel), {"body": "hi"}, format="json")
    message = Message.objects.get(pk=response.json()["id"])
    channel.refresh_from_db()
    bob.refresh_from_db()
    assert channel.last_message_at == message.created_at
    assert bob.last_active is not None and bob.last_active >= message.created_at
    assert client_for(bob).get(f"/api/channels/{channel.pk}/").json()["last_message_at"] is not None


def test_non_member_may_not_post_in_a_public_channel(client_for, people, channel):
    response = client_for(people["carol"]).post(url(channel), {"body": "hi"}, format="json")
    assert response.status_code == 403
    assert not channel.messages.exists()


def test_non_member_gets_404_on_a_private_channel(client_for, people, private):
    response = client_for(people["bob"]).post(url(private), {"body": "hi"}, format="json")
    assert response.status_code == 404


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "body"),
        ({"body": ""}, "body"),
        ({"body": " \n\t "}, "body"),
        ({"body": None}, "body"),
        ({"body": 42}, "body"),
        ({"body": "nul\x00"}, "body"),
        ({"body": "x" * 10_001}, "body"),
        ({"body": "ok", "parent": "abc"}, "parent"),
        ({"body": "ok", "parent": "1"}, "parent"),
        ({"body": "ok", "parent": 0}, "parent"),
        ({"body": "ok", "parent": 987654321}, "parent"),
    ],
)
def test_invalid_message_is_400_naming_the_field(client_for, people, channel, body, field):
    response = client_for(people["bob"]).post(url(channel), body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not channel.messages.exists()


def test_body_not_a_json_object_is_400(client_for, people, channel):
    response = client_for(people["bob"]).post(url(channel), ["body"], format="json")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_reply_in_a_thread(client_for, people, channel):
    root = message_create(channel=channel, author=people["alice"], body="question")
    response = client_for(people["bob"]).post(url(channel), {"body": "answer", "parent": root.pk}, format="json")
    assert response.status_code == 201
    assert response.json()["parent"] == root.pk
    assert client_for(people["bob"]).get(f"/api/messages/{root.pk}/").json()["reply_count"] == 1


def test_parent_in_another_channel_is_400(client_for, people, channel, company):
    elsewhere = channel_create(company=company, name="random", created_by=people["bob"])
    parent = message_create(channel=elsewhere, author=people["bob"], body="x")
    response = client_for(people["bob"]).post(url(channel), {"body": "reply", "parent": parent.pk}, format="json")
    assert response.status_code == 400
    assert response.json() == {"parent": ["The parent message is in another channel."]}


def test_parent_of_another_tenant_reads_as_missing(client_for, people, channel):
    foreign = MessageFactory()
    response = client_for(people["bob"]).post(url(channel), {"body": "reply", "parent": foreign.pk}, format="json")
    assert response.status_code == 400
    assert response.json() == {"parent": [f"No message with id {foreign.pk}."]}


@pytest.mark.django_db(transaction=True)
def test_channel_deleted_while_posting_is_404_and_leaves_no_orphan(client_for, people, channel, monkeypatch):
    """The channel passes the view's checks, then another request deletes it
    before the message row is committed: the database refuses the row (FK) and
    the API answers 404, as if the channel had been gone before."""
    from chat.views import messages as views

    real_create = views.services.message_create

    def delete_then_create(**kwargs):
        Channel.objects.filter(pk=kwargs["channel"].pk).delete()  # the concurrent delete, committed
        return real_create(**kwargs)

    monkeypatch.setattr(views.services, "message_create", delete_then_create)
    response = client_for(people["bob"]).post(url(channel), {"body": "too late"}, format="json")
    assert response.status_code == 404
    assert not Message.objects.filter(body="too late").exists()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM chat_message m LEFT JOIN chat_channel c ON c.id = m.channel_id WHERE c.id IS NULL"
        )
        assert cursor.fetchone()[0] == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_post_racing_a_channel_delete_on_postgresql_is_404_and_leaves_no_orphan(client_for, people, channel):
    """Real concurrency: a transaction deletes the channel and holds its locks;
    meanwhile a post goes through the view's checks (the channel is still
    visible) and blocks on the channel row. When the delete commits, the post's
    commit is refused by the foreign key and the poster gets 404."""
    import threading

    from django.db import transaction

    client = client_for(people["bob"])
    deleted, release = threading.Event(), threading.Event()
    result, errors = {}, []

    def delete_channel():
        try:
            with transaction.atomic():
                Channel.objects.filter(pk=channel.pk).delete()
                deleted.set()
                release.wait(30)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    def post():
        try:
            result["pid"] = connection.cursor().connection.info.backend_pid
            result["response"] = client.post(url(channel), {"body": "racing"}, format="json")
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    deleter = threading.Thread(target=delete_channel)
    deleter.start()
    assert deleted.wait(30)
    poster = threading.Thread(target=post)
    poster.start()
    # Wait (bounded) until the post is blocked on a lock held by the delete.
    for _ in range(300):
        if "pid" in result:
            with connection.cursor() as cursor:
                cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [result["pid"]])
                row = cursor.fetchone()
            if row and row[0] == "Lock":
                break
        poster.join(0.05)
    else:
        pytest.fail("the post never waited for the delete")
    release.set()
    deleter.join(30)
    poster.join(30)
    assert not errors, errors
    assert result["response"].status_code == 404, result["response"].content
    assert not Message.objects.filter(body="racing").exists()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM chat_message m LEFT JOIN chat_channel c ON c.id = m.channel_id WHERE c.id IS NULL"
        )
        assert cursor.fetchone()[0] == 0


# --- listing ----------------------------------------------------------------------


def test_list_is_newest_first_top_level_only(client_for, people, channel):
    now = timezone.now()
    old = message_create(channel=channel, author=people["bob"], body="old", created_at=now - timedelta(hours=2))
    new = message_create(channel=channel, author=people["bob"], body="new", created_at=now - timedelta(hours=1))
    message_create(channel=channel, author=people["alice"], body="reply", parent=old)
    data = client_for(people["carol"]).get(url(channel)).json()
    assert [m["id"] for m in data["results"]] == [new.pk, old.pk]
    assert data["results"][1]["reply_count"] == 1
    assert data["next"] is None and "previous" in data


def test_thread_replies_with_parent_filter(client_for, people, channel):
    root = message_create(channel=channel, author=people["bob"], body="root")
    first = message_create(channel=channel, author=people["alice"], body="r1", parent=root)
    second = message_create(channel=channel, author=people["bob"], body="r2", parent=root)
    data = client_for(people["bob"]).get(f"{url(channel)}?parent={root.pk}").json()
    assert [m["id"] for m in data["results"]] == [second.pk, first.pk]


def test_cursor_pagination_walks_every_message_once(client_for, people, channel):
    at = timezone.now() - timedelta(days=1)
    # Identical timestamps: the id breaks ties, nothing is skipped or repeated.
    Message.objects.bulk_create(
        Message(channel=channel, author=people["bob"], body=f"m{i}", created_at=at) for i in range(120)
    )
    client = client_for(people["bob"])
    seen, next_url = [], url(channel)
    while next_url:
        page = client.get(next_url).json()
        seen += [m["id"] for m in page["results"]]
        next_url = page["next"]
    assert len(seen) == len(set(seen)) == 120
    assert seen == sorted(seen, reverse=True)


def test_invalid_cursor_is_404(client_for, people, channel):
    response = client_for(people["bob"]).get(f"{url(channel)}?cursor=garbage")
    assert response.status_code == 404


def test_since_and_before_filters(client_for, people, channel):
    now = timezone.now().replace(microsecond=0)
    msgs = [
        message_create(channel=channel, author=people["bob"], body=str(h), created_at=now - timedelta(hours=h))
        for h in (3, 2, 1)
    ]
    since = quote((now - timedelta(hours=2)).isoformat())
    before = quote((now - timedelta(hours=1)).isoformat())
    data = client_for(people["bob"]).get(f"{url(channel)}?since={since}&before={before}").json()
    assert [m["id"] for m in data["results"]] == [msgs[1].pk]


def test_datetime_filters_accept_offsets_and_extremes(client_for, people, channel):
    message = message_create(channel=channel, author=people["bob"], body="x")
    client = client_for(people["bob"])
    for value in ["2000-01-01T05:00:00+05:00", "0001-01-01T00:00:00+05:00", "0573-12-26T10:18:41.86-22:21"]:
        response = client.get(f"{url(channel)}?since={quote(value)}")
        assert response.status_code == 200, value
        assert [m["id"] for m in response.json()["results"]] == [message.pk]
    response = client.get(f"{url(channel)}?before={quote('9999-12-31T23:00:00-05:00')}")
    assert [m["id"] for m in response.json()["results"]] == [message.pk]


@pytest.mark.parametrize(
    "query",
    [
        "since=yesterday",
        "since=",
        "since=2024-01-01",
        "since=2024-01-01T10:00:00",
        "before=2024-13-01T00:00:00Z",
        "parent=x",
        "parent=",
        "parent=-1",
    ],
)
def test_malformed_filter_is_400_naming_it(client_for, people, channel, query):
    response = client_for(people["bob"]).get(f"{url(channel)}?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


# --- one message ----------------------------------------------------------------


def test_retrieve_message_with_reactions(client_for, people, channel):
    message = message_create(channel=channel, author=people["bob"], body="x")
    MessageReactionFactory(message=message, user=people["alice"], emoji="🎉")
    data = client_for(people["carol"]).get(f"/api/messages/{message.pk}/").json()
    assert data["id"] == message.pk
    assert [(r["user"], r["emoji"]) for r in data["reactions"]] == [(people["alice"].pk, "🎉")]


def test_message_of_private_channel_is_404_for_non_members(client_for, people, private):
    message = message_create(channel=private, author=people["alice"], body="x")
    client = client_for(people["bob"])
    assert client.get(f"/api/messages/{message.pk}/").status_code == 404
    assert client.post(f"/api/messages/{message.pk}/reactions/", {"emoji": "👍"}, format="json").status_code == 404
    assert client_for(people["alice"]).get(f"/api/messages/{message.pk}/").status_code == 200


def test_author_edits_message(client_for, people, channel):
    message = message_create(channel=channel, author=people["bob"], body="typo")
    response = client_for(people["bob"]).patch(f"/api/messages/{message.pk}/", {"body": "fixed"}, format="json")
    assert response.status_code == 200
    message.refresh_from_db()
    assert message.body == "fixed" and message.edited_at is not None
    assert response.json()["edited_at"] is not None


def test_editing_does_not_move_last_message_at(client_for, people, channel):
    message = message_create(channel=channel, author=people["bob"], body="typo")
    channel.refresh_from_db()
    before = channel.last_message_at
    client_for(people["bob"]).patch(f"/api/messages/{message.pk}/", {"body": "fixed"}, format="json")
    channel.refresh_from_db()
    assert channel.last_message_at == before == message.created_at


def test_only_the_author_edits_even_an_admin_may_not(client_for, people, channel):
    message = message_create(channel=channel, author=people["bob"], body="mine")
    for name in ("alice", "admin"):
        response = client_for(people[name]).patch(f"/api/messages/{message.pk}/", {"body": "yours"}, format="json")
        assert response.status_code == 403
    message.refresh_from_db()
    assert message.body == "mine"


@pytest.mark.parametrize("body", [{"body": ""}, {"body": "  "}, {"body": None}, {"body": ["x"]}])
def test_edit_to_blank_is_400(client_for, people, channel, body):
    message = message_create(channel=channel, author=people["bob"], body="mine")
    response = client_for(people["bob"]).patch(f"/api/messages/{message.pk}/", body, format="json")
    assert response.status_code == 400 and "body" in response.json()


def test_empty_patch_changes_nothing(client_for, people, channel):
    message = message_create(channel=channel, author=people["bob"], body="mine")
    response = client_for(people["bob"]).patch(f"/api/messages/{message.pk}/", {}, format="json")
    assert response.status_code == 200
    message.refresh_from_db()
    assert message.edited_at is None


def test_author_deletes_message_and_its_thread(client_for, people, channel):
    root = message_create(channel=channel, author=people["bob"], body="root")
    message_create(channel=channel, author=people["alice"], body="reply", parent=root)
    assert client_for(people["bob"]).delete(f"/api/messages/{root.pk}/").status_code == 204
    assert not channel.messages.exists()
    channel.refresh_from_db()
    assert channel.last_message_at is None
    assert client_for(people["bob"]).get(f"/api/messages/{root.pk}/").status_code == 404


def test_company_admin_deletes_anyones_message_others_may_not(client_for, people, channel):
    message = message_create(channel=channel, author=people["bob"], body="x")
    assert client_for(people["alice"]).delete(f"/api/messages/{message.pk}/").status_code == 403
    assert client_for(people["admin"]).delete(f"/api/messages/{message.pk}/").status_code == 204
    assert not Message.objects.filter(pk=message.pk).exists()


def test_message_edited_by_author_after_concurrent_delete_is_404(client_for, people, channel, monkeypatch):
    from chat.views import messages as views

    message = message_create(channel=channel, author=people["bob"], body="x")
    real_update = views.services.message_update

    def delete_then_update(**kwargs):
        Message.objects.filter(pk=kwargs["message"].pk).delete()
        return real_update(**kwargs)

    monkeypatch.setattr(views.services, "message_update", delete_then_update)
    response = client_for(people["bob"]).patch(f"/api/messages/{message.pk}/", {"body": "y"}, format="json")
    assert response.status_code == 404


# --- reactions --------------------------------------------------------------------


def test_react_and_take_it_back(client_for, people, channel):
    message = message_create(channel=channel, author=people["bob"], body="x")
    client = client_for(people["carol"])
    response = client.post(f"/api/messages/{message.pk}/reactions/", {"emoji": "👍"}, format="json")
    assert response.status_code == 201
    assert response.json()["emoji"] == "👍" and response.json()["user"] == people["carol"].pk
    assert message.reactions.count() == 1
    people["carol"].refresh_from_db()
    assert people["carol"].last_active is not None

    response = client.delete(f"/api/messages/{message.pk}/reactions/{quote('👍')}/")
    assert response.status_code == 204
    assert not message.reactions.exists()


def test_duplicate_reaction_is_409_naming_emoji(client_for, people, channel):
    message = message_create(channel=channel, author=people["bob"], body="x")
    client = client_for(people["carol"])
    client.post(f"/api/messages/{message.pk}/reactions/", {"emoji": "👍"}, format="json")
    response = client.post(f"/api/messages/{message.pk}/reactions/", {"emoji": "👍"}, format="json")
    assert response.status_code == 409
    assert response.json() == {"emoji": ["You already reacted with this emoji."]}
    assert MessageReaction.objects.count() == 1
    # Another emoji, or another person with the same one, is fine.
    assert client.post(f"/api/messages/{message.pk}/reactions/", {"emoji": "🎉"}, format="json").status_code == 201
    other = client_for(people["bob"]).post(f"/api/messages/{message.pk}/reactions/", {"emoji": "👍"}, format="json")
    assert other.status_code == 201


@pytest.mark.parametrize(
    "body", [{}, {"emoji": ""}, {"emoji": "  "}, {"emoji": 1}, {"emoji": "x" * 65}, {"emoji": " " + "x" * 64}]
)
def test_invalid_emoji_is_400(client_for, people, channel, body):
    message = message_create(channel=channel, author=people["bob"], body="x")
    response = client_for(people["bob"]).post(f"/api/messages/{message.pk}/reactions/", body, format="json")
    assert response.status_code == 400 and "emoji" in response.json()


def test_taking_back_a_reaction_you_did_not_make_is_404(client_for, people, channel):
    message = message_create(channel=channel, author=people["bob"], body="x")
    MessageReactionFactory(message=message, user=people["alice"], emoji="👍")
    response = client_for(people["bob"]).delete(f"/api/messages/{message.pk}/reactions/{quote('👍')}/")
    assert response.status_code == 404
    assert message.reactions.count() == 1
    for emoji in ["%00", "x" * 65]:
        assert client_for(people["bob"]).delete(f"/api/messages/{message.pk}/reactions/{emoji}/").status_code == 404
