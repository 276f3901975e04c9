"""``manage.py integrity_report [--check] [--output PATH]`` (docs/integrity.md)."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from workspace.integrity.report import REPORT_PATH, render
from workspace.integrity.report import check as check_report


class Command(BaseCommand):
    help = (
        "Regenerate docs/RELATIONAL_INTEGRITY_REPORT.md from the models and the live database "
        "(lineage, delete policy, FK actions, constraints, cascade drill). --check: exit 1 when "
        "the committed report's deterministic sections are out of date."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="compare the deterministic sections (lineage, delete policy, constraints) of the "
            "committed report with the models; write nothing; exit 1 on any difference",
        )
        parser.add_argument("--output", type=Path, default=REPORT_PATH, help=f"default {REPORT_PATH}")

    def handle(self, *args, check=False, output=REPORT_PATH, **options):
        if check:
            problems = check_report(output)
            if problems:
                self.stderr.write("\n\n".join(problems))
                self.stderr.write(
                    "The integrity report is out of date with the models: run "
                    "`manage.py integrity_report` (on PostgreSQL) and commit the result."
                )
                sys.exit(1)
            self.stdout.write(self.style.SUCCESS(f"{output}: deterministic sections up to date."))
            return
        text = render()
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text)
        self.stdout.write(self.style.SUCCESS(f"Wrote {output}."))
