"""``user_erase``: erasing a person at database speed (one cascading DELETE,
one set-based recompute of ``Channel.last_message_at``) removes exactly what
``user.delete()`` removes and leaves every lifecycle field exactly right."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chat.factories import ChannelFactory, MessageFactory, ReplyFactory
from chat.models import Channel, Message
from companies.factories import UserFactory
from companies.models import User
from companies.services import user_erase
from workspace.db.introspection import orphan_counts
from workspace.testing import build_populated_tenant, diff_snapshots, snapshot_rows, snapshot_tenant_rows

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0) - timedelta(days=1)


def at(minutes: int):
    return T0 + timedelta(minutes=minutes)


def test_removes_exactly_what_user_delete_removes():
    tenant = build_populated_tenant(slug="erased")
    kept = build_populated_tenant(slug="kept")
    # A member who wrote messages that others replied to and reacted on.
    victim = max(tenant.users, key=lambda u: Message.objects.filter(author=u).count())
    assert Message.objects.filter(parent__author=victim).exclude(author=victim).exists()

    with transaction.atomic():
        User.objects.get(pk=victim.pk).delete()  # the collector, with the receivers
        expected = snapshot_rows()
        transaction.set_rollback(True)
    kept_before = snapshot_tenant_rows(kept.company)

    user_erase(user=User.objects.get(pk=victim.pk))

    after = snapshot_rows()
    assert len(after.pop("companies.DeletionReceipt")) == 1  # docs/lifecycle.md
    expected.pop("companies.DeletionReceipt")
    assert diff_snapshots(expected, after) == []
    assert snapshot_tenant_rows(kept.company) == kept_before
    assert orphan_counts() == {}


def test_recomputes_last_message_at_of_each_channel_that_lost_messages():
    victim = UserFactory()
    other = UserFactory(company=victim.company)
    rolls_back = ChannelFactory(company=victim.company, created_by=other)
    empties = ChannelFactory(company=victim.company, created_by=other)
    untouched = ChannelFactory(company=victim.company, created_by=other)
    MessageFactory(channel=rolls_back, author=other, created_at=at(1))
    root = MessageFactory(channel=rolls_back, author=victim, created_at=at(2))
    # another person's reply to the victim's message goes with it (Message.parent CASCADE)
    ReplyFactory(parent=root, author=other, created_at=at(5))
    MessageFactory(channel=rolls_back, author=victim, created_at=at(4))
    MessageFactory(channel=empties, author=victim, created_at=at(3))
    MessageFactory(channel=untouched, author=other, created_at=at(6))

    user_erase(user=victim)

    assert not User.objects.filter(pk=victim.pk).exists()
    assert victim.pk is None
    last = dict(Channel.objects.values_list("pk", "last_message_at"))
    assert last == {rolls_back.pk: at(1), empties.pk: None, untouched.pk: at(6)}
    # the creator of a channel may go; the channel stays (Channel.created_by SET_NULL)
    created = ChannelFactory(company=victim.company, created_by=other)
    user_erase(user=other)
    created.refresh_from_db()
    assert created.created_by_id is None
    assert created.last_message_at is None


def test_query_count_does_not_grow_with_the_number_of_messages():
    def erase_user_with(n_messages: int) -> int:
        victim = UserFactory()
        channels = [ChannelFactory(company=victim.company, created_by=victim) for _ in range(4)]
        for i in range(n_messages):
            MessageFactory(channel=channels[i % 4], author=victim, created_at=at(i))
        with CaptureQueriesContext(connection) as queries:
            user_erase(user=victim)
        assert not Message.objects.filter(channel__in=channels).exists()
        return len(queries)

    assert erase_user_with(200) == erase_user_with(20)


def test_erasing_a_missing_user_is_refused():
    victim = UserFactory()
    ghost = User.objects.get(pk=victim.pk)
    user_erase(user=victim)
    with pytest.raises(User.DoesNotExist):
        user_erase(user=ghost)
