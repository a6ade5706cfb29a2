"""RQ job entry points: each opens its own session/connection and is safe to run twice."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from redis import Redis
from sqlalchemy.orm import Session, sessionmaker

from signing import outbox
from signing.clock import utcnow
from signing.config import Settings, load_settings
from signing.db import create_db_engine
from signing.mail import mailer_from_settings

__all__ = ["CRON_TICK_KEY", "deliver_outbox", "job_sessions", "record_cron_tick"]

CRON_TICK_KEY = "podpisant:cron:last_tick"


def _redis() -> Redis[bytes]:
    """The job's own Redis connection: the worker's when run by RQ, else one from the settings."""
    from rq import get_current_job

    job = get_current_job()
    if job is not None:
        connection: Redis[bytes] = job.connection
        return connection
    return Redis.from_url(load_settings().effective_redis_url)


def record_cron_tick() -> str:
    """Store the current UTC time (ISO 8601) under `CRON_TICK_KEY` and return it; proves rq cron runs."""
    moment = utcnow().isoformat()
    _redis().set(CRON_TICK_KEY, moment)
    return moment


@contextmanager
def job_sessions(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """A session factory on the job's own engine, disposed of when the job ends."""
    engine = create_db_engine(settings.effective_database_url)
    try:
        yield sessionmaker(engine, expire_on_commit=False)
    finally:
        engine.dispose()


def deliver_outbox() -> int:
    """Send every due outbox message (rq cron every minute; also enqueued right after a commit that wrote mail).
    Returns how many were sent; two runs at once send each message once."""
    settings = load_settings()
    mailer = mailer_from_settings(settings.smtp_url, settings.outbox_dir)
    with job_sessions(settings) as factory:
        return outbox.deliver_due(factory, mailer, now=utcnow(), sender=settings.mail_from)
