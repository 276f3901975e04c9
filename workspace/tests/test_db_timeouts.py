"""Database timeouts (docs/operations.md "Timeouts", workspace/db/timeouts.py):
a lock held by another session makes a web request fail fast with a JSON 503
instead of holding its thread; /healthz has shorter limits of its own;
commands and the tenant purge run without the request limits."""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from unittest import mock

import psycopg
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from chat.factories import ChannelFactory
from chat.models import Channel, Message
from chat.services import membership_add
from companies.factories import UserFactory
from companies.models import Company
from companies.services import company_purge
from workspace import health
from workspace.db.timeouts import postgres_options

ROOT = Path(__file__).resolve().parents[2]
LOCK_HOLD_SECONDS = 20  # far longer than the lock timeout: without it, the test waits this long


# --- settings ------------------------------------------------------------------


def test_defaults_are_a_few_seconds():
    assert postgres_options({}) == {
        "connect_timeout": 5,
        "options": "-c lock_timeout=3s -c statement_timeout=10s",
    }


def test_each_timeout_is_tunable_and_options_of_the_url_win():
    env = {"DJANGO_DB_CONNECT_TIMEOUT": "2", "DJANGO_DB_LOCK_TIMEOUT": "500ms", "DJANGO_DB_STATEMENT_TIMEOUT": "0"}
    assert postgres_options(env, {"options": "-c work_mem=8MB", "sslmode": "prefer"}) == {
        "connect_timeout": 2,
        "options": "-c lock_timeout=500ms -c statement_timeout=0 -c work_mem=8MB",
        "sslmode": "prefer",
    }


def test_commands_get_the_connect_timeout_only():
    assert postgres_options({"DJANGO_DB_TIMEOUTS": "off"}) == {"connect_timeout": 5}


@pytest.mark.parametrize("env", [{"DJANGO_DB_LOCK_TIMEOUT": "3 seconds; drop"}, {"DJANGO_DB_CONNECT_TIMEOUT": "5s"}])
def test_a_malformed_value_is_refused(env):
    with pytest.raises(ImproperlyConfigured):
        postgres_options(env)


# --- on PostgreSQL -----------------------------------------------------------------


def show(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SHOW {name}")
        return cursor.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.django_db
def test_web_connections_carry_the_timeouts():
    assert (show("lock_timeout"), show("statement_timeout")) == ("3s", "10s")


def _show_in_a_command(extra_env: dict) -> str:
    script = (
        "from django.db import connection\n"
        "cursor = connection.cursor()\n"
        "cursor.execute('SHOW lock_timeout'); lock = cursor.fetchone()[0]\n"
        "cursor.execute('SHOW statement_timeout'); print(lock, cursor.fetchone()[0])\n"
    )
    settings = connection.settings_dict
    url = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, **extra_env}
    env.pop("DJANGO_DB_TIMEOUTS", None)
    env.update(extra_env)
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.postgres
@pytest.mark.django_db
def test_management_commands_run_without_the_request_timeouts():
    assert _show_in_a_command({}) == "0 0"
    assert _show_in_a_command({"DJANGO_DB_TIMEOUTS": "request"}) == "3s 10s"


class LockHolder:
    """A second session that takes a lock and holds it (in a transaction)
    until ``release()`` or LOCK_HOLD_SECONDS."""

    def __init__(self, sql: str, params=()):
        settings = connection.settings_dict
        self.conn = psycopg.connect(
            host=settings["HOST"],
            port=settings["PORT"],
            user=settings["USER"],
            password=settings["PASSWORD"] or None,
            dbname=settings["NAME"],
        )
        self.conn.execute(sql, params)  # psycopg opens a transaction: the lock is held
        self.released = threading.Event()
        self.thread = threading.Thread(target=self._hold, daemon=True)
        self.thread.start()

    def _hold(self):
        self.released.wait(LOCK_HOLD_SECONDS)
        self.conn.rollback()
        self.conn.close()

    def release(self):
        self.released.set()
        self.thread.join(timeout=10)


@pytest.fixture
def posting(db):
    channel = ChannelFactory()
    author = UserFactory(company=channel.company)
    membership_add(channel=channel, user=author)
    return channel, author


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "lock",
    [
        "SELECT 1 FROM companies_company WHERE id = %s FOR UPDATE",  # e.g. a purge in progress
        "LOCK TABLE chat_channel IN ACCESS EXCLUSIVE MODE",  # e.g. a migration
    ],
)
def test_a_post_behind_a_held_lock_is_a_503_within_the_lock_timeout(client_for, posting, lock):
    channel, author = posting
    client = client_for(author)
    holder = LockHolder(lock, [channel.company_id] if "%s" in lock else ())
    try:
        started = time.monotonic()
        response = client.post(f"/api/channels/{channel.pk}/messages/", {"body": "hi"}, format="json")
        elapsed = time.monotonic() - started
    finally:
        holder.release()

    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "5"
    assert response["Content-Type"] == "application/json"
    assert 2.5 < elapsed < 6, elapsed  # the 3 s lock timeout, not the 20 s the lock is held
    assert not Message.objects.filter(channel=channel).exists()
    # Once the lock is gone the same client posts again (the connection recovered).
    response = client.post(f"/api/channels/{channel.pk}/messages/", {"body": "again"}, format="json")
    assert response.status_code == 201, response.content


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_statement_over_the_statement_timeout_is_a_503(client_for, posting):
    _, author = posting

    def slow(*args, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = '200ms'")  # the 10 s default, shortened
            cursor.execute("SELECT pg_sleep(5)")

    client = client_for(author)
    started = time.monotonic()
    try:
        with mock.patch("companies.views.MeView.get", side_effect=slow):
            response = client.get("/api/me/")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET statement_timeout")
    assert time.monotonic() - started < 3
    assert response.status_code == 503
    assert response["Retry-After"] == "5"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_healthz_has_its_own_shorter_timeout(client):
    health.reset_cache()  # the probe reads django_migrations, which a migration holds
    holder = LockHolder("LOCK TABLE django_migrations IN ACCESS EXCLUSIVE MODE")
    try:
        started = time.monotonic()
        response = client.get("/healthz")
        elapsed = time.monotonic() - started
    finally:
        holder.release()
        health.reset_cache()

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "migrations": "unknown"}
    assert elapsed < 2.5, elapsed  # 1 s of its own, under a request's 3 s
    assert (show("lock_timeout"), show("statement_timeout")) == ("3s", "10s")  # SET LOCAL only
    assert client.get("/healthz").status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_healthz_answers_at_once_while_a_tenant_is_locked(client, posting):
    channel, _ = posting
    assert client.get("/healthz").status_code == 200
    holder = LockHolder("LOCK TABLE chat_channel IN ACCESS EXCLUSIVE MODE")
    try:
        started = time.monotonic()
        response = client.get("/healthz")
        elapsed = time.monotonic() - started
    finally:
        holder.release()
    assert response.status_code == 200
    assert elapsed < 1, elapsed


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_purge_is_not_cut_by_the_statement_timeout(posting):
    channel, author = posting
    Message.objects.bulk_create([Message(channel=channel, author=author, body=f"m{i}") for i in range(3000)])
    company = Company.objects.get(pk=channel.company_id)
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = '5ms'")  # a tiny request limit
    try:
        company_purge(company=company)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET statement_timeout")
    assert not Channel.objects.filter(pk=channel.pk).exists()
    assert show("statement_timeout") == "10s"
