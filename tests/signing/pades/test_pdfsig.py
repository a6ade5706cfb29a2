"""An independent opinion: poppler's pdfsig (over NSS) and qpdf judge the service's multi-signature files.

The tools are installed by bin/test; their absence is a failure, not a skip, because without them this
check silently stops happening.

poppler 22.12 (Debian bookworm) reads NSS's error code after CERT_PKIXVerifyCert without looking at its
result, so a stale SEC_ERROR_EXTENSION_NOT_FOUND, left by looking up the extended key usage of the previous
signer's certificate, turns every signature after the first into "Unknown issue with Certificate" although
NSS accepted the chain (newer poppler checks the result). Certificates with an extended key usage do not leave
that error behind, which is one reason the service issues signers emailProtection + documentSigning
(signing/pki/issuer.py); these signers are issued exactly as the service issues them.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from signing.pades.finalize import finalize
from signing.pades.layout import SignatorySlot, prepare_for_round
from signing.pades.sign import sign_field
from signing.pades.verify import verify
from tests.signing.pades.test_verify import TRUST, TSA
from tests.support.pades import CERTS_DIR, dev_pki, person_identity, plain_pdf

SIGNERS = 20


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: bin/test installs poppler-utils, qpdf and libnss3-tools", pytrace=False)
    return path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


@cache
def twenty_signatures() -> bytes:
    names = [f"signer{n:02d}" for n in range(SIGNERS)]
    slots = [SignatorySlot(name, f"Подписант Номер {n + 1}") for n, name in enumerate(names)]
    pdf = prepare_for_round(plain_pdf(3), slots)
    for n, name in enumerate(names):
        pdf = sign_field(pdf, name, person_identity(f"Подписант Номер {n + 1}"), timestamper=TSA)
    return pdf


@pytest.fixture
def nss_db(tmp_path: Path) -> Path:
    """A fresh NSS database that trusts the development root and holds the issuing CA and both CRLs.

    NSS checks revocation through the certificates' CRL distribution points; without the CRLs it answers
    "Unknown issue with Certificate" (pdfsig's -no-ocsp only turns off OCSP).
    """
    db = tmp_path / "nss"
    db.mkdir()
    certutil, crlutil = tool("certutil"), tool("crlutil")
    pki = dev_pki()
    crls = []
    for name, crl in (("root", pki.root_crl), ("issuing", pki.issuing_crl)):
        crls.append(tmp_path / f"{name}.crl")
        crls[-1].write_bytes(crl.public_bytes(Encoding.DER))
    steps = [
        [certutil, "-N", "-d", f"sql:{db}", "--empty-password"],
        [certutil, "-A", "-d", f"sql:{db}", "-n", "root", "-t", "CT,C,C", "-i", str(CERTS_DIR / "root-ca.pem")],
        [certutil, "-A", "-d", f"sql:{db}", "-n", "issuing", "-t", ",,", "-i", str(CERTS_DIR / "issuing-ca.pem")],
        *([crlutil, "-I", "-d", f"sql:{db}", "-t", "1", "-B", "-i", str(crl)] for crl in crls),
    ]
    for step in steps:
        done = run(*step)
        assert done.returncode == 0, done.stderr
    return db


def test_pdfsig_finds_twenty_valid_trusted_signatures(nss_db: Path, tmp_path: Path) -> None:
    document = tmp_path / "twenty.pdf"
    document.write_bytes(twenty_signatures())
    done = run(tool("pdfsig"), "-nssdir", f"sql:{nss_db}", "-no-ocsp", str(document))
    assert done.returncode == 0, done.stdout + done.stderr
    report = done.stdout
    assert report.count("Signature is Valid.") == SIGNERS, report
    assert report.count("Certificate is Trusted.") == SIGNERS, report
    assert report.count("Signature #") == SIGNERS
    assert verify(twenty_signatures(), trust=TRUST).verdict == "valid"  # and our own verifier agrees


@pytest.mark.parametrize("finalized", [False, True], ids=["signed", "finalized"])
def test_qpdf_finds_the_structure_clean(tmp_path: Path, finalized: bool) -> None:
    pdf = twenty_signatures()
    if finalized:
        pdf = finalize(pdf, trust=TRUST, timestamper=TSA)
    document = tmp_path / "document.pdf"
    document.write_bytes(pdf)
    done = run(tool("qpdf"), "--check", str(document))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No syntax or stream encoding errors found" in done.stdout
