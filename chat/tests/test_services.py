"""chat/services.py: happy paths, bad input, and tenant consistency (a
reference to another company's person or object is refused with a
ValidationError naming the field, and nothing is written)."""

import pytest
from django.core.exceptions import ValidationError

from chat.factories import ChannelFactory, ChannelMembershipFactory, MessageFactory
from chat.models import Channel, ChannelMembership, Message, MessageReaction
from chat.services import (
    channel_create,
    channel_delete,
    channel_update,
    membership_add,
    membership_remove,
    message_bulk_create,
    message_delete,
    message_create,
    message_update,
    reaction_add,
    reaction_remove,
)
from companies.factories import CompanyFactory, UserFactory
from workspace.testing import invalid

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(company):
    return UserFactory(company=company, username="alice")


@pytest.fixture
def bob(company):
    return UserFactory(company=company, username="bob")


@pytest.fixture
def stranger(other_company):
    return UserFactory(company=other_company, username="stranger")


@pytest.fixture
def channel(company, alice):
    return channel_create(company=company, name="general", created_by=alice)


# --- channels ------------------------------------------------------------------


def test_channel_create_makes_creator_and_members_members(company, alice, bob):
    channel = channel_create(company=company, name="  random ", created_by=alice, members=[bob], topic="t")
    assert channel.name == "random"
    assert channel.company == company
    assert set(channel.members.all()) == {alice, bob}


def test_channel_create_refuses_a_creator_of_another_company(company, stranger):
    with invalid("created_by"):
        channel_create(company=company, name="general", created_by=stranger)
    assert not Channel.objects.exists()


def test_channel_create_refuses_a_member_of_another_company(company, alice, stranger):
    with invalid("members"):
        channel_create(company=company, name="general", created_by=alice, members=[stranger])
    assert not Channel.objects.exists()
    assert not ChannelMembership.objects.exists()


@pytest.mark.parametrize("name", ["", "  ", "\n"])
def test_channel_create_refuses_a_blank_name(company, name):
    with invalid("name"):
        channel_create(company=company, name=name)


def test_channel_names_are_unique_per_company(company, other_company, channel):
    with pytest.raises(ValidationError, match="already exists"):
        channel_create(company=company, name="general")
    channel_create(company=other_company, name="general")  # another tenant: fine


def test_channel_update_renames_and_refuses_unknown_or_taken(company, channel):
    channel_create(company=company, name="random")
    channel_update(channel=channel, name=" lobby ", topic="hello")
    channel.refresh_from_db()
    assert (channel.name, channel.topic) == ("lobby", "hello")
    with invalid("company"):
        channel_update(channel=channel, company=CompanyFactory())
    with pytest.raises(ValidationError, match="already exists"):
        channel_update(channel=channel, name="random")


def test_channel_delete_removes_its_memberships_and_messages(channel, alice):
    message_create(channel=channel, author=alice, body="hi")
    channel_delete(channel=channel)
    assert not Channel.objects.exists()
    assert not ChannelMembership.objects.exists()
    assert not Message.objects.exists()


# --- memberships ---------------------------------------------------------------


def test_membership_add_and_remove(channel, bob):
    membership = membership_add(channel=channel, user=bob)
    assert membership.channel == channel and membership.user == bob
    with invalid("user"):
        membership_add(channel=channel, user=bob)  # already a member
    membership_remove(channel=channel, user=bob)
    assert not channel.memberships.filter(user=bob).exists()
    with invalid("user"):
        membership_remove(channel=channel, user=bob)  # not a member any more


def test_membership_add_refuses_a_user_of_another_company(channel, stranger):
    with invalid("user"):
        membership_add(channel=channel, user=stranger)
    assert not channel.memberships.filter(user=stranger).exists()


def test_membership_add_refuses_a_platform_superuser_without_company(channel):
    root = UserFactory(company=None, is_superuser=True)
    with invalid("user"):
        membership_add(channel=channel, user=root)


# --- messages --------------------------------------------------------------------


def test_message_create_strips_and_threads(channel, alice, bob):
    root = message_create(channel=channel, author=alice, body="  hello \n")
    reply = message_create(channel=channel, author=bob, body="hi", parent=root)
    assert root.body == "hello"
    assert reply.parent == root
    assert list(root.replies.all()) == [reply]


def test_message_create_refuses_an_author_of_another_company(channel, stranger):
    with invalid("author"):
        message_create(channel=channel, author=stranger, body="hello")
    assert not Message.objects.exists()


