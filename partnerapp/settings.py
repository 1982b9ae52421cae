"""partnerapp settings: one module, every knob from the environment.

PARTNERAPP_ENV=development (the default) runs on embedded defaults: SQLite, a
filesystem Celery broker and the built-in sandbox provider, with development
secrets generated once under var/. PARTNERAPP_ENV=production refuses to start
without its secrets and says which one is missing.
"""

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PARTNERAPP_VAR_DIR", BASE_DIR / "var"))


def env(name: str, default: str | None = None) -> str | None:
    """A value from the environment, or from the file named by NAME_FILE (docker secrets)."""
    if name in os.environ:
        return os.environ[name]
    if f"{name}_FILE" in os.environ:
        return Path(os.environ[f"{name}_FILE"]).read_text().strip()
    return default


def envbool(name: str, default: str) -> bool:
    return (env(name, default) or "").strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: str) -> int:
    return int(env(name, default) or default)


def envint_or_none(name: str) -> int | None:
    value = (env(name, "") or "").strip()
    return int(value) if value else None


def envfloat(name: str, default: str) -> float:
    return float(env(name, default) or default)


def envlist(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in (env(name, default) or "").split(",") if part.strip()]


PARTNERAPP_ENV = env("PARTNERAPP_ENV", "development")
if PARTNERAPP_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("PARTNERAPP_ENV must be 'development' or 'production'.")
PRODUCTION = PARTNERAPP_ENV == "production"


def secret(name: str, generate) -> str:
    """A secret from the environment; in development, one generated once under var/."""
    value = env(name)
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(f"{name} is not set; production needs it in the environment.")
    path = VAR_DIR / "dev-secrets" / name.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:  # O_EXCL: two processes starting at once agree on one value
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(generate())
    except FileExistsError:
        pass
    return path.read_text().strip()


SECRET_KEY = secret("SECRET_KEY", lambda: secrets.token_urlsafe(50))
# Off unless asked for (DEBUG=True): the demo, too, shows our own 404 and 500 pages, never
# Django's technical ones (they list every URL pattern to whoever mistypes one).
DEBUG = envbool("DEBUG", "False")
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,[::1]")
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is not set; production needs the site's host names.")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
SITE_URL = env("SITE_URL", "")  # e.g. https://partnerapp.example.com; used outside requests

# Token encryption: the first key encrypts, every key decrypts (MultiFernet).
TOKEN_ENCRYPTION_KEYS = envlist("TOKEN_ENCRYPTION_KEYS") or [
    secret("TOKEN_ENCRYPTION_KEYS", lambda: Fernet.generate_key().decode())
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",  # relative times ("vor 3 Minuten"), translated
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "csp",
    "rest_framework",  # the partner API
    "drf_spectacular",  # its OpenAPI document
    "drf_spectacular_sidecar",  # Swagger UI's files, served by us (no CDN)
    "partnerapp.health",
    "partnerapp.organizations",
    "partnerapp.connections",
    "partnerapp.jobs",
    "partnerapp.receivables",
    "partnerapp.webhooks",
    "partnerapp.dashboard",
    "partnerapp.api",
    "partnerapp.sandbox",
]

MIDDLEWARE = [
    "partnerapp.observability.RequestIdMiddleware",  # first: every log line gets the id
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",  # after WhiteNoise: pages get the policy, static files not
    "partnerapp.sandbox.middleware.ProviderApiMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "partnerapp.organizations.audit.AuditContextMiddleware",  # who, IP, UA for the audit log
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",  # request.htmx: a part of a page or the whole
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "partnerapp.urls"
WSGI_APPLICATION = "partnerapp.wsgi.application"

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
                "django.template.context_processors.i18n",
                "partnerapp.organizations.context.organizations",
            ],
        },
    },
]

