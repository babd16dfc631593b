"""Clinic settings: one file, read from the environment (and an optional .env) via django-environ.

Secure by default: DEBUG is off and the HTTPS-only settings are on unless LOCAL_HTTP=1 says the
app is a local demo on plain HTTP. A missing or bad value in production stops the start with a
clear message.
"""

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if not os.environ.get("CLINIC_IGNORE_DOTENV") and (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)
# The one switch for the local demo over plain HTTP (see Security below).
LOCAL_HTTP = env.bool("LOCAL_HTTP", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if DEBUG:
        SECRET_KEY = "insecure-key-for-development-only"  # noqa: S105
    else:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Put a long random value in the environment or in .env "
            "('make run' writes one for the local demo)."
        )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # Before django.contrib.auth, so its createsuperuser command (admin seats) is the one run.
    "accounts",
    "clinic.admin_site.ClinicAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "clinic",
    "directory",
    "scheduling",
    "notifications",
    "axes",  # the login lockout (Security below)
    "audit",
    "ninja",  # the Swagger UI files it ships, served as our own static files
    "api",
]

MIDDLEWARE = [
    # Outermost, so that every request is counted and timed, redirects and refusals included.
    "clinic.metrics.MetricsMiddleware",
    # Next, before the host check and the HTTPS redirect: /health/ answers a local probe over
    # plain HTTP whatever ALLOWED_HOSTS says (Docker's HEALTHCHECK, a load balancer).
    "clinic.health.HealthProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Right inside SecurityMiddleware: an error answered under /api/ by anything below it (a
    # rate limit, a 404, a 405, a crash) reaches the client as JSON {"detail", "code"}.
    "api.middleware.JsonErrorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the switcher's cookie (set at login from the account's choice), else the
    # browser's Accept-Language, else LANGUAGE_CODE.
    "common.i18n.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Right after CommonMiddleware: a NUL in the path, the query or the body is a 400 (and a
    # body over the upload limit a 413) before anything uses it (common/badinput.py).
    "common.badinput.RefuseNulMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Right after authentication: puts the request (user, address, user agent) where services
    # and signals can read it, and records refused requests (403, and 404 on someone else's
    # object).
    "audit.middleware.AuditMiddleware",
    "clinic.security.StaffSessionTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Nothing a signed-in person sees is kept by a browser or proxy cache (common/privacy.py).
    "common.privacy.NoStoreWhenSignedInMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic.context_processors.clinic",
            ],
            # The translation tags, the localised date filter and the phone filter in every
            # template, without a {% load %} in each.
            "builtins": [
                "django.templatetags.i18n",
                "clinic.templatetags.clinic_dates",
                "clinic.templatetags.phones",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
# The default SQLite file lives in var/, which manage.py and scripts/bootstrap create.
DATABASES = {
    "default": env.db_url(
        "DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'clinic.sqlite3'}"
    )
}
_db = DATABASES["default"]
# The password apart from the URL (compose passes POSTGRES_PASSWORD this way): any character
# may be in it, where a URL would need "@ / : #" percent-encoded.
if env.str("DATABASE_PASSWORD", default=""):
    _db["PASSWORD"] = env.str("DATABASE_PASSWORD")
# A web worker keeps its connection between requests: opening one costs more than most
# queries (on SQLite, the WAL pragmas of every new connection; on PostgreSQL, a process).
_db["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
if _db["ENGINE"] in ("django.db.backends.sqlite3", "common.sqlite"):
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN so two
    # writers queue on the busy timeout instead of failing with "database is locked" mid-way.
    # common.sqlite is Django's backend whose writers take turns fairly (SQLite's busy handler
    # lets a looping writer starve the others); the timeout bounds the wait for a turn too.
    _db["ENGINE"] = "common.sqlite"
    _db.setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": env.float("SQLITE_TIMEOUT", default=20.0),
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
elif _db["ENGINE"] == "django.db.backends.postgresql":
    _db["CONN_HEALTH_CHECKS"] = True
    # psycopg prepares a statement that a connection has run this many times; Django turns
    # that off (for transaction-mode poolers) and its own cursors never prepare. Only the
    # hot plain-SQL reads use a cursor that does (common.rows.cursor), so that PostgreSQL
    # plans the doctor page's reads once per connection instead of once per request.
    _db.setdefault("OPTIONS", {}).setdefault("prepare_threshold", 5)
else:
    raise ImproperlyConfigured("DATABASE_URL must point at SQLite or PostgreSQL.")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache --------------------------------------------------------------------------------
CACHES = {
    "default": env.cache_url("CACHE_URL", default="locmemcache://clinic"),
}
# Redis down degrades to "no cache" (logged, counted in /metrics), never to a 500: see
# common/cache.py and README "Running on more than one machine".
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "common.cache.ResilientRedisCache"

# --- Auth ---------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:after-login"
LOGOUT_REDIRECT_URL = "home"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("national_id", "full_name", "email")},
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation and time -------------------------------------------------------
# The languages the site offers (CLINIC_LANGUAGES, e.g. "en,de,ar") and the one it falls back
# to (LANGUAGE_CODE) when neither the person's choice nor their browser's Accept-Language
# names one of them. Each has a complete catalogue in locale/ (compiled by scripts/bootstrap).


def gettext_noop(text: str) -> str:
    """Marks a string for makemessages; Django's own would read the settings being made."""
    return text


_KNOWN_LANGUAGES = {
    "en": gettext_noop("English"),
    "de": gettext_noop("German"),
    "ar": gettext_noop("Arabic"),
}
_languages = env.list("CLINIC_LANGUAGES", default=list(_KNOWN_LANGUAGES))
_unknown = [code for code in _languages if code not in _KNOWN_LANGUAGES]
if _unknown or not _languages:
    raise ImproperlyConfigured(
        f"CLINIC_LANGUAGES={','.join(_languages)!r}: each must be one of "
        f"{', '.join(_KNOWN_LANGUAGES)} (the languages Clinic has translations for)."
    )
LANGUAGES = [(code, _KNOWN_LANGUAGES[code]) for code in _languages]
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default=_languages[0])
if LANGUAGE_CODE not in _languages:
    raise ImproperlyConfigured(
        f"LANGUAGE_CODE={LANGUAGE_CODE!r} is not one of CLINIC_LANGUAGES ({', '.join(_languages)})."
    )
