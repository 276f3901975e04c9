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
    """``client_for(user)``: an API client that sends ``user``'s real token
    (``Authorization: Token <key>``), so TokenAuthentication itself is tested."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    def make(user):
        client = APIClient()
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


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