# Database: DATABASE_URL, or SQLite under var/ in WAL mode with a busy timeout so
# the web server, the worker and beat can share it.
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'partnerapp.sqlite3'}"),
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", "0"),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The job engine's per-item statements are bound on the server (partnerapp/statements.py)
    # and prepared once they ran five times on a connection (Django's own cursors bind on the
    # client and never prepare). Off for a pooler in transaction mode that cannot keep
    # prepared statements (PgBouncer before 1.21, or without max_prepared_statements).
    prepared = envbool("DATABASE_PREPARED_STATEMENTS", "true")
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5 if prepared else None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",  # writers queue on BEGIN instead of failing later
        "timeout": 30,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# django-allauth: partner users sign in with email + password.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", "optional")
ACCOUNT_LOGOUT_ON_GET = False
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard:overview"
ACCOUNT_LOGOUT_REDIRECT_URL = "dashboard:overview"

# Two-factor sign-in (allauth.mfa): an authenticator app, security keys (WebAuthn) and
# recovery codes. WebAuthn insists on https; only development and the demo (not
# production) and the tests, served over http://localhost, may skip that origin check.
# The pages need no inline script: allauth loads its JS from static files and passes
# data in <script type="application/json">, which the CSP does not execute.
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_TOTP_ISSUER = "partnerapp"
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not PRODUCTION

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "partnerapp <noreply@localhost>")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", "587")
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", "True")

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("de", _("German")), ("fr", _("French")), ("it", _("Italian"))]
FORMAT_MODULE_PATH = ["partnerapp.formats"]  # Swiss dates and numbers in every language
LOCALE_PATHS = [BASE_DIR / "partnerapp" / "locale"]
TIME_ZONE = env("TIME_ZONE", "Europe/Zurich")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Outside production WhiteNoise serves straight from the finders (no collectstatic), so
# the demo runs with DEBUG off; production serves the collected, hashed files.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Security: secure by default in production; plain HTTP on localhost in development.
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "True" if PRODUCTION else "False")
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", "31536000" if PRODUCTION else "0")
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if PRODUCTION else None
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# The SmartBusiness API (PostFinance SmartBusiness, smallinvoice, or the sandbox).
PORT = envint("PORT", "8000")
SMARTBUSINESS_BASE_URL = env("SMARTBUSINESS_BASE_URL", f"http://127.0.0.1:{PORT}/sandbox/v2")
SMARTBUSINESS_CLIENT_ID = env("SMARTBUSINESS_CLIENT_ID", "" if PRODUCTION else "partnerapp-demo")
SMARTBUSINESS_CLIENT_SECRET = env("SMARTBUSINESS_CLIENT_SECRET") or secret(
    "SMARTBUSINESS_CLIENT_SECRET", lambda: secrets.token_urlsafe(32)
)
SMARTBUSINESS_REDIRECT_URI = env("SMARTBUSINESS_REDIRECT_URI", "")  # default: built per request
SMARTBUSINESS_DEFAULT_SCOPES = env("SMARTBUSINESS_DEFAULT_SCOPES", "profile invoice contact")
# Where an account's owner revokes partnerapp's access (shown to a client after a connect
# link); empty: the sandbox's own page, or only words for another provider.
SMARTBUSINESS_CONNECTED_APPS_URL = env("SMARTBUSINESS_CONNECTED_APPS_URL", "")
SMARTBUSINESS_CONNECT_TIMEOUT = envfloat("SMARTBUSINESS_CONNECT_TIMEOUT", "5")
SMARTBUSINESS_READ_TIMEOUT = envfloat("SMARTBUSINESS_READ_TIMEOUT", "30")
# Plain http is allowed only for the sandbox on this machine.
SMARTBUSINESS_ALLOW_HTTP = envbool(
    "SMARTBUSINESS_ALLOW_HTTP",
    str(urlsplit(SMARTBUSINESS_BASE_URL).hostname in {"127.0.0.1", "localhost", "::1"}),
)
if PRODUCTION and not SMARTBUSINESS_CLIENT_ID:
    raise ImproperlyConfigured("SMARTBUSINESS_CLIENT_ID is not set; register partnerapp first.")

