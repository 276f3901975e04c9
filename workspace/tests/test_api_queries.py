"""Every list endpoint runs the same number of queries for a page of 1 item and
for a page of 50 (no N+1: nested reactions, participants, reply counts and
usernames come from joins, subqueries and prefetches)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chat.factories import ChannelFactory, ChannelMembershipFactory, MessageFactory, MessageReactionFactory
from companies.factories import AttendanceFactory, UserFactory
from companies.models import User
from meetings.factories import MeetingFactory, MeetingParticipantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def me(company):
    return UserFactory(company=company, role=User.Role.ADMIN)


@pytest.fixture
def channel(company, me):
    channel = ChannelFactory(company=company, created_by=me, name="aaa-general")
    ChannelMembershipFactory(channel=channel, user=me)
    return channel


def add_users(company, me, channel, n):
    for _ in range(n):
        UserFactory(company=company)


def add_channels(company, me, channel, n):
    for _ in range(n):
        private = ChannelFactory(company=company, created_by=me, is_private=True)
        ChannelMembershipFactory(channel=private, user=me)


def add_members(company, me, channel, n):
    for _ in range(n):
        ChannelMembershipFactory(channel=channel)


def _message(channel, me, parent=None):
    message = MessageFactory(channel=channel, author=me, parent=parent)
    MessageReactionFactory(message=message, user=me, emoji="👍")
    MessageReactionFactory(message=message, user=me, emoji="🎉")
    return message


def add_messages(company, me, channel, n):
    for _ in range(n):
        message = _message(channel, me)
        MessageFactory(channel=channel, author=me, parent=message)  # a reply (counted, not listed)


def add_replies(company, me, channel, n):
    root = channel.messages.filter(parent=None).first() or MessageFactory(channel=channel, author=me)
    for _ in range(n):
        _message(channel, me, parent=root)


def add_meetings(company, me, channel, n):
    start = timezone.now() + timedelta(days=1)
    for i in range(n):
        meeting = MeetingFactory(
            company=company, organizer=me, starts_at=start + timedelta(hours=i), ends_at=start + timedelta(hours=i + 1)
        )
        for _ in range(3):
            MeetingParticipantFactory(meeting=meeting)


def add_attendances(company, me, channel, n):
    start = timezone.now() - timedelta(days=400)
    for i in range(n):
        day = start + timedelta(days=i)
        AttendanceFactory(user=UserFactory(company=company), check_in=day, check_out=day + timedelta(hours=8))


def root_replies_path(channel):
    root = channel.messages.filter(parent=None).first()
    return f"/api/channels/{channel.pk}/messages/?parent={root.pk}"


ENDPOINTS = [
    # (name, path (or a function of the channel), how to add n items, items already listed)
    ("users", lambda c: "/api/users/", add_users, 1),  # me
    ("channels", lambda c: "/api/channels/", add_channels, 1),  # the fixture channel
    ("members", lambda c: f"/api/channels/{c.pk}/members/", add_members, 1),  # me
    ("messages", lambda c: f"/api/channels/{c.pk}/messages/", add_messages, 0),
    ("thread", root_replies_path, add_replies, 0),
    ("meetings", lambda c: "/api/meetings/", add_meetings, 0),
    ("attendance", lambda c: "/api/attendance/", add_attendances, 0),
]


def count_queries(client, path):
    client.get(path)  # warm-up: the once-a-minute last_active write happens here
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, response.content
    return len(queries), len(response.json()["results"])


@pytest.mark.parametrize("name, path, add, present", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_query_count_does_not_grow_with_the_page(client_for, company, me, channel, name, path, add, present):
    client = client_for(me)
    if name == "thread":
        MessageFactory(channel=channel, author=me)  # the thread's root
    add(company, me, channel, 1 - present)
    few, listed = count_queries(client, path(channel))
    assert listed == 1
    add(company, me, channel, 49)
    many, listed = count_queries(client, path(channel))
    assert listed == 50
    assert many == few, f"{name}: {few} queries for 1 item, {many} for 50"
