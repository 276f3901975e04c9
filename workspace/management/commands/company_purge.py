"""``manage.py company_purge SLUG [--online] [--status]``: purge a tenant here
and now, with a progress bar (docs/lifecycle.md).

The company is deactivated first if it is still active (its purge scheduled
for now). A tenant of at most ``COMPANY_PURGE_ONLINE_THRESHOLD`` rows goes in
one statement, a larger one online in batches; ``--online`` forces batches.
Interrupted (Ctrl-C, a crash), it resumes where it stopped when run again (or
a worker takes it over once its lease is stale). ``--status`` only shows the
progress of the purge, whoever runs it.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.crypto import get_random_string
from tqdm import tqdm

from companies.models import Company, CompanyPurge
from companies.services import company_deactivate, company_purge_run


def describe(purge: CompanyPurge) -> str:
    deleted = ", ".join(f"{label} {n}" for label, n in sorted(purge.deleted.items()) if n) or "nothing yet"
    return (
        f"{purge.company_slug}: {purge.status} {purge.mode or ''} {purge.percent}% "
        f"({purge.deleted_rows}/{purge.total_rows} rows, {purge.batches} batches, "
        f"longest batch {purge.max_batch_ms} ms); deleted: {deleted}"
    )


class Command(BaseCommand):
    help = "Purge a company now (deactivating it first), with a progress bar; resumable."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--online", action="store_true", help="Purge in batches whatever the size.")
        parser.add_argument("--status", action="store_true", help="Only show the progress of the purge.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, slug, online, status, no_progress, **options):
        purge = CompanyPurge.objects.filter(company_slug=slug).order_by("-created_at").first()
        if status:
            if purge is None:
                raise CommandError(f"No purge of a company with slug {slug!r}.")
            self.stdout.write(describe(purge))
            return
        company = Company.objects.filter(slug=slug).first()
        if company is None:
            if purge is not None and purge.status != CompanyPurge.Status.FINISHED:
                company_id = purge.company_id  # its company row went in the last batch
            else:
                raise CommandError(f"No company with slug {slug!r}.")
        else:
            company_id = company.pk
            if company.is_active:
                try:
                    company_deactivate(company=company, actor=None, deletion_delay_days=0)
                except ValidationError as exc:
                    raise CommandError("; ".join(exc.messages)) from None
        bar = None

        def progress(current: CompanyPurge) -> None:
            nonlocal bar
            if no_progress:
                return
            if bar is None:
                bar = tqdm(total=current.total_rows, unit="rows", desc=f"purging {slug}", file=self.stderr)
            bar.n = current.deleted_rows
            bar.set_postfix_str(current.phase)
            bar.refresh()

        mode = CompanyPurge.Mode.ONLINE if online else None
        owner = f"command-{get_random_string(12)}"
        try:
            result = company_purge_run(company_id=company_id, owner=owner, mode=mode, between_batches=progress)
        finally:
            if bar is not None:
                bar.close()
        if result is None:
            current = CompanyPurge.objects.filter(company_id=company_id).first()
            detail = describe(current) if current else "no purge is scheduled"
            raise CommandError(f"Nothing to do here: not due, or a worker is running it. {detail}")
        self.stdout.write(describe(result))
