"""API of read state: POST /api/channels/{id}/read/ and the read fields of the
channel list and detail (docs/api.md, "Read state")."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat import services
from chat.factories import ChannelFactory, MessageFactory
from chat.models import ChannelMembership
from chat.tests.read_state_kit import at, post

pytestmark = pytest.mark.django_db


def iso(value) -> str:
    return value.isoformat().replace("+00:00", "Z")


def read_url(channel) -> str:
    return f"/api/channels/{channel.pk}/read/"


def listed(client, channel) -> dict:
    return next(c for c in client.get("/api/channels/").json()["results"] if c["id"] == channel.pk)


def test_list_and_detail_carry_the_read_state(client_for, room, people):
    post(room, people["alice"], 1)
    post(room, people["alice"], 2)
    bob = client_for(people["bob"])
    expected = {"last_message_at": iso(at(2)), "last_read_at": None, "unread_count": 2, "has_unread": True}
    for data in (listed(bob, room), bob.get(f"/api/channels/{room.pk}/").json()):
        assert {key: data[key] for key in expected} == expected
    carol = listed(client_for(people["carol"]), room)  # not a member
    assert (carol["is_member"], carol["last_read_at"], carol["unread_count"], carol["has_unread"]) == (
        False,
        None,
        0,
        False,
    )


def test_mark_read_without_body_reads_up_to_the_newest_message(client_for, room, people):
    post(room, people["alice"], 1)
    post(room, people["alice"], 2)
    bob = client_for(people["bob"])
    response = bob.post(read_url(room))
    assert response.status_code == 200
    assert response.json() == {"last_read_at": iso(at(2)), "unread_count": 0, "has_unread": False}
    assert listed(bob, room)["has_unread"] is False
    post(room, people["alice"], 3)
    assert listed(bob, room)["unread_count"] == 1


def test_mark_read_up_to_a_message_never_moves_back(client_for, room, people):
    old, new = post(room, people["alice"], 1), post(room, people["alice"], 2)
    bob = client_for(people["bob"])
    assert bob.post(read_url(room), {"message": old.pk}, format="json").json() == {
        "last_read_at": iso(at(1)),
        "unread_count": 1,
        "has_unread": True,
    }
    assert bob.post(read_url(room), {"message": new.pk}, format="json").json()["last_read_at"] == iso(at(2))
    response = bob.post(read_url(room), {"message": old.pk}, format="json")
    assert response.status_code == 200
    assert response.json() == {"last_read_at": iso(at(2)), "unread_count": 0, "has_unread": False}


def test_a_message_of_another_channel_or_unknown_is_a_400_on_message(client_for, room, company, people):
    other = services.channel_create(company=company, name="other", created_by=people["alice"])
    elsewhere = post(other, people["alice"], 1)
    foreign = MessageFactory()  # another tenant's: unknown to bob
    bob = client_for(people["bob"])
    response = bob.post(read_url(room), {"message": elsewhere.pk}, format="json")
    assert response.status_code == 400
    assert response.json() == {"message": ["The message is in another channel."]}
    for pk in (foreign.pk, 987654321):
        response = bob.post(read_url(room), {"message": pk}, format="json")
        assert response.status_code == 400
        assert response.json() == {"message": [f"No message with id {pk}."]}
    assert bob.post(read_url(room), {"message": "5"}, format="json").status_code == 400
    assert ChannelMembership.objects.get(channel=room, user=people["bob"]).last_read_at is None


def test_a_non_member_of_a_public_channel_gets_403(client_for, room, people):
    post(room, people["alice"], 1)
    response = client_for(people["carol"]).post(read_url(room))
    assert response.status_code == 403
    assert "join it first" in response.json()["detail"]


def test_another_tenants_or_an_invisible_private_channel_is_404(client_for, company, people):
    secret = services.channel_create(company=company, name="secret", created_by=people["alice"], is_private=True)
    foreign = ChannelFactory()
    carol = client_for(people["carol"])
    for channel in (secret, foreign):
        assert carol.post(read_url(channel)).status_code == 404
    assert carol.post("/api/channels/987654321/read/").status_code == 404


def test_my_own_messages_are_never_unread(client_for, room, people):
    post(room, people["bob"], 1)
    post(room, people["bob"], 2)
    assert listed(client_for(people["bob"]), room)["unread_count"] == 0
    assert listed(client_for(people["alice"]), room)["unread_count"] == 2


def test_deleting_an_unread_message_through_the_api_updates_the_count(client_for, room, people):
    post(room, people["alice"], 1)
    doomed = post(room, people["alice"], 2)
    bob = client_for(people["bob"])
    assert listed(bob, room)["unread_count"] == 2
    assert client_for(people["alice"]).delete(f"/api/messages/{doomed.pk}/").status_code == 204
    assert listed(bob, room)["unread_count"] == 1


def test_channel_list_queries_do_not_grow_with_the_number_of_channels(client_for, company, people):
    bob = client_for(people["bob"])
    bob.get("/api/me/")  # the first request of a token also touches last_active

    def queries_for(n: int) -> int:
        for i in range(n):
            channel = services.channel_create(
                company=company, name=f"c{n}-{i}", created_by=people["alice"], members=[people["bob"]]
            )
            services.message_create(channel=channel, author=people["alice"], body="new")
        with CaptureQueriesContext(connection) as queries:
            results = bob.get("/api/channels/").json()["results"]
        assert len(results) >= n and all(c["unread_count"] == 1 for c in results)
        return len(queries.captured_queries)

    assert queries_for(2) == queries_for(8)


def test_the_read_endpoint_is_in_the_schema_with_every_status(client_for, people):
    schema = client_for(people["alice"]).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/api/channels/{id}/read/"]["post"]
    assert set(operation["responses"]) == {"200", "400", "401", "403", "404", "413", "415", "503"}
    assert not operation["requestBody"].get("required", False)
    channel = schema["components"]["schemas"]["Channel"]["properties"]
    assert {"last_read_at", "unread_count", "has_unread"} <= set(channel)
