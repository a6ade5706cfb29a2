"""Input PDFs from other tools: accepted and signable when readable, refused with a specific error otherwise."""

from __future__ import annotations

import hashlib
import io
import os
import re
import subprocess
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from asn1crypto import keys as asn1_keys
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing.clock import utcnow
from signing.config import Settings
from signing.errors import NotAPdf, PdfCorrupt, PdfEncrypted, PdfRejected, PdfTooLarge, PdfTooManyPages, PdfTooSlow
from signing.pades.inputs import PdfFacts, PdfLimits, inspect_pdf, open_for_signing
from signing.pades.trust import dev_trust, to_asn1_cert, validation_context
from signing.pki import load_dev_pki
from tests.signing.pades_io import samples

LIMITS = PdfLimits(max_bytes=5 * 1024 * 1024, max_pages=500, timeout_seconds=20)
PASSPHRASE = Settings().ca_key_passphrase.encode()


def _signer(certs_dir: Path) -> signers.SimpleSigner:
    """A throwaway signer whose certificate the development issuing CA issues right now."""
    pki = load_dev_pki(certs_dir, PASSPHRASE)
    key = ec.generate_private_key(ec.SECP256R1())
    now = utcnow()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Тестов Тест Тестович")]))
        .issuer_name(pki.issuing_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=True, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False,
        ), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(pki.issuing_key.public_key()),
                       critical=False)
        .sign(pki.issuing_key, hashes.SHA256())
    )
    return signers.SimpleSigner(
        signing_cert=to_asn1_cert(cert),
        signing_key=asn1_keys.PrivateKeyInfo.load(key.private_bytes(Encoding.DER, PrivateFormat.PKCS8,
                                                                    NoEncryption())),
        cert_registry=SimpleCertificateStore.from_certs([to_asn1_cert(pki.issuing_cert),
                                                        to_asn1_cert(pki.root_cert)]),
    )


def _rejection(data: bytes, limits: PdfLimits = LIMITS) -> PdfRejected | PdfFacts:
    """The facts, or the PdfRejected raised; any other exception fails the calling test."""
    try:
        return inspect_pdf(data, limits)
    except PdfRejected as exc:
        return exc


# ---------------------------------------------------------------- accepted files


def test_a_plain_pdf_is_accepted_and_described() -> None:
    data = samples.plain_pdf()

    facts = inspect_pdf(data, LIMITS)

    assert facts == PdfFacts(
        page_count=1, size_bytes=len(data), sha256=hashlib.sha256(data).hexdigest(), pdf_version="1.7",
        hybrid_xref=False, revisions=1, signature_field_names=(), signed_field_names=(), has_signatures=False,
        producer="Podpisant test generator", title=None,
    )


def test_the_hybrid_sample_has_a_classic_table_that_omits_what_its_xref_stream_lists(tmp_path: Path) -> None:
    data = samples.hybrid_pdf()
    path = tmp_path / "hybrid.pdf"
    path.write_bytes(data)
    table = re.search(rb"\nxref\n(\d+) (\d+)\n", data)
    trailer = re.search(rb"trailer\n<<(.*?)>>", data, re.DOTALL)

    assert table is not None and table.groups() == (b"0", b"5"), "the classic table covers objects 0-4 only"
    assert trailer is not None and b"/XRefStm" in trailer.group(1)
    xrefs = subprocess.run(["qpdf", "--show-xref", path], capture_output=True, check=True).stdout
    assert b"5/0: compressed; stream = 6, index = 0" in xrefs
    assert b"8/0: compressed; stream = 6, index = 1" in xrefs
    subprocess.run(["qpdf", "--check", path], capture_output=True, check=True)  # well-formed, warnings fail too
    assert PdfFileReader(io.BytesIO(data), strict=False).xrefs.hybrid_xrefs_present


def test_a_hybrid_pdf_is_accepted_with_facts_found_only_through_its_xref_stream() -> None:
    facts = inspect_pdf(samples.hybrid_pdf(), LIMITS)

    assert facts.hybrid_xref
    assert facts.page_count == 1
    assert facts.pdf_version == "1.5"
    assert facts.producer == "Microsoft® Word for Microsoft 365"  # /Info lives in the object stream
    assert facts.title == "Hybrid"


