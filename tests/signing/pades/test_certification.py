"""The certifying signature's DocMDP permission read from its bytes: pyHanko's answer, or pyHanko asked instead."""

from __future__ import annotations

import io
from functools import cache

import pytest
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter
from pyhanko.sign.validation import read_certification_data

from signing.errors import SigningFailed
from signing.pades.certification import UNREAD, docmdp_permission
from signing.pades.sign import KeySigner, sign_field
from signing.pades.timestamps import dev_timestamper
from tests.support.pades import CERTS_DIR, PASSPHRASE, person_identity, plain_pdf, with_fields

TSA = dev_timestamper(CERTS_DIR, PASSPHRASE)
OURS = b"/P 2\n>>\n>> ]\n>>\nendobj"
"""The end of our certifying signature's dictionary (its /P is FILL_FORMS)."""


@cache
def _signed(count: int) -> bytes:
    """A document with three fields, the first `count` of them signed by `sign_field`."""
    pdf = with_fields(plain_pdf(), ["a", "b", "c"])
    for name in ["a", "b", "c"][:count]:
        pdf = sign_field(pdf, name, person_identity(), timestamper=TSA)
    return pdf


def _reader(pdf: bytes, *, strict: bool = False) -> PdfFileReader:
    return PdfFileReader(io.BytesIO(pdf), strict=strict)


def _pyhanko(pdf: bytes) -> MDPPerm | None:
    data = read_certification_data(_reader(pdf))
    return None if data is None else data.permission


def _respelt(pdf: bytes, old: bytes, new: bytes) -> bytes:
    """`pdf` with `old` replaced by as many bytes in the certifying signature (the first signature in the file)."""
    assert len(old) == len(new) and old in pdf
    return pdf.replace(old, new, 1)


@pytest.mark.parametrize("count", [1, 2, 3])
def test_our_signatures_are_read_from_their_bytes_as_pyhanko_reads_them(count: int) -> None:
    pdf = _signed(count)
    assert docmdp_permission(_reader(pdf)) is MDPPerm.FILL_FORMS
    assert _pyhanko(pdf) is MDPPerm.FILL_FORMS


def test_a_document_without_a_certifying_signature_has_no_permission() -> None:
    for pdf in (plain_pdf(), with_fields(plain_pdf(), ["a"])):
        assert docmdp_permission(_reader(pdf)) is None
        assert _pyhanko(pdf) is None


@pytest.mark.parametrize("value, expected", [(b"1", MDPPerm.NO_CHANGES), (b"3", MDPPerm.ANNOTATE)])
def test_every_permission_is_read_as_pyhanko_reads_it(value: bytes, expected: MDPPerm) -> None:
    pdf = _respelt(_signed(1), OURS, b"/P " + value + OURS[4:])
    assert docmdp_permission(_reader(pdf)) is expected
    assert _pyhanko(pdf) is expected


def test_reason_and_location_in_literal_strings_with_escapes_are_read_as_pyhanko_reads_them() -> None:
    pdf = with_fields(plain_pdf(), ["a", "b"])
    meta = signers.PdfSignatureMetadata(
        field_name="a", md_algorithm="sha256", subfilter=SigSeedSubFilter.PADES, certify=True,
        docmdp_permissions=MDPPerm.ANNOTATE, reason="Согласовано (см. п. 2) \\ без )( замечаний",
        location="Москва\n(офис)", contact_info="a@b.ru", name="Иванова М. С.",
    )
    out = io.BytesIO()
    signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), meta, KeySigner(person_identity()),
                     existing_fields_only=True, output=out)
    signed = out.getvalue()
    assert b"/Reason (" in signed and b"/Location (" in signed
    assert docmdp_permission(_reader(signed)) is MDPPerm.ANNOTATE
    assert _pyhanko(signed) is MDPPerm.ANNOTATE


@pytest.mark.parametrize("old, new", [
    (b"/Type /Sig\n/Filter", b"/Type /Sig /Filter"),  # another spelling
    (b"/Type /SigRef\n", b"/Type /SigRaf\n"),  # another key's value
    (b"/TransformMethod /DocMDP\n", b"/TransformMethod /DocMDX\n"),  # no DocMDP reference: pyHanko reads None
])
def test_other_spellings_are_left_to_pyhanko(old: bytes, new: bytes) -> None:
    pdf = _respelt(_signed(2), old, new)
    assert docmdp_permission(_reader(pdf)) is UNREAD
    assert _pyhanko(pdf) is (None if b"DocMDX" in new else MDPPerm.FILL_FORMS)


def test_an_invalid_permission_is_left_to_pyhanko_which_refuses_it() -> None:
    pdf = _respelt(_signed(1), OURS, b"/P 7" + OURS[4:])
    assert docmdp_permission(_reader(pdf)) is UNREAD
    with pytest.raises(Exception, match="document permissions"):
        _pyhanko(pdf)
    with pytest.raises(SigningFailed, match="document permissions"):
        sign_field(pdf, "b", person_identity(), timestamper=TSA)


def test_strict_readers_and_dictionaries_already_read_are_left_to_pyhanko() -> None:
    pdf = _signed(1)
    assert docmdp_permission(_reader(pdf, strict=True)) is UNREAD
    reader = _reader(pdf)
    assert reader.root["/Perms"]["/DocMDP"]["/Type"] == "/Sig"
    assert docmdp_permission(reader) is UNREAD


@pytest.mark.parametrize("respelt", [False, True], ids=["read-from-bytes", "read-by-pyhanko"])
def test_a_document_certified_without_changes_cannot_be_signed_again(respelt: bool) -> None:
    pdf = _respelt(_signed(1), OURS, b"/P 1" + OURS[4:])
    if respelt:
        pdf = _respelt(pdf, b"/Type /Sig\n/Filter", b"/Type /Sig /Filter")
    assert (docmdp_permission(_reader(pdf)) is UNREAD) is respelt
    with pytest.raises(SigningFailed, match="Author signature forbids all changes"):
        sign_field(pdf, "b", person_identity(), timestamper=TSA)


@pytest.mark.parametrize("respelt", [False, True], ids=["read-from-bytes", "read-by-pyhanko"])
def test_documents_certified_for_form_filling_or_annotations_are_signed(respelt: bool) -> None:
    for value in (b"2", b"3"):
        pdf = _respelt(_signed(1), OURS, b"/P " + value + OURS[4:])
        if respelt:
            pdf = _respelt(pdf, b"/Type /Sig\n/Filter", b"/Type /Sig /Filter")
        signed = sign_field(pdf, "b", person_identity(), timestamper=TSA)
        assert signed.startswith(pdf)
        assert len(_reader(signed).embedded_signatures) == 2
