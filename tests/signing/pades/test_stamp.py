"""The visible stamp: Russian wording, real Cyrillic text (ToUnicode), true glyph widths, inside its field,
and a change a certifying first signature (DocMDP fill-forms) allows."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from asn1crypto import keys as asn1_keys
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.generic import IndirectObject
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing.clock import utcnow
from signing.pades.fontengine import FONT_RESOURCE_NAME, text_width
from signing.pades.identity import SignerIdentity
from signing.pades.layout import FieldInfo, SignatorySlot, prepare_for_round, signature_fields
from signing.pades.stamp import FONT_SIZE, STAMP_TITLE, format_signing_time, stamp_style, stamp_text_params
from signing.pades.trust import dev_trust, to_asn1_cert, validation_context
from tests.signing.pades.poppler import Raster, page_text, render, words
from tests.support.pades import CERTS_DIR, PASSPHRASE, dev_pki, person_identity, plain_pdf, with_fields

OWNER = "Кузнецова Анна Викторовна"
LONG_OWNER = "Константинопольская-Воскресенская Александра Вячеславовна Оглы"  # 62 of 64 allowed
SIGNATURE_PAGE = 3  # 1-based: plain_pdf(2) and then the signature page


def _signer(identity: SignerIdentity) -> signers.SimpleSigner:
    key = identity.private_key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    return signers.SimpleSigner(
        signing_cert=to_asn1_cert(identity.certificate),
        signing_key=asn1_keys.PrivateKeyInfo.load(key),
        cert_registry=SimpleCertificateStore.from_certs([to_asn1_cert(c) for c in identity.chain]),
    )


def _sign(pdf: bytes, field: str, identity: SignerIdentity, *, certify: bool = False) -> bytes:
    meta = signers.PdfSignatureMetadata(field_name=field, certify=certify, docmdp_permissions=MDPPerm.FILL_FORMS)
    signer = signers.PdfSigner(meta, _signer(identity), stamp_style=stamp_style())
    out = io.BytesIO()
    signer.sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False),
        output=out,
        existing_fields_only=True,
        appearance_text_params=stamp_text_params(identity.certificate, datetime.now(UTC), ZoneInfo("Europe/Moscow")),
    )
    return out.getvalue()


def _field(pdf: bytes, name: str) -> FieldInfo:
    return next(f for f in signature_fields(pdf) if f.name == name)


@pytest.fixture(scope="module")
def prepared() -> bytes:
    slots = [SignatorySlot("director", OWNER, "ООО «Ромашка»", "Генеральный директор"),
             SignatorySlot("accountant", "Петров Пётр Петрович", "ООО «Ромашка»", "Главный бухгалтер")]
    return prepare_for_round(plain_pdf(2), slots)


@pytest.fixture(scope="module")
def owner() -> SignerIdentity:
    return person_identity(OWNER)


@pytest.fixture(scope="module")
def signed_once(prepared: bytes, owner: SignerIdentity) -> bytes:
    return _sign(prepared, "director", owner, certify=True)


def test_the_stamp_says_who_signed_with_which_certificate_in_extractable_cyrillic(
    signed_once: bytes, owner: SignerIdentity
) -> None:
    text = page_text(signed_once, SIGNATURE_PAGE)
    cert = owner.certificate
    assert STAMP_TITLE in text
    assert f"Владелец: {OWNER}" in text
    assert f"{cert.serial_number:X}" in text.replace(" ", "")
    validity = f"Действителен с {cert.not_valid_before_utc.astimezone(ZoneInfo('Europe/Moscow')):%d.%m.%Y} по"
    assert validity in text


def test_stamp_words_are_as_wide_as_the_font_says_so_nothing_is_letter_spaced(signed_once: bytes) -> None:
    field = _field(signed_once, "director")
    stamp_words = [w for w in words(signed_once, SIGNATURE_PAGE) if w.inside(field.rect)]
    for sample in ("электронной", "Владелец:", OWNER.split()[0]):
        word = next(w for w in stamp_words if w.text == sample)
        expected = text_width(sample, FONT_SIZE)
        assert abs((word.x2 - word.x1) / expected - 1) < 0.1, (sample, word, expected)


def _ink_changes(before: Raster, after: Raster) -> list[tuple[int, int]]:
    return [(x, y) for y in range(after.height) for x in range(after.width)
            if abs(before.at(x, y) - after.at(x, y)) > 40]


def test_the_stamp_inks_its_field_and_nothing_outside_it(prepared: bytes, signed_once: bytes) -> None:
    before, after = render(prepared, SIGNATURE_PAGE), render(signed_once, SIGNATURE_PAGE)
    left, top, right, bottom = after.to_pixels(_field(signed_once, "director").rect, page_height=841.89)
    changed = _ink_changes(before, after)
    assert len(changed) > 500, "the stamp should draw a border and five lines of text"
    outside = [(x, y) for x, y in changed if not (left - 1 <= x <= right + 1 and top - 1 <= y <= bottom + 1)]
    assert outside == []
    dark_inside = sum(1 for y in range(top, bottom) for x in range(left, right) if after.at(x, y) < 128)
    assert dark_inside > 500


def _identity_named(name: str) -> SignerIdentity:
    """A certificate whose CN is `name` at full length: 64 characters, as the service issues them (cryptography
    would otherwise count UTF-8 bytes and refuse more than 32 Cyrillic letters)."""
    pki, key = dev_pki(), ec.generate_private_key(ec.SECP256R1())
    with pytest.warns(UserWarning, match="length"):
        common_name = x509.NameAttribute(NameOID.COMMON_NAME, name, _validate=False)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([common_name]))
        .issuer_name(pki.issuing_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(utcnow() - timedelta(minutes=5))
        .not_valid_after(utcnow() + timedelta(days=365))
        .sign(pki.issuing_key, hashes.SHA256())
    )
    return SignerIdentity(certificate=cert, private_key=key, chain=(pki.issuing_cert, pki.root_cert))


def test_a_long_owner_name_wraps_inside_the_field(prepared: bytes) -> None:
    signed = _sign(prepared, "director", _identity_named(LONG_OWNER))
    field = _field(signed, "director")
    x1, y1, _x2, y2 = field.rect
    stamp_words = [w for w in words(signed, SIGNATURE_PAGE) if w.x1 >= x1 - 1 and w.y2 > y1 and w.y1 < y2]
    assert stamp_words and all(w.inside(field.rect) for w in stamp_words), stamp_words
    assert f"Владелец: {LONG_OWNER}" in page_text(signed, SIGNATURE_PAGE)


def test_the_time_shown_is_the_claimed_signing_time_in_moscow(prepared: bytes) -> None:
    moment = datetime(2026, 3, 5, 21, 30, 15, tzinfo=UTC)  # already 6 March in Moscow
    with time_machine.travel(moment, tick=False):
        signed = _sign(prepared, "director", person_identity(OWNER))
    claimed = PdfFileReader(io.BytesIO(signed)).embedded_signatures[0].self_reported_timestamp
    assert claimed == moment
    assert "Подписано: 06.03.2026 00:30 МСК" in page_text(signed, SIGNATURE_PAGE)


def test_the_appearance_reuses_the_font_embedded_at_preparation(signed_once: bytes) -> None:
    reader = PdfFileReader(io.BytesIO(signed_once))
    prepared_font = reader.root["/AcroForm"]["/DR"]["/Font"].raw_get(f"/{FONT_RESOURCE_NAME}")
    field = reader.embedded_signatures[0].sig_field
    appearance = field["/AP"]["/N"]
    stamp_font = _fonts_used(appearance)
    assert isinstance(prepared_font, IndirectObject)
    assert stamp_font == [prepared_font.reference]
    assert signed_once.count(b"/FontFile2") == 1


def _fonts_used(xobject: object) -> list[object]:
    """References of every font a form XObject (and the XObjects it paints) uses."""
    found: list[object] = []
    resources = xobject.get("/Resources", {})  # type: ignore[attr-defined]
    for value in resources.get("/Font", {}).values():
        found.append(value.reference if isinstance(value, IndirectObject) else value)
    for child in resources.get("/XObject", {}).values():
        found += _fonts_used(child.get_object())
    return list(dict.fromkeys(found))


def test_a_second_signature_after_certification_is_allowed_form_filling(signed_once: bytes) -> None:
    signed_twice = _sign(signed_once, "accountant", person_identity("Петров Пётр Петрович"))
    reader = PdfFileReader(io.BytesIO(signed_twice))
    context = validation_context(dev_trust(CERTS_DIR, PASSPHRASE))
    first, second = (validate_pdf_signature(s, context) for s in reader.embedded_signatures)
    for status in (first, second):
        assert status.intact and status.valid and status.trusted, status.pretty_print_details()
        assert status.docmdp_ok, status.pretty_print_details()
    assert first.modification_level is not None and first.modification_level <= ModificationLevel.FORM_FILLING
    assert reader.embedded_signatures[0].docmdp_level is MDPPerm.FILL_FORMS
    assert [f.signed for f in signature_fields(signed_twice)] == [True, True]
    assert STAMP_TITLE in page_text(signed_twice, SIGNATURE_PAGE).split("Петров Пётр Петрович", 1)[1]


def test_a_field_from_an_unprepared_document_still_gets_a_readable_stamp() -> None:
    signed = _sign(with_fields(plain_pdf(), ["bare"]), "bare", person_identity(OWNER))
    assert f"Владелец: {OWNER}" in page_text(signed, 1)
    assert signed.count(b"/FontFile2") == 1


def test_validity_dates_and_signing_time_are_shown_in_the_service_time_zone() -> None:
    with time_machine.travel(datetime(2026, 1, 1, 22, 5, tzinfo=UTC), tick=False):
        identity = person_identity(OWNER)  # valid from 22:00 UTC, already 2 January in Moscow
    params = stamp_text_params(identity.certificate, datetime(2026, 1, 2, 9, 0, tzinfo=UTC), ZoneInfo("Europe/Moscow"))
    assert params["owner"] == OWNER
    assert params["valid_from"] == "02.01.2026" and params["valid_to"] == "02.01.2027"
    assert params["signed_at"] == "02.01.2026 12:00 МСК"
    assert int(params["serial"], 16) == identity.certificate.serial_number and params["serial"].isupper()
    assert format_signing_time(datetime(2026, 1, 2, 9, 0, tzinfo=UTC), ZoneInfo("Asia/Yekaterinburg")) == (
        "02.01.2026 14:00 UTC+05:00"
    )
