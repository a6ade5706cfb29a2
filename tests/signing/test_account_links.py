"""A counterparty who signed without an account registers afterwards: confirming the address gives the new account
the signatory places held under it, and no one else's."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from signing import accounts, codes, documents
from signing.models import SignatoryState
from tests.signing.document_fixtures import add_signatory, drafted, person

POLICY = codes.CodePolicy(secret=b"unit-test-secret")
ANNA = accounts.Registration(
    full_name="Сидорова Анна Ивановна", email="anna.sidorova@example.ru", phone="+7 916 555-44-33",
    password="сирень-цветёт-в-мае-1987", password_confirm="сирень-цветёт-в-мае-1987", consent=True,
)


def test_confirming_the_address_links_the_signatory_places_held_under_it(engine: Engine) -> None:
    with Session(engine) as session:
        initiator = person(session, 1)
        signed = drafted(session, initiator)
        mine = add_signatory(session, signed, "Anna.Sidorova@Example.RU", state=SignatoryState.SIGNED)
        someone_else = add_signatory(session, signed, "other@example.ru")
        anna, issued = accounts.register(session, POLICY, ANNA)
        assert mine.user_id is None  # registering alone proves nothing about the address
        accounts.confirm_email(session, POLICY, anna.id, issued.plain)
        session.commit()
        assert mine.user_id == anna.id and someone_else.user_id is None
        assert [d.id for d in documents.visible_documents(session, anna).items] == [signed.id]


def test_an_unconfirmed_account_or_a_place_linked_already_is_left_alone(engine: Engine) -> None:
    with Session(engine) as session:
        initiator, holder = person(session, 1), person(session, 2)
        document = drafted(session, initiator)
        held = add_signatory(session, document, "anna.sidorova@example.ru", user=holder)
        free = add_signatory(session, document, "anna.sidorova@example.ru")
        anna, _issued = accounts.register(session, POLICY, ANNA)
        assert accounts.link_signatories(session, anna) == 0 and [free.user_id] == [None]
        anna.email_confirmed_at = anna.created_at
        assert accounts.link_signatories(session, anna) == 1
        assert (held.user_id, free.user_id) == (holder.id, anna.id)
