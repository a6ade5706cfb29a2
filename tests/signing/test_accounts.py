"""Registration rules: every bad field reported at once, nothing stored, normalised identifiers."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from signing import accounts, codes
from signing.errors import AccountNotConfirmed, InvalidCredentials, ValidationFailed
from signing.models import OneTimeCode, User

POLICY = codes.CodePolicy(secret=b"unit-test-secret")
GOOD = accounts.Registration(
    full_name="  Сидорова   Анна Ивановна ", email="Anna.Sidorova@Example.RU", phone="8 (916) 555-44-33",
    password="сирень-цветёт-в-мае-1987", password_confirm="сирень-цветёт-в-мае-1987", consent=True,
)


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_registration_normalises_name_email_and_phone_and_records_consent(engine: Engine) -> None:
    with Session(engine) as session:
        user, issued = accounts.register(session, POLICY, GOOD)
        session.commit()
        assert (user.full_name, user.email, user.phone) == (
            "Сидорова Анна Ивановна", "anna.sidorova@example.ru", "+79165554433")
        assert user.pd_consent_at is not None and user.pd_consent_version == accounts.PD_CONSENT_VERSION
        assert user.password_hash.startswith("$argon2id$")
        assert not user.is_confirmed
        assert len(issued.plain) == 6


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"email": "anna@"}, "email", "EMAIL-INVALID"),
        ({"phone": "+7 916 555"}, "phone", "PHONE-INVALID"),
        ({"phone": "+1 916 555 44 33"}, "phone", "PHONE-INVALID"),
        ({"password": "короткий", "password_confirm": "короткий"}, "password", "PASSWORD-SHORT"),
        ({"password": "qwerty12345", "password_confirm": "qwerty12345"}, "password", "PASSWORD-WEAK"),
        ({"password": "Sidorova1987", "password_confirm": "Sidorova1987"}, "password", "PASSWORD-WEAK"),
        ({"password_confirm": "другой-пароль-совсем"}, "password_confirm", "PASSWORD-MISMATCH"),
        ({"consent": False}, "consent", "CONSENT-REQUIRED"),
        ({"full_name": "Анна"}, "full_name", "NAME-INVALID"),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(engine: Engine, change: dict, field: str, code: str) -> None:
    with Session(engine) as session:
        with pytest.raises(ValidationFailed) as caught:
            accounts.register(session, POLICY, accounts.Registration(**{**GOOD.__dict__, **change}))
        session.rollback()
        assert [(e.field, e.code) for e in caught.value.errors] == [(field, code)]
        assert _count(session, User) == 0 and _count(session, OneTimeCode) == 0


def test_all_field_errors_come_back_together(engine: Engine) -> None:
    bad = accounts.Registration(full_name="", email="x", phone="1", password="1", password_confirm="2",
                                consent=False)
    with Session(engine) as session, pytest.raises(ValidationFailed) as caught:
        accounts.register(session, POLICY, bad)
    assert {e.field for e in caught.value.errors} == {
        "full_name", "email", "phone", "password", "password_confirm", "consent"}


def test_an_email_or_phone_already_registered_is_refused(engine: Engine) -> None:
    with Session(engine) as session:
        accounts.register(session, POLICY, GOOD)
        session.commit()
        again = accounts.Registration(**{**GOOD.__dict__, "email": "ANNA.sidorova@example.ru",
                                         "phone": "+7 916 555 44 33"})
        with pytest.raises(ValidationFailed) as caught:
            accounts.register(session, POLICY, again)
        assert {(e.field, e.code) for e in caught.value.errors} == {
            ("email", "EMAIL-TAKEN"), ("phone", "PHONE-TAKEN")}
        session.rollback()
        assert _count(session, User) == 1


def test_login_by_email_or_phone_and_one_answer_for_unknown_or_wrong(engine: Engine) -> None:
    with Session(engine) as session:
        user, issued = accounts.register(session, POLICY, GOOD)
        with pytest.raises(AccountNotConfirmed):
            accounts.authenticate(session, "anna.sidorova@example.ru", GOOD.password)
        accounts.confirm_email(session, POLICY, user.id, issued.plain)
        session.commit()
        assert accounts.authenticate(session, "ANNA.SIDOROVA@example.ru", GOOD.password).id == user.id
        assert accounts.authenticate(session, "+7 916 555-44-33", GOOD.password).id == user.id
        assert accounts.authenticate(session, "89165554433", GOOD.password).id == user.id
        for login, password in (("anna.sidorova@example.ru", "wrong"), ("nobody@example.ru", GOOD.password),
                                ("+79990000000", GOOD.password), ("garbage", "x")):
            with pytest.raises(InvalidCredentials):
                accounts.authenticate(session, login, password)