def test_message_create_refuses_a_parent_in_another_channel(company, channel, alice, stranger):
    elsewhere = message_create(channel=channel_create(company=company, name="random"), author=alice, body="there")
    foreign = MessageFactory(author=stranger, channel=ChannelFactory(company=stranger.company))
    for parent in (elsewhere, foreign):
        with invalid("parent"):
            message_create(channel=channel, author=alice, body="reply", parent=parent)
    assert not channel.messages.exists()


@pytest.mark.parametrize("body", ["", "   ", "\n\t", "\u00a0"])
def test_message_create_and_update_refuse_a_blank_body(channel, alice, body):
    with invalid("body"):
        message_create(channel=channel, author=alice, body=body)
    message = message_create(channel=channel, author=alice, body="hello")
    with invalid("body"):
        message_update(message=message, body=body)
    message.refresh_from_db()
    assert message.body == "hello" and message.edited_at is None


def test_message_create_and_update_refuse_a_body_over_the_limit(channel, alice):
    limit = Message._meta.get_field("body").max_length
    message = message_create(channel=channel, author=alice, body="x" * limit)
    with invalid("body"):
        message_create(channel=channel, author=alice, body="x" * (limit + 1))
    with invalid("body"):
        message_update(message=message, body="y" * (limit + 1))
    assert Message.objects.count() == 1


def test_message_update_edits_and_stamps(channel, alice):
    message = message_create(channel=channel, author=alice, body="helo")
    message_update(message=message, body=" hello ")
    message.refresh_from_db()
    assert message.body == "hello"
    assert message.edited_at is not None and message.edited_at >= message.created_at


def test_message_bulk_create_refuses_any_cross_tenant_row(channel, alice, stranger):
    rows = [
        Message(channel=channel, author=alice, body="one"),
        Message(channel=channel, author=stranger, body="two"),
    ]
    with invalid("author"):
        message_bulk_create(messages=rows)
    assert not Message.objects.exists()


# --- reactions -------------------------------------------------------------------


def test_reaction_add_and_remove(channel, alice, bob):
    message = message_create(channel=channel, author=alice, body="hello")
    reaction = reaction_add(message=message, user=bob, emoji=" 👍 ")
    assert reaction.emoji == "👍"
    with invalid("emoji"):
        reaction_add(message=message, user=bob, emoji="👍")  # twice
    reaction_add(message=message, user=alice, emoji="👍")  # someone else: fine
    reaction_remove(message=message, user=bob, emoji="👍")
    assert list(message.reactions.values_list("user__username", flat=True)) == ["alice"]
    with invalid("emoji"):
        reaction_remove(message=message, user=bob, emoji="👍")


def test_reaction_add_refuses_a_user_of_another_company(channel, alice, stranger):
    message = message_create(channel=channel, author=alice, body="hello")
    with invalid("user"):
        reaction_add(message=message, user=stranger, emoji="👍")
    assert not MessageReaction.objects.exists()


@pytest.mark.parametrize("emoji", ["", "  ", "x" * 65])
def test_reaction_add_refuses_a_blank_or_too_long_emoji(channel, alice, emoji):
    message = message_create(channel=channel, author=alice, body="hello")
    with invalid("emoji"):
        reaction_add(message=message, user=alice, emoji=emoji)
    assert not MessageReaction.objects.exists()


def test_membership_factory_and_service_agree_on_tenancy():
    """The factories build tenant-consistent graphs (the service accepts them)."""
    membership = ChannelMembershipFactory()
    assert membership.user.company_id == membership.channel.company_id


# --- error codes (mapped to HTTP statuses in workspace/api/exceptions.py) -------------


def test_a_taken_channel_name_is_coded_unique_on_name(company, channel):
    from workspace.db.writes import UNIQUE, error_codes

    with invalid("name") as info:
        channel_create(company=company, name="general")
    assert error_codes(info.value) == {UNIQUE}
    other = channel_create(company=company, name="random")
    with invalid("name") as info:
        channel_update(channel=other, name=" general ")
    assert error_codes(info.value) == {UNIQUE}


def test_removing_what_is_not_there_is_coded_not_found(channel, alice, bob):
    from workspace.db.writes import NOT_FOUND, error_codes

    with invalid("user") as info:
        membership_remove(channel=channel, user=bob)
    assert error_codes(info.value) == {NOT_FOUND}
    message = message_create(channel=channel, author=alice, body="hi")
    with invalid("emoji") as info:
        reaction_remove(message=message, user=alice, emoji="👍")
    assert error_codes(info.value) == {NOT_FOUND}


