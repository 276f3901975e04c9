"""Settings, read from the environment with safe development defaults.

Production sets DJANGO_DEBUG=0, DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS and
DATABASE_URL (see README.md and .env.example).
"""

import hashlib
import os
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)

_DEV_SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", _DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    # Hashed, expiring API tokens (docs/api.md, "Authentication").
    "knox",
    # Login throttling, admin and API (workspace/login_throttle.py).
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Job queue: Django's task API stored in our own database (docs/operations.md).
    "django_tasks_db",
    "django.contrib.postgres",
    "companies",
    "chat",
    "meetings",
    # Cross-app integrity commands (docs/integrity.md); no models.
    "workspace",
]

MIDDLEWARE = [
    # Outermost: one structured log line per request (workspace/request_log.py).
    "workspace.request_log.RequestLogMiddleware",
    # Prometheus: requests and their queries by route (workspace/metrics.py).
    "workspace.metrics.MetricsMiddleware",
    # Cache-Control: no-store on every /api/ response, errors included
    # (workspace/api/headers.py).
    "workspace.api.headers.ApiNoStoreMiddleware",
    # Under /api/ every error is JSON; database outages and timeouts are a 503
    # with Retry-After, logged in one line (workspace/errors.py).
    "workspace.errors.FailCleanlyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response (SECURE_CSP below).
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "companies.middleware.LastActiveMiddleware",
    # Last: turns a login refused by the throttle into 429 + Retry-After.
    "axes.middleware.AxesMiddleware",
    # A login that found every password-hashing slot busy: 429 + Retry-After.
    "workspace.login_slots.LoginBusyMiddleware",
]

# The URLconf: the project's own unless DJANGO_ROOT_URLCONF names another.
# `make loadtest` serves loadtest.serving_urls (the project's URLs plus the
# raw-SQL serving limit, docs/operations.md "Load test"); production never sets it.
ROOT_URLCONF = os.environ.get("DJANGO_ROOT_URLCONF", "workspace.urls")
# `manage.py test` hands over to pytest: the same suite as `make test`
# (workspace/test_runner.py).
TEST_RUNNER = "workspace.test_runner.PytestTestRunner"
WSGI_APPLICATION = "workspace.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # {{ csp_nonce }} for inline blocks (the Swagger UI page).
                "django.template.context_processors.csp",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
# DATABASE_URL selects PostgreSQL (production); without it an embedded SQLite
# file lets a newcomer run everything with no server. Either way the engine is
# our thin subclass whose schema editor writes the ORM delete policy into the
# FK constraints (workspace/db/backends).
_ENGINES = {
    "django.db.backends.postgresql": "workspace.db.backends.postgresql",
    "django.db.backends.sqlite3": "workspace.db.backends.sqlite3",
}
DATABASES = {
    # An empty DATABASE_URL counts as unset (e.g. `DATABASE_URL= make test`).
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        # Persistent connections in production (health-checked before reuse).
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "0" if DEBUG else "60")),
        conn_health_checks=True,
    )
}
DATABASES["default"]["ENGINE"] = _ENGINES.get(DATABASES["default"]["ENGINE"], DATABASES["default"]["ENGINE"])
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # connect_timeout, lock_timeout and statement_timeout of web requests
    # (DJANGO_DB_*; manage.py commands run without the last two):
    # workspace/db/timeouts.py, docs/operations.md "Timeouts".
    from workspace.db.timeouts import postgres_options

    DATABASES["default"]["OPTIONS"] = postgres_options(os.environ, DATABASES["default"].get("OPTIONS"))
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Writers wait for each other instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20

# A 503 (database unavailable, lock or statement timeout) tells the client to
# retry after this many seconds; /healthz probes with limits of its own
# (workspace/errors.py, workspace/health.py, docs/operations.md).
DB_UNAVAILABLE_RETRY_AFTER = int(os.environ.get("DJANGO_DB_RETRY_AFTER", "5"))
HEALTHZ_TIMEOUT = os.environ.get("DJANGO_HEALTHZ_TIMEOUT", "1s")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "companies.User"

