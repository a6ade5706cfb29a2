"""The reference graph answers pyHanko's path questions exactly, and every step is judged as pyHanko judges it.

`ReferenceGraph` replaces pyHanko's walk over the whole older revision; the rules themselves are pyHanko's.
So the tests compare (1) the graph's paths with the walk's for every object of every revision of real
documents and forgeries, and (2) each step's verdict — level, changed fields, or the refusal with its message —
with `StandardDiffPolicy` on a fresh reader, on forgeries aimed at a signature update.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import HistoricalResolver, PdfFileReader, RawPdfPath
from pyhanko.sign import fields
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, ModificationLevel, SuspiciousModification
from pyhanko.sign.fields import MDPPerm

from signing.pades.diffs import DocumentObjects, GraphDeclined, ReferenceGraph, RevisionChainPolicy
from signing.pades.finalize import finalize
from signing.pades.layout import SignatorySlot, prepare_for_round
from signing.pades.sign import sign_field
from tests.signing.pades.test_tampering import (
    MODIFIED_AFTER_SIGNING,
    add_annotation,
    certified,
    change_page_content,
    first_page,
    incremental,
)
from tests.signing.pades.test_verify import TRUST, TSA
from tests.signing.pades_io.samples import hybrid_pdf, page_cycle_pdf
from tests.support.pades import person_identity, plain_pdf

Change = Callable[[IncrementalPdfFileWriter], None]


def round_document(signatures: int) -> bytes:
    """As the service makes it: the signature page from `prepare_for_round`, then one signature per field."""
    slots = [SignatorySlot(f"s{n}", f"Подписант {n}", "ООО «Тест»", "Согласующий") for n in range(signatures)]
    pdf = prepare_for_round(plain_pdf(2), slots)
    for n in range(signatures):
        pdf = sign_field(pdf, f"s{n}", person_identity(), timestamper=TSA)
    return pdf


def walk(pdf: bytes, revision: int) -> dict[generic.Reference, set[RawPdfPath]]:
    resolver = HistoricalResolver(PdfFileReader(io.BytesIO(pdf), strict=False), revision)
    resolver._load_reverse_xref_cache()
    assert resolver._indirect_object_access_cache is not None
    return dict(resolver._indirect_object_access_cache)


def graph_mismatches(pdf: bytes, *, backwards: bool = False) -> tuple[int, list[str]]:
    """Revisions the graph answered, and every object whose paths differ from pyHanko's walk."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    objects = DocumentObjects(reader)
    answered, wrong = 0, []
    revisions = range(reader.xrefs.total_revisions)
    for revision in reversed(revisions) if backwards else revisions:
        try:
            graph = ReferenceGraph(reader.get_historical_resolver(revision), objects)
        except GraphDeclined:
            continue
        answered += 1
        expected = walk(pdf, revision)
        known = [*graph.incoming, *(key for key in graph.outgoing if key is not None)]
        asked = set(expected) | {generic.Reference(*key) for key in known}
        wrong += [f"{revision}: {ref}" for ref in asked if graph.usages(ref) != expected.get(ref, set())]
    return answered, wrong


def test_the_graph_gives_pyhankos_paths_for_every_object_of_a_signed_round() -> None:
    pdf = round_document(4)
    answered, wrong = graph_mismatches(pdf)
    assert wrong == []
    assert answered == PdfFileReader(io.BytesIO(pdf), strict=False).xrefs.total_revisions


def test_the_graph_gives_the_same_paths_when_revisions_are_asked_for_out_of_order() -> None:
    pdf = round_document(3)
    revisions = PdfFileReader(io.BytesIO(pdf), strict=False).xrefs.total_revisions
    assert graph_mismatches(pdf, backwards=True) == graph_mismatches(pdf) == (revisions, [])


def test_the_graph_gives_pyhankos_paths_in_a_finalized_document() -> None:
    pdf = finalize(round_document(2), trust=TRUST, timestamper=TSA)
    answered, wrong = graph_mismatches(pdf)
    assert wrong == [] and answered >= 4


