"""API of channels and their members (docs/api.md)."""

import pytest

from chat.factories import ChannelFactory, ChannelMembershipFactory
from chat.models import Channel, ChannelMembership
from chat.services import channel_create
from companies.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def public(company, people):
    return channel_create(company=company, name="general", created_by=people["alice"], members=[people["bob"]])


@pytest.fixture
def private(company, people):
    return channel_create(
        company=company, name="secret", created_by=people["alice"], is_private=True, members=[people["bob"]]
    )


# --- list / retrieve ----------------------------------------------------------


def test_list_shows_public_channels_and_own_private_ones(client_for, people, public, private):
    ChannelFactory()  # another tenant
    bob = {c["name"] for c in client_for(people["bob"]).get("/api/channels/").json()["results"]}
    carol = {c["name"] for c in client_for(people["carol"]).get("/api/channels/").json()["results"]}
    assert bob == {"general", "secret"}
    assert carol == {"general"}


def test_company_admin_does_not_see_private_channels_they_are_not_in(client_for, people, private):
    assert client_for(people["admin"]).get(f"/api/channels/{private.pk}/").status_code == 404


def test_retrieve_has_membership_flag_and_lifecycle_fields(client_for, people, public):
    data = client_for(people["carol"]).get(f"/api/channels/{public.pk}/").json()
    assert data["name"] == "general"
    assert data["is_member"] is False
    assert data["created_by"] == people["alice"].pk
    assert data["last_message_at"] is None
    assert client_for(people["bob"]).get(f"/api/channels/{public.pk}/").json()["is_member"] is True


def test_private_channel_is_404_for_non_member_like_a_missing_id(client_for, people, private):
    client = client_for(people["carol"])
    hidden = client.get(f"/api/channels/{private.pk}/")
    missing = client.get("/api/channels/987654321/")
    assert hidden.status_code == missing.status_code == 404
    for method in ("patch", "delete"):
        assert getattr(client, method)(f"/api/channels/{private.pk}/", {}, format="json").status_code == 404
    assert client.get(f"/api/channels/{private.pk}/members/").status_code == 404
    assert client.get(f"/api/channels/{private.pk}/messages/").status_code == 404


# --- create ----------------------------------------------------------------------


