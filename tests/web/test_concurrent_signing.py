"""Ten signatories press Sign at the same moment, each in their own guest session, against a real server process
(gunicorn, several workers and threads) on the test database — PostgreSQL when TEST_DATABASE_URL is set, SQLite
otherwise. Every signature lands and is valid, finalization runs once, every party gets one final mail."""

from __future__ import annotations

import re
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from redis import Redis
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from signing import finalization, history
from signing.certificates import trust_anchors
from signing.clock import utcnow
from signing.config import PROJECT_ROOT, Settings
from signing.models import Document, DocumentStatus, Revision, Signatory
from signing.pades import Verdict, verify
from signing.pades.verify import SignatureKind
from signing.pki import issuing_ca
from tests.conftest import MailSink, free_port
from tests.signing.round_fixtures import (
    counterparties,
    deliver_all,
    job_environment_fixture,  # noqa: F401 - fixture `job_environment`
    link_token,
    person,
    run_jobs,
    sent_round,
    session_fixture,  # noqa: F401 - fixture `session`
    text_of,
)
from tests.support.live_round import VENV_BIN, code_after, wait_until

SIGNERS = 10
_CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


@pytest.fixture
def server(job_environment: Settings, tmp_path: Path, redis: Redis[bytes]) -> Iterator[str]:
    """gunicorn serving `wsgi:app` on its own port, configured from the environment like production."""
    port = free_port()
    with (tmp_path / "gunicorn.log").open("wb") as log:
        process = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "8",
             "--timeout", "120", "--no-control-socket", "wsgi:app"],
            cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: process.poll() is not None or _answers(url), 30, "gunicorn to answer")
            assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()
            yield url
        finally:
            process.terminate()
            process.wait(30)


def _answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/login", timeout=5).status_code == 200
    except requests.RequestException:  # not listening yet, or a worker still importing the app (slow on a busy host)
        return False


def _csrf(response: requests.Response) -> str:
    found = _CSRF.search(response.text)
    assert found, f"no CSRF token on {response.url}"
    return found.group(1)


@dataclass
class Guest:
    """One counterparty's own browser: a guest session and the sign form they are about to submit."""

    email: str
    signatory_id: int
    browser: requests.Session
    form: dict[str, str] | None = None
    outcome: requests.Response | BaseException | None = None


def _admitted(url: str, mail: MailSink, signatory: Signatory) -> Guest:
    """Open the personal link, confirm the mailed code, ask for the signing code: ready to press Sign."""
    guest = Guest(signatory.email, signatory.id, requests.Session())
    link = next(link_token(m) for m in mail.to(signatory.email) if "/s/" in text_of(m))
    before = len(mail.to(signatory.email))
    entry = guest.browser.get(f"{url}/s/{link}", timeout=30)
    admitted = guest.browser.post(f"{url}/s/{link}", data={"code": code_after(mail, signatory.email, before),
                                                          "csrf_token": _csrf(entry)}, timeout=30)
    assert admitted.status_code == 200 and admitted.url.endswith(f"/sign/{signatory.id}"), admitted.text[:500]
    before = len(mail.to(signatory.email))
    asked = guest.browser.post(f"{url}/sign/{signatory.id}/code", data={"csrf_token": _csrf(admitted)}, timeout=30)
    assert asked.status_code == 200, asked.text[:500]
    guest.form = {"code": code_after(mail, signatory.email, before), "revision": "1", "csrf_token": _csrf(asked)}
    return guest


def _sign_at_once(url: str, guests: list[Guest]) -> None:
    barrier = threading.Barrier(len(guests))

    def press(guest: Guest) -> None:
        barrier.wait()
        try:
            guest.outcome = guest.browser.post(f"{url}/sign/{guest.signatory_id}/sign", data=guest.form,
                                               allow_redirects=False, timeout=120)
        except BaseException as exc:  # reported by the assertion below
            guest.outcome = exc

    threads = [threading.Thread(target=press, args=(guest,)) for guest in guests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)


def test_ten_signatories_signing_at_the_same_moment_all_land_once_and_are_finalized_once(
    server: str, session: Session, engine: Engine, settings: Settings, mail: MailSink, redis: Redis[bytes]
) -> None:
    initiator = person(session, 1)
    document = sent_round(session, settings, initiator, counterparties(SIGNERS))
    deliver_all(engine, settings)  # the invitations
    guests = [_admitted(server, mail, signatory) for signatory in document.signatories]

    _sign_at_once(server, guests)

    for guest in guests:
        assert isinstance(guest.outcome, requests.Response), guest.outcome
        assert guest.outcome.status_code == 303, (guest.email, guest.outcome.status_code, guest.outcome.text[:300])
    session.expire_all()
    revision = session.scalars(select(Revision).where(Revision.document_id == document.id)).one()
    assert revision.signature_count == SIGNERS and revision.pdf is not None
    report = verify(revision.pdf, trust=trust_anchors(session, issuing_ca(settings), now=utcnow()), now=utcnow())
    signatures = [s for s in report.signatures if s.kind == SignatureKind.SIGNATURE]
    assert report.verdict == Verdict.VALID and len(signatures) == SIGNERS
    assert all(s.valid and s.trusted and s.intact for s in signatures)
    assert len({s.certificate_serial for s in signatures}) == SIGNERS  # each with their own certificate

    ran = run_jobs(redis)  # what the server enqueued after the last signature's commit
    assert ran.count(finalization.FINALIZE_JOB) == 1
    run_jobs(redis)
    deliver_all(engine, settings)
    session.expire_all()
    final = session.get(Document, document.id)
    assert final is not None and final.status == DocumentStatus.DELIVERED
    events = [entry.event for entry in history.entries(session, document.id)]
    assert events.count("signed") == SIGNERS and events.count("finalized") == 1
    for email in [initiator.email] + [guest.email for guest in guests]:
        finals = [m for m in mail.to(email) if "подписан всеми сторонами" in str(m["Subject"])]
        assert len(finals) == 1, email
