"""Tampered documents are reported invalid, and the once-per-revision diff policy judges them as pyHanko's does.

Every forgery is made here, on a document certified by its first signer and signed by a second, with one
field left empty: incremental updates written with pyHanko's writer, or byte surgery on the file.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
from collections.abc import Callable

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, DiffPolicy, DiffResult, ModificationLevel

from signing.pades.diffs import RevisionChainPolicy
from signing.pades.identity import SignerIdentity
from signing.pades.sign import KeySigner
from signing.pades.verify import verify
from tests.signing.pades.test_verify import TRUST, codes, signed_by
from tests.support.pades import person_identity

Forgery = Callable[[bytes], bytes]


def certified() -> bytes:
    """signer0 certifies (form filling allowed), signer1 approves, signer2 is still empty."""
    return signed_by([person_identity("Автор Документа"), person_identity("Второй Подписант")], spare_fields=1)


def incremental(pdf: bytes, change: Callable[[IncrementalPdfFileWriter], None]) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def first_page(writer: IncrementalPdfFileWriter) -> tuple[generic.IndirectObject, generic.DictionaryObject]:
    ref = writer.root["/Pages"]["/Kids"].raw_get(0)
    return ref, ref.get_object()


def change_page_content(writer: IncrementalPdfFileWriter) -> None:
    ref, page = first_page(writer)
    forged = generic.StreamObject(stream_data=b"BT /F1 14 Tf 72 770 Td (Act No. 2, amount doubled) Tj ET")
    page[generic.NameObject("/Contents")] = writer.add_object(forged)
    writer.mark_update(ref)


def add_annotation(writer: IncrementalPdfFileWriter) -> None:
    ref, page = first_page(writer)
    note = generic.DictionaryObject({
        generic.NameObject("/Type"): generic.NameObject("/Annot"),
        generic.NameObject("/Subtype"): generic.NameObject("/FreeText"),
        generic.NameObject("/Rect"): generic.ArrayObject(map(generic.NumberObject, (72, 600, 400, 640))),
        generic.NameObject("/Contents"): generic.TextStringObject("Сумма: 1 000 000 руб."),
        generic.NameObject("/DA"): generic.TextStringObject("/Helv 12 Tf 0 g"),
    })
    page[generic.NameObject("/Annots")] = generic.ArrayObject([writer.add_object(note)])
    writer.mark_update(ref)


def add_visible_signature_field(writer: IncrementalPdfFileWriter) -> None:
    fields.append_signature_field(writer, fields.SigFieldSpec("intruder", box=(300, 300, 550, 370), on_page=0))


def append_bytes(pdf: bytes) -> bytes:
    return pdf + b"\n1000 0 obj\n(appended after signing, no revision)\nendobj\n"


def alter_signature_value(pdf: bytes) -> bytes:
    """Flip one byte in the middle of the last signature's value, inside /Contents (the file is not re-signed)."""
    signature = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[-1]
    value = signature.signer_info["signature"].native
    offset = signature.pkcs7_content.index(value) + len(value) // 2
    at = signature.byte_range[1] + 1 + 2 * offset
    flipped = b"%02x" % (int(pdf[at:at + 2], 16) ^ 0x01)
    return pdf[:at] + flipped + pdf[at + 2:]


def alter_signed_byte(pdf: bytes) -> bytes:
    """Change the page text of the original revision in place: every signature covers those bytes."""
    return pdf.replace(b"(Act No. 1, page 1)", b"(Act No. 7, page 1)", 1)


