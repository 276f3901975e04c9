"""The job engine (workspace/jobs.py): a job is enqueued in the transaction
that asks for it, and the periodic jobs are enqueued once per period."""

import pytest
from django.db import transaction
from django.tasks import task
from django_tasks_db.models import DBTaskResult

from companies.factories import CompanyFactory
from companies.models import Company
from companies.services import company_deactivate
from workspace.jobs import enqueue_due_periodic, periodic_jobs, run_pending_jobs

pytestmark = pytest.mark.django_db

RAN = []


@task
def remember(*, value: str) -> str:
    RAN.append(value)
    return value


def test_a_job_enqueued_in_a_rolled_back_transaction_never_runs():
    RAN.clear()
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            remember.enqueue(value="rolled back")
            raise RuntimeError("the request fails")
    assert not DBTaskResult.objects.exists()
    with transaction.atomic():
        result = remember.enqueue(value="committed")
    assert run_pending_jobs() == 1
    assert RAN == ["committed"]
    assert DBTaskResult.objects.get(id=result.id).status == "SUCCESSFUL"


def test_a_failed_request_that_deactivated_a_company_schedules_nothing():
    company = CompanyFactory()
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            company_deactivate(company=company, actor=None, deletion_delay_days=0)
            raise RuntimeError("the request fails after the service")
    assert not DBTaskResult.objects.exists()
    assert Company.objects.get(pk=company.pk).is_active


def test_periodic_jobs_are_enqueued_once_per_period():
    assert "companies.tasks.lifecycle_tick" in periodic_jobs()
    assert "companies.tasks.lifecycle_tick" in enqueue_due_periodic()
    assert "companies.tasks.lifecycle_tick" not in enqueue_due_periodic()
    assert DBTaskResult.objects.filter(task_path="companies.tasks.lifecycle_tick").count() == 1
    assert run_pending_jobs() >= 1
