"""Reading PDFs made by other tools: cheap checks in-process, then a full read in a child process that can be killed.

A hostile or broken file must end in a specific `PdfRejected`, never a crash or a hang. The full read runs in a
`forkserver` child with a wall-clock timeout, a CPU-time backstop and an address-space cap; the fork server
preloads this module (and so pyHanko) once, which keeps each read's overhead to a fork rather than an interpreter
start. Reading is non-strict, because office suites write hybrid-xref files that strict reading refuses.

As with any `multiprocessing` start method but `fork`, each child re-imports the program's main module, so a
script that calls `inspect_pdf` needs the usual `if __name__ == "__main__":` guard (console scripts have it).
"""

from __future__ import annotations

import hashlib
import io
import math
import multiprocessing
import resource
import signal
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import enumerate_sig_fields

from signing.config import Settings
from signing.errors import (
    NotAPdf,
    PdfCorrupt,
    PdfEncrypted,
    PdfRejected,
    PdfTooLarge,
    PdfTooManyPages,
    PdfTooSlow,
)

__all__ = ["PdfFacts", "PdfLimits", "PdfReader", "inspect_pdf", "open_for_signing"]

GIB = 1024 * 1024 * 1024
HEADER_WINDOW = 1024
"""A PDF header must start within this many leading bytes (as ISO 32000 readers allow)."""
_REFUSALS: Mapping[str, type[PdfRejected]] = {
    cls.__name__: cls for cls in (NotAPdf, PdfCorrupt, PdfEncrypted, PdfTooLarge, PdfTooManyPages, PdfTooSlow)
}


