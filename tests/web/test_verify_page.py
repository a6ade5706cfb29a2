"""/verify: anyone uploads a PDF and reads a report per signature, in Russian or English, or as JSON."""

from __future__ import annotations

import io
import re
from functools import cache

import pytest
from flask.testing import FlaskClient
from pyhanko.sign.timestamps import TimeStamper
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from signing.certificates import revoke_certificate, signing_identity
from signing.clock import utcnow
from signing.config import Settings
from signing.models import PublishedCrl, SignerCertificate
from signing.pades import sign_field
from signing.pades.identity import SignerIdentity
from signing.pades.timestamps import dev_timestamper
from signing.pki import load_issuing_ca, parse_kek
from tests.conftest import csrf_from, make_user
from tests.support.pades import CERTS_DIR, PASSPHRASE, person_identity, plain_pdf, with_fields

SIGNERS = ("Иванова Мария Сергеевна", "Петров Пётр Петрович")
MOMENT_MSK = re.compile(r"\d\d\.\d\d\.\d{4} \d\d:\d\d МСК")


@cache
def _timestamper() -> TimeStamper:
    return dev_timestamper(CERTS_DIR, PASSPHRASE)


def _signed(identities: list[SignerIdentity]) -> bytes:
    names = [f"signer{n}" for n in range(len(identities))]
    pdf = with_fields(plain_pdf(2), names)
    for name, identity in zip(names, identities, strict=True):
        pdf = sign_field(pdf, name, identity, timestamper=_timestamper())
    return pdf


@cache
def _two_signatures() -> tuple[bytes, tuple[str, ...]]:
    identities = [person_identity(name) for name in SIGNERS]
    return _signed(identities), tuple(f"{i.certificate.serial_number:X}" for i in identities)


def _upload(client: FlaskClient, data: bytes, *, filename: str = "act.pdf", **headers: str) -> TestResponse:
    token = csrf_from(client.get("/verify").get_data(as_text=True))
    form = {"csrf_token": token, "file": (io.BytesIO(data), filename)}
    return client.post("/verify", data=form, content_type="multipart/form-data", headers=headers)


def _crls_published(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(PublishedCrl)) or 0)


def test_the_verify_page_is_public_and_asks_for_a_pdf(client: FlaskClient) -> None:
    response = client.get("/verify")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'type="file"' in html and 'enctype="multipart/form-data"' in html and "csrf_token" in html


def test_two_valid_signatures_are_reported_with_signer_certificate_times_and_checks(client: FlaskClient) -> None:
    pdf, serials = _two_signatures()
    response = _upload(client, pdf)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-verdict="valid"' in html and "Все подписи действительны" in html
    assert html.count('data-testid="signature"') == 2
    for name, serial in zip(SIGNERS, serials, strict=True):
        assert name in html and f"<code data-serial>{serial}</code>" in html
    assert "Podpisant Dev Issuing CA" in html
    assert len(MOMENT_MSK.findall(html)) == 4  # claimed time and timestamp time of each signature
    assert html.count('data-check="trusted" class="yes"') == 2 and "доверенный" in html
    assert html.count('data-check="revoked" class="yes"') == 2 and "не отозван" in html
    assert 'data-coverage="entire_revision"' in html and 'data-coverage="entire_file"' in html
    assert "заполнение полей и следующие подписи" in html  # what changed after the first signature
    assert "заверяющая подпись" in html  # the first signature certifies (DocMDP)
    assert html.count("<dd data-pades-level>B-T</dd>") == 2


def test_a_tampered_pdf_is_invalid_with_the_reason_in_words(client: FlaskClient) -> None:
    pdf, _ = _two_signatures()
    tampered = pdf.replace(b"Act No. 1, page 1", b"Act No. 9, page 1", 1)
    assert tampered != pdf
    html = _upload(client, tampered).get_data(as_text=True)
    assert 'data-verdict="invalid"' in html and "Документ не прошёл проверку" in html
    assert 'data-reason="SIG-NOT-INTACT"' in html and "Подписанные данные изменены после подписания." in html
    assert 'data-check="intact" class="no"' in html