# The throttle backend only refuses locked-out logins; ModelBackend checks
# the password (workspace/login_throttle.py), in one of LOGIN_CONCURRENCY
# slots per process (workspace/login_slots.py).
AUTHENTICATION_BACKENDS = [
    "workspace.login_throttle.LoginThrottleBackend",
    "workspace.login_slots.SlotModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Lifecycle ------------------------------------------------------------
# User.last_active is written by API requests at most once per this many
# seconds per user (docs/lifecycle.md).
LAST_ACTIVE_RESOLUTION = int(os.environ.get("LAST_ACTIVE_RESOLUTION", "60"))

# --- Metrics and traces (docs/operations.md, "Metrics and traces") ---------
# GET /metrics needs "Authorization: Bearer <METRICS_TOKEN>"; unset: a 404,
# except with DEBUG on from a loopback address (workspace/metrics.py).
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")

# --- Cache ----------------------------------------------------------------
# Shared by every gunicorn worker when REDIS_URL is set (production: the login
# throttle's counters live here); local memory otherwise (`make run`).
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "workspace"),
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Authentication: tokens and login throttling ----------------------------
# API tokens (django-rest-knox): a new random token per login, stored as a
# SHA-512 digest, valid for API_TOKEN_TTL seconds (docs/api.md).
API_TOKEN_TTL = int(os.environ.get("API_TOKEN_TTL", str(10 * 3600)))
REST_KNOX = {
    "TOKEN_TTL": timedelta(seconds=API_TOKEN_TTL),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTH_TOKEN_CHARACTER_LENGTH": 64,
    "SECURE_HASH_ALGORITHM": "hashlib.sha512",
}
# Failed logins (admin and API) per username and per client address:
# LOGIN_FAILURE_LIMIT of them lock out for LOGIN_LOCKOUT_SECONDS (429 with
# Retry-After); workspace/login_throttle.py, docs/security.md.
LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "10"))
LOGIN_LOCKOUT_SECONDS = int(os.environ.get("LOGIN_LOCKOUT_SECONDS", "900"))
# Threads of one process that may hash a password at the same time; a login
# finding them all busy gets 429 + Retry-After: 1 at once, so the other
# threads keep serving everyone else (workspace/login_slots.py).
LOGIN_CONCURRENCY = int(os.environ.get("LOGIN_CONCURRENCY", "1"))
# ... and that many processes of the machine at once (lock files in
# LOGIN_SLOT_DIR, one directory per machine and deployment); 0: half the
# cores, at least 1.
LOGIN_MACHINE_CONCURRENCY = int(os.environ.get("LOGIN_MACHINE_CONCURRENCY", "0"))
LOGIN_SLOT_DIR = os.environ.get(
    "LOGIN_SLOT_DIR",
    os.path.join(
        tempfile.gettempdir(),
        f"workspace-login-slots-{os.getuid()}-{hashlib.sha256(str(BASE_DIR).encode()).hexdigest()[:12]}",
    ),
)
# Reverse proxies in front of the app that append the client address to
# X-Forwarded-For (1 behind the shipped nginx); 0: the client is REMOTE_ADDR.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
AXES_HANDLER = "workspace.login_throttle.CacheHandler"
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(seconds=LOGIN_LOCKOUT_SECONDS)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_CALLABLE = "workspace.login_throttle.username_key"
AXES_CLIENT_IP_CALLABLE = "workspace.login_throttle.client_ip"
AXES_LOCKOUT_CALLABLE = "workspace.login_throttle.lockout_response"
AXES_RESET_ON_SUCCESS = False
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False

# --- Background jobs (docs/operations.md "Jobs", docs/lifecycle.md) ---------
# Django's task API with django-tasks-db: a job is a row of our own database,
# written in the transaction that asks for it (a rolled-back request enqueues
# nothing). `make worker` (manage.py worker) runs them and the periodic jobs
# of workspace/jobs.py; `make run` starts one beside the development server.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# Seconds between two looks at an empty queue, per worker.
JOBS_POLL_INTERVAL = float(os.environ.get("JOBS_POLL_INTERVAL", "1"))

