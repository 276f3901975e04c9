"""Admin fixtures: two populated tenants, a company's staff member with every
permission, a platform superuser, and logged-in admin clients for them
(workspace/tests/test_admin_tenancy.py; docs/architecture.md, "Admin tenant
scoping"). ``make_tenant_staff`` and ``admin_client_for`` are in the root
conftest.py (the apps' admin tests use them too)."""

import pytest


@pytest.fixture
def tenant_pair(db):
    """Tenants A and B (``PopulatedTenant``), every kind of row in each
    (a deletion receipt too: it is written by deletes, not by the builder)."""
    from workspace.db.receipts import ReceiptAccumulator
    from companies.services import receipt_record
    from workspace.testing import build_populated_tenant

    pair = build_populated_tenant(), build_populated_tenant()
    for tenant in pair:
        receipt_record(
            kind="channel_delete", subject="channel 0", company=tenant.company, accumulator=ReceiptAccumulator()
        )
    return pair


@pytest.fixture
def tenant_staff(tenant_pair, make_tenant_staff):
    """A staff member of tenant A with every permission."""
    return make_tenant_staff(tenant_pair[0].company)


@pytest.fixture
def platform_superuser(db):
    """A platform superuser: no company, sees every tenant."""
    from companies.models import User

    return User.objects.create_superuser("platform-root", "platform-root@example.com", "pw")


@pytest.fixture
def staff_client(admin_client_for, tenant_staff):
    return admin_client_for(tenant_staff)


@pytest.fixture
def platform_client(admin_client_for, platform_superuser):
    return admin_client_for(platform_superuser)


@pytest.fixture
def job_rows(db):
    """Rows of the global, read-only job models (a finished tenant purge, a
    queued job), so that their admin pages have something to show."""
    from django.utils import timezone

    from companies.models import CompanyPurge
    from companies.tasks import lifecycle_tick

    now = timezone.now()
    CompanyPurge.objects.create(
        company_id=10**9,
        company_name="Gone",
        company_slug="gone",
        status="finished",
        mode="online",
        scheduled_for=now,
        started_at=now,
        finished_at=now,
        totals={"chat.Message": 3},
        deleted={"chat.Message": 3},
        batches=1,
    )
    lifecycle_tick.enqueue()
