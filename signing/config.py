"""Settings read once from the environment, with embedded defaults for development."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from signing.errors import ConfigurationError

__all__ = ["DEFAULT_SECRET_KEY", "DEV_KEY_ENCRYPTION_KEY", "PROJECT_ROOT", "Settings", "load_settings"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRET_KEY = "dev-insecure-secret-key-change-me"  # noqa: S105 - refused in production
ENVIRONMENTS = ("development", "testing", "production")
# Base64 of 32 fixed bytes: good enough to exercise encryption in development, refused in production.
DEV_KEY_ENCRYPTION_KEY = "cG9kcGlzYW50LWRldi1rZWstbm90LWZvci1wcm9kISE="


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment."""

    env: str = "development"
    """`development`, `testing` or `production` (`PODPISANT_ENV`)."""
    secret_key: str = DEFAULT_SECRET_KEY
    """Signs cookies and keys the hashes of one-time codes (`SECRET_KEY`)."""
    instance_dir: Path = PROJECT_ROOT / "instance"
    """Where the embedded database, Redis and mail outbox live (`INSTANCE_DIR`)."""
    database_url: str = ""
    """SQLAlchemy URL (`DATABASE_URL`); a SQLite file under `instance_dir` when empty."""
    redis_url: str = ""
    """Redis URL (`REDIS_URL`); the embedded Redis's unix socket when empty."""
    smtp_url: str = ""
    """`smtp://user:pass@host:port` or `smtps://...` (`SMTP_URL`); the local outbox when empty."""
    mail_from: str = "Подписант <noreply@podpisant.local>"
    """The From header of every message (`MAIL_FROM`)."""
    base_url: str = "http://127.0.0.1:5000"
    """The public address used in links sent by mail (`BASE_URL`)."""
    certs_dir: Path = PROJECT_ROOT / "certs-dev"
    """Where the development PKI lives (`CERTS_DIR`)."""
    ca_cert_path: Path | None = None
    """The issuing CA certificate, then its issuers up to the root, PEM (`CA_CERT`); the development one when unset."""
    ca_key_path: Path | None = None
    """The issuing CA private key, PEM, encrypted (`CA_KEY`)."""
    ca_key_passphrase: str = "podpisant-dev-passphrase"  # noqa: S105 - development PKI only
    """Passphrase of the CA keys (`CA_KEY_PASSPHRASE`)."""
    ca_root_crl_path: Path | None = None
    """The root CA's current CRL, DER or PEM (`CA_ROOT_CRL`): validation needs the issuing CA's status too."""
    key_encryption_key: str = DEV_KEY_ENCRYPTION_KEY
    """Base64 of 32 bytes: wraps every stored private key with AES-256-GCM (`KEY_ENCRYPTION_KEY`)."""
    tsa_url: str = ""
    """RFC 3161 timestamp authority (`TSA_URL`); the in-process development TSA when empty."""
    pdf_max_bytes: int = 5 * 1024 * 1024
    """Largest PDF accepted for signing (`PDF_MAX_BYTES`)."""
    pdf_max_pages: int = 500
    """Most pages accepted in one PDF (`PDF_MAX_PAGES`)."""
    pdf_timeout_seconds: int = 20
    """Longest time one PDF may take to read and prepare (`PDF_TIMEOUT_SECONDS`)."""
    timezone: str = "Europe/Moscow"
    """The service's time zone for schedules and displayed times (`TIMEZONE`)."""
    session_idle_minutes: int = 30
    """A session ends after this many minutes without a request (`SESSION_IDLE_MINUTES`)."""
    code_ttl_minutes: int = 10
    """How long a one-time code stays valid (`CODE_TTL_MINUTES`)."""
    code_max_attempts: int = 5
    """Wrong entries allowed before a one-time code is burned (`CODE_MAX_ATTEMPTS`)."""
    code_resend_seconds: int = 60
    """Cooldown before another code can be sent (`CODE_RESEND_SECONDS`)."""
    login_lock_attempts: int = 5
    """Wrong passwords in a row that lock an account (`LOGIN_LOCK_ATTEMPTS`)."""
    login_lock_minutes: int = 15
    """How long such a lock lasts; a password reset ends it sooner (`LOGIN_LOCK_MINUTES`)."""
    reminder_first_days: int = 2
    """Days after the invitation before the first automatic reminder (`REMINDER_FIRST_DAYS`)."""
    reminder_every_days: int = 2
    """Days between automatic reminders after the first (`REMINDER_EVERY_DAYS`)."""
    reminder_max: int = 5
    """Most automatic reminders one signatory gets per revision (`REMINDER_MAX`)."""
    staff_email: str = ""
    """Where news of feedback tickets goes, comma-separated (`STAFF_EMAIL`); every staff member when empty."""
    extra: Mapping[str, str] = field(default_factory=dict)
    """Any other `PODPISANT_*` variables, kept for later features."""

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def is_development(self) -> bool:
        return self.env == "development"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.instance_dir / 'podpisant.db'}"

    @property
    def embedded_redis_socket(self) -> Path:
        return self.instance_dir / "redis" / "redis.sock"

    @property
    def effective_redis_url(self) -> str:
        return self.redis_url or f"unix://{self.embedded_redis_socket}"

    @property
    def outbox_dir(self) -> Path:
        return self.instance_dir / "outbox"

    @property
    def effective_ca_cert_path(self) -> Path:
        return self.ca_cert_path or self.certs_dir / "issuing-ca.pem"

    @property
    def effective_ca_key_path(self) -> Path:
        return self.ca_key_path or self.certs_dir / "issuing-ca.key"

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be a whole number, got {raw!r}") from exc