# locale/overrides holds corrections to Django's own catalogues (the admin's time shortcuts in
# 24 hours), apart from the catalogues makemessages writes.
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale" / "overrides"]
# The switcher's choice lasts a year in the browser; a signed-in person's is also kept on
# their account (User.language) and applied again at each login.
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = env.str("CLINIC_TIME_ZONE", default="Europe/Berlin")
USE_I18N = True
USE_TZ = True
try:
    import zoneinfo

    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
    raise ImproperlyConfigured(f"CLINIC_TIME_ZONE={TIME_ZONE!r} is not a known time zone.") from exc

# Phone numbers without a country code are read as numbers of this region.
CLINIC_PHONE_REGION = env.str("CLINIC_PHONE_REGION", default="DE")
CLINIC_NAME = env.str("CLINIC_NAME", default="Clinic")
# The site's address as its users reach it: the links in e-mails sent by the worker, which
# serves no request to take the host from.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
# Times in 24 hours everywhere, Django admin included (Django's own English and Arabic
# formats say "2:30 p.m." and "2:30 م").
FORMAT_MODULE_PATH = ["clinic.formats"]

# --- Static files -------------------------------------------------------------------------
STATIC_URL = "static/"
# Where collectstatic writes (the Dockerfile and the browser tests point it elsewhere).
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
# DEBUG serves static files straight from the finders, as runserver would: a fresh clone has
# no collected STATIC_ROOT, and one left over from an older collectstatic is stale.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # Front-end packages come from npm (package.json and its lockfile), never copied by hand.
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
    ("vendor/pico", BASE_DIR / "node_modules" / "@picocss" / "pico" / "css"),
    # htmx's morphing swap: the live parts refresh without moving focus or scroll.
    ("vendor/idiomorph", BASE_DIR / "node_modules" / "idiomorph" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- E-mail (Django 6.1 mailers) ----------------------------------------------------------
# Mail printed to the console is for development and the local demo; a production server
# without EMAIL_URL hands its mail to the local MTA, as Django does by default.
_email = env.email_url(
    "EMAIL_URL", default="consolemail://" if DEBUG or LOCAL_HTTP else "smtp://localhost:25"
)
_email_backend = _email.pop("EMAIL_BACKEND")
_mailer_options = {
    key.removeprefix("EMAIL_").lower(): value
    for key, value in _email.items()
    if key
    in {
        "EMAIL_HOST",
        "EMAIL_PORT",
        "EMAIL_HOST_USER",
        "EMAIL_HOST_PASSWORD",
        "EMAIL_USE_TLS",
        "EMAIL_USE_SSL",
        "EMAIL_TIMEOUT",
    }
    and value not in ("", None)
}
if "host_user" in _mailer_options:
    _mailer_options["username"] = _mailer_options.pop("host_user")
if "host_password" in _mailer_options:
    _mailer_options["password"] = _mailer_options.pop("host_password")
MAILERS = {"default": {"BACKEND": _email_backend, "OPTIONS": _mailer_options}}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Clinic <no-reply@clinic.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Booking rules ------------------------------------------------------------------------
BOOKING_HORIZON_DAYS = env.int("BOOKING_HORIZON_DAYS", default=60)
BOOKING_MIN_NOTICE_MINUTES = env.int("BOOKING_MIN_NOTICE_MINUTES", default=60)
# The currency of every price (services, consultation fees): an ISO 4217 code.
CLINIC_CURRENCY = env.str("CLINIC_CURRENCY", default="EUR").strip().upper()
if not (len(CLINIC_CURRENCY) == 3 and CLINIC_CURRENCY.isalpha()):
    raise ImproperlyConfigured(f"CLINIC_CURRENCY={CLINIC_CURRENCY!r} is not a 3-letter ISO code.")
# How long a time freed for the waitlist is held for the patient it is offered to.
WAITLIST_HOLD_MINUTES = env.int("WAITLIST_HOLD_MINUTES", default=30)
if WAITLIST_HOLD_MINUTES < 1:
    raise ImproperlyConfigured("WAITLIST_HOLD_MINUTES must be at least 1.")

# --- Notifications ------------------------------------------------------------------------
N8N_WEBHOOK_URL = env.str("N8N_WEBHOOK_URL", default="")
WEBHOOK_SECRET = env.str("WEBHOOK_SECRET", default="")
REMINDER_HOURS = env.int("REMINDER_HOURS", default=24)
if N8N_WEBHOOK_URL:
    if not N8N_WEBHOOK_URL.startswith(("http://", "https://")):
        raise ImproperlyConfigured(f"N8N_WEBHOOK_URL={N8N_WEBHOOK_URL!r} is not an http(s) URL.")
    if not WEBHOOK_SECRET:
        raise ImproperlyConfigured(
            "N8N_WEBHOOK_URL is set but WEBHOOK_SECRET is not: every webhook is signed. Use a "
            "long random value, or a Standard Webhooks secret 'whsec_<base64>'."
        )
    if WEBHOOK_SECRET.startswith("whsec_"):
        import base64
        import binascii

        try:
            base64.b64decode(WEBHOOK_SECRET.removeprefix("whsec_"), validate=True)
        except binascii.Error as exc:
            raise ImproperlyConfigured(
                "WEBHOOK_SECRET starts with whsec_ but the rest is not base64."
            ) from exc
# New deliveries go out on a background thread of the web process right after commit; the
# worker (manage.py run_worker) sends whatever that thread did not.
NOTIFICATIONS_SEND_ON_COMMIT = env.bool("NOTIFICATIONS_SEND_ON_COMMIT", default=True)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=5.0)

