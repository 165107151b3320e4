"""Settings for the Alliance des territoires site, read from the environment.

Every variable is documented in `.env.example`. With no variable at all the
site runs on the embedded defaults used by `make run`: SQLite under `var/`,
Celery tasks executed eagerly, cache in local memory, emails written as files
under `var/mail/`. Production is not a separate file: it is `DEBUG=0` plus the
variables that point at real services, and it refuses to start without
`SECRET_KEY`.
"""

import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_flag(name: str, default: bool) -> bool:
    """A boolean variable; anything but a clear yes or no stops the start-up."""
    raw = env.str(name, default="").strip().lower()
    if not raw:
        return default
    if raw not in _TRUE | _FALSE:
        raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off.")
    return raw in _TRUE


DEBUG = env_flag("DEBUG", default=False)


def _secret_key() -> str:
    """Production must bring its key; development keeps a generated one under var/."""
    key = env.str("SECRET_KEY", default="")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (see .env.example).")
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS",
    default=["127.0.0.1", "localhost", "[::1]", "testserver"] if DEBUG else [],
)


def _site_url() -> str:
    """The public address emails link to; production must name its own, over HTTPS."""
    url = env.str("SITE_URL", default="").strip().rstrip("/")
    if DEBUG:
        return url or "http://127.0.0.1:8000"
    if not url.startswith("https://") or len(url) <= len("https://"):
        raise ImproperlyConfigured(
            "SITE_URL must be set to the site's https:// address when DEBUG is off: "
            "every emailed link is built from it (see .env.example)."
        )
    return url


SITE_URL = _site_url()
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

INSTALLED_APPS = [
    "core.admin_app.AdminConfig",  # django.contrib.admin, see there
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "csp",
    "django_ratelimit",
    "import_export",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "two_factor",
    "ninja",
    "corsheaders",
    "core",
    "declarations",
    "territories",
    "proconnect",
    "signatures",
    "moderation",
    "public",
]

MIDDLEWARE = [
    "core.middleware.nul_in_path_is_not_found",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "core.csrf.SiteCsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified()
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it answers locked-out logins.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses logins while locked out
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "alliance.urls"
WSGI_APPLICATION = "alliance.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: SQLite file under var/ unless DATABASE_URL points elsewhere.
if not env.str("DATABASE_URL", default=""):
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # SQLite does not create folders
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'alliance.sqlite3'}")
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL's JIT compiling pays off for long analytical queries; ours are short, and
    # the whole-list export's query spent 47 of its 156 ms compiling (docs/performance.md).
    # An `options` given in DATABASE_URL that names jit is kept as it is.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    if "jit" not in _options.get("options", ""):
        _options["options"] = f"{_options.get('options', '')} -c jit=off".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: when REDIS_URL is set it is Celery's broker and Django's cache;
