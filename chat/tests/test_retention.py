"""Retention (docs/lifecycle.md, "Retention"): messages older than the
company's ``message_retention_days`` are deleted in short batches, with the
replies under them and their reactions; after every batch, every channel's
``last_message_at`` is exact; the preview counts what then goes."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from chat.factories import ChannelFactory, MessageFactory, MessageReactionFactory
from chat.models import Channel, Message, MessageReaction
from chat.selectors import retention_preview
from chat.services import retention_apply, retention_run_all
from companies.factories import CompanyFactory, UserFactory
from companies.models import Company, DeletionReceipt
from companies.services import company_set_retention

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def days_ago(days, minutes=0):
    return NOW - timedelta(days=days, minutes=minutes)


def world(days=30):
    """A company with retention ``days``: three channels (one whose every
    message expires, one mixed, one recent only), an expired root with a
    recent reply (and a reaction on the reply), and a bystander company with
    the same old messages and no retention."""
    company = CompanyFactory()
    company_set_retention(company=company, days=days)
    people = [UserFactory(company=company) for _ in range(3)]
    old_only, mixed, recent = (ChannelFactory(company=company, created_by=people[0]) for _ in range(3))
    for i in range(5):
        MessageFactory(channel=old_only, author=people[i % 3], created_at=days_ago(40 + i))
        MessageFactory(channel=mixed, author=people[i % 3], created_at=days_ago(31, minutes=i))
        MessageFactory(channel=mixed, author=people[i % 3], created_at=days_ago(5, minutes=i))
        MessageFactory(channel=recent, author=people[i % 3], created_at=days_ago(1, minutes=i))
    root = MessageFactory(channel=mixed, author=people[0], created_at=days_ago(60))
    reply = MessageFactory(channel=mixed, author=people[1], parent=root, created_at=days_ago(2))
    MessageReactionFactory(message=reply, user=people[2])
    MessageReactionFactory(message=root, user=people[1])
    other = CompanyFactory()
    other_channel = ChannelFactory(company=other)
    MessageFactory(channel=other_channel, created_at=days_ago(400))
    return company, [old_only, mixed, recent], root, reply, other_channel


def assert_last_message_at_exact(channels):
    for channel in Channel.objects.filter(pk__in=[c.pk for c in channels]):
        newest = Message.objects.filter(channel=channel).aggregate(m=Max("created_at"))["m"]
        assert channel.last_message_at == newest, channel
        if newest is not None:  # never points at a deleted message
            assert Message.objects.filter(channel=channel, created_at=channel.last_message_at).exists()


def test_deletes_expired_messages_in_batches_with_last_message_at_exact_after_each():
    company, channels, root, reply, other_channel = world()
    preview = retention_preview(company=company, now=NOW).counts()
    checked = []

    def after_batch(batch):
        assert batch.counts["chat_message"] >= 1
        assert_last_message_at_exact(channels)
        checked.append(batch.number)

    result = retention_apply(company=company, batch_size=2, now=NOW, on_batch=after_batch)
    # channel by channel, expired roots by twos: 5 -> 3 batches, 5 + 1 -> 3
    # batches, each checked after its commit
    assert result.batches == 6 and checked == [1, 2, 3, 4, 5, 6]
    assert result.counts == preview == {"chat_message": 12, "chat_messagereaction": 2}
    assert not Message.objects.filter(channel__company=company, created_at__lt=days_ago(30)).exists()
    assert not Message.objects.filter(pk__in=[root.pk, reply.pk]).exists()  # the newer reply went with its parent
    assert not MessageReaction.objects.filter(message__channel__company=company).exists()
    assert Message.objects.filter(channel__company=company).count() == 10
    assert Channel.objects.get(pk=channels[0].pk).last_message_at is None  # emptied
    assert_last_message_at_exact(channels)
    # the bystander without retention keeps its old message
    assert Message.objects.filter(channel=other_channel).count() == 1
    receipts = DeletionReceipt.objects.filter(run=result.run).order_by("batch")
    assert [r.batch for r in receipts] == checked
    assert all(r.kind == "retention_run" and r.company_id == company.pk for r in receipts)
    assert receipts[0].parameters["days"] == 30
    # a second run finds nothing: no batch, no receipt
    again = retention_apply(company=company, batch_size=2, now=NOW)
    assert again.batches == 0 and DeletionReceipt.objects.count() == 6


def test_a_batch_is_bounded_and_costs_the_same_number_of_queries():
    company, channels, *_ = world()
    counts = []

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        retention_apply(
            company=company,
            batch_size=1,
            now=NOW,
            on_batch=lambda batch: counts.append((batch.counts.get("chat_message"), len(ctx.captured_queries))),
        )
    per_batch = [b - a for (_, a), (_, b) in zip(counts, counts[1:])]
    # same statements whatever the batch; the first batch of a channel also
    # carries the empty probe that ended the previous channel
    assert len(per_batch) == 10 and len(set(per_batch)) <= 2 and max(per_batch) - min(per_batch) <= 6
    assert max(n for n, _ in counts) == 2  # one expired root (+ its newer reply)


def test_retention_off_deletes_nothing():
    company, channels, *_ = world()
    company_set_retention(company=company, days=None)
    assert retention_preview(company=company) is None
    result = retention_apply(company=company, now=NOW)
    assert result.batches == 0 and result.deleted == 0
    assert not DeletionReceipt.objects.exists()


def test_retention_run_all_applies_each_company_with_a_setting():
    company, channels, *_ = world()
    company2, channels2, *_ = world(days=3)
    results = retention_run_all(now=NOW, batch_size=100)
    assert {r.company_id for r in results} == {company.pk, company2.pk}
    assert not Message.objects.filter(channel__company=company2, created_at__lt=days_ago(3)).exists()
    assert Message.objects.filter(channel__company=company2).count() == 5
    assert_last_message_at_exact(channels + channels2)
    # the companies without retention keep everything
    assert Message.objects.exclude(channel__company__in=[company, company2]).count() == 2


def test_command_runs_with_progress_and_reports():
    company, channels, *_ = world()
    out = StringIO()
    call_command("retention_run", "--company", company.slug, "--batch-size", "4", "--no-progress", stdout=out)
    text = out.getvalue()
    assert f"{company.slug}: messages older than 30 days" in text and "12 to delete" in text
    assert "deleted chat_message 12, chat_messagereaction 2 in 4 batch(es)" in text
    assert_last_message_at_exact(channels)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--company", "nope"], "No company with slug 'nope'."),
        (["--batch-size", "0"], "--batch-size must be at least 1."),
    ],
)
def test_command_refuses_bad_arguments(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("retention_run", *args, stdout=StringIO())


@pytest.mark.parametrize("days", [0, -1, 36501, "30", True])
def test_setting_refuses_invalid_values(days):
    company = CompanyFactory()
    with pytest.raises(ValidationError) as error:
        company_set_retention(company=company, days=days)
    assert "message_retention_days" in error.value.message_dict
    assert Company.objects.get(pk=company.pk).message_retention_days is None


@pytest.mark.parametrize("days", [0, 36501])
def test_database_refuses_out_of_range_retention(days):
    company = CompanyFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Company.objects.filter(pk=company.pk).update(message_retention_days=days)


def test_batch_size_must_be_positive():
    company, *_ = world()
    with pytest.raises(ValidationError):
        retention_apply(company=company, batch_size=0)
