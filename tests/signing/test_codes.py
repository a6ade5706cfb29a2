"""One-time codes: hashed at rest, 10-minute lifetime, single use, 5 attempts, 60-second resend cooldown."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from signing import codes
from signing.errors import CodeCooldown, CodeExhausted, CodeExpired, CodeInvalid
from signing.models import OneTimeCode, User
from tests.conftest import make_user

POLICY = codes.CodePolicy(secret=b"unit-test-secret")
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        make_user(session)
        session.commit()
        yield session


def _user_id(session: Session) -> int:
    return session.scalars(select(User.id)).one()


def test_the_code_is_six_digits_and_only_its_keyed_hash_is_stored(session: Session) -> None:
    with time_machine.travel(T0, tick=False):
        issued = codes.issue_code(session, POLICY, _user_id(session), codes.EMAIL_CONFIRM)
    session.commit()
    stored = session.scalars(select(OneTimeCode)).one()
    assert len(issued.plain) == 6 and issued.plain.isdigit()
    assert issued.plain not in stored.code_hash and len(stored.code_hash) == 64
    assert stored.expires_at == T0 + timedelta(minutes=10)


def test_a_right_code_works_once(session: Session) -> None:
    uid = _user_id(session)
    with time_machine.travel(T0, tick=False):
        issued = codes.issue_code(session, POLICY, uid, codes.EMAIL_CONFIRM)
        codes.verify_code(session, POLICY, uid, codes.EMAIL_CONFIRM, issued.plain)
        with pytest.raises(CodeExpired):
            codes.verify_code(session, POLICY, uid, codes.EMAIL_CONFIRM, issued.plain)


def test_a_code_expires_after_ten_minutes(session: Session) -> None:
    uid = _user_id(session)
    with time_machine.travel(T0, tick=False) as clock:
        issued = codes.issue_code(session, POLICY, uid, codes.EMAIL_CONFIRM)
        clock.move_to(T0 + timedelta(minutes=9, seconds=59))
        codes.verify_code(session, POLICY, uid, codes.EMAIL_CONFIRM, issued.plain)  # still valid
    with time_machine.travel(T0 + timedelta(minutes=20), tick=False) as clock:
        second = codes.issue_code(session, POLICY, uid, codes.EMAIL_CONFIRM)
        clock.move_to(T0 + timedelta(minutes=30))
        with pytest.raises(CodeExpired):
            codes.verify_code(session, POLICY, uid, codes.EMAIL_CONFIRM, second.plain)


def test_five_wrong_entries_burn_the_code(session: Session) -> None:
    uid = _user_id(session)
    with time_machine.travel(T0, tick=False):
        issued = codes.issue_code(session, POLICY, uid, codes.EMAIL_CONFIRM)
        wrong = "000000" if issued.plain != "000000" else "111111"
        left = []
        for _ in range(4):
            with pytest.raises(CodeInvalid) as caught:
                codes.verify_code(session, POLICY, uid, codes.EMAIL_CONFIRM, wrong)
            left.append(caught.value.attempts_left)
        with pytest.raises(CodeExhausted):
            codes.verify_code(session, POLICY, uid, codes.EMAIL_CONFIRM, wrong)
        with pytest.raises(CodeExhausted):  # even the right code is refused now
            codes.verify_code(session, POLICY, uid, codes.EMAIL_CONFIRM, issued.plain)
    assert left == [4, 3, 2, 1]


def test_a_new_code_waits_sixty_seconds_and_replaces_the_old_one(session: Session) -> None:
    uid = _user_id(session)
    with time_machine.travel(T0, tick=False) as clock:
        first = codes.issue_code(session, POLICY, uid, codes.EMAIL_CONFIRM)
        clock.move_to(T0 + timedelta(seconds=59))
        with pytest.raises(CodeCooldown) as caught:
            codes.issue_code(session, POLICY, uid, codes.EMAIL_CONFIRM)
        assert caught.value.retry_after == 1
        assert codes.resend_wait(session, POLICY, uid, codes.EMAIL_CONFIRM) == 1
        clock.move_to(T0 + timedelta(seconds=60))
        second = codes.issue_code(session, POLICY, uid, codes.EMAIL_CONFIRM)
        if first.plain != second.plain:
            with pytest.raises(CodeInvalid):
                codes.verify_code(session, POLICY, uid, codes.EMAIL_CONFIRM, first.plain)
        codes.verify_code(session, POLICY, uid, codes.EMAIL_CONFIRM, second.plain)
    assert first.record.consumed_at is not None
