"""Fixtures of the chat tests."""

from datetime import timedelta

import pytest

from chat import services
from chat.models import ChannelMembership
from chat.tests.read_state_kit import T0


@pytest.fixture
def room(company, people):
    """``general``: alice (creator) and bob, both joined before T0 (read-state tests)."""
    channel = services.channel_create(
        company=company, name="general", created_by=people["alice"], members=[people["bob"]]
    )
    ChannelMembership.objects.filter(channel=channel).update(joined_at=T0 - timedelta(hours=1))
    return channel
