"""Gunicorn settings for `make serve` (docs/operations.md).

Everything comes from the environment, with defaults sized for the machine:

- WEB_CONCURRENCY   worker processes (default 2 x cores + 1)
- GUNICORN_THREADS  threads per worker (default 2: gthread workers overlap
                    database waits; each thread holds its own persistent
                    database connection, so connections = workers x threads)
- HOST / PORT       bind address (default 127.0.0.1:8000); GUNICORN_BIND
                    overrides both (e.g. 0.0.0.0:8000 or unix:/run/ws.sock)
- GUNICORN_TIMEOUT  seconds before a silent worker is killed (default 30)
- FORWARDED_ALLOW_IPS  proxies trusted for X-Forwarded-* (default 127.0.0.1)
- GUNICORN_CONTROL_SOCKET  path of the gunicornc control socket (default: none)

Gunicorn refuses to start without a PostgreSQL DATABASE_URL: production never
falls back to the embedded SQLite file.
"""

import multiprocessing
import os
import sys

_url = os.environ.get("DATABASE_URL", "")
if not _url.startswith(("postgres://", "postgresql://", "pgsql://")):
    sys.stderr.write(
        "error: DATABASE_URL must point at PostgreSQL to serve in production, e.g.\n"
        "  DATABASE_URL=postgres://USER@HOST:5432/DBNAME make serve\n"
        f"(got {'nothing' if not _url else _url.split(':', 1)[0] + '://...'}; see .env.example)\n"
    )
    sys.exit(2)

wsgi_app = "workspace.wsgi:application"
bind = os.environ.get(
    "GUNICORN_BIND", f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
)
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
worker_class = "gthread" if threads > 1 else "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycle workers now and then (bounded memory growth), not all at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = max_requests // 10
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# The request log is the app's (workspace/request_log.py, JSON on stderr);
# gunicorn's own access log would duplicate it without the user/company.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Gunicorn's control socket (gunicornc) defaults to one path per user, which
# two instances on one host would fight over: opt in with a path of its own.
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")
if not control_socket_disable:
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"  # heartbeat files off a possibly slow disk


def post_worker_init(worker):
    """Warm up each worker before it takes traffic: import the URLconf (and with
    it every view) and run /healthz's migration check (it reads the migration
    files), so that the first requests and probes answer in milliseconds too."""
    from django.db import DatabaseError, connections
    from django.urls import get_resolver

    from workspace.health import migrations_applied

    get_resolver().url_patterns
    try:
        migrations_applied()
    except DatabaseError as exc:  # the probe will say so; serving goes on
        worker.log.warning("healthz warm-up: %s", exc)
    finally:
        connections.close_all()
