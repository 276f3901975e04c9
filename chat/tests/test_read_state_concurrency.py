"""Read state under concurrent writers, on PostgreSQL (READ COMMITTED, real threads)."""

import random
import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from chat import selectors, services
from chat.models import ChannelMembership, Message
from chat.tests.test_lifecycle_concurrency import run_in_threads
from companies.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


@pytest.fixture
def room(company):
    reader = UserFactory(company=company)
    poster = UserFactory(company=company)
    channel = services.channel_create(company=company, name="busy", created_by=poster, members=[reader])
    ChannelMembership.objects.filter(channel=channel).update(joined_at=timezone.now() - timedelta(days=2))
    return channel, reader, poster


def unread(channel, user) -> tuple:
    row = selectors.channel_read_state(channels=selectors.channel_list_visible(user=user), user=user).get(pk=channel.pk)
    return row.last_read_at, row.unread_count


def test_concurrent_marks_in_shuffled_order_end_at_the_newest(room):
    # Several devices mark read up to different messages at once, in any
    # order: the mark ends at the newest of them, never at a later-committed
    # older one.
    channel, reader, poster = room
    base = timezone.now() - timedelta(days=1)
    messages = [
        services.message_create(channel=channel, author=poster, body="m", created_at=base + timedelta(seconds=i))
        for i in range(THREADS * 10)
    ]
    order = messages[:]
    random.Random(3).shuffle(order)
    chunks = [order[i::THREADS] for i in range(THREADS)]

    def mark_all(chunk):
        for message in chunk:
            services.membership_mark_read(channel=channel, user=reader, message=message)

    run_in_threads(mark_all, [(chunk,) for chunk in chunks])
    assert unread(channel, reader) == (messages[-1].created_at, 0)


def test_marking_read_while_others_post_never_moves_back_and_counts_stay_exact(room):
    channel, reader, poster = room
    others = [UserFactory(company=channel.company) for _ in range(THREADS // 2)]
    for user in others:
        services.membership_add(channel=channel, user=user)
    seen = []  # every mark the reader's threads got back, in return order
    lock = threading.Lock()

    def post_many(author):
        for _ in range(25):
            services.message_create(channel=channel, author=author, body="p")

    def mark_many():
        for _ in range(25):
            value = services.membership_mark_read(channel=channel, user=reader)
            current = ChannelMembership.objects.get(channel=channel, user=reader).last_read_at
            with lock:
                seen.append((value, current))
            # What the row holds is never behind what this thread got back.
            assert value is None or current >= value

    jobs = [(post_many, (user,)) for user in others] + [(mark_many, ()) for _ in range(THREADS - len(others))]
    run_in_threads(lambda job, args: job(*args), jobs)

    last_read_at, count = unread(channel, reader)
    marks = [value for value, _ in seen if value is not None]
    assert marks and last_read_at == max(marks)
    assert count == Message.objects.filter(channel=channel, created_at__gt=last_read_at).count()
    # A final mark reads everything that was posted.
    services.membership_mark_read(channel=channel, user=reader)
    assert unread(channel, reader) == (Message.objects.order_by("-created_at")[0].created_at, 0)
