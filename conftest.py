"""Shared fixtures. Factories live in each app's factories.py."""

import pytest
from django.db import connection


def pytest_collection_modifyitems(config, items):
    # Tests marked `postgres` need PostgreSQL features (FK actions in
    # pg_constraint, exclusion constraints, row locks); on SQLite they are
    # skipped with the reason, and CI runs them against PostgreSQL.
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://... (CI does)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _no_purge_pause(settings):
    # The online purge pauses between batches in production (docs/lifecycle.md).
    settings.COMPANY_PURGE_PAUSE_MS = 0


@pytest.fixture(scope="session")
def _login_slot_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("login-slots"))


@pytest.fixture(autouse=True)
def _own_login_slots(settings, _login_slot_dir):
    # The machine-wide password-hashing slots (workspace/login_slots.py) of
    # this test session only: another session running at the same time (the
    # other database's, a server's) must not make a login here busy.
    settings.LOGIN_SLOT_DIR = _login_slot_dir


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2 at production strength costs ~0.3 s per factory user; the hasher
    # is not what these tests are about.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def company(db):
    from companies.factories import CompanyFactory

    return CompanyFactory()


@pytest.fixture
def other_company(db):
    from companies.factories import CompanyFactory

    return CompanyFactory()


@pytest.fixture
def api_client():
    """An unauthenticated DRF test client."""
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def client_for(db):
    """``client_for(user)``: an API client that sends a real token of ``user``
    (``Authorization: Token <key>``, a new one per client), so token
    authentication itself is tested."""
    from knox.models import AuthToken
    from rest_framework.test import APIClient

    def make(user):
        client = APIClient()
        _, key = AuthToken.objects.create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        client.token_key = key
        return client

    return make


LOCMEM_CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"}}


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    # The login throttle counts failures in the cache: tests use local memory
    # (whatever REDIS_URL says; the Redis tests switch explicitly), emptied
    # before each test so that none inherits another's counters.
    from django.core.cache import caches

    settings.CACHES = LOCMEM_CACHES
    caches["default"].clear()


@pytest.fixture
def people(company):
    """A company admin and three members of ``company`` (API tests)."""
    from companies.factories import UserFactory
    from companies.models import User

    return {
        "admin": UserFactory(company=company, role=User.Role.ADMIN),
        "alice": UserFactory(company=company),
        "bob": UserFactory(company=company),
        "carol": UserFactory(company=company),
    }


# --- the admin (companies/, chat/, meetings/ tests/test_admin.py) ---------------


@pytest.fixture
def superuser(db):
    """A platform superuser (no company): sees every tenant in the admin."""
    from companies.models import User

    return User.objects.create_superuser("root", "root@example.com", "pw")


@pytest.fixture
def admin_client(client, superuser):
    """The Django test client logged in as ``superuser`` (replaces
    pytest-django's fixture of the same name: our superuser has no company)."""
    client.force_login(superuser)
    return client


@pytest.fixture
def tenant(db):
    """A populated tenant (workspace.testing.build_populated_tenant)."""
    from workspace.testing import build_populated_tenant

    return build_populated_tenant()


@pytest.fixture
def bystander(db):
    """A second populated tenant that a delete must leave untouched."""
    from workspace.testing import build_populated_tenant

    return build_populated_tenant()


@pytest.fixture
def make_tenant_staff(db):
    """``make_tenant_staff(company)``: a staff member of ``company`` holding
    every permission there is (view, add, change, delete on every model):
    only the tenant scoping (and the services' permission rules: a company
    admin by default, ``role="member"`` for a plain member) stands between
    them and other rows."""

    def make(company, **fields):
        from django.contrib.auth.models import Permission

        from companies.factories import UserFactory
        from companies.models import User

        user = UserFactory(company=company, is_staff=True, **{"role": User.Role.ADMIN, **fields})
        user.user_permissions.set(Permission.objects.all())
        return User.objects.get(pk=user.pk)  # no cached permissions

    return make


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
