"""Settings for the IOP finder.

Everything that differs between a laptop and production comes from environment
variables with safe defaults: with nothing set you get a local SQLite site.
"""

import os
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

# Production is said out loud (DJANGO_ENV=production or PRODUCTION=1): it makes
# SECRET_KEY and ALLOWED_HOSTS mandatory and turns on every HTTPS protection below.
# Anything else (a laptop, a test run, CI) works with nothing set.
PRODUCTION = os.environ.get("DJANGO_ENV", "").strip().lower() == "production" or env_bool(
    "PRODUCTION"
)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if PRODUCTION:
    if not SECRET_KEY:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DJANGO_ENV=production. Generate one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    if DEBUG:
        raise ImproperlyConfigured("DEBUG=1 is not allowed when DJANGO_ENV=production.")
elif not SECRET_KEY:
    # Only good for a laptop or a test run: production must set SECRET_KEY.
    SECRET_KEY = "insecure-dev-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS must be set when DJANGO_ENV=production, e.g. ALLOWED_HOSTS=iopfinder.org"
    )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework_api_key",
    "django_filters",
    "csp",
    "corsheaders",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "facilities",
]

MIDDLEWARE = [
    # Outermost, so it sees the final status and the whole duration.
    "finder.middleware.RequestLogMiddleware",
    # /healthz and /readyz answer before host checks and the HTTPS redirect:
    # load balancers probe over plain HTTP with an IP for a Host header.
    "finder.health.HealthCheckMiddleware",
    "finder.middleware.NoTraceMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "finder.csp.CSPMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # turns a locked-out login into the lockout page
    "finder.middleware.NulInAdminInputMiddleware",
    # Last, so its process_exception sees a view's database errors first.
    "finder.middleware.DatabaseUnavailableMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked-out logins
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "finder.urls"

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
            ],
        },
    },
]

WSGI_APPLICATION = "finder.wsgi.application"

# SQLite file by default so a newcomer needs nothing installed; PostgreSQL in
# production via DATABASE_URL=postgres://user@host:5432/name.
DB_CONN_MAX_AGE = int(os.environ.get("DB_CONN_MAX_AGE", "60"))


def database_from_url(url):
    # Health checks let a worker drop a dead pooled connection and reconnect on its
    # own once PostgreSQL is back; the timeouts make an outage fail fast (503) instead
    # of hanging a worker. DB_STATEMENT_TIMEOUT_MS=0 lifts the limit (bulk imports).
    database = dj_database_url.parse(url, conn_max_age=DB_CONN_MAX_AGE, conn_health_checks=True)
    if database["ENGINE"] == "django.db.backends.postgresql":
        statement_timeout_ms = int(os.environ.get("DB_STATEMENT_TIMEOUT_MS", "5000"))
        database.setdefault("OPTIONS", {}).update(
            connect_timeout=int(os.environ.get("DB_CONNECT_TIMEOUT", "3")),
            options=f"-c statement_timeout={statement_timeout_ms}",
        )
    return database


DATABASES = {
    "default": database_from_url(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    )
}
if os.environ.get("TEST_DATABASE_NAME"):
    # Lets several test runs share one PostgreSQL server without colliding.
    DATABASES["default"]["TEST"] = {"NAME": os.environ["TEST_DATABASE_NAME"]}
if os.environ.get("DATABASE_REPLICA_URL"):
    # Reads of listings go to a streaming replica (finder/db_router.py). In a test
    # run the replica is a mirror of the test database, not a database of its own.
    DATABASES["replica"] = database_from_url(os.environ["DATABASE_REPLICA_URL"])
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["finder.db_router.PrimaryReplicaRouter"]
    MIDDLEWARE.append("finder.db_router.ReplicaReadsMiddleware")

# Shared cache and sessions keep app servers stateless: with REDIS_URL every
# gunicorn host sees the same cache; without it each process has its own small
# cache and sessions live in the database only (a per-process cache in front of
# them would let a logged-out session live on in the other processes).
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "TIMEOUT": int(os.environ.get("CACHE_TIMEOUT", "300")),
            # Fail fast when Redis is down rather than hang a worker.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "TIMEOUT": int(os.environ.get("CACHE_TIMEOUT", "300")),
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.db"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "America/New_York")
# The site is in English only: without the translation machinery every template
# variable, date and form message skips a per-request language lookup (6% of a search).
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed file names (cacheable forever) need `collectstatic`
        # first: on by default in production, off for `make run` and tests.
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("STATIC_MANIFEST", PRODUCTION)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Serve files straight from the finders when nobody ran collectstatic (make run, tests).
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", not PRODUCTION)

# Security headers. Cheap ones are on everywhere; the HTTPS ones only in production,
# where a proxy terminates TLS and says so with X-Forwarded-Proto (it must set or
# strip that header: never expose gunicorn directly with this on).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz/?$", r"^readyz/?$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

# Reverse proxies in front of the site. Behind N of them the client's address is the
# Nth X-Forwarded-For entry from the right; with 0 it is REMOTE_ADDR (the header can
# be forged). The one rule, facilities.access.client_ip, is what the admin lockout, the
# report-a-problem limit and the API's anonymous throttle all count by.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
# The API's own proxy count is gone; a deploy still setting it would silently count
# every caller as the proxy, so it is refused rather than ignored.
if "API_NUM_PROXIES" in os.environ:
    raise ImproperlyConfigured(
        "API_NUM_PROXIES is replaced by TRUSTED_PROXY_COUNT, which now sets the proxy count "
        "for the API throttle, the report limit and the admin lockout alike."
    )

# Content-Security-Policy (django-csp 4), in every environment so that no template
# ever comes to rely on inline script or style. The few third-party pages that need
# more get it per view or per path: see finder/csp.py.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
    }
}

REST_FRAMEWORK = {
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # No NUM_PROXIES: the API throttle counts by TRUSTED_PROXY_COUNT like the rest.
}

# One JSON object per line in production (for the log pipeline), readable text on a
# laptop. finder/logs.py keeps request bodies, query strings and exception
# messages (which can echo submitted values) out of the JSON.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json" if PRODUCTION else "text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "finder.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own console handler would print errors a second time in DEBUG.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # runserver prints its own access line; ours is finder.request.
        "django.server": {"handlers": [], "propagate": False},
    },
}

# Listings not verified for this many days show as stale in admin.
STALE_AFTER_DAYS = int(os.environ.get("STALE_AFTER_DAYS", "365"))

# Partner API (facilities/api). Throttle rates are "N/period", period s, min, hour or day.
API_ANON_RATE = os.environ.get("API_ANON_RATE", "60/min")
API_KEY_RATE = os.environ.get("API_KEY_RATE", "1000/min")
for _rate in (API_ANON_RATE, API_KEY_RATE):
    if not re.fullmatch(r"\d+/(s|sec|m|min|h|hour|d|day)", _rate):
        raise ImproperlyConfigured(f"API throttle rate {_rate!r} is not like 60/min.")
# Any site may read the API from a browser; nothing else is open to other origins.
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS"]
CORS_ALLOW_HEADERS = ["accept", "authorization", "if-none-match", "if-modified-since"]
CORS_EXPOSE_HEADERS = ["ETag", "Last-Modified", "Retry-After", "Content-Disposition"]
SPECTACULAR_SETTINGS = {
    "TITLE": "IOP Finder API",
    "DESCRIPTION": "Read-only listings of intensive outpatient programs, with the same "
    "filters as the search page. See the README's API section.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Swagger UI and ReDoc from drf-spectacular-sidecar's static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
# --- Curators' work and admin access (history, lockout) ---------------------
# The history pages need the history models' own permissions (view = see it,
# change = revert), which the Curators group holds (facilities/permissions.py).
SIMPLE_HISTORY_ENFORCE_HISTORY_MODEL_PERMISSIONS = True
# Lock a username on one address after AXES_FAILURE_LIMIT failed logins, for
# AXES_COOLOFF_MINUTES. Per username+address, so a stranger can neither guess a
# curator's password nor lock the curator out from elsewhere.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "facilities.access.lockout_response"  # templates/admin/locked_out.html
AXES_CLIENT_IP_CALLABLE = "facilities.access.client_ip"  # behind TRUSTED_PROXY_COUNT proxies