def with_byterange_gap(identity: SignerIdentity) -> bytes:
    """A signature that is cryptographically sound but whose /ByteRange skips the 10 bytes before /Contents."""
    pdf = signed_by([identity])
    _, len1, start2, len2 = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[-1].byte_range
    gap = 10
    declared = re.compile(rb"/ByteRange \[0 %d %d %d\s*\]" % (len1, start2, len2))
    match = declared.search(pdf)
    assert match is not None
    crafted = b"/ByteRange [0 %d %d %d]" % (len1 - gap, start2, len2)
    pdf = pdf[:match.start()] + crafted.ljust(len(match.group()), b" ") + pdf[match.end():]
    digest = hashlib.sha256(pdf[:len1 - gap] + pdf[start2:start2 + len2]).digest()
    cms: bytes = asyncio.run(KeySigner(identity).async_sign(digest, "sha256", use_pades=True)).dump()
    contents = cms.hex().encode().ljust(start2 - len1 - 2, b"0")
    return pdf[:len1 + 1] + contents + pdf[start2 - 1:]


def invisible_field_made_visible_later(pdf: bytes) -> bytes:
    """Split attack: an invisible signature field (allowed), then its /Rect enlarged in the next revision."""
    pdf = incremental(pdf, lambda w: fields.append_signature_field(
        w, fields.SigFieldSpec("sleeper", box=(0, 0, 0, 0), on_page=0)))

    def grow(writer: IncrementalPdfFileWriter) -> None:
        field_ref = next(
            ref for ref in writer.root["/AcroForm"]["/Fields"] if ref.get_object()["/T"] == "sleeper"
        )
        field_ref.get_object()[generic.NameObject("/Rect")] = generic.ArrayObject(
            map(generic.NumberObject, (300, 300, 550, 370)))
        writer.mark_update(field_ref)

    return incremental(pdf, grow)


def orphan_stream_adopted_later(pdf: bytes) -> bytes:
    """Split attack: a new unreferenced stream (an ignorable orphan), then the page pointed at it."""
    holder: dict[str, generic.IndirectObject] = {}

    def plant(writer: IncrementalPdfFileWriter) -> None:
        holder["ref"] = writer.add_object(generic.StreamObject(stream_data=b"BT (forged later) Tj ET"))

    pdf = incremental(pdf, plant)

    def adopt(writer: IncrementalPdfFileWriter) -> None:
        ref, page = first_page(writer)
        page[generic.NameObject("/Contents")] = generic.IndirectObject(
            holder["ref"].idnum, holder["ref"].generation, writer)
        writer.mark_update(ref)

    return incremental(pdf, adopt)


MODIFIED_AFTER_SIGNING: dict[str, Forgery] = {
    "page content changed": lambda pdf: incremental(pdf, change_page_content),
    "annotation added after certification": lambda pdf: incremental(pdf, add_annotation),
    "visible signature field added after certification": lambda pdf: incremental(pdf, add_visible_signature_field),
    "invisible field made visible in a later revision": invisible_field_made_visible_later,
    "orphan stream adopted by the page in a later revision": orphan_stream_adopted_later,
}


@pytest.mark.parametrize("forgery", MODIFIED_AFTER_SIGNING.values(), ids=MODIFIED_AFTER_SIGNING.keys())
def test_changes_after_certification_make_the_document_invalid(forgery: Forgery) -> None:
    report = verify(forgery(certified()), trust=TRUST)
    assert report.verdict == "invalid"
    author = report.signatures[0]
    assert author.certifying and author.intact and author.valid and author.trusted
    assert not author.docmdp_ok and "DOCMDP-VIOLATED" in {p.code for p in author.problems}
    assert author.modification_level == "other"
    assert ("DOCMDP-VIOLATED", "signer0") in {(r.code, r.field_name) for r in report.reasons}


def test_page_content_changed_after_the_last_signature_is_reported_against_every_signature() -> None:
    report = verify(incremental(certified(), change_page_content), trust=TRUST)
    for entry in report.signatures:
        assert entry.modification_level == "other" and not entry.docmdp_ok
        assert {"DOC-MODIFIED-AFTER-SIGNING", "DOCMDP-VIOLATED"} <= {p.code for p in entry.problems}


def test_a_new_visible_field_violates_the_certification_but_not_a_later_approval_signature() -> None:
    report = verify(incremental(certified(), add_visible_signature_field), trust=TRUST)
    author, approver = report.signatures
    assert not author.docmdp_ok
    assert approver.docmdp_ok and approver.modification_level == "form_filling"


