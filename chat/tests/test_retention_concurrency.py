"""Retention while people post, react and reply, on PostgreSQL (row locks,
READ COMMITTED): no deadlock, no error, every channel's last_message_at exact
afterwards, no expired message left, and the receipts count exactly what went
(a reply or a reaction to an expiring message either committed before its
batch and is counted, or waits and then fails its FK check)."""

import random
import threading
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection
from django.db.models import Max
from django.utils import timezone

from chat import services
from chat.factories import ChannelFactory
from chat.models import Channel, Message
from companies.factories import CompanyFactory, UserFactory
from companies.models import Company, DeletionReceipt

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_retention_while_posting_replying_and_reacting():
    company = CompanyFactory()
    Company.objects.filter(pk=company.pk).update(message_retention_days=10)
    people = [UserFactory(company=company) for _ in range(4)]
    channels = [ChannelFactory(company=company, created_by=people[0]) for _ in range(3)]
    now = timezone.now()
    old = [
        services.message_create(
            channel=channels[i % 3], author=people[i % 4], body="old", created_at=now - timedelta(days=20, minutes=i)
        )
        for i in range(90)
    ]
    total_before = Message.objects.count()
    errors, stop = [], threading.Event()
    posted = {"new": [], "replies": []}  # list.append is atomic across threads

    def poster(seed):
        rng = random.Random(seed)
        try:
            while not stop.is_set():
                channel = rng.choice(channels)
                author = rng.choice(people)
                try:
                    if rng.random() < 0.5:
                        target = rng.choice(old)
                        services.message_create(channel=target.channel, author=author, body="re", parent=target)
                        posted["replies"].append(1)
                    elif rng.random() < 0.5:
                        services.reaction_add(message=rng.choice(old), user=author, emoji=f"e{rng.randrange(10**6)}")
                    else:
                        services.message_create(channel=channel, author=author, body="new")
                        posted["new"].append(1)
                except (IntegrityError, Message.DoesNotExist):
                    pass  # the parent expired meanwhile: refused, as it must be
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=poster, args=(seed,)) for seed in range(2)]
    for thread in threads:
        thread.start()
    try:
        result = services.retention_apply(company=company, batch_size=7)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert not errors, errors
    assert result.batches >= 13
    assert not Message.objects.filter(pk__in=[m.pk for m in old]).exists()
    assert not Message.objects.filter(parent_id__in=[m.pk for m in old]).exists()
    for channel in Channel.objects.filter(pk__in=[c.pk for c in channels]):
        newest = Message.objects.filter(channel=channel).aggregate(m=Max("created_at"))["m"]
        assert channel.last_message_at == newest
    receipts = DeletionReceipt.objects.filter(run=result.run)
    deleted = sum(r.counts.get("chat_message", 0) for r in receipts)
    # what was there, plus what was posted, minus what is left: all counted
    assert deleted == result.counts["chat_message"]
    assert Message.objects.count() == total_before + len(posted["new"]) + len(posted["replies"]) - deleted
