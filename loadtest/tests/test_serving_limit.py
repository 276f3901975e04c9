"""The serving limit's raw-SQL view (loadtest/serving_limit.py) returns the
API's first message page, and refuses what the API refuses. The page query is
PostgreSQL's (json_build_object): those tests are marked ``postgres``; the
refusals run on SQLite too."""

from datetime import UTC, datetime, timedelta

import pytest
from urllib.parse import parse_qs, urlsplit

from knox.models import AuthToken
from rest_framework.pagination import Cursor

from chat.models import Message, MessageReaction
from chat.services import channel_create, message_create, message_delete, message_update, reaction_add
from companies.models import User
from loadtest.serving_limit import LIMIT_PATH, next_cursor, when
from workspace.api.pagination import NewestFirstCursorPagination

pytestmark = [pytest.mark.django_db, pytest.mark.urls("loadtest.serving_urls")]

API_PATH = "/api/channels/{id}/messages/"
T0 = datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)


def token_for(user, **kwargs) -> dict:
    _, key = AuthToken.objects.create(user=user, **kwargs)
    return {"Authorization": f"Token {key}"}


@pytest.fixture
def busy_channel(people):
    """55 top-level messages (two pages), replies, reactions, an edit, a
    deleted thread; the last two of the first page and the first of the next
    share their time (the cursor then carries an offset)."""
    alice, bob = people["alice"], people["bob"]
    channel = channel_create(company=alice.company, name="busy", created_by=alice, members=[bob])
    top = [message_create(channel=channel, author=(alice, bob)[i % 2], body=f"message {i}") for i in range(55)]
    for i, message in enumerate(top):
        created = T0 + timedelta(minutes=i, microseconds=(0, 120_000, 123_456)[i % 3])
        Message.objects.filter(pk=message.pk).update(created_at=created)
    # newest first (top[30] is deleted below), the first page is top[54]..top[4]:
    # top[5], top[4] end it and top[3] starts the next at the same time
    Message.objects.filter(pk__in=[top[3].pk, top[4].pk, top[5].pk]).update(created_at=T0 + timedelta(minutes=4))
    for i in (9, 30, 54):
        for j in range(i % 4 + 1):
            message_create(channel=channel, author=bob, body=f"reply {j} to {i}", parent=top[i])
    for i, emoji in ((54, "👍"), (54, "🎉"), (40, "❤️"), (9, "👀")):
        for user in (alice, bob):
            reaction_add(message=top[i], user=user, emoji=emoji)
    MessageReaction.objects.filter(message=top[54], emoji="👍").update(created_at=T0 + timedelta(days=1))
    message_update(message=top[40], body="edited")
    message_delete(message=top[30])  # a thread parent, with its replies
    return channel, top


@pytest.mark.postgres
def test_first_page_is_the_api_s(client, people, busy_channel):
    channel, top = busy_channel
    headers = token_for(people["bob"])
    limit = client.get(LIMIT_PATH.format(id=channel.pk), headers=headers)
    api = client.get(API_PATH.format(id=channel.pk), headers=headers)
    assert limit.status_code == api.status_code == 200
    assert limit["Content-Type"] == "application/json"
    page = limit.json()
    assert [m["id"] for m in page["results"]] == [m["id"] for m in api.json()["results"]]
    assert page == api.json()  # the whole body: keys, date-times, reactions, the cursor
    assert len(page["results"]) == 50 and top[30].pk not in {m["id"] for m in page["results"]}
    assert page["next"].startswith(f"http://testserver/api/channels/{channel.pk}/messages/?cursor=")
    assert parse_qs(urlsplit(page["next"]).query)["cursor"] == [drf_cursor(2, str(T0 + timedelta(minutes=6)))]
    # ``next`` is the API's: it serves the rest
    rest = client.get(page["next"], headers=headers)
    assert [m["id"] for m in rest.json()["results"]] == [m.pk for m in reversed(top[:4])]


