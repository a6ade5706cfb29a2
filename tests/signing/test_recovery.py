"""Password recovery codes and the login lock, in the domain: one answer for known and unknown addresses, codes
single use, 5 tries, 10 minutes; the lock counted without lost increments, ended by time or by a reset."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
import time_machine
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from signing import accounts, codes, lockout, outbox, passwords, recovery, sessions
from signing.config import Settings
from signing.errors import (
    AccountLocked,
    CodeCooldown,
    CodeExhausted,
    CodeExpired,
    CodeInvalid,
    InvalidCredentials,
    PasswordResetRequired,
    ValidationFailed,
)
from signing.models import OutboxMessage, PasswordResetCode, User, UserSession
from tests.conftest import make_user
from tests.signing.round_fixtures import text_of

NOW = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
POLICY = codes.CodePolicy(secret=b"unit-test-secret")
SETTINGS = Settings(secret_key="unit-test-secret")
LOCK = lockout.LockPolicy(attempts=5, duration=timedelta(minutes=15))
PASSWORD = "старый-пароль-для-маяка-2026"
NEW = "новый-пароль-для-маяка-2027"
EMAIL = "p@example.ru"


@pytest.fixture
def session(engine: Engine) -> Session:
    with Session(engine, expire_on_commit=False) as session:
        user = make_user(session, email=EMAIL)
        user.password_hash = passwords.hash_password(PASSWORD)
        user.email_confirmed_at = NOW
        session.commit()
        yield session


def _user(session: Session) -> User:
    return session.scalars(select(User).where(User.email == EMAIL)).one()


def _mailed_code(session: Session, email: str = EMAIL) -> str:
    """The code in the outbox's latest reset mail to `email` (what the delivery job would send)."""
    body = session.scalars(select(OutboxMessage.body).where(OutboxMessage.recipient == email,
                                                            OutboxMessage.kind == recovery.RESET_CODE)
                           .order_by(OutboxMessage.id.desc())).first()
    assert body is not None
    return body[:6]


def _request(session: Session, email: str = EMAIL, now: datetime = NOW) -> None:
    recovery.request_reset(session, POLICY, email, now=now)
    session.commit()


def _reset(session: Session, code: str, *, email: str = EMAIL, now: datetime = NOW, keep: str | None = None) -> User:
    return recovery.reset_password(session, SETTINGS, POLICY, email, code, NEW, NEW, now=now, keep_session=keep)


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


# ---------------------------------------------------------------- reset codes


def test_a_reset_code_is_stored_hashed_and_mailed_through_the_outbox(session: Session) -> None:
    _request(session)
    code = _mailed_code(session)
    row = session.scalars(select(PasswordResetCode)).one()
    assert row.user_id == _user(session).id and code not in row.code_hash and len(row.code_hash) == 64
    assert EMAIL not in row.address_key and row.expires_at - row.created_at == timedelta(minutes=10)


def test_an_unknown_address_gets_a_row_no_mail_and_the_same_rules(session: Session) -> None:
    _request(session, "nobody@example.ru")
    row = session.scalars(select(PasswordResetCode)).one()
    assert row.user_id is None
    assert session.scalars(select(OutboxMessage)).all() == []
    with pytest.raises(CodeCooldown):
        recovery.request_reset(session, POLICY, "nobody@example.ru", now=NOW + timedelta(seconds=30))
    session.rollback()
    for left in (4, 3, 2, 1):
        with pytest.raises(CodeInvalid) as caught:
            _reset(session, "123456", email="nobody@example.ru")
        session.commit()
        assert caught.value.attempts_left == left
    with pytest.raises(CodeExhausted):
        _reset(session, "123456", email="nobody@example.ru")


def test_known_and_unknown_addresses_wait_the_same(session: Session) -> None:
    _request(session)
    _request(session, "nobody@example.ru")
    later = NOW + timedelta(seconds=20)
    assert recovery.reset_wait(session, POLICY, EMAIL, later) == recovery.reset_wait(
        session, POLICY, "nobody@example.ru", later) == 40


def test_the_code_sets_a_new_password_once(session: Session) -> None:
    _request(session)
    code = _mailed_code(session)
    _reset(session, code)
    session.commit()
    assert passwords.verify_password(_user(session).password_hash, NEW)
    with pytest.raises(CodeExpired):
        _reset(session, code)


def test_five_wrong_entries_burn_the_code(session: Session) -> None:
    _request(session)
    code = _mailed_code(session)
    for _ in range(4):
        with pytest.raises(CodeInvalid):
            _reset(session, _wrong(code))
        session.commit()
    with pytest.raises(CodeExhausted):
        _reset(session, _wrong(code))
    session.commit()
    with pytest.raises(CodeExhausted):
        _reset(session, code)


def test_a_code_expires_after_ten_minutes(session: Session) -> None:
    _request(session)
    with pytest.raises(CodeExpired):
        _reset(session, _mailed_code(session), now=NOW + timedelta(minutes=10))


def test_a_new_code_retires_the_old_one(session: Session) -> None:
    _request(session)
    first = _mailed_code(session)
    _request(session, now=NOW + timedelta(seconds=61))
    second = _mailed_code(session)
    later = NOW + timedelta(seconds=62)
    with pytest.raises((CodeInvalid, CodeExpired)):
        _reset(session, first, now=later)
    session.commit()
    assert _reset(session, second, now=later).id == _user(session).id
    live = session.scalars(select(PasswordResetCode).where(PasswordResetCode.consumed_at.is_(None))).all()
    assert live == []