# Connections: refresh this long before the access token expires.
TOKEN_REFRESH_MARGIN_SECONDS = envint("TOKEN_REFRESH_MARGIN_SECONDS", "300")
CONNECT_STATE_MAX_AGE_SECONDS = envint("CONNECT_STATE_MAX_AGE_SECONDS", "600")
REQUEST_LOG_RETENTION_DAYS = envint("REQUEST_LOG_RETENTION_DAYS", "30")

# Jobs
JOB_CONCURRENCY_PER_CONNECTION = envint("JOB_CONCURRENCY_PER_CONNECTION", "4")
JOB_SLICE_SECONDS = envfloat("JOB_SLICE_SECONDS", "5")
# A slice also ends after this many items (0: only JOB_SLICE_SECONDS bounds it): with many
# accounts running at once, short turns keep every account moving at the same pace.
JOB_SLICE_ITEMS = envint("JOB_SLICE_ITEMS", "4")
# The broker priority of a chain's later slices: a new job's first slice (and its preview)
# goes before them. Kombu's Redis transport serves 0 first and 3, 6, 9 after; brokers
# without priorities (the filesystem default, RabbitMQ queues without x-max-priority)
# ignore it. 0: every slice alike.
JOB_CONTINUE_PRIORITY = envint("JOB_CONTINUE_PRIORITY", "6")
# Only one chain of a starting job takes the first place (tasks.job_chains_start); its
# other chains, and a stalled job's new chain, queue as later slices.
JOB_STALE_SENDING_SECONDS = envint("JOB_STALE_SENDING_SECONDS", "120")
JOB_SWEEP_INTERVAL = envfloat("JOB_SWEEP_INTERVAL", "60")
# A draft whose preview nobody confirmed for this long is cancelled (checked every
# JOB_DRAFT_EXPIRY_CHECK_INTERVAL seconds): a forgotten preview never starts weeks later.
JOB_DRAFT_EXPIRY_HOURS = envint("JOB_DRAFT_EXPIRY_HOURS", "24")
JOB_DRAFT_EXPIRY_CHECK_INTERVAL = envfloat("JOB_DRAFT_EXPIRY_CHECK_INTERVAL", "600")
# A slice renews its work slot's lease this often; a lease not renewed runs out after
# JOB_SLOT_LEASE_SECONDS, so a killed worker's slot is free again within seconds.
JOB_SLOT_RENEW_SECONDS = envfloat("JOB_SLOT_RENEW_SECONDS", "3")
JOB_SLOT_LEASE_SECONDS = envfloat("JOB_SLOT_LEASE_SECONDS", str(3 * JOB_SLOT_RENEW_SECONDS))
# A running job silent this long (no slice, no chain due back) lost its chains; looked
# for every JOB_STALLED_CHECK_INTERVAL. Together: a killed worker's job moves in < 30 s.
JOB_STALLED_SECONDS = envfloat("JOB_STALLED_SECONDS", "15")
JOB_STALLED_CHECK_INTERVAL = envfloat("JOB_STALLED_CHECK_INTERVAL", "5")
JOB_SECONDS_PER_CALL = envfloat("JOB_SECONDS_PER_CALL", "0.3")  # for ETAs only
SMARTBUSINESS_RATE_LIMIT_PERIOD = envint("SMARTBUSINESS_RATE_LIMIT_PERIOD", "3600")  # for ETAs
# PDF archives (ZIPs under VAR_DIR/archives/, which web and workers must share): offered
# to the job's owner this many days, then deleted.
ARCHIVE_KEEP_DAYS = envint("ARCHIVE_KEEP_DAYS", "7")
# Organizations: how long an invitation to join and a client's connect link stay valid.
INVITATION_DAYS = envint("INVITATION_DAYS", "7")
CONNECT_LINK_DAYS = envint("CONNECT_LINK_DAYS", "14")

