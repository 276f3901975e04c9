"""Production settings: `check --deploy` is clean with the variables of
.env.example, gunicorn refuses to start without PostgreSQL, and /healthz is
reachable over plain HTTP while everything else is redirected to HTTPS."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
GUNICORN = Path(sys.executable).parent / "gunicorn"


def production_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    env.update(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="workspace.example.com,testserver",
        DATABASE_URL="postgres://workspace@db.internal:5432/workspace",
        DJANGO_CONN_MAX_AGE="60",
        REDIS_URL="redis://redis.internal:6379/0",
    )
    env.update(overrides)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_production_variables():
    result = run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        production_env(),
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_on_a_weak_production_setting():
    # The same check, shown to bite: HTTP without redirect is a warning.
    result = run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        production_env(DJANGO_SECURE_SSL_REDIRECT="0"),
    )

    assert result.returncode != 0
    assert "security.W008" in result.stderr + result.stdout


def test_production_settings_refuse_a_missing_secret_key():
    env = production_env()
    del env["DJANGO_SECRET_KEY"]

    result = run([sys.executable, "manage.py", "check"], env)

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_gunicorn_refuses_to_start_without_postgresql():
    config = ["-c", "gunicorn.conf.py", "--check-config"]
    without = production_env()
    del without["DATABASE_URL"]

    missing = run([str(GUNICORN), *config], without)
    sqlite = run([str(GUNICORN), *config], production_env(DATABASE_URL="sqlite:///db.sqlite3"))
    postgres = run([str(GUNICORN), *config], production_env())

    assert missing.returncode != 0 and "DATABASE_URL" in missing.stderr
    assert sqlite.returncode != 0 and "PostgreSQL" in sqlite.stderr
    assert postgres.returncode == 0, postgres.stderr


def test_healthz_is_exempt_from_the_https_redirect(tmp_path):
    # Production settings on an empty SQLite file: /healthz answers (503:
    # not migrated) over plain HTTP, while any other path is redirected.
    script = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "c = Client()\n"
        "print(c.get('/healthz').status_code, c.get('/admin/').status_code,"
        " c.get('/admin/')['Location'])\n"
    )
    env = production_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        DJANGO_SETTINGS_MODULE="workspace.settings",
    )

    result = run([sys.executable, "-c", script], env)

    assert result.returncode == 0, result.stderr
    health, admin, location = result.stdout.split()
    assert health == "503"
    assert admin == "301" and location.startswith("https://")


def test_make_serve_refuses_to_start_without_postgresql_or_secret_key():
    # Empty values (not unset): a developer's .env must not fill them in here.
    make = ["make", "--no-print-directory", "-o", ".venv/.installed", "serve"]

    missing = run(make, production_env(DATABASE_URL=""))
    sqlite = run(make, production_env(DATABASE_URL="sqlite:///db.sqlite3"))
    no_key = run(make, production_env(DJANGO_SECRET_KEY=""))

    for result in (missing, sqlite):
        assert result.returncode != 0
        assert "make serve needs DATABASE_URL=postgres://" in result.stderr
    assert no_key.returncode != 0
    assert "make serve needs DJANGO_SECRET_KEY" in no_key.stderr


def test_check_deploy_warns_when_the_login_throttle_cache_is_not_shared():
    # Without Redis every gunicorn worker would count failed logins apart.
    env = production_env()
    env.pop("REDIS_URL")
    result = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)

    assert result.returncode != 0
    assert "workspace.W010" in result.stderr + result.stdout