@dataclass(frozen=True)
class PdfLimits:
    """How much an input PDF may ask of the service before it is refused."""

    max_bytes: int
    """Largest accepted file, in bytes."""
    max_pages: int
    """Most pages accepted in one document."""
    timeout_seconds: float
    """Wall-clock limit for the full read in the child process."""
    max_memory_bytes: int = GIB
    """Address-space cap of the child process (`RLIMIT_AS`)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> PdfLimits:
        return cls(settings.pdf_max_bytes, settings.pdf_max_pages, settings.pdf_timeout_seconds)


@dataclass(frozen=True)
class PdfFacts:
    """What the service learned about an accepted PDF: enough to show it, store it and sign it."""

    page_count: int
    """Pages found by walking the whole page tree (it agrees with every /Count on the way)."""
    size_bytes: int
    """Length of the file."""
    sha256: str
    """SHA-256 of the file, lowercase hex: identifies exactly the bytes that were checked."""
    pdf_version: str
    """Effective PDF version, e.g. `1.7` (the catalog's /Version wins over the header)."""
    hybrid_xref: bool
    """The file has classic xref tables backed by xref streams (/XRefStm), as office suites write."""
    revisions: int
    """Number of revisions: 1 for a fresh file, more after incremental updates (e.g. earlier signatures)."""
    signature_field_names: tuple[str, ...]
    """Fully qualified names of every signature field, filled or not, in document order."""
    signed_field_names: tuple[str, ...]
    """The signature fields that already hold a signature."""
    has_signatures: bool
    """At least one signature field is filled: signing again must be an incremental update that keeps them."""
    producer: str | None
    """/Producer of the document information dictionary (which tool wrote the file), if present."""
    title: str | None
    """/Title of the document information dictionary, if present."""


PdfReader = Callable[[bytes, PdfLimits], PdfFacts]
"""The work done in the child process: must be a module-level function, so it can be sent there by name."""


def inspect_pdf(data: bytes, limits: PdfLimits, *, reader: PdfReader | None = None) -> PdfFacts:
    """Accept `data` as a PDF to sign and describe it, or raise the specific `PdfRejected` that says why not.

    `reader` replaces the work done in the child (the full read); it is a test hook, e.g. a reader that sleeps
    proves the timeout kills the child.
    """
    if len(data) > limits.max_bytes:
        raise PdfTooLarge(len(data), limits.max_bytes)
    if b"%PDF-" not in data[:HEADER_WINDOW]:
        raise NotAPdf()
    return _read_isolated(reader or _read_facts, data, limits)


def open_for_signing(data: bytes) -> IncrementalPdfFileWriter:
    """A non-strict incremental writer over `data`, for the signing engine once `inspect_pdf` accepted it."""
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    except (PdfError, ValueError, KeyError, TypeError, AssertionError) as exc:
        raise PdfCorrupt(_describe(exc)) from exc
    if _is_encrypted(writer.prev):
        raise PdfEncrypted()
    return writer


# ---------------------------------------------------------------- reading, in the child


def _read_facts(data: bytes, limits: PdfLimits) -> PdfFacts:
    """The full read, run in the child: any exception other than a PdfRejected there means PdfCorrupt."""
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    if _is_encrypted(reader):
        raise PdfEncrypted()
    page_count = _count_pages(reader, limits.max_pages)
    fields = list(enumerate_sig_fields(reader))
    info = _info(reader)
    return PdfFacts(
        page_count=page_count,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        pdf_version="{}.{}".format(*reader.input_version),
        hybrid_xref=reader.xrefs.hybrid_xrefs_present,
        revisions=reader.xrefs.total_revisions,
        signature_field_names=tuple(str(name) for name, _, _ in fields),
        signed_field_names=tuple(str(name) for name, value, _ in fields if value),
        has_signatures=any(value for _, value, _ in fields),
        producer=_text(_entry(info, "/Producer")),
        title=_text(_entry(info, "/Title")),
    )


def _is_encrypted(reader: PdfFileReader) -> bool:
    """/Encrypt in the trailer; checked without building a security handler, which may itself fail."""
    try:
        reader.trailer.raw_get("/Encrypt")
    except KeyError:
        return False
    return True


def _count_pages(reader: PdfFileReader, max_pages: int) -> int:
    """Resolve every node of the page tree, so that no broken page is left to surprise the signing step."""
    tree = reader.root.raw_get("/Pages")
    if not isinstance(tree, generic.IndirectObject):
        raise PdfCorrupt("the catalog has no page tree")
    declared = _declared_count(tree.get_object())
    if declared > max_pages:
        raise PdfTooManyPages(declared, max_pages)
    return _count_leaves(tree, set(), declared)


def _entry(node: object, key: str) -> object:
    """`node[key]` resolved, or None when `node` is not a dictionary or lacks it (or it is null)."""
    if not isinstance(node, generic.DictionaryObject):
        return None
    try:
        return node[key]  # resolves indirect references, unlike .get
    except KeyError:
        return None


def _declared_count(node: object) -> int:
    count = _entry(node, "/Count")
    if not isinstance(count, generic.NumberObject) or count < 0:
        raise PdfCorrupt("a page tree node has no valid /Count")
    return int(count)


def _count_leaves(node_ref: generic.IndirectObject, seen: set[generic.Reference], budget: int) -> int:
    """Pages under `node_ref`; a node seen twice (a cycle or shared kid) or more pages than /Count is corrupt."""
    if node_ref.reference in seen:
        raise PdfCorrupt("the page tree refers to one node twice")
    seen.add(node_ref.reference)
    node = node_ref.get_object()
    kind = _entry(node, "/Type")
    if kind == "/Page":
        return 1
    if kind != "/Pages":
        raise PdfCorrupt(f"a page tree node is {type(node).__name__} of type {kind}")
    kids = _entry(node, "/Kids")
    if not isinstance(kids, generic.ArrayObject):
        raise PdfCorrupt("a page tree node has no /Kids")
    found = 0
    for kid in kids:
        if not isinstance(kid, generic.IndirectObject):
            raise PdfCorrupt("a page tree kid is not an indirect object")
        found += _count_leaves(kid, seen, budget - found)
        if found > budget:
            raise PdfCorrupt("the page tree holds more pages than its /Count says")
    if found != _declared_count(node):
        raise PdfCorrupt(f"a page tree node says /Count {_declared_count(node)} but holds {found} pages")
    return found


def _info(reader: PdfFileReader) -> object:
    return _entry(reader.trailer_view, "/Info")


def _text(value: object) -> str | None:
    return str(value)[:500] if isinstance(value, str) and value else None


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


# ---------------------------------------------------------------- the child process


def _context() -> ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    assert isinstance(context, ForkServerContext)
    # Takes effect when the fork server starts (once per parent process); later calls change nothing.
    context.set_forkserver_preload([__name__])
    return context


def _read_isolated(reader: PdfReader, data: bytes, limits: PdfLimits) -> PdfFacts:
    """Run `reader(data, limits)` in a child: its answer, or PdfTooSlow after the timeout, with the child gone."""
    context = _context()
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(target=_child_main, args=(sending, reader, data, limits), name="pdf-reader",
                            daemon=True)
    child.start()
    sending.close()
    try:
        if not receiving.poll(limits.timeout_seconds):
            child.kill()
            raise PdfTooSlow(limits.timeout_seconds)
        outcome = receiving.recv()
    except EOFError:
        raise _death(child, limits) from None
    finally:
        receiving.close()
        _stop(child)
    return _unpack(outcome)


def _stop(child: BaseProcess) -> None:
    """Reap the child; one that answered but lingers is killed."""
    child.join(1)
    if child.exitcode is None:
        child.kill()
        child.join()
    child.close()


def _death(child: BaseProcess, limits: PdfLimits) -> PdfRejected:
    """The child ended without answering: killed by its CPU limit, or crashed on the file."""
    child.join()
    if child.exitcode == -signal.SIGXCPU:
        return PdfTooSlow(limits.timeout_seconds)
    return PdfCorrupt(f"the reader ended with exit code {child.exitcode}")


def _unpack(outcome: object) -> PdfFacts:
    if isinstance(outcome, PdfFacts):
        return outcome
    if isinstance(outcome, tuple) and len(outcome) == 2 and outcome[0] in _REFUSALS:
        name, params = outcome
        raise _REFUSALS[name](**params)
    raise PdfCorrupt(f"the reader answered {type(outcome).__name__}")


def _child_main(sending: Connection, reader: PdfReader, data: bytes, limits: PdfLimits) -> None:
    """Entry point of the child: cap its resources, read, send back the facts or (refusal name, params)."""
    _cap_resources(limits)
    outcome: object
    try:
        outcome = reader(data, limits)
    except PdfRejected as exc:
        outcome = (type(exc).__name__, dict(exc.params))
    except MemoryError:
        outcome = (PdfCorrupt.__name__, {"reason": "the reader ran out of memory"})
    except Exception as exc:  # pyHanko raises many kinds on malformed input; each means unreadable
        outcome = (PdfCorrupt.__name__, {"reason": _describe(exc)})
    sending.send(outcome)
    sending.close()


def _cap_resources(limits: PdfLimits) -> None:
    """Address space and CPU time (a backstop to the parent's wall clock); no core dumps."""
    cpu_seconds = math.ceil(limits.timeout_seconds) + 1
    for limit, value in ((resource.RLIMIT_AS, limits.max_memory_bytes), (resource.RLIMIT_CPU, cpu_seconds),
                         (resource.RLIMIT_CORE, 0)):
        _, hard = resource.getrlimit(limit)
        resource.setrlimit(limit, (value if hard == resource.RLIM_INFINITY else min(value, hard), hard))