def test_create_makes_the_caller_creator_and_member(client_for, people, company):
    response = client_for(people["carol"]).post(
        "/api/channels/",
        {"name": "  design ", "topic": "Mock-ups", "is_private": True, "members": [people["bob"].pk]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["name"] == "design" and data["is_private"] is True and data["is_member"] is True
    channel = Channel.objects.get(pk=data["id"])
    assert channel.company == company and channel.created_by == people["carol"]
    assert set(channel.members.all()) == {people["carol"], people["bob"]}


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "\x1d\u3000"}, "name"),
        ({"name": "a\x00b"}, "name"),
        ({"name": 5}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "ok", "topic": "t" * 251}, "topic"),
        ({"name": "ok", "is_private": "yes"}, "is_private"),
        ({"name": "ok", "is_private": 1}, "is_private"),
        ({"name": "ok", "members": "1"}, "members"),
        ({"name": "ok", "members": ["abc"]}, "members"),
        ({"name": "ok", "members": [0]}, "members"),
    ],
)
def test_create_invalid_input_is_400_naming_the_field(client_for, people, body, field):
    response = client_for(people["alice"]).post("/api/channels/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Channel.objects.filter(name="ok").exists()


def test_create_with_a_member_of_another_company_is_400(client_for, people, other_company):
    stranger = UserFactory(company=other_company)
    response = client_for(people["alice"]).post(
        "/api/channels/", {"name": "ok", "members": [stranger.pk]}, format="json"
    )
    assert response.status_code == 400
    assert str(stranger.pk) in response.json()["members"][0]
    assert not Channel.objects.filter(name="ok").exists()


def test_duplicate_name_in_company_is_409_naming_name(client_for, people, public, other_company):
    response = client_for(people["carol"]).post("/api/channels/", {"name": "general"}, format="json")
    assert response.status_code == 409
    assert response.json() == {"name": ["A channel with this name already exists."]}
    # The same name in another company is fine.
    other = UserFactory(company=other_company)
    assert client_for(other).post("/api/channels/", {"name": "general"}, format="json").status_code == 201


# --- update / delete ----------------------------------------------------------


def test_creator_renames_channel(client_for, people, public):
    response = client_for(people["alice"]).patch(
        f"/api/channels/{public.pk}/", {"name": "lobby", "topic": ""}, format="json"
    )
    assert response.status_code == 200
    public.refresh_from_db()
    assert (public.name, public.topic) == ("lobby", "")


def test_company_admin_may_update_and_delete_a_public_channel(client_for, people, public):
    client = client_for(people["admin"])
    assert client.patch(f"/api/channels/{public.pk}/", {"topic": "x"}, format="json").status_code == 200
    assert client.delete(f"/api/channels/{public.pk}/").status_code == 204
    assert not Channel.objects.filter(pk=public.pk).exists()


def test_other_members_may_not_update_or_delete(client_for, people, public):
    client = client_for(people["bob"])
    response = client.patch(f"/api/channels/{public.pk}/", {"name": "mine"}, format="json")
    assert response.status_code == 403
    assert client.delete(f"/api/channels/{public.pk}/").status_code == 403
    public.refresh_from_db()
    assert public.name == "general"


def test_rename_to_an_existing_name_is_409(client_for, people, public, private):
    response = client_for(people["alice"]).patch(f"/api/channels/{private.pk}/", {"name": "general"}, format="json")
    assert response.status_code == 409
    assert "name" in response.json()


def test_update_blank_name_is_400(client_for, people, public):
    response = client_for(people["alice"]).patch(f"/api/channels/{public.pk}/", {"name": " "}, format="json")
    assert response.status_code == 400 and "name" in response.json()


def test_delete_removes_messages_and_memberships(client_for, people, public):
    from chat.factories import MessageFactory

    MessageFactory(channel=public, author=people["bob"])
    assert client_for(people["alice"]).delete(f"/api/channels/{public.pk}/").status_code == 204
    assert not ChannelMembership.objects.filter(channel_id=public.pk).exists()
    assert client_for(people["alice"]).get(f"/api/channels/{public.pk}/").status_code == 404


# --- members ---------------------------------------------------------------------


def test_members_list(client_for, people, public):
    data = client_for(people["carol"]).get(f"/api/channels/{public.pk}/members/").json()
    assert [m["user"] for m in data["results"]] == [people["alice"].pk, people["bob"].pk]
    assert data["results"][0]["username"] == people["alice"].username


def test_join_a_public_channel_by_adding_yourself(client_for, people, public):
    response = client_for(people["carol"]).post(
        f"/api/channels/{public.pk}/members/", {"user": people["carol"].pk}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["user"] == people["carol"].pk
    assert public.members.filter(pk=people["carol"].pk).exists()


def test_member_adds_a_colleague_to_a_private_channel(client_for, people, private):
    response = client_for(people["bob"]).post(
        f"/api/channels/{private.pk}/members/", {"user": people["carol"].pk}, format="json"
    )
    assert response.status_code == 201
    assert private.members.filter(pk=people["carol"].pk).exists()


def test_non_member_cannot_add_to_a_private_channel(client_for, people, private):
    response = client_for(people["carol"]).post(
        f"/api/channels/{private.pk}/members/", {"user": people["carol"].pk}, format="json"
    )
    assert response.status_code == 404
    assert not private.members.filter(pk=people["carol"].pk).exists()


def test_adding_an_existing_member_is_409(client_for, people, public):
    response = client_for(people["alice"]).post(
        f"/api/channels/{public.pk}/members/", {"user": people["bob"].pk}, format="json"
    )
    assert response.status_code == 409
    assert "user" in response.json()


@pytest.mark.parametrize("user", [None, "abc", 0, 987654321, "other-company"])
def test_adding_an_unknown_or_foreign_user_is_400_naming_user(client_for, people, public, other_company, user):
    if user == "other-company":
        user = UserFactory(company=other_company).pk
    body = {} if user is None else {"user": user}
    response = client_for(people["alice"]).post(f"/api/channels/{public.pk}/members/", body, format="json")
    assert response.status_code == 400
    assert "user" in response.json()
    assert public.memberships.count() == 2


def test_leave_a_channel(client_for, people, public):
    response = client_for(people["bob"]).delete(f"/api/channels/{public.pk}/members/{people['bob'].pk}/")
    assert response.status_code == 204
    assert not public.members.filter(pk=people["bob"].pk).exists()


def test_creator_and_admin_remove_others_but_members_do_not(client_for, people, public):
    ChannelMembershipFactory(channel=public, user=people["carol"])
    response = client_for(people["bob"]).delete(f"/api/channels/{public.pk}/members/{people['carol'].pk}/")
    assert response.status_code == 403
    assert public.members.filter(pk=people["carol"].pk).exists()
    response = client_for(people["alice"]).delete(f"/api/channels/{public.pk}/members/{people['carol'].pk}/")
    assert response.status_code == 204
    response = client_for(people["admin"]).delete(f"/api/channels/{public.pk}/members/{people['bob'].pk}/")
    assert response.status_code == 204
    assert list(public.members.all()) == [people["alice"]]


def test_removing_a_non_member_is_404(client_for, people, public):
    response = client_for(people["alice"]).delete(f"/api/channels/{public.pk}/members/{people['carol'].pk}/")
    assert response.status_code == 404
