"""Configuration profiles, read from the environment (spec section 4)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import limits

ROOT = Path(__file__).resolve().parent.parent
# The English catalogue (French is the msgids); compiled .mo files are committed.
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
INSTANCE = ROOT / "instance"

# A key that is only good for development and tests; production refuses it.
DEV_SECRET_KEY = "dev-only-secret-key-change-me"


class ConfigError(RuntimeError):
    """The configuration cannot run safely; the message says why in one line."""


def _env_list(name: str) -> list[str]:
    raw = os.environ.get(name, "")
    return [item.strip() for item in raw.split(",") if item.strip()]


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}.") from exc


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def driver_url(url: str) -> str:
    """A PostgreSQL URL as SQLAlchemy takes it through psycopg 3 (Heroku-style `postgres://` and
    plain `postgresql://`); any other URL as it is."""
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


def database_url(default_name: str = "uniqu3.sqlite") -> str:
    return driver_url(os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE / default_name}")


def base_config(profile: str) -> dict[str, Any]:
    """Settings shared by every profile, from the environment."""
    redis_url = os.environ.get("REDIS_URL") or None
    mail_server = os.environ.get("MAIL_SERVER") or None
    config: dict[str, Any] = {
        "UNIQU3_PROFILE": profile,
        "SECRET_KEY": os.environ.get("SECRET_KEY") or DEV_SECRET_KEY,
        "SECRET_KEY_FALLBACKS": _env_list("SECRET_KEY_FALLBACKS"),
        "SQLALCHEMY_DATABASE_URI": database_url(),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "BASE_URL": (os.environ.get("BASE_URL") or "http://127.0.0.1:5000").rstrip("/"),
        "AUTO_RECEIPT_DAYS": _env_int("AUTO_RECEIPT_DAYS", 7),
        # The buyer's reminder, this many days before the automatic receipt (0: none).
        "RECEIPT_REMINDER_DAYS": _env_int("RECEIPT_REMINDER_DAYS", 2),
        "REDIS_URL": redis_url,
        # Flask-RQ reads RQ_CONNECTION; without Redis, jobs run inline after commit.
        "RQ_CONNECTION": redis_url or {},
        "RQ_QUEUES": ["default"],
        "MAIL_SERVER": mail_server,
        "MAIL_PORT": _env_int("MAIL_PORT", 25),
        "MAIL_USE_TLS": _env_bool("MAIL_USE_TLS", False),
        "MAIL_USE_SSL": _env_bool("MAIL_USE_SSL", False),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER")
        or "UNIQU3APP <commandes@uniqu3app.fr>",
        "MAIL_TIMEOUT": _env_int("MAIL_TIMEOUT", 10),
        # Without an SMTP server the e-mails are kept for the dev mailbox page.
        "MAIL_TO_DEV_MAILBOX": mail_server is None,
        "OUTBOX_MAX_ATTEMPTS": _env_int("OUTBOX_MAX_ATTEMPTS", 8),
        # Seconds a webhook receiver has to answer (connecting, then each read).
        "WEBHOOK_TIMEOUT": _env_int("WEBHOOK_TIMEOUT", 10),
        # Webhook URLs in http:// and to private or loopback addresses: for development and
        # tests only (production: https and public addresses, uniqu3/webhooks/addresses.py).
        "WEBHOOK_ALLOW_PRIVATE": _env_bool("WEBHOOK_ALLOW_PRIVATE", profile != "production"),
        "BABEL_DEFAULT_LOCALE": "fr",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Paris",
        "LANGUAGES": ["fr", "en"],
        "BABEL_TRANSLATION_DIRECTORIES": str(TRANSLATIONS),
        # Seller pages are left open all day: a CSRF token lives as long as the session.
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "SESSION_IDLE_MINUTES": _env_int("SESSION_IDLE_MINUTES", 120),
        # The cookie is sent again when the session changes, which the idle check does once a
        # minute while the seller is active (auth/session.py): its expiry follows that closely
        # enough, and other responses skip re-signing it.
        "SESSION_REFRESH_EACH_REQUEST": False,
        # Every limit's counters (uniqu3/auth/throttle.py, `limits` notation and storage URIs);
        # while that storage fails, each process counts in its memory. Off: nothing is refused.
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}
        if redis_url else {},
        # How many reverse proxies (nginx, a load balancer) stand in front of the app and set
        # X-Forwarded-For / X-Forwarded-Proto: 0 trusts no such header (a client could forge it).
        "TRUSTED_PROXIES": _env_int("TRUSTED_PROXIES", 0),
        # Rendered « Commandes » lists kept per web worker (uniqu3/seller/list_cache.py); 0: off.
        "ORDERS_LIST_CACHE_SIZE": _env_int("ORDERS_LIST_CACHE_SIZE", 256),
        "MAX_CONTENT_LENGTH": 1024 * 1024,  # the tracking import's upload may be 5 MB (its own limit)
        # Where an uploaded tracking file waits between its preview and its apply (a day at most);
        # empty: instance/imports. Every web process must see the same folder.
        "TRACKING_IMPORT_FOLDER": os.environ.get("TRACKING_IMPORT_FOLDER", ""),
        "API_MAX_BODY_BYTES": 256 * 1024,
        # Requests per API key (`limits` notation), counted like the login throttle.
        "API_RATE_LIMIT": os.environ.get("API_RATE_LIMIT") or "1000/minute",
        "DEV_MAILBOX": False,
        "DEMO_PASSWORD": "demo-uniqu3",
        # Static files under content-named URLs, compressed, served by WhiteNoise
        # (uniqu3/static_files.py); the development profile serves static/ as it is edited.
        "STATIC_FINGERPRINT": profile != "development",
        "STATIC_BUILD_FOLDER": str(INSTANCE / "static"),
    }
    return config


#: `dev.py run` writes there the address it serves; every development process reads it (the
#: CLI run in another terminal too), so the links in e-mails point at the running server.
DEV_BASE_URL_FILE = "dev-base-url"
DEV_DEFAULT_PORT = "5000"


def development_base_url(instance: Path = INSTANCE) -> str:
    """BASE_URL in development: the variable, else the `PORT` of this process, else the address
    `dev.py run` last served (instance/dev-base-url), else port 5000."""
    if os.environ.get("BASE_URL"):
        return os.environ["BASE_URL"].rstrip("/")
    if os.environ.get("PORT"):
        return f"http://127.0.0.1:{os.environ['PORT']}"
    try:
        written = (instance / DEV_BASE_URL_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        written = ""
    return (written or f"http://127.0.0.1:{DEV_DEFAULT_PORT}").rstrip("/")


def development() -> dict[str, Any]:
    config = base_config("development")
    config["BASE_URL"] = development_base_url()
    config["DEV_MAILBOX"] = config["MAIL_TO_DEV_MAILBOX"]
    return config


def testing() -> dict[str, Any]:
    config = base_config("testing")
    config.update(
        TESTING=True,
        SECRET_KEY="test-secret-key",
        SQLALCHEMY_DATABASE_URI=os.environ.get("TEST_DATABASE_URL") or "sqlite://",
        REDIS_URL=None,
        RQ_CONNECTION={},
        MAIL_SERVER=None,
        MAIL_TO_DEV_MAILBOX=True,
        DEV_MAILBOX=True,
        RATELIMIT_STORAGE_URI="memory://",
        BASE_URL="http://localhost",
        SERVER_NAME=None,
    )
    return config


def production() -> dict[str, Any]:
    config = base_config("production")
    config.update(
        # No default: the links in e-mails must name the public https address.
        BASE_URL=(os.environ.get("BASE_URL") or "").rstrip("/"),
        SESSION_COOKIE_SECURE=True,
        REMEMBER_COOKIE_SECURE=True,
        PREFERRED_URL_SCHEME="https",
    )
    return config


PROFILES = {"development": development, "testing": testing, "production": production}


def load(profile: str | None) -> dict[str, Any]:
    name = profile or os.environ.get("UNIQU3_ENV") or "development"
    if name not in PROFILES:
        raise ConfigError(
            f"UNIQU3_ENV must be one of {', '.join(PROFILES)}, not {name!r}."
        )
    return PROFILES[name]()


# WSGI servers that are not Werkzeug's development server (found among the loaded modules).
PRODUCTION_SERVERS = ("gunicorn", "uwsgi", "waitress", "mod_wsgi", "bjoern", "meinheld")

DEVELOPMENT_UNDER_SERVER = (
    "the development profile (public development SECRET_KEY, /dev/mailbox open to anyone with "
    "every buyer's links) is running under {server}"
)


def foreign_server() -> str | None:
    """The production WSGI server this process runs under, if any."""
    return next((name for name in PRODUCTION_SERVERS if name in sys.modules), None)


def check_server(profile: str, *, chosen: bool) -> str | None:
    """Under a production WSGI server, the development profile is refused unless it was asked
    for (UNIQU3_ENV=development); asked for, the warning to log is returned."""
    server = foreign_server()
    if profile != "development" or server is None:
        return None
    what = DEVELOPMENT_UNDER_SERVER.format(server=server)
    if not chosen:
        raise ConfigError(
            f"UNIQU3_ENV is not set, and {what}: set UNIQU3_ENV=production (or "
            "UNIQU3_ENV=development to run the development profile on purpose)."
        )
    return f"UNIQU3_ENV=development: {what}. Never expose this process to anyone else."


def weak_key(key: str | bytes | None) -> bool:
    """A key production refuses: missing, the public development key, or shorter than 32."""
    text = key.decode("utf-8", "replace") if isinstance(key, bytes) else (key or "")
    return text == DEV_SECRET_KEY or len(text) < 32


def check(config: dict[str, Any]) -> None:
    """Refuse settings that cannot work, and production settings that are unsafe there."""
    if int(config.get("TRUSTED_PROXIES") or 0) < 0:
        raise ConfigError("TRUSTED_PROXIES must be 0 or more (the number of proxies in front of the app).")
    rate = config.get("API_RATE_LIMIT") or ""
    try:
        limits.parse(rate)
    except ValueError as exc:
        raise ConfigError(f"API_RATE_LIMIT must be a rate such as 1000/minute, not {rate!r}.") from exc
    if config.get("UNIQU3_PROFILE") != "production":
        return
    if weak_key(config.get("SECRET_KEY")):
        raise ConfigError(
            "SECRET_KEY must be set to a random value of at least 32 characters in "
            "production (python -c 'import secrets; print(secrets.token_urlsafe(48))')."
        )
    # A former key still opens sessions and buyer links: it must be as strong as the key.
    for number, fallback in enumerate(config.get("SECRET_KEY_FALLBACKS") or [], start=1):
        if weak_key(fallback):
            raise ConfigError(
                f"SECRET_KEY_FALLBACKS: key n° {number} is the development key or shorter than 32 "
                "characters; production accepts only former keys it would accept as SECRET_KEY."
            )
    if config.get("WEBHOOK_ALLOW_PRIVATE"):
        raise ConfigError(
            "WEBHOOK_ALLOW_PRIVATE is for development and tests: in production webhooks go only to "
            "https addresses on the Internet (unset it)."
        )
    base_url = str(config.get("BASE_URL") or "")
    parts = urlsplit(base_url)
    if parts.scheme != "https" or not parts.hostname:
        raise ConfigError(
            "BASE_URL must be the public https address in production (e.g. "
            f"https://commandes.example.fr), not {base_url!r}: every link in the e-mails starts with it."
        )
