"""Background jobs of the companies app (workspace/jobs.py; docs/lifecycle.md)."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.utils import timezone
from django.utils.crypto import get_random_string

from companies.models import CompanyPurge
from workspace.jobs import job_is_pending, periodic, reap_job


@task
def company_purge_job(*, company_id: int) -> str:
    """Purge a deactivated company once due: one statement for a small tenant,
    online batches otherwise. Works ``COMPANY_PURGE_SLICE_SECONDS``, then hands
    over to a new job of its own (enqueued in the transaction that checks the
    lease), so that other jobs and the periodic ones run in between."""
    from companies.purge import company_purge_run

    owner = f"job-{get_random_string(16)}"
    purge = company_purge_run(company_id=company_id, owner=owner, slice_seconds=settings.COMPANY_PURGE_SLICE_SECONDS)
    if purge is None:
        return "nothing to do"
    if purge.status == CompanyPurge.Status.FINISHED:
        return "finished"
    with transaction.atomic():
        locked = CompanyPurge.objects.select_for_update().get(pk=purge.pk)
        if locked.lease_owner != owner:
            return "taken over"
        job = company_purge_job.enqueue(company_id=company_id)
        locked.task_id = str(job.id)
        locked.lease_owner = ""  # the next job claims it at once
        locked.save(update_fields=["task_id", "lease_owner"])
    return "continues"


def start_due_purges(*, now=None) -> list[int]:
    """Enqueue a purge job for every purge that is due and has no live job:
    its job is not waiting in the queue, and no worker has renewed its lease
    within ``COMPANY_PURGE_LEASE_SECONDS`` (a worker that was killed, or whose
    job failed). The dead job's record is marked failed. Returns the company
    ids enqueued."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.COMPANY_PURGE_LEASE_SECONDS)
    started = []
    due = CompanyPurge.objects.filter(
        status__in=[CompanyPurge.Status.SCHEDULED, CompanyPurge.Status.RUNNING], scheduled_for__lte=now
    ).values_list("pk", flat=True)
    for purge_id in due:
        with transaction.atomic():
            purge = CompanyPurge.objects.select_for_update().get(pk=purge_id)
            if purge.status == CompanyPurge.Status.FINISHED or job_is_pending(purge.task_id):
                continue
            if purge.heartbeat_at is not None and purge.heartbeat_at > stale:
                continue
            reap_job(purge.task_id)
            job = company_purge_job.enqueue(company_id=purge.company_id)
            purge.task_id = str(job.id)
            purge.lease_owner = ""
            purge.save(update_fields=["task_id", "lease_owner"])
            started.append(purge.company_id)
    return started


@periodic(every=60)
@task
def lifecycle_tick() -> str:
    """Every minute: start the due purges and resume those whose worker died.
    (Retention runs are registered the same way, ``@periodic``.)"""
    return f"purges enqueued: {start_due_purges()}"
