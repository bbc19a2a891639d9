"""Settings for crmconsole, read from environment variables with defaults for local development.

Every value a deployment changes comes from an environment variable; the defaults give a
working `make run` on a developer machine (SQLite, the private Redis on port 6380 and the
MiniCRM sandbox). README.md lists the variables.
"""

import os
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off.")


def _env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        return int(raw) if raw else default
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}.") from None


# --- Core --------------------------------------------------------------------------------

DEBUG = _env_bool("DJANGO_DEBUG", default=True)

_DEV_SECRET_KEY = "django-insecure-crmconsole-dev-only-never-use-in-production"  # noqa: S105
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = _env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = _env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# HTTPS. With debug off the defaults are a production site's: secure cookies, plain HTTP
# redirected to HTTPS, and HSTS for a year (for the console's own host and names below it,
# marked preloadable). A deployment behind plain HTTP (docker-compose on localhost) turns
# cookies and the redirect off explicitly; browsers ignore HSTS sent over plain HTTP.
SESSION_COOKIE_SECURE = _env_bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = _env_bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = _env_int("DJANGO_SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = _env_bool("DJANGO_SECURE_HSTS_PRELOAD", default=not DEBUG)


def _proxy_ssl_header(raw: str) -> tuple[str, str] | None:
    """`HTTP_X_FORWARDED_PROTO` (or `HTTP_X_FORWARDED_PROTO=https`): the request header a
    TLS-terminating proxy sets, and its value on HTTPS requests. Set it only behind a proxy
    that always sets (or strips) that header, or clients could claim HTTPS."""
    name, _sep, value = raw.strip().partition("=")
    if not name:
        return None
    if not name.startswith("HTTP_") or not name.replace("_", "").isalnum():
        raise ImproperlyConfigured(
            "DJANGO_SECURE_PROXY_SSL_HEADER must name a request header as Django sees it, "
            "e.g. HTTP_X_FORWARDED_PROTO."
        )
    return (name.upper(), value.strip() or "https")


SECURE_PROXY_SSL_HEADER = _proxy_ssl_header(os.environ.get("DJANGO_SECURE_PROXY_SSL_HEADER", ""))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "axes",
    "apps.core",
    "apps.sandbox",
    "apps.writes",
    "apps.contacts",
    "apps.cards",
    "apps.todos",
    "apps.orders",
    "apps.webhooks",
    "apps.mirror",
    "apps.search",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a login unless its view is marked login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "apps.core.middleware.UserTimezoneMiddleware",
    "apps.core.middleware.MiniCRMErrorMiddleware",
    "apps.core.middleware.NotFoundMiddleware",
    # Last, so that it answers a locked-out login attempt with the lockout page.
    "axes.middleware.AxesMiddleware",
]

# The Content-Security-Policy of every response: scripts, styles and everything else only from
# the console's own static files; no inline script or style, no eval (htmx is configured not
# to need it, in base.html), no framing. static/js/console.js holds the page behaviours.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

ROOT_URLCONF = "crmconsole.urls"
WSGI_APPLICATION = "crmconsole.wsgi.application"
ASGI_APPLICATION = "crmconsole.asgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        # template_partials replaces APP_DIRS with its own (cached) loader chain.
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.core.context_processors.console",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    },
]

# --- Database ----------------------------------------------------------------------------

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=_env_int("DATABASE_CONN_MAX_AGE", 0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the Celery workers write to one file: wait for each other's locks,
    # take the write lock when a transaction starts, and let readers read while one writes.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Tests that run a real Celery worker need a database file both processes can open; one
    # per test process, so that test runs side by side never share one.
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"crmconsole-test-{os.getpid()}.sqlite3")
    }

# --- Auth --------------------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The login throttle (django-axes) sees every login attempt first, on both login forms (the
# console's and the admin's): after LOGIN_FAILURE_LIMIT failures for one username, or from one
# client address, further attempts are refused for LOGIN_COOLOFF_MINUTES, the right password
# included. Counts live in the database, so every web worker shares them.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = _env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=_env_float("LOGIN_COOLOFF_MINUTES", 15.0))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# A successful login does not forgive earlier failures: it would forget every failure from
# its address, so one's own account would reset the count on another's.
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_CALLABLE = "apps.core.login_throttle.locked_out"
AXES_CLIENT_IP_CALLABLE = "apps.core.login_throttle.client_ip"
# How many reverse proxies in front of the console append to X-Forwarded-For; 0 means clients
# connect directly and REMOTE_ADDR is their address.
LOGIN_PROXY_COUNT = _env_int("LOGIN_PROXY_COUNT", 0)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "login"

# --- Internationalisation ----------------------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("hu", _("Hungarian")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["crmconsole.formats"]
TIME_ZONE = "Europe/Budapest"
USE_I18N = True
USE_TZ = True