# --- Tenant deletion (docs/lifecycle.md "Scheduled and online tenant deletion")
# Days between a company's deactivation and its purge, for a company created
# without a delay of its own (Company.deletion_delay_days).
COMPANY_DELETION_DELAY_DAYS = int(os.environ.get("COMPANY_DELETION_DELAY_DAYS", "30"))
# A tenant with at most this many rows (all its tables) is purged in one
# statement (company_purge); a bigger one online, in batches.
# Message retention (docs/lifecycle.md, "Retention"): how often the periodic
# job applies every company's message_retention_days.
RETENTION_EVERY_SECONDS = float(os.environ.get("RETENTION_EVERY_SECONDS", "3600"))
COMPANY_PURGE_ONLINE_THRESHOLD = int(os.environ.get("COMPANY_PURGE_ONLINE_THRESHOLD", "20000"))
# Rows per batch of the online purge (each batch one short transaction): at
# most COMPANY_PURGE_BATCH_SIZE, adapted to take about
# COMPANY_PURGE_BATCH_TARGET_MS (companies/purge.py, BatchSizer).
COMPANY_PURGE_BATCH_SIZE = int(os.environ.get("COMPANY_PURGE_BATCH_SIZE", "2000"))
COMPANY_PURGE_BATCH_TARGET_MS = float(os.environ.get("COMPANY_PURGE_BATCH_TARGET_MS", "150"))
# Pause between two batches, leaving the database to the other tenants.
COMPANY_PURGE_PAUSE_MS = float(os.environ.get("COMPANY_PURGE_PAUSE_MS", "50"))
# A purge job works this many seconds, then hands over to a new job (so the
# periodic jobs run between); a purge whose worker has been silent for
# COMPANY_PURGE_LEASE_SECONDS is taken over by another worker.
COMPANY_PURGE_SLICE_SECONDS = float(os.environ.get("COMPANY_PURGE_SLICE_SECONDS", "20"))
COMPANY_PURGE_LEASE_SECONDS = float(os.environ.get("COMPANY_PURGE_LEASE_SECONDS", "120"))

# --- API ------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "workspace.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "workspace.api.pagination.StrictPageNumberPagination",
    "PAGE_SIZE": 50,
    # The API reads JSON only (docs/api.md); the token endpoint also takes forms.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    # Service ValidationError -> 400, IntegrityError -> 409: never a 500.
    "EXCEPTION_HANDLER": "workspace.api.exceptions.exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Workspace API",
    "DESCRIPTION": "Multi-tenant workplace collaboration backend.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # <id:...> path parameters (workspace/api/converters.py): bigint ids.
    "PATH_CONVERTER_OVERRIDES": {
        "id": {"type": "integer", "format": "int64", "minimum": 1, "maximum": 9223372036854775807},
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "workspace.api.schema.postprocess",
    ],
}

# --- API surface (docs/api.md, "Production surface") -----------------------
# The browsable API (HTML) only in development: with DJANGO_DEBUG=0 the API
# renders JSON only, whatever the Accept header. API_BROWSABLE overrides.
API_BROWSABLE = env_bool("API_BROWSABLE", DEBUG)
REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = [
    # DRF's JSON, encoded by orjson (workspace/api/renderers.py).
    "workspace.api.renderers.JSONRenderer",
    # DRF's browsable API on a template with the CSP nonce (workspace/api/renderers.py).
    *(["workspace.api.renderers.BrowsableAPIRenderer"] if API_BROWSABLE else []),
]
# /api/schema/ and /api/docs/: public in development, for authenticated
# callers (token or admin session) in production. API_DOCS_PUBLIC overrides;
# read per request by workspace.api.docs.DocsAccess.
API_DOCS_PUBLIC = env_bool("API_DOCS_PUBLIC", DEBUG)
SPECTACULAR_SETTINGS["SERVE_PERMISSIONS"] = ["workspace.api.docs.DocsAccess"]

# Content Security Policy on every response (django.middleware.csp): own
# origin only, inline scripts and styles only with the request's nonce (the
# admin and the Swagger UI page carry it), style attributes allowed (the
# browsable API and Swagger UI set them; they cannot run script), data: images
# (Swagger UI's icons), no plugins, no framing, forms post to this origin.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "style-src-attr": [CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# --- Security (production) ------------------------------------------------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
    # Probes and the Prometheus scrape talk plain HTTP to gunicorn.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]

# One JSON object per line on stderr (docs/operations.md): the request log
# (workspace.request) and Django's django.request errors with tracebacks. The
# `request`/`server_time` attributes Django attaches are dropped: the request
# repr carries the query string.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "workspace.request_log.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": os.environ.get("DJANGO_LOG_FORMAT", "json"),
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    # Django's own handlers (debug console, mail_admins) are replaced: its
    # records propagate to the root handler above, once.
    "loggers": {"django": {"handlers": [], "level": "INFO", "propagate": True}},
}
