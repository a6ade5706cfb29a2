"""Two-factor authentication in the domain: enrolment, codes used once, recovery codes, the lock, turning it off,
the second step of a login and «this wasn't me». The clock is moved, never waited for."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from signing import logins, passwords, sessions, two_factor
from signing.config import Settings
from signing.errors import (
    FieldError,
    LoginChallengeExpired,
    LoginEventNotFound,
    SessionNotFound,
    TotpInvalid,
    TotpLocked,
    TotpReused,
    TwoFactorState,
)
from signing.models import LoginEvent, LoginResult, RecoveryCode, TwoFactor, User, UserSession
from tests.conftest import PASSWORD
from tests.signing.round_fixtures import person, session_fixture  # noqa: F401 - fixture `session`

T0 = datetime(2026, 12, 10, 9, 0, 10, tzinfo=UTC)
"""Ten seconds into a 30-second step."""
STEP = timedelta(seconds=30)
HERE = logins.Attempt(ip="203.0.113.7", user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0", now=T0)


def code(secret: str, moment: datetime) -> str:
    return pyotp.TOTP(secret).at(moment)


def enrolled(session: Session, settings: Settings, user: User) -> tuple[str, list[str]]:
    """Two-factor authentication turned on at T0 - 1 min: the secret and the recovery codes."""
    earlier = T0 - timedelta(minutes=1)
    secret = two_factor.start_enrolment(session, user, settings=settings, now=earlier).secret
    recovery = two_factor.confirm_enrolment(session, user, code(secret, earlier), settings=settings, now=earlier)
    session.commit()
    return secret, recovery


def test_enrolment_refuses_a_wrong_first_code_and_a_right_one_turns_it_on(session: Session,
                                                                          settings: Settings) -> None:
    user = person(session, 1)
    enrolment = two_factor.start_enrolment(session, user, settings=settings, now=T0)
    assert enrolment.uri.startswith("otpauth://totp/") and f"secret={enrolment.secret}" in enrolment.uri
    wrong = code(enrolment.secret, T0 + 10 * STEP)
    with pytest.raises(TotpInvalid) as refused:
        two_factor.confirm_enrolment(session, user, wrong, settings=settings, now=T0)
    assert refused.value.attempts_left == 4
    assert not two_factor.is_enabled(session, user)
    recovery = two_factor.confirm_enrolment(session, user, code(enrolment.secret, T0), settings=settings, now=T0)
    assert two_factor.is_enabled(session, user)
    assert len(recovery) == 10 and len(set(recovery)) == 10
    assert two_factor.recovery_codes_left(session, user) == 10
    with pytest.raises(TwoFactorState):
        two_factor.start_enrolment(session, user, settings=settings, now=T0)


def test_the_secret_and_the_recovery_codes_are_not_stored_in_the_clear(session: Session, engine: Engine,
                                                                       settings: Settings) -> None:
    user = person(session, 1)
    secret, recovery = enrolled(session, settings, user)
    with Session(engine) as fresh:
        stored = fresh.get(TwoFactor, user.id)
        assert stored is not None
        hashes = list(fresh.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)))
    raw = base64.b32decode(secret)
    assert secret.encode() not in stored.wrapped_secret and raw not in stored.wrapped_secret
    assert secret.lower().encode() not in stored.wrapped_secret
    assert len(hashes) == 10
    assert not {c.replace("-", "") for c in recovery} & set(hashes) and not set(recovery) & set(hashes)


def test_a_code_is_accepted_once_and_the_same_step_again_is_refused(session: Session, settings: Settings) -> None:
    user = person(session, 1)
    secret, _recovery = enrolled(session, settings, user)
    now_code = code(secret, T0)
    assert two_factor.verify(session, user, now_code, settings=settings, now=T0) == "totp"
    session.commit()
    with pytest.raises(TotpReused):
        two_factor.verify(session, user, now_code, settings=settings, now=T0 + timedelta(seconds=5))
    # the previous step's code is older than the one accepted: refused as well
    with pytest.raises(TotpReused):
        two_factor.verify(session, user, code(secret, T0 - STEP), settings=settings, now=T0 + timedelta(seconds=5))
    assert two_factor.verify(session, user, code(secret, T0 + STEP), settings=settings, now=T0 + STEP) == "totp"


def test_the_previous_steps_code_is_accepted_and_one_from_two_steps_ago_is_refused(session: Session,
                                                                                  settings: Settings) -> None:
    user = person(session, 1)
    secret, _recovery = enrolled(session, settings, user)
    with pytest.raises(TotpInvalid):
        two_factor.verify(session, user, code(secret, T0 - 2 * STEP), settings=settings, now=T0)
    assert two_factor.verify(session, user, code(secret, T0 - STEP), settings=settings, now=T0) == "totp"


def test_a_step_taken_by_a_parallel_request_is_refused_even_with_a_stale_row(engine: Engine,
                                                                            settings: Settings) -> None:
    with Session(engine, expire_on_commit=False) as setup:
        user = person(setup, 1)
        secret, _recovery = enrolled(setup, settings, user)
    the_code = code(secret, T0)
    with Session(engine) as first, Session(engine) as second:
        first_user = first.get(User, user.id)
        assert first_user is not None and first.get(TwoFactor, user.id) is not None  # loaded before the other
        second_user = second.get(User, user.id)
        assert second_user is not None
        two_factor.verify(second, second_user, the_code, settings=settings, now=T0)
        second.commit()
        with pytest.raises(TotpReused):
            two_factor.verify(first, first_user, the_code, settings=settings, now=T0)


def test_a_recovery_code_works_once_and_not_twice(session: Session, settings: Settings) -> None:
    user = person(session, 1)
    _secret, recovery = enrolled(session, settings, user)
    typed = recovery[3].upper().replace("-", " ")  # case and separators as a person may type them
    assert two_factor.verify(session, user, typed, settings=settings, now=T0, allow_recovery=True) == "recovery"
    session.commit()
    with pytest.raises(TotpInvalid):
        two_factor.verify(session, user, recovery[3], settings=settings, now=T0, allow_recovery=True)
    assert two_factor.recovery_codes_left(session, user) == 9
    with pytest.raises(TotpInvalid):  # where only the authenticator counts, a recovery code is just wrong
        two_factor.verify(session, user, recovery[4], settings=settings, now=T0)


def test_five_wrong_codes_in_a_row_lock_the_factor_for_a_quarter_of_an_hour(session: Session,
                                                                           settings: Settings) -> None:
    user = person(session, 1)
    secret, _recovery = enrolled(session, settings, user)
    wrong = code(secret, T0 + 10 * STEP)
    for left in (4, 3, 2, 1):
        with pytest.raises(TotpInvalid) as refused:
            two_factor.verify(session, user, wrong, settings=settings, now=T0)
        assert refused.value.attempts_left == left
    with pytest.raises(TotpLocked):
        two_factor.verify(session, user, wrong, settings=settings, now=T0)
    session.commit()
    later = T0 + timedelta(minutes=14)
    with pytest.raises(TotpLocked) as locked:  # even the right code waits for the lock to pass
        two_factor.verify(session, user, code(secret, later), settings=settings, now=later)
    assert 0 < locked.value.retry_after <= 60
    after = T0 + timedelta(minutes=15, seconds=1)
    assert two_factor.verify(session, user, code(secret, after), settings=settings, now=after) == "totp"


def test_turning_it_off_needs_the_password_and_a_current_code(session: Session, settings: Settings) -> None:
    user = person(session, 1)
    user.password_hash = passwords.hash_password(PASSWORD)
    secret, _recovery = enrolled(session, settings, user)
    with pytest.raises(FieldError) as wrong_password:
        two_factor.disable(session, user, "not the password", code(secret, T0), settings=settings, now=T0)
    assert wrong_password.value.code == "PASSWORD-WRONG"
    with pytest.raises(TotpInvalid):
        two_factor.disable(session, user, PASSWORD, code(secret, T0 + 10 * STEP), settings=settings, now=T0)
    assert two_factor.is_enabled(session, user)
    two_factor.disable(session, user, PASSWORD, code(secret, T0), settings=settings, now=T0)
    session.commit()
    assert not two_factor.is_enabled(session, user)
    assert two_factor.recovery_codes_left(session, user) == 0
    with pytest.raises(TwoFactorState):
        two_factor.verify(session, user, code(secret, T0 + STEP), settings=settings, now=T0 + STEP)


def test_new_recovery_codes_need_a_current_code_and_retire_the_old_ones(session: Session,
                                                                        settings: Settings) -> None:
    user = person(session, 1)
    secret, old = enrolled(session, settings, user)
    with pytest.raises(TotpInvalid):
        two_factor.regenerate_recovery_codes(session, user, old[0], settings=settings, now=T0)
    new = two_factor.regenerate_recovery_codes(session, user, code(secret, T0), settings=settings, now=T0)
    session.commit()
    assert len(new) == 10 and not set(new) & set(old)
    with pytest.raises(TotpInvalid):
        two_factor.verify(session, user, old[1], settings=settings, now=T0, allow_recovery=True)
    assert two_factor.verify(session, user, new[1], settings=settings, now=T0, allow_recovery=True) == "recovery"


def test_the_second_step_of_a_login_takes_a_code_once_and_for_five_minutes(session: Session,
                                                                          settings: Settings) -> None:
    user = person(session, 1)
    secret, _recovery = enrolled(session, settings, user)
    challenge = logins.start_challenge(session, user, HERE)
    session.commit()
    with pytest.raises(TotpInvalid):
        logins.complete_challenge(session, challenge.token, code(secret, T0 + 10 * STEP), HERE, settings=settings)
    session.commit()
    signed_in, event = logins.complete_challenge(session, challenge.token, code(secret, T0), HERE, settings=settings)
    session.commit()
    assert signed_in.id == user.id and event.result == LoginResult.SUCCESS and event.second_factor == "totp"
    results = [e.result for e in logins.history(session, user)]
    assert results == [LoginResult.WRONG_CODE, LoginResult.SUCCESS]  # newest first
    with pytest.raises(LoginChallengeExpired):  # used
        logins.complete_challenge(session, challenge.token, code(secret, T0 + STEP), HERE, settings=settings)
    late = logins.start_challenge(session, user, HERE)
    session.commit()
    after = logins.Attempt(HERE.ip, HERE.user_agent, T0 + timedelta(minutes=5))
    with pytest.raises(LoginChallengeExpired):
        logins.complete_challenge(session, late.token, code(secret, after.now), after, settings=settings)


def test_this_wasnt_me_ends_every_session_of_the_account_and_no_one_elses(session: Session,
                                                                         settings: Settings) -> None:
    user, other = person(session, 1), person(session, 2)
    opened = [sessions.start_session(session, user, HERE.ip, HERE.user_agent) for _ in range(3)]
    theirs = sessions.start_session(session, other, HERE.ip, HERE.user_agent)
    event = logins.record(session, user, LoginResult.SUCCESS, HERE, session_id=opened[0].record.id)
    foreign = logins.record(session, other, LoginResult.SUCCESS, HERE)
    session.commit()
    with pytest.raises(LoginEventNotFound):
        logins.report_not_me(session, user, foreign.id, now=T0)
    assert logins.report_not_me(session, user, event.id, now=T0) == 3
    session.commit()
    session.expire_all()  # read what was stored
    assert all(session.get(UserSession, o.record.id).end_reason == "not_me" for o in opened)  # type: ignore[union-attr]
    assert session.get(UserSession, theirs.record.id).ended_at is None  # type: ignore[union-attr]
    assert session.get(LoginEvent, event.id).reported_at is not None  # type: ignore[union-attr]
    assert session.get_one(User, user.id).password_reset_required  # the old password no longer opens the account
    assert not session.get_one(User, other.id).password_reset_required


def test_a_wrong_password_is_recorded_for_an_existing_account_only(session: Session) -> None:
    user = person(session, 1)
    assert logins.record_refused(session, "nobody@example.ru", LoginResult.WRONG_PASSWORD, HERE) is None
    recorded = logins.record_refused(session, user.email, LoginResult.WRONG_PASSWORD, HERE)
    assert recorded is not None and recorded.result == LoginResult.WRONG_PASSWORD and recorded.ip == HERE.ip


def test_ending_a_session_by_id_is_for_the_accounts_own_sessions_only(session: Session) -> None:
    user, other = person(session, 1), person(session, 2)
    mine = sessions.start_session(session, user, HERE.ip, HERE.user_agent)
    theirs = sessions.start_session(session, other, HERE.ip, HERE.user_agent)
    with pytest.raises(SessionNotFound):
        sessions.end_own_session(session, user.id, theirs.record.id, now=T0)
    assert theirs.record.ended_at is None
    assert sessions.end_own_session(session, user.id, mine.record.id, now=T0).ended_at == T0
