"""Finalization to PAdES B-LTA: the file validates with nothing but the trust root."""

from __future__ import annotations

import asyncio
import io

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESPassed
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.policy_decl import (
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy, RevocationCheckingPolicy, RevocationCheckingRule
from pyhanko_certvalidator.registry import SimpleTrustManager

from signing.pades.finalize import DOCUMENT_TIMESTAMP_FIELD, finalize
from signing.pades.sign import sign_field
from signing.pades.timestamps import dev_timestamper
from signing.pades.trust import dev_trust, to_asn1_cert
from tests.support.pades import CERTS_DIR, PASSPHRASE, dev_pki, person_identity, plain_pdf, with_fields

TSA = dev_timestamper(CERTS_DIR, PASSPHRASE)


def root_only_spec() -> PdfSignatureValidationSpec:
    """Trust the development root and nothing else: no CRLs given, nothing fetched; revocation data required."""
    crl_required = RevocationCheckingPolicy(
        ee_certificate_rule=RevocationCheckingRule.CRL_REQUIRED,
        intermediate_ca_cert_rule=RevocationCheckingRule.CRL_REQUIRED,
    )
    policy = CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build(trust_roots=[to_asn1_cert(dev_pki().root_cert)]),
        revinfo_policy=CertRevTrustPolicy(crl_required),
    )
    return PdfSignatureValidationSpec(SignatureValidationSpec(
        cert_validation_policy=policy,
        revinfo_gathering_policy=RevocationInfoGatheringSpec(online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY),
    ))


def lta_results(pdf: bytes) -> list[AdESPassed | object]:
    reader = PdfFileReader(io.BytesIO(pdf))
    signatures = [s for s in reader.embedded_signatures if s.sig_object.get("/Type") != "/DocTimeStamp"]
    return [asyncio.run(ades_lta_validation(s, root_only_spec())).ades_subindic for s in signatures]


def three_signatures() -> bytes:
    pdf = with_fields(plain_pdf(2), ["a", "b", "c"])
    for name in ("a", "b", "c"):
        pdf = sign_field(pdf, name, person_identity(), timestamper=TSA)
    return pdf


def test_a_finalized_document_passes_lta_validation_with_only_the_embedded_data() -> None:
    signed = three_signatures()
    final = finalize(signed, trust=dev_trust(CERTS_DIR, PASSPHRASE), timestamper=TSA)
    assert final.startswith(signed)
    assert lta_results(final) == [AdESPassed.OK] * 3
    reader = PdfFileReader(io.BytesIO(final))
    last = reader.embedded_signatures[-1]
    assert last.field_name == DOCUMENT_TIMESTAMP_FIELD and last.sig_object["/Type"] == "/DocTimeStamp"
    assert "/DSS" in reader.root and len(reader.root["/DSS"]["/CRLs"]) >= 2


def test_without_finalization_the_same_signatures_cannot_be_validated_offline() -> None:
    assert all(result is not AdESPassed.OK for result in lta_results(three_signatures()))
