"""Channel.last_message_at on every ORM path (docs/lifecycle.md)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chat import services
from chat.factories import ChannelFactory
from chat.models import Channel, Message
from companies.factories import UserFactory

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0) - timedelta(days=1)


def at(minutes: int):
    return T0 + timedelta(minutes=minutes)


def lma(channel) -> object:
    return Channel.objects.values_list("last_message_at", flat=True).get(pk=channel.pk)


def channel_updates(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith('UPDATE "chat_channel" SET "last_message_at"')]


@pytest.fixture
def channel():
    return ChannelFactory()


@pytest.fixture
def author(channel):
    return UserFactory(company=channel.company)


def post(channel, author, minutes, parent=None):
    return services.message_create(
        channel=channel, author=author, body=f"at {minutes}", parent=parent, created_at=at(minutes)
    )


class TestCreate:
    def test_empty_channel_has_none(self, channel):
        assert lma(channel) is None

    def test_root_message_sets_it_to_its_created_at(self, channel, author):
        message = post(channel, author, 5)
        assert lma(channel) == message.created_at == at(5)

    def test_reply_moves_it_forward(self, channel, author):
        root = post(channel, author, 5)
        post(channel, author, 9, parent=root)
        assert lma(channel) == at(9)

    def test_older_message_never_moves_it_backwards(self, channel, author):
        post(channel, author, 9)
        post(channel, author, 3)
        assert lma(channel) == at(9)

    def test_plain_orm_create_is_covered_too(self, channel, author):
        Message.objects.create(channel=channel, author=author, body="x", created_at=at(7))
        assert lma(channel) == at(7)

    def test_other_channels_are_untouched(self, channel, author):
        other = ChannelFactory(company=channel.company)
        post(channel, author, 5)
        assert lma(other) is None

    def test_edit_never_changes_it(self, channel, author):
        first = post(channel, author, 1)
        post(channel, author, 2)
        services.message_update(message=first, body="edited")
        assert lma(channel) == at(2)

    def test_posting_costs_a_fixed_number_of_queries(self, channel, author):
        post(channel, author, 0)
        counts = []
        for minutes in (1, 2, 3):
            with CaptureQueriesContext(connection) as ctx:
                post(channel, author, minutes)
            counts.append(len(ctx.captured_queries))
        # INSERT message, UPDATE channel, UPDATE user, plus the tenant gate
        # (companies.tenancy.lock_tenant: locks on PostgreSQL, checks that the
        # company is active on both) and the savepoint pair of the service's
        # atomic block inside the test transaction.
        assert counts == [counts[0]] * 3
        assert counts[0] == 6
        assert len(channel_updates(ctx.captured_queries)) == 1


class TestDelete:
    def test_deleting_the_newest_rolls_back_to_the_next_newest(self, channel, author):
        post(channel, author, 1)
        newest = post(channel, author, 2)
        services.message_delete(message=newest)
        assert lma(channel) == at(1)

    def test_deleting_an_older_message_keeps_it(self, channel, author):
        older = post(channel, author, 1)
        post(channel, author, 2)
        older.delete()
        assert lma(channel) == at(2)

    def test_deleting_the_last_message_nulls_it(self, channel, author):
        only = post(channel, author, 1)
        only.delete()
        assert lma(channel) is None

    def test_deleting_a_root_removes_its_replies_from_the_computation(self, channel, author):
        post(channel, author, 1)
        root = post(channel, author, 2)
        post(channel, author, 5, parent=root)
        post(channel, author, 6, parent=root)
        root.delete()
        assert lma(channel) == at(1)
        assert Message.objects.filter(channel=channel).count() == 1

    def test_queryset_delete_recomputes_each_channel_once(self, channel, author):
        second = ChannelFactory(company=channel.company)
        for minutes in range(1, 6):
            post(channel, author, minutes)
            post(second, author, minutes + 10)
        with CaptureQueriesContext(connection) as ctx:
            Message.objects.filter(created_at__gte=at(4)).delete()
        assert lma(channel) == at(3)
        assert lma(second) is None  # at(11)..at(15) were all >= at(4)
        assert len(channel_updates(ctx.captured_queries)) == 1

    def test_deleting_the_author_recomputes_every_channel_they_wrote_in(self, channel, author):
        others = [ChannelFactory(company=channel.company) for _ in range(3)]
        colleague = UserFactory(company=channel.company)
        for index, target in enumerate([channel, *others]):
            post(target, colleague, index)
            post(target, author, 10 + index)
        untouched = ChannelFactory(company=channel.company)
        post(untouched, colleague, 50)
        with CaptureQueriesContext(connection) as ctx:
            author.delete()
        assert [lma(c) for c in [channel, *others]] == [at(0), at(1), at(2), at(3)]
        assert lma(untouched) == at(50)
        assert len(channel_updates(ctx.captured_queries)) == 1

    def test_deleting_a_channel_does_not_recompute_it(self, channel, author):
        post(channel, author, 1)
        with CaptureQueriesContext(connection) as ctx:
            services.channel_delete(channel=channel)
        assert channel_updates(ctx.captured_queries) == []
        assert not Channel.objects.filter(pk=channel.pk).exists()

    def test_deleting_a_company_leaves_other_tenants_alone(self, channel, author):
        other = ChannelFactory()
        post(other, UserFactory(company=other.company), 4)
        post(channel, author, 1)
        channel.company.delete()
        assert lma(other) == at(4)

    def test_user_delete_query_count_does_not_grow_with_messages(self):
        def erase(count: int) -> int:
            channels = ChannelFactory.create_batch(4, company=UserFactory().company)
            user = UserFactory(company=channels[0].company)
            services.message_bulk_create(
                messages=[
                    Message(channel=channels[i % 4], author=user, body=f"m{i}", created_at=at(i)) for i in range(count)
                ]
            )
            with CaptureQueriesContext(connection) as ctx:
                user.delete()
            assert [lma(c) for c in channels] == [None] * 4
            return len(ctx.captured_queries)

        small, large = erase(20), erase(200)
        # Deletes are batched 100 rows a statement: +1 statement per extra
        # batch of messages (and of their rows), nothing per message.
        assert large <= small + 4, (small, large)


class TestBulkCreate:
    def test_updates_each_channel_once_with_its_newest(self, channel, author):
        second = ChannelFactory(company=channel.company)
        post(second, author, 30)
        messages = [
            Message(channel=channel, author=author, body="a", created_at=at(3)),
            Message(channel=channel, author=author, body="b", created_at=at(8)),
            Message(channel=second, author=author, body="c", created_at=at(4)),
        ]
        with CaptureQueriesContext(connection) as ctx:
            services.message_bulk_create(messages=messages)
        assert lma(channel) == at(8)
        assert lma(second) == at(30)  # never backwards
        assert len(channel_updates(ctx.captured_queries)) == 2

    def test_a_plain_bulk_create_keeps_last_message_at_and_last_active_exact(self, channel, author):
        """``Message.objects.bulk_create`` (no service): the manager fills
        company_id from the channels and its post_bulk_create receivers touch
        each channel and author once, with their newest message."""
        second = ChannelFactory(company=channel.company)
        other_author = UserFactory(company=channel.company)
        messages = [
            Message(channel=channel, author=author, body="a", created_at=at(3)),
            Message(channel=channel, author=other_author, body="b", created_at=at(9)),
            Message(channel_id=second.pk, author=author, body="c", created_at=at(5)),  # parent by id only
        ]
        with CaptureQueriesContext(connection) as ctx:
            Message.objects.bulk_create(messages)
        assert {m.company_id for m in Message.objects.all()} == {channel.company_id}
        assert (lma(channel), lma(second)) == (at(9), at(5))
        author.refresh_from_db()
        other_author.refresh_from_db()
        assert (author.last_active, other_author.last_active) == (at(5), at(9))
        assert len(channel_updates(ctx.captured_queries)) == 2  # once per channel

    def test_refuses_a_cross_tenant_author(self, channel):
        from django.core.exceptions import ValidationError

        stranger = UserFactory()
        with pytest.raises(ValidationError) as excinfo:
            services.message_bulk_create(messages=[Message(channel=channel, author=stranger, body="x")])
        assert "author" in excinfo.value.message_dict
        assert not Message.objects.exists()
        assert lma(channel) is None


class TestBypass:
    def test_raw_delete_bypasses_the_receivers(self, channel, author):
        """Documented limit: raw deletes send no signals; integrity_audit --fix repairs it."""
        post(channel, author, 1)
        Message.objects.filter(channel=channel)._raw_delete(connection.alias)
        assert lma(channel) == at(1)
        services.channel_recompute_last_message(channel_ids=[channel.pk])
        assert lma(channel) is None
