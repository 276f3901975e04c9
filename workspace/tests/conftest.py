"""Admin fixtures: two populated tenants, a company's staff member with every
permission, a platform superuser, and logged-in admin clients for them
(workspace/tests/test_admin_tenancy.py; docs/architecture.md, "Admin tenant
scoping")."""

import pytest


@pytest.fixture
def tenant_pair(db):
    """Tenants A and B (``PopulatedTenant``), every kind of row in each."""
    from workspace.testing import build_populated_tenant

    return build_populated_tenant(), build_populated_tenant()


@pytest.fixture
def make_tenant_staff(db):
    """``make_tenant_staff(company)``: a staff member of ``company`` holding
    every permission there is (view, add, change, delete on every model):
    only the tenant scoping stands between them and other tenants' rows."""

    def make(company, **fields):
        from django.contrib.auth.models import Permission

        from companies.factories import UserFactory
        from companies.models import User

        user = UserFactory(company=company, is_staff=True, role=User.Role.ADMIN, **fields)
        user.user_permissions.set(Permission.objects.all())
        return User.objects.get(pk=user.pk)  # no cached permissions

    return make


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
def admin_client_for(db):
    """``admin_client_for(user)``: a Django test client logged in as ``user``
    (session login, as the admin site uses)."""
    from django.test import Client

    def make(user):
        client = Client()
        client.force_login(user)
        return client

    return make


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
        company_id=10**9, company_name="Gone", company_slug="gone", status="finished", mode="online",
        scheduled_for=now, started_at=now, finished_at=now, totals={"chat.Message": 3},
        deleted={"chat.Message": 3}, batches=1,
    )
    lifecycle_tick.enqueue()
