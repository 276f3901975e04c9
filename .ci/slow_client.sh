#!/usr/bin/env bash
# Slow clients against the shipped reverse proxy (docs/operations.md,
# "Reverse proxy"; deploy/nginx/workspace.conf).
#
# Starts gunicorn (DEBUG off, PostgreSQL, 2 workers x 2 threads = 4 request
# threads) and nginx in front of it (deploy/nginx/run.sh), both on loopback,
# then runs deploy/slowclient.py twice with 8 clients sending one byte every
# 2 s:
#   1. through nginx (checked): GET /healthz and an authenticated GET /api/me/
#      answer 200 in under 1 s every second while the slow clients are
#      connected, and nginx cuts every slow client off (client_body_timeout);
#   2. straight at gunicorn (figures only, never fails the build): the same
#      probes, which show the problem the proxy solves.
# Bounded: under a minute in all (about 40 s after setup). Exit status 1 when check 1 fails.
#
# Env: SLOW_DATABASE_URL (postgres://postgres@127.0.0.1:5432/ws_slow_ci, dropped
# and re-created), SLOW_APP_PORT (18180), SLOW_PROXY_PORT (18181).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
DB_URL="${SLOW_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/ws_slow_ci}"
APP_PORT="${SLOW_APP_PORT:-18180}"
PROXY_PORT="${SLOW_PROXY_PORT:-18181}"
WORK="$(mktemp -d -t slow-client.XXXXXX)"

DB_NAME="${DB_URL##*/}"
$PY - "$DB_URL" "$DB_NAME" <<'PYEOF'
import sys
import psycopg
url, name = sys.argv[1], sys.argv[2]
with psycopg.connect(url[: url.rfind("/")] + "/postgres", autocommit=True) as conn:
    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.execute(f'CREATE DATABASE "{name}"')
PYEOF

PASSWORD="slow-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export DATABASE_URL="$DB_URL" DJANGO_DEBUG=0 DJANGO_SECURE_SSL_REDIRECT=0 \
  DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost DJANGO_LOG_LEVEL=WARNING TRUSTED_PROXY_COUNT=1 \
  DJANGO_SECRET_KEY="slow-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
$PY manage.py migrate --noinput --verbosity 0
SLOW_PASSWORD="$PASSWORD" $PY manage.py shell -v 0 -c '
import os
from companies.models import Company, User
company = Company.objects.create(name="Slow clients", slug="slow-clients")
User.objects.create_user("slowprobe", password=os.environ["SLOW_PASSWORD"], company=company)
'

HOST=127.0.0.1 PORT="$APP_PORT" WEB_CONCURRENCY=2 GUNICORN_THREADS=2 GUNICORN_LOG_LEVEL=warning \
  .venv/bin/gunicorn --config gunicorn.conf.py >"$WORK/gunicorn.log" 2>&1 &
APP_PID=$!
PROXY_DIR="$WORK/nginx" PROXY_LISTEN="127.0.0.1:$PROXY_PORT" PROXY_UPSTREAM="127.0.0.1:$APP_PORT" \
  deploy/nginx/run.sh >"$WORK/nginx.log" 2>&1 &
PROXY_PID=$!
stop() {
  kill "$PROXY_PID" "$APP_PID" 2>/dev/null || true
  wait "$PROXY_PID" "$APP_PID" 2>/dev/null || true
}
trap stop EXIT

up() { $PY -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1" >/dev/null 2>&1; }
for _ in $(seq 1 60); do
  if up "http://127.0.0.1:$PROXY_PORT/healthz"; then break; fi
  sleep 0.5
done
if ! up "http://127.0.0.1:$PROXY_PORT/healthz"; then
  echo "error: gunicorn behind nginx did not come up" >&2
  tail -n 50 "$WORK/gunicorn.log" "$WORK/nginx.log" >&2
  exit 1
fi

TOKEN="$(SLOW_PASSWORD="$PASSWORD" $PY - "http://127.0.0.1:$PROXY_PORT/api/auth/token/" <<'PYEOF'
import json, os, sys, urllib.request
body = json.dumps({"username": "slowprobe", "password": os.environ["SLOW_PASSWORD"]}).encode()
request = urllib.request.Request(sys.argv[1], body, {"Content-Type": "application/json"})
print(json.load(urllib.request.urlopen(request, timeout=10))["token"])
PYEOF
)"

COMMON=(--clients 8 --interval 2 --trickle 8 --probe /healthz --probe /api/me/ --token "$TOKEN" --max-latency 1)

echo "--- 1. through nginx (127.0.0.1:$PROXY_PORT): checked ---"
set +e
$PY deploy/slowclient.py --target "127.0.0.1:$PROXY_PORT" "${COMMON[@]}" --stall 15 --check --expect-cutoff
status=$?
set -e

echo "--- 2. straight at gunicorn (127.0.0.1:$APP_PORT): figures only ---"
$PY deploy/slowclient.py --target "127.0.0.1:$APP_PORT" "${COMMON[@]}" --stall 0 --probe-timeout 3 || true

if [ "$status" -ne 0 ]; then
  echo "error: slow clients through nginx slowed the app down or were not cut off (see above)" >&2
  tail -n 30 "$WORK/nginx.log" >&2
fi
psql "${DB_URL%/*}/postgres" -qc "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)" >/dev/null 2>&1 || true
exit "$status"
