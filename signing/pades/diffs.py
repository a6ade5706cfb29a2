"""Difference analysis that reviews each revision once, however many signatures precede it.

pyHanko's `StandardDiffPolicy.review_file` compares a signature's revision with every later revision, so a
document with n signatures costs n(n-1)/2 revision diffs, each of which loads the whole older revision.
`RevisionChainPolicy` instead judges every revision r against its immediate predecessor r-1, caches the
verdict, and answers "what changed after revision s?" as the worst verdict over the pairs (s, s+1) ...
(n-1, n): n-1 diffs for the whole document.

Why this is sound. pyHanko's rules are a whitelist: every object a revision writes must be explained by a
rule, otherwise the revision is rejected (`SuspiciousModification`, level OTHER). Each rule explains a change
of the newer revision relative to the older one: the catalog and page tree must compare equal apart from
exempt keys, the DSS may only grow, fields may only be created as new signature fields, filled once, and
never deleted, unchanged fields may only touch value keys (/V, /AP, /AS, /F, /DA, /Q, /Ff, /Type). Each of
these relations is preserved under composition (equality is transitive, growth of growth is growth, a field
filled in one step and left alone in the next was filled once), so a chain of approved steps s → ... → n is an
approved change from s to n at the highest level of its steps. Reviewing against r-1 is also stricter where
the rules look at history: objects written by an intermediate revision count as existing, so overwriting them
must be justified on every path that uses them, and an already-signed field may not change at all. Orphan
detection in pyHanko already compares with r-1 in both designs. A visible field added after certification is
caught in the step that adds it (its /Rect cannot change later: /Rect is not a value key).

What depends on the signature is kept in the cache key: whether a DocMDP level is in force (pyHanko only uses
it to reject updates not allowed after certification, so a strict success also answers the lenient question)
and the field locks (FieldMDP) of the signature. The tamper tests compare this policy's verdicts with
pyHanko's own on every tampered document.

Where the time goes, and what is done about it. Before judging a step, pyHanko lists every path from the
trailer to every object of the older revision (`HistoricalResolver._load_reverse_xref_cache`): a walk over the
whole object graph, about two thirds of a 20-signature validation. The rules only ask for the paths to a few
objects (the ones the newer revision writes, the form fields, indirect appearance dictionaries).
`ReferenceGraph` answers those questions exactly, backwards: it indexes which object refers to which (each
object version parsed once per document) and enumerates the paths from the queried object up to the trailer
under the same pruning pyHanko's walk applies (no `/Parent` keys, page-tree nodes entered only by their
canonical path, no object twice on a path). Where it cannot promise the same answer (strict or encrypted
readers, a structure tree, a malformed or cyclic page tree, reference cycles, very deep or very many paths,
an unreadable object) it declines and pyHanko walks as before. Every rule of the policy still runs unchanged;
`tests/signing/pades/test_diffs.py` compares the answers with pyHanko's walk for every object of every
revision of real documents.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import HistoricalResolver, PdfFileReader, RawPdfPath
from pyhanko.sign.diff_analysis import (
    DEFAULT_DIFF_POLICY,
    DiffPolicy,
    DiffResult,
    ModificationLevel,
    SuspiciousModification,
)
from pyhanko.sign.fields import FieldMDPSpec, MDPPerm

__all__ = ["DocumentObjects", "GraphDeclined", "ReferenceGraph", "RevisionChainPolicy"]

Verdict = DiffResult | SuspiciousModification
_StepKey = tuple[int, bool, str]
_Path = tuple[str | int, ...]
_Key = tuple[int, int]
"""An object's number and generation (hashed in C, unlike `generic.Reference`)."""
_Edge = tuple[_Path, _Key]
_Source = _Key | None
"""Where a reference is written: an object, or None for the trailer."""
_Hop = tuple[_Source, _Path]

MAX_PATH_LENGTH = 150
"""Longest walk (keys and indices from the trailer) the graph answers for; pyHanko's walk recurses once per step."""
MAX_PATHS = 20_000
"""Paths enumerated for one question before the graph gives the question back to pyHanko's walk."""


class GraphDeclined(Exception):
    """The document is outside what `ReferenceGraph` reproduces exactly; pyHanko's own walk has to answer."""


