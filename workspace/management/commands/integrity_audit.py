"""``manage.py integrity_audit [--fix] [--company SLUG]`` (docs/integrity.md).

Scans the live database for orphans, FK-action drift and stale lifecycle
fields; prints a table of findings; exits 1 when anything is wrong. ``--fix``
repairs what is repairable in one transaction, prints what it changed, scans
again, and exits 0 only when nothing is left.
"""

import sys

from django.core.management.base import BaseCommand, CommandError

from workspace.integrity.audit import audit, repair
from workspace.integrity.table import text_table


class Command(BaseCommand):
    help = (
        "Find orphans, FK-action drift and stale lifecycle fields in the live database "
        "(exit status 1 when anything is wrong); --fix repairs them in one transaction."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--fix",
            action="store_true",
            help="Repair: delete orphans (or clear SET NULL references), re-create drifted FK "
            "constraints (PostgreSQL), recompute lifecycle fields. One transaction.",
        )
        parser.add_argument(
            "--company",
            metavar="SLUG",
            help="Limit the orphan and lifecycle scans to one company (FK actions are "
            "database-wide and always checked).",
        )

    def handle(self, *args, fix=False, company=None, **options):
        company_id = None
        if company is not None:
            from companies.models import Company

            company_id = Company.objects.filter(slug=company).values_list("pk", flat=True).first()
            if company_id is None:
                raise CommandError(f"No company with slug {company!r}.")

        findings = audit(company_id)
        scope = f" (company {company})" if company else ""
        if not findings:
            self.stdout.write(self.style.SUCCESS(f"Integrity audit{scope}: no findings."))
            return
        self._print_findings(f"Integrity audit{scope}: {len(findings)} finding(s)", findings)
        if not fix:
            self.stdout.write("Run with --fix to repair what is repairable.")
            sys.exit(1)

        changes = repair(company_id)
        self.stdout.write("")
        if changes:
            self.stdout.write(
                self.style.WARNING("Repaired (one transaction):")
                + "\n"
                + text_table(("kind", "table", "change", "rows"), [c.row() for c in changes])
            )
        else:
            self.stdout.write("Nothing could be repaired.")
        remaining = audit(company_id)
        self.stdout.write("")
        if remaining:
            self._print_findings("Still wrong after --fix", remaining)
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS("Integrity audit after --fix: no findings."))

    def _print_findings(self, title, findings):
        self.stdout.write(self.style.ERROR(title) + "\n")
        rows = [(*f.row()[:4], "yes" if f.fixable else "no (see docs/integrity.md)", f.row()[4]) for f in findings]
        self.stdout.write(text_table(("kind", "table", "detail", "rows", "fixable", "ids"), rows, max_width=90))
