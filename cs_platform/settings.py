"""Settings for the customer-success platform.

Everything comes from environment variables, each documented in README.md. With none set the
platform runs embedded: a SQLite file next to the code and Celery tasks run eagerly in-process.
`DATABASE_URL` switches to PostgreSQL, `REDIS_URL` to a Redis broker and cache with real workers.
"""

import datetime as dt
import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from cs_platform.deployment import (
    PUBLIC_INSECURE_KEY,
    embedded_secret_key,
    env_throttle_rate,
    key_file_for,
    proxy_ssl_header,
)

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name, default=""):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name, default):
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None


def env_list(name, default):
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", default=False)
DATABASE_URL = env_str("DATABASE_URL")
REDIS_URL = env_str("REDIS_URL")

SQLITE_PATH = Path(env_str("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")))

# The secret key signs sessions and CSRF tokens: a key someone else knows lets them forge both.
# Embedded (no DATABASE_URL): a random key generated on the first start and kept in a file beside
# the SQLite database (mode 0600, git-ignored). `check --deploy` reports it (cs_platform.W001) and
# reports a public key as an error (cs_platform.E001); see cs_platform/checks.py.
SECRET_KEY = env_str("SECRET_KEY")
EMBEDDED_SECRET_KEY_FILE = None
if not SECRET_KEY:
    if DATABASE_URL and not DEBUG and not env_bool("ALLOW_INSECURE_SECRET_KEY"):
        # A production database with a guessable key would let anyone forge sessions.
        raise ImproperlyConfigured("SECRET_KEY must be set when DATABASE_URL is set and DEBUG is off.")
    if DATABASE_URL:
        SECRET_KEY = PUBLIC_INSECURE_KEY  # a throwaway setup that asked for it
    else:
        SECRET_KEY = embedded_secret_key(SQLITE_PATH)
        EMBEDDED_SECRET_KEY_FILE = str(key_file_for(SQLITE_PATH))

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "axes",
    "ui",
    "workspaces",
    "accounts",
    "usage",
    "imports",
    "segments",
    "coverage",
    "voice",
    "healthscore",
    "webhooks",
    "playbooks",
    "renewals",
    "expansion",
    "revenue",
    "programmes",
    "lifecycle",
    "success",
    "onboarding",
    "cs_platform",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "workspaces.middleware.UserLanguageMiddleware",
    "workspaces.middleware.CurrentWorkspaceMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a refused sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cs_platform.urls"

# The panels of the capabilities on the account page, in order: accounts shows them without knowing
# them (an app never imports the apps built on it; the composition floor wires them here).
ACCOUNT_PAGE_PANELS = ["playbooks/_account_tasks_entry.html", "coverage/_account_panel.html", "healthscore/_account_panel.html",
                       "expansion/_account_entry.html", "voice/_account_panel.html", "onboarding/_account_panel.html",
                       "lifecycle/_account_panel.html", "success/_account_panel.html"]
# Panels of other apps on an account's success plan and report card (e.g. playbooks: the account's open
# tasks). Each template gets `account` and `plan`; the success app imports none of them.
SUCCESS_PLAN_PANELS = ["playbooks/_success_plan_tasks.html"]
# Where the report card reads the workspace's key features (a dotted path to a function taking
# workspace=; the health settings keep them). Composition: the success app does not import it.
SUCCESS_KEY_FEATURES = "healthscore.selectors.key_features"
# Actions of other apps on the account list (the export of the filtered list), wired the same way.
ACCOUNT_LIST_ACTIONS = ["imports/_account_list_export.html"]
WSGI_APPLICATION = "cs_platform.wsgi.application"

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
                "workspaces.context_processors.current_workspace",
            ],
        },
    },
]

if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(SQLITE_PATH),
            # Nightly jobs and web requests share one file: wait for the lock rather than fail.
            "OPTIONS": {"timeout": 20},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Sign-in lockout (django-axes): LOGIN_FAILURE_LIMIT failed sign-ins for one username from one client
