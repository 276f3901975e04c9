"""Impact previews and deletion receipts (docs/lifecycle.md): on every delete
path, the preview's counts equal what is then deleted, and equal the receipt's
counts; the receipt's checksum is the one an auditor recomputes from the
deleted ids; the receipt survives the tenant and is append-only."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chat.factories import MessageFactory, MessageReactionFactory
from chat.models import Channel, Message
from chat.selectors import channel_delete_preview, retention_preview
from chat.services import channel_delete, retention_apply
from companies.factories import UserFactory
from companies.models import AppendOnlyError, Company, DeletionReceipt
from workspace.db.receipts import MOD, ReceiptAccumulator, hex64, id_hash, overall
from companies.selectors import company_purge_preview, user_erase_preview
from companies.services import company_purge, receipt_record, user_erase
from workspace.db.lineage import all_models


def snapshot() -> dict[str, set]:
    """Every id of every table."""
    return {m._meta.db_table: set(m._base_manager.values_list("pk", flat=True)) for m in all_models()}


def deleted_between(before, after) -> dict[str, set]:
    gone = {table: ids - after[table] for table, ids in before.items()}
    return {table: ids for table, ids in gone.items() if ids}


def auditor_checksum(gone: dict[str, set]) -> str:
    """Recomputed from the ids alone, as docs/lifecycle.md tells an auditor."""
    sums = {table: hex64(sum(id_hash(pk) for pk in ids) % MOD) for table, ids in gone.items()}
    return overall({t: len(ids) for t, ids in gone.items()}, sums)


def assert_exact(preview, gone, receipt):
    counts = {table: len(ids) for table, ids in gone.items()}
    assert preview["counts"] == counts
    assert receipt.counts == counts
    assert receipt.checksum == auditor_checksum(gone)
    assert preview["total"] == sum(counts.values())


def _deep_thread(tenant):
    """A reply to a reply to the admin's message, newer than everything, with
    a reaction on the deepest one: the cascade must reach it."""
    root = MessageFactory(channel=tenant.channels[0], author=tenant.admin)
    reply = MessageFactory(channel=root.channel, author=tenant.members[0], parent=root)
    deeper = MessageFactory(channel=root.channel, author=tenant.members[1], parent=reply)
    MessageReactionFactory(message=deeper, user=tenant.members[2])
    return root


@pytest.mark.django_db
def test_user_erase_preview_equals_deleted_and_receipt(tenant, bystander):
    _deep_thread(tenant)
    preview = user_erase_preview(user=tenant.admin).as_dict()
    actor = UserFactory(company=tenant.company)
    before = snapshot()
    user_erase(user=tenant.admin, actor=actor)
    gone = deleted_between(before, snapshot())
    receipt = DeletionReceipt.objects.get(kind="user_erase")
    assert_exact(preview, gone, receipt)
    assert gone["chat_message"] and gone["chat_messagereaction"] and gone["knox_authtoken"]
    assert preview["detached"] == {"chat_channel.created_by_id": 1}  # #general outlives its creator
    assert receipt.detached == preview["detached"]
    assert (receipt.actor_id, receipt.actor_username) == (actor.pk, actor.username)
    assert receipt.company_id == tenant.company.pk and receipt.company_slug == tenant.company.slug


@pytest.mark.django_db
def test_channel_delete_preview_equals_deleted_and_receipt(tenant, bystander):
    _deep_thread(tenant)
    channel = tenant.channels[0]
    preview = channel_delete_preview(channel=channel).as_dict()
    before = snapshot()
    channel_delete(channel=channel, actor=tenant.admin)
    gone = deleted_between(before, snapshot())
    receipt = DeletionReceipt.objects.get(kind="channel_delete")
    assert_exact(preview, gone, receipt)
    assert set(gone) == {"chat_channel", "chat_channelmembership", "chat_message", "chat_messagereaction"}
    assert preview["detached"] == {"meetings_meeting.channel_id": 1}


@pytest.mark.django_db
def test_company_purge_preview_equals_deleted_and_receipt_outlives_it(tenant, bystander):
    _deep_thread(tenant)
    company = tenant.company
    name, slug, pk = company.name, company.slug, company.pk
    preview = company_purge_preview(company=company).as_dict()
    before = snapshot()
    company_purge(company=company)
    gone = deleted_between(before, snapshot())
    receipt = DeletionReceipt.objects.get(kind="company_purge")
    assert_exact(preview, gone, receipt)
    assert not Company.objects.filter(pk=pk).exists()
    assert (receipt.company_id, receipt.company_name, receipt.company_slug) == (pk, name, slug)
    assert receipt.subject == f"company {pk}"


@pytest.mark.django_db
def test_retention_preview_equals_deleted_and_the_run_receipts(tenant, bystander):
    now = timezone.now()
    root = _deep_thread(tenant)
    Message.objects.filter(pk=root.pk).update(created_at=now - timedelta(days=40))  # newer replies
    Company.objects.filter(pk__in=[tenant.company.pk, bystander.company.pk]).update(message_retention_days=10)
    tenant.company.refresh_from_db()
    preview = retention_preview(company=tenant.company, now=now).as_dict()
    before = snapshot()
    result = retention_apply(company=tenant.company, batch_size=3, now=now)
    gone = deleted_between(before, snapshot())
    counts = {table: len(ids) for table, ids in gone.items()}
    assert preview["counts"] == counts == result.counts
    assert set(gone) == {"chat_message", "chat_messagereaction"}
    receipts = DeletionReceipt.objects.filter(kind="retention_run", run=result.run)
    assert receipts.count() == result.batches > 1
    total = ReceiptAccumulator()
    for receipt in receipts:
        for table, count in receipt.counts.items():
            total.counts[table] = total.counts.get(table, 0) + count
            total.sums[table] = (total.sums.get(table, 0) + int(receipt.checksums[table], 16)) % MOD
    assert total.receipt_fields()["checksum"] == auditor_checksum(gone)
    assert not Message.objects.filter(channel__company=tenant.company, created_at__lt=now - timedelta(days=10))
    # the newer replies went with their expired parent
    assert not Message.objects.filter(parent_id=root.pk).exists()


@pytest.mark.django_db
def test_preview_query_count_does_not_grow_with_the_data(tenant):
    def queries(make_preview):
        with CaptureQueriesContext(connection) as ctx:
            make_preview().as_dict()
        return len(ctx.captured_queries)

    channel = tenant.channels[0]
    small = [
        queries(lambda: user_erase_preview(user=tenant.admin)),
        queries(lambda: channel_delete_preview(channel=channel)),
        queries(lambda: company_purge_preview(company=tenant.company)),
    ]
    for _ in range(30):
        root = MessageFactory(channel=channel, author=tenant.admin)
        reply = MessageFactory(channel=channel, author=tenant.members[0], parent=root)
        MessageReactionFactory(message=reply, user=tenant.admin)
    big = [
        queries(lambda: user_erase_preview(user=tenant.admin)),
        queries(lambda: channel_delete_preview(channel=channel)),
        queries(lambda: company_purge_preview(company=tenant.company)),
    ]
    assert small == big
    assert max(big) <= 30  # one COUNT per table reached (and per detaching FK)


@pytest.mark.django_db
def test_receipt_accumulates_across_batches_in_any_order():
    ids = list(range(1, 200))
    whole = ReceiptAccumulator()
    whole.add_ids("chat_message", ids)
    first, second = ReceiptAccumulator(), ReceiptAccumulator()
    first.add_ids("chat_message", reversed(ids[:77]))
    second.add_ids("chat_message", ids[77:])
    first.merge(second)
    assert first.receipt_fields() == whole.receipt_fields()
    other = ReceiptAccumulator()
    other.add_ids("chat_message", [*ids[:-1], 999])
    assert other.receipt_fields()["checksum"] != whole.receipt_fields()["checksum"]


@pytest.mark.django_db
def test_receipt_refuses_update_and_delete_through_the_orm(company):
    receipt = receipt_record(
        kind="channel_delete", subject="channel 1", company=company, accumulator=ReceiptAccumulator()
    )
    receipt.subject = "changed"
    with pytest.raises(AppendOnlyError):
        receipt.save()
    with pytest.raises(AppendOnlyError):
        receipt.delete()
    with pytest.raises(AppendOnlyError):
        DeletionReceipt.objects.filter(pk=receipt.pk).update(subject="changed")
    with pytest.raises(AppendOnlyError):
        DeletionReceipt.objects.all().delete()
    assert DeletionReceipt.objects.get(pk=receipt.pk).subject == "channel 1"


@pytest.mark.postgres
@pytest.mark.django_db
def test_database_refuses_update_and_delete_of_a_receipt(company):
    receipt = receipt_record(
        kind="channel_delete", subject="channel 1", company=company, accumulator=ReceiptAccumulator()
    )
    for sql in (
        "UPDATE companies_deletionreceipt SET subject = 'x' WHERE id = %s",
        "DELETE FROM companies_deletionreceipt WHERE id = %s",
    ):
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, [receipt.pk])
    assert DeletionReceipt.objects.filter(pk=receipt.pk, subject="channel 1").exists()


@pytest.mark.django_db
def test_a_failed_delete_writes_no_receipt(tenant, monkeypatch):
    import companies.purge as purge

    def boom(**kwargs):
        raise RuntimeError("cascade failed")

    monkeypatch.setattr(purge, "receipt_record", boom)
    with pytest.raises(RuntimeError):
        company_purge(company=tenant.company)
    assert Company.objects.filter(pk=tenant.company.pk).exists()
    assert not DeletionReceipt.objects.exists()
    assert Channel.objects.filter(company=tenant.company).count() == 2


@pytest.mark.django_db
def test_integrity_report_lists_receipts_counts_not_content(tenant):
    from workspace.integrity.report import receipts_section

    body = Message.objects.filter(channel=tenant.channels[0]).first().body
    channel_delete(channel=tenant.channels[0], actor=tenant.admin)
    section = receipts_section()
    assert "channel_delete" in section and tenant.admin.username in section and "chat_message" in section
    assert body not in section
