"""``manage.py retention_run [--company slug] [--batch-size N]``: apply the
message retention now (docs/lifecycle.md, "Retention").

Without ``--company``, every company with ``message_retention_days`` set (the
periodic job runs the same: ``chat.services.retention_run_all``). Shows what
will go first (the preview), a progress bar per company (on a terminal; off
with ``--no-progress``), then what went, per table, with the run id of the
receipts. Exit status 1 with a message on a bad argument.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Delete the messages older than each company's retention, in short batches (docs/lifecycle.md)."

    def add_arguments(self, parser):
        parser.add_argument("--company", metavar="SLUG", help="only this company (by slug)")
        parser.add_argument(
            "--batch-size", type=int, default=None, metavar="N", help="expired messages per batch (default 1000)"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, company, batch_size, no_progress, **options):
        from tqdm import tqdm

        from chat.selectors import retention_preview
        from chat.services import RETENTION_BATCH_SIZE, retention_apply
        from companies.models import Company

        batch_size = RETENTION_BATCH_SIZE if batch_size is None else batch_size
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if company is not None:
            companies = list(Company.objects.filter(slug=company))
            if not companies:
                raise CommandError(f"No company with slug {company!r}.")
            if companies[0].message_retention_days is None:
                self.stdout.write(f"{company}: retention is off (message_retention_days is empty): nothing to do.")
                return
        else:
            companies = list(Company.objects.filter(message_retention_days__isnull=False).order_by("pk"))
            if not companies:
                self.stdout.write("No company has a retention set: nothing to do.")
                return

        for tenant in companies:
            preview = retention_preview(company=tenant)
            expected = preview.counts().get("chat_message", 0)
            self.stdout.write(
                f"{tenant.slug}: messages older than {tenant.message_retention_days} days "
                f"(before {preview.parameters['cutoff']}): {expected} to delete"
            )
            progress = tqdm(
                total=expected,
                desc=tenant.slug,
                unit="msg",
                disable=True if no_progress else None,  # None: only on a terminal
                file=self.stderr._out,
            )
            try:
                result = retention_apply(
                    company=tenant,
                    batch_size=batch_size,
                    on_batch=lambda batch: progress.update(batch.counts.get("chat_message", 0)),
                )
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
            finally:
                progress.close()
            deleted = ", ".join(f"{table} {count}" for table, count in result.counts.items()) or "nothing"
            self.stdout.write(
                f"{tenant.slug}: deleted {deleted} in {result.batches} batch(es), "
                f"longest {result.max_batch_seconds * 1000:.0f} ms"
                + (f"; receipts of run {result.run}" if result.batches else "")
            )
