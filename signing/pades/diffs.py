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
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyhanko.pdf_utils.reader import HistoricalResolver, PdfFileReader
from pyhanko.sign.diff_analysis import (
    DEFAULT_DIFF_POLICY,
    DiffPolicy,
    DiffResult,
    ModificationLevel,
    SuspiciousModification,
)
from pyhanko.sign.fields import FieldMDPSpec, MDPPerm

__all__ = ["RevisionChainPolicy"]

Verdict = DiffResult | SuspiciousModification
_StepKey = tuple[int, bool, str]


@dataclass
class RevisionChainPolicy(DiffPolicy):
    """A diff policy for one document: each consecutive revision pair is diffed once and the verdict reused.

    Create one per reader; the cache is keyed by revision number and must not outlive the document.
    """

    inner: DiffPolicy = DEFAULT_DIFF_POLICY
    """The rules that judge one step (pyHanko's standard whitelist by default)."""
    _steps: dict[_StepKey, Verdict] = field(default_factory=dict, repr=False)
    diffs_run: int = 0
    """How many revision pairs were actually diffed (the cost this policy exists to bound)."""

    def apply(
        self,
        old: HistoricalResolver,
        new: HistoricalResolver,
        field_mdp_spec: FieldMDPSpec | None = None,
        doc_mdp: MDPPerm | None = None,
    ) -> DiffResult:
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
        try:
            return self.inner.apply(
                reader.get_historical_resolver(revision - 1),
                reader.get_historical_resolver(revision),
                field_mdp_spec,
                doc_mdp,
            )
        except SuspiciousModification as exc:
            return exc
