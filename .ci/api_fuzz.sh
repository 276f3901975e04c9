#!/usr/bin/env bash
# Fuzz the REST API with schemathesis (docs/api.md, "Fuzzing").
#
# Starts the app (gunicorn, DEBUG off) on 127.0.0.1 against a PostgreSQL
# database of its own, filled by `manage.py seed_demo`, takes a company
# admin's token, and runs `schemathesis run` on /api/schema/ with every default
# check, bounded in examples and time. Exit status: schemathesis's (non-zero on
# any failure), or 1 when the server does not come up.
#
# Env: FUZZ_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/ws_api_st),
# FUZZ_PORT (8765), FUZZ_MAX_EXAMPLES (25), FUZZ_MAX_TIME (240 s),
# FUZZ_SEED (a fixed seed, so that CI is reproducible; `random` for a new one),
# FUZZ_EXTRA_ARGS (more `schemathesis run` options, e.g. to replay one operation).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
DB_URL="${FUZZ_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/ws_api_st}"
PORT="${FUZZ_PORT:-8765}"
BASE="http://127.0.0.1:${PORT}"
LOG="$(mktemp -t api-fuzz-server.XXXXXX.log)"
REPORT_DIR="${FUZZ_REPORT_DIR:-$(mktemp -d -t api-fuzz-report.XXXXXX)}"

$PY -m pip install --quiet --disable-pip-version-check -r requirements-ci.txt

# A fresh database: drop and create it through the maintenance database.
DB_NAME="${DB_URL##*/}"
$PY - "$DB_URL" "$DB_NAME" <<'PYEOF'
import sys
import psycopg
url, name = sys.argv[1], sys.argv[2]
admin_url = url[: url.rfind("/")] + "/postgres"
with psycopg.connect(admin_url, autocommit=True) as conn:
    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.execute(f'CREATE DATABASE "{name}"')
PYEOF

export DATABASE_URL="$DB_URL" DJANGO_DEBUG=0 DJANGO_SECURE_SSL_REDIRECT=0 \
  DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost DJANGO_LOG_LEVEL=WARNING \
  DJANGO_SECRET_KEY="fuzz-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
$PY manage.py migrate --noinput --verbosity 0
# --force: DEBUG is off here; the database is disposable (seed_demo refuses
# otherwise: every demo person gets the same password).
$PY manage.py seed_demo --companies 2 --users 6 --messages 120 --no-progress --force \
  --admin-password "fuzz-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')" >/dev/null
# Edge rows in both fuzzed companies (workspace/edge_rows.py): empty e-mail and
# names, null last_active, people with no messages, an inactive person, a
# channel with no topic/creator/message, a meeting with no description or
# channel, an open attendance; and a platform superuser (company null). The
# responses must match the schema on these too, not only on seed_demo's.
$PY manage.py shell -v 0 -c '
from companies.models import Company
from workspace.edge_rows import add_edge_rows, add_platform_superuser
for company in Company.objects.filter(users__isnull=False).distinct().order_by("id")[:2]:
    add_edge_rows(company)
add_platform_superuser()
'
# Two identities (Web Fuzzing Commons auth file): the admins of the two demo
# companies. The fuzzer acts as the first; the object_level_authorization
# check replays the reads of one as the other, which must never see them.
# The tokens are made here, never through the login (which the fuzzer hammers
# with wrong passwords, into the login throttle's 429). The two logout
# operations revoke the token they are sent with: they get a run of their own
# (below) with identities of their own, a member of each company, so that the
# main run keeps its tokens.
AUTH_FILE="$REPORT_DIR/auth.json"
LOGOUT_AUTH_FILE="$REPORT_DIR/auth-logout.json"
export AUTH_FILE LOGOUT_AUTH_FILE
$PY manage.py shell -v 0 -c '
import json, os
from knox.models import AuthToken
from companies.models import Company, User
files = {"admin": [], "member": []}
for company in Company.objects.filter(users__isnull=False).distinct().order_by("id")[:2]:
    for role, identities in files.items():
        user = User.objects.filter(company=company, role=role, is_active=True).order_by("id").first()
        _, token = AuthToken.objects.create(user=user)
        identities.append({"name": f"{company.slug}-{role}",
                           "fixedHeaders": [{"name": "Authorization", "value": f"Token {token}"}]})
for role, path in (("admin", os.environ["AUTH_FILE"]), ("member", os.environ["LOGOUT_AUTH_FILE"])):
    with open(path, "w") as out:
        json.dump({"schemaVersion": "0.2.0", "auth": files[role]}, out)
'

# The schema is private with DEBUG off (docs/api.md, "Production surface");
# schemathesis loads it without credentials, so it is public on this server.
# No request-line limit: gunicorn's own 414 for a >4 KiB URL is the HTTP
# server's, not the API's; the fuzzer's long query strings must reach the app.
API_DOCS_PUBLIC=1 \
GUNICORN_CMD_ARGS="--limit-request-line 0" \
HOST=127.0.0.1 PORT="$PORT" WEB_CONCURRENCY=2 GUNICORN_THREADS=2 GUNICORN_LOG_LEVEL=warning \
  .venv/bin/gunicorn --config gunicorn.conf.py >"$LOG" 2>&1 &
SERVER_PID=$!
stop_server() { kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; }
trap stop_server EXIT

up() { $PY -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)' "$BASE/api/schema/" >/dev/null 2>&1; }
for _ in $(seq 1 60); do
  if up; then break; fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then break; fi
  sleep 0.5
done
if ! up; then
  echo "error: the API did not come up on $BASE" >&2
  cat "$LOG" >&2
  exit 1
fi

SEED="${FUZZ_SEED:-59962301450087441807633677985209779681}"
SEED_ARGS=""
if [ "$SEED" != "random" ]; then SEED_ARGS="--seed $SEED"; fi

set +e
.venv/bin/schemathesis --config-file .ci/schemathesis.toml run "$BASE/api/schema/" \
  --url "$BASE" \
  --auth-wfc "$AUTH_FILE" \
  --max-examples "${FUZZ_MAX_EXAMPLES:-25}" \
  --max-time "${FUZZ_MAX_TIME:-240}" \
  $SEED_ARGS \
  --workers 2 \
  --report junit --report-dir "$REPORT_DIR" \
  --no-color \
  --exclude-operation-id auth_token_destroy \
  --exclude-operation-id auth_tokens_destroy \
  ${FUZZ_EXTRA_ARGS:-}
status=$?
if [ "$status" -eq 0 ] && [ -z "${FUZZ_EXTRA_ARGS:-}" ]; then
  # The logout operations, with the identities they may revoke.
  .venv/bin/schemathesis --config-file .ci/schemathesis.toml run "$BASE/api/schema/" \
    --url "$BASE" \
    --auth-wfc "$LOGOUT_AUTH_FILE" \
    --max-examples "${FUZZ_MAX_EXAMPLES:-25}" \
    --max-time 60 \
    $SEED_ARGS \
    --include-operation-id auth_token_destroy \
    --include-operation-id auth_tokens_destroy \
    --report junit --report-dir "$REPORT_DIR/logout" \
    --no-color
  status=$?
fi
set -e
if [ "$status" -ne 0 ]; then
  echo "--- server log (last 200 lines) ---" >&2
  tail -n 200 "$LOG" >&2
fi
exit "$status"