def test_a_byterange_with_a_gap_is_invalid_even_though_the_signature_verifies() -> None:
    report = verify(with_byterange_gap(person_identity()), trust=TRUST)
    assert report.verdict == "invalid"
    entry = report.signatures[0]
    assert entry.intact and entry.valid and entry.coverage == "incomplete"
    assert "BYTERANGE-INCOMPLETE" in codes(report)


def test_bytes_appended_without_a_revision_are_not_covered() -> None:
    report = verify(append_bytes(certified()), trust=TRUST)
    assert report.verdict == "invalid"
    last = report.signatures[-1]
    assert last.coverage == "incomplete" and ("BYTERANGE-INCOMPLETE", last.field_name) in {
        (r.code, r.field_name) for r in report.reasons}


def test_an_altered_signature_value_is_invalid() -> None:
    report = verify(alter_signature_value(certified()), trust=TRUST)
    assert report.verdict == "invalid"
    author, forged = report.signatures
    assert author.valid and forged.intact and not forged.valid and not forged.trusted
    assert {r.field_name for r in report.reasons} == {"signer1"}
    assert "SIG-INVALID" in codes(report)  # (its timestamp, over the signature value, fails with it)


def test_a_changed_signed_byte_breaks_every_signature_over_it() -> None:
    report = verify(alter_signed_byte(certified()), trust=TRUST)
    assert report.verdict == "invalid"
    assert all(not entry.intact for entry in report.signatures)
    assert {(r.code, r.field_name) for r in report.reasons} >= {
        ("SIG-NOT-INTACT", "signer0"), ("SIG-NOT-INTACT", "signer1")}


def levels(pdf: bytes, policy: DiffPolicy) -> list[ModificationLevel]:
    """Each signature's modification level under `policy` (OTHER when it rejects the changes)."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    result = []
    for signature in reader.embedded_signatures:
        signature.compute_integrity_info(policy)
        outcome = signature.diff_result
        result.append(outcome.modification_level if isinstance(outcome, DiffResult) else ModificationLevel.OTHER)
    return result


@pytest.mark.parametrize("forgery", MODIFIED_AFTER_SIGNING.values(), ids=MODIFIED_AFTER_SIGNING.keys())
def test_the_revision_chain_policy_is_never_more_lenient_than_pyhanko(forgery: Forgery) -> None:
    pdf = forgery(certified())
    chain, standard = levels(pdf, RevisionChainPolicy()), levels(pdf, DEFAULT_DIFF_POLICY)
    assert all(ours >= theirs for ours, theirs in zip(chain, standard, strict=True)), (chain, standard)
    assert chain[0] == standard[0] == ModificationLevel.OTHER


def test_a_field_reshaped_after_it_was_created_is_judged_more_strictly_than_by_pyhanko() -> None:
    """pyHanko compares the last revision with the signed one and sees only a new visible field, which an
    approval signature allows; judged step by step, an existing field's /Rect was changed, which nothing allows."""
    pdf = invisible_field_made_visible_later(certified())
    assert levels(pdf, DEFAULT_DIFF_POLICY)[1] == ModificationLevel.FORM_FILLING
    assert levels(pdf, RevisionChainPolicy())[1] == ModificationLevel.OTHER


def test_the_revision_chain_policy_agrees_with_pyhanko_on_honest_documents() -> None:
    pdf = signed_by([person_identity() for _ in range(4)], spare_fields=1)
    assert levels(pdf, RevisionChainPolicy()) == levels(pdf, DEFAULT_DIFF_POLICY)


def test_each_revision_is_diffed_once_however_many_signatures_precede_it() -> None:
    pdf = signed_by([person_identity() for _ in range(6)])
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    policy = RevisionChainPolicy()
    signatures = reader.embedded_signatures
    for signature in signatures:
        signature.compute_integrity_info(policy)
    assert policy.diffs_run == len(signatures) - 1