# --- Static files ------------------------------------------------------------------------

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Compressed but not hashed names: templates work with or without collectstatic.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# In development WhiteNoise serves straight from the source folders. Fixed when settings load,
# so test runs (the test runner turns DEBUG off at run time) serve static files like dev does.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# --- Redis and Celery --------------------------------------------------------------------

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6380/0"

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task is acknowledged only after it ran, and a worker killed mid-task hands it back:
# tasks must therefore be idempotent.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_RESULT_EXPIRES = 24 * 60 * 60
CELERY_TASK_IGNORE_RESULT = True
CELERY_BEAT_SCHEDULE = {
    # The write queue's safety net: re-queue writes whose task was lost or whose retry is due.
    "sweep-writes": {
        "task": "apps.writes.tasks.sweep_writes",
        "schedule": _env_float("WRITE_QUEUE_SWEEP_SECONDS", 10.0),
    },
    # Webhook events whose processing is due again (retries) or was lost; old events purged.
    "sweep-events": {
        "task": "apps.webhooks.tasks.sweep_events",
        "schedule": _env_float("WEBHOOK_SWEEP_SECONDS", 30.0),
    },
    "purge-events": {"task": "apps.webhooks.tasks.purge_events", "schedule": 3600.0},
    # The mirror's sync: first fill, webhook and poll follow-ups, rescans, backfill.
    "sync-mirror": {
        "task": "apps.mirror.tasks.sync_mirror",
        "schedule": _env_float("MIRROR_TICK_SECONDS", 10.0),
    },
}

# --- Webhooks ---------------------------------------------------------------------------

