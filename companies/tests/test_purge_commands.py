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


# --- the admin ------------------------------------------------------------------


def test_admin_actions_deactivate_and_reactivate(admin_client):
    tenant = build_populated_tenant(slug="acme")
    url = "/admin/companies/company/"
    response = admin_client.post(url, {"action": "deactivate_selected", "_selected_action": [tenant.company.pk]})
    assert response.status_code == 302
    tenant.company.refresh_from_db()
    assert not tenant.company.is_active and tenant.company.purge_scheduled_for is not None
    purge = CompanyPurge.objects.get(company_id=tenant.company.pk)
    page = admin_client.get("/admin/companies/companypurge/").content.decode()
    assert "acme" in page and "<progress" in page
    detail = admin_client.get(f"/admin/companies/companypurge/{purge.pk}/change/").content.decode()
    assert "rows per table" in detail.lower()
    admin_client.post(url, {"action": "reactivate_selected", "_selected_action": [tenant.company.pk]})
    tenant.company.refresh_from_db()
    assert tenant.company.is_active
    assert not CompanyPurge.objects.filter(company_id=tenant.company.pk).exists()


def test_admin_shows_the_progress_of_a_running_purge(admin_client, settings):
    from companies.services import company_deactivate, company_purge_run

    settings.COMPANY_PURGE_BATCH_SIZE = 2
    tenant = build_populated_tenant(slug="acme")
    company_deactivate(company=tenant.company, actor=None, deletion_delay_days=0)

    def stop(purge):
        if purge.batches == 10:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        company_purge_run(company_id=tenant.company.pk, owner="w", mode="online", between_batches=stop)
    purge = CompanyPurge.objects.get(company_id=tenant.company.pk)
    page = admin_client.get("/admin/companies/companypurge/").content.decode()
    assert f'<progress value="{purge.percent}" max="100"' in page and 0 < purge.percent < 100