# without it Celery runs tasks in-process and the cache is local memory.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.RedisCache",  # Django's, sharing its clients
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "alliance",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The page cache (core/pagecache.py) keeps its entries in an alias of its own, bounded and
# evicted without touching the broker's queues or the counts: in the Redis PAGE_CACHE_URL
# names (its own, with maxmemory and allkeys-lru: docs/deployment.md), else in REDIS_URL's
# under its own key prefix, else in local memory.
PAGE_CACHE_URL = env.str("PAGE_CACHE_URL", default="") or REDIS_URL
if PAGE_CACHE_URL:
    CACHES["pages"] = {
        "BACKEND": "core.cache.RedisCache",
        "LOCATION": PAGE_CACHE_URL,
        "KEY_PREFIX": "alliance-page",
        # In the request's path: a slow Redis costs a second, then the page comes from Django.
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
else:
    CACHES["pages"] = {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "pages",
        "OPTIONS": {"MAX_ENTRIES": 200},
    }

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = env_flag("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
# Eager tasks (no REDIS_URL) behave like queued ones: a failing email is retried
# and logged, never turned into an error page after the signature was saved.
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task leaves the message queued
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery closes the database connection around every task unless told to reuse it; then
# alliance.celery.reuse_database_connection applies CONN_MAX_AGE and the health checks.
CELERY_DB_REUSE_MAX = 1_000_000
CELERY_TIMEZONE = "Europe/Paris"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Retries (10 s to 10 min) wait as ETA tasks unacknowledged: the visibility timeout must
# be longer than the longest, or Redis would hand them to a second worker meanwhile. A
# worker killed mid-send does not wait for it: the sweeper picks its email up (below).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    # Queues are read in alphabetical order, never rotated: "celery" before "deferred"
    # (below). Not "priority": this transport keeps them in a set, in no fixed order.
    "queue_order_strategy": "sorted",
}
# Two queues, one worker: what people wait for (emails, counts, the heartbeat) in "celery";
# a new signature's flags, which moderators read later and confirming computes again, in
# "deferred", taken only when "celery" is empty. A burst of signatures sends its emails
# first. The worker consumes both unless told otherwise (-Q).
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = [
    Queue("celery", routing_key="celery"),
    Queue("deferred", routing_key="deferred"),
]
CELERY_TASK_ROUTES = {"signatures.refresh_due_proofs": {"queue": "deferred"}}
# With Redis down, queueing an email must fail fast (the row is saved, the sweeper
# sends it later), not hold the visitor's request for seconds.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
# Periodic jobs, each with why its period.
CELERY_BEAT_SCHEDULE = {
    # /healthz calls a worker dead after 30 s without a beat: three missed beats.
    # One row update in the database (which survives a Redis restart).
    "worker-heartbeat": {"task": "alliance.heartbeat", "schedule": 10.0},
    # Emails queued while the broker was down, or lost with a killed worker, are
    # queued again once 30 s old: with this period a lost email leaves within a
    # minute. Rows being sent are skipped; the delivery guards make a duplicate harmless.
    "sweep-unsent-emails": {"task": "signatures.sweep_unsent_emails", "schedule": 15.0},
    # A published signature must show in the counts within 10 s; publishing also
    # queues a refresh, this catches anything else. Unchanged data costs one query.
    "refresh-signature-stats": {"task": "signatures.refresh_all_stats", "schedule": 5.0},
    # New signatures' flags: signing queues a run itself; this catches a run lost with
    # a worker or not queued while Redis was down. Nothing due costs one indexed query.
    "refresh-due-proofs": {"task": "signatures.refresh_due_proofs", "schedule": 60.0},
    # Retention periods count in days: hourly keeps each within an hour of its term,
    # and a run with nothing to erase costs a few indexed queries.
    "apply-retention": {"task": "signatures.apply_retention", "schedule": 3600.0},
}

# Email: files under var/mail/ unless EMAIL_URL names a real server.
EMAIL_URL = env.str("EMAIL_URL", default="") or f"filemail://{VAR_DIR / 'mail'}"
if EMAIL_URL.startswith("filemail://"):
    # django-environ drops the leading "/" of an absolute path; read it ourselves.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = BASE_DIR / EMAIL_URL.removeprefix("filemail://")
else:
    vars().update(env.email_url_config(EMAIL_URL))
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="Alliance des territoires <ne-pas-repondre@localhost>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Where signatories can write about a moderation decision; unset, the email offers no address.
CONTACT_EMAIL = env.str("CONTACT_EMAIL", default="")
# Emails to one address, whatever asked for them (signing, resends, contests) and
# from wherever: nobody can make the site mail-bomb a third party.
EMAIL_CAP_PER_HOUR = env.int("EMAIL_CAP_PER_HOUR", default=5)
EMAIL_CAP_PER_DAY = env.int("EMAIL_CAP_PER_DAY", default=10)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

# Who publishes the site, for the legal notice (/mentions-legales/) and the privacy
# notice (/confidentialite/): the controller of the personal data collected.
PUBLISHER_NAME = env.str(
    "PUBLISHER_NAME", default="Alliance des territoires (ANPP, France urbaine, R.E.D.)"
)
PUBLISHER_ADDRESS = env.str("PUBLISHER_ADDRESS", default="")
PUBLICATION_DIRECTOR = env.str("PUBLICATION_DIRECTOR", default="")
HOST_NAME = env.str("HOST_NAME", default="")
HOST_ADDRESS = env.str("HOST_ADDRESS", default="")
# Data protection officer or privacy contact; CONTACT_EMAIL when unset.
PRIVACY_EMAIL = env.str("PRIVACY_EMAIL", default="")
# ProConnect, the State's identity federation for professionals (OpenID Connect): the
# "S'identifier avec ProConnect" button shows only when all three are set. The issuer's
# /.well-known/openid-configuration is read from PROCONNECT_BASE_URL. Redirect URI to
# register with the provider: <SITE_URL>/proconnect/callback/
PROCONNECT_BASE_URL = env.str("PROCONNECT_BASE_URL", default="").rstrip("/")
PROCONNECT_CLIENT_ID = env.str("PROCONNECT_CLIENT_ID", default="")
PROCONNECT_CLIENT_SECRET = env.str("PROCONNECT_CLIENT_SECRET", default="")
PROCONNECT_SCOPES = "openid email given_name usual_name siret"
# How long moderators take to check a signature, as promised to signatories (days).
MODERATION_DELAY_DAYS = env.int("MODERATION_DELAY_DAYS", default=5)

# Retention, enforced by Celery beat (signatures/retention.py) and stated on the privacy
# page from these same values. Days.
# Signatures never confirmed are deleted.
RETENTION_UNCONFIRMED_DAYS = env.int("RETENTION_UNCONFIRMED_DAYS", default=30)
# IP addresses and user agents are erased once the anti-abuse window is over; a keyed
# hash of the IP stays, for the moderators' view of trending sources.
RETENTION_SOURCE_DAYS = env.int("RETENTION_SOURCE_DAYS", default=30)
# Personal data of withdrawn and rejected signatures (territory, dates and decision stay).
RETENTION_ENDED_DAYS = env.int("RETENTION_ENDED_DAYS", default=30)
# Moderation notes, contests, corrections and moderators' names, once a declaration is
# closed to signatures.
RETENTION_AFTER_CLOSE_DAYS = env.int("RETENTION_AFTER_CLOSE_DAYS", default=365)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("Anglais"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# Uploaded files that no URL serves directly (council deliberations): views that check
# permissions stream them. Outside STATIC_ROOT and any web server's document root.
PRIVATE_ROOT = Path(env.str("PRIVATE_ROOT", default=str(VAR_DIR / "private")))
# Largest deliberation accepted (bytes).
DELIBERATION_MAX_BYTES = 5 * 1024 * 1024

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_STORAGE",
            default="django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}

# Rate limits count in the default cache: Redis in production, shared by every
# web process. django-ratelimit only knows django-redis by name (W001), but Django's
# own RedisCache (core.cache subclasses it) gives it the atomic add/incr it needs.
# Without REDIS_URL the local-memory cache counts per process, enough for development
# (E003).
SILENCED_SYSTEM_CHECKS = [
    "django_ratelimit.W001",
    # CSRF protection is on, through core.csrf.SiteCsrfViewMiddleware, a subclass of
    # Django's middleware that this check (which looks for the class path) does not know.
    "security.W003",
]
if not REDIS_URL:
    SILENCED_SYSTEM_CHECKS.append("django_ratelimit.E003")

# The open API (/api/) may be read from any site's JavaScript; nothing else.
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS"]
CORS_ALLOW_CREDENTIALS = False

# Admin login against password guessing: 5 failures for one username from one IP
# lock that pair for an hour (django-axes keeps the attempts in the database).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 1  # hours
# A username is locked after repeated failures from one address, and also when
# attacked from many addresses (each counted on its own parameter set).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username"]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "core.proxies.client_ip"

# Staff two-factor authentication (django-two-factor-auth on django-otp; core/twofactor.py).
# On, the admin opens only to staff who verified a TOTP code or a recovery code in this
# session. Read at each request, so a test can switch it with the `settings` fixture.
STAFF_REQUIRE_2FA = env_flag("STAFF_REQUIRE_2FA", default=not DEBUG)

# The cache in front of Django for the public pages that change only with the counts
# (core/pagecache.py). Off by default in development, where a template edited
# should show at the next reload rather than within a minute.
PAGE_CACHE = env_flag("PAGE_CACHE", default=not DEBUG)
# What a cached page depends on: a function of the declaration's slug returning its counts'
# version (None for an unknown slug). core/pagecache.py reads it here instead of importing it.
PAGE_CACHE_VERSION = "signatures.stats.version_for_slug"
# The most the page cache's shared entries may hold at once, in MiB, whatever the requests
# (counted by the cache itself, across processes); 0 keeps pages in each process only.
PAGE_CACHE_MAX_MB = env.int("PAGE_CACHE_MAX_MB", default=64)
if PAGE_CACHE_MAX_MB < 0:
    raise ImproperlyConfigured("PAGE_CACHE_MAX_MB must be 0 or more (see .env.example).")
# Computed with a signature's verification level (signatures/proof/levels.py), for the
# signatures of a run at once: named here, since signatures imports no app above it.
PROOF_REFRESHERS = ["moderation.flags.refresh_flags_for"]
LOGIN_URL = "two_factor:login"
LOGIN_REDIRECT_URL = "admin:index"
TWO_FACTOR_PATCH_ADMIN = False  # our admin site asks for 2FA only when STAFF_REQUIRE_2FA is on
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # admins never see another user's TOTP key or codes

# Staff exports (django-import-export) need the "export_signature" permission.
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "export"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Security: strict by default whenever DEBUG is off; each switch can be
# overridden (for instance behind a proxy that already redirects to HTTPS).
# Reverse proxies in front of the site that append to X-Forwarded-For; rate
# limits and recorded addresses use the client address they saw (core/proxies.py).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# X-Forwarded-Proto is believed only behind a proxy that sets it: without one,
# anybody could send it and skip the HTTPS redirect.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXY_COUNT else None
SECURE_SSL_REDIRECT = env_flag("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # probes speak plain HTTP inside the network
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_flag("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env_flag("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = env_flag("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env_flag("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# No inline script or style anywhere, so the policy can stay this strict.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"redact_secret_links": {"()": "core.redaction.RedactSecretLinks"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_secret_links"],  # no confirmation or manage token in logs
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "axes": {"level": "WARNING"},  # one INFO line per login otherwise
    },
}