def test_a_revoked_certificate_makes_the_document_invalid(
    client: FlaskClient, engine: Engine, settings: Settings
) -> None:
    ca = load_issuing_ca(settings)
    with Session(engine) as session:
        identity = signing_identity(session, make_user(session), ca, parse_kek(settings.key_encryption_key),
                                    now=utcnow())
        row_id = session.scalars(select(SignerCertificate.id)).one()
        session.commit()
    pdf = _signed([identity])
    with Session(engine) as session:
        revoke_certificate(session, row_id, "keyCompromise", ca, now=utcnow())
        session.commit()
    html = _upload(client, pdf).get_data(as_text=True)
    assert 'data-verdict="invalid"' in html and 'data-reason="CERT-REVOKED"' in html
    assert 'data-check="revoked" class="no"' in html and "Сертификат подписанта отозван." in html


def test_an_unsigned_pdf_is_reported_as_such(client: FlaskClient) -> None:
    html = _upload(client, plain_pdf()).get_data(as_text=True)
    assert 'data-verdict="unsigned"' in html and "В документе нет подписей" in html


@pytest.mark.parametrize(
    ("data", "status", "code", "words"),
    [
        (b"GIF89a this is not a document", 422, "PDF-NOT-PDF", "Файл не является PDF."),
        (b"%PDF-1.7\n1 0 obj << /Type /Catalog", 422, "PDF-CORRUPT", "PDF повреждён или обрезан."),
    ],
)
def test_a_file_that_is_not_a_readable_pdf_is_refused_at_the_file_field(
    client: FlaskClient, engine: Engine, data: bytes, status: int, code: str, words: str
) -> None:
    response = _upload(client, data)
    html = response.get_data(as_text=True)
    assert response.status_code == status
    assert 'data-field-error="file"' in html and words in html
    assert f'data-error-code="{code}"' in html and "data-reference" in html
    assert "data-testid=\"verify-report\"" not in html
    assert _crls_published(engine) == 0  # refused before anything else was touched


def test_a_pdf_over_the_limit_is_refused_as_too_large(client: FlaskClient) -> None:
    big = plain_pdf(padding_bytes=5 * 1024 * 1024 + 10)
    response = _upload(client, big)
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert 'data-field-error="file"' in html and 'data-error-code="PDF-TOO-LARGE"' in html


def test_a_request_over_the_upload_cap_gets_the_413_page(client: FlaskClient) -> None:
    response = _upload(client, b"%PDF-1.7\n" + b"0" * (17 * 1024 * 1024))
    assert response.status_code == 413 and 'data-error-code="413"' in response.get_data(as_text=True)


def test_posting_without_a_file_asks_for_one(client: FlaskClient) -> None:
    token = csrf_from(client.get("/verify").get_data(as_text=True))
    response = client.post("/verify", data={"csrf_token": token}, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'data-field-error="file"' in html and "Заполните это поле." in html


def test_a_post_without_the_csrf_token_is_refused(client: FlaskClient) -> None:
    response = client.post("/verify", data={"file": (io.BytesIO(plain_pdf()), "a.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and 'data-error-code="CSRF-FAILED"' in response.get_data(as_text=True)


def test_json_clients_get_the_engines_report(client: FlaskClient) -> None:
    pdf, serials = _two_signatures()
    response = _upload(client, pdf, Accept="application/json")
    body = response.get_json()
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert body["verdict"] == "valid" and body["signature_count"] == 2
    assert [s["certificate_serial"] for s in body["signatures"]] == list(serials)
    assert [s["signer_name"] for s in body["signatures"]] == list(SIGNERS)
    assert all(s["trusted"] and s["intact"] and s["pades_level"] == "B-T" for s in body["signatures"])


def test_json_clients_get_a_refusal_as_an_error_payload(client: FlaskClient) -> None:
    response = _upload(client, b"not a pdf at all", Accept="application/json")
    body = response.get_json()
    assert response.status_code == 422
    assert body["error"]["code"] == "PDF-NOT-PDF" and body["error"]["reference"].startswith("R-")


def test_the_report_reads_in_english(client: FlaskClient) -> None:
    pdf, _ = _two_signatures()
    html = _upload(client, pdf, **{"Accept-Language": "en"}).get_data(as_text=True)
    assert "All signatures are valid" in html and "Certificate" in html
    assert "Все подписи действительны" not in html
    assert re.search(r"\d\d\.\d\d\.\d{4} \d\d:\d\d MSK", html)


def test_an_htmx_upload_gets_the_fragment_only(client: FlaskClient) -> None:
    pdf, _ = _two_signatures()
    html = _upload(client, pdf, **{"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in html and 'id="verify"' in html and 'data-verdict="valid"' in html