# The largest webhook body stored (bytes); larger deliveries are answered 413.
WEBHOOK_MAX_BODY = _env_int("WEBHOOK_MAX_BODY", 1024 * 1024)
# Events older than this many days are deleted by beat.
WEBHOOK_RETENTION_DAYS = _env_int("WEBHOOK_RETENTION_DAYS", 30)
# A change MiniCRM reports within this many seconds of a write of the same fields by the
# console's automations (a write no person asked for) is their echo, not news.
WEBHOOK_ECHO_SECONDS = _env_int("WEBHOOK_ECHO_SECONDS", 120)
# An event being processed is claimed for this long; if its worker died, the sweep (every
# WEBHOOK_SWEEP_SECONDS) starts it again after that. Events whose task was lost are started
# again once they are WEBHOOK_STALE_SECONDS old.
WEBHOOK_PROCESSING_SECONDS = _env_int("WEBHOOK_PROCESSING_SECONDS", 300)
WEBHOOK_STALE_SECONDS = _env_float("WEBHOOK_STALE_SECONDS", 60.0)
# The Python functions (dotted paths, comma-separated) a handler's "Run a Python function"
# action may choose and run; none unless listed.
WEBHOOK_PYTHON_FUNCTIONS = _env_list("WEBHOOK_PYTHON_FUNCTIONS", [])
# The forward action refuses loopback, private, link-local and reserved addresses unless this
# is on (a development or closed network).
WEBHOOK_FORWARD_ALLOW_PRIVATE = _env_bool("WEBHOOK_FORWARD_ALLOW_PRIVATE", default=False)
# How MiniCRM (or the sandbox) reaches this console, for the ApiUrl shown on handler pages.
CONSOLE_BASE_URL = os.environ.get("CONSOLE_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# --- Write queue -------------------------------------------------------------------------

# A write still "sending" after this many seconds is taken to have lost its worker.
WRITE_QUEUE_STALE_SECONDS = _env_float("WRITE_QUEUE_STALE_SECONDS", 300.0)
# Retries of transient failures back off exponentially up to this many seconds.
WRITE_QUEUE_MAX_BACKOFF = _env_float("WRITE_QUEUE_MAX_BACKOFF", 300.0)

# --- MiniCRM -----------------------------------------------------------------------------

MINICRM_BASE_URL = (os.environ.get("MINICRM_BASE_URL") or "https://r3.minicrm.hu").rstrip("/")
MINICRM_SYSTEM_ID = os.environ.get("MINICRM_SYSTEM_ID", "")
MINICRM_API_KEY = os.environ.get("MINICRM_API_KEY", "")
# MiniCRM allows this many requests per system in any sliding window of this many seconds.
MINICRM_RATE_LIMIT = _env_int("MINICRM_RATE_LIMIT", 180)
MINICRM_RATE_WINDOW = _env_float("MINICRM_RATE_WINDOW", 60.0)
# Seconds to wait for MiniCRM to accept a connection, and then for its answer.
MINICRM_CONNECT_TIMEOUT = _env_float("MINICRM_CONNECT_TIMEOUT", 5.0)
MINICRM_READ_TIMEOUT = _env_float("MINICRM_READ_TIMEOUT", 30.0)
# A read that failed for a passing reason (connection, timeout, 5xx, 429) is tried again this
# many times, waiting MINICRM_RETRY_BACKOFF s and doubling (with jitter), never past the
# caller's deadline; writes are never sent again blindly (the write queue decides).
MINICRM_MAX_RETRIES = _env_int("MINICRM_MAX_RETRIES", 3)
MINICRM_RETRY_BACKOFF = _env_float("MINICRM_RETRY_BACKOFF", 0.5)
# The share of the budget kept for people using the console while a bulk job runs.
MINICRM_INTERACTIVE_RESERVE = _env_float("MINICRM_INTERACTIVE_RESERVE", 0.2)
# How long a fetched schema (fields and dropdown values) is kept before it is read again.
MINICRM_SCHEMA_TTL = _env_int("MINICRM_SCHEMA_TTL", 3600)
# How long a card or contact read from MiniCRM is served from the cache (writes and webhooks
# forget what they change sooner).
MINICRM_READ_CACHE_TTL = _env_int("MINICRM_READ_CACHE_TTL", 300)
# MiniCRM's dates carry no time zone: they are this zone's local time.
MINICRM_TIME_ZONE = os.environ.get("MINICRM_TIME_ZONE", "Europe/Budapest")
# MiniCRM's to-do types ("id=name,id=name"): the API has no list of them.
MINICRM_TODO_TYPES = {
    int(key): name
    for key, _sep, name in (
        item.partition("=")
        for item in os.environ.get("MINICRM_TODO_TYPES", "").split(",")
        if item.strip()
    )
    if key.strip().isdigit()
}
# How long a form waits for its change to reach MiniCRM before saying it is queued.
WRITE_WAIT_SECONDS = _env_float("WRITE_WAIT_SECONDS", 3.0)
# A one-click change (a status pill, a board drag, a to-do closed) waits this long in the queue
# before it is sent, with Undo on the page; 0 sends at once.
UNDO_SECONDS = _env_float("UNDO_SECONDS", 8.0)
# The longest a web request may take. gunicorn (gunicorn.conf.py) lets a worker run this long
# plus a margin before it kills it; a system check (apps/core/checks.py) warns when the
# timeouts above let a request wait longer.
WEB_REQUEST_TIMEOUT = _env_float("WEB_REQUEST_TIMEOUT", 60.0)
# The longest a page waits for MiniCRM's answers (sent side by side, PAGE_MINICRM_THREADS at a
# time) before it answers with what it has and says what is missing. Keep it well under the
# web server's worker timeout.
PAGE_MINICRM_BUDGET_SECONDS = _env_float("PAGE_MINICRM_BUDGET_SECONDS", 8.0)
PAGE_MINICRM_THREADS = _env_int("PAGE_MINICRM_THREADS", 16)

# --- Mirror ------------------------------------------------------------------------------

# Pages read the console's own copy of MiniCRM (apps/mirror), kept fresh by webhooks, an
# incremental poll and periodic rescans; off, every page reads MiniCRM live.
MIRROR_ENABLED = _env_bool("MIRROR_ENABLED", default=True)
# The share of the request budget the sync may use (the rest stays with people and writes).
MIRROR_BUDGET_SHARE = _env_float("MIRROR_BUDGET_SHARE", 0.6)
# Contact?UpdatedSince and Project?UpdatedSince this often, starting this much before the last
# poll began (clocks differ; overlap costs a request, a gap loses a change).
MIRROR_POLL_SECONDS = _env_float("MIRROR_POLL_SECONDS", 60.0)
MIRROR_POLL_MARGIN_SECONDS = _env_float("MIRROR_POLL_MARGIN_SECONDS", 60.0)
# Every module's and the contacts' list is read again this often (it finds deletions).
MIRROR_RESCAN_SECONDS = _env_float("MIRROR_RESCAN_SECONDS", 6 * 3600.0)
# A card or contact opened while its copy is older than this is read again in the background.
MIRROR_STALE_SECONDS = _env_float("MIRROR_STALE_SECONDS", 300.0)
# How long one sync task runs before it hands over to the next (beat starts one every
# MIRROR_TICK_SECONDS; one runs at a time).
MIRROR_RUN_SECONDS = _env_float("MIRROR_RUN_SECONDS", 50.0)
# Modules and schemas are read again this often.
MIRROR_SCHEMA_SECONDS = _env_float("MIRROR_SCHEMA_SECONDS", 3600.0)

# --- Logging -----------------------------------------------------------------------------


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_secrets": {"()": "crmconsole.log_filters.RedactSecrets"},
    },
    "formatters": {
        "console": {"format": "{asctime} {levelname} {name}: {message}", "style": "{"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "console",
            "filters": ["redact_secrets"],
        },
    },
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO").upper()},
    "loggers": {
        # The console handler is on the root logger; stop Django's own handlers doubling it.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
    },
}
