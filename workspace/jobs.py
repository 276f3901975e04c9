"""The job engine: Django's task API (``django.tasks``) on the database
backend of django-tasks-db, plus periodic jobs (docs/operations.md "Jobs").

- A job is a row of ``django_tasks_database_dbtaskresult`` written by
  ``task.enqueue()`` on the default connection: inside a transaction it is
  committed, or rolled back, with the rest of the request that asked for it.
- ``manage.py worker`` (``make worker``) runs the jobs, one at a time per
  process, and enqueues the periodic jobs when they are due.
- Periodic jobs are registered here with ``periodic(every=seconds)``; a job
  is due when none of its runs was enqueued in the last ``every`` seconds.
  Two workers may both enqueue a due job in the same instant: periodic jobs
  must therefore be idempotent (they are: they only start what is due).

A job is a plain function: everything that must survive a crash of its worker
is kept in the database by the job itself (e.g. ``companies.CompanyPurge``),
and a periodic job takes over the work of a worker that went silent. The
engine's own record of a job killed mid-run stays ``RUNNING``; ``reap_job``
marks it failed when its work is taken over.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.tasks import Task
from django.utils import timezone

logger = logging.getLogger("workspace.jobs")


@dataclass(frozen=True)
class PeriodicJob:
    task: Task
    every: timedelta


_PERIODIC: dict[str, PeriodicJob] = {}


def periodic(*, every: int | float):
    """Register a task (decorated with ``@task``) to run every ``every`` seconds::

        @periodic(every=60)
        @task
        def lifecycle_tick(): ...

    Registration happens at import: tasks modules are imported by
    ``WorkspaceConfig.ready`` (``load_task_modules``)."""

    def register(task: Task) -> Task:
        _PERIODIC[task.module_path] = PeriodicJob(task=task, every=timedelta(seconds=every))
        return task

    return register


def periodic_jobs() -> dict[str, PeriodicJob]:
    return dict(_PERIODIC)


def load_task_modules() -> None:
    """Import ``<app>.tasks`` of every installed app (registers periodic jobs)."""
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("tasks")


def enqueue_due_periodic(*, now=None) -> list[str]:
    """Enqueue every periodic job not enqueued within its period. Returns the
    paths of the jobs enqueued."""
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    enqueued = []
    for path, job in _PERIODIC.items():
        with transaction.atomic():
            recent = DBTaskResult.objects.filter(task_path=path, enqueued_at__gt=now - job.every)
            if recent.exists():
                continue
            job.task.enqueue()
            enqueued.append(path)
    return enqueued


def reap_job(task_id: str | None) -> None:
    """Mark a job whose worker died (its row still says ``RUNNING``) as failed,
    so that the queue shows no job running forever. Its work is resumed by a
    new job (the caller enqueues it)."""
    if not task_id:
        return
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(id=task_id, status=TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.FAILED,
        finished_at=timezone.now(),
        exception_class_path="workspace.jobs.WorkerLost",
        traceback="The worker running this job stopped (killed or crashed); its work was resumed by a new job.",
    )


def job_is_pending(task_id: str | None) -> bool:
    """Whether the job ``task_id`` is still waiting in the queue (not started)."""
    if not task_id:
        return False
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(id=task_id, status=TaskResultStatus.READY).exists()


def make_worker(*, max_tasks: int | None = None, batch: bool = True, worker_id: str | None = None):
    from django.utils.crypto import get_random_string
    from django_tasks_db.management.commands.db_worker import Worker

    return Worker(
        queue_names=list(settings.TASKS["default"].get("QUEUES", ["default"])),
        interval=0,
        batch=batch,
        backend_name="default",
        startup_delay=False,
        max_tasks=max_tasks,
        worker_id=worker_id or get_random_string(32),
        excluded_queue_names=[],
    )


def run_one_job(*, worker_id: str | None = None) -> bool:
    """Claim and run the next ready job in this process, if any (as
    django-tasks-db's worker does, without closing the connection, so that it
    works inside a test's transaction too). Returns whether one ran."""
    from django_tasks_db.models import DBTaskResult
    from django_tasks_db.utils import exclusive_transaction

    worker = make_worker(max_tasks=1, worker_id=worker_id)
    tasks = DBTaskResult.objects.ready().filter(backend_name=worker.backend_name, queue_name__in=worker.queue_names)
    with exclusive_transaction(tasks.db):
        task_result = tasks.get_locked()
        if task_result is not None:
            task_result.claim(worker.worker_id)
    if task_result is None:
        return False
    worker.run_task(task_result)
    return True


def run_pending_jobs(*, limit: int = 1000) -> int:
    """Run ready jobs in this process until none is left (tests, ``make run``'s
    embedded worker). Returns how many ran."""
    ran = 0
    while ran < limit and run_one_job():
        ran += 1
    return ran
