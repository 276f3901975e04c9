"""Purging a tenant: ``company_purge`` (one SQL DELETE, the database cascades)
and ``Company.delete()`` (Django's collector) leave nothing of it, in any
table, and leave every other row of the database exactly as it was."""

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from companies.factories import UserFactory
from companies.models import Company
from companies.services import company_purge
from workspace.db.introspection import orphan_counts
from workspace.testing import (
    build_populated_tenant,
    count_rows,
    diff_snapshots,
    snapshot_rows,
    snapshot_tenant_rows,
)


def purge_with_service(company):
    company_purge(company=company)


def purge_with_orm(company):
    company.delete()


def purge_with_raw_sql(company):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM companies_company WHERE id = %s", [company.pk])


def surviving(tenant_rows, after) -> dict:
    """The rows of ``tenant_rows`` still present in ``after``, per table."""
    return {
        label: sorted(set(rows) & set(after[label]), key=str)
        for label, rows in tenant_rows.items()
        if set(rows) & set(after[label])
    }


PURGES = [purge_with_service, purge_with_orm, purge_with_raw_sql]


def _world():
    doomed = build_populated_tenant(slug="doomed")
    kept = build_populated_tenant(slug="kept")
    platform = UserFactory(company=None, is_superuser=True, is_staff=True, username="platform")
    # The platform admin once edited the doomed company: its log entry stays.
    LogEntry.objects.create(
        user=platform,
        content_type=ContentType.objects.get_for_model(Company),
        object_id=str(doomed.company.pk),
        object_repr=str(doomed.company),
        action_flag=CHANGE,
        change_message="[]",
    )
    return doomed, kept


@pytest.mark.django_db
@pytest.mark.parametrize("purge", PURGES, ids=lambda f: f.__name__)
def test_purge_removes_the_tenant_from_every_table_and_nothing_else(purge):
    doomed, kept = _world()
    everything = snapshot_rows()
    doomed_rows = snapshot_tenant_rows(doomed.company)
    kept_rows = snapshot_tenant_rows(kept.company)
    # The populated tenant really covers the tables the purge must empty.
    assert {label for label, n in count_rows(doomed_rows).items() if n == 0} == set()

    purge(doomed.company)
    connection.check_constraints()  # deferred FK checks fire now

    after = snapshot_rows()
    # The service appends its deletion receipt (docs/lifecycle.md); nothing
    # else changes outside the tenant.
    receipts = after.pop("companies.DeletionReceipt")
    assert not everything.pop("companies.DeletionReceipt")
    assert [r["kind"] for r in receipts.values()] == (["company_purge"] if purge is purge_with_service else [])
    assert surviving(doomed_rows, after) == {}, "rows of the purged tenant survived"
    for label, rows in everything.items():
        assert len(after[label]) == len(rows) - len(doomed_rows.get(label, {})), label
    # The other tenant, row for row, lifecycle fields included.
    assert diff_snapshots(kept_rows, snapshot_tenant_rows(kept.company)) == []
    # And the whole database is exactly "before minus the tenant".
    expected = {
        label: {pk: row for pk, row in rows.items() if pk not in doomed_rows.get(label, {})}
        for label, rows in everything.items()
    }
    assert diff_snapshots(expected, after) == []
    assert orphan_counts() == {}


@pytest.mark.django_db
def test_company_purge_is_one_delete_statement_and_clears_the_pk():
    doomed, _ = _world()
    pk = doomed.company.pk
    with CaptureQueriesContext(connection) as queries:
        company_purge(company=doomed.company)
    # One statement deletes (on PostgreSQL it also counts and checksums the
    # ids for the receipt, in data-modifying CTEs; on SQLite the checksums
    # are read first): ids only, never a row's content.
    deletes = [q["sql"] for q in queries.captured_queries if "DELETE FROM" in q["sql"].upper()]
    assert len(deletes) == 1
    assert not any('"body"' in q["sql"] for q in queries.captured_queries)
    assert doomed.company.pk is None
    assert not Company.objects.filter(pk=pk).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("purge", [purge_with_service, purge_with_raw_sql], ids=lambda f: f.__name__)
def test_purge_outside_the_orm_commits_and_leaves_no_orphan(purge):
    """Committed for real (no test transaction around it): the deferred FK
    checks run at COMMIT and find nothing dangling; the orphan queries, one
    per FK of every installed model, find nothing either."""
    doomed, kept = _world()
    doomed_rows = snapshot_tenant_rows(doomed.company)
    kept_rows = snapshot_tenant_rows(kept.company)
    with transaction.atomic():
        purge(doomed.company)
    # Back in autocommit: the purge was committed, and COMMIT raised nothing.
    assert connection.get_autocommit()
    assert orphan_counts() == {}
    assert surviving(doomed_rows, snapshot_rows()) == {}
    assert diff_snapshots(kept_rows, snapshot_tenant_rows(kept.company)) == []


@pytest.mark.django_db
def test_orphan_detection_finds_a_dangling_row():
    """Guard for the orphan queries: a row whose parent is missing is reported
    under its FK."""
    from chat.factories import MessageFactory

    message = MessageFactory()
    assert orphan_counts() == {}
    # FK checks are deferred to commit: inside the transaction the dangling
    # row exists, and is put back before the end.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE chat_message SET channel_id = %s WHERE id = %s", [987654321, message.pk])
        assert orphan_counts() == {"chat.Message.channel": 1}
        cursor.execute("UPDATE chat_message SET channel_id = %s WHERE id = %s", [message.channel_id, message.pk])
    assert orphan_counts() == {}