# Webhooks: signed (Standard Webhooks), delivered by Celery. A failed delivery is tried
# again after each of these delays in seconds (8 attempts over about a day), then given
# up; an endpoint without a success for WEBHOOKS_DISABLE_AFTER_HOURS is switched off.
WEBHOOKS_RETRY_DELAYS = [
    int(delay) for delay in envlist("WEBHOOKS_RETRY_DELAYS", "60,300,1800,7200,18000,28800,36000")
]
WEBHOOKS_CONNECT_TIMEOUT = envfloat("WEBHOOKS_CONNECT_TIMEOUT", "5")
WEBHOOKS_READ_TIMEOUT = envfloat("WEBHOOKS_READ_TIMEOUT", "10")
WEBHOOKS_DISABLE_AFTER_HOURS = envint("WEBHOOKS_DISABLE_AFTER_HOURS", "72")
# After a rotation the previous secret still signs (a second signature) this long.
WEBHOOKS_SECRET_OVERLAP_HOURS = envint("WEBHOOKS_SECRET_OVERLAP_HOURS", "24")
WEBHOOKS_SWEEP_INTERVAL = envfloat("WEBHOOKS_SWEEP_INTERVAL", "60")
# Outbound deliveries refuse private, loopback, link-local and reserved addresses (a
# webhook must not reach into our own network); tests allow them for a local receiver.
WEBHOOKS_ALLOW_PRIVATE_URLS = envbool("WEBHOOKS_ALLOW_PRIVATE_URLS", "False")

# The sandbox provider (mounted under /sandbox/ in this server).
SANDBOX_ENABLED = envbool("SANDBOX_ENABLED", "False" if PRODUCTION else "True")
SANDBOX_ACCESS_TOKEN_LIFETIME = envint("SANDBOX_ACCESS_TOKEN_LIFETIME", "43200")
SANDBOX_RATE_LIMIT = envint("SANDBOX_RATE_LIMIT", "1000")
SANDBOX_RATE_LIMIT_PERIOD = envint("SANDBOX_RATE_LIMIT_PERIOD", "3600")
SANDBOX_MAX_BODY_BYTES = envint("SANDBOX_MAX_BODY_BYTES", "1048576")
# Fault injection defaults (the global profile until one is saved; see sandbox/faults.py).
SANDBOX_FAULT_LATENCY_MS = envint("SANDBOX_FAULT_LATENCY_MS", "0")
SANDBOX_FAULT_JITTER_MS = envint("SANDBOX_FAULT_JITTER_MS", "0")
SANDBOX_FAULT_P429 = envfloat("SANDBOX_FAULT_P429", "0")
SANDBOX_FAULT_P500 = envfloat("SANDBOX_FAULT_P500", "0")
SANDBOX_FAULT_P503 = envfloat("SANDBOX_FAULT_P503", "0")
SANDBOX_FAULT_P_LOST = envfloat("SANDBOX_FAULT_P_LOST", "0")
SANDBOX_FAULT_LOST_MODE = env("SANDBOX_FAULT_LOST_MODE", "504")  # 502, 504 or hold
SANDBOX_FAULT_LOST_HOLD_SECONDS = envfloat("SANDBOX_FAULT_LOST_HOLD_SECONDS", "35")
SANDBOX_FAULT_SEED = envint_or_none("SANDBOX_FAULT_SEED")  # unset: unrepeatable dice
# How the token endpoint behaves (the same profile rows; league/oauth2-server by default).
SANDBOX_TOKEN_ERROR_STYLE = env("SANDBOX_TOKEN_ERROR_STYLE", "league")
if SANDBOX_TOKEN_ERROR_STYLE not in {"league", "wrapped", "legacy"}:
    raise ImproperlyConfigured("SANDBOX_TOKEN_ERROR_STYLE must be league, wrapped or legacy.")
SANDBOX_REVOKE_ACCESS_ON_REFRESH = envbool("SANDBOX_REVOKE_ACCESS_ON_REFRESH", "True")

