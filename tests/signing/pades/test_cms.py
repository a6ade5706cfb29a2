"""The CMS assembled from cached DER parts is the one pyHanko would build, and other verifiers accept it."""

from __future__ import annotations

import hashlib
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pyhanko.sign import signers
from pyhanko.sign.timestamps import DummyTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing.clock import utcnow
from signing.pades.identity import SignerIdentity
from signing.pades.sign import KeySigner, run_pyhanko, sign_field
from signing.pades.timestamps import InProcessTsa
from signing.pades.trust import to_asn1_cert
from tests.support.pades import dev_pki, person_identity, plain_pdf, with_fields


def _rsa_identity() -> SignerIdentity:
    """RSA PKCS#1 v1.5 signatures are deterministic, so two CMS builders can be compared byte for byte."""
    pki = dev_pki()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = utcnow()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Петров Пётр")]))
        .issuer_name(pki.issuing_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=30))
        .sign(pki.issuing_key, hashes.SHA256())
    )
    return SignerIdentity(cert, key, (pki.issuing_cert, pki.root_cert))


def _tsa(**kwargs: object) -> InProcessTsa:
    pki = dev_pki()
    chain = SimpleCertificateStore()
    chain.register_multiple([to_asn1_cert(pki.issuing_cert), to_asn1_cert(pki.root_cert)])
    return InProcessTsa(tsa_cert=to_asn1_cert(pki.tsa_cert), tsa_key=pki.tsa_key, certs_to_embed=chain, **kwargs)


def test_the_assembled_signature_is_byte_for_byte_what_pyhankos_builder_writes() -> None:
    signer = KeySigner(_rsa_identity())
    digest = hashlib.sha256(b"the signed byte range").digest()
    ours = run_pyhanko(signer.async_sign(digest, "sha256", use_pades=True), what="assemble")
    generic = run_pyhanko(signers.Signer.async_sign(signer, digest, "sha256", use_pades=True), what="build")
    assert ours.dump() == generic.dump()


def test_the_dev_tsa_token_says_what_pyhankos_dummy_tsa_says() -> None:
    moment = datetime(2026, 11, 21, 12, 30, 5, 120000, tzinfo=UTC)
    tsa = _tsa(fixed_dt=moment)
    digest = hashlib.sha256(b"a signature value").digest()
    ours = run_pyhanko(tsa.async_timestamp(digest, "sha256"), what="timestamp")
    stock = run_pyhanko(DummyTimeStamper.async_timestamp(tsa, digest, "sha256"), what="timestamp")

    def content(token: cms.ContentInfo) -> tuple[object, ...]:
        signed_data = token["content"]
        info = signed_data["encap_content_info"]["content"].parsed.native
        info.pop("serial_number"), info.pop("nonce")
        signer_info = signed_data["signer_infos"][0]
        attrs = {a["type"].native: a["values"].native for a in signer_info["signed_attrs"]}
        attrs.pop("message_digest")  # over the TSTInfo, whose serial number is random
        return (signed_data["version"].native, signed_data["certificates"].dump(), info, attrs,
                signer_info["sid"].dump(), signer_info["signature_algorithm"].dump())

    assert content(ours) == content(stock)
    assert ours["content"]["encap_content_info"]["content"].parsed["gen_time"].native == moment


def test_a_request_for_another_digest_goes_to_pyhankos_own_path() -> None:
    token = run_pyhanko(_tsa().async_timestamp(hashlib.sha384(b"x").digest(), "sha384"), what="timestamp")
    imprint = token["content"]["encap_content_info"]["content"].parsed["message_imprint"]
    assert imprint["hash_algorithm"]["algorithm"].native == "sha384"


def test_poppler_finds_every_signature_valid(tmp_path: Path) -> None:
    pdf = with_fields(plain_pdf(), ["a", "b"])
    for name in ("a", "b"):
        pdf = sign_field(pdf, name, person_identity(), timestamper=_tsa())
    signed = tmp_path / "signed.pdf"
    signed.write_bytes(pdf)
    out = subprocess.run(["pdfsig", "-nocert", str(signed)], capture_output=True, text=True, check=False).stdout
    assert out.count("Signature is Valid.") == 2, out
    assert out.count("Signature Type: ETSI.CAdES.detached") == 2, out