# --- permissions: checked by the services with the ``actor`` they are given ---------


@pytest.fixture
def company_admin(company):
    from companies.models import User

    return UserFactory(company=company, role=User.Role.ADMIN, username="boss")


def test_only_the_creator_or_a_company_admin_manages_a_channel(company, channel, alice, bob, company_admin):
    from workspace.db.writes import Forbidden

    with pytest.raises(Forbidden, match="creator or a company admin"):
        channel_update(channel=channel, actor=bob, topic="hijacked")
    with pytest.raises(Forbidden, match="creator or a company admin"):
        channel_delete(channel=channel, actor=bob)
    # An admin of ANOTHER company is no admin here.
    foreign_admin = UserFactory(company=CompanyFactory(), role="admin")
    with pytest.raises(Forbidden):
        channel_update(channel=channel, actor=foreign_admin, topic="hijacked")
    channel_update(channel=channel, actor=alice, topic="by the creator")
    channel_update(channel=channel, actor=company_admin, topic="by an admin")
    channel.refresh_from_db()
    assert channel.topic == "by an admin"
    channel_delete(channel=Channel.objects.get(pk=channel.pk), actor=company_admin)
    assert not Channel.objects.filter(name="general").exists()


def test_members_leave_themselves_managers_remove_anyone(channel, alice, bob, company):
    from workspace.db.writes import Forbidden

    carol = UserFactory(company=company, username="carol")
    membership_add(channel=channel, user=bob, actor=bob)  # joining a public channel
    membership_add(channel=channel, user=carol, actor=bob)
    with pytest.raises(Forbidden, match="member themselves"):
        membership_remove(channel=channel, user=carol, actor=bob)
    membership_remove(channel=channel, user=bob, actor=bob)  # leaving
    membership_remove(channel=channel, user=carol, actor=alice)  # the creator
    assert set(channel.memberships.values_list("user__username", flat=True)) == {"alice"}


def test_only_members_add_people_to_a_private_channel(company, alice, bob):
    from workspace.db.writes import Forbidden

    private = channel_create(company=company, name="secret", created_by=alice, is_private=True)
    with pytest.raises(Forbidden, match="private channel"):
        membership_add(channel=private, user=bob, actor=bob)
    membership_add(channel=private, user=bob, actor=alice)
    assert private.memberships.filter(user=bob).exists()


def test_only_the_author_edits_author_or_company_admin_deletes(channel, alice, bob, company_admin):
    from workspace.db.writes import Forbidden

    message = message_create(channel=channel, author=alice, body="mine")
    for actor in (bob, company_admin):
        with pytest.raises(Forbidden, match="Only the author may edit"):
            message_update(message=message, body="theirs", actor=actor)
    with pytest.raises(Forbidden, match="author or a company admin"):
        message_delete(message=message, actor=bob)
    message_update(message=message, body="still mine", actor=alice)
    assert Message.objects.get(pk=message.pk).body == "still mine"
    message_delete(message=message, actor=company_admin)
    assert not Message.objects.filter(pk=message.pk).exists()


def test_membership_update_read_state_by_the_member_or_a_manager(channel, alice, bob, company):
    from django.utils import timezone

    from chat.services import membership_update
    from workspace.db.writes import Forbidden

    membership = membership_add(channel=channel, user=bob)
    now = timezone.now()
    with pytest.raises(Forbidden):
        membership_update(membership=membership, actor=UserFactory(company=company), last_read_at=now)
    membership_update(membership=membership, actor=bob, last_read_at=now)
    assert ChannelMembership.objects.get(pk=membership.pk).last_read_at == now
    with invalid("joined_at"):
        membership_update(membership=membership, actor=alice, joined_at=now)


def test_members_post_as_themselves(company, channel, alice, bob):
    from workspace.db.writes import Forbidden

    with pytest.raises(Forbidden, match="Only members of the channel may post"):
        message_create(channel=channel, author=bob, body="hi", actor=bob)
    with pytest.raises(Forbidden, match="posted by its author"):
        message_create(channel=channel, author=alice, body="hi", actor=bob)
    membership_add(channel=channel, user=bob, actor=bob)
    assert message_create(channel=channel, author=bob, body="hi", actor=bob).author == bob