def test_a_hybrid_pdf_opened_for_signing_signs_and_the_signature_validates(certs_dir: Path) -> None:
    writer = open_for_signing(samples.hybrid_pdf())

    signed = signers.sign_pdf(writer, signers.PdfSignatureMetadata(field_name="Signature1"),
                               signer=_signer(certs_dir)).getvalue()

    reader = PdfFileReader(io.BytesIO(signed), strict=False)
    status = validate_pdf_signature(reader.embedded_signatures[0],
                                    validation_context(dev_trust(certs_dir, PASSPHRASE)))
    assert status.intact and status.valid and status.trusted
    facts = inspect_pdf(signed, LIMITS)
    assert (facts.has_signatures, facts.signed_field_names, facts.revisions) == (True, ("Signature1",), 2)


def test_an_empty_signature_field_is_listed_but_not_counted_as_a_signature() -> None:
    writer = open_for_signing(samples.plain_pdf())
    fields.append_signature_field(writer, fields.SigFieldSpec("Подпись1", box=(50, 50, 250, 100)))
    out = io.BytesIO()
    writer.write(out)

    facts = inspect_pdf(out.getvalue(), LIMITS)

    assert (facts.signature_field_names, facts.signed_field_names, facts.has_signatures) == (
        ("Подпись1",), (), False)


def test_garbage_over_page_content_leaves_the_structure_readable_so_the_file_is_accepted() -> None:
    data = samples.plain_pdf()
    start = data.index(b"(Podpisant)")
    damaged = data[:start] + b"\x00\xff\x13garbage!" + data[start + 11:]
    assert len(damaged) == len(data), "overwritten in place: no offset moved"

    assert inspect_pdf(damaged, LIMITS).page_count == 1


def test_limits_come_from_the_settings() -> None:
    limits = PdfLimits.from_settings(Settings(pdf_max_bytes=1000, pdf_max_pages=7, pdf_timeout_seconds=3))

    assert (limits.max_bytes, limits.max_pages, limits.timeout_seconds) == (1000, 7, 3)


def test_five_hundred_pages_are_accepted_under_a_limit_of_five_hundred() -> None:
    assert inspect_pdf(samples.plain_pdf(pages=500), LIMITS).page_count == 500


def test_a_file_exactly_at_the_size_limit_is_accepted() -> None:
    data = samples.plain_pdf()

    assert inspect_pdf(data, PdfLimits(len(data), 500, 20)).size_bytes == len(data)


# ---------------------------------------------------------------- refused files


@pytest.mark.parametrize("user_password", ["user", ""], ids=["with-user-password", "owner-password-only"])
def test_an_encrypted_pdf_is_refused_as_encrypted(user_password: str) -> None:
    data = samples.encrypted_pdf(user_password)

    with pytest.raises(PdfEncrypted):
        inspect_pdf(data, LIMITS)
    with pytest.raises(PdfEncrypted):
        open_for_signing(data)


