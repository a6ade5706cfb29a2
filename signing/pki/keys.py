"""Signers' private keys: generated as ECDSA P-256, stored only wrapped with AES-256-GCM under the KEK.

`seal`/`unseal` are the same wrapping for any other secret kept at rest (the accounts' TOTP secrets). A wrapped
blob is `version (1 byte) || nonce (12 bytes) || ciphertext and tag`; the version byte and the
record's `context` are authenticated as associated data, so a blob copied into another record does not open.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from signing.errors import ConfigurationError, KeyUnavailable
from signing.pades.identity import SigningKey

__all__ = [
    "KEK_BYTES", "generate_signing_key", "parse_kek", "seal", "unseal", "unwrap_private_key", "wrap_private_key",
]

KEK_BYTES = 32
NONCE_BYTES = 12
VERSION = b"\x01"
_KEK_HINT = (
    "KEY_ENCRYPTION_KEY must be base64 of exactly 32 random bytes: set it to the output of "
    "python3 -c 'import os, base64; print(base64.b64encode(os.urandom(32)).decode())'"
)


def parse_kek(value: str) -> bytes:
    """The key-encryption key from its configured base64 form; ConfigurationError saying what to set."""
    try:
        kek = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigurationError(f"{_KEK_HINT} (the value is not valid base64)") from exc
    if len(kek) != KEK_BYTES:
        raise ConfigurationError(f"{_KEK_HINT} (it decodes to {len(kek)} bytes)")
    return kek


def generate_signing_key() -> ec.EllipticCurvePrivateKey:
    """A fresh ECDSA P-256 key for one signer certificate."""
    return ec.generate_private_key(ec.SECP256R1())


def _cipher(kek: bytes) -> AESGCM:
    if len(kek) != KEK_BYTES:
        raise ConfigurationError(_KEK_HINT)
    return AESGCM(kek)


def seal(plaintext: bytes, kek: bytes, *, context: bytes) -> bytes:
    """Encrypt `plaintext` under `kek`, bound to `context` (which record the blob belongs to)."""
    nonce = os.urandom(NONCE_BYTES)
    return VERSION + nonce + _cipher(kek).encrypt(nonce, plaintext, VERSION + context)


def unseal(blob: bytes, kek: bytes, *, context: bytes) -> bytes:
    """What `seal` encrypted; KeyUnavailable on a wrong KEK, context, version or damaged blob."""
    if len(kek) != KEK_BYTES:
        raise KeyUnavailable("the key-encryption key is not 32 bytes")
    if blob[:1] != VERSION or len(blob) <= 1 + NONCE_BYTES:
        raise KeyUnavailable("the wrapped key has an unknown format")
    nonce, sealed = blob[1:1 + NONCE_BYTES], blob[1 + NONCE_BYTES:]
    try:
        return AESGCM(kek).decrypt(nonce, sealed, VERSION + context)
    except InvalidTag:
        raise KeyUnavailable("the wrapped key does not open: wrong key-encryption key or record") from None


def wrap_private_key(key: SigningKey, kek: bytes, *, context: bytes) -> bytes:
    """Encrypt `key` (as PKCS8 DER) under `kek`, bound to `context` (which record the blob belongs to)."""
    plaintext = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return seal(plaintext, kek, context=context)


def unwrap_private_key(blob: bytes, kek: bytes, *, context: bytes) -> SigningKey:
    """The key wrapped by `wrap_private_key`; KeyUnavailable on a wrong KEK, context, version or damaged blob."""
    plaintext = unseal(blob, kek, context=context)
    try:
        key = serialization.load_der_private_key(plaintext, password=None)
    except (ValueError, TypeError):
        raise KeyUnavailable("the unwrapped key is not a readable PKCS8 key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise KeyUnavailable(f"the unwrapped key is a {type(key).__name__}, not an EC or RSA key")
    return key
