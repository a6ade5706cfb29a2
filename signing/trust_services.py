"""The service's trust services as the signature round uses them: issuing CA, key-encryption key, TSA.

Each is built once per process and per configuration (loading keys costs a noticeable fraction of a second).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pyhanko.sign.timestamps import TimeStamper

from signing.config import Settings
from signing.pades import make_timestamper
from signing.pki import IssuingCa, issuing_ca, parse_kek

__all__ = ["ca_for", "kek_for", "timestamper_for"]


def ca_for(settings: Settings) -> IssuingCa:
    """The issuing CA that certifies signers (reloaded only when its files or settings change)."""
    return issuing_ca(settings)


def kek_for(settings: Settings) -> bytes:
    """The key-encryption key that wraps every stored signer key."""
    return parse_kek(settings.key_encryption_key)


@lru_cache(maxsize=8)
def _timestamper(tsa_url: str, certs_dir: Path, passphrase: str) -> TimeStamper:
    return make_timestamper(tsa_url, certs_dir, passphrase.encode())


def timestamper_for(settings: Settings) -> TimeStamper:
    """The configured TSA (`TSA_URL`), or the in-process development one; one instance per configuration."""
    return _timestamper(settings.tsa_url, settings.certs_dir, settings.ca_key_passphrase)