def _path(environ: Mapping[str, str], name: str) -> Path | None:
    raw = environ.get(name)
    return Path(raw).resolve() if raw else None


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from `environ` (the process environment by default)."""
    env = os.environ if environ is None else environ
    name = env.get("PODPISANT_ENV", "development")
    if name not in ENVIRONMENTS:
        raise ConfigurationError(f"PODPISANT_ENV must be one of {', '.join(ENVIRONMENTS)}, got {name!r}")
    defaults = Settings()
    return Settings(
        env=name,
        secret_key=env.get("SECRET_KEY") or DEFAULT_SECRET_KEY,
        instance_dir=_path(env, "INSTANCE_DIR") or defaults.instance_dir,
        database_url=env.get("DATABASE_URL", ""),
        redis_url=env.get("REDIS_URL", ""),
        smtp_url=env.get("SMTP_URL", ""),
        mail_from=env.get("MAIL_FROM") or defaults.mail_from,
        base_url=(env.get("BASE_URL") or defaults.base_url).rstrip("/"),
        certs_dir=_path(env, "CERTS_DIR") or defaults.certs_dir,
        ca_cert_path=_path(env, "CA_CERT"),
        ca_key_path=_path(env, "CA_KEY"),
        ca_key_passphrase=env.get("CA_KEY_PASSPHRASE") or defaults.ca_key_passphrase,
        ca_root_crl_path=_path(env, "CA_ROOT_CRL"),
        key_encryption_key=env.get("KEY_ENCRYPTION_KEY") or defaults.key_encryption_key,
        tsa_url=env.get("TSA_URL", ""),
        pdf_max_bytes=_int(env, "PDF_MAX_BYTES", defaults.pdf_max_bytes),
        pdf_max_pages=_int(env, "PDF_MAX_PAGES", defaults.pdf_max_pages),
        pdf_timeout_seconds=_int(env, "PDF_TIMEOUT_SECONDS", defaults.pdf_timeout_seconds),
        timezone=env.get("TIMEZONE") or defaults.timezone,
        session_idle_minutes=_int(env, "SESSION_IDLE_MINUTES", defaults.session_idle_minutes),
        code_ttl_minutes=_int(env, "CODE_TTL_MINUTES", defaults.code_ttl_minutes),
        code_max_attempts=_int(env, "CODE_MAX_ATTEMPTS", defaults.code_max_attempts),
        code_resend_seconds=_int(env, "CODE_RESEND_SECONDS", defaults.code_resend_seconds),
        login_lock_attempts=_int(env, "LOGIN_LOCK_ATTEMPTS", defaults.login_lock_attempts),
        login_lock_minutes=_int(env, "LOGIN_LOCK_MINUTES", defaults.login_lock_minutes),
        reminder_first_days=_int(env, "REMINDER_FIRST_DAYS", defaults.reminder_first_days),
        reminder_every_days=_int(env, "REMINDER_EVERY_DAYS", defaults.reminder_every_days),
        reminder_max=_int(env, "REMINDER_MAX", defaults.reminder_max),
        staff_email=env.get("STAFF_EMAIL", "").strip(),
        extra={k: v for k, v in env.items() if k.startswith("PODPISANT_") and k != "PODPISANT_ENV"},
    )
