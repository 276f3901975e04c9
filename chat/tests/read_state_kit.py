"""What the read-state tests share: a clock and a two-member channel."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chat import services
from chat.models import ChannelMembership

T0 = timezone.now() - timedelta(days=1)


def at(minutes: int):
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def room(company, people):
    """``general``: alice (creator) and bob, both joined before T0."""
    channel = services.channel_create(
        company=company, name="general", created_by=people["alice"], members=[people["bob"]]
    )
    ChannelMembership.objects.filter(channel=channel).update(joined_at=T0 - timedelta(hours=1))
    return channel


def post(channel, author, minutes, parent=None):
    return services.message_create(channel=channel, author=author, body="hi", parent=parent, created_at=at(minutes))