@pytest.mark.parametrize("forgery", MODIFIED_AFTER_SIGNING.values(), ids=MODIFIED_AFTER_SIGNING.keys())
def test_the_graph_gives_pyhankos_paths_in_forged_documents(forgery: Callable[[bytes], bytes]) -> None:
    answered, wrong = graph_mismatches(forgery(certified()))
    assert wrong == [] and answered >= 4


def outcome(policy: object, pdf: bytes, revision: int, doc_mdp: MDPPerm | None) -> tuple[object, ...]:
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    old, new = reader.get_historical_resolver(revision - 1), reader.get_historical_resolver(revision)
    try:
        result = policy.apply(old, new, None, doc_mdp)  # type: ignore[attr-defined]
    except SuspiciousModification as exc:
        return ("suspicious", _message(exc))
    except Exception as exc:  # pyHanko's own errors on malformed input must be the same too
        return (type(exc).__name__, _message(exc))
    return (result.modification_level, frozenset(result.changed_form_fields))


def _message(exc: Exception) -> str:
    return re.sub(r" at 0x[0-9a-f]+", "", str(exc))  # object reprs carry memory addresses


def judged_alike(pdf: bytes) -> list[tuple[object, ...]]:
    """Each step's outcome, after asserting it is pyHanko's, with and without a certification in force."""
    outcomes = []
    for revision in range(1, PdfFileReader(io.BytesIO(pdf), strict=False).xrefs.total_revisions):
        for doc_mdp in (None, MDPPerm.FILL_FORMS):
            policy = RevisionChainPolicy()
            ours = outcome(policy, pdf, revision, doc_mdp)
            assert ours == outcome(DEFAULT_DIFF_POLICY, pdf, revision, doc_mdp), (revision, doc_mdp)
            assert policy.graphs_declined == 0, "the graph declined: this compared pyHanko with itself"
            outcomes.append(ours)
    return outcomes


def empty_field(writer: IncrementalPdfFileWriter) -> tuple[generic.IndirectObject, generic.DictionaryObject]:
    ref = next(r for r in writer.root["/AcroForm"]["/Fields"] if r.get_object()["/T"] == "signer2")
    return ref, ref.get_object()


def fill(writer: IncrementalPdfFileWriter) -> None:
    """What a signature does to an empty field: a new signature dictionary as /V, a new appearance."""
    ref, field = empty_field(writer)
    value = writer.add_object(generic.DictionaryObject({
        generic.NameObject("/Type"): generic.NameObject("/Sig"),
        generic.NameObject("/Filter"): generic.NameObject("/Adobe.PPKLite"),
        generic.NameObject("/SubFilter"): generic.NameObject("/ETSI.CAdES.detached"),
        generic.NameObject("/Contents"): generic.ByteStringObject(b"\x00" * 8),
    }))
    appearance = writer.add_object(generic.StreamObject({
        generic.NameObject("/Type"): generic.NameObject("/XObject"),
        generic.NameObject("/Subtype"): generic.NameObject("/Form"),
        generic.NameObject("/BBox"): generic.ArrayObject([generic.NumberObject(0)] * 4),
    }, stream_data=b"0 g"))
    field[generic.NameObject("/V")] = value
    field[generic.NameObject("/AP")] = generic.DictionaryObject({generic.NameObject("/N"): appearance})
    writer.mark_update(ref)


def and_set(key: str, value: generic.PdfObject) -> Change:
    def change(writer: IncrementalPdfFileWriter) -> None:
        ref, field = empty_field(writer)
        field[generic.NameObject(key)] = value
        writer.mark_update(ref)
    return change


def new_object_on_the_page(writer: IncrementalPdfFileWriter) -> None:
    ref, page = first_page(writer)
    page[generic.NameObject("/PieceInfo")] = writer.add_object(generic.DictionaryObject())
    writer.mark_update(ref)


