"""Liveness of the parts the service needs: database, Redis, RQ workers, rq cron, the queue."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import Engine, text

from signing.clock import utcnow

__all__ = ["QUEUE_WARN_LENGTH", "check_all"]

WORKER_STALE_SECONDS = 120
CRON_STALE_SECONDS = 150
QUEUE_WARN_LENGTH = 1000
CRON_REGISTRY_KEY = "rq:cron_schedulers"


def _database(engine: Engine) -> dict[str, Any]:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means "down"; the type is enough for the operator
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True}


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else None


def _worker(redis: Redis[bytes]) -> dict[str, Any]:
    from rq import Worker

    heartbeats = [w.last_heartbeat for w in Worker.all(connection=redis) if w.last_heartbeat]
    last = max((h if h.tzinfo else h.replace(tzinfo=UTC) for h in heartbeats), default=None)
    fresh = last is not None and (utcnow() - last).total_seconds() < WORKER_STALE_SECONDS
    return {"ok": fresh, "count": len(heartbeats), "last_seen": _iso(last)}


def _cron(redis: Redis[bytes]) -> dict[str, Any]:
    newest = redis.zrange(CRON_REGISTRY_KEY, -1, -1, withscores=True)
    last = datetime.fromtimestamp(float(newest[0][1]), UTC) if newest else None
    fresh = last is not None and (utcnow() - last).total_seconds() < CRON_STALE_SECONDS
    return {"ok": fresh, "last_tick": _iso(last)}


def _queue(redis: Redis[bytes]) -> dict[str, Any]:
    from rq import Queue

    length = Queue("default", connection=redis).count
    return {"ok": length < QUEUE_WARN_LENGTH, "length": length}


def check_all(engine: Engine, redis: Redis[bytes]) -> tuple[bool, dict[str, dict[str, Any]]]:
    """(serving, checks): serving is False only when the database or Redis is down."""
    checks: dict[str, dict[str, Any]] = {"database": _database(engine)}
    try:
        redis.ping()
        checks["redis"] = {"ok": True}
        checks["worker"] = _worker(redis)
        checks["cron"] = _cron(redis)
        checks["queue"] = _queue(redis)
    except (RedisError, OSError) as exc:
        down = {"ok": False, "error": type(exc).__name__}
        checks["redis"] = down
        checks["worker"] = {"ok": False, "last_seen": None}
        checks["cron"] = {"ok": False, "last_tick": None}
        checks["queue"] = {"ok": False, "length": None}
    serving = checks["database"]["ok"] and checks["redis"]["ok"]
    return serving, checks
