"""Settings read from environment variables, with safe defaults for local development."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path


class ConfigError(RuntimeError):
    """A setting is missing or invalid; the message says which and how to fix it."""


def _database_url(instance_path: Path) -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{instance_path / 'assist.db'}"
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants a dialect+driver.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _secret_key(instance_path: Path, development: bool) -> str:
    key = os.environ.get("SECRET_KEY", "").strip()
    if key:
        return key
    if not development:
        raise ConfigError(
            "SECRET_KEY is not set. Set it to a long random value "
            "(python -c 'import secrets; print(secrets.token_hex(32))'), "
            "or set ASSIST_ENV=development for local use."
        )
    # Local use: generate once and keep it, so sessions survive restarts and workers agree.
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return key_file.read_text().strip()


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def load_config(
    instance_path: Path, overrides: dict[str, object] | None = None
) -> dict[str, object]:
    """Build the Flask config mapping from the environment; ``overrides`` win (tests use them)."""
    overrides = overrides or {}
    env = (
        str(overrides.get("ASSIST_ENV") or os.environ.get("ASSIST_ENV", "production"))
        .strip()
        .lower()
    )
    if env not in {"development", "production"}:
        raise ConfigError(f"ASSIST_ENV must be 'development' or 'production', not {env!r}.")
    development = env == "development"
    redis_url = os.environ.get("REDIS_URL", "").strip()
    max_attachment = int(os.environ.get("MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024))
    config: dict[str, object] = {
        "ASSIST_ENV": env,
        "SECRET_KEY": overrides.get("SECRET_KEY") or _secret_key(instance_path, development),
        "SQLALCHEMY_DATABASE_URI": _database_url(instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": not development,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": not development,
        "REMEMBER_COOKIE_DURATION": timedelta(days=1),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=8),
        # A form left open over lunch must still save: the CSRF token lives as long as the session.
        "WTF_CSRF_TIME_LIMIT": None,
        # Room for one attachment of MAX_ATTACHMENT_BYTES plus the form around it.
        "MAX_CONTENT_LENGTH": int(
            os.environ.get("MAX_CONTENT_LENGTH", max(2 * 1024 * 1024, max_attachment + 1024 * 1024))
        ),
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX", "assist"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_LIMIT_PER_ACCOUNT": os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per 15 minutes"),
        "LOGIN_LIMIT_PER_ADDRESS": os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "30 per 15 minutes"),
        "API_RATE_LIMIT": os.environ.get("API_RATE_LIMIT", "600 per minute"),
        # E-mail delivery (flask send-notifications); an empty SMTP_HOST keeps mail in the outbox.
        "SMTP_HOST": os.environ.get("SMTP_HOST", "").strip(),
        "SMTP_PORT": int(os.environ.get("SMTP_PORT", 25)),
        "SMTP_USERNAME": os.environ.get("SMTP_USERNAME", ""),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": _flag("SMTP_STARTTLS"),
        "SMTP_SSL": _flag("SMTP_SSL"),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "PREPARE Assist <no-reply@localhost>"),
        "PUBLIC_URL": os.environ.get("PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
        "MAIL_MAX_ATTEMPTS": int(os.environ.get("MAIL_MAX_ATTEMPTS", 5)),
        # Activity attachments: stored outside static/, served only after a permission check.
        "ATTACHMENT_DIR": os.environ.get("ATTACHMENT_DIR", "").strip()
        or str(instance_path / "attachments"),
        "MAX_ATTACHMENT_BYTES": max_attachment,
        # Accounts: server-side sessions, the second factor, reset and invitation links.
        "SESSION_IDLE_MINUTES": int(os.environ.get("SESSION_IDLE_MINUTES", 30)),
        "SESSION_MAX_HOURS": int(os.environ.get("SESSION_MAX_HOURS", 12)),
        "TOTP_ISSUER": os.environ.get("TOTP_ISSUER", "PREPARE Assist"),
        "SECOND_FACTOR_LIMIT_PER_ACCOUNT": os.environ.get(
            "SECOND_FACTOR_LIMIT_PER_ACCOUNT", "5 per 15 minutes"
        ),
        "ACCOUNT_ACTION_LIMIT": os.environ.get("ACCOUNT_ACTION_LIMIT", "30 per 15 minutes"),
        "PASSWORD_RESET_LIMIT_PER_ADDRESS": os.environ.get(
            "PASSWORD_RESET_LIMIT_PER_ADDRESS", "10 per hour"
        ),
        "PASSWORD_RESET_LIMIT_PER_EMAIL": os.environ.get(
            "PASSWORD_RESET_LIMIT_PER_EMAIL", "3 per hour"
        ),
        "PASSWORD_RESET_MINUTES": int(os.environ.get("PASSWORD_RESET_MINUTES", 60)),
        "INVITATION_DAYS": int(os.environ.get("INVITATION_DAYS", 7)),
        # The forgot-password answer takes at least this long, found or not (no timing oracle).
        "FORGOT_PASSWORD_MIN_SECONDS": float(os.environ.get("FORGOT_PASSWORD_MIN_SECONDS", 0.5)),
        "PER_PAGE": int(os.environ.get("PER_PAGE", 20)),
        # Where each machine keeps its saved matching index (default: the instance folder).
        "MATCHING_CACHE_DIR": os.environ.get("MATCHING_CACHE_DIR", ""),
        # How late a newly delivered report may reach a worker's ranking (0: at once).
        "MATCHING_REPORTS_MAX_AGE": float(os.environ.get("MATCHING_REPORTS_MAX_AGE", 30)),
        # Closed requests unchanged for this many days are anonymised by `flask apply-retention`.
        "RETENTION_DAYS": int(os.environ.get("RETENTION_DAYS", 730)),
        # Four-eyes rule: a match must be approved by someone other than its proposer.
        "FOUR_EYES": _flag("FOUR_EYES"),
    }
    return {**config, **overrides}
