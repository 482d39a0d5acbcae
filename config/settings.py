"""Django settings, read from the environment (12-factor) through one reader: ``env``.

Our own variables are prefixed ``MRV_``; the database and the broker come from the conventional
``DATABASE_URL`` and ``CELERY_BROKER_URL``. With nothing set, the service runs embedded: SQLite and
a Celery broker on kombu's filesystem transport, both under ``var/`` in the repository.
The README lists every variable.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

# --- runtime state on disk (SQLite database, embedded broker, collected static files) ---------
# Importing the settings creates nothing: `make run` (and the Dockerfile) create these folders.
VAR_DIR = Path(env.str("MRV_VAR_DIR", default=str(BASE_DIR / "var")))
CELERY_FILESYSTEM_DIR = VAR_DIR / "celery"

# --- security ---------------------------------------------------------------------------------
MRV_ENV = env.str("MRV_ENV", default="development")
PRODUCTION = MRV_ENV == "production"
DEBUG = env.bool("MRV_DEBUG", default=False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("MRV_DEBUG is refused when MRV_ENV=production: debug pages leak secrets")
_DEV_SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production"
SECRET_KEY = env.str("MRV_SECRET_KEY", default="")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("MRV_SECRET_KEY must be set when MRV_ENV=production")
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = env.list("MRV_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("MRV_CSRF_TRUSTED_ORIGINS", default=[])
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# HTTPS: on by default in production (the TLS proxy in front says so with MRV_PROXY_SSL_HEADER).
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("MRV_SECURE_COOKIES", default=PRODUCTION)
SESSION_COOKIE_HTTPONLY = CSRF_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env.bool("MRV_SSL_REDIRECT", default=PRODUCTION)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # probes speak plain HTTP to the process
SECURE_HSTS_SECONDS = env.int("MRV_HSTS_SECONDS", default=31_536_000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("MRV_HSTS_INCLUDE_SUBDOMAINS", default=PRODUCTION)
SECURE_HSTS_PRELOAD = env.bool("MRV_HSTS_PRELOAD", default=PRODUCTION)
#: ``Header-Name=value`` that the proxy in front sets on HTTPS requests, e.g. ``X-Forwarded-Proto=https``.
_PROXY_SSL_HEADER = env.str("MRV_PROXY_SSL_HEADER", default="")
if _PROXY_SSL_HEADER:
    _header, _, _value = _PROXY_SSL_HEADER.partition("=")
    if not _value:
        raise ImproperlyConfigured(
            "MRV_PROXY_SSL_HEADER must read Header-Name=value, e.g. X-Forwarded-Proto=https"
        )
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _header.strip().upper().replace("-", "_"), _value.strip())

# --- applications -----------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "mrv",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "mrv.middleware.RejectControlCharactersMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a locked-out login (django-axes) into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/dashboard/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database ---------------------------------------------------------------------------------
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
#: PostgreSQL's lock_timeout for every connection, in ms (0: wait for ever).
MRV_DB_LOCK_TIMEOUT_MS = env.int("MRV_DB_LOCK_TIMEOUT_MS", default=5000)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A new connection per request cut throughput to a quarter (PERFORMANCE.md): keep them.
    DATABASES["default"]["CONN_MAX_AGE"] = 60
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Bind parameters on the server: psycopg then sends values in binary instead of quoting every
    # value in Python (bulk inserts of activity lines were spending most of their time quoting).
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = True
    # A lock wait longer than this fails (lock_not_available) instead of holding the request: the write
    # views retry it as they retry deadlocks and serialization failures, then answer 503 (mrv/api/retry.py).
    _options = DATABASES["default"]["OPTIONS"].get("options", "")
    DATABASES["default"]["OPTIONS"]["options"] = (
        f"{_options} -c lock_timeout={MRV_DB_LOCK_TIMEOUT_MS}".strip()
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded mode has a web process and a worker writing to one file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

#: How many times a write request runs when the database answers a transient conflict (deadlock,
#: serialization failure, lock timeout) before it answers 503 with Retry-After (mrv/api/retry.py).
MRV_DB_RETRY_ATTEMPTS = env.int("MRV_DB_RETRY_ATTEMPTS", default=3)

# --- cache --------------------------------------------------------------------------------------
MRV_REDIS_URL = env.str("MRV_REDIS_URL", default="")
if MRV_REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": MRV_REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- requests -----------------------------------------------------------------------------------
#: Largest request body accepted (bytes); larger bodies answer 413.
MRV_MAX_BODY_BYTES = env.int("MRV_MAX_BODY_BYTES", default=8 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MRV_MAX_BODY_BYTES

# --- internationalisation -----------------------------------------------------------------------
LANGUAGE_CODE = "en"
#: The interface's languages (SPEC §12), chosen per request by ``?lang=`` or ``Accept-Language``
#: (mrv/i18n/middleware.py); the zh-Hans catalogue is mrv/locale, compiled by ``make messages``.
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware") + 1,
    "mrv.i18n.middleware.LanguageMiddleware",
)
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- static files (served by WhiteNoise, also under gunicorn) ----------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"  # created by collectstatic
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- evidence files (mrv/services/evidence.py) ------------------------------------------------------
#: Largest evidence file accepted (bytes); larger uploads answer 413 before anything is stored.
MRV_MAX_EVIDENCE_BYTES = env.int("MRV_MAX_EVIDENCE_BYTES", default=50 * 1024 * 1024)
#: Evidence files go to S3-compatible object storage when a bucket is named, else to the filesystem.
MRV_EVIDENCE_S3_BUCKET = env.str("MRV_EVIDENCE_S3_BUCKET", default="")
if MRV_EVIDENCE_S3_BUCKET:
    _S3_ENDPOINT = env.str("MRV_EVIDENCE_S3_ENDPOINT_URL", default="") or None
    STORAGES["evidence"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": MRV_EVIDENCE_S3_BUCKET,
            "endpoint_url": _S3_ENDPOINT,
            "region_name": env.str("MRV_EVIDENCE_S3_REGION", default="") or None,
            "access_key": env.str("MRV_EVIDENCE_S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("MRV_EVIDENCE_S3_SECRET_ACCESS_KEY", default="") or None,
            "location": env.str("MRV_EVIDENCE_S3_PREFIX", default="evidence"),
            # S3-compatible servers (MinIO, Ceph, ...) at an endpoint of their own want path-style URLs
            "addressing_style": env.str(
                "MRV_EVIDENCE_S3_ADDRESSING_STYLE", default="path" if _S3_ENDPOINT else ""
            )
            or None,
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": True,  # names are generated (random): no HEAD request before each upload
            "max_memory_size": 2_621_440,  # a file read back spills to disk past 2.5 MiB (0 would never)
        },
    }
else:
    STORAGES["evidence"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": env.str("MRV_EVIDENCE_DIR", default=str(VAR_DIR / "evidence")),
            "file_permissions_mode": 0o640,
            "directory_permissions_mode": 0o750,
        },
    }

# --- REST framework -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "mrv.api.authentication.TokenAuthentication",
        "mrv.api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "mrv.api.parsers.DecimalJSONParser",
        "mrv.api.parsers.BoundedFormParser",
        "mrv.api.parsers.BoundedMultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "mrv.api.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "EXCEPTION_HANDLER": "mrv.api.exceptions.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "mrv.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_THROTTLE_CLASSES": ["mrv.api.throttling.RateLimitThrottle"],
    # Proxies in front that append to X-Forwarded-For; 0: the client's address is REMOTE_ADDR.
    "NUM_PROXIES": env.int("MRV_NUM_PROXIES", default=0),
}

# --- API tokens and rate limits ------------------------------------------------------------------
#: Tokens are stored as SHA-512 digests (django-rest-knox) in ``mrv.ApiToken`` and expire.
KNOX_TOKEN_MODEL = "mrv.ApiToken"
# knox's own migrations would create the table of the model that ApiToken replaces: none is wanted.
MIGRATION_MODULES = {"knox": None}
MRV_TOKEN_TTL_DAYS = env.int("MRV_TOKEN_TTL_DAYS", default=90)
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=MRV_TOKEN_TTL_DAYS),
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_PREFIX": "mrv_",  # lets secret scanners recognise a leaked token
}
#: Rate limits (``N/second|minute|hour|day``), counted in fixed windows in the shared cache (Redis when
#: MRV_REDIS_URL is set): per user, per client address, failed token authentications per address.
MRV_THROTTLE_RATES = {
    "user_burst": env.str("MRV_THROTTLE_USER_BURST", default="300/min"),
    "user_sustained": env.str("MRV_THROTTLE_USER_SUSTAINED", default="20000/day"),
    "address": env.str("MRV_THROTTLE_ADDRESS", default="600/min"),
    "auth_failures": env.str("MRV_THROTTLE_AUTH_FAILURES", default="100/min"),
    # activity lines per user on calculate and imports (mrv.api.quotas)
    "user_lines": env.str("MRV_THROTTLE_USER_LINES", default="100000/min"),
}
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = MRV_THROTTLE_RATES

# Failed password logins (the dashboard's sign-in form, the admin, the browsable API) lock out
# for a while (django-axes): by the user name and by the client address, each on its own.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("MRV_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("MRV_LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "mrv.api.throttling.client_address"
AXES_CLIENT_STR_CALLABLE = "mrv.api.throttling.login_client_label"  # no user name or address in logs
AXES_VERBOSE = False

SPECTACULAR_SETTINGS = {
    "TITLE": "Open MRV API",
    "DESCRIPTION": (
        "Monitoring, reporting and verification of greenhouse-gas emissions for emissions trading. "
        "Numbers are exact decimals: send them as JSON strings or numbers; they come back as strings "
        "in plain notation. Errors are RFC 9457 problem documents (application/problem+json)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One enum component per vocabulary where several share a field name (status, kind).
    "ENUM_NAME_OVERRIDES": {
        "RevisionStatusEnum": "mrv.models.ReportRevision.Status",
        "VerificationJobStatusEnum": "mrv.models.JOB_STATUSES_SHOWN",
        "ImportJobStatusEnum": "mrv.models.ImportJob.Status",
        "VerificationJobKindEnum": "mrv.models.VerificationJob.Kind",
        "OrganisationKindEnum": "mrv.models.OrganisationKind",
        "DepositStatusEnum": ["on_time", "late", "pending", "overdue"],
        "OverdueDepositStatusEnum": ["overdue", "late"],
        "CategoryEnum": "accounting.registry.CATEGORIES",
        "OriginEnum": ["measured", "default"],
        "CbamCategoryEnum": "mrv.api.cbam.CATEGORY_CODES",
        "CbamElectricityBasisEnum": "accounting.cbam.ELECTRICITY_BASES",
        "CbamPrecursorBasisEnum": "accounting.cbam.PRECURSOR_BASES",
        "CbamPrecursorOriginEnum": "mrv.api.cbam.PRECURSOR_ORIGINS",
        "EvidenceKindEnum": "mrv.models.Evidence.Kind",
        "WebhookEventEnum": "mrv.models.WebhookEvent",
        "WebhookDeliveryStatusEnum": "mrv.models.WebhookDelivery.Status",
        "InformationRequestStatusEnum": "mrv.models.InformationRequest.Status",
        "NotificationKindEnum": "mrv.models.Notification.Kind",
        "DeadlineKindEnum": "mrv.selectors.deadlines.KINDS",
        "DeadlineStatusEnum": "mrv.selectors.deadlines.STATUSES",
    },
    # The default hook first; then every error is documented as a problem document (mrv/api/openapi.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "mrv.api.openapi.document_problems",
    ],
}

# --- Celery (settings prefixed CELERY_ are read by config/celery.py) -----------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem:"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_FILESYSTEM_DIR / "queue"),
        "data_folder_out": str(CELERY_FILESYSTEM_DIR / "queue"),
        "control_folder": str(CELERY_FILESYSTEM_DIR / "control"),
        "processed_folder": str(CELERY_FILESYSTEM_DIR / "processed"),
        "store_processed": True,
    }
else:
    # Redis: a message taken by a worker that dies unacknowledged is redelivered after this many seconds.
    # A broker that is down, or accepts connections and never answers, fails a publish within about
    # twice MRV_BROKER_TIMEOUT (one retry): the request that enqueued answers anyway (the sweeper
    # publishes its job again), it never hangs on the broker.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("MRV_BROKER_VISIBILITY_TIMEOUT", default=600),
        "socket_connect_timeout": env.float("MRV_BROKER_TIMEOUT", default=2.0),
        "socket_timeout": env.float("MRV_BROKER_TIMEOUT", default=2.0),
    }
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("MRV_BROKER_TIMEOUT", default=2.0)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
# Tasks are idempotent (a unique key in the database), so they are acknowledged after they ran
# and redelivered when a worker dies mid-task.
CELERY_TASK_ACKS_LATE = True
# Verification runs take seconds, not milliseconds: one message at a time per worker process.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
#: A job still queued after this many seconds is published again by the sweeper (a lost message, a
#: broker that was down when it was enqueued). A job still running past its task's hard time limit,
#: the broker's visibility timeout and this many seconds more is ended ``failed`` by the sweeper.
MRV_JOB_STUCK_SECONDS = env.int("MRV_JOB_STUCK_SECONDS", default=300)
#: Runs a job may start (deliveries, redeliveries after a lost worker, sweeps): one more is ``failed``.
MRV_JOB_MAX_ATTEMPTS = env.int("MRV_JOB_MAX_ATTEMPTS", default=3)
#: Time limits (seconds) of the verification checks (and every task without limits of its own): past
#: the soft one the job ends ``failed`` with the reason; the hard one kills the worker process (a soft
#: limit of 0: none). The soft limit must be below the hard one, which Celery only arms after it.
MRV_TASK_SOFT_TIME_LIMIT = env.int("MRV_TASK_SOFT_TIME_LIMIT", default=120)
MRV_TASK_TIME_LIMIT = env.int("MRV_TASK_TIME_LIMIT", default=150)
#: Time limits (seconds) of a background line-file import.
MRV_IMPORT_SOFT_TIME_LIMIT = env.int("MRV_IMPORT_SOFT_TIME_LIMIT", default=300)
MRV_IMPORT_TIME_LIMIT = env.int("MRV_IMPORT_TIME_LIMIT", default=330)
if not (0 <= MRV_TASK_SOFT_TIME_LIMIT < MRV_TASK_TIME_LIMIT) or not (
    0 <= MRV_IMPORT_SOFT_TIME_LIMIT < MRV_IMPORT_TIME_LIMIT
):
    raise ImproperlyConfigured(
        "MRV_TASK_TIME_LIMIT and MRV_IMPORT_TIME_LIMIT must be above their soft limits"
    )
CELERY_TASK_SOFT_TIME_LIMIT = MRV_TASK_SOFT_TIME_LIMIT
CELERY_TASK_TIME_LIMIT = MRV_TASK_TIME_LIMIT
#: Background imports have a queue of their own (a worker of their own consumes it, see README), so
#: a huge import never delays another tenant's verification.
MRV_IMPORT_QUEUE = env.str("MRV_IMPORT_QUEUE", default="mrv-imports")
CELERY_TASK_ROUTES = ("mrv.services.background.route",)
#: Processes of a worker (default: one per CPU), and the KiB above which a process is replaced once
#: its task is done (default: never); set on the import worker (docker-compose.yml, make run).
CELERY_WORKER_CONCURRENCY = env.int("MRV_WORKER_CONCURRENCY", default=0) or None
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env.int("MRV_WORKER_MAX_MEMORY_PER_CHILD", default=0) or None
CELERY_BEAT_SCHEDULE = {
    "sweep-stuck-verification-jobs": {
        "task": "mrv.sweep_stuck_jobs",
        "schedule": env.float("MRV_SWEEP_INTERVAL_SECONDS", default=60.0),
    },
}
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Celery's Django fix-up closes the database connection before and after every task (a new PostgreSQL
# connection per task: most of a webhook delivery's time). A very high reuse count turns that off, and
# config/celery.py applies Django's own rule instead around each task (close_old_connections: a
# connection that failed, or older than CONN_MAX_AGE, is closed; CONN_HEALTH_CHECKS checks the rest).
CELERY_DB_REUSE_MAX = 2**62
CELERY_TASK_IGNORE_RESULT = True
#: The queue the service's tasks go to (tests give each real worker a queue of its own).
CELERY_TASK_DEFAULT_QUEUE = env.str("MRV_TASK_QUEUE", default="mrv")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- audit trail keys and checkpoints (mrv/services/audit.py; README, "Audit trail") ---------------
# Every audit event's hash is an HMAC-SHA256 under MRV_AUDIT_KEY, a secret that is not in the database:
# whoever can write the database cannot recompute the chains. Checkpoints of every chain's head are
# signed under MRV_AUDIT_CHECKPOINT_KEY (MRV_AUDIT_KEY when unset) by Celery beat and written to
# MRV_AUDIT_CHECKPOINT_DIR as well (archive that folder away from the database server).
_DEV_AUDIT_KEY = "dev-only-insecure-audit-key-do-not-use-in-production"
MRV_AUDIT_KEY = env.str("MRV_AUDIT_KEY", default="")
MRV_AUDIT_CHECKPOINT_KEY = env.str("MRV_AUDIT_CHECKPOINT_KEY", default="")
if PRODUCTION:
    for _name, _key in (
        ("MRV_AUDIT_KEY", MRV_AUDIT_KEY),
        ("MRV_AUDIT_CHECKPOINT_KEY", MRV_AUDIT_CHECKPOINT_KEY),
    ):
        if (_key or _name == "MRV_AUDIT_KEY") and (
            len(_key) < 32 or _key in (_DEV_AUDIT_KEY, SECRET_KEY, _DEV_SECRET_KEY)
        ):
            raise ImproperlyConfigured(
                f"{_name} must be set when MRV_ENV=production: 32 characters or more, not the development "
                "key nor MRV_SECRET_KEY (python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
MRV_AUDIT_KEY = MRV_AUDIT_KEY or _DEV_AUDIT_KEY
MRV_AUDIT_CHECKPOINT_KEY = MRV_AUDIT_CHECKPOINT_KEY or MRV_AUDIT_KEY
MRV_AUDIT_CHECKPOINT_DIR = Path(env.str("MRV_AUDIT_CHECKPOINT_DIR", default=str(VAR_DIR / "checkpoints")))
CELERY_BEAT_SCHEDULE["audit-checkpoint"] = {
    "task": "mrv.audit_checkpoint",
    "schedule": env.float("MRV_AUDIT_CHECKPOINT_INTERVAL_SECONDS", default=3600.0),
}

# --- webhooks (mrv/services/webhooks.py; README, "Webhooks") ---------------------------------------
# Signing secrets are stored Fernet-encrypted under MRV_WEBHOOK_KEY (comma-separated: the first key
# encrypts, every key decrypts, for rotation); unset, a key derived from MRV_SECRET_KEY is used.
MRV_WEBHOOK_KEY = env.str("MRV_WEBHOOK_KEY", default="")
#: Seconds to connect, and to wait for each read of the answer, per try.
MRV_WEBHOOK_TIMEOUT_SECONDS = env.float("MRV_WEBHOOK_TIMEOUT_SECONDS", default=10.0)
#: Tries per delivery; the wait after try n is MRV_WEBHOOK_BACKOFF_SECONDS * 2**(n-1): with the defaults
#: 12 tries over 60 s * (2**11 - 1) = 34.1 hours (a receiver down for an hour gets the 7th try at 63 min).
MRV_WEBHOOK_MAX_ATTEMPTS = env.int("MRV_WEBHOOK_MAX_ATTEMPTS", default=12)
MRV_WEBHOOK_BACKOFF_SECONDS = env.float("MRV_WEBHOOK_BACKOFF_SECONDS", default=60.0)
#: Waits up to this many seconds are a Celery countdown; longer ones are published by the sweeper when
#: due (a message held past the broker's visibility timeout would be delivered twice).
MRV_WEBHOOK_COUNTDOWN_MAX_SECONDS = env.float("MRV_WEBHOOK_COUNTDOWN_MAX_SECONDS", default=300.0)
CELERY_BEAT_SCHEDULE["webhook-sweep"] = {
    "task": "mrv.sweep_webhooks",
    "schedule": env.float("MRV_SWEEP_INTERVAL_SECONDS", default=60.0),
}
# --- notifications and deadline reminders (mrv/services/notifications.py; README, "Notifications") -----
# E-mail through Django's backend: SMTP when EMAIL_HOST is set (EMAIL_PORT, EMAIL_HOST_USER,
# EMAIL_HOST_PASSWORD, EMAIL_USE_TLS or EMAIL_USE_SSL, EMAIL_TIMEOUT), the console otherwise (the
# embedded mode, development); MRV_EMAIL_BACKEND names another backend outright.
EMAIL_HOST = env.str("EMAIL_HOST", default="")
EMAIL_BACKEND = env.str(
    "MRV_EMAIL_BACKEND",
    default="django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL exclude each other: set one")
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=10.0)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="mrv@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
#: Reminders of deadlines (7 days and 1 day ahead) are looked for this often; a run sends each once.
CELERY_BEAT_SCHEDULE["deadline-reminders"] = {
    "task": "mrv.send_deadline_reminders",
    "schedule": env.float("MRV_REMINDER_INTERVAL_SECONDS", default=3600.0),
}
#: Notification e-mails not sent after an hour (SMTP down longer than the task's retries) are sent again.
CELERY_BEAT_SCHEDULE["notification-emails"] = {
    "task": "mrv.resend_notification_emails",
    "schedule": env.float("MRV_REMINDER_INTERVAL_SECONDS", default=3600.0),
}

# --- operations: logs, metrics, security headers, upload limits (README, "Operations") ------------
# Kept together at the end: they wrap what the sections above configure.

# JSON lines on standard error, each with the request id (and the task, in the worker); tokens and
# e-mail addresses are redacted (mrv/observability/logs.py). MRV_LOG_FORMAT=plain for humans.
MRV_LOG_FORMAT = env.str("MRV_LOG_FORMAT", default="json")
if MRV_LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured("MRV_LOG_FORMAT must be json or plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "mrv.observability.logs.RequestContextFilter"}},
    "formatters": {
        "json": {"()": "mrv.observability.logs.JsonFormatter"},
        "plain": {"()": "mrv.observability.logs.PlainFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": MRV_LOG_FORMAT, "filters": ["context"]}
    },
    "root": {"handlers": ["console"], "level": env.str("MRV_LOG_LEVEL", default="INFO")},
}

# Prometheus metrics at /metrics (django-prometheus, plus the service's own gauges), readable with
# "Authorization: Bearer <MRV_METRICS_TOKEN>"; without a token only from loopback, and never in production.
MRV_METRICS_TOKEN = env.str("MRV_METRICS_TOKEN", default="")
_PROMETHEUS_ENGINES = {
    "django.db.backends.postgresql": "django_prometheus.db.backends.postgresql",
    "django.db.backends.sqlite3": "django_prometheus.db.backends.sqlite3",
}
DATABASES["default"]["ENGINE"] = _PROMETHEUS_ENGINES.get(
    DATABASES["default"]["ENGINE"], DATABASES["default"]["ENGINE"]
)
# The request id first (every response and log line has it), Prometheus around everything else, the
# CSP header beside Django's other security headers; django-axes stays last.
MIDDLEWARE.insert(0, "mrv.observability.middleware.RequestIdMiddleware")
MIDDLEWARE.insert(1, "django_prometheus.middleware.PrometheusBeforeMiddleware")
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "csp.middleware.CSPMiddleware"
)
_AXES = "axes.middleware.AxesMiddleware"
MIDDLEWARE.insert(
    MIDDLEWARE.index(_AXES) if _AXES in MIDDLEWARE else len(MIDDLEWARE),
    "django_prometheus.middleware.PrometheusAfterMiddleware",
)

# Security headers on every response: Content-Security-Policy (django-csp; the dashboard and the
# sign-in page carry their one inline style with a per-response nonce, nothing else inline runs),
# and from Django: X-Content-Type-Options: nosniff, Referrer-Policy: same-origin,
# Cross-Origin-Opener-Policy: same-origin, X-Frame-Options: DENY (set above).
SECURE_REFERRER_POLICY = "same-origin"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", NONCE],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# Uploads: the whole body is bounded by MRV_MAX_BODY_BYTES (413 problem document, above and in
# mrv/api/parsers.py); at most MRV_MAX_UPLOAD_FILES files and 1,000 form fields per request (413);
# an uploaded file over 2.5 MiB is spooled to a temporary file instead of memory.
DATA_UPLOAD_MAX_NUMBER_FILES = env.int("MRV_MAX_UPLOAD_FILES", default=10)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
FILE_UPLOAD_MAX_MEMORY_SIZE = min(MRV_MAX_BODY_BYTES, 2_621_440)
