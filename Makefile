# Two commands for a newcomer: `make run` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

# The first interpreter that is Python >= 3.12 (Django 6.1 needs it): the
# pyenv/.python-version choice, then the usual names.
PYTHON_BOOTSTRAP := $(shell for p in python3.13 python3.12 python3 python; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
		command -v $$p; break; fi; done)

.PHONY: help venv run worker migrate seed test test-sqlite test-postgres check bench bench-smoke serve proxy loadtest attack clean

help:
	@echo "make run     set up and serve on SQLite at http://$(HOST):$(PORT)/ (migrated, demo data)"
	@echo "make worker  run background jobs (tenant purges, periodic jobs) on DATABASE_URL"
	@echo "make test    set up and run the whole suite (PostgreSQL when DATABASE_URL is set)"
	@echo "make serve   production-style: gunicorn + PostgreSQL (DATABASE_URL, DJANGO_SECRET_KEY; see .env.example)"
	@echo "make loadtest  load test of make serve on PostgreSQL (LOADTEST_SECONDS, default 60)"
	@echo "make attack  the hostile-user run of docs/security.md against make serve (PostgreSQL, Redis)"
	@echo "make proxy   nginx (deploy/nginx/workspace.conf) in front of make serve, on PROXY_LISTEN (127.0.0.1:8080)"

$(VENV)/.installed: requirements.txt
	@if [ -z "$(PYTHON_BOOTSTRAP)" ]; then \
		echo "error: Python >= 3.12 is required (Django 6.1); install python3.13 (pyenv or your OS) and retry." >&2; \
		exit 1; fi
	@if [ ! -x $(PY) ]; then echo "Creating $(VENV) with $(PYTHON_BOOTSTRAP)"; $(PYTHON_BOOTSTRAP) -m venv $(VENV); fi
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

venv: $(VENV)/.installed

migrate: venv
	$(PY) manage.py migrate --noinput

seed: migrate
	@if $(PY) manage.py help seed_demo >/dev/null 2>&1; then $(PY) manage.py seed_demo; fi

# The development server with a job worker beside it (same database; it
# stops with the server): deactivation, scheduled purges and periodic jobs
# work on the embedded SQLite default too (docs/operations.md "Jobs").
run: seed
	@$(PY) manage.py worker --verbosity 0 & worker=$$!; trap "kill $$worker 2>/dev/null" EXIT INT TERM; \
	$(PY) manage.py runserver $(HOST):$(PORT)

# The background job worker (docs/operations.md "Jobs"): runs queued jobs and
# enqueues the periodic ones; run one or more beside `make serve`.
worker: migrate
	$(PY) manage.py worker

# requirements.txt is the runtime (make run, make serve, production);
# requirements-dev.txt adds the test and lint tools (make test, make check).
$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

test: venv $(VENV)/.dev-installed
	$(PY) -m pytest

check: venv $(VENV)/.dev-installed
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

# Benchmarks vs the raw-SQL limit on PostgreSQL (docs/PERFORMANCE.md). Uses
# DATABASE_URL (default postgres://postgres@127.0.0.1:5432/workspace_bench),
# which it creates, migrates, wipes and refills. Options: BENCH_ARGS="--help".
bench: venv
	$(PY) -m bench $(BENCH_ARGS)

bench-smoke: venv
	$(PY) -m bench --smoke $(BENCH_ARGS)

# Production-style serving (docs/operations.md): PostgreSQL only, DEBUG off,
# deploy checks, migrations and static files first, then gunicorn with
# gunicorn.conf.py (WEB_CONCURRENCY, GUNICORN_THREADS) on $(HOST):$(PORT).
# Settings come from the environment; ./.env (see .env.example) fills in what
# the environment does not set (the environment wins).
serve: venv
	@saved="$$(export -p)"; if [ -f .env ]; then set -a; . ./.env; set +a; eval "$$saved"; fi; \
	case "$${DATABASE_URL:-}" in postgres://*|postgresql://*|pgsql://*) ;; \
	  *) echo "error: make serve needs DATABASE_URL=postgres://USER@HOST:5432/DBNAME (PostgreSQL; SQLite is for development only). See .env.example." >&2; exit 2;; esac; \
	if [ -z "$${DJANGO_SECRET_KEY:-}" ]; then \
	  echo "error: make serve needs DJANGO_SECRET_KEY (50+ random characters). See .env.example." >&2; exit 2; fi; \
	export DJANGO_DEBUG=0 HOST="$(HOST)" PORT="$(PORT)"; \
	$(PY) manage.py check --deploy && \
	$(PY) manage.py migrate --noinput && \
	$(PY) manage.py collectstatic --noinput --verbosity 0 && \
	exec $(VENV)/bin/gunicorn --config gunicorn.conf.py

# The buffering reverse proxy production requires (docs/operations.md,
# "Reverse proxy"): Debian's nginx in the foreground with
# deploy/nginx/workspace.conf, listening on PROXY_LISTEN, forwarding to the
# gunicorn of `make serve` on $(HOST):$(PORT).
PROXY_LISTEN ?= 127.0.0.1:8080
proxy:
	PROXY_UPSTREAM="$(HOST):$(PORT)" PROXY_LISTEN="$(PROXY_LISTEN)" deploy/nginx/run.sh

# Load test (docs/operations.md): `make serve` on a database of its own
# (workspace_load, re-created), several tenants, LOADTEST_SECONDS (default 60)
# of mixed traffic with one tenant purged midway, then checks against the
# database. Exit status 1 on any 5xx or lost write.
$(VENV)/.loadtest-installed: loadtest/requirements.txt $(VENV)/.installed
	$(PY) -m pip install --quiet --disable-pip-version-check -r loadtest/requirements.txt
	@touch $@

loadtest: venv $(VENV)/.loadtest-installed
	$(PY) -m loadtest

# The hostile-user run (docs/security.md): `make serve` on its own database
# (ATTACK_DATABASE_URL, re-created) and Redis db 13 (ATTACK_REDIS_URL,
# flushed); exit status 1 when any attack is not refused as documented.
attack: venv
	$(PY) -m loadtest.attack

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache
