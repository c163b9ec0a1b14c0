"""Settings for School Sessions: one module, configured by environment variables (12-factor).

DJANGO_ENV=production switches on the production hardening; everything else has a
development default that only applies while DEBUG is on.
"""

import datetime
import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    return value in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DJANGO_ENV = os.environ.get("DJANGO_ENV", "development").strip().lower()
PRODUCTION = DJANGO_ENV == "production"
TESTING = "pytest" in sys.modules or (len(sys.argv) > 1 and sys.argv[1] == "test")

DEBUG = env_bool("DEBUG", default=not PRODUCTION)

SECRET_KEY = os.environ.get("SECRET_KEY", "").strip()
if not SECRET_KEY:
    if PRODUCTION or not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off or DJANGO_ENV=production.")
    SECRET_KEY = "dev-only-insecure-key-school-sessions-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

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
    "django_htmx",
    "django_tasks_db",
    "axes",
    "oauth2_provider",
    "rostering",
    "rostering.oneroster",
    "registrations",
    "session_setup",
    "assessments",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "rostering.middleware.DistrictTimezoneMiddleware",
    "axes.middleware.AxesMiddleware",  # turns a sign-in lockout into our lockout page
    "config.middleware.DatabaseUnavailableMiddleware",  # last: a view's database fault is a 503 (see handler500)
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "django.template.context_processors.csp",
                "rostering.context_processors.staff_context",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# An empty DATABASE_URL counts as unset (dj-database-url 3.1 would otherwise return {}).
VAR_DIR.mkdir(exist_ok=True)
_database_url = os.environ.get("DATABASE_URL", "").strip() or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
# Persistent connections, checked before each request reuses one: a restarted PostgreSQL is picked up
# without restarting the app (a request that still meets the fault gets a 503, see config/middleware.py).
DATABASES = {
    "default": dj_database_url.parse(_database_url, conn_max_age=0 if TESTING else 60, conn_health_checks=True)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
    )
if os.environ.get("TEST_DATABASE_NAME", "").strip():  # lets two test runs share one PostgreSQL server
    DATABASES["default"]["TEST"] = {"NAME": os.environ["TEST_DATABASE_NAME"].strip()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate limits, sessions can use it) ------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "school-sessions"}}

# --- Tasks ------------------------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": os.environ.get(
            "TASKS_BACKEND",
            "django.tasks.backends.immediate.ImmediateBackend" if TESTING else "django_tasks_db.DatabaseBackend",
        )
    }
}

# --- Auth -------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = int(os.environ.get("PASSWORD_RESET_TIMEOUT_HOURS", "24") or 24) * 3600

# Sign-in lockout (django-axes, database handler): too many failed sign-ins lock the account and, separately,
# the client address, on the staff login page and /admin/ alike, until the cool-off passes, a district admin
# unlocks it (Account → Sign-in lockouts) or the person resets their password.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out sign-in before any password check
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = int(os.environ.get("SIGNIN_FAILURE_LIMIT", "5") or 5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=int(os.environ.get("SIGNIN_COOLOFF_MINUTES", "15") or 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each one alone locks
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # a lockout ends on time, whatever is tried meanwhile
AXES_CLIENT_IP_CALLABLE = "rostering.security.signin_client_ip"  # honours TRUSTED_PROXY_COUNT
AXES_LOCKOUT_CALLABLE = "rostering.views.account.signin_locked_out"

# --- E-mail (password reset) ---------------------------------------------------------------------
# Django 6.1's MAILERS (the EMAIL_* settings are deprecated): the console in development, locmem in tests,
# SMTP in production, configured from the environment variables EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER,
# EMAIL_HOST_PASSWORD, EMAIL_USE_TLS and EMAIL_TIMEOUT (EMAIL_BACKEND picks another backend).
_SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
_mail_backend = os.environ.get("EMAIL_BACKEND", "").strip() or (
    "django.core.mail.backends.locmem.EmailBackend"
    if TESTING
    else _SMTP_BACKEND
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend"
)
_mail_options = {}
if _mail_backend == _SMTP_BACKEND:
    _use_tls = env_bool("EMAIL_USE_TLS", PRODUCTION)
    _mail_options = {
        "host": os.environ.get("EMAIL_HOST", "localhost"),
        "port": int(os.environ.get("EMAIL_PORT", "") or (587 if _use_tls else 25)),
        "username": os.environ.get("EMAIL_HOST_USER", ""),
        "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
        "use_tls": _use_tls,
        "timeout": int(os.environ.get("EMAIL_TIMEOUT", "10") or 10),
    }
MAILERS = {"default": {"BACKEND": _mail_backend, "OPTIONS": _mail_options}}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "School Sessions <no-reply@localhost>")
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", DEFAULT_FROM_EMAIL)

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns at start-up when it is missing (before collectstatic)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION and not TESTING
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING

# --- Content Security Policy (Django 6 built-in) ------------------------------------------------
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

# --- Security (production) ---------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- REST framework ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rostering.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    # The one way in for outside JSON: bounded size, nesting and no NUL (rostering/common/jsonio.py).
    "DEFAULT_PARSER_CLASSES": ["rostering.common.parsers.BoundedJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "rostering.common.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "rostering.common.exceptions.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + ([] if PRODUCTION else ["rest_framework.renderers.BrowsableAPIRenderer"]),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "School Sessions API",
    "DESCRIPTION": (
        "Native REST API of School Sessions: roster data, registration sessions and access codes. "
        "Authenticate with `Authorization: Bearer <token>` (create a token under Account → API tokens "
        "or with `manage.py create_api_token`)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]",
    # Every endpoint answers with and without its trailing slash; the schema documents one form.
    "PREPROCESSING_HOOKS": ["rostering.common.urls.drop_slash_twins"],
    "ENUM_NAME_OVERRIDES": {
        "GradeLevelCodeEnum": "rostering.choices.GradeLevelCode",
        "SessionTypeEnum": "rostering.choices.SessionType",
        "SessionStateEnum": "rostering.choices.SessionState",
        "RegistrationModeEnum": "registrations.choices.RegistrationMode",
        "RegistrationSessionStatusEnum": "registrations.choices.SessionStatus",
        "AccessCodeStatusEnum": "registrations.choices.CodeStatus",
        "SubmissionStatusEnum": "registrations.choices.SubmissionStatus",
        "RosterPolicyEnum": "registrations.choices.RosterPolicy",
        "CodeFormatEnum": "registrations.choices.CodeFormat",
    },
}

# --- OneRoster REST service: OAuth 2 client credentials (django-oauth-toolkit) ------------------------
ONEROSTER_SCOPE_PREFIX = "https://purl.imsglobal.org/spec/or/v1p2/scope/"
OAUTH2_PROVIDER = {
    "SCOPES": {
        ONEROSTER_SCOPE_PREFIX + "roster-core.readonly": "Read the core roster",
        ONEROSTER_SCOPE_PREFIX + "roster.readonly": "Read the roster",
        ONEROSTER_SCOPE_PREFIX + "roster-demographics.readonly": "Read demographics",
    },
    "DEFAULT_SCOPES": [ONEROSTER_SCOPE_PREFIX + "roster-core.readonly", ONEROSTER_SCOPE_PREFIX + "roster.readonly"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": int(os.environ.get("ONEROSTER_TOKEN_SECONDS", "3600") or 3600),
    # Only the client credentials grant is used; every OAuth 2.0 Security BCP (RFC 9700) safeguard is on:
    # tokens stored hashed, no implicit or password grant, no token in a query string, https redirect URIs only.
    **{f"COMPLIANT_BCP_RFC9700_{name}": True for name in (
        "IMPLICIT_GRANT", "PASSWORD_GRANT", "PKCE_METHOD", "ACCESS_TOKEN_TRANSPORT", "AUTHZ_RESPONSE_ISS", "TOKEN_STORAGE",
        "REFRESH_TOKEN", "REDIRECT_URI_SCHEME", "REDIRECT_URI_MATCHING", "PKCE_REQUIRED")},
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
}
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"
ONEROSTER = {
    # Uploaded packages and finished exports are kept here (per district), readable by the task worker.
    "STORAGE_DIR": Path(os.environ.get("ONEROSTER_STORAGE_DIR", "") or VAR_DIR / "oneroster"),
    "MAX_UPLOAD_BYTES": int(os.environ.get("ONEROSTER_MAX_UPLOAD_MB", "512") or 512) * 1024 * 1024,
    "PAGE_MAX": 1000,
}

# --- Application settings -----------------------------------------------------------------------
SCHOOL_SESSIONS = {
    "DEMO_PASSWORD": "demo-pass-2026",
    # How many reverse proxies in front of us append to X-Forwarded-For (0: trust only REMOTE_ADDR).
    # The /register rate limits key on the client address, so never trust a header a client can forge.
    "TRUSTED_PROXY_COUNT": int(os.environ.get("TRUSTED_PROXY_COUNT", "0") or 0),
    # The largest JSON request body an API view accepts unless it sets its own ``json_max_bytes``.
    "JSON_MAX_BYTES": int(os.environ.get("JSON_MAX_BYTES", str(256 * 1024)) or 256 * 1024),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO" if not TESTING else "WARNING")},
}