# address lock that pair out for LOGIN_COOLOFF_MINUTES, whatever password comes next. Attempts are rows
# in the database (SQLite or PostgreSQL alike); workspaces/lockout.py has the client address and the page.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "workspaces.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "workspaces.lockout.lockout_response"
AXES_VERBOSE = False

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Japanese first, English the fallback: a user's saved language (workspaces.middleware.UserLanguage-
# Middleware) wins, then the browser's Accept-Language, then LANGUAGE_CODE. New workspaces store the
# names the platform writes for them (stages, policies, the default scorecard) in LANGUAGE_CODE.
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "ja")
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates per language (cs_platform/formats/<lang>/formats.py). USE_THOUSAND_SEPARATOR stays off: it
# would put commas into ids printed in URLs and data attributes; the |number and |money filters
# (ui.templatetags.formatting) group digits where a person reads them.
FORMAT_MODULE_PATH = ["cs_platform.formats"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Tokyo")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Hashed, compressed file names need `collectstatic` first: the production image sets
# STATIC_MANIFEST=1 at build and run time. Without it, whitenoise serves the files from the finders.
STATIC_MANIFEST = env_bool("STATIC_MANIFEST", default=False)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Without a manifest (tests, `make run`) files are served straight from the finders.
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
# What one import file may hold (README, "Spreadsheets and CRMs"): bigger files are refused whole, saying why.
IMPORTS_MAX_UPLOAD_BYTES = env_int("IMPORTS_MAX_UPLOAD_MB", 50) * 1024 * 1024
IMPORTS_MAX_ROWS = env_int("IMPORTS_MAX_ROWS", 100_000)
IMPORTS_MAX_COLUMNS = env_int("IMPORTS_MAX_COLUMNS", 200)

# --- Deployment: HTTPS, cookies, proxies, e-mail. Each is an environment variable (README, "Configuration");
# `manage.py check --deploy` reports what is still unsafe (Django's checks and cs_platform/checks.py).
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 24 * 14)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD")
# Behind a TLS-terminating proxy: the header it sets (e.g. X-Forwarded-Proto), and how many proxies
# append to X-Forwarded-For, so that the client's address (login lockout, API throttles) is the
# client's and not one a caller made up. 0: the connection's own address.
SECURE_PROXY_SSL_HEADER = proxy_ssl_header(env_str("PROXY_SSL_HEADER"))
NUM_PROXIES = env_int("NUM_PROXIES", 0)
# Content-Security-Policy: scripts and styles from our own files only; no inline script, event
# handler or style attribute (behaviour lives in static/js, bound with addEventListener). The API
# docs pages relax what their bundled viewers need, per view (cs_platform/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "report-uri": env_list("CSP_REPORT_URI", None),
    },
}
# Mail (invitations): printed to the console until EMAIL_HOST names an SMTP server.
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if env_str("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "webmaster@localhost")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
# How long a member invitation's link works (workspaces.services.invite_member).
INVITATION_EXPIRY_DAYS = env_int("INVITATION_EXPIRY_DAYS", 7)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "workspaces.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["workspaces.api.permissions.IsWorkspaceMember"],
    # Rates in API_THROTTLE_RATES below (workspaces/api/throttles.py).
    "DEFAULT_THROTTLE_CLASSES": [
        "workspaces.api.throttles.TokenRateThrottle",
        "workspaces.api.throttles.AnonRateThrottle",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "workspaces.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "workspaces.api.exceptions.api_exception_handler",
    "DEFAULT_METADATA_CLASS": "workspaces.api.metadata.WorkspaceMetadata",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# REST API rate limits, "<requests>/<second|minute|hour|day>" or "off": per API token, per client address
# without credentials, and per client address for wrong tokens. The tracking API (/v1/) has its own.
API_THROTTLE_RATES = {
    "token": env_throttle_rate("API_THROTTLE_TOKEN", "240/minute"),
    "anon": env_throttle_rate("API_THROTTLE_ANON", "60/minute"),
    "failed_auth": env_throttle_rate("API_THROTTLE_FAILED_AUTH", "20/minute"),
}
# Tracking API (/v1/batch): requests per write key, in DRF's rate syntax ("200/s", "6000/m"; "off"
# turns the limit off, as for the API throttles). Over it: 429 with Retry-After, which every SDK retries. Counted on the default
# cache, so shared by all processes when REDIS_URL is set (per process without it).
USAGE_INGEST_RATE_LIMIT = env_throttle_rate("USAGE_INGEST_RATE_LIMIT", "200/s")

SPECTACULAR_SETTINGS = {
    "TITLE": "Customer-success platform API",  # a name, and the downloaded schema's file name
    "DESCRIPTION": _("REST API v1: customer accounts, contacts, touchpoints and everything built on them. "
                     "Authenticate with `Authorization: Token <key>` (a personal token bound to one workspace "
                     "membership). Send `Accept-Language: ja` for messages in Japanese; `?lang=ja` gives this "
                     "schema in Japanese."),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "workspaces.api.schema.document_error_responses",  # the 4xx answers of every operation
    ],
    # Choice sets used by several apps' serializers get one stable name each in the schema.
    "ENUM_NAME_OVERRIDES": {
        "MembershipRoleEnum": "workspaces.models.Role",
        "ContactRoleEnum": "accounts.models.ContactRole",
        "TouchTierEnum": "accounts.models.TouchTier",
        "ChannelEnum": "accounts.models.Channel",
        "SentimentEnum": "accounts.models.Sentiment",
        "AccountStatusEnum": "accounts.models.AccountStatus",
        "HealthBandEnum": "accounts.models.HealthBand",
        "FeatureRequestStatusEnum": "voice.models.RequestStatus",
        "ProgrammeKindEnum": "programmes.models.ProgrammeKind",
        "AttendanceStatusEnum": "programmes.models.AttendanceStatus",
        "SuccessPlanStatusEnum": "success.models.PlanStatus",
        "PlanEventKindEnum": "success.models.EventKind",
        "KptKindEnum": "success.models.KptKind",
        "KptPeriodKindEnum": "success.models.PeriodKind",
    },
}

# Celery: eager in-process without Redis, a real broker with it. The same tasks either way.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_RESULT_EXPIRES = 60 * 60 * 24
# The whole beat schedule in one place; every entry expires so that a backlog never runs it twice.
# Hourly: each workspace's night starts when its own local time reaches its nightly hour (02:00 by
# default), as of its own local date (cs_platform.nightly.workspaces_due).
CELERY_BEAT_SCHEDULE = {
    "nightly-recompute": {
        "task": "cs_platform.tasks.schedule_nightly",
        "schedule": crontab(minute=15),
        "options": {"expires": 50 * 60},
    },
}

# --- Faults a deployment meets (README, "When Redis, a worker or the database fails") ----------------
# Kept database connections are health-checked before reuse: one the database ended while idle
# (restart, failover, a pooler's timeout) costs a reconnect, not the next request's error.
if DATABASE_URL:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A Redis that stops answering without closing its connections (a hung host, a partition) delays a
# request by seconds, not forever: short socket timeouts for the cache, the broker, the result store.
REDIS_CACHE_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 2}
if REDIS_URL:
    CACHES["default"]["OPTIONS"] = REDIS_CACHE_OPTIONS
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
CELERY_REDIS_SOCKET_TIMEOUT = 5
# Every five minutes: usage rollups that a batch could not enqueue (broker or cache down) catch up.
CELERY_BEAT_SCHEDULE["usage-rollup-sweep"] = {
    "task": "usage.tasks.sweep_usage_rollups", "schedule": 5 * 60, "options": {"expires": 4 * 60},
}
# Every five minutes: imports that a page could not enqueue (broker down), or whose message was lost, run.
CELERY_BEAT_SCHEDULE["imports-queued-sweep"] = {
    "task": "imports.tasks.sweep_queued_imports", "schedule": 5 * 60, "options": {"expires": 4 * 60},
}

