"""What the read-state tests share: a clock and a way to post at it (the
two-member channel ``room`` is a fixture in chat/tests/conftest.py)."""

from datetime import timedelta

from django.utils import timezone

from chat import services

T0 = timezone.now() - timedelta(days=1)


def at(minutes: int):
    return T0 + timedelta(minutes=minutes)


def post(channel, author, minutes, parent=None):
    return services.message_create(channel=channel, author=author, body="hi", parent=parent, created_at=at(minutes))
