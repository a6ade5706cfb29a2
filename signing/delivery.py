"""Mail written by a request or a job leaves now, not at the next minute's `rq cron` tick.

`outbox.enqueue` notes in the session that its transaction wrote mail; when that transaction commits, a delivery
job is put on the RQ queue. One waiting job is enough for any number of commits (it runs after them and sends every
due row), so the job has a fixed id and is enqueued only when no job of that id is waiting. While one runs (it may
have read the outbox before this commit), a second fixed id takes the turn. Redis being down costs only promptness:
the rows are committed, and the every-minute tick sends them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from signing import queues
from signing.finalization import QUEUE
from signing.outbox import WROTE_MAIL

__all__ = ["AFTER_RENEWALS_JOB_IDS", "DELIVER_JOB", "JOB_IDS", "deliver_soon", "watch_outbox"]

log = logging.getLogger("podpisant.delivery")
DELIVER_JOB = "signing.jobs.deliver_outbox"
JOB_IDS = ("deliver-outbox-now", "deliver-outbox-again")
"""The delivery job's fixed ids: the first normally, the second while a run of the first is under way."""
AFTER_RENEWALS_JOB_IDS = ("deliver-outbox-after-renewals", "deliver-outbox-after-renewals-again")
"""The same on the renewals queue, for the mail of the night's renewal batches: it leaves after the batches queued
before it (or with any earlier delivery), and its ids are its own, so that a waiting one never makes a person's
code wait behind the batches."""
WAITING = frozenset({JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED})
RUNNING = frozenset({JobStatus.STARTED, JobStatus.CREATED})
ATTEMPTS = 3


def _enqueue_under(queue: Queue, job_id: str) -> bool:
    """True when a delivery job under `job_id` will start after this moment (ours or one already waiting);
    False when a job of that id is running now."""
    for _ in range(ATTEMPTS):
        try:
            queue.enqueue(DELIVER_JOB, job_id=job_id, unique=True, description="deliver the outbox now")
            return True
        except DuplicateJobError:
            try:
                job = Job.fetch(job_id, connection=queue.connection)
            except NoSuchJobError:  # it ended and was removed meanwhile: try again
                continue
            status = job.get_status(refresh=False)
            if status in WAITING:
                return True
            if status in RUNNING:
                return False
            job.delete()  # a finished or failed run: its id is free for the next one
    return False


def deliver_soon(redis: Redis[bytes], *, after_renewals: bool = False) -> None:
    """Make sure a delivery job starts after now — on the default queue, or (`after_renewals`, for the renewal
    batches' own mail) behind the renewal batches already queued; logs (never raises) when Redis cannot be reached."""
    try:
        queue = Queue(queues.RENEWALS if after_renewals else QUEUE, connection=redis)
        job_ids = AFTER_RENEWALS_JOB_IDS if after_renewals else JOB_IDS
        if not any(_enqueue_under(queue, job_id) for job_id in job_ids):
            log.info("outbox delivery jobs are all running; rq cron sends what they missed")
    except RedisError:
        log.warning("could not enqueue outbox delivery; rq cron will send it within a minute", exc_info=True)


def watch_outbox(factory: sessionmaker[Session], redis: Callable[[], Redis[bytes]]) -> None:
    """Sessions made by `factory` enqueue delivery after each commit that wrote outbox rows."""

    def after_commit(session: Session) -> None:
        if session.get_nested_transaction() is None and session.info.pop(WROTE_MAIL, False):
            deliver_soon(redis())

    def after_soft_rollback(session: Session, previous: SessionTransaction) -> None:
        if previous.parent is None:  # the whole transaction, not a savepoint inside it
            session.info.pop(WROTE_MAIL, None)

    event.listen(factory, "after_commit", after_commit)
    event.listen(factory, "after_soft_rollback", after_soft_rollback)
