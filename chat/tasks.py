"""Background jobs of the chat app (workspace/jobs.py; docs/lifecycle.md)."""

from django.conf import settings
from django.tasks import task

from workspace.jobs import periodic


@periodic(every=settings.RETENTION_EVERY_SECONDS)
@task
def retention_tick() -> str:
    """Apply every company's message retention (``Company.message_retention_days``)
    in short batches (chat.services.retention_run_all). A run stopped midway
    (a worker killed, a deploy) resumes at the next tick: each batch commits
    on its own, with its receipt and exact ``last_message_at``."""
    from chat.services import retention_run_all

    results = retention_run_all()
    deleted = sum(result.deleted for result in results)
    return f"retention: {len(results)} companies, {deleted} rows deleted"
