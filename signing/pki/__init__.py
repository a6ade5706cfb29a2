"""Certificates and keys: the development PKI, the issuing CA and its CRLs, signers' keys wrapped at rest."""

from __future__ import annotations

from signing.pki.dev import (
    DEV_ORGANIZATION,
    DevPki,
    DevPkiPaths,
    create_dev_pki,
    ensure_dev_pki,
    is_development_certificate,
    load_dev_pki,
)
from signing.pki.issuer import (
    INN_OID,
    SNILS_OID,
    IssuingCa,
    Person,
    RevokedEntry,
    build_crl,
    issue_certificate,
    issuing_ca,
    load_issuing_ca,
)
from signing.pki.keys import generate_signing_key, parse_kek, seal, unseal, unwrap_private_key, wrap_private_key

__all__ = [
    "DEV_ORGANIZATION",
    "INN_OID",
    "SNILS_OID",
    "DevPki",
    "DevPkiPaths",
    "IssuingCa",
    "Person",
    "RevokedEntry",
    "build_crl",
    "create_dev_pki",
    "ensure_dev_pki",
    "generate_signing_key",
    "is_development_certificate",
    "issue_certificate",
    "issuing_ca",
    "load_dev_pki",
    "load_issuing_ca",
    "parse_kek",
    "seal",
    "unseal",
    "unwrap_private_key",
    "wrap_private_key",
]
