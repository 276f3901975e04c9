"""The tenant-deletion API (docs/api.md "Company lifecycle"): the company's
deletion delay, deactivation by a company admin, and the purges' progress for
platform superusers."""

import pytest
from django_tasks_db.models import DBTaskResult

from companies.factories import UserFactory
from companies.models import Company, CompanyPurge
from workspace.jobs import run_pending_jobs
from workspace.testing import build_populated_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenant():
    return build_populated_tenant(slug="acme")


def test_company_admins_read_and_change_the_delay(tenant, client_for):
    # The company's settings page (retention, deletion delay) is its admins'.
    member = client_for(tenant.members[0])
    assert member.get("/api/company/").status_code == 403
    assert member.patch("/api/company/", {"deletion_delay_days": 1}, format="json").status_code == 403
    admin = client_for(tenant.admin)
    body = admin.get("/api/company/").json()
    assert body["slug"] == "acme" and body["is_active"] is True and body["deletion_delay_days"] == 30
    response = admin.patch("/api/company/", {"deletion_delay_days": 7}, format="json")
    assert response.status_code == 200 and response.json()["deletion_delay_days"] == 7
    assert Company.objects.get(pk=tenant.company.pk).deletion_delay_days == 7


@pytest.mark.parametrize("value", [-1, 3651, "7", True, 1.5])
def test_a_bad_delay_is_a_400(tenant, client_for, value):
    response = client_for(tenant.admin).patch("/api/company/", {"deletion_delay_days": value}, format="json")
    assert response.status_code == 400 and "deletion_delay_days" in response.json()


def test_deactivation_needs_the_slug_and_an_admin(tenant, client_for):
    assert (
        client_for(tenant.members[0])
        .post("/api/company/deactivate/", {"confirm_slug": "acme"}, format="json")
        .status_code
        == 403
    )
    response = client_for(tenant.admin).post("/api/company/deactivate/", {"confirm_slug": "nope"}, format="json")
    assert response.status_code == 400 and "confirm_slug" in response.json()
    assert Company.objects.get(pk=tenant.company.pk).is_active


def test_deactivation_locks_everyone_out_and_the_purge_runs(tenant, client_for):
    admin = client_for(tenant.admin)
    member = client_for(tenant.members[0])
    response = admin.post("/api/company/deactivate/", {"confirm_slug": "acme", "deletion_delay_days": 0}, format="json")
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "scheduled" and body["company_slug"] == "acme" and body["percent"] == 0
    assert DBTaskResult.objects.count() == 1  # enqueued with the request
    # Every token of the company was revoked, the caller's included.
    assert admin.get("/api/company/").status_code == 401
    assert member.get("/api/channels/").status_code == 401
    run_pending_jobs()
    assert not Company.objects.filter(pk=tenant.company.pk).exists()
    assert CompanyPurge.objects.get(company_id=tenant.company.pk).status == "finished"


def test_platform_superusers_follow_the_purges(tenant, client_for):
    from companies.services import company_deactivate

    purge = company_deactivate(company=tenant.company, actor=None, deletion_delay_days=3)
    root = UserFactory(company=None, is_superuser=True, is_staff=True)
    platform = client_for(root)
    listed = platform.get("/api/company-purges/").json()
    assert [row["company_slug"] for row in listed["results"]] == ["acme"]
    detail = platform.get(f"/api/company-purges/{purge.pk}/").json()
    assert detail["status"] == "scheduled" and detail["percent"] == 0
    other = build_populated_tenant(slug="other")
    assert client_for(other.admin).get("/api/company-purges/").status_code == 403
    assert platform.get("/api/company-purges/999999/").status_code == 404
