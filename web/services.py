"""The process-wide handles the app hands to views: settings, engine, Redis, mailer, SMS, code rules. The request's
sessions enqueue outbox delivery after a commit that wrote mail (`signing.delivery`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from flask import Flask, current_app, g
from redis import Redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from signing.codes import CodePolicy
from signing.config import Settings
from signing.db import create_db_engine
from signing.delivery import watch_outbox
from signing.mail import Mailer, mailer_from_settings
from signing.sms import OutboxSms, SmsSender

__all__ = ["Services", "db", "services"]

EXTENSION_KEY = "podpisant"


@dataclass
class Services:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    mailer: Mailer
    code_policy: CodePolicy
    sms: SmsSender
    """No SMS gateway yet: the development outbox (tests put a recording double here)."""
    _redis: Redis[bytes] | None = field(default=None, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        engine = create_db_engine(settings.effective_database_url)
        found = cls(
            settings=settings,
            engine=engine,
            session_factory=sessionmaker(engine, expire_on_commit=False),
            mailer=mailer_from_settings(settings.smtp_url, settings.outbox_dir),
            sms=OutboxSms(settings.outbox_dir),
            code_policy=CodePolicy(
                secret=settings.secret_key.encode(),
                ttl=timedelta(minutes=settings.code_ttl_minutes),
                max_attempts=settings.code_max_attempts,
                resend_after=timedelta(seconds=settings.code_resend_seconds),
            ),
        )
        watch_outbox(found.session_factory, lambda: found.redis)
        return found

    @property
    def redis(self) -> Redis[bytes]:
        """One client (with its own pool) per process, created on first use."""
        if self._redis is None:
            self._redis = Redis.from_url(
                self.settings.effective_redis_url, socket_connect_timeout=2, socket_timeout=5
            )
        return self._redis

    @property
    def session_idle(self) -> timedelta:
        return timedelta(minutes=self.settings.session_idle_minutes)


def services() -> Services:
    found = current_app.extensions[EXTENSION_KEY]
    assert isinstance(found, Services)
    return found


def db() -> Session:
    """The request's database session, opened on first use and closed at teardown."""
    if "db" not in g:
        g.db = services().session_factory()
    session = g.db
    assert isinstance(session, Session)
    return session


def close_db(_exc: BaseException | None = None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()


def install(app: Flask, settings: Settings) -> Services:
    found = Services.from_settings(settings)
    app.extensions[EXTENSION_KEY] = found
    app.teardown_appcontext(close_db)
    return found