def a_new_text_field(writer: IncrementalPdfFileWriter) -> None:
    text = writer.add_object(generic.DictionaryObject({
        generic.NameObject("/FT"): generic.NameObject("/Tx"),
        generic.NameObject("/T"): generic.TextStringObject("amount"),
        generic.NameObject("/V"): generic.TextStringObject("1 000 000"),
    }))
    form_fields = writer.root["/AcroForm"]["/Fields"]
    form_fields.append(text)
    writer.update_container(form_fields)


def an_invisible_signature_field(writer: IncrementalPdfFileWriter) -> None:
    fields.append_signature_field(writer, fields.SigFieldSpec("later", box=(0, 0, 0, 0), on_page=0))


def content_rewritten_in_place(writer: IncrementalPdfFileWriter) -> None:
    """The page object untouched; its content stream overwritten under the same object number."""
    _, page = first_page(writer)
    contents = page.raw_get("/Contents")
    stream = contents.get_object()
    stream._data = b"BT /F1 14 Tf 72 770 Td (Act No. 2, amount doubled) Tj ET"
    stream._encoded_data = None
    writer.mark_update(contents)


def field_also_referenced_from_the_catalog(writer: IncrementalPdfFileWriter) -> None:
    ref, _ = empty_field(writer)
    writer.root[generic.NameObject("/PodpisantExtra")] = generic.ArrayObject([ref])
    writer.update_root()


SIGNATURE_UPDATES: dict[str, list[Change]] = {
    "a plain fill": [fill],
    "fill and /Rect changed": [fill, and_set("/Rect", generic.ArrayObject(map(generic.NumberObject, (0, 0, 9, 9))))],
    "fill and /F flags changed": [fill, and_set("/F", generic.NumberObject(2))],
    "fill and /P changed": [fill, and_set("/P", generic.NullObject())],
    "fill and /Ff changed": [fill, and_set("/Ff", generic.NumberObject(1))],
    "fill and page content replaced": [fill, change_page_content],
    "fill and an annotation added": [fill, add_annotation],
    "fill and a new object referenced from a page": [fill, new_object_on_the_page],
    "fill and a new text field": [fill, a_new_text_field],
    "fill and an invisible signature field": [fill, an_invisible_signature_field],
    "fill and the content stream rewritten in place": [fill, content_rewritten_in_place],
}


def updated(pdf: bytes, changes: list[Change]) -> bytes:
    def all_of(writer: IncrementalPdfFileWriter) -> None:
        for change in changes:
            change(writer)
    return incremental(pdf, all_of)


@pytest.mark.parametrize("changes", SIGNATURE_UPDATES.values(), ids=SIGNATURE_UPDATES.keys())
def test_signature_updates_with_extras_are_judged_as_pyhanko_judges_them(changes: list[Change]) -> None:
    outcomes = judged_alike(updated(certified(), changes))
    assert outcomes[-1] != outcomes[0] or changes == [fill]  # the last step differs from the honest ones


def test_a_plain_fill_is_form_filling_of_that_field_and_extras_are_refused() -> None:
    plain = judged_alike(updated(certified(), [fill]))
    assert plain[-1] == (ModificationLevel.FORM_FILLING, frozenset({"signer2"}))
    forged = judged_alike(updated(certified(), [fill, change_page_content]))
    assert forged[-1][0] == "suspicious"


def test_filling_a_field_that_something_else_also_refers_to_is_refused_with_pyhankos_reason() -> None:
    pdf = incremental(incremental(certified(), field_also_referenced_from_the_catalog), fill)
    last = judged_alike(pdf)[-1]
    assert last[0] == "suspicious" and "PodpisantExtra[0]" in str(last[1])


