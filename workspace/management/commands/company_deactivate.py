"""``manage.py company_deactivate SLUG [--delay-days N]``: deactivate a tenant
and schedule its purge (docs/lifecycle.md)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from companies.models import Company
from companies.services import company_deactivate


class Command(BaseCommand):
    help = "Deactivate a company (logins and writes blocked at once) and schedule its purge."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument(
            "--delay-days",
            type=int,
            default=None,
            help="Days before the purge (default: the company's deletion_delay_days; 0 = now).",
        )

    def handle(self, *args, slug, delay_days, **options):
        company = Company.objects.filter(slug=slug).first()
        if company is None:
            raise CommandError(f"No company with slug {slug!r}.")
        try:
            purge = company_deactivate(company=company, actor=None, deletion_delay_days=delay_days)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(f"{company.slug}: deactivated; purge scheduled for {purge.scheduled_for.isoformat()}")