# Celery: a broker that needs no server by default (kombu's filesystem transport).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem"):
    _broker_dir = VAR_DIR / env("CELERY_BROKER_DIR", "broker")
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),  # broadcast (pidbox); else ./control
        "store_processed": False,
    }
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", "partnerapp")
CELERY_TASK_IGNORE_RESULT = True  # dashboards read our own tables, never a result backend
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fix-up closes a task thread's database connections after every task
# unless told to reuse them: a new PostgreSQL connection (and server process) per work
# slice of a few items (bench_jobs: 5 % of the worker's samples holding the GIL were in
# connecting, besides the server's side). It now closes them every this many tasks;
# our task signals close what broke or outlived DATABASE_CONN_MAX_AGE after each task,
# as Django does after a request (partnerapp/celery.py).
CELERY_DB_REUSE_MAX = envint("CELERY_DB_REUSE_MAX", "1000")
CELERY_TASK_SOFT_TIME_LIMIT = envint("CELERY_TASK_SOFT_TIME_LIMIT", "300")
CELERY_TASK_TIME_LIMIT = envint("CELERY_TASK_TIME_LIMIT", "360")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "jobs-sweep": {"task": "partnerapp.jobs.tasks.sweep", "schedule": JOB_SWEEP_INTERVAL},
    "jobs-restart-stalled": {
        "task": "partnerapp.jobs.tasks.restart_stalled",
        "schedule": JOB_STALLED_CHECK_INTERVAL,
    },
    "jobs-schedules": {"task": "partnerapp.jobs.tasks.schedules_tick", "schedule": 30.0},
    "jobs-expire-drafts": {
        "task": "partnerapp.jobs.tasks.expire_drafts",
        "schedule": JOB_DRAFT_EXPIRY_CHECK_INTERVAL,
    },
    "jobs-archives": {"task": "partnerapp.jobs.tasks.archives_tend", "schedule": 600.0},
    "connections-refresh-idle": {
        "task": "partnerapp.connections.tasks.refresh_idle_connections",
        "schedule": 3600.0,
    },
    "connections-purge-request-log": {
        "task": "partnerapp.connections.tasks.purge_request_log",
        "schedule": 6 * 3600.0,
    },
    "webhooks-sweep": {
        "task": "partnerapp.webhooks.tasks.sweep",
        "schedule": WEBHOOKS_SWEEP_INTERVAL,
    },
    "organizations-audit-purge": {
        "task": "partnerapp.organizations.tasks.audit_purge",
        "schedule": 24 * 3600.0,
    },
    "api-idempotency-purge": {
        "task": "partnerapp.api.tasks.idempotency_purge",
        "schedule": 3600.0,
    },
}

# -- Production readiness (issue 7): hardening, limits, logs, health -----------------------

# Every key must be a valid Fernet key; a typo is found at start, not at the first token.
for _key in TOKEN_ENCRYPTION_KEYS:
    try:
        Fernet(_key.encode())
    except (ValueError, TypeError) as _error:
        raise ImproperlyConfigured(
            "TOKEN_ENCRYPTION_KEYS holds a value that is not a Fernet key."
        ) from _error

# Content Security Policy (django-csp). The templates carry no inline script or style
# (static/js/app.js does the small behaviours), so 'self' is all pages need. Forms may
# also post to (and be redirected to) the provider: the consent flow leaves the site.
_provider = urlsplit(SMARTBUSINESS_BASE_URL)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": [
            "'self'",
            f"{_provider.scheme}://{_provider.netloc}",
            *envlist("CSP_FORM_ACTION_EXTRA"),  # e.g. partnerapp's origin on a separate sandbox
        ],
    },
}
LANGUAGE_COOKIE_SECURE = PRODUCTION
# Load balancers probe /health/ over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]

# Oversized input: bodies over this answer 413 with a page saying so (partnerapp.errorpages).
DATA_UPLOAD_MAX_MEMORY_SIZE = envint("DATA_UPLOAD_MAX_MEMORY_SIZE", str(1024 * 1024))
DATA_UPLOAD_MAX_NUMBER_FIELDS = envint("DATA_UPLOAD_MAX_NUMBER_FIELDS", "1000")