# Every five minutes: webhook deliveries whose attempt is overdue (task lost, broker down) are queued.
CELERY_BEAT_SCHEDULE["webhooks-retry-due"] = {
    "task": "webhooks.tasks.retry_due_deliveries", "schedule": 5 * 60, "options": {"expires": 4 * 60},
}
# Daily: webhook deliveries older than WEBHOOKS_DELIVERY_RETENTION_DAYS go (also trimmed when events are queued).
CELERY_BEAT_SCHEDULE["webhooks-purge"] = {
    "task": "webhooks.tasks.purge_webhook_deliveries", "schedule": crontab(minute=40, hour=3),
    "options": {"expires": 60 * 60},
}

# --- Outbound webhooks (docs/webhooks.md) ------------------------------------------------------------
# Plain http:// and loopback receivers (127.0.0.1, ::1, localhost) are for development and tests only:
# allowed by default in DEBUG and in the embedded mode, refused by default with PostgreSQL.
WEBHOOKS_ALLOW_HTTP_LOOPBACK = env_bool("WEBHOOKS_ALLOW_HTTP_LOOPBACK", default=DEBUG or not DATABASE_URL)
WEBHOOKS_TIMEOUT_SECONDS = env_int("WEBHOOKS_TIMEOUT_SECONDS", 10)
WEBHOOKS_DISABLE_AFTER = env_int("WEBHOOKS_DISABLE_AFTER", 5)
WEBHOOKS_DELIVERY_RETENTION_DAYS = env_int("WEBHOOKS_DELIVERY_RETENTION_DAYS", 30)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