@pytest.mark.parametrize("cut", [
    pytest.param(lambda data: data[: len(data) // 2], id="half"),
    pytest.param(lambda data: data[:-100], id="last-100-bytes-cut"),
    pytest.param(lambda data: data[:9], id="header-only"),
    pytest.param(lambda data: data[: data.index(b"startxref")], id="before-startxref"),
    pytest.param(lambda data: data[: data.index(b"xref\n")] + data[data.index(b"trailer"):], id="xref-table-removed"),
])
def test_a_truncated_pdf_is_refused_as_corrupt(cut: object) -> None:
    assert callable(cut)
    for source in (samples.plain_pdf(), samples.hybrid_pdf()):
        with pytest.raises(PdfCorrupt):
            inspect_pdf(cut(source), LIMITS)


def test_garbage_inserted_between_objects_shifts_the_offsets_and_is_refused_as_corrupt() -> None:
    data = samples.plain_pdf()
    where = data.index(b"2 0 obj")

    with pytest.raises(PdfCorrupt):
        inspect_pdf(data[:where] + b"\x00garbage\xff" * 20 + data[where:], LIMITS)


def test_garbage_over_the_page_tree_is_refused_as_corrupt() -> None:
    data = samples.plain_pdf()
    where = data.index(b"2 0 obj")

    with pytest.raises(PdfCorrupt):
        inspect_pdf(data[:where] + b"#" * 40 + data[where + 40:], LIMITS)


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("договор.txt", "Договор оказания услуг " * 100)
    return out.getvalue()


@pytest.mark.parametrize("data", [
    pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00", id="png"),
    pytest.param(b"", id="empty"),
    pytest.param("<!DOCTYPE html><html><body>Договор</body></html>".encode(), id="html"),
    pytest.param(_zip(), id="zip"),
    pytest.param(b" " * 1024 + samples.plain_pdf(), id="header-after-1024-bytes"),
])
def test_input_that_is_not_a_pdf_is_refused_as_not_a_pdf(data: bytes) -> None:
    with pytest.raises(NotAPdf):
        inspect_pdf(data, LIMITS)


def test_a_header_after_leading_junk_is_a_pdf_but_unreadable_so_it_is_refused_as_corrupt() -> None:
    with pytest.raises(PdfCorrupt):
        inspect_pdf(b"junk\r\n" + samples.plain_pdf(), LIMITS)


def test_a_file_over_the_size_limit_is_refused_before_it_is_parsed() -> None:
    data = samples.plain_pdf()
    started = time.monotonic()

    with pytest.raises(PdfTooLarge) as refused:
        inspect_pdf(data, PdfLimits(len(data) - 1, 500, 20), reader=samples.hog_memory)

    assert refused.value.params == {"size": len(data), "limit": len(data) - 1}
    assert time.monotonic() - started < 0.05, "no child process was needed"


def test_five_hundred_and_one_pages_are_refused_under_a_limit_of_five_hundred() -> None:
    with pytest.raises(PdfTooManyPages) as refused:
        inspect_pdf(samples.plain_pdf(pages=501), LIMITS)

    assert refused.value.params == {"pages": 501, "limit": 500}
    assert refused.value.code == "PDF-TOO-MANY-PAGES"


def test_a_page_tree_that_holds_more_pages_than_its_count_says_is_refused_as_corrupt() -> None:
    data = samples.plain_pdf(pages=3).replace(b"/Count 3", b"/Count 2")

    with pytest.raises(PdfCorrupt, match="more pages than its /Count"):
        inspect_pdf(data, LIMITS)


# ---------------------------------------------------------------- hostile files and limits


@pytest.mark.parametrize("data", [
    pytest.param(samples.page_cycle_pdf(), id="kids-cycle"),
    pytest.param(samples.deeply_nested_pdf(), id="array-nested-200000-deep"),
    pytest.param(samples.deflate_bomb_pdf(), id="object-stream-deflate-bomb"),
])
def test_a_pathological_file_is_refused_as_corrupt_well_within_the_time_limit(data: bytes) -> None:
    limits = PdfLimits(max_bytes=5 * 1024 * 1024, max_pages=500, timeout_seconds=5)
    started = time.monotonic()

    with pytest.raises(PdfCorrupt):
        inspect_pdf(data, limits)

    assert time.monotonic() - started < limits.timeout_seconds


def test_a_read_past_the_time_limit_is_refused_as_too_slow_and_the_child_is_gone(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    started = time.monotonic()

    with pytest.raises(PdfTooSlow) as refused:
        inspect_pdf(samples.pid_reporting_pdf(pid_file), PdfLimits(1024, 500, 0.5), reader=samples.sleep_through)

    assert time.monotonic() - started < 3, "the sleeping child was not waited for"
    assert refused.value.params == {"limit": 0.5}
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)


def test_a_reader_that_runs_out_of_its_memory_cap_is_refused_as_corrupt() -> None:
    limits = PdfLimits(max_bytes=1024 * 1024, max_pages=500, timeout_seconds=20, max_memory_bytes=512 * 1024 * 1024)

    with pytest.raises(PdfCorrupt, match="memory"):
        inspect_pdf(samples.plain_pdf(), limits, reader=samples.hog_memory)


@pytest.mark.parametrize("source", [samples.plain_pdf(), samples.hybrid_pdf()], ids=["plain", "hybrid"])
def test_random_byte_mutations_end_in_facts_or_a_pdf_rejection_never_another_exception(source: bytes) -> None:
    outcomes = [_rejection(variant) for variant in samples.mutations(source, count=40, seed=20261102)]

    assert all(isinstance(outcome, PdfFacts | PdfRejected) for outcome in outcomes)
    assert any(isinstance(outcome, PdfRejected) for outcome in outcomes)
    assert any(isinstance(outcome, PdfFacts) for outcome in outcomes)


def test_open_for_signing_refuses_unreadable_bytes_as_corrupt() -> None:
    with pytest.raises(PdfCorrupt):
        open_for_signing(samples.plain_pdf()[:-100])