def test_a_password_built_from_the_persons_data_is_refused_and_the_code_survives(session: Session) -> None:
    _request(session)
    code = _mailed_code(session)
    weak = "Петрович+79161112233"  # unguessable to anyone but those who know the name and the phone
    with pytest.raises(ValidationFailed) as caught:
        recovery.reset_password(session, SETTINGS, POLICY, EMAIL, code, weak, weak, now=NOW)
    session.rollback()
    assert [e.code for e in caught.value.errors] == ["PASSWORD-WEAK"]
    assert _reset(session, code).id == _user(session).id


def test_the_database_keeps_one_live_code_per_address(session: Session) -> None:
    _request(session)
    key = recovery.address_key(POLICY, EMAIL)
    session.add(PasswordResetCode(address_key=key, code_hash="x" * 64, created_at=NOW, expires_at=NOW, attempts=0))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_a_reset_unlocks_clears_the_mark_confirms_ends_other_sessions_and_tells_the_owner(session: Session) -> None:
    user = _user(session)
    user.locked_until, user.failed_logins, user.password_reset_required = NOW + timedelta(minutes=15), 3, True
    user.email_confirmed_at = None
    kept = sessions.start_session(session, user, None, None)
    other = sessions.start_session(session, user, None, None)
    session.commit()
    _request(session)
    _reset(session, _mailed_code(session), keep=kept.token)
    session.commit()
    session.expire_all()
    assert (user.locked_until, user.failed_logins, user.password_reset_required) == (None, 0, False)
    assert user.is_confirmed
    assert session.get(UserSession, kept.record.id).ended_at is None  # type: ignore[union-attr]
    assert session.get(UserSession, other.record.id).end_reason == "password_reset"  # type: ignore[union-attr]
    told = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == recovery.CHANGED)).one()
    assert told.recipient == EMAIL and "12:00" in told.body  # Moscow time of the change


def test_the_code_is_redacted_from_the_outbox_once_sent(session: Session, engine: Engine) -> None:
    _request(session)
    code = _mailed_code(session)
    sent: list[EmailMessage] = []

    class Mailer:
        def send(self, message: EmailMessage) -> None:
            sent.append(message)

    assert outbox.deliver_due(sessionmaker(engine, expire_on_commit=False), Mailer(), now=NOW) == 1
    session.expire_all()
    body = session.scalars(select(OutboxMessage.body)).one()
    assert text_of(sent[0]).startswith(code)
    assert code not in body and outbox.REDACTED_CODE in body


# ---------------------------------------------------------------- the lock


def _login(session: Session, password: str, now: datetime = NOW) -> User:
    with time_machine.travel(now, tick=False):
        try:
            return accounts.authenticate(session, EMAIL, password, LOCK)
        finally:
            session.commit()


def test_the_fifth_wrong_password_locks_and_then_the_right_one_is_refused(session: Session) -> None:
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            _login(session, "не-тот-пароль")
    with pytest.raises(AccountLocked) as caught:
        _login(session, "не-тот-пароль")
    assert caught.value.until == NOW + timedelta(minutes=15)
    with pytest.raises(AccountLocked):
        _login(session, PASSWORD, NOW + timedelta(minutes=1))
    locks = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == lockout.LOCKED)).all()
    assert len(locks) == 1 and "12:15" in locks[0].subject and "/password/forgot" in locks[0].body


def test_the_lock_lasts_fifteen_minutes_then_the_count_starts_over(session: Session) -> None:
    for _ in range(5):
        with pytest.raises((InvalidCredentials, AccountLocked)):
            _login(session, "не-тот-пароль")
    with pytest.raises(AccountLocked):
        _login(session, PASSWORD, NOW + timedelta(minutes=14, seconds=59))
    assert _login(session, PASSWORD, NOW + timedelta(minutes=15)).email == EMAIL
    assert (_user(session).failed_logins, _user(session).locked_until) == (0, None)


def test_a_success_resets_the_count(session: Session) -> None:
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            _login(session, "не-тот-пароль")
    _login(session, PASSWORD)
    assert _user(session).failed_logins == 0


def test_an_unknown_login_is_never_locked(session: Session) -> None:
    for _ in range(7):
        with pytest.raises(InvalidCredentials), time_machine.travel(NOW, tick=False):
            accounts.authenticate(session, "nobody@example.ru", "не-тот-пароль", LOCK)


def test_a_required_reset_refuses_the_right_password_only(session: Session) -> None:
    _user(session).password_reset_required = True
    session.commit()
    with pytest.raises(InvalidCredentials):
        _login(session, "не-тот-пароль")
    with pytest.raises(PasswordResetRequired):
        _login(session, PASSWORD)


def test_parallel_wrong_passwords_lose_no_count_and_lock_once(engine: Engine, session: Session) -> None:
    factory = sessionmaker(engine, expire_on_commit=False)
    user_id = _user(session).id
    errors: list[str] = []
    start = threading.Barrier(4)

    def guess() -> None:
        with factory() as own:
            user = own.get(User, user_id)
            assert user is not None
            start.wait()
            try:
                lockout.record_failure(own, user, LOCK, NOW)
            except AccountLocked:
                errors.append("locked")
            own.commit()

    threads = [threading.Thread(target=guess) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    session.expire_all()
    assert _user(session).failed_logins == 4 and errors == []
    with factory() as own:
        user = own.get(User, user_id)
        assert user is not None
        with pytest.raises(AccountLocked):
            lockout.record_failure(own, user, LOCK, NOW)
        own.commit()
    session.expire_all()
    assert _user(session).locked_until == NOW + timedelta(minutes=15)
