"""``channel_delete``: one cascading ``DELETE`` (no collector loading every
message) removes exactly what ``channel.delete()`` removes."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from chat.factories import ChannelFactory, MessageFactory, MessageReactionFactory, ReplyFactory
from chat.models import Channel, Message
from chat.services import channel_delete
from companies.factories import UserFactory
from meetings.factories import MeetingFactory
from workspace.db.introspection import orphan_counts
from workspace.testing import build_populated_tenant, diff_snapshots, snapshot_rows

pytestmark = pytest.mark.django_db


def test_removes_exactly_what_channel_delete_through_the_collector_removes():
    tenant = build_populated_tenant(slug="chan")
    build_populated_tenant(slug="other")
    channel = max(tenant.channels, key=lambda c: Message.objects.filter(channel=c).count())
    assert Message.objects.filter(channel=channel, parent__isnull=False).exists()
    # a meeting announced in it outlives it (Meeting.channel SET_NULL)
    MeetingFactory(organizer=tenant.admin, company=tenant.company, channel=channel)

    with transaction.atomic():
        Channel.objects.get(pk=channel.pk).delete()
        expected = snapshot_rows()
        transaction.set_rollback(True)

    channel_delete(channel=Channel.objects.get(pk=channel.pk))

    after = snapshot_rows()
    assert len(after.pop("companies.DeletionReceipt")) == 1  # docs/lifecycle.md
    expected.pop("companies.DeletionReceipt")
    assert diff_snapshots(expected, after) == []
    assert orphan_counts() == {}


def test_keeps_meetings_and_other_channels_and_costs_the_same_at_any_size():
    def delete_channel_with(n_messages: int) -> int:
        author = UserFactory()
        channel = ChannelFactory(company=author.company, created_by=author)
        other = ChannelFactory(company=author.company, created_by=author)
        kept = MessageFactory(channel=other, author=author)
        meeting = MeetingFactory(organizer=author, company=author.company, channel=channel)
        for _ in range(n_messages):
            root = MessageFactory(channel=channel, author=author)
            MessageReactionFactory(message=ReplyFactory(parent=root, author=author), user=author)
        other.refresh_from_db()
        channel_id = channel.pk
        with CaptureQueriesContext(connection) as queries:
            channel_delete(channel=channel)
        assert channel.pk is None
        assert not Message.objects.exclude(channel=other).filter(author=author).exists()
        meeting.refresh_from_db()
        assert meeting.channel_id is None
        assert Channel.objects.get(pk=other.pk).last_message_at == kept.created_at == other.last_message_at
        statements = [q["sql"] for q in queries.captured_queries]
        # the database cascades: one DELETE, no message loaded into Python
        # (the receipt streams their ids, never their content)
        assert [sql for sql in statements if sql.startswith("DELETE")] == [
            'DELETE FROM "chat_channel" WHERE "id" = %s' % channel_id
        ]
        assert not [sql for sql in statements if '"chat_message"."body"' in sql]
        return len(statements)

    assert delete_channel_with(30) == delete_channel_with(3)
