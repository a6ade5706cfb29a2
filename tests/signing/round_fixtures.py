"""Signature rounds for the round tests: documents drafted through the service, mail through the SMTP sink,
jobs through real RQ on real Redis, settings the jobs read from the environment as in production."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from email.message import EmailMessage

import pytest
from redis import Redis
from rq import Queue, SimpleWorker
from rq.job import Job
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from signing import outbox, queues, rounds
from signing.clock import utcnow
from signing.config import Settings
from signing.mail import SmtpMailer
from signing.models import Document, Signatory, SigningOrder, User
from tests.conftest import MailSink
from tests.signing.document_fixtures import IP, drafted, person

__all__ = [
    "IP",
    "counterparties",
    "deliver_all",
    "job_environment_fixture",
    "link_token",
    "person",
    "run_jobs",
    "sent_round",
    "session_fixture",
    "sign_with_code",
    "signatory_for",
    "text_of",
]

LINK = re.compile(r"/s/([A-Za-z0-9_-]{40,})")


@pytest.fixture(name="session")
def session_fixture(engine: Engine) -> Iterator[Session]:
    """A session on the test database; import `session_fixture` to use it as `session`."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture(name="job_environment")
def job_environment_fixture(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Settings:
    """What RQ jobs read through `load_settings()`: the test's database, Redis, SMTP sink, keys and PKI."""
    for name, value in {
        "PODPISANT_ENV": settings.env, "SECRET_KEY": settings.secret_key, "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url, "SMTP_URL": settings.smtp_url, "BASE_URL": settings.base_url,
        "CERTS_DIR": str(settings.certs_dir), "INSTANCE_DIR": str(settings.instance_dir),
    }.items():
        monkeypatch.setenv(name, value)
    return settings


def counterparties(n: int, start: int = 1) -> list[rounds.SignatorySpec]:
    """`n` counterparties without accounts, with Cyrillic names."""
    return [rounds.SignatorySpec(f"Контрагентов Игорь {i}", f"party{i}@example.org", organization=f"ООО «Ромашка-{i}»")
            for i in range(start, start + n)]


def sent_round(session: Session, settings: Settings, initiator: User, specs: Sequence[rounds.SignatorySpec], *,
               order: SigningOrder = SigningOrder.PARALLEL, initiator_signs: bool = False,
               deadline: datetime | None = None, now: datetime | None = None) -> Document:
    """A drafted act sent out for signature, committed."""
    document = drafted(session, initiator)
    rounds.send(session, document, initiator, specs, order=order, deadline=deadline, initiator_signs=initiator_signs,
                settings=settings, now=now or utcnow(), ip=IP)
    session.commit()
    return document


def signatory_for(document: Document, email: str) -> Signatory:
    return next(s for s in document.signatories if s.email == email)


def deliver_all(engine: Engine, settings: Settings, now: datetime | None = None) -> int:
    """Send everything due in the outbox to the SMTP sink, as the every-minute job does."""
    return outbox.deliver_due(sessionmaker(engine, expire_on_commit=False), SmtpMailer(settings.smtp_url),
                              now=now or utcnow(), sender=settings.mail_from)


def run_jobs(redis: Redis) -> list[str]:
    """Run every queued job in-process (RQ's SimpleWorker, burst mode); the functions of the jobs that ran, in
    order. A failed job fails the test with its traceback."""
    served = [Queue(name, connection=redis) for name in queues.QUEUES]  # as the service's worker, in its order
    before = {i for queue in served for i in queue.finished_job_registry.get_job_ids()}
    SimpleWorker(served, connection=redis).work(burst=True)
    failed = [Job.fetch(i, connection=redis) for queue in served for i in queue.failed_job_registry.get_job_ids()]
    assert not failed, "\n".join(str(job.latest_result().exc_string) for job in failed)  # type: ignore[union-attr]
    ran = [Job.fetch(i, connection=redis) for queue in served for i in queue.finished_job_registry.get_job_ids()
           if i not in before]
    return [str(job.func_name) for job in sorted(ran, key=lambda job: job.ended_at or utcnow())]


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def link_token(message: EmailMessage) -> str:
    """The invitation token in a mail's link."""
    found = LINK.search(text_of(message))
    assert found, "no invitation link in the message"
    return found.group(1)


def sign_with_code(session: Session, signatory: Signatory, settings: Settings, mail: MailSink, *,
                   now: datetime | None = None) -> Signatory:
    """Ask for a signing code, read it from the mail, sign the current revision, commit."""
    before = len(mail.to(signatory.email))
    rounds.request_code(session, signatory, "sign", settings=settings, now=now or utcnow())
    session.commit()
    code = mail.last_code(signatory.email, before + 1)
    signed = rounds.sign(session, signatory, code=code, revision_seq=signatory.document.current_revision,
                         settings=settings, now=now or utcnow(), ip=IP)
    session.commit()
    return signed
