"""The benchmark's database and process environment.

Every benchmark process (the orchestrator and each measured subprocess) runs
with production-like settings: ``DJANGO_DEBUG=0`` (no SQL logging in
``connection.queries``, no debug cursor) against PostgreSQL.
"""

import os
import sys
from urllib.parse import urlsplit, urlunsplit

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/workspace_bench"

#: Written as the database comment when the bench claims a database; the bench
#: only ever wipes a database that is empty or carries this comment.
MARKER = "workspace bench database: wiped and refilled by `make bench`"


class BenchSetupError(SystemExit):
    """A clear, one-line reason why the bench cannot run (exit status 2)."""

    def __init__(self, message: str):
        print(f"bench: {message}", file=sys.stderr)
        super().__init__(2)


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or DEFAULT_URL


def redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def process_env(url: str) -> dict[str, str]:
    """The environment of every bench process."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="workspace.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY") or "bench-only-secret-key-" + "x" * 40,
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_LOG_LEVEL="WARNING",
        DJANGO_CONN_MAX_AGE="0",
        # No web-request lock/statement timeouts (workspace/db/timeouts.py).
        DJANGO_DB_TIMEOUTS="off",
    )
    return env


def require_postgres(url: str) -> None:
    """Exit with a clear message unless ``url`` is a reachable PostgreSQL;
    create the database when it does not exist yet."""
    scheme = urlsplit(url).scheme
    if scheme not in {"postgres", "postgresql", "pgsql"}:
        raise BenchSetupError(
            f"the benchmark needs PostgreSQL, but DATABASE_URL is {redacted(url)!r}. "
            f"Unset it (default {DEFAULT_URL}) or point it at a PostgreSQL database."
        )
    import psycopg

    parts = urlsplit(url)
    dbname = parts.path.lstrip("/")
    if not dbname:
        raise BenchSetupError(f"DATABASE_URL {redacted(url)!r} names no database.")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{dbname}"')
                print(f"bench: created database {dbname}")
    except psycopg.OperationalError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BenchSetupError(
            f"cannot reach PostgreSQL at {redacted(url)} ({first_line}). "
            "The benchmark needs a running PostgreSQL server: start it, or set DATABASE_URL."
        ) from None


def claim_database() -> None:
    """Refuse to wipe a database that holds data the bench did not create."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = current_database()"
        )
        comment = cursor.fetchone()[0]
        if comment == MARKER:
            return
        cursor.execute("SELECT EXISTS (SELECT 1 FROM companies_company)")
        if cursor.fetchone()[0]:
            raise BenchSetupError(
                f"database {connection.settings_dict['NAME']!r} holds companies that the bench did not "
                "create; the bench wipes its database, so it refuses. Use a dedicated database "
                f"(default {DEFAULT_URL})."
            )
        name = connection.ops.quote_name(connection.settings_dict["NAME"])
        cursor.execute(f"COMMENT ON DATABASE {name} IS %s", [MARKER])
