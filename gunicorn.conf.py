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
- PROMETHEUS_MULTIPROC_DIR  where the workers' Prometheus values live
                    (default: a new temporary directory per server); emptied
                    at start, so one directory per server (docs/operations.md)

Gunicorn refuses to start without a PostgreSQL DATABASE_URL: production never
falls back to the embedded SQLite file.
"""

import multiprocessing
import os
import shutil
import sys
import tempfile

_url = os.environ.get("DATABASE_URL", "")
if not _url.startswith(("postgres://", "postgresql://", "pgsql://")):
    sys.stderr.write(
        "error: DATABASE_URL must point at PostgreSQL to serve in production, e.g.\n"
        "  DATABASE_URL=postgres://USER@HOST:5432/DBNAME make serve\n"
        f"(got {'nothing' if not _url else _url.split(':', 1)[0] + '://...'}; see .env.example)\n"
    )
    sys.exit(2)

# Prometheus multiprocess mode (workspace/metrics.py): every worker writes its
# values to files in this directory and /metrics adds them up. Set before any
# worker imports prometheus_client; emptied here, at the master's start, so
# that a restarted server does not count the previous one's requests twice.
_metrics_dir_made = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="workspace-metrics-")
os.makedirs(_metrics_dir, exist_ok=True)
for _name in os.listdir(_metrics_dir):
    if _name.endswith(".db"):
        os.remove(os.path.join(_metrics_dir, _name))
os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir

wsgi_app = "workspace.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}")
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


def post_fork(server, worker):
    """OpenTelemetry tracing, when the OTEL_* variables ask for it, starts in
    each worker (its exporter thread does not survive a fork); workspace/wsgi.py
    calls the same idempotent function for other WSGI servers."""
    from workspace.tracing import configure_tracing

    configure_tracing()


def child_exit(server, worker):
    """A dead worker's Prometheus values stay counted (counters, histograms);
    its live gauges are dropped."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """A temporary metrics directory made above goes with the server."""
    if _metrics_dir_made:
        shutil.rmtree(_metrics_dir, ignore_errors=True)
