"""A tenant purge racing that tenant's writers, on PostgreSQL.

The purge's cascade locks users before channels while a post locks its
channel before its author; without the tenant gate (companies.tenancy.
lock_tenant) the two deadlock and PostgreSQL aborts one of them.
"""

import threading

import pytest
from django.db import connection
from django.db.utils import OperationalError

from chat import services as chat_services
from chat.factories import ChannelFactory
from chat.models import Channel, Message
from companies.factories import CompanyFactory, UserFactory
from companies.models import Company
from companies.services import company_purge
from workspace.db.introspection import orphan_counts

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WRITERS = 6


def test_purge_while_the_tenant_posts_neither_deadlocks_nor_orphans():
    other_channel = ChannelFactory()
    other_author = UserFactory(company=other_channel.company)
    company = CompanyFactory()
    channels = ChannelFactory.create_batch(4, company=company)
    authors = [UserFactory(company=company) for _ in range(WRITERS)]
    for channel in channels:
        for author in authors:
            chat_services.membership_add(channel=channel, user=author)

    stop = threading.Event()
    # Each writer signals once it has posted: the purge starts only when every
    # writer is mid-stream (events, not sleeps: the test must not depend on
    # how fast a loaded machine schedules the threads).
    started = [threading.Event() for _ in authors]
    unexpected: list[BaseException] = []
    gone: list[BaseException] = []
    posted = [0]

    def write(author, index):
        try:
            while not stop.is_set():
                channel = channels[(index + posted[0]) % len(channels)]
                try:
                    message = chat_services.message_create(channel=channel, author=author, body="x")
                    chat_services.reaction_add(message=message, user=author, emoji="👍")
                    posted[0] += 1
                    started[index].set()
                except (Company.DoesNotExist,) as exc:  # the tenant is gone: an API 404
                    gone.append(exc)
                    return
        except OperationalError as exc:  # a deadlock lands here
            unexpected.append(exc)
        except BaseException as exc:
            unexpected.append(exc)
        finally:
            started[index].set()  # never leave the main thread waiting
            connection.close()

    threads = [threading.Thread(target=write, args=(a, i)) for i, a in enumerate(authors)]
    for thread in threads:
        thread.start()
    try:
        for event in started:
            assert event.wait(timeout=60), "a writer never posted"
        company_purge(company=Company.objects.get(pk=company.pk))
        # Every writer's next write meets the gone tenant and ends by itself.
        for thread in threads:
            thread.join(timeout=60)
    finally:
        stop.set()  # only a safety net: the writers have returned
        for thread in threads:
            thread.join(timeout=60)

    assert not unexpected, unexpected
    assert posted[0] > 0
    assert len(gone) == WRITERS  # every writer ran into the purge and was told so
    assert not Company.objects.filter(pk=company.pk).exists()
    assert not Message.objects.filter(channel_id__in=[c.pk for c in channels]).exists()
    assert not any(orphan_counts().values())
    assert Channel.objects.filter(pk=other_channel.pk).exists()
    assert other_author.__class__.objects.filter(pk=other_author.pk).exists()
