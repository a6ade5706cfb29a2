"""Verifying a signed PDF: one report with every signature's state, the PAdES level it reaches and a verdict.

One document is verified with one validation context (its certificate-path and CRL caches are shared by all
signatures) and one `RevisionChainPolicy` (each revision is diffed once against its predecessor), so a
document with n signatures costs about n single-signature verifications instead of n².
Nothing here raises on a damaged or hostile file: a file that cannot be read is an "invalid" verdict with
the reason, and a signature that cannot be read is an invalid signature.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESPassed
from pyhanko.sign.diff_analysis import ModificationLevel, SuspiciousModification
from pyhanko.sign.general import find_unique_cms_attribute
from pyhanko.sign.validation import EmbeddedPdfSignature
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.errors import NoDSSFoundError
from pyhanko.sign.validation.pdf_embedded import async_validate_pdf_signature, async_validate_pdf_timestamp
from pyhanko.sign.validation.policy_decl import (
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko.sign.validation.status import (
    DocumentTimestampStatus,
    PdfSignatureStatus,
    SignatureCoverageLevel,
    SignatureStatus,
)
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy, RevocationCheckingPolicy, RevocationCheckingRule
from pyhanko_certvalidator.registry import SimpleTrustManager

from signing.clock import utcnow
from signing.pades.diffs import RevisionChainPolicy
from signing.pades.trust import TrustAnchors, to_asn1_cert, validation_context

__all__ = [
    "Coverage", "Modification", "PadesLevel", "Problem", "Reason", "SignatureKind", "SignatureReport", "Verdict",
    "VerificationReport", "verify",
]


class Verdict(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    INDETERMINATE = "indeterminate"
    UNSIGNED = "unsigned"


class SignatureKind(StrEnum):
    SIGNATURE = "signature"
    DOCUMENT_TIMESTAMP = "document_timestamp"


class Coverage(StrEnum):
    ENTIRE_FILE = "entire_file"
    ENTIRE_REVISION = "entire_revision"
    INCOMPLETE = "incomplete"


class Modification(StrEnum):
    NONE = "none"
    LTA_UPDATES = "lta_updates"
    FORM_FILLING = "form_filling"
    ANNOTATIONS = "annotations"
    OTHER = "other"


class PadesLevel(StrEnum):
    B_B = "B-B"
    B_T = "B-T"
    B_LT = "B-LT"
    B_LTA = "B-LTA"


FATAL = frozenset({
    "PDF-UNREADABLE", "SIG-UNREADABLE", "SIG-NOT-INTACT", "SIG-INVALID", "CERT-REVOKED", "BYTERANGE-INCOMPLETE",
    "DOC-MODIFIED-AFTER-SIGNING", "DOCMDP-VIOLATED", "TIMESTAMP-INVALID",
})
"""Problem codes that make the document invalid; any other problem leaves the verdict indeterminate at worst."""
ADVISORY = frozenset({"NO-TIMESTAMP"})
"""Problem codes reported on the signature that do not affect the verdict (a B-B signature is still valid)."""
PADES_SUBFILTER = "/ETSI.CAdES.detached"


@dataclass(frozen=True)
class Problem:
    """Something wrong with one signature, in a stable code the web layer translates."""

    code: str
    """Stable machine code, e.g. "SIG-NOT-INTACT"."""
    detail: str
    """Technical detail for operators (English, not shown to end users as is)."""

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "detail": self.detail}


@dataclass(frozen=True)
class Reason:
    """Why the document got its verdict: a problem and the field it was found in (None for the whole file)."""

    code: str
    """Stable machine code of the problem."""
    detail: str
    """Technical detail."""
    field_name: str | None
    """The signature field concerned, or None when the problem is the file's."""

    def to_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "detail": self.detail, "field_name": self.field_name}