# -- The partner API (/api/v1/, issue 15) ---------------------------------------------------

# Calls per API key ("<n>/<second|minute|hour|day>"), counted in the default cache: in
# production with several processes, point CACHES at Redis so the count is shared.
API_RATE_LIMIT = env("API_RATE_LIMIT", "120/minute")
API_IDEMPOTENCY_HOURS = envint("API_IDEMPOTENCY_HOURS", "24")  # a key's first answer is kept
# A request killed mid-way leaves its key "in flight"; after this it is free to run again.
API_IDEMPOTENCY_LOCK_SECONDS = envint("API_IDEMPOTENCY_LOCK_SECONDS", "300")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["partnerapp.api.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["partnerapp.api.auth.HasApiKey"],
    "DEFAULT_THROTTLE_CLASSES": ["partnerapp.api.throttling.ApiKeyThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "partnerapp.api.errors.handle",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "partnerapp partner API",
    "DESCRIPTION": "Jobs, connections and connect links of one organization, by API key.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "partnerapp.api.schema.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "JobStatusEnum": "partnerapp.jobs.models.BatchJob.Status",
        "ConnectionStatusEnum": "partnerapp.connections.models.Connection.Status",
        "JobItemStateEnum": "partnerapp.jobs.models.JobItem.State",
        "LanguageEnum": "django.conf.settings.LANGUAGES",
        "PaymentImportStateEnum": "partnerapp.receivables.models.BankUpload.State",
        "EntryStateEnum": "partnerapp.receivables.models.BankTransaction.State",
        "ScheduleActionEnum": "partnerapp.api.serializers_resources.SCHEDULE_ACTIONS",
        "JobActionEnum": "partnerapp.jobs.operations.OPERATION_CHOICES",
    },
}

# Health (/health/): workers write a heartbeat row this often; older than STALE is dead.
HEALTH_WORKER_HEARTBEAT_SECONDS = envint("HEALTH_WORKER_HEARTBEAT_SECONDS", "15")
HEALTH_WORKER_STALE_SECONDS = envint("HEALTH_WORKER_STALE_SECONDS", "60")
HEALTH_BROKER_TIMEOUT_SECONDS = envfloat("HEALTH_BROKER_TIMEOUT_SECONDS", "3")
# /metrics shows every tenant's figures: scrapers send "Authorization: Bearer <token>";
# without a token it answers only on loopback, and only in development.
METRICS_TOKEN = env("METRICS_TOKEN", "")

# Logs: JSON lines in production (LOG_FORMAT=json|plain), each carrying the bound context
# (request_id, task, job_id, provider_request_id; see partnerapp/observability.py).
# Keep a proxy's X-Request-Id only when a proxy you control sets it.
REQUEST_ID_TRUST_HEADER = envbool("REQUEST_ID_TRUST_HEADER", "False")
LOG_FORMAT = env("LOG_FORMAT", "json" if PRODUCTION else "plain")
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured("LOG_FORMAT must be 'json' or 'plain'.")
# Tokens and secrets never reach a log: the OAuth libraries log token bodies at DEBUG, so
# they stay at WARNING whatever LOG_LEVEL says (and the handler drops their chatter even if
# someone lowers that); the formatters also redact credential patterns in our own lines.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "partnerapp.observability.ContextFilter"},
        "no_credentials": {"()": "partnerapp.observability.CredentialLibrariesFilter"},
    },
    "formatters": {
        "plain": {"()": "partnerapp.observability.PlainFormatter"},
        "json": {"()": "partnerapp.observability.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["no_credentials", "context"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        # One line per request: RequestIdMiddleware writes it (with the request id and the
        # time taken). Django's own lines for the same request — runserver's access line and
        # django.request's "Not Found: …" — would repeat it; their errors (5xx with the
        # traceback) still come through.
        "django.server": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "django.request": {"level": "ERROR"},
        "requests_oauthlib": {"level": "WARNING"},
        "oauthlib": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
    },
}
