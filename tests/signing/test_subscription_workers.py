"""Renewal by real RQ worker processes on real Redis and the test database (PostgreSQL when TEST_DATABASE_URL is
set): two workers racing on the same subscriptions, and a worker SIGKILLed in the middle of a renewal whose job is
then recovered by RQ. The workers' clock is set by the test (tests/support/renewal_worker.py), never slept on."""

from __future__ import annotations

import os
import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue
from rq.registry import StartedJobRegistry
from rq.scheduler import RQScheduler
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from time_machine import TimeMachineFixture

from signing import jobs
from signing.config import PROJECT_ROOT, Settings
from signing.models import Document, SubscriptionPeriod
from tests.signing.drafting.examples import company, form
from tests.signing.round_fixtures import job_environment_fixture, run_jobs  # noqa: F401 - fixture `job_environment`
from tests.signing.test_subscriptions import PARTY, factory, initiator_id, subscribe  # noqa: F401 - fixtures
from tests.support.live_round import VENV_BIN, wait_until

NOW = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
"""The workers' clock: July to November 2026 are due (issued on the 5th of the month after)."""
MONTHS = [date(2026, m, 1) for m in (7, 8, 9, 10, 11)]


@contextmanager
def worker(log: Path, *, burst: bool = False, **controls: str) -> Iterator[subprocess.Popen[bytes]]:
    """tests/support/renewal_worker.py in its own process group (so a SIGKILL reaches its work horse too)."""
    env = {**os.environ, "PODPISANT_TEST_NOW": NOW.isoformat(), **controls}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(VENV_BIN / "python"), "-m", "tests.support.renewal_worker", *(["--burst"] if burst else [])],
            cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            yield process
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(30)


def periods_by_subscription(sessions: sessionmaker[Session]) -> dict[int, list[tuple[date, str | None]]]:
    with sessions() as session:
        rows = session.scalars(select(SubscriptionPeriod).order_by(SubscriptionPeriod.subscription_id,
                                                                   SubscriptionPeriod.period_start))
        found: dict[int, list[tuple[date, str | None]]] = {}
        for row in rows:
            found.setdefault(row.subscription_id, []).append((row.period_start, row.number))
        return found


def document_count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Document)) or 0)


def test_two_workers_racing_on_the_same_subscriptions_issue_one_document_per_period(
    factory: sessionmaker[Session], initiator_id: int, job_environment: Settings, redis: Redis,  # noqa: F811
    tmp_path: Path,
) -> None:
    count = 6
    ids = [subscribe(factory, initiator_id, data=form(buyer=company(i)), first_month=MONTHS[0], auto_sign=i % 2 == 0,
                     signatories=[PARTY] if i % 2 == 0 else []) for i in range(count)]
    queue = Queue("default", connection=redis)
    for _ in range(3):  # the tick run three times, plus "retry now" pressed: every job is there four times
        for subscription_id in ids:
            queue.enqueue(jobs.renew_subscription, subscription_id, retry=jobs.RENEWAL_RETRY)
    for subscription_id in ids:
        queue.enqueue(jobs.renew_subscription, subscription_id)
    with worker(tmp_path / "a.log", burst=True) as first, worker(tmp_path / "b.log", burst=True) as second:
        first.wait(240)
        second.wait(240)
    logs = (tmp_path / "a.log").read_text() + (tmp_path / "b.log").read_text()
    assert len(queue.failed_job_registry) == 0, logs
    expected_numbers = [f"{n}/2026" for n in range(1, 6)]
    assert periods_by_subscription(factory) == {
        subscription_id: list(zip(MONTHS, expected_numbers, strict=True)) for subscription_id in ids}
    with factory() as session:
        documents = session.scalars(select(Document)).all()
        per_period = Counter((d.number, d.period_start, d.initiator_id) for d in documents)
        signed = Counter(d.status for d in documents)
    assert len(documents) == count * len(MONTHS)
    assert max(per_period.values()) == count  # each (number, period) once per subscription of the same initiator
    assert signed == {"in_signing": count // 2 * len(MONTHS), "draft": count // 2 * len(MONTHS)}


def test_a_worker_killed_mid_renewal_leaves_whole_periods_and_the_recovered_job_issues_the_rest_once(
    factory: sessionmaker[Session], initiator_id: int, job_environment: Settings, redis: Redis,  # noqa: F811
    tmp_path: Path, time_machine: TimeMachineFixture,
) -> None:
    subscription_id = subscribe(factory, initiator_id, first_month=MONTHS[0])
    queue = Queue("default", connection=redis)
    job = queue.enqueue(jobs.renew_subscription, subscription_id, retry=jobs.RENEWAL_RETRY)
    marker = tmp_path / "stalled"
    with worker(tmp_path / "worker.log", PODPISANT_TEST_STALL_AT_RENDER="3",
                PODPISANT_TEST_STALL_MARKER=str(marker)) as process:
        wait_until(marker.exists, timeout=120, what="the worker to reach the third period")
        assert [start for start, _ in periods_by_subscription(factory)[subscription_id]] == MONTHS[:2]
        horse = int(marker.read_text())  # RQ's work horse runs in a session of its own
        os.kill(horse, signal.SIGKILL)  # it dies inside September's open transaction, and its worker with it
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)
        wait_until(lambda: not Path(f"/proc/{horse}").exists() or "zombie" in Path(f"/proc/{horse}/status")
                   .read_text(), timeout=30, what="the work horse to be gone")
    assert job.get_status(refresh=True) == "started"  # nobody told RQ: the job is abandoned
    assert [start for start, _ in periods_by_subscription(factory)[subscription_id]] == MONTHS[:2]
    assert document_count(factory) == 2

    # RQ's own recovery: the abandoned job is found in the started registry after its expiry and retried.
    time_machine.move_to(NOW + timedelta(hours=2), tick=False)
    StartedJobRegistry(queue=queue).cleanup()
    assert job.get_status(refresh=True) == "scheduled"
    time_machine.move_to(NOW + timedelta(hours=3), tick=False)
    scheduler = RQScheduler([queue], connection=redis)
    scheduler.acquire_locks()
    scheduler.enqueue_scheduled_jobs()
    scheduler.release_locks()
    assert "signing.jobs.renew_subscription" in run_jobs(redis)
    assert periods_by_subscription(factory)[subscription_id] == [
        (month, f"{n}/2026") for n, month in enumerate(MONTHS, start=1)]
    assert document_count(factory) == len(MONTHS)
    run_jobs(redis)  # nothing left to do; a further run changes nothing
    queue.enqueue(jobs.renew_subscription, subscription_id)
    run_jobs(redis)
    assert document_count(factory) == len(MONTHS)


@pytest.fixture(autouse=True)
def _clean_queue(redis: Redis) -> None:
    """Each test starts with an empty queue (the redis fixture flushes the database)."""
    assert redis.dbsize() == 0
