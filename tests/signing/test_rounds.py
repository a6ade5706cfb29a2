"""The signature round as people live it: sent to everyone at once or one after another, opened as a guest with
a mailed code, signed with each person's own certificate (once, whatever is clicked twice), declined with a
reason everyone hears, withdrawn, expired, reminded, and edited into a new revision."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from cryptography import x509
from cryptography.x509.oid import NameOID
from redis import Redis
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from signing import history, invitations, jobs, rounds
from signing.clock import utcnow
from signing.config import Settings, load_settings
from signing.errors import (
    AlreadySigned,
    CodeCooldown,
    CodeExhausted,
    CodeExpired,
    CodeInvalid,
    DeadlinePassed,
    DeclineReasonRequired,
    DocumentNotFound,
    FieldError,
    InvitationInvalid,
    MailUnavailable,
    NotYourTurn,
    ReminderCooldown,
    RoundClosed,
    StaleRevision,
    ValidationFailed,
)
from signing.models import (
    Document,
    DocumentStatus,
    GuestSession,
    HistoryEntry,
    OutboxMessage,
    Revision,
    Signatory,
    SignatoryCode,
    SignatoryState,
    SignerCertificate,
    SigningOrder,
)
from signing.pades import signature_fields
from tests.conftest import MailSink
from tests.signing.document_fixtures import drafted
from tests.signing.drafting.examples import TODAY, form
from tests.signing.round_fixtures import (
    IP,
    counterparties,
    deliver_all,
    job_environment_fixture,  # noqa: F401 - fixture `job_environment`
    link_token,
    person,
    run_jobs,
    sent_round,
    session_fixture,  # noqa: F401 - fixture `session`
    sign_with_code,
    signatory_for,
    text_of,
)

PARTY1, PARTY2, PARTY3 = "party1@example.org", "party2@example.org", "party3@example.org"


def _events(session: Session, document: Document) -> list[str]:
    return [entry.event for entry in history.entries(session, document.id)]


def _revision(session: Session, document: Document, seq: int | None = None) -> Revision:
    session.expire_all()
    wanted = seq if seq is not None else session.get(Document, document.id).current_revision  # type: ignore[union-attr]
    return session.scalars(select(Revision).where(Revision.document_id == document.id,
                                                  Revision.seq == wanted)).one()


def _outbox(session: Session, kind: str) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)))


def _code(session: Session, signatory: Signatory, purpose: str, settings: Settings, mail: MailSink) -> str:
    before = len(mail.to(signatory.email))
    rounds.request_code(session, signatory, purpose, settings=settings, now=utcnow())
    session.commit()
    return mail.last_code(signatory.email, before + 1)


def _one_guest(session: Session, settings: Settings) -> Signatory:
    """The only signatory of a round just sent, a counterparty without an account."""
    return sent_round(session, settings, person(session, 1), counterparties(1)).signatories[0]


# ---------------------------------------------------------------- sending


def test_a_parallel_round_invites_everyone_at_once_the_initiator_first_on_the_signature_page(
    session: Session, engine: Engine, settings: Settings, mail: MailSink
) -> None:
    initiator = person(session, 1)
    document = sent_round(session, settings, initiator, counterparties(2), initiator_signs=True)
    assert document.status == DocumentStatus.IN_SIGNING
    assert [(s.position, s.email, s.is_initiator, s.user_id) for s in document.signatories] == [
        (1, initiator.email, True, initiator.id), (2, PARTY1, False, None), (3, PARTY2, False, None)]
    assert all(s.state == SignatoryState.NOTIFIED for s in document.signatories)
    revision = _revision(session, document)
    assert revision.pdf is not None
    assert [(f.name, f.signed) for f in signature_fields(revision.pdf)] == [
        ("sig1", False), ("sig2", False), ("sig3", False)]
    assert _events(session, document) == ["created", "sent", "notified", "notified", "notified"]
    assert deliver_all(engine, settings) == 3
    for email in (initiator.email, PARTY1, PARTY2):
        [invitation] = mail.to(email)
        assert "Петров Пётр Петрович просит вас подписать документ" in text_of(invitation)
        assert invitations.open(session, link_token(invitation), now=utcnow()).email == email


def test_a_sequential_round_invites_the_next_signatory_only_when_the_previous_has_signed(
    session: Session, engine: Engine, settings: Settings, mail: MailSink
) -> None:
    document = sent_round(session, settings, person(session, 1), counterparties(2), order=SigningOrder.SEQUENTIAL)
    deliver_all(engine, settings)
    assert mail.to(PARTY1) and not mail.to(PARTY2)
    second = signatory_for(document, PARTY2)
    assert second.state == SignatoryState.PENDING
    with pytest.raises(NotYourTurn):
        rounds.sign(session, second, code="000000", revision_seq=1, settings=settings, now=utcnow(), ip=IP)
    session.rollback()
    sign_with_code(session, signatory_for(document, PARTY1), settings, mail)
    assert deliver_all(engine, settings) == 1
    assert "просит вас подписать" in text_of(mail.wait_for(PARTY2)[0])
    assert second.state == SignatoryState.NOTIFIED


def test_a_signatory_with_a_confirmed_account_is_linked_to_it(
    session: Session, settings: Settings
) -> None:
    colleague = person(session, 2)
    stranger = person(session, 3, confirmed=False)
    specs = [rounds.SignatorySpec("Коллега", colleague.email.upper()), rounds.SignatorySpec("Чужой", stranger.email)]
    document = sent_round(session, settings, person(session, 1), specs)
    assert [(s.email, s.user_id) for s in document.signatories] == [
        (colleague.email, colleague.id), (stranger.email, None)]


@pytest.mark.parametrize(("specs", "deadline_days", "order", "fields"), [
    ([], None, "parallel", ["signatories"]),
    ([rounds.SignatorySpec("Иванов", "not-an-address")], None, "parallel", ["signatories-0-email"]),
    ([rounds.SignatorySpec("  ", PARTY1)], None, "parallel", ["signatories-0-name"]),
    ([rounds.SignatorySpec("А", PARTY1), rounds.SignatorySpec("Б", PARTY1.upper())], None, "parallel",
     ["signatories-1-email"]),
    ([rounds.SignatorySpec("А", PARTY1)], -1, "parallel", ["deadline"]),
    ([rounds.SignatorySpec("А", PARTY1)], None, "whenever", ["order"]),
    ([rounds.SignatorySpec("А", "bad"), rounds.SignatorySpec("", PARTY2)], -1, "x",
     ["signatories-0-email", "signatories-1-name", "deadline", "order"]),
])
def test_a_round_that_cannot_be_sent_names_every_wrong_field_and_stores_nothing(
    session: Session, settings: Settings, specs: list[rounds.SignatorySpec], deadline_days: int | None, order: str,
    fields: list[str],
) -> None:
    initiator = person(session, 1)
    document = drafted(session, initiator)
    session.commit()
    deadline = None if deadline_days is None else utcnow() + timedelta(days=deadline_days)
    with pytest.raises(ValidationFailed) as caught:
        rounds.send(session, document, initiator, specs, order=order, deadline=deadline, initiator_signs=False,
                    settings=settings, now=utcnow(), ip=IP)
    session.rollback()
    assert [error.field for error in caught.value.errors] == fields
    assert session.get(Document, document.id).status == DocumentStatus.DRAFT  # type: ignore[union-attr]
    assert session.scalar(select(func.count()).select_from(Signatory)) == 0


def test_only_the_initiator_sends_and_only_a_draft(session: Session, settings: Settings) -> None:
    initiator, other = person(session, 1), person(session, 2)
    document = drafted(session, initiator)
    with pytest.raises(DocumentNotFound):
        rounds.send(session, document, other, counterparties(1), order="parallel", deadline=None,
                    initiator_signs=False, settings=settings, now=utcnow(), ip=IP)
    rounds.send(session, document, initiator, counterparties(1), order="parallel", deadline=None,
                initiator_signs=False, settings=settings, now=utcnow(), ip=IP)
    with pytest.raises(RoundClosed):
        rounds.send(session, document, initiator, counterparties(1), order="parallel", deadline=None,
                    initiator_signs=False, settings=settings, now=utcnow(), ip=IP)


# ---------------------------------------------------------------- guests and codes


def test_a_counterparty_without_an_account_is_admitted_by_a_mailed_code_to_one_signatory(
    session: Session, settings: Settings, mail: MailSink
) -> None:
    document = sent_round(session, settings, person(session, 1), counterparties(2))
    guest = signatory_for(document, PARTY1)
    code = _code(session, guest, "admit", settings, mail)  # arrives at once, not with the outbox's next tick
    token = rounds.admit_guest(session, guest, code, settings=settings, now=utcnow(), ip=IP)
    session.commit()
    assert rounds.guest_signatory(session, token, now=utcnow()) is guest
    assert rounds.guest_signatory(session, "forged" + token, now=utcnow()) is None
    with pytest.raises(CodeExpired):  # single use
        rounds.admit_guest(session, guest, code, settings=settings, now=utcnow(), ip=IP)


def test_a_guest_session_ends_after_30_idle_minutes_and_stays_ended(
    session: Session, settings: Settings, mail: MailSink
) -> None:
    guest = _one_guest(session, settings)
    start = utcnow()
    token = rounds.admit_guest(session, guest, _code(session, guest, "admit", settings, mail), settings=settings,
                               now=start, ip=IP)
    assert rounds.guest_signatory(session, token, now=start + timedelta(minutes=29)) is guest
    assert rounds.guest_signatory(session, token, now=start + timedelta(minutes=58)) is guest  # touched at 29
    assert rounds.guest_signatory(session, token, now=start + timedelta(minutes=89)) is None
    assert rounds.guest_signatory(session, token, now=start + timedelta(minutes=90)) is None
    assert session.scalars(select(GuestSession)).one().ended_at is not None


def test_codes_are_refused_when_wrong_and_burned_after_five_wrong_entries(
    session: Session, settings: Settings, mail: MailSink
) -> None:
    guest = _one_guest(session, settings)
    code = _code(session, guest, "admit", settings, mail)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for left in (4, 3, 2, 1):
        with pytest.raises(CodeInvalid) as caught:
            rounds.admit_guest(session, guest, wrong, settings=settings, now=utcnow(), ip=IP)
        session.commit()  # the attempt is kept
        assert caught.value.attempts_left == left
    with pytest.raises(CodeExhausted):
        rounds.admit_guest(session, guest, wrong, settings=settings, now=utcnow(), ip=IP)
    session.commit()
    with pytest.raises(CodeExhausted):
        rounds.admit_guest(session, guest, code, settings=settings, now=utcnow(), ip=IP)


def test_a_code_expires_after_ten_minutes_and_another_waits_a_minute(
    session: Session, settings: Settings, mail: MailSink
) -> None:
    guest = _one_guest(session, settings)
    start = utcnow()
    rounds.request_code(session, guest, "admit", settings=settings, now=start)
    session.commit()
    code = mail.last_code(guest.email)
    with pytest.raises(CodeCooldown) as caught:
        rounds.request_code(session, guest, "admit", settings=settings, now=start + timedelta(seconds=20))
    assert caught.value.retry_after == 40
    with pytest.raises(CodeExpired):
        rounds.admit_guest(session, guest, code, settings=settings, now=start + timedelta(minutes=10), ip=IP)
    rounds.request_code(session, guest, "admit", settings=settings, now=start + timedelta(minutes=1))
    session.commit()
    fresh = mail.last_code(guest.email, 2)
    if fresh != code:  # one chance in a million that both are the same six digits
        with pytest.raises(CodeInvalid):  # a new code retires the one before
            rounds.admit_guest(session, guest, code, settings=settings, now=start + timedelta(minutes=2), ip=IP)
    assert rounds.admit_guest(session, guest, fresh, settings=settings, now=start + timedelta(minutes=2), ip=IP)


def test_when_the_mail_server_fails_no_code_is_kept_and_the_earlier_one_still_works(
    session: Session, settings: Settings, mail: MailSink
) -> None:
    guest = _one_guest(session, settings)
    start = utcnow()
    rounds.request_code(session, guest, "admit", settings=settings, now=start)
    session.commit()
    code = mail.last_code(guest.email)
    broken = settings.with_overrides(smtp_url="smtp://127.0.0.1:1")
    with pytest.raises(MailUnavailable):
        rounds.request_code(session, guest, "admit", settings=broken, now=start + timedelta(minutes=2))
    session.commit()
    assert session.scalar(select(func.count()).select_from(SignatoryCode)) == 1
    assert rounds.admit_guest(session, guest, code, settings=settings, now=start + timedelta(minutes=3), ip=IP)


def test_no_codes_for_a_round_that_is_over_or_a_signatory_who_is_done(
    session: Session, settings: Settings, mail: MailSink
) -> None:
    initiator = person(session, 1)
    document = sent_round(session, settings, initiator, counterparties(2))
    sign_with_code(session, signatory_for(document, PARTY1), settings, mail)
    with pytest.raises(RoundClosed):
        rounds.request_code(session, signatory_for(document, PARTY1), "sign", settings=settings, now=utcnow())
    rounds.withdraw(session, document, initiator, now=utcnow(), ip=IP)
    session.commit()
    with pytest.raises(RoundClosed):
        rounds.request_code(session, signatory_for(document, PARTY2), "admit", settings=settings, now=utcnow())
    with pytest.raises(FieldError):
        rounds.request_code(session, signatory_for(document, PARTY2), "login", settings=settings, now=utcnow())


# ---------------------------------------------------------------- signing


def _certificate(session: Session, serial: str) -> x509.Certificate:
    row = session.scalars(select(SignerCertificate).where(SignerCertificate.serial == serial)).one()
    return x509.load_pem_x509_certificate(row.certificate_pem.encode())


def test_each_party_signs_with_their_own_certificate_accounts_and_guests_alike(
    session: Session, settings: Settings, mail: MailSink
) -> None:
    initiator = person(session, 1)
    document = sent_round(session, settings, initiator, counterparties(1), initiator_signs=True)
    own, guest = document.signatories
    sign_with_code(session, own, settings, mail)
    sign_with_code(session, guest, settings, mail)
    rows = {row.serial: row for row in session.scalars(select(SignerCertificate))}
    assert own.certificate_serial != guest.certificate_serial
    assert rows[own.certificate_serial].user_id == initiator.id  # type: ignore[index]
    assert rows[guest.certificate_serial].signatory_id == guest.id  # type: ignore[index]
    assert rows[guest.certificate_serial].user_id is None  # type: ignore[index]
    guest_cert = _certificate(session, guest.certificate_serial)  # type: ignore[arg-type]
    assert guest_cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Контрагентов Игорь 1"
    assert guest_cert.subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS)[0].value == PARTY1
    revision = _revision(session, document)
    assert revision.signature_count == 2
    assert [(f.name, f.signed) for f in signature_fields(revision.pdf)] == [("sig1", True), ("sig2", True)]  # type: ignore[arg-type]
    assert _events(session, document).count("signed") == 2


def test_signing_twice_signs_once(session: Session, settings: Settings, mail: MailSink) -> None:
    document = sent_round(session, settings, person(session, 1), counterparties(2))
    signatory = signatory_for(document, PARTY1)
    code = _code(session, signatory, "sign", settings, mail)
    for _ in range(3):  # double click, reload, replayed request: the used code does not matter any more
        rounds.sign(session, signatory, code=code, revision_seq=1, settings=settings, now=utcnow(), ip=IP)
        session.commit()
    assert _revision(session, document).signature_count == 1
    assert _events(session, document).count("signed") == 1


def test_a_signature_needs_the_mailed_code_or_the_accounts_totp(
    session: Session, settings: Settings, mail: MailSink
) -> None:
    initiator = person(session, 1)
    document = sent_round(session, settings, initiator, counterparties(1), initiator_signs=True)
    own, guest = document.signatories
    with pytest.raises(FieldError) as caught:
        rounds.sign(session, guest, code=None, revision_seq=1, settings=settings, now=utcnow(), ip=IP)
    assert caught.value.code == "CODE-REQUIRED"
    with pytest.raises(FieldError):  # a guest has no TOTP: the claim is ignored
        rounds.sign(session, guest, code="", totp_verified=True, revision_seq=1, settings=settings, now=utcnow(),
                    ip=IP)
    with pytest.raises(CodeExpired):  # no code was ever sent
        rounds.sign(session, guest, code="123456", revision_seq=1, settings=settings, now=utcnow(), ip=IP)
    session.rollback()
    rounds.sign(session, own, code=None, totp_verified=True, revision_seq=1, settings=settings, now=utcnow(), ip=IP)
    session.commit()
    assert own.state == SignatoryState.SIGNED and guest.state == SignatoryState.NOTIFIED


def test_a_signature_for_a_superseded_revision_is_refused_and_never_applied(
    session: Session, settings: Settings, mail: MailSink
) -> None:
    initiator = person(session, 1)
    document = sent_round(session, settings, initiator, counterparties(2))
    signatory = signatory_for(document, PARTY1)
    code = _code(session, signatory, "sign", settings, mail)
    rounds.edit(session, document, initiator, data=form(notes="Цена уточнена"), settings=settings, today=TODAY,
                now=utcnow(), ip=IP)
    session.commit()
    with pytest.raises(StaleRevision):
        rounds.sign(session, signatory, code=code, revision_seq=1, settings=settings, now=utcnow(), ip=IP)
    session.rollback()
    assert _revision(session, document, 1).signature_count == 0
    assert _revision(session, document, 2).signature_count == 0


def test_marking_a_view_happens_once_per_revision(session: Session, settings: Settings) -> None:
    document = sent_round(session, settings, person(session, 1), counterparties(1))
    signatory = document.signatories[0]
    for _ in range(3):
        rounds.mark_viewed(session, signatory, now=utcnow(), ip=IP)
    session.commit()
    assert signatory.state == SignatoryState.VIEWED and signatory.viewed_at is not None
    assert _events(session, document).count("viewed") == 1


def test_a_look_before_ones_turn_does_not_cost_the_invitation(
    session: Session, engine: Engine, settings: Settings, mail: MailSink
) -> None:
    document = sent_round(session, settings, person(session, 1), counterparties(2), order=SigningOrder.SEQUENTIAL)
    second = signatory_for(document, PARTY2)
    rounds.mark_viewed(session, second, now=utcnow(), ip=IP)
    assert second.state == SignatoryState.PENDING
    sign_with_code(session, signatory_for(document, PARTY1), settings, mail)
    deliver_all(engine, settings)
    assert second.state == SignatoryState.NOTIFIED and mail.to(PARTY2)


# ---------------------------------------------------------------- declining, withdrawing, expiring


def test_a_decline_needs_a_reason(session: Session, settings: Settings) -> None:
    document = sent_round(session, settings, person(session, 1), counterparties(1))
    for reason in ("", "   \n "):
        with pytest.raises(DeclineReasonRequired) as caught:
            rounds.decline(session, document.signatories[0], reason, now=utcnow(), ip=IP)
        assert caught.value.field == "reason"
    with pytest.raises(FieldError):
        rounds.decline(session, document.signatories[0], "x" * 2001, now=utcnow(), ip=IP)
    assert document.status == DocumentStatus.IN_SIGNING


def test_a_decline_ends_the_round_and_every_party_hears_the_reason(
    session: Session, engine: Engine, settings: Settings, mail: MailSink
) -> None:
    initiator = person(session, 1)
    document = sent_round(session, settings, initiator, counterparties(2))
    decliner = signatory_for(document, PARTY2)
    rounds.decline(session, decliner, "Неверная сумма в строке 2", now=utcnow(), ip=IP)
    session.commit()
    assert document.status == DocumentStatus.DECLINED
    assert document.decline_reason == "Неверная сумма в строке 2"
    assert decliner.state == SignatoryState.DECLINED
    entry = history.entries(session, document.id)[-1]
    assert (entry.event, entry.actor, entry.ip) == ("declined", PARTY2, IP)
    assert "Неверная сумма в строке 2" in entry.details
    deliver_all(engine, settings)
    for email in (initiator.email, PARTY1, PARTY2):
        [notice] = [m for m in mail.to(email) if "Отказ" in str(m["Subject"])]
        assert "Причина: Неверная сумма в строке 2" in text_of(notice)
    with pytest.raises(RoundClosed):
        rounds.sign(session, signatory_for(document, PARTY1), code="000000", revision_seq=1, settings=settings,
                    now=utcnow(), ip=IP)
    rounds.decline(session, decliner, "ещё раз", now=utcnow(), ip=IP)  # twice: nothing new
    assert document.decline_reason == "Неверная сумма в строке 2"


def test_who_has_signed_cannot_decline(session: Session, settings: Settings, mail: MailSink) -> None:
    document = sent_round(session, settings, person(session, 1), counterparties(2))
    signatory = sign_with_code(session, signatory_for(document, PARTY1), settings, mail)
    with pytest.raises(AlreadySigned):
        rounds.decline(session, signatory, "передумал", now=utcnow(), ip=IP)


def test_the_initiator_withdraws_and_the_signatories_are_told(
    session: Session, engine: Engine, settings: Settings, mail: MailSink
) -> None:
    initiator = person(session, 1)
    document = sent_round(session, settings, initiator, counterparties(1))
    with pytest.raises(DocumentNotFound):
        rounds.withdraw(session, document, person(session, 2), now=utcnow(), ip=IP)
    rounds.withdraw(session, document, initiator, now=utcnow(), ip=IP)
    session.commit()
    assert document.status == DocumentStatus.WITHDRAWN
    assert _events(session, document)[-1] == "withdrawn"
    deliver_all(engine, settings)
    assert any("отозван" in str(m["Subject"]) for m in mail.to(PARTY1))
    assert not any("отозван" in str(m["Subject"]) for m in mail.to(initiator.email))
    with pytest.raises(RoundClosed):
        rounds.withdraw(session, document, initiator, now=utcnow(), ip=IP)


def test_past_its_deadline_the_round_expires_by_the_hourly_job_and_everyone_is_told(
    session: Session, engine: Engine, settings: Settings, mail: MailSink, redis: Redis, job_environment: Settings
) -> None:
    deadline = utcnow() + timedelta(days=2)
    initiator = person(session, 1)
    document = sent_round(session, settings, initiator, counterparties(1), deadline=deadline)
    with time_machine.travel(deadline - timedelta(minutes=1), tick=False):
        assert jobs.expire_rounds() == 0
    with time_machine.travel(deadline, tick=False):
        with pytest.raises(DeadlinePassed):
            rounds.sign(session, document.signatories[0], code="000000", revision_seq=1, settings=settings,
                        now=utcnow(), ip=IP)
        session.rollback()
        assert jobs.expire_rounds() == 1
        assert jobs.expire_rounds() == 0
    session.refresh(document)
    assert document.status == DocumentStatus.EXPIRED
    deliver_all(engine, settings, now=deadline)
    for email in (initiator.email, PARTY1):
        assert any("Срок подписания истёк" in str(m["Subject"]) for m in mail.to(email))


# ---------------------------------------------------------------- reminders


def _reminders(mail: MailSink, email: str) -> int:
    return sum("Напоминание" in str(m["Subject"]) for m in mail.to(email))


def test_automatic_reminders_come_after_two_days_then_every_two_days_five_at_most(
    session: Session, engine: Engine, settings: Settings, mail: MailSink, job_environment: Settings
) -> None:
    start = utcnow()
    document = sent_round(session, settings, person(session, 1), counterparties(2), now=start)
    sign_with_code(session, signatory_for(document, PARTY2), settings, mail)
    sent_per_day = []
    for day in range(1, 15):
        with time_machine.travel(start + timedelta(days=day, minutes=1), tick=False):
            sent_per_day.append(jobs.send_reminders())
            deliver_all(engine, settings)
    assert sent_per_day == [0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0]
    assert _reminders(mail, PARTY1) == 5 and _reminders(mail, PARTY2) == 0
    reminder = [m for m in mail.to(PARTY1) if "Напоминание" in str(m["Subject"])][-1]
    assert invitations.open(session, link_token(reminder), now=utcnow()) == signatory_for(document, PARTY1)


def test_reminder_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMINDER_FIRST_DAYS", "3")
    monkeypatch.setenv("REMINDER_EVERY_DAYS", "1")
    monkeypatch.setenv("REMINDER_MAX", "2")
    loaded = load_settings()
    assert (loaded.reminder_first_days, loaded.reminder_every_days, loaded.reminder_max) == (3, 1, 2)


def test_the_reminder_button_reminds_whoever_has_not_signed_once_an_hour(
    session: Session, engine: Engine, settings: Settings, mail: MailSink
) -> None:
    start = utcnow()
    initiator = person(session, 1)
    document = sent_round(session, settings, initiator, counterparties(2), now=start)
    with pytest.raises(ReminderCooldown):  # just invited
        rounds.remind(session, document, initiator, settings=settings, now=start + timedelta(minutes=5), ip=IP)
    session.rollback()
    assert rounds.remind(session, document, initiator, settings=settings, now=start + timedelta(hours=2), ip=IP) == 2
    session.commit()
    with pytest.raises(ReminderCooldown) as caught:
        rounds.remind(session, document, initiator, settings=settings, now=start + timedelta(hours=2, minutes=30),
                      ip=IP)
    assert caught.value.retry_after == 30 * 60
    session.rollback()
    with pytest.raises(DocumentNotFound):
        rounds.remind(session, document, person(session, 2), settings=settings, now=start + timedelta(hours=4), ip=IP)
    session.rollback()
    deliver_all(engine, settings, now=start + timedelta(hours=4))
    assert _reminders(mail, PARTY1) == 1 and _reminders(mail, PARTY2) == 1
    assert _events(session, document)[-1] == "reminded"


# ---------------------------------------------------------------- editing during the round


def test_editing_during_the_round_starts_a_new_revision_that_everyone_hears_of(
    session: Session, engine: Engine, settings: Settings, mail: MailSink
) -> None:
    initiator = person(session, 1)
    document = sent_round(session, settings, initiator, counterparties(2))
    deliver_all(engine, settings)
    old_links = {email: link_token(mail.to(email)[0]) for email in (PARTY1, PARTY2)}
    first = sign_with_code(session, signatory_for(document, PARTY1), settings, mail)
    rounds.edit(session, document, initiator, data=form(notes="Исправлена цена"), settings=settings, today=TODAY,
                now=utcnow(), ip=IP)
    session.commit()
    assert document.current_revision == 2 and document.status == DocumentStatus.IN_SIGNING
    old, new = _revision(session, document, 1), _revision(session, document, 2)
    assert old.superseded_at is not None and old.signature_count == 1
    assert new.signature_count == 0 and new.source_sha256 != old.source_sha256
    assert first.state == SignatoryState.NOTIFIED and first.certificate_serial is None  # the signature no longer counts
    entry = history.entries(session, document.id)
    assert [e.event for e in entry].count("edited") == 1
    assert history.EVENT_LABELS["edited"] == "Изменено"
    assert next(e for e in entry if e.event == "edited").revision_sha256 == new.pdf_sha256
    for token in old_links.values():
        with pytest.raises(InvitationInvalid):
            invitations.open(session, token, now=utcnow())
    deliver_all(engine, settings)
    for email in (PARTY1, PARTY2):
        [notice] = [m for m in mail.to(email) if "Документ изменён" in str(m["Subject"])]
        assert invitations.open(session, link_token(notice), now=utcnow()).email == email
    with time_machine.travel(utcnow() + timedelta(minutes=2)):  # the next code may be asked a minute later
        sign_with_code(session, first, settings, mail)
    assert _revision(session, document, 2).signature_count == 1


def test_in_a_sequential_round_an_edit_sends_the_new_link_only_to_whose_turn_it_is(
    session: Session, engine: Engine, settings: Settings, mail: MailSink
) -> None:
    initiator = person(session, 1)
    document = sent_round(session, settings, initiator, counterparties(2), order=SigningOrder.SEQUENTIAL)
    sign_with_code(session, signatory_for(document, PARTY1), settings, mail)
    rounds.edit(session, document, initiator, data=form(notes="Новая редакция"), settings=settings, today=TODAY,
                now=utcnow(), ip=IP)
    session.commit()
    assert [s.state for s in document.signatories] == [SignatoryState.NOTIFIED, SignatoryState.PENDING]
    deliver_all(engine, settings)
    [to_first] = [m for m in mail.to(PARTY1) if "изменён" in str(m["Subject"])]
    [to_second] = [m for m in mail.to(PARTY2) if "изменён" in str(m["Subject"])]
    assert "/s/" in text_of(to_first) and "/s/" not in text_of(to_second)


def test_an_edit_that_does_not_validate_changes_nothing(session: Session, settings: Settings) -> None:
    initiator = person(session, 1)
    document = sent_round(session, settings, initiator, counterparties(1))
    with pytest.raises(ValidationFailed):
        rounds.edit(session, document, initiator, data=form(number=""), settings=settings, today=TODAY,
                    now=utcnow(), ip=IP)
    session.rollback()
    assert session.get(Document, document.id).current_revision == 1  # type: ignore[union-attr]
    assert session.scalar(select(func.count()).select_from(Revision)) == 1
    assert session.scalar(select(func.count()).select_from(HistoryEntry).filter_by(event="edited")) == 0


def test_a_finished_round_cannot_be_edited_reminded_or_withdrawn(
    session: Session, settings: Settings, mail: MailSink, redis: Redis, job_environment: Settings
) -> None:
    initiator = person(session, 1)
    document = sent_round(session, settings, initiator, counterparties(1))
    sign_with_code(session, document.signatories[0], settings, mail)
    assert "signing.jobs.finalize_revision" in run_jobs(redis)
    session.refresh(document)
    with pytest.raises(RoundClosed):
        rounds.edit(session, document, initiator, data=form(), settings=settings, today=TODAY, now=utcnow(), ip=IP)
    with pytest.raises(RoundClosed):
        rounds.remind(session, document, initiator, settings=settings, now=utcnow(), ip=IP)
    with pytest.raises(RoundClosed):
        rounds.withdraw(session, document, initiator, now=utcnow(), ip=IP)
