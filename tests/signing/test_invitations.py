"""Personal links: 256 random bits stored only as a hash, bound to one signatory and one revision, valid until
the deadline, dead once the signatory is done, the revision is superseded or the round is over."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from signing import invitations, rounds
from signing.clock import utcnow
from signing.config import Settings
from signing.errors import InvitationExpired, InvitationInvalid
from signing.models import Invitation
from tests.conftest import MailSink
from tests.signing.round_fixtures import (
    counterparties,
    deliver_all,
    link_token,
    person,
    sent_round,
    session_fixture,  # noqa: F401 - fixture `session`
    sign_with_code,
    signatory_for,
    text_of,
)


def _mailed_token(engine: Engine, settings: Settings, mail: MailSink, email: str) -> str:
    deliver_all(engine, settings)
    return link_token(mail.wait_for(email)[-1])


def test_each_signatory_gets_a_link_to_their_own_place_in_the_round(
    session: Session, engine: Engine, settings: Settings, mail: MailSink
) -> None:
    document = sent_round(session, settings, person(session, 1), counterparties(2))
    deliver_all(engine, settings)
    for email in ("party1@example.org", "party2@example.org"):
        [invitation] = mail.wait_for(email)
        token = link_token(invitation)
        assert f"{settings.base_url}/s/{token}" in text_of(invitation)
        assert invitations.open(session, token, now=utcnow()) is signatory_for(document, email)


def test_a_token_has_256_random_bits_and_is_stored_only_as_its_sha256(
    session: Session, engine: Engine, settings: Settings, mail: MailSink
) -> None:
    sent_round(session, settings, person(session, 1), counterparties(1))
    token = _mailed_token(engine, settings, mail, "party1@example.org")
    assert len(token) == 43  # 32 bytes, URL-safe base64 without padding
    stored = session.scalars(select(Invitation)).one()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr([getattr(stored, c.key) for c in Invitation.__table__.columns])


@pytest.mark.parametrize("token", ["", "x", "A" * 43, "A" * 5000, "../../etc/passwd", "ё" * 43])
def test_an_unknown_or_malformed_token_is_invalid(session: Session, token: str) -> None:
    with pytest.raises(InvitationInvalid):
        invitations.open(session, token, now=utcnow())


def test_a_link_works_until_the_deadline_and_not_from_then_on(
    session: Session, engine: Engine, settings: Settings, mail: MailSink
) -> None:
    deadline = utcnow() + timedelta(days=3)
    document = sent_round(session, settings, person(session, 1), counterparties(1), deadline=deadline)
    token = _mailed_token(engine, settings, mail, "party1@example.org")
    assert invitations.open(session, token, now=deadline - timedelta(seconds=1)) is document.signatories[0]
    with pytest.raises(InvitationExpired):
        invitations.open(session, token, now=deadline)


def test_a_link_of_an_expired_round_says_so(session: Session, engine: Engine, settings: Settings,
                                            mail: MailSink) -> None:
    deadline = utcnow() + timedelta(days=1)
    sent_round(session, settings, person(session, 1), counterparties(1), deadline=deadline)
    token = _mailed_token(engine, settings, mail, "party1@example.org")
    assert rounds.expire_due(session, now=deadline) == 1
    session.commit()
    with pytest.raises(InvitationExpired):
        invitations.open(session, token, now=deadline - timedelta(hours=1))


def test_a_link_stops_working_once_its_signatory_has_signed(
    session: Session, engine: Engine, settings: Settings, mail: MailSink
) -> None:
    document = sent_round(session, settings, person(session, 1), counterparties(2))
    token = _mailed_token(engine, settings, mail, "party1@example.org")
    sign_with_code(session, signatory_for(document, "party1@example.org"), settings, mail)
    with pytest.raises(InvitationInvalid):
        invitations.open(session, token, now=utcnow())


def test_links_stop_working_when_the_round_is_withdrawn(
    session: Session, engine: Engine, settings: Settings, mail: MailSink
) -> None:
    initiator = person(session, 1)
    document = sent_round(session, settings, initiator, counterparties(1))
    token = _mailed_token(engine, settings, mail, "party1@example.org")
    rounds.withdraw(session, document, initiator, now=utcnow(), ip=None)
    session.commit()
    with pytest.raises(InvitationInvalid):
        invitations.open(session, token, now=utcnow())