@dataclass(frozen=True)
class SignatureReport:
    """The state of one signature or document timestamp of the document."""

    field_name: str
    """Fully qualified name of the signature field."""
    kind: SignatureKind
    """An ordinary signature or a document timestamp."""
    signer_name: str | None
    """Common name of the signer's (or the TSA's) certificate."""
    certificate_serial: str | None
    """Serial number of that certificate, upper-case hex."""
    issuer: str | None
    """Common name of the certificate's issuer (RFC 4514 string when it has none)."""
    claimed_signing_time: datetime | None
    """Time the signer claims (/M or the CMS signing-time); unproven."""
    timestamp_time: datetime | None
    """genTime of the signature's timestamp token (of the token itself for a document timestamp)."""
    intact: bool
    """The signed bytes hash to the digest the signature covers."""
    valid: bool
    """The signature value checks out against the certificate's key."""
    trusted: bool
    """The certificate chains to a trusted root, is not revoked and is usable for signing."""
    revoked: bool
    """The certificate (or a CA above it) is revoked on the CRLs in force."""
    coverage: Coverage
    """What the /ByteRange covers."""
    modification_level: Modification
    """The worst kind of change made to the document after this signature."""
    docmdp_ok: bool
    """Those changes are allowed by the DocMDP policy this signature sets (certifying) or is subject to."""
    certifying: bool
    """This is the document's certification (DocMDP) signature."""
    docmdp_permission: str | None
    """The DocMDP permission of this signature ("no_changes", "fill_forms", "annotate"), None if none."""
    pades_level: PadesLevel | None
    """The PAdES baseline level reached; None when the signature is not a valid PAdES signature."""
    problems: tuple[Problem, ...]
    """Everything found wrong with this signature."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "field_name": self.field_name,
            "kind": self.kind.value,
            "signer_name": self.signer_name,
            "certificate_serial": self.certificate_serial,
            "issuer": self.issuer,
            "claimed_signing_time": _iso(self.claimed_signing_time),
            "timestamp_time": _iso(self.timestamp_time),
            "intact": self.intact,
            "valid": self.valid,
            "trusted": self.trusted,
            "revoked": self.revoked,
            "coverage": self.coverage.value,
            "modification_level": self.modification_level.value,
            "docmdp_ok": self.docmdp_ok,
            "certifying": self.certifying,
            "docmdp_permission": self.docmdp_permission,
            "pades_level": self.pades_level.value if self.pades_level else None,
            "problems": [p.to_dict() for p in self.problems],
        }


@dataclass(frozen=True)
class VerificationReport:
    """The verdict on a whole document, with the reasons and every signature's report."""

    verdict: Verdict
    """valid, invalid, indeterminate (e.g. an untrusted signer) or unsigned."""
    reasons: tuple[Reason, ...]
    """The problems that decided the verdict (empty when valid)."""
    signature_count: int
    """Signatures and document timestamps found."""
    sha256: str
    """Hex SHA-256 of the verified bytes."""
    signatures: tuple[SignatureReport, ...]
    """One report per signature, in signing order."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "reasons": [r.to_dict() for r in self.reasons],
            "signature_count": self.signature_count,
            "sha256": self.sha256,
            "signatures": [s.to_dict() for s in self.signatures],
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def verify(pdf: bytes, *, trust: TrustAnchors, now: datetime | None = None) -> VerificationReport:
    """Verify every signature of `pdf` against `trust` at `now` (default: the current time); never raises."""
    digest = hashlib.sha256(pdf).hexdigest()
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        embedded: list[EmbeddedPdfSignature] = list(reader.embedded_signatures)
    except Exception as exc:  # any parse failure of an untrusted file is a verdict, not a crash
        reason = Reason("PDF-UNREADABLE", f"not a readable PDF: {_describe(exc)}", None)
        return VerificationReport(Verdict.INVALID, (reason,), 0, digest, ())
    if not embedded:
        return VerificationReport(Verdict.UNSIGNED, (), 0, digest, ())
    session = _Session(pdf, reader, trust, now or utcnow())
    reports = tuple(asyncio.run(session.check_all(embedded)))
    verdict, reasons = _verdict(reports)
    return VerificationReport(verdict, reasons, len(reports), digest, reports)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def _verdict(reports: Sequence[SignatureReport]) -> tuple[Verdict, tuple[Reason, ...]]:
    reasons = tuple(
        Reason(p.code, p.detail, r.field_name) for r in reports for p in r.problems if p.code not in ADVISORY
    )
    if any(reason.code in FATAL for reason in reasons):
        return Verdict.INVALID, reasons
    return (Verdict.INDETERMINATE if reasons else Verdict.VALID), reasons


class _Session:
    """What the signatures of one document share: the reader, one validation context, one diff cache."""

    def __init__(self, pdf: bytes, reader: PdfFileReader, trust: TrustAnchors, now: datetime) -> None:
        self.pdf = pdf
        self.reader = reader
        self.trust = trust
        self.now = now
        self.context = validation_context(trust, moment=now)
        self.diffs = RevisionChainPolicy()
        self.long_term = _LongTermEvidence(reader, trust, now, self.diffs)

    async def check_all(self, embedded: Sequence[EmbeddedPdfSignature]) -> list[SignatureReport]:
        return [await self.check(signature) for signature in embedded]

    async def check(self, signature: EmbeddedPdfSignature) -> SignatureReport:
        try:
            if signature.sig_object_type == "/DocTimeStamp":
                stamp = await async_validate_pdf_timestamp(signature, self.context, diff_policy=self.diffs)
                return _timestamp_report(signature, stamp)
            status = await async_validate_pdf_signature(signature, self.context, diff_policy=self.diffs)
            if self._trailing_bytes(signature, status):
                status = dataclasses.replace(
                    status, coverage=SignatureCoverageLevel.CONTIGUOUS_BLOCK_FROM_START, docmdp_ok=False,
                    diff_result=SuspiciousModification("bytes were appended after the signed revision"),
                )
            level = await self.long_term.level(signature, status)
            return _signature_report(signature, status, level)
        except Exception as exc:  # a malformed signature dictionary or CMS blob
            return _unreadable_report(signature, exc)


    def _trailing_bytes(self, signature: EmbeddedPdfSignature, status: PdfSignatureStatus) -> bool:
        """Bytes after the last revision that no signature covers (pyHanko still calls that "entire revision")."""
        if status.coverage is not SignatureCoverageLevel.ENTIRE_REVISION:
            return False
        if signature.signed_revision != self.reader.xrefs.total_revisions - 1:
            return False
        _, _, start, length = signature.byte_range
        return bool(self.pdf[start + length:].strip())


class _LongTermEvidence:
    """Decides B-LT and B-LTA: whether the file alone (DSS + document timestamps) validates a signature."""

    def __init__(self, reader: PdfFileReader, trust: TrustAnchors, now: datetime, diffs: RevisionChainPolicy):
        self.reader = reader
        self.trust = trust
        self.now = now
        self.diffs = diffs
        self.dss = _dss_material(reader)
        self.last_doc_timestamp = max(
            (s.signed_revision for s in reader.embedded_signatures if s.sig_object_type == "/DocTimeStamp"),
            default=-1,
        )

    async def level(self, signature: EmbeddedPdfSignature, status: PdfSignatureStatus) -> PadesLevel | None:
        if not (status.intact and status.valid) or not _is_baseline(signature):
            return None
        stamp = status.timestamp_validity
        if stamp is None or not (stamp.intact and stamp.valid and stamp.trusted):
            return PadesLevel.B_B
        if self.dss is None or not await self._dss_suffices(status, stamp.timestamp):
            return PadesLevel.B_T
        if self.last_doc_timestamp <= signature.signed_revision or not await self._lta_passes(signature):
            return PadesLevel.B_LT
        return PadesLevel.B_LTA

    async def _dss_suffices(self, status: PdfSignatureStatus, moment: datetime) -> bool:
        """The signer's and the TSA's chains validate from a root with only the DSS's certificates and CRLs."""
        assert self.dss is not None and status.timestamp_validity is not None
        certs, crls = self.dss
        context = ValidationContext(
            trust_roots=[to_asn1_cert(c) for c in self.trust.roots], other_certs=certs, crls=crls,
            allow_fetching=False, revocation_mode="require", moment=moment, retroactive_revinfo=True,
        )
        for cert in (status.signing_cert, status.timestamp_validity.signing_cert):
            try:
                await CertificateValidator(cert, certs, validation_context=context).async_validate_usage(set())
            except Exception:  # pyhanko_certvalidator reports every path failure as an exception
                return False
        return True

    async def _lta_passes(self, signature: EmbeddedPdfSignature) -> bool:
        timing = ValidationTimingInfo(self.now, self.now, point_in_time_validation=False)
        result = await ades_lta_validation(signature, _root_only_spec(self.trust, self.diffs), timing)
        return result.ades_subindic is AdESPassed.OK