def with_freed_object(pdf: bytes) -> bytes:
    """An update whose cross-reference table frees an object of the signed revision (the 2nd page's content)."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    page = reader.root["/Pages"]["/Kids"][1].get_object()
    freed = page.raw_get("/Contents").reference
    size = int(reader.trailer["/Size"])
    root = reader.trailer.raw_get("/Root").reference
    body = pdf + b"\n"
    start = len(body)
    section = (b"xref\n0 1\n0000000000 65535 f \n%d 1\n0000000000 %05d f \n" % (freed.idnum, freed.generation + 1)
               + b"trailer\n<< /Size %d /Root %d %d R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n"
               % (size, root.idnum, root.generation, reader.xrefs.get_startxref_for_revision(
                   reader.xrefs.total_revisions - 1), start))
    return body + section


def test_an_update_that_frees_an_object_is_refused_as_by_pyhanko() -> None:
    last = judged_alike(with_freed_object(certified()))[-1]
    assert last[0] == "suspicious" and "freed" in str(last[1])


def test_the_verdicts_of_a_whole_round_match_pyhankos_step_by_step() -> None:
    outcomes = judged_alike(round_document(3))
    assert outcomes[-1] == (ModificationLevel.FORM_FILLING, frozenset({"s2"}))


def test_the_graph_declines_a_structure_tree() -> None:
    def tagged(writer: IncrementalPdfFileWriter) -> None:
        writer.root[generic.NameObject("/StructTreeRoot")] = writer.add_object(generic.DictionaryObject({
            generic.NameObject("/Type"): generic.NameObject("/StructTreeRoot")}))
        writer.update_root()

    reader = PdfFileReader(io.BytesIO(incremental(certified(), tagged)), strict=False)
    with pytest.raises(GraphDeclined, match="structure tree"):
        ReferenceGraph(reader.get_historical_resolver(reader.xrefs.total_revisions - 1), DocumentObjects(reader))


def test_the_graph_declines_a_reference_cycle_and_pyhanko_walks_instead() -> None:
    def outline_cycle(writer: IncrementalPdfFileWriter) -> None:
        title = generic.NameObject("/Title")
        first = writer.add_object(generic.DictionaryObject({title: generic.TextStringObject("A")}))
        second = writer.add_object(generic.DictionaryObject({
            title: generic.TextStringObject("B"), generic.NameObject("/Prev"): first}))
        first.get_object()[generic.NameObject("/Next")] = second
        writer.root[generic.NameObject("/Outlines")] = writer.add_object(generic.DictionaryObject({
            generic.NameObject("/First"): first, generic.NameObject("/Last"): second}))
        writer.update_root()

    pdf = incremental(incremental(certified(), outline_cycle), fill)
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    with pytest.raises(GraphDeclined, match="cycle"):
        ReferenceGraph(reader.get_historical_resolver(reader.xrefs.total_revisions - 2), DocumentObjects(reader))
    last = reader.xrefs.total_revisions - 1
    policy = RevisionChainPolicy()
    assert outcome(policy, pdf, last, None) == outcome(DEFAULT_DIFF_POLICY, pdf, last, None)
    assert policy.graphs_declined == 1


def test_a_policy_reused_on_another_document_does_not_reuse_its_parsed_objects() -> None:
    policy = RevisionChainPolicy()
    honest, forged = updated(certified(), [fill]), updated(certified(), [fill, change_page_content])
    last = PdfFileReader(io.BytesIO(honest), strict=False).xrefs.total_revisions - 1
    assert outcome(policy, honest, last, None) == (ModificationLevel.FORM_FILLING, frozenset({"signer2"}))
    assert outcome(policy, forged, last, None)[0] == "suspicious"


def test_the_graph_answers_a_hybrid_reference_file_as_pyhanko_and_declines_a_cyclic_page_tree() -> None:
    assert graph_mismatches(hybrid_pdf()) == (1, [])
    reader = PdfFileReader(io.BytesIO(page_cycle_pdf()), strict=False)
    with pytest.raises(GraphDeclined, match="twice in the tree"):
        ReferenceGraph(reader.get_historical_resolver(0), DocumentObjects(reader))
