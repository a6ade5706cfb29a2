"""RQ job entry points: each opens its own session/connection and is safe to run twice."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from zoneinfo import ZoneInfo

from redis import Redis
from rq import Queue, Retry
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from signing import delivery, finalization, outbox, queues, rounds, subscriptions
from signing.clock import utcnow
from signing.config import Settings, load_settings
from signing.db import create_db_engine
from signing.mail import mailer_from_settings

__all__ = [
    "CRON_TICK_KEY", "RENEWAL_BATCH", "RENEWAL_RETRY", "RenewalsFailed", "deliver_outbox", "enqueue_renewals",
    "expire_rounds", "finalize_revision", "finalize_stalled", "job_sessions", "notify_upcoming_renewals",
    "record_cron_tick", "renew_subscription", "renew_subscriptions", "send_reminders",
]

CRON_TICK_KEY = "podpisant:cron:last_tick"
RENEWAL_RETRY = Retry(max=3, interval=[60, 600, 3600])
"""A failed renewal (its reason already on the subscription) is tried again after 1 min, 10 min and 1 h."""
RENEWAL_BATCH = 20
"""Subscriptions per job of the daily tick: each costs the queue a few milliseconds however little it does, and a
renewal takes tens of them (one job per subscription spent about a tenth of the workers' time on the queue)."""


class RenewalsFailed(RuntimeError):
    """Some subscriptions of a renewal batch failed (each one's reason is on it): RQ retries the job, and the rerun
    finds nothing due for the others."""

    def __init__(self, subscription_ids: Sequence[int]) -> None:
        super().__init__(f"renewal failed for subscriptions {', '.join(map(str, subscription_ids))}")
        self.subscription_ids = list(subscription_ids)


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


_engines: dict[str, Engine] = {}


def _engine(url: str) -> Engine:
    """The process's engine for `url`, kept across jobs (its pool and compiled statements stay warm)."""
    if url not in _engines:
        _engines[url] = create_db_engine(url)
    return _engines[url]


def _forget_engines_in_child() -> None:
    """A forked process must not share its parent's pooled connections: it opens its own."""
    for engine in _engines.values():
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_engines_in_child)


@contextmanager
def job_sessions(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """A session factory on the process's engine for the configured database."""
    yield sessionmaker(_engine(settings.effective_database_url), expire_on_commit=False)


def deliver_outbox() -> int:
    """Send every due outbox message (rq cron every minute; also enqueued right after a commit that wrote mail).
    Returns how many were sent; two runs at once send each message once."""
    settings = load_settings()
    mailer = mailer_from_settings(settings.smtp_url, settings.outbox_dir)
    with job_sessions(settings) as factory:
        return outbox.deliver_due(factory, mailer, now=utcnow(), sender=settings.mail_from)


def _enqueue_delivery(*, after_renewals: bool = False) -> None:
    """Send the mail a job just committed without waiting for the next minute's tick (one waiting delivery job
    serves any number of such commits)."""
    delivery.deliver_soon(_redis(), after_renewals=after_renewals)


def finalize_revision(revision_id: int) -> bool:
    """PAdES B-LTA, "completed" and the final mails for one fully signed revision, exactly once (enqueued after
    the last signature's commit as `finalize-<document>-<seq>`); True when this run did it."""
    settings = load_settings()
    with job_sessions(settings) as factory:
        done = finalization.finalize_revision(factory, revision_id, settings=settings, now=utcnow())
    if done:
        _enqueue_delivery()
    return done


def finalize_stalled() -> int:
    """Finalize what a lost or failed finalization job left behind (rq cron, hourly); returns how many."""
    settings = load_settings()
    with job_sessions(settings) as factory:
        with factory() as session:
            stalled = finalization.unfinalized_revisions(session)
        done = sum(finalization.finalize_revision(factory, revision_id, settings=settings, now=utcnow())
                   for revision_id in stalled)
    if done:
        _enqueue_delivery()
    return done


def expire_rounds() -> int:
    """Rounds past their deadline become "expired", parties told (rq cron, hourly); returns how many."""
    settings = load_settings()
    with job_sessions(settings) as factory, factory() as session, session.begin():
        return rounds.expire_due(session, now=utcnow())


def send_reminders() -> int:
    """Automatic reminders to signatories who have not signed (rq cron, hourly); returns how many."""
    settings = load_settings()
    with job_sessions(settings) as factory, factory() as session, session.begin():
        return rounds.send_due_reminders(session, settings=settings, now=utcnow())


def renew_subscription(subscription_id: int) -> int:
    """Issue every due period of one subscription, each exactly once (the unique period row is the guard, so a
    rerun, a racing worker or a requeued job issues nothing twice); returns how many this run issued. The mail it
    wrote (to the initiator, invitations) leaves at once, also when a period failed."""
    settings = load_settings()
    try:
        with job_sessions(settings) as factory:
            return subscriptions.renew(factory, subscription_id, now=utcnow(), settings=settings)
    finally:
        _enqueue_delivery()


def renew_subscriptions(subscription_ids: list[int]) -> int:
    """The daily tick's job: `renew_subscription` for each of a batch, one after another, one failure not holding
    up the others; returns how many documents this run issued. RenewalsFailed names the ones that failed, after
    the others are done, so that RQ retries the batch (their issued periods are guarded by their rows). Their mail
    is sent by a delivery job queued behind the batches (and by any delivery before it)."""
    settings = load_settings()
    try:
        with job_sessions(settings) as factory:
            issued, failed = subscriptions.renew_each(factory, subscription_ids, now=utcnow(), settings=settings)
    finally:
        _enqueue_delivery(after_renewals=True)  # not urgent: interactive mail goes first
    if failed:
        raise RenewalsFailed(failed)
    return issued


def enqueue_renewals() -> int:
    """`renew_subscriptions` jobs on the renewals queue (served after the default one), retried with backoff, for
    the subscriptions with a due period, `RENEWAL_BATCH` to a job (rq cron, daily); returns how many subscriptions
    were enqueued. It looks at the subscriptions' last periods, not at missed ticks."""
    settings = load_settings()
    today = utcnow().astimezone(ZoneInfo(settings.timezone)).date()
    with job_sessions(settings) as factory, factory() as session:
        due = subscriptions.due_subscription_ids(session, today=today)
    queue = Queue(queues.RENEWALS, connection=_redis())
    batches = [due[start:start + RENEWAL_BATCH] for start in range(0, len(due), RENEWAL_BATCH)]
    if batches:
        queue.enqueue_many([Queue.prepare_data(renew_subscriptions, (batch,), retry=RENEWAL_RETRY,
                                               description=f"renew subscriptions {batch[0]}..{batch[-1]}")
                            for batch in batches])
    return len(due)


def notify_upcoming_renewals() -> int:
    """Tell initiators of the coming issue days (rq cron, daily; once per period); returns how many were told."""
    settings = load_settings()
    with job_sessions(settings) as factory, factory() as session, session.begin():
        told = subscriptions.notify_upcoming(session, settings=settings, now=utcnow())
    if told:
        _enqueue_delivery()
    return told