def _dss_material(reader: PdfFileReader) -> tuple[list[asn1_x509.Certificate], list[asn1_crl.CertificateList]] | None:
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        return None
    crls = [asn1_crl.CertificateList.load(ref.get_object().data) for ref in dss.crls]
    return list(dss.load_certs()), crls


def _root_only_spec(trust: TrustAnchors, diffs: RevisionChainPolicy) -> PdfSignatureValidationSpec:
    """Trust the roots and nothing else: no CRLs given, nothing fetched; revocation data required from the file."""
    crl_required = RevocationCheckingPolicy(
        ee_certificate_rule=RevocationCheckingRule.CRL_REQUIRED,
        intermediate_ca_cert_rule=RevocationCheckingRule.CRL_REQUIRED,
    )
    policy = CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build(trust_roots=[to_asn1_cert(c) for c in trust.roots]),
        revinfo_policy=CertRevTrustPolicy(crl_required),
    )
    gathering = RevocationInfoGatheringSpec(online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY)
    return PdfSignatureValidationSpec(
        SignatureValidationSpec(cert_validation_policy=policy, revinfo_gathering_policy=gathering),
        diff_policy=diffs,
    )


def _is_baseline(signature: EmbeddedPdfSignature) -> bool:
    """B-B: the PAdES subfilter and the ESS signing-certificate-v2 attribute binding the signer's certificate."""
    if signature.sig_object.get("/SubFilter") != PADES_SUBFILTER:
        return False
    try:
        find_unique_cms_attribute(signature.signer_info["signed_attrs"], "signing_certificate_v2")
    except Exception:  # absent or repeated
        return False
    return True