def _references(container: generic.PdfObject) -> list[_Edge]:
    """Every indirect reference inside a dictionary or array, with its path, as pyHanko's walk sees them:
    through direct values only, skipping `/Parent` keys (a top-level indirect value leads nowhere)."""
    found: list[_Edge] = []
    stack: list[tuple[generic.PdfObject, _Path]] = [(container, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, generic.IndirectObject):
            if path:
                found.append((path, (value.idnum, value.generation)))
        elif isinstance(value, generic.DictionaryObject):
            stack.extend((v, (*path, k)) for k, v in value.items() if k != "/Parent")
        elif isinstance(value, generic.ArrayObject):
            stack.extend((v, (*path, i)) for i, v in enumerate(value))
    return found


@dataclass(frozen=True)
class _PageNode:
    """A page-tree node: pyHanko's walk descends into it only along its canonical path."""

    path: _Path
    """The canonical path (`/Root /Pages /Kids i /Kids j ...`)."""
    chain: frozenset[_Key]
    """The objects on that path: the catalog, the tree's nodes above this one, and this one."""
    hop: _Hop
    """The parent and the key path through which the canonical path enters this node."""


class DocumentObjects:
    """The objects of one document for `ReferenceGraph`: each version parsed once, and where every object lives
    in a revision (kept up to date one cross-reference section at a time)."""

    def __init__(self, reader: PdfFileReader) -> None:
        self.reader = reader
        self._parsed: dict[tuple[generic.Reference, object], tuple[generic.PdfObject, list[_Edge]]] = {}
        self._revision = -1
        self._locations: dict[generic.Reference, object] = {}

    def locations(self, revision: int) -> dict[generic.Reference, object]:
        """Reference → its location in `revision` (offset, object-stream slot, None when freed), for every
        reference some section up to `revision` lists: a section moves only the references it lists (any
        other one is a KeyError in its `try_resolve`, so `get_historical_ref` looks further back). The
        mapping is reused: read it before asking for another revision."""
        if revision < self._revision:
            self._revision, self._locations = -1, {}
        xrefs = self.reader.xrefs
        for section in range(self._revision + 1, revision + 1):
            for ref in xrefs.explicit_refs_in_revision(section):
                self._locations[ref] = xrefs.get_historical_ref(ref, section)
        self._revision = revision
        return self._locations

    def read(self, ref: generic.Reference, revision: int, location: object) -> tuple[generic.PdfObject, list[_Edge]]:
        """The object `ref` at `location`, as `HistoricalResolver.get_object` reads it in `revision` (before
        re-homing its references), with the references inside it."""
        key = (ref, location)
        parsed = self._parsed.get(key)
        if parsed is None:
            obj = self._load(ref, revision)
            parsed = self._parsed[key] = (obj, _references(obj))
        return parsed

    def _load(self, ref: generic.Reference, revision: int) -> generic.PdfObject:
        try:
            last_change: int | None = self.reader.xrefs.get_last_change(ref)
        except KeyError:
            last_change = None
        current = last_change is not None and last_change <= revision
        try:
            obj: generic.PdfObject = self.reader.get_object(
                ref, None if current else revision, transparent_decrypt=False)
        except Exception as exc:  # an unreadable object: pyHanko's walk may or may not reach it
            raise GraphDeclined(f"cannot read {ref}: {exc}") from exc
        return obj


class ReferenceGraph:
    """Who refers to whom in one revision, to answer "by which paths does the trailer reach this object?"
    exactly as pyHanko's `_load_reverse_xref_cache` would, without walking the whole document.

    Build one per historical revision, all of one document's from one `DocumentObjects`.
    The constructor raises `GraphDeclined` when the answers could differ from pyHanko's.
    """

    def __init__(self, resolver: HistoricalResolver, objects: DocumentObjects):
        self.reader: PdfFileReader = resolver.reader
        self.revision: int = resolver.revision
        if objects.reader is not self.reader:
            raise ValueError("the objects belong to another document")
        self._objects = objects
        trailer = resolver.trailer_view
        if self.reader.strict or "/Encrypt" in trailer:
            raise GraphDeclined("strict or encrypted reader")
        self.incoming: dict[_Key, list[_Hop]] = defaultdict(list)
        self.outgoing: dict[_Source, list[_Edge]] = {None: _references(trailer)}
        for path, target in self.outgoing[None]:
            self.incoming[target].append((None, path))
        self._locations = dict(objects.locations(self.revision))
        for ref, location in self._locations.items():
            if location is not None:  # freed: pyHanko reads null, which refers to nothing
                self._add_object(ref, location)
        self.page_tree = self._page_tree(trailer)
        self._check_depth()

    def usages(self, ref: generic.Reference) -> set[RawPdfPath]:
        """Every path from the trailer to `ref` that pyHanko's walk records (raises `GraphDeclined` past
        `MAX_PATHS`)."""
        budget = [MAX_PATHS]
        return {RawPdfPath(*path) for path in self._paths_to((ref.idnum, ref.generation), frozenset(), budget)}

    def _add_object(self, ref: generic.Reference, location: object) -> None:
        _, edges = self._objects.read(ref, self.revision, location)
        key = (ref.idnum, ref.generation)
        self.outgoing[key] = edges
        incoming = self.incoming
        for path, target in edges:
            incoming[target].append((key, path))

    def _read(self, ref: generic.Reference) -> generic.PdfObject:
        location = self._locations.get(ref)
        if location is None:
            return generic.NullObject()
        return self._objects.read(ref, self.revision, location)[0]

    def _dictionary(self, value: generic.PdfObject) -> tuple[_Key, generic.DictionaryObject]:
        if not isinstance(value, generic.IndirectObject):
            raise GraphDeclined("a direct catalog or page-tree node")
        obj = self._read(value.reference)
        if not isinstance(obj, generic.DictionaryObject) or isinstance(obj, generic.StreamObject):
            raise GraphDeclined(f"{value.reference} is not a dictionary")
        return (value.idnum, value.generation), obj

    def _page_tree(self, trailer: generic.DictionaryObject) -> dict[_Key, _PageNode]:
        """pyHanko's canonical page-tree paths (`_collect_page_tree_refs`), for trees it maps without error."""
        if "/Root" not in trailer:
            raise GraphDeclined("no catalog")
        root_ref, root = self._dictionary(trailer.raw_get("/Root"))
        if "/StructTreeRoot" in root or "/Pages" not in root:
            raise GraphDeclined("a structure tree, or no page tree")
        pages_ref, pages = self._dictionary(root.raw_get("/Pages"))
        path: _Path = ("/Root", "/Pages")
        nodes = {pages_ref: _PageNode(path, frozenset({root_ref, pages_ref}), (root_ref, ("/Pages",)))}
        pending = [(pages_ref, pages, nodes[pages_ref])]
        while pending:
            parent_ref, parent, node = pending.pop()
            kids = parent.raw_get("/Kids") if "/Kids" in parent else None
            if not isinstance(kids, generic.ArrayObject):
                raise GraphDeclined("a page-tree node without a direct /Kids array")
            for index, kid in enumerate(kids):
                kid_ref, kid_obj = self._dictionary(kid)
                if kid_ref in nodes or kid_ref == root_ref:
                    raise GraphDeclined("a page-tree node twice in the tree")
                child = _PageNode((*node.path, "/Kids", index), node.chain | {kid_ref}, (parent_ref, ("/Kids", index)))
                nodes[kid_ref] = child
                kind = kid_obj.raw_get("/Type") if "/Type" in kid_obj else None
                if isinstance(kind, generic.IndirectObject):
                    raise GraphDeclined("an indirect /Type in the page tree")
                if kind == "/Pages":
                    pending.append((kid_ref, kid_obj, child))
        return nodes

    def _descends(self, source: _Source, path: _Path, target: _Key) -> bool:
        """Whether pyHanko's walk goes on into `target` when it reaches it this way (page-tree nodes: only
        along their canonical path; objects that read as null or hold no reference lead nowhere)."""
        node = self.page_tree.get(target)
        return (node is None or node.hop == (source, path)) and bool(self.outgoing.get(target))

    def _check_depth(self) -> None:
        """Find what the walk can enter; refuse reference cycles and walks longer than `MAX_PATH_LENGTH`."""
        longest: dict[_Source, int] = {}
        open_nodes: set[_Source] = {None}
        stack: list[tuple[_Source, Iterator[_Edge]]] = [(None, iter(self.outgoing[None]))]
        while stack:
            source, edges = stack[-1]
            for path, target in edges:
                if not self._descends(source, path, target) or target in longest:
                    continue
                if target in open_nodes:
                    raise GraphDeclined("a reference cycle")
                open_nodes.add(target)
                stack.append((target, iter(self.outgoing[target])))
                break
            else:
                stack.pop()
                open_nodes.discard(source)
                longest[source] = max((len(path) + (longest[target] if self._descends(source, path, target) else 0)
                                       for path, target in self.outgoing[source]), default=0)
        if longest[None] > MAX_PATH_LENGTH:
            raise GraphDeclined("paths too long")
        self.entered = set(longest)

    def _paths_to(self, target: _Key, excluded: frozenset[_Source], budget: list[int]) -> list[_Path]:
        """Paths ending at `target` that avoid `excluded` (the objects already below on the path)."""
        below = excluded | {target}
        found: list[_Path] = []
        for source, path in self.incoming.get(target, ()):
            if source is None:
                found.append(path)
            elif source in self.entered and source not in below:
                prefixes = self._entries(source, below, budget)
                found.extend(prefix + path for prefix in prefixes)
                budget[0] -= len(prefixes)
            budget[0] -= 1
            if budget[0] < 0:
                raise GraphDeclined("too many paths")
        return found

    def _entries(self, node: _Key, below: frozenset[_Source], budget: list[int]) -> list[_Path]:
        """The paths along which pyHanko's walk goes on into `node`."""
        page = self.page_tree.get(node)
        if page is None:
            return self._paths_to(node, below, budget)
        return [page.path] if below.isdisjoint(page.chain) else []


class _Usages(dict[generic.Reference, set[RawPdfPath]]):
    """Stands in for pyHanko's reverse-reference cache of one revision: each question is answered by the
    graph when asked, and by pyHanko's full walk if the graph declines it."""

    def __init__(self, resolver: HistoricalResolver, graph: ReferenceGraph) -> None:
        super().__init__()
        self.resolver = resolver
        self.graph = graph

    def __bool__(self) -> bool:
        return True  # pyHanko reads `cache or {}`: an empty stand-in must not read as "no cache"

    def __missing__(self, ref: generic.Reference) -> set[RawPdfPath]:
        try:
            paths = self.graph.usages(ref)
        except GraphDeclined:
            return self._walk().get(ref, set())
        self[ref] = paths
        return paths

    def _walk(self) -> dict[generic.Reference, set[RawPdfPath]]:
        """pyHanko's own walk; from then on its cache answers every question for this revision."""
        self.resolver._indirect_object_access_cache = None
        HistoricalResolver._load_reverse_xref_cache(self.resolver)
        full = self.resolver._indirect_object_access_cache
        assert full is not None
        return full


@dataclass
class RevisionChainPolicy(DiffPolicy):
    """A diff policy for one document: each consecutive revision pair is diffed once and the verdict reused.

    Create one per reader; the caches are keyed by revision and object and must not outlive the document.
    """

    inner: DiffPolicy = DEFAULT_DIFF_POLICY
    """The rules that judge one step (pyHanko's standard whitelist by default)."""
    _steps: dict[_StepKey, Verdict] = field(default_factory=dict, repr=False)
    _objects: DocumentObjects | None = field(default=None, repr=False)
    diffs_run: int = 0
    """How many revision pairs were actually diffed (the cost this policy exists to bound)."""
    graphs_declined: int = 0
    """How many of those left the older revision's reference paths to pyHanko's full walk."""

    def apply(
        self,
        old: HistoricalResolver,
        new: HistoricalResolver,
        field_mdp_spec: FieldMDPSpec | None = None,
        doc_mdp: MDPPerm | None = None,
    ) -> DiffResult:
        """One step, judged by `inner`, with the older revision's reference paths from a `ReferenceGraph`."""
        self._index(old)
        return self.inner.apply(old, new, field_mdp_spec, doc_mdp)

    def review_file(
        self,
        reader: PdfFileReader,
        base_revision: int | HistoricalResolver,
        field_mdp_spec: FieldMDPSpec | None = None,
        doc_mdp: MDPPerm | None = None,
    ) -> Verdict:
        base = base_revision if isinstance(base_revision, int) else base_revision.revision
        level = ModificationLevel.NONE
        changed: set[str] = set()
        for revision in range(base + 1, reader.xrefs.total_revisions):
            verdict = self._step(reader, revision, field_mdp_spec, doc_mdp)
            if isinstance(verdict, SuspiciousModification):
                return verdict
            level = max(level, verdict.modification_level)
            changed |= verdict.changed_form_fields
        return DiffResult(level, changed)

    def _step(
        self, reader: PdfFileReader, revision: int, field_mdp_spec: FieldMDPSpec | None, doc_mdp: MDPPerm | None
    ) -> Verdict:
        locks = repr(field_mdp_spec)
        key = (revision, doc_mdp is not None, locks)
        strict = self._steps.get((revision, True, locks))
        if key not in self._steps and doc_mdp is None and isinstance(strict, DiffResult):
            return strict
        if key not in self._steps:
            self._steps[key] = self._diff(reader, revision, field_mdp_spec, doc_mdp)
        return self._steps[key]

    def _diff(
        self, reader: PdfFileReader, revision: int, field_mdp_spec: FieldMDPSpec | None, doc_mdp: MDPPerm | None
    ) -> Verdict:
        self.diffs_run += 1
        old, new = reader.get_historical_resolver(revision - 1), reader.get_historical_resolver(revision)
        try:
            return self.apply(old, new, field_mdp_spec, doc_mdp)
        except SuspiciousModification as exc:
            return exc

    def _index(self, old: HistoricalResolver) -> None:
        """Let a `ReferenceGraph` answer the rules' path questions about `old`, unless it declines."""
        if old._indirect_object_access_cache is not None:
            return
        if self._objects is None or self._objects.reader is not old.reader:
            self._objects = DocumentObjects(old.reader)
        try:
            graph = ReferenceGraph(old, self._objects)
        except GraphDeclined:
            self.graphs_declined += 1
            return
        old._indirect_object_access_cache = _Usages(old, graph)
