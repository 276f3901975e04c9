"""``manage.py company_reactivate SLUG``: cancel a scheduled purge (docs/lifecycle.md)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from companies.models import Company
from companies.services import company_reactivate


class Command(BaseCommand):
    help = "Reactivate a deactivated company and cancel its purge (refused once the purge has started)."

    def add_arguments(self, parser):
        parser.add_argument("slug")

    def handle(self, *args, slug, **options):
        company = Company.objects.filter(slug=slug).first()
        if company is None:
            raise CommandError(f"No company with slug {slug!r}.")
        try:
            company_reactivate(company=company, actor=None)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(f"{company.slug}: active again; purge cancelled")