def _signature_report(
    signature: EmbeddedPdfSignature, status: PdfSignatureStatus, level: PadesLevel | None
) -> SignatureReport:
    stamp = status.timestamp_validity
    problems = [*_integrity_problems(status), *_modification_problems(status)]
    if stamp is None:
        problems.append(Problem("NO-TIMESTAMP", "the signature has no signature timestamp"))
    elif not (stamp.intact and stamp.valid):
        problems.append(Problem("TIMESTAMP-INVALID", f"the signature timestamp does not verify: {stamp.summary()}"))
    elif not stamp.trusted:
        problems.append(Problem("TIMESTAMP-UNTRUSTED", f"the timestamp authority is not trusted: {stamp.summary()}"))
    return SignatureReport(
        **_certificate_fields(status),
        field_name=signature.field_name,
        kind=SignatureKind.SIGNATURE,
        claimed_signing_time=status.signer_reported_dt,
        timestamp_time=stamp.timestamp if stamp else None,
        **_modification_fields(signature, status),
        pades_level=level,
        problems=tuple(problems),
    )


def _timestamp_report(signature: EmbeddedPdfSignature, status: DocumentTimestampStatus) -> SignatureReport:
    return SignatureReport(
        **_certificate_fields(status),
        field_name=signature.field_name,
        kind=SignatureKind.DOCUMENT_TIMESTAMP,
        claimed_signing_time=None,
        timestamp_time=status.timestamp,
        **_modification_fields(signature, status),
        pades_level=None,
        problems=(*_integrity_problems(status), *_modification_problems(status)),
    )


