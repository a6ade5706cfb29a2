"""Renewal benchmark: N due subscriptions renewed by 2 RQ workers on a real Redis and a real database.

    .venv/bin/python bench/renew.py           # N = 1,000 and 10,000; writes its section of bench/RESULTS.md
    .venv/bin/python bench/renew.py --quick   # N = 100 and 400, under a minute; prints the RESULT line only

Each renewal is the production job (`signing.jobs.renew_subscriptions`, 20 subscriptions to a job, enqueued by the
daily tick `signing.jobs.enqueue_renewals`): the period's row, the document rendered to PDF, the signature page
prepared, the initiator's signature with their own certificate (auto-signing, PAdES B-T with the development TSA), the
counterparty's invitation and the initiator's notice as outbox rows, the delivery job enqueued. The workers are
`rq worker --burst --worker-class signing.worker.ServiceWorker` processes, as `./bin/serve` starts its worker; the
workers serve the default queue first and the renewals queue after it, as the service's worker does. The renewals'
mail (to the development outbox directory) is sent by a delivery job the batches put on the renewals queue, behind
the batches already waiting, so most of it leaves after the measured window; how much left within it is reported.

Database: BENCH_DATABASE_URL (its schema is DROPPED and rebuilt: give it a disposable database, e.g.
postgresql+psycopg://postgres@127.0.0.1:5432/bench), else a SQLite file in a scratch directory. Redis: a private
redis-server on a unix socket. The baseline, measured in the same run on the same database: the same renewals
called one after another in this process (no queue, no fork, one connection) — the job system's overhead and the
workers' parallel speed-up are read against it.

Figures: renewals/s between the first renewal job's start and the last one's end (RQ's own timestamps); peak RSS
per worker (getrusage of a wrapper process that waited for it, so a forking worker's horses would count too); duplicates
(documents beyond one per period) and gaps (subscriptions without exactly one issued period) counted in the
database afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from redis import Redis
from rq import Queue
from rq.job import Job
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from bench.results import machine, write_section
from signing import jobs, queues, subscriptions
from signing.certificates import signing_identity
from signing.config import PROJECT_ROOT, Settings, load_settings
from signing.db import create_db_engine
from signing.models import (
    Document,
    Invitation,
    OutboxMessage,
    PeriodMode,
    Subscription,
    SubscriptionPeriod,
    SubscriptionStatus,
    User,
)
from signing.pki import ensure_dev_pki
from signing.trust_services import ca_for, kek_for

SECTION = "## Subscription renewal (bench/renew.py)"
TARGET_RATE = 40.0
"""The issue's target with 10,000 subscriptions on this 2-core machine."""
WORKERS = 2
INITIATORS_PER = 50
"""One initiator (with their certificate already issued) per this many subscriptions."""
VENV_BIN = PROJECT_ROOT / ".venv" / "bin"
MIB = 1024


@dataclass(frozen=True)
class Config:
    sizes: tuple[int, ...] = (1_000, 10_000)
    """Numbers of due subscriptions renewed, each in a fresh schema; the last is the one the target speaks of."""
    baseline: int = 100
    """Renewals timed in this process, one after another, for the baseline."""


QUICK = Config(sizes=(100, 400), baseline=30)


@dataclass
class Outcome:
    n: int
    rate: float
    """Renewals per second by the workers."""
    serial_rate: float
    """Renewals per second called in this process (the baseline)."""
    enqueue_seconds: float
    """The daily tick: finding the N due subscriptions and enqueueing their jobs."""
    rss_mib: list[float]
    """Peak RSS of each worker with its work horses."""
    duplicates: int
    gaps: int
    failed_jobs: int
    documents: int
    invitations: int
    notices: int
    mail_in_window: tuple[int, int]
    """Outbox messages sent by the end of the renewal window, and all of them."""
    job_seconds: dict[str, tuple[int, float]]
    """Per job function: how many ran, and their total run time (the workers' busy time)."""


# ---------------------------------------------------------------- infrastructure


