"""Server-side sessions: a fresh token per login, 30 minutes of idleness ends them, logout kills the cookie."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from signing import sessions
from tests.conftest import make_user

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
IDLE = timedelta(minutes=30)


def test_each_login_gets_a_new_token_stored_only_hashed(engine: Engine) -> None:
    with Session(engine) as session:
        user = make_user(session)
        first = sessions.start_session(session, user, "127.0.0.1", "pytest")
        second = sessions.start_session(session, user, "127.0.0.1", "pytest")
        assert first.token != second.token
        assert first.token not in first.record.token_hash


def test_activity_within_thirty_minutes_keeps_the_session_alive(engine: Engine) -> None:
    with Session(engine) as session, time_machine.travel(T0, tick=False) as clock:
        opened = sessions.start_session(session, make_user(session), None, None)
        for minutes in (29, 58, 87):  # each request resets the idle timer
            clock.move_to(T0 + timedelta(minutes=minutes, seconds=59))
            assert sessions.resolve_session(session, opened.token, IDLE) is not None


def test_thirty_minutes_and_one_second_idle_ends_the_session_for_good(engine: Engine) -> None:
    with Session(engine) as session, time_machine.travel(T0, tick=False) as clock:
        opened = sessions.start_session(session, make_user(session), None, None)
        clock.move_to(T0 + IDLE + timedelta(seconds=1))
        assert sessions.resolve_session(session, opened.token, IDLE) is None
        assert opened.record.end_reason == "idle"
        clock.move_to(T0 + IDLE + timedelta(seconds=2))
        assert sessions.resolve_session(session, opened.token, IDLE) is None


def test_an_ended_session_no_longer_resolves(engine: Engine) -> None:
    with Session(engine) as session:
        user = make_user(session)
        opened = sessions.start_session(session, user, None, None)
        other = sessions.start_session(session, user, None, None)
        sessions.end_session(session, opened.token)
        assert sessions.resolve_session(session, opened.token, IDLE) is None
        assert sessions.resolve_session(session, other.token, IDLE) is not None
        assert sessions.end_all_sessions(session, user.id, "reset") == 1
        assert sessions.resolve_session(session, other.token, IDLE) is None