# --- Security -----------------------------------------------------------------------------
HTTPS_ONLY = not DEBUG and not LOCAL_HTTP

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = HTTPS_ONLY
CSRF_COOKIE_SECURE = HTTPS_ONLY
LANGUAGE_COOKIE_SECURE = HTTPS_ONLY
SECURE_SSL_REDIRECT = HTTPS_ONLY
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS_ONLY else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS_ONLY
SECURE_HSTS_PRELOAD = HTTPS_ONLY
# TLS ends at the reverse proxy in front of gunicorn; only it may say the request was HTTPS
# (gunicorn's --forwarded-allow-ips limits who is believed).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# Django's default: flash messages ride in a signed cookie (the session only when they do not
# fit), so a booking's "Your appointment is booked" costs no second transaction to save the
# session.
MESSAGE_STORAGE = "django.contrib.messages.storage.fallback.FallbackStorage"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # django-axes (Security below): lockouts, not every login.
        "axes": {"level": "WARNING"},
    },
}

# --- Security and audit -------------------------------------------------------------------
# The audit trail (audit/), the login lockout (django-axes), the rate limits
# (common/ratelimit.py) and session lifetimes. README "Security" tells the whole story.
AUTHENTICATION_BACKENDS = [
    "clinic.security.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# The client's address: the socket's peer, or behind this many proxies of our own the entry
# they appended to X-Forwarded-For (the compose stack's Caddy: 1). Never more than there are.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Login lockout: 5 failed logins for one national ID from one address lock that pair (and only
# that pair: the same account from elsewhere still logs in) for 15 minutes. Failures count
# until 15 minutes pass without one; a successful login clears them.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25  # hours: 15 minutes
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "clinic.security.lockout_username"
AXES_CLIENT_IP_CALLABLE = "common.client.client_ip"
AXES_LOCKOUT_CALLABLE = "clinic.security.lockout_response"
AXES_RESET_ON_SUCCESS = True
# A try during the lockout does not restart its 15 minutes.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Logins, failures and lockouts are in the audit trail; axes keeps only its counters, and its
# admin pages (deleting a counter there would unlock) are off.
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False

# Rate limits on the endpoints that write (common.ratelimit.limit): scope -> (requests,
# seconds), per client address. RATELIMIT_ENABLED=False turns them off (load tests only).
# "search": the API's patient search, a read sent as a POST (its query is often a national
# ID, kept out of URLs): a busy desk searches far more often than it books, so it has a
# count of its own, still bounded against trying national IDs one after another.
RATELIMIT_ENABLED = env.bool("RATELIMIT_ENABLED", default=True)
RATELIMITS = {"write": (100, 15 * 60), "search": (300, 15 * 60)}
RATELIMIT_CACHE = "default"

# Admins are signed out after this long without a request; everyone else 12 hours after
# signing in.
STAFF_SESSION_IDLE_SECONDS = env.int("STAFF_SESSION_IDLE_MINUTES", default=30) * 60
SESSION_COOKIE_AGE = 12 * 60 * 60
CSRF_FAILURE_VIEW = "audit.views.csrf_failure"

# --- API ---
# The JSON API (api/, django-ninja) and its interactive docs are in INSTALLED_APPS and
# MIDDLEWARE above; /metrics is guarded here.

# /metrics is served only to a scraper that shows METRICS_TOKEN as a bearer token and/or
# connects directly from an address in METRICS_ALLOWED_IPS; with neither set it is a 404.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
if METRICS_TOKEN and len(METRICS_TOKEN) < 16:
    raise ImproperlyConfigured("METRICS_TOKEN is too short: use at least 16 random characters.")
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=[])
try:
    import ipaddress

    for _network in METRICS_ALLOWED_IPS:
        ipaddress.ip_network(_network, strict=False)
except ValueError as exc:
    raise ImproperlyConfigured(f"METRICS_ALLOWED_IPS: {exc}") from exc
