"""Model validation (``full_clean``: admin forms) refuses cross-tenant
references, naming the field."""

import pytest
from django.core.exceptions import ValidationError

from chat.factories import ChannelFactory, MessageFactory
from chat.models import Channel, ChannelMembership, Message, MessageReaction
from companies.factories import UserFactory
from workspace.testing import invalid

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(company):
    return ChannelFactory(company=company)


@pytest.fixture
def stranger(other_company):
    return UserFactory(company=other_company)


def test_channel_created_by_someone_of_another_company_is_invalid(company, stranger):
    with invalid("created_by"):
        Channel(company=company, name="general", created_by=stranger).full_clean()
    Channel(company=company, name="general", created_by=UserFactory(company=company)).full_clean()


def test_membership_of_a_user_of_another_company_is_invalid(channel, stranger):
    with invalid("user"):
        ChannelMembership(channel=channel, user=stranger).full_clean()
    ChannelMembership(channel=channel, user=UserFactory(company=channel.company)).full_clean()


def test_message_by_an_author_of_another_company_is_invalid(channel, stranger):
    with invalid("author"):
        Message(channel=channel, author=stranger, body="hello").full_clean()
    Message(channel=channel, author=channel.created_by, body="hello").full_clean()


def test_reply_to_a_message_of_another_channel_is_invalid(channel):
    elsewhere = MessageFactory(channel=ChannelFactory(company=channel.company))
    with invalid("parent"):
        Message(channel=channel, author=channel.created_by, parent=elsewhere, body="re").full_clean()


@pytest.mark.parametrize("body", ["", "  ", "\n\t"])
def test_blank_message_body_is_invalid(channel, body):
    with pytest.raises(ValidationError, match="may not be blank|cannot be blank"):
        Message(channel=channel, author=channel.created_by, body=body).full_clean()


def test_reaction_by_a_user_of_another_company_is_invalid(channel, stranger):
    message = MessageFactory(channel=channel)
    with invalid("user"):
        MessageReaction(message=message, user=stranger, emoji="👍").full_clean()
    MessageReaction(message=message, user=message.author, emoji="👍").full_clean()
