"""Checks that stop a production process from starting with development secrets."""

from __future__ import annotations

from cryptography import x509

from signing.config import DEFAULT_SECRET_KEY, DEV_KEY_ENCRYPTION_KEY, Settings
from signing.errors import ConfigurationError
from signing.pki import is_development_certificate
from signing.pki.issuer import load_issuing_ca
from signing.pki.keys import parse_kek

__all__ = ["production_problems"]


def _uses_development_ca(settings: Settings) -> bool:
    if settings.ca_cert_path is None or settings.ca_key_path is None:
        return True
    if settings.certs_dir in settings.ca_cert_path.parents or settings.certs_dir in settings.ca_key_path.parents:
        return True
    try:
        cert = x509.load_pem_x509_certificate(settings.ca_cert_path.read_bytes())
    except (OSError, ValueError):
        return False  # unreadable: reported by the CA loader when it is first needed, with the path
    return is_development_certificate(cert)


def _ca_problems(settings: Settings) -> list[str]:
    """Load the configured CA now (chain, key, passphrase, root CRL), so a mistake stops the start, not a signature."""
    try:
        load_issuing_ca(settings)
    except ConfigurationError as exc:
        return [str(exc)]
    return []


def _kek_problems(settings: Settings) -> list[str]:
    try:
        parse_kek(settings.key_encryption_key)
    except ConfigurationError as exc:
        return [str(exc)]
    return []


def production_problems(settings: Settings) -> list[str]:
    """What must be set before this configuration may serve real users (empty when nothing)."""
    problems = []
    if settings.secret_key == DEFAULT_SECRET_KEY or len(settings.secret_key) < 32:
        problems.append(
            "SECRET_KEY is the development default or shorter than 32 characters: set SECRET_KEY to a "
            "random value, e.g. the output of: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    if _uses_development_ca(settings):
        problems.append(
            "the issuing CA is the development CA from certs-dev/: set CA_CERT and CA_KEY to your "
            "production issuing CA certificate and encrypted key (and CA_KEY_PASSPHRASE)"
        )
    else:
        problems.extend(_ca_problems(settings))
    if settings.ca_key_passphrase == Settings().ca_key_passphrase:
        problems.append("CA_KEY_PASSPHRASE is the development default: set the passphrase of CA_KEY")
    if settings.key_encryption_key == DEV_KEY_ENCRYPTION_KEY:
        problems.append(
            "KEY_ENCRYPTION_KEY is the development default: set it to base64 of 32 random bytes, e.g. "
            "python3 -c 'import os, base64; print(base64.b64encode(os.urandom(32)).decode())'"
        )
    else:
        problems.extend(_kek_problems(settings))
    if not settings.tsa_url:
        problems.append("TSA_URL is not set: production signatures are timestamped by an RFC 3161 TSA")
    if not settings.smtp_url:
        problems.append("SMTP_URL is not set: production mail needs an SMTP server (smtp://user:pass@host:587)")
    return problems
