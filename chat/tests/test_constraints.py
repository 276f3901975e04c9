"""Constraints of the chat tables, enforced by the database itself: each
write goes through the ORM straight to the table (no service, no
full_clean), and the named constraint refuses it."""

import pytest
from django.db import IntegrityError, connection, transaction

from chat.factories import (
    ChannelFactory,
    ChannelMembershipFactory,
    MessageFactory,
    MessageReactionFactory,
)
from chat.models import Channel, ChannelMembership, Message, MessageReaction
from companies.factories import CompanyFactory, UserFactory
from workspace.testing import refused_by

pytestmark = pytest.mark.django_db

MISSING = 2_000_000_000
# Empty, spaces, and whitespace SQL's TRIM() alone would keep: the database
# refuses what str.strip() reduces to nothing, like the services and the API.
BLANKS = ["", "   ", "\n\t \r\n", "\u00a0\u3000\u2028"]


# --- Channel -----------------------------------------------------------------


def test_channel_name_is_unique_per_company():
    channel = ChannelFactory(name="general")
    with refused_by("chat_channel_unique_name_per_company", sqlite="chat_channel.company_id, chat_channel.name"):
        Channel.objects.create(company=channel.company, name="general")
    # The same name in another tenant is fine.
    Channel.objects.create(company=CompanyFactory(), name="general")


def test_channel_rename_into_a_taken_name_is_refused():
    general = ChannelFactory(name="general")
    random = ChannelFactory(company=general.company, name="random")
    with refused_by("chat_channel_unique_name_per_company", sqlite="chat_channel.company_id, chat_channel.name"):
        Channel.objects.filter(pk=random.pk).update(name="general")


@pytest.mark.parametrize("name", BLANKS)
def test_channel_name_is_not_blank(name):
    company = CompanyFactory()
    with refused_by("chat_channel_name_not_blank"):
        Channel.objects.create(company=company, name=name)


# --- ChannelMembership ---------------------------------------------------------


def test_a_user_is_a_member_of_a_channel_once():
    membership = ChannelMembershipFactory()
    with refused_by(
        "chat_channelmembership_unique_member",
        sqlite="chat_channelmembership.channel_id, chat_channelmembership.user_id",
    ):
        ChannelMembership.objects.create(channel=membership.channel, user=membership.user)


# --- Message -------------------------------------------------------------------


@pytest.mark.parametrize("body", BLANKS)
def test_message_body_is_not_blank(body):
    channel = ChannelFactory()
    with refused_by("chat_message_body_not_blank"):
        Message.objects.create(channel=channel, author=channel.created_by, body=body)


def test_message_body_with_inner_whitespace_is_fine():
    channel = ChannelFactory()
    message = Message.objects.create(channel=channel, author=channel.created_by, body="\n hello\n\tworld \n")
    assert message.pk


def test_message_body_cannot_be_blanked_by_an_update():
    message = MessageFactory()
    with refused_by("chat_message_body_not_blank"):
        Message.objects.filter(pk=message.pk).update(body="  ")


def test_message_in_a_missing_channel_is_refused():
    author = UserFactory()
    # The FK check is deferred to commit: check_constraints() makes the
    # database run it here, so the IntegrityError is raised by this test.
    with pytest.raises(IntegrityError, match="channel_id"):
        with transaction.atomic():
            # company given: it cannot be derived from a channel that is not there
            Message.objects.create(channel_id=MISSING, company=author.company, author=author, body="hello")
            connection.check_constraints()


def test_message_by_a_missing_author_or_replying_to_a_missing_parent_is_refused():
    channel = ChannelFactory()
    with refused_by("author_id"):
        Message.objects.create(channel=channel, author_id=MISSING, body="hello")
    with refused_by("parent_id"):
        Message.objects.create(channel=channel, author=channel.created_by, parent_id=MISSING, body="hi")


# --- MessageReaction -------------------------------------------------------------


def test_a_user_reacts_with_an_emoji_once_per_message():
    reaction = MessageReactionFactory(emoji="👍")
    with refused_by(
        "chat_messagereaction_unique_per_user",
        sqlite="chat_messagereaction.message_id, chat_messagereaction.user_id, chat_messagereaction.emoji",
    ):
        MessageReaction.objects.create(message=reaction.message, user=reaction.user, emoji="👍")
    # Another emoji, or another person with the same emoji, is fine.
    MessageReaction.objects.create(message=reaction.message, user=reaction.user, emoji="🎉")
    other = UserFactory(company=reaction.message.channel.company)
    MessageReaction.objects.create(message=reaction.message, user=other, emoji="👍")
    assert reaction.message.reactions.count() == 3


@pytest.mark.parametrize("emoji", BLANKS)
def test_reaction_emoji_is_not_blank(emoji):
    message = MessageFactory()
    with refused_by("chat_messagereaction_emoji_not_blank"):
        MessageReaction.objects.create(message=message, user=message.author, emoji=emoji)


def test_reaction_on_a_missing_message_is_refused():
    user = UserFactory()
    with refused_by("message_id"):
        MessageReaction.objects.create(message_id=MISSING, company=user.company, user=user, emoji="👍")
