"""Scheduled and online tenant deletion (docs/lifecycle.md): deactivation
blocks logins and writes at once and schedules the purge; reactivation cancels
it until it starts; the online purge deletes leaf tables first in bounded
batches with no orphan at any moment, is resumable, and reports its counts."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from chat.models import Message
from chat.services import message_create
from companies.models import Company, CompanyPurge
from companies.purge import company_purge_finished, purge_plan, tenant_row_counts
from companies.services import company_deactivate, company_purge_run, company_reactivate
from companies.tasks import company_purge_job, start_due_purges
from workspace.db.introspection import orphan_counts
from chat.integrity import stale_channels
from workspace.jobs import run_pending_jobs
from companies.tenancy import TenantInactive
from workspace.testing import build_populated_tenant, diff_snapshots, snapshot_tenant_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenants(db):
    doomed = build_populated_tenant(slug="doomed")
    other = build_populated_tenant(slug="other")
    return doomed, other


@pytest.fixture
def online(settings):
    """Every tenant is 'large': purged online, in batches of 3 rows."""
    settings.COMPANY_PURGE_ONLINE_THRESHOLD = 0
    settings.COMPANY_PURGE_BATCH_SIZE = 3
    return settings


def purge_record(company_id) -> CompanyPurge:
    return CompanyPurge.objects.get(company_id=company_id)


# --- deactivation -------------------------------------------------------------


def test_deactivation_blocks_writes_at_once(tenants):
    doomed, other = tenants
    company_deactivate(company=doomed.company, actor=doomed.admin, deletion_delay_days=30)
    with pytest.raises(TenantInactive):
        message_create(channel=doomed.channels[0], author=doomed.admin, body="still here?")
    # The other tenant writes as before.
    message_create(channel=other.channels[0], author=other.admin, body="business as usual")


def test_deactivation_blocks_logins_tokens_and_sessions(tenants, api_client, client):
    doomed, other = tenants
    for user in (doomed.admin, other.admin):
        user.set_password("a long enough password 1")
        user.save()
    old_token = doomed.token  # a token issued before the deactivation
    assert client.login(username=doomed.admin.username, password="a long enough password 1")
    company_deactivate(company=doomed.company, actor=doomed.admin, deletion_delay_days=30)

    login = {"username": doomed.admin.username, "password": "a long enough password 1"}
    assert api_client.post("/api/auth/token/", login, format="json").status_code == 400
    assert not client.login(**login)
    assert client.get("/api/me/").status_code in (401, 403)  # the old session no longer authenticates
    assert not type(old_token).objects.filter(user__company=doomed.company).exists()
    other_login = {"username": other.admin.username, "password": "a long enough password 1"}
    assert api_client.post("/api/auth/token/", other_login, format="json").status_code == 200


def test_deactivation_schedules_the_purge_after_the_delay(tenants):
    doomed, _ = tenants
    before = timezone.now()
    purge = company_deactivate(company=doomed.company, actor=doomed.admin, deletion_delay_days=3)
    doomed.company.refresh_from_db()
    assert not doomed.company.is_active
    assert doomed.company.purge_scheduled_for - before >= timedelta(days=3)
    assert purge.status == CompanyPurge.Status.SCHEDULED and purge.requested_by_id == doomed.admin.pk
    job = DBTaskResult.objects.get(id=purge.task_id)
    assert job.run_after == doomed.company.purge_scheduled_for
    # Not due: a worker leaves it alone, and so does the periodic job.
    assert run_pending_jobs() == 0
    assert start_due_purges() == []
    assert Company.objects.filter(pk=doomed.company.pk).exists()


def test_deactivating_twice_is_refused(tenants):
    doomed, _ = tenants
    company_deactivate(company=doomed.company, actor=None, deletion_delay_days=3)
    with pytest.raises(ValidationError):
        company_deactivate(company=doomed.company, actor=None, deletion_delay_days=3)


def test_reactivation_cancels_the_scheduled_purge(tenants, api_client):
    doomed, _ = tenants
    purge = company_deactivate(company=doomed.company, actor=None, deletion_delay_days=3)
    company_reactivate(company=doomed.company, actor=None)
    assert not CompanyPurge.objects.filter(company_id=doomed.company.pk).exists()
    assert not DBTaskResult.objects.filter(id=purge.task_id).exists()
    doomed.company.refresh_from_db()
    assert doomed.company.is_active and doomed.company.purge_scheduled_for is None
    message_create(channel=doomed.channels[0], author=doomed.admin, body="back in business")


def test_reactivation_is_refused_once_the_purge_started(tenants, online):
    doomed, _ = tenants
    company_deactivate(company=doomed.company, actor=None, deletion_delay_days=0)

    def stop(purge):
        raise RuntimeError("stop after the first batch")

    with pytest.raises(RuntimeError):
        company_purge_run(company_id=doomed.company.pk, owner="w1", between_batches=stop)
    with pytest.raises(ValidationError, match="started"):
        company_reactivate(company=doomed.company, actor=None)


def test_a_job_for_a_cancelled_purge_does_nothing(tenants):
    doomed, _ = tenants
    company_deactivate(company=doomed.company, actor=None, deletion_delay_days=0)
    company_reactivate(company=doomed.company, actor=None)
    company_purge_job.enqueue(company_id=doomed.company.pk)  # e.g. one enqueued just before
    assert run_pending_jobs() == 1
    assert Company.objects.filter(pk=doomed.company.pk).exists()


# --- the purge ----------------------------------------------------------------


def test_a_small_tenant_goes_in_one_statement_with_its_counts(tenants):
    doomed, other = tenants
    other_before = snapshot_tenant_rows(other.company)
    totals = tenant_row_counts(doomed.company.pk)
    reported = []
    company_purge_finished.connect(lambda sender, purge, **kw: reported.append(dict(purge.deleted)), weak=False)
    try:
        company_deactivate(company=doomed.company, actor=None, deletion_delay_days=0)
        run_pending_jobs()
    finally:
        company_purge_finished.receivers.clear()
    purge = purge_record(doomed.company.pk)
    assert purge.status == CompanyPurge.Status.FINISHED and purge.mode == CompanyPurge.Mode.SINGLE
    assert not Company.objects.filter(pk=doomed.company.pk).exists()
    totals["knox.AuthToken"] = 0  # deleted at deactivation
    assert purge.deleted == totals
    assert reported == [totals]
    assert diff_snapshots(other_before, snapshot_tenant_rows(other.company)) == []
    assert orphan_counts() == {}


def test_the_online_purge_leaves_no_orphan_between_batches(tenants, online):
    doomed, other = tenants
    other_before = snapshot_tenant_rows(other.company)
    company_deactivate(company=doomed.company, actor=None, deletion_delay_days=0)
    totals = tenant_row_counts(doomed.company.pk)
    seen = []

    def check(purge):
        assert orphan_counts() == {}
        assert not stale_channels(doomed.company.pk).exists()
        assert sum(purge.deleted.values()) <= 3 * purge.batches
        seen.append(purge.phase)

    purge = company_purge_run(company_id=doomed.company.pk, owner="w1", between_batches=check)
    assert purge.status == CompanyPurge.Status.FINISHED and purge.mode == CompanyPurge.Mode.ONLINE
    assert purge.deleted == {k: v for k, v in totals.items() if v}
    assert purge.batches > 10
    # Leaf tables first, the company row last.
    order = [step.label for step in purge_plan()]
    assert seen == sorted(seen, key=order.index)
    assert order.index("chat.MessageReaction") < order.index("chat.Message") < order.index("chat.Channel")
    assert order[-1] == "companies.Company" and order[-2] == "companies.User"
    assert not Company.objects.filter(pk=doomed.company.pk).exists()
    assert diff_snapshots(other_before, snapshot_tenant_rows(other.company)) == []


def test_every_row_goes_in_its_own_batch_never_by_cascade(tenants, online):
    """Replies go before the messages they answer (leaves first), reactions
    before their message, ...: every row that disappears is one a batch
    deleted and counted, none is taken by a database cascade (which would
    make a batch unbounded)."""
    doomed, _ = tenants
    company_deactivate(company=doomed.company, actor=None, deletion_delay_days=0)
    totals = tenant_row_counts(doomed.company.pk)
    assert Message.objects.filter(channel__company=doomed.company, parent__isnull=False).exists()

    def check(purge):
        remaining = tenant_row_counts(doomed.company.pk)
        for label, total in totals.items():
            if label != "knox.AuthToken":  # deleted at deactivation
                assert remaining[label] + purge.deleted.get(label, 0) == total, label

    company_purge_run(company_id=doomed.company.pk, owner="w1", between_batches=check)


def test_an_interrupted_purge_resumes_where_it_stopped(tenants, online):
    doomed, _ = tenants
    company_deactivate(company=doomed.company, actor=None, deletion_delay_days=0)
    totals = {k: v for k, v in tenant_row_counts(doomed.company.pk).items() if v}
    calls = []

    def crash(purge):
        calls.append(purge.batches)
        if len(calls) == 4:
            raise RuntimeError("worker died")

    with pytest.raises(RuntimeError):
        company_purge_run(company_id=doomed.company.pk, owner="w1", between_batches=crash)
    halfway = purge_record(doomed.company.pk)
    assert halfway.status == CompanyPurge.Status.RUNNING and halfway.batches == 4
    # Another worker cannot take it while the first one's lease is fresh...
    assert company_purge_run(company_id=doomed.company.pk, owner="w2") is None
    # ... and does once it is stale; it continues, it does not start over.
    online.COMPANY_PURGE_LEASE_SECONDS = 0
    purge = company_purge_run(company_id=doomed.company.pk, owner="w2")
    assert purge.status == CompanyPurge.Status.FINISHED
    assert purge.deleted == totals and purge.batches == halfway.batches + (purge.batches - 4)
    assert orphan_counts() == {}


def test_a_job_that_crashes_between_batches_is_resumed_by_a_new_job(tenants, online, monkeypatch):
    """The engine's side of crash-and-resume, on both databases: the job dies
    half-way (its worker records it as failed); the periodic job sees the purge's
    lease go stale and enqueues a new job, which finishes the purge."""
    import companies.purge

    doomed, _ = tenants
    online.COMPANY_PURGE_SLICE_SECONDS = 3600
    company_deactivate(company=doomed.company, actor=None, deletion_delay_days=0)
    totals = {k: v for k, v in tenant_row_counts(doomed.company.pk).items() if v}
    real_run_batch = companies.purge.run_batch
    done = []

    def dying_run_batch(**kwargs):
        if len(done) == 5:
            raise SystemExit("killed")
        done.append(1)
        return real_run_batch(**kwargs)

    monkeypatch.setattr(companies.purge, "run_batch", dying_run_batch)
    assert run_pending_jobs() == 1
    first_job = purge_record(doomed.company.pk).task_id
    assert DBTaskResult.objects.get(id=first_job).status == "FAILED"
    assert 0 < purge_record(doomed.company.pk).batches <= 5  # calls that moved to the next table delete nothing
    monkeypatch.setattr(companies.purge, "run_batch", real_run_batch)

    assert start_due_purges() == []  # the lease is still fresh
    online.COMPANY_PURGE_LEASE_SECONDS = 0
    assert start_due_purges() == [doomed.company.pk]
    assert run_pending_jobs() == 1
    purge = purge_record(doomed.company.pk)
    assert purge.status == CompanyPurge.Status.FINISHED and purge.deleted == totals
    assert not DBTaskResult.objects.filter(status="RUNNING").exists()
    assert orphan_counts() == {}


def test_a_purge_job_hands_over_to_a_new_job_after_its_slice(tenants, online):
    doomed, _ = tenants
    online.COMPANY_PURGE_SLICE_SECONDS = 0  # one batch per job
    company_deactivate(company=doomed.company, actor=None, deletion_delay_days=0)
    ran = run_pending_jobs()
    purge = purge_record(doomed.company.pk)
    assert purge.status == CompanyPurge.Status.FINISHED
    # One job per batch (those that move on to the next table included), and
    # one that finds nothing left.
    assert ran > purge.batches > 10


# --- a real worker process killed mid-purge (PostgreSQL) ----------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_purge_is_resumed_by_a_new_worker(settings):
    """``manage.py worker`` in a subprocess is SIGKILLed in the middle of an
    online purge; a batch in flight is rolled back by the database, the job's
    record stays RUNNING. The periodic job takes the purge over once its lease
    is stale, marks the dead job failed, and a new worker finishes it: exact
    counts, no orphan, no job left running."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from django.conf import settings as django_settings
    from django.db import connection

    doomed = build_populated_tenant(slug="doomed")
    other = build_populated_tenant(slug="other")
    other_before = snapshot_tenant_rows(other.company)
    company_deactivate(company=doomed.company, actor=None, deletion_delay_days=0)
    totals = {k: v for k, v in tenant_row_counts(doomed.company.pk).items() if v}

    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "COMPANY_PURGE_ONLINE_THRESHOLD": "0",
        "COMPANY_PURGE_BATCH_SIZE": "1",
        "COMPANY_PURGE_SLICE_SECONDS": "3600",
        "DJANGO_SETTINGS_MODULE": "workspace.settings",
    }
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "worker", "--no-periodic", "--interval", "0.1", "--verbosity", "0"],
        cwd=django_settings.BASE_DIR,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            purge = CompanyPurge.objects.filter(company_id=doomed.company.pk).first()
            if purge is not None and purge.batches >= 5:
                break
            time.sleep(0.02)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    killed = purge_record(doomed.company.pk)
    assert killed.status == CompanyPurge.Status.RUNNING and 5 <= killed.batches < sum(totals.values())
    assert DBTaskResult.objects.get(id=killed.task_id).status == "RUNNING"  # the engine never heard of the crash
    assert orphan_counts() == {}

    settings.COMPANY_PURGE_LEASE_SECONDS = 0
    assert start_due_purges() == [doomed.company.pk]
    assert DBTaskResult.objects.get(id=killed.task_id).status == "FAILED"
    settings.COMPANY_PURGE_BATCH_SIZE = 50
    assert run_pending_jobs() == 1
    purge = purge_record(doomed.company.pk)
    assert purge.status == CompanyPurge.Status.FINISHED and purge.deleted == totals
    assert not DBTaskResult.objects.filter(status="RUNNING").exists()
    assert orphan_counts() == {}
    assert diff_snapshots(other_before, snapshot_tenant_rows(other.company)) == []


def test_batches_adapt_to_the_cost_of_a_row():
    from companies.purge import BatchSizer

    sizer = BatchSizer(maximum=2000, target_ms=100, first=50)
    sizer.observe(rows=50, ms=5)  # cheap rows: grows, at most doubling
    assert sizer.size == 100
    for _ in range(10):
        sizer.observe(rows=sizer.size, ms=sizer.size * 0.01)
    assert sizer.size == 2000  # never above the maximum
    sizer.new_table()
    assert sizer.size == 50
    sizer.observe(rows=50, ms=500)  # 10 ms a row: 10 rows make 100 ms
    assert sizer.size == 10