@contextmanager
def private_redis(scratch: Path) -> Iterator[str]:
    from web.supervisor import redis_server_binary

    sock = scratch / "redis.sock"
    server = subprocess.Popen([redis_server_binary(), "--port", "0", "--unixsocket", str(sock), "--save", "",
                               "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        url = f"unix://{sock}"
        for _ in range(200):
            try:
                if sock.exists() and Redis.from_url(url).ping():
                    break
            except OSError:
                pass
            time.sleep(0.05)  # waiting for a server to start, not a measurement
        yield url
    finally:
        server.terminate()
        server.wait(10)


def fresh_schema(url: str) -> None:
    from alembic import command

    from web.cli import alembic_config

    engine = create_db_engine(url)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    config = alembic_config(url)
    config.attributes["skip_logging"] = True
    command.upgrade(config, "head")


def environment(settings: Settings) -> dict[str, str]:
    """What the workers (and `load_settings()` in this process) read."""
    return {
        "PODPISANT_ENV": "development", "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
        "CERTS_DIR": str(settings.certs_dir), "INSTANCE_DIR": str(settings.instance_dir),
        "BASE_URL": settings.base_url, "SMTP_URL": "",
    }


# ---------------------------------------------------------------- seeding


def _template_and_terms(first_month: date) -> tuple[dict[str, object], dict[str, object]]:
    from tests.signing.drafting.examples import form

    return form(), {"number_pattern": "{n}", "issue_day": 1, "first_month": first_month, "auto_sign": True,
                    "signatories": [{"name": "Контрагентов Игорь Петрович", "email": "party@example.org"}]}


def seed(factory: sessionmaker[Session], settings: Settings, n: int, *, today: date, tag: str) -> list[int]:
    """`n` active subscriptions whose one due period is last month (issued on the 1st), each with its own
    counterparty (periods never overlap) and auto-signing on; initiators with their certificate issued."""
    from signing.drafting import Draft
    from tests.signing.drafting.examples import company

    first_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    data, terms = _template_and_terms(first_month)
    offset = 0 if tag == "w" else 500_000  # the baseline's counterparties are others: no period overlaps
    data["buyer"] = company(offset)
    now = datetime.now(UTC)
    with factory() as session, session.begin():
        owners = []
        for i in range((n + INITIATORS_PER - 1) // INITIATORS_PER):
            user = User(full_name=f"Инициаторов Иван {tag}{i}", email=f"initiator-{tag}{i}@example.ru",
                        phone=f"+7916{1 if tag == 'b' else 2}{i:06d}", password_hash="x", created_at=now,
                        pd_consent_at=now, pd_consent_version="bench", email_confirmed_at=now)
            session.add(user)
            session.flush()
            signing_identity(session, user, ca_for(settings), kek_for(settings), now=now)
            owners.append(user)
        template = subscriptions.create_from_draft(
            session, owners[0], data, subscriptions.SubscriptionTerms(**terms), now=now)  # type: ignore[arg-type]
        draft = Draft.from_dict(json.loads(template.draft_json)).to_dict()
        rows = []
        for i in range(1, n):
            draft["buyer"] = company(offset + i)
            rows.append({
                "initiator_id": owners[i // INITIATORS_PER].id, "kind": template.kind,
                "draft_json": json.dumps(draft, ensure_ascii=False), "signatories_json": template.signatories_json,
                "signing_order": template.signing_order, "period_mode": PeriodMode.PREVIOUS_MONTH.value,
                "number_pattern": "{n}", "next_number": 1, "issue_day": 1, "auto_sign": True, "notice_days": 3,
                "first_month": first_month, "status": SubscriptionStatus.ACTIVE.value, "created_at": now,
                "updated_at": now,
            })
        for start in range(0, len(rows), 1000):
            session.execute(insert(Subscription), rows[start:start + 1000])
    with factory() as session:
        owner_ids = [owner.id for owner in owners]
        return list(session.scalars(select(Subscription.id).where(Subscription.initiator_id.in_(owner_ids))
                                    .order_by(Subscription.id)))


# ---------------------------------------------------------------- measuring


def serial_baseline(factory: sessionmaker[Session], settings: Settings, ids: list[int]) -> float:
    """Renewals per second, the same renewals called one after another in this process."""
    start = time.perf_counter()
    for subscription_id in ids:
        subscriptions.renew(factory, subscription_id, now=datetime.now(UTC), settings=settings)
    return len(ids) / (time.perf_counter() - start)


def run_workers(settings: Settings, log_dir: Path) -> list[float]:
    """`WORKERS` burst workers until the queue is empty; the peak RSS (MiB) of each with its work horses."""
    env = {**os.environ, **environment(settings)}
    wrappers = [subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--measure-rss", "--",
         str(VENV_BIN / "rq"), "worker", "--burst", "--worker-class", "signing.worker.ServiceWorker",
         "--url", settings.redis_url, "--logging_level", "WARNING",
         *queues.QUEUES],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=(log_dir / f"worker-{i}.log").open("wb"))
        for i in range(WORKERS)]
    peaks = []
    for wrapper in wrappers:
        out, _ = wrapper.communicate()
        peaks.append(float(out.decode().strip().splitlines()[-1]))
    return peaks


def measure_rss(command: list[str]) -> None:
    """Run `command`, then print the peak RSS in MiB of it and every process it waited for (its work horses)."""
    code = subprocess.call(command)
    if code != 0:
        sys.exit(code)
    print(f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / MIB:.1f}")


def renewal_window(redis: Redis, job_ids: list[str]) -> tuple[datetime, datetime]:
    """The first renewal job's start and the last one's end (UTC)."""
    found = [job for job in Job.fetch_many(job_ids, connection=redis) if job is not None]
    starts = [job.started_at for job in found if job.started_at]
    ends = [job.ended_at for job in found if job.ended_at]
    return min(starts).replace(tzinfo=UTC), max(ends).replace(tzinfo=UTC)


def mail_sent_by(factory: sessionmaker[Session], end: datetime) -> tuple[int, int]:
    """Messages in the outbox sent by `end`, and all of them."""
    with factory() as session:
        sent = count(session, select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at <= end))
        return sent, count(session, select(func.count()).select_from(OutboxMessage))


def busy_time(redis: Redis, served: list[Queue]) -> dict[str, tuple[int, float]]:
    """How many jobs of each function the workers ran, and for how long in all."""
    found: dict[str, tuple[int, float]] = {}
    finished = [i for queue in served for i in queue.finished_job_registry.get_job_ids()]
    for job in Job.fetch_many(finished, connection=redis):
        if job is None or not job.started_at or not job.ended_at:
            continue
        name = job.func_name.rsplit(".", 1)[-1]
        ran, seconds = found.get(name, (0, 0.0))
        found[name] = (ran + 1, seconds + (job.ended_at - job.started_at).total_seconds())
    return found


def count(session: Session, query: object) -> int:
    return int(session.scalar(query) or 0)  # type: ignore[call-overload]


def audit(factory: sessionmaker[Session], ids: list[int]) -> tuple[int, int, int, int, int]:
    """duplicates, gaps, documents, invitations, initiator notices among the subscriptions `ids`."""
    with factory() as session:
        issued = select(SubscriptionPeriod).where(SubscriptionPeriod.subscription_id.in_(ids),
                                                  SubscriptionPeriod.document_id.is_not(None)).subquery()
        per_subscription = dict(session.execute(
            select(issued.c.subscription_id, func.count()).group_by(issued.c.subscription_id)).all())
        owners = select(Subscription.initiator_id).where(Subscription.id.in_(ids)).distinct()
        documents = count(session, select(func.count()).select_from(Document)
                          .where(Document.initiator_id.in_(owners)))
        period_documents = sum(per_subscription.values())
        gaps = sum(1 for subscription_id in ids if per_subscription.get(subscription_id) != 1)
        invitations = count(session, select(func.count()).select_from(Invitation))
        notices = count(session, select(func.count()).select_from(OutboxMessage)
                        .where(OutboxMessage.kind == "subscription-issued"))
    return documents - period_documents, gaps, documents, invitations, notices


def run_size(n: int, config: Config, base: Settings, scratch: Path) -> Outcome:
    fresh_schema(base.database_url)
    Redis.from_url(base.redis_url).flushdb()
    engine = create_db_engine(base.database_url)
    factory = sessionmaker(engine, expire_on_commit=False)
    today = datetime.now(ZoneInfo(base.timezone)).date()
    baseline_ids = seed(factory, base, config.baseline, today=today, tag="b")
    serial_rate = serial_baseline(factory, base, baseline_ids)
    ids = seed(factory, base, n, today=today, tag="w")
    redis = Redis.from_url(base.redis_url)
    started = time.perf_counter()
    enqueued = jobs.enqueue_renewals()
    enqueue_seconds = time.perf_counter() - started
    served = [Queue(name, connection=redis) for name in queues.QUEUES]
    renewal_jobs = [job for job in Job.fetch_many(served[1].get_job_ids(), connection=redis)
                    if job is not None and job.func_name.endswith("renew_subscriptions")]
    renewal_ids = [job.id for job in renewal_jobs]
    assert enqueued == n == sum(len(job.args[0]) for job in renewal_jobs), (enqueued, n)
    peaks = run_workers(base, scratch)
    start, end = renewal_window(redis, renewal_ids)
    rate = n / (end - start).total_seconds()
    mail_in_window = mail_sent_by(factory, end)
    job_seconds = busy_time(redis, served)
    duplicates, gaps, documents, invitations, notices = audit(factory, ids)
    failed = sum(len(queue.failed_job_registry) for queue in served)
    engine.dispose()
    return Outcome(n=n, rate=rate, serial_rate=serial_rate, enqueue_seconds=enqueue_seconds, rss_mib=peaks,
                   duplicates=duplicates, gaps=gaps, failed_jobs=failed, documents=documents,
                   invitations=invitations, notices=notices, job_seconds=job_seconds, mail_in_window=mail_in_window)


def run(config: Config, scratch: Path) -> list[Outcome]:
    database_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{scratch / 'bench.db'}"
    with private_redis(scratch) as redis_url:
        settings = replace(load_settings(), env="development", database_url=database_url, redis_url=redis_url,
                           certs_dir=scratch / "certs", instance_dir=scratch / "instance", smtp_url="")
        os.environ.update(environment(settings))
        ensure_dev_pki(settings.certs_dir, settings.ca_key_passphrase.encode(), settings.base_url)
        return [run_size(n, config, settings, scratch) for n in config.sizes]


# ---------------------------------------------------------------- reporting


def report(outcomes: list[Outcome], config: Config, database: str) -> str:
    last = outcomes[-1]
    rss = max(last.rss_mib)
    lines = [
        SECTION, "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}; database: {database}; Redis: private "
        f"redis-server on a unix socket; {WORKERS} `rq worker --burst` processes (signing.worker.ServiceWorker, jobs "
        "run in the worker's warm process).",
        "Each renewal: period row, act rendered (reportlab), signature page, the initiator's PAdES B-T signature "
        "with their own certificate, an invitation and a notice in the outbox, delivery enqueued.", "",
        "| due subscriptions | renewals/s (2 workers) | baseline: in-process, serial | speed-up | daily tick "
        "(find + enqueue) | peak RSS per worker | duplicates | gaps | failed jobs | documents | invitations |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        lines.append(
            f"| {o.n:,} | {o.rate:.1f} | {o.serial_rate:.1f} ({config.baseline}) | {o.rate / o.serial_rate:.2f}× | "
            f"{o.enqueue_seconds:.2f} s | {' / '.join(f'{r:.0f}' for r in o.rss_mib)} MiB | {o.duplicates} | "
            f"{o.gaps} | {o.failed_jobs} | {o.documents:,} | {o.invitations:,} |")
    ran, seconds = last.job_seconds.get("renew_subscriptions", (0, 0.0))
    lines += ["", f"In the largest run {ran:,} renewal jobs ran {seconds / max(last.n, 1) * 1000:.1f} ms per renewal "
              f"(the workers' busy time). Mail: {last.mail_in_window[0]:,} of {last.mail_in_window[1]:,} outbox "
              "messages were sent by the end of the window; the rest leaves after the batches (their delivery job "
              "waits on the renewals queue behind them, while mail on the default queue, served first, never "
              "does)."]
    first = outcomes[0]
    growth = max(last.rss_mib) / max(first.rss_mib)
    met = "met" if last.rate >= TARGET_RATE else "MISSED"
    lines += [
        "",
        f"Target: ≥ {TARGET_RATE:g} renewals/s with {config.sizes[-1]:,} subscriptions: {last.rate:.1f} ({met}). "
        f"Memory as N grows {first.n:,} → {last.n:,}: peak RSS × {growth:.2f}.",
        "",
        f"RESULT renewals_per_s={last.rate:.1f} duplicates={last.duplicates} gaps={last.gaps} rss_mib={rss:.1f}",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--measure-rss"]:
        measure_rss(args[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller run (under a minute); RESULTS.md untouched")
    options = parser.parse_args(args)
    config = QUICK if options.quick else Config()
    database = os.environ.get("BENCH_DATABASE_URL", "SQLite (scratch file)").split("://")[0]
    with tempfile.TemporaryDirectory(prefix="podpisant-renew-bench-") as scratch:
        outcomes = run(config, Path(scratch))
    text_ = report(outcomes, config, database)
    if not options.quick:
        write_section(SECTION, text_)
    print(text_.rstrip("\n"))  # ends with the RESULT line


if __name__ == "__main__":
    main()
