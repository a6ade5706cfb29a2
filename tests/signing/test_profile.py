"""A person's INN and SNILS (the check digits), the profile's details, the address and phone changes confirmed by
a code, and the signing certificate that follows the profile."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from signing import codes, profile
from signing.certificates import signing_identity
from signing.config import DEV_KEY_ENCRYPTION_KEY, Settings
from signing.errors import CodeExpired, CodeInvalid, FieldError, ValidationFailed
from signing.mail import read_outbox
from signing.models import OutboxMessage
from signing.personal_ids import format_snils, normalize_person_inn, normalize_snils, snils_check_digits
from signing.pki import INN_OID, SNILS_OID, load_issuing_ca, parse_kek
from signing.sms import OutboxSms
from tests.conftest import make_user

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
KEK = parse_kek(DEV_KEY_ENCRYPTION_KEY)
POLICY = codes.CodePolicy(secret=b"test-secret", resend_after=timedelta(0))


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


# ---------------------------------------------------------------- SNILS and INN


@pytest.mark.parametrize(("first_nine", "total", "check"), [
    ("112233445", 95, "95"),    # below 100: the sum itself
    ("001079190", 99, "99"),
    ("001166299", 100, "00"),   # exactly 100: «00»
    ("001348436", 101, "00"),   # exactly 101: «00»
    ("001277165", 102, "01"),   # above 101: modulo 101
    ("016988461", 201, "00"),   # modulo 101 gives 100: «00» again
])
def test_snils_check_digits_follow_the_weights_and_the_100_101_rule(first_nine: str, total: int, check: str) -> None:
    assert sum(int(d) * w for d, w in zip(first_nine, range(9, 0, -1), strict=True)) == total
    assert snils_check_digits(first_nine) == check


@pytest.mark.parametrize("typed", ["112-233-445 95", "11223344595", " 112 233 445 95 ", "112-233-445-95"])
def test_snils_is_accepted_in_the_usual_spellings_and_stored_as_digits(typed: str) -> None:
    assert normalize_snils(typed) == "11223344595"
    assert format_snils("11223344595") == "112-233-445 95"


def test_a_snils_whose_sum_is_100_or_101_needs_00() -> None:
    assert normalize_snils("001-166-299 00") == "00116629900"
    assert normalize_snils("001-348-436 00") == "00134843600"
    for wrong in ("001-166-299 10", "001-348-436 01"):  # the sum's own digits are not the check digits here
        with pytest.raises(FieldError):
            normalize_snils(wrong)


@pytest.mark.parametrize(("typed", "reason"), [
    ("112-233-445 96", "checksum"),
    ("112-233-445 9", "length"),
    ("112-233-445 955", "length"),
    ("112-233-44a 95", "length"),
    ("١١٢٢٣٣٤٤٥٩٥", "length"),  # Arabic-Indic digits are digits to Python, not to the service
])
def test_a_wrong_snils_is_refused_with_its_reason(typed: str, reason: str) -> None:
    with pytest.raises(FieldError) as caught:
        normalize_snils(typed)
    assert (caught.value.field, caught.value.code, caught.value.params["reason"]) == ("snils", "SNILS-INVALID", reason)


def test_an_empty_snils_or_inn_means_none() -> None:
    assert normalize_snils("  ") is None and normalize_person_inn("") is None


def test_a_persons_inn_has_twelve_digits_with_valid_check_digits() -> None:
    assert normalize_person_inn("5001 0073 2259") == "500100732259"
    wrong = (("500100732258", "checksum"), ("7707083893", "person-length"), ("50010073225", "person-length"))
    for typed, reason in wrong:
        with pytest.raises(FieldError) as caught:
            normalize_person_inn(typed)
        assert (caught.value.code, caught.value.params["reason"]) == ("INN-INVALID", reason)


# ---------------------------------------------------------------- details


def test_details_are_saved_together_or_not_at_all(session: Session) -> None:
    user = make_user(session)
    with pytest.raises(ValidationFailed) as caught:
        profile.update_details(session, user, profile.PersonalDetails("Петров", "500100732258", "112-233-445 96"))
    assert sorted(e.field for e in caught.value.errors) == ["full_name", "inn", "snils"]
    assert (user.full_name, user.inn, user.snils) == ("Петров Пётр Петрович", None, None)
    profile.update_details(session, user, profile.PersonalDetails("Петров  Пётр", "500100732259", "112-233-445 95"))
    assert (user.full_name, user.inn, user.snils) == ("Петров Пётр", "500100732259", "11223344595")
    profile.update_details(session, user, profile.PersonalDetails("Петров Пётр", "", ""))
    assert (user.inn, user.snils) == (None, None)


def test_the_database_refuses_an_inn_or_snils_of_the_wrong_length(session: Session) -> None:
    from sqlalchemy.exc import IntegrityError

    user = make_user(session)
    user.inn = "12345"
    with pytest.raises(IntegrityError):
        session.flush()


# ---------------------------------------------------------------- address and phone


def test_the_address_changes_only_with_the_code_and_the_old_address_is_told(session: Session) -> None:
    user = make_user(session)
    other = make_user(session, email="taken@example.ru", phone="+79160000000")
    with pytest.raises(FieldError) as caught:
        profile.request_email_change(session, POLICY, user, other.email)
    assert caught.value.code == "EMAIL-TAKEN"
    with pytest.raises(FieldError) as caught:
        profile.request_email_change(session, POLICY, user, "P@example.ru")
    assert caught.value.code == "EMAIL-SAME"
    issued = profile.request_email_change(session, POLICY, user, "New@Example.ru")
    assert (user.email, user.pending_email) == ("p@example.ru", "new@example.ru")
    wrong = "000000" if issued.plain != "000000" else "111111"
    with pytest.raises(CodeInvalid):
        profile.confirm_email_change(session, POLICY, user, wrong, now=NOW)
    assert user.email == "p@example.ru"
    assert profile.confirm_email_change(session, POLICY, user, issued.plain, now=NOW) == "p@example.ru"
    assert (user.email, user.pending_email) == ("new@example.ru", None)
    notice = session.scalars(select(OutboxMessage)).one()
    assert notice.recipient == "p@example.ru" and "new@example.ru" in notice.body
    with pytest.raises(CodeExpired):  # nothing waits any more
        profile.confirm_email_change(session, POLICY, user, issued.plain, now=NOW)


def test_an_address_taken_by_someone_else_while_the_code_travelled_is_refused(session: Session) -> None:
    user = make_user(session)
    issued = profile.request_email_change(session, POLICY, user, "new@example.ru")
    make_user(session, email="new@example.ru", phone="+79160000000")
    with pytest.raises(FieldError) as caught:
        profile.confirm_email_change(session, POLICY, user, issued.plain, now=NOW)
    assert caught.value.code == "EMAIL-TAKEN"


def test_the_phone_changes_only_with_the_code_sent_to_it(session: Session) -> None:
    user = make_user(session)
    with pytest.raises(FieldError) as caught:
        profile.request_phone_change(session, POLICY, user, "8 916 111-22-33")
    assert caught.value.code == "PHONE-SAME"
    issued = profile.request_phone_change(session, POLICY, user, "+7 (916) 555-44-33")
    assert (user.phone, user.pending_phone) == ("+79161112233", "+79165554433")
    assert profile.confirm_phone_change(session, POLICY, user, issued.plain, now=NOW) == "+79161112233"
    assert (user.phone, user.pending_phone) == ("+79165554433", None)
    notice = session.scalars(select(OutboxMessage)).one()
    assert notice.recipient == user.email and "+7 *** ***-44-33" in notice.body


# ---------------------------------------------------------------- the certificate


def test_the_certificate_names_the_profiles_inn_and_snils_and_is_reissued_when_they_change(
    session: Session, certs_dir: Path
) -> None:
    ca = load_issuing_ca(Settings(certs_dir=certs_dir, base_url="https://podpisant.example"))
    user = make_user(session)
    first = signing_identity(session, user, ca, KEK, now=NOW).certificate
    assert first.subject.get_attributes_for_oid(INN_OID) == []
    profile.update_details(session, user, profile.PersonalDetails(user.full_name, "500100732259", "11223344595"))
    second = signing_identity(session, user, ca, KEK, now=NOW).certificate
    assert second.serial_number != first.serial_number
    assert _attribute(second, INN_OID) == "500100732259" and _attribute(second, SNILS_OID) == "11223344595"
    assert signing_identity(session, user, ca, KEK, now=NOW).certificate.serial_number == second.serial_number


def _attribute(certificate: x509.Certificate, oid: x509.ObjectIdentifier) -> str:
    return str(certificate.subject.get_attributes_for_oid(oid)[0].value)


def test_without_a_gateway_an_sms_lands_in_the_development_outbox(tmp_path: Path) -> None:
    OutboxSms(tmp_path).send("+79165554433", "Подписант: код 123456")
    [message] = read_outbox(tmp_path)
    assert message["To"].addresses[0].addr_spec == "+79165554433@sms.podpisant.local"
    assert "123456" in message.get_content()
