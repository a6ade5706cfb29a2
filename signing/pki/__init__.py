"""Certificates and keys: the development PKI (root CA, issuing CA, CRLs, TSA)."""

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

__all__ = [
    "DEV_ORGANIZATION",
    "DevPki",
    "DevPkiPaths",
    "create_dev_pki",
    "ensure_dev_pki",
    "is_development_certificate",
    "load_dev_pki",
]