def _unreadable_report(signature: EmbeddedPdfSignature, exc: Exception) -> SignatureReport:
    timestamp = signature.sig_object_type == "/DocTimeStamp"
    return SignatureReport(
        field_name=signature.field_name,
        kind=SignatureKind.DOCUMENT_TIMESTAMP if timestamp else SignatureKind.SIGNATURE,
        signer_name=None, certificate_serial=None, issuer=None, claimed_signing_time=None, timestamp_time=None,
        intact=False, valid=False, trusted=False, revoked=False, coverage=Coverage.INCOMPLETE,
        modification_level=Modification.OTHER, docmdp_ok=False, certifying=False, docmdp_permission=None,
        pades_level=None, problems=(Problem("SIG-UNREADABLE", f"cannot evaluate the signature: {_describe(exc)}"),),
    )


def _certificate_fields(status: SignatureStatus) -> dict[str, Any]:
    cert = x509.load_der_x509_certificate(status.signing_cert.dump())
    return {
        "signer_name": _common_name(cert.subject),
        "certificate_serial": f"{cert.serial_number:X}",
        "issuer": _common_name(cert.issuer) or cert.issuer.rfc4514_string(),
        "intact": status.intact,
        "valid": status.valid,
        "trusted": status.trusted,
        "revoked": status.revoked,
    }


def _common_name(name: x509.Name) -> str | None:
    values = name.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    if not values:
        return None
    value = values[0].value
    return value if isinstance(value, str) else value.decode(errors="replace")


COVERAGE = {
    SignatureCoverageLevel.ENTIRE_FILE: Coverage.ENTIRE_FILE,
    SignatureCoverageLevel.ENTIRE_REVISION: Coverage.ENTIRE_REVISION,
}
MODIFICATION = {level: Modification(level.name.lower()) for level in ModificationLevel}


def _modification_fields(
    signature: EmbeddedPdfSignature, status: PdfSignatureStatus | DocumentTimestampStatus
) -> dict[str, Any]:
    docmdp = signature.docmdp_level
    level = status.modification_level
    complete = status.coverage in COVERAGE
    docmdp_ok = status.docmdp_ok if status.docmdp_ok is not None else complete and level is not ModificationLevel.OTHER
    return {
        "coverage": COVERAGE.get(status.coverage, Coverage.INCOMPLETE) if status.coverage else Coverage.INCOMPLETE,
        "modification_level": MODIFICATION[level] if level is not None else Modification.OTHER,
        "docmdp_ok": docmdp_ok,
        "certifying": _certifies(signature),
        "docmdp_permission": docmdp.name.lower() if docmdp is not None else None,
    }


def _certifies(signature: EmbeddedPdfSignature) -> bool:
    references = signature.sig_object.get("/Reference", ())
    return any(ref.get("/TransformMethod") == "/DocMDP" for ref in references)


def _integrity_problems(status: SignatureStatus) -> list[Problem]:
    problems = []
    if not status.intact:
        problems.append(Problem("SIG-NOT-INTACT", "the signed bytes do not match the signature's digest"))
    elif not status.valid:
        problems.append(Problem("SIG-INVALID", "the signature value does not verify with the signer's key"))
    if status.revoked:
        details = status.revocation_details
        when = details.revocation_date.isoformat() if details else "?"
        problems.append(Problem("CERT-REVOKED", f"the certificate was revoked on {when}"))
    elif status.intact and status.valid and not status.trusted:
        problems.append(Problem("CERT-UNTRUSTED", f"no trusted, unrevoked path: {status.trust_problem_indic}"))
    return problems


def _modification_problems(status: PdfSignatureStatus | DocumentTimestampStatus) -> list[Problem]:
    problems = []
    if status.coverage not in COVERAGE:
        problems.append(Problem("BYTERANGE-INCOMPLETE", f"the /ByteRange covers only {status.coverage}"))
    elif isinstance(status.diff_result, SuspiciousModification):
        problems.append(Problem("DOC-MODIFIED-AFTER-SIGNING", str(status.diff_result)[:500]))
    if status.docmdp_ok is False and status.coverage in COVERAGE:
        problems.append(Problem("DOCMDP-VIOLATED", f"changes after signing: {status.modification_level}"))
    return problems
