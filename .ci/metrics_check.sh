#!/usr/bin/env bash
# Metrics and traces of a real gunicorn server (docs/operations.md, "Metrics
# and traces"): several worker processes in Prometheus multiprocess mode, with
# OpenTelemetry on (console exporter). Sends N requests, kills one worker (its
# counts must survive: child_exit), scrapes /metrics with the token and checks
# that the request counter adds up every worker's requests exactly, that
# /metrics without the token is a 404, and that request log lines carry a
# trace id. Under 30 s.
#
# Env: METRICS_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/ws_metrics_ci,
# re-created), METRICS_PORT (18480).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
DB_URL="${METRICS_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/ws_metrics_ci}"
PORT="${METRICS_PORT:-18480}"
BASE="http://127.0.0.1:${PORT}"
WORK="$(mktemp -d -t metrics-check.XXXXXX)"
TOKEN="ci-metrics-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
N=40

DB_NAME="${DB_URL##*/}"
psql "${DB_URL%/*}/postgres" -qc "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)" -c "CREATE DATABASE \"$DB_NAME\""
DATABASE_URL="$DB_URL" $PY manage.py migrate --noinput -v0

export DATABASE_URL="$DB_URL" DJANGO_DEBUG=0 DJANGO_SECURE_SSL_REDIRECT=0 \
  DJANGO_ALLOWED_HOSTS=127.0.0.1 DJANGO_SECRET_KEY="metrics-$TOKEN" METRICS_TOKEN="$TOKEN" \
  PROMETHEUS_MULTIPROC_DIR="$WORK/prom" OTEL_TRACES_EXPORTER=console OTEL_SERVICE_NAME=workspace-ci \
  OTEL_BSP_SCHEDULE_DELAY=100 GUNICORN_GRACEFUL_TIMEOUT=5
HOST=127.0.0.1 PORT="$PORT" WEB_CONCURRENCY=3 GUNICORN_THREADS=1 \
  .venv/bin/gunicorn --config gunicorn.conf.py >"$WORK/spans.out" 2>"$WORK/server.log" &
SERVER_PID=$!
stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  psql "${DB_URL%/*}/postgres" -qc "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)" || true
}
trap stop_server EXIT

$PY - "$BASE" "$TOKEN" "$N" "$SERVER_PID" "$WORK" <<'PYEOF'
import json, os, signal, sys, time, urllib.error, urllib.request

from prometheus_client.parser import text_string_to_metric_families

base, token, n, master, work = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]


def get(path, headers=None):
    request = urllib.request.Request(base + path, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


deadline = time.monotonic() + 20
while True:
    try:
        if get("/healthz")[0] == 200:
            break
    except OSError:
        pass
    if time.monotonic() > deadline:
        sys.exit("error: the server did not come up:\n" + open(f"{work}/server.log").read()[-3000:])
    time.sleep(0.2)


def healthz_count():
    status, body = get("/metrics", {"Authorization": f"Bearer {token}"})
    assert status == 200, status
    total = 0.0
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if sample.name == "workspace_http_requests_total" and sample.labels.get("route") == "healthz":
                total += sample.value
    return total, body


start, _ = healthz_count()  # the probes above
for _ in range(n):
    assert get("/healthz")[0] == 200
assert get("/api/me/")[0] == 401
files = {f.rsplit("_", 1)[-1] for f in os.listdir(f"{work}/prom") if f.startswith("counter_")}
# One worker dies (SIGKILL: no goodbye); gunicorn replaces it and child_exit
# marks it dead. What it counted stays counted.
children = [int(p) for p in open(f"/proc/{master}/task/{master}/children").read().split()]
os.kill(children[0], signal.SIGKILL)
time.sleep(1.0)
end, body = healthz_count()
print(f"healthz requests counted: {end - start:.0f} of {n}, counter files of {len(files)} worker(s)")
assert end - start == n, (start, end, n)
assert len(files) >= 2, f"expected several workers to have counted: {files}"
assert 'route="api/me/"' in body and 'status="401"' in body
assert "workspace_db_queries_per_request_count" in body
assert get("/metrics")[0] == 404, "no token: refused"
assert get("/metrics", {"Authorization": "Bearer wrong"})[0] == 404, "wrong token: refused"

lines = [json.loads(line) for line in open(f"{work}/server.log") if line.startswith("{")]
requests = [line for line in lines if line.get("logger") == "workspace.request"]
assert requests and all(len(line.get("trace_id") or "") == 32 for line in requests), requests[:3]
print(f"request log lines with a trace id: {len(requests)}")
PYEOF
spans=$(grep -c '"trace_id"' "$WORK/spans.out" || true)
echo "spans exported (console): $spans"
[ "$spans" -gt 0 ]
rm -rf "$WORK"
echo "metrics check: passed in ${SECONDS} s"
