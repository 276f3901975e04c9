"""GET /healthz: 200 when the database answers and migrations are applied,
503 otherwise (docs/operations.md)."""

from unittest import mock

import pytest
from django.db import OperationalError, connection, connections
from django.db.migrations.recorder import MigrationRecorder

from workspace import health


@pytest.fixture(autouse=True)
def fresh_health_cache():
    health.reset_cache()
    yield
    health.reset_cache()


@pytest.mark.django_db
def test_healthy_database_answers_200_without_authentication(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "migrations": "applied"}
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_once_healthy_a_probe_costs_one_query(client, django_assert_num_queries):
    assert client.get("/healthz").status_code == 200

    # On PostgreSQL, plus the probe's own timeouts (one SET LOCAL statement).
    with django_assert_num_queries(2 if connection.vendor == "postgresql" else 1):
        assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_unreachable_database_answers_503(client):
    down = OperationalError("connection refused")
    with mock.patch.object(connections["default"], "cursor", side_effect=down):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable"}


@pytest.mark.django_db
def test_unapplied_migration_answers_503_until_it_is_applied(client):
    recorder = MigrationRecorder(connection)
    last = max(name for app, name in recorder.applied_migrations() if app == "chat")
    recorder.record_unapplied("chat", last)  # as if the deploy forgot `migrate`

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "migrations": "pending"}

    recorder.record_applied("chat", last)
    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_a_pending_plan_is_not_cached_as_healthy(client):
    pending = [(object(), False)]
    with mock.patch("django.db.migrations.executor.MigrationExecutor.migration_plan", return_value=pending):
        assert client.get("/healthz").status_code == 503
        assert client.get("/healthz").status_code == 503


@pytest.mark.django_db
def test_only_safe_methods(client):
    assert client.post("/healthz").status_code == 405
    assert client.head("/healthz").status_code == 200