@pytest.mark.postgres
def test_a_short_page_has_no_next_and_matches_the_api(client, people):
    alice = people["alice"]
    channel = channel_create(company=alice.company, name="quiet", created_by=alice)
    message_create(channel=channel, author=alice, body="only one")
    headers = token_for(alice)
    limit = client.get(LIMIT_PATH.format(id=channel.pk), headers=headers).json()
    assert limit == client.get(API_PATH.format(id=channel.pk), headers=headers).json()
    assert limit["next"] is None and len(limit["results"]) == 1


@pytest.mark.postgres
def test_a_hidden_channel_is_404_as_in_the_api(client, people, other_company):
    alice, carol = people["alice"], people["carol"]
    private = channel_create(company=alice.company, name="secret", created_by=alice, is_private=True)
    message_create(channel=private, author=alice, body="hush")
    headers = token_for(carol)  # not a member
    for path in (LIMIT_PATH, API_PATH):
        assert client.get(path.format(id=private.pk), headers=headers).status_code == 404
    empty = channel_create(company=alice.company, name="empty", created_by=alice, is_private=True)
    assert client.get(LIMIT_PATH.format(id=empty.pk), headers=headers).status_code == 404
    assert client.get(LIMIT_PATH.format(id=empty.pk), headers=token_for(alice)).json()["results"] == []


def _refusals(people):
    alice, bob = people["alice"], people["bob"]
    expired = token_for(alice, expiry=timedelta(seconds=-1))
    key = token_for(alice)["Authorization"].removeprefix("Token ")
    inactive = token_for(bob)
    User.objects.filter(pk=bob.pk).update(is_active=False)
    return {
        "no header": {},
        "another scheme": {"Authorization": f"Bearer {key}"},
        "not a token": {"Authorization": "Token not-a-token"},
        "unknown token": {"Authorization": "Token " + "0" * 64},
        "right key, wrong secret": {"Authorization": "Token " + key[:15] + "0" * 49},
        "expired": expired,
        "inactive user": inactive,
    }


def test_refused_without_a_valid_token_as_the_api(client, people):
    channel = channel_create(company=people["alice"].company, name="general", created_by=people["alice"])
    for case, headers in _refusals(people).items():
        limit = client.get(LIMIT_PATH.format(id=channel.pk), headers=headers)
        assert limit.status_code == 401, case
        assert limit["WWW-Authenticate"] == "Token", case
        assert "detail" in limit.json(), case
        # the API answers the same (it deletes an expired or inactive user's
        # token: asked after the limit)
        assert client.get(API_PATH.format(id=channel.pk), headers=headers).status_code == 401, case


def test_a_platform_superuser_is_refused(client, superuser):
    assert client.get(LIMIT_PATH.format(id=1), headers=token_for(superuser)).status_code == 403


def test_only_get(client, people):
    assert client.post(LIMIT_PATH.format(id=1), headers=token_for(people["alice"])).status_code == 405


def drf_cursor(offset: int, position: str | None) -> str:
    """The cursor DRF's paginator writes (what the API's ``next`` carries)."""
    pagination = NewestFirstCursorPagination()
    pagination.base_url = "http://testserver/"
    url = pagination.encode_cursor(Cursor(offset=offset, reverse=False, position=position))
    return parse_qs(urlsplit(url).query)["cursor"][0]


def test_next_cursor_is_drf_s():
    t = [T0 - timedelta(minutes=i, microseconds=i) for i in range(51)]
    assert next_cursor(t[:50]) is None  # no row after the page
    assert next_cursor(t) == drf_cursor(0, str(t[49]))
    tied = t[:48] + [t[48]] * 3  # the last two of the page have the time of the row after it
    assert next_cursor(tied) == drf_cursor(2, str(t[47]))
    assert next_cursor([T0] * 51) == drf_cursor(50, None)  # no unique position on the page


def test_date_times_are_written_as_the_api_does():
    assert when(None) is None
    assert when(T0) == "2024-03-01T12:00:00Z"
    assert when("2024-03-01T12:00:00.12+00:00") == "2024-03-01T12:00:00.120000Z"
