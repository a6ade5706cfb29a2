"""RQ job entry points: each opens its own session/connection and is safe to run twice."""

from __future__ import annotations

from redis import Redis

from signing.clock import utcnow
from signing.config import load_settings

__all__ = ["CRON_TICK_KEY", "record_cron_tick"]

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
