"""The tenant-deletion commands: company_deactivate, company_reactivate,
company_purge (docs/lifecycle.md)."""

import pytest
from django.core.management import CommandError, call_command

from companies.models import Company, CompanyPurge
from workspace.db.introspection import orphan_counts
from workspace.testing import build_populated_tenant

pytestmark = pytest.mark.django_db


def test_deactivate_then_reactivate(capsys):
    tenant = build_populated_tenant(slug="acme")
    call_command("company_deactivate", "acme", "--delay-days", "7")
    assert not Company.objects.get(slug="acme").is_active
    assert "purge scheduled" in capsys.readouterr().out
    with pytest.raises(CommandError, match="already deactivated"):
        call_command("company_deactivate", "acme")
    call_command("company_reactivate", "acme")
    assert Company.objects.get(pk=tenant.company.pk).is_active


def test_unknown_slug_is_an_error():
    with pytest.raises(CommandError, match="No company"):
        call_command("company_purge", "nope")


def test_company_purge_online_with_status(capsys, settings):
    settings.COMPANY_PURGE_BATCH_SIZE = 4
    build_populated_tenant(slug="acme")
    other = build_populated_tenant(slug="other")
    call_command("company_purge", "acme", "--online")
    out = capsys.readouterr()
    assert "finished online 100%" in out.out and "chat.Message" in out.out
    assert "purging acme" in out.err  # the progress bar
    assert not Company.objects.filter(slug="acme").exists()
    assert Company.objects.filter(pk=other.company.pk).exists()
    assert CompanyPurge.objects.get(company_slug="acme").status == "finished"
    call_command("company_purge", "acme", "--status")
    assert "finished" in capsys.readouterr().out
    assert orphan_counts() == {}


def test_company_purge_refuses_a_purge_not_yet_due():
    build_populated_tenant(slug="acme")
    call_command("company_deactivate", "acme", "--delay-days", "7")
    with pytest.raises(CommandError, match="not due"):
        call_command("company_purge", "acme")
    assert Company.objects.filter(slug="acme").exists()
