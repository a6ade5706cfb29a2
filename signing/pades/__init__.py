"""PAdES: preparing, signing, finalizing and verifying PDFs. The only package that imports pyHanko.

The round (`signing.rounds`, the web layer) needs only the names below:

    facts = inspect_pdf(upload, PdfLimits.from_settings(settings))        # refuse bad input early
    pdf = prepare_for_round(pdf, [SignatorySlot("sig1", "Иванов И. И."), ...])
    pdf = sign_field(pdf, "sig1", identity, timestamper=make_timestamper(...))
    prep = prepare_external(pdf, "sig2", certificate, chain)              # key in the browser
    pdf = finish_external(prep, browser_signature, timestamper=...)
    final = finalize(pdf, trust=trust, timestamper=...)                   # PAdES B-LTA
    report = verify(final, trust=trust).to_dict()
"""

from __future__ import annotations

from signing.pades import sections, speedups, xmp

speedups.install()
sections.install()
xmp.install()

# ruff: noqa: E402 - the reader speedup is installed before pyHanko parses anything
from signing.pades.external import ExternalPreparation, finish_external, prepare_external
from signing.pades.finalize import finalize
from signing.pades.identity import SignerIdentity
from signing.pades.inputs import PdfFacts, PdfLimits, inspect_pdf
from signing.pades.layout import FieldInfo, SignatorySlot, prepare_for_round, signature_fields
from signing.pades.sign import Appearance, default_appearance, sign_field
from signing.pades.timestamps import make_timestamper
from signing.pades.trust import TrustAnchors
from signing.pades.verify import SignatureReport, Verdict, VerificationReport, verify

__all__ = [
    "Appearance",
    "ExternalPreparation",
    "FieldInfo",
    "PdfFacts",
    "PdfLimits",
    "SignatorySlot",
    "SignatureReport",
    "SignerIdentity",
    "TrustAnchors",
    "Verdict",
    "VerificationReport",
    "default_appearance",
    "finalize",
    "finish_external",
    "inspect_pdf",
    "make_timestamper",
    "prepare_external",
    "prepare_for_round",
    "sign_field",
    "signature_fields",
    "verify",
]
