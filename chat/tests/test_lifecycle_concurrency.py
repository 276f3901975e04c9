"""last_message_at under concurrent writers, on PostgreSQL (row locks, READ COMMITTED)."""

import random
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Max
from django.utils import timezone

from chat import services
from chat.factories import ChannelFactory
from chat.models import Channel, Message
from companies.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def run_in_threads(target, args_list):
    barrier = threading.Barrier(len(args_list))
    errors = []

    def worker(*args):
        try:
            barrier.wait()
            target(*args)
        except Exception as exc:  # surfaced below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=args) for args in args_list]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors


def newest_created_at(channel):
    return Message.objects.filter(channel=channel).aggregate(m=Max("created_at"))["m"]


def test_concurrent_posts_with_shuffled_times_end_at_the_maximum():
    channel = ChannelFactory()
    authors = [UserFactory(company=channel.company) for _ in range(THREADS)]
    base = timezone.now() - timedelta(days=1)
    times = [base + timedelta(seconds=i) for i in range(THREADS * 15)]
    random.Random(7).shuffle(times)
    chunks = [times[i::THREADS] for i in range(THREADS)]

    def post_all(author, chunk):
        for created_at in chunk:
            services.message_create(channel=channel, author=author, body="x", created_at=created_at)

    run_in_threads(post_all, list(zip(authors, chunks)))

    channel.refresh_from_db()
    assert Message.objects.filter(channel=channel).count() == len(times)
    assert channel.last_message_at == max(times) == newest_created_at(channel)
    for author, chunk in zip(authors, chunks):
        author.refresh_from_db()
        assert author.last_active == max(chunk)


def test_posting_while_the_newest_messages_are_deleted_ends_consistent():
    channel = ChannelFactory()
    posters = [UserFactory(company=channel.company) for _ in range(THREADS - 1)]
    deleter = UserFactory(company=channel.company)
    base = timezone.now() - timedelta(days=1)
    # The newest messages exist first; posters add older ones while the
    # deleter removes the newest one by one, so every recompute races a post.
    newest = [
        services.message_create(
            channel=channel, author=deleter, body="n", created_at=base + timedelta(hours=1, seconds=i)
        )
        for i in range(20)
    ]

    def post_older(author, offset):
        for i in range(20):
            services.message_create(
                channel=channel, author=author, body="o", created_at=base + timedelta(seconds=offset * 100 + i)
            )

    def delete_newest(_author, _offset):
        for message in reversed(newest):
            services.message_delete(message=Message.objects.get(pk=message.pk))

    jobs = [(post_older, poster, index) for index, poster in enumerate(posters)]
    jobs.append((delete_newest, deleter, 0))
    run_in_threads(lambda job, author, offset: job(author, offset), jobs)

    channel.refresh_from_db()
    assert not Message.objects.filter(pk__in=[m.pk for m in newest]).exists()
    assert Message.objects.filter(channel=channel).count() == len(posters) * 20
    assert channel.last_message_at == newest_created_at(channel)
    assert channel.last_message_at == base + timedelta(seconds=(len(posters) - 1) * 100 + 19)


def test_deleting_everything_while_posting_ends_consistent():
    channel = ChannelFactory()
    authors = [UserFactory(company=channel.company) for _ in range(THREADS)]
    base = timezone.now() - timedelta(days=1)

    def churn(author, index):
        rng = random.Random(index)
        for i in range(25):
            message = services.message_create(
                channel=channel, author=author, body="c", created_at=base + timedelta(seconds=rng.randrange(10_000))
            )
            if i % 2:
                services.message_delete(message=message)

    run_in_threads(churn, [(author, index) for index, author in enumerate(authors)])

    channel.refresh_from_db()
    assert Channel.objects.get(pk=channel.pk).last_message_at == newest_created_at(channel)
