"""Signers' private keys: P-256, wrapped with AES-256-GCM under the KEK, bound to their record."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from signing.config import DEV_KEY_ENCRYPTION_KEY
from signing.errors import ConfigurationError, KeyUnavailable
from signing.pades.identity import SigningKey
from signing.pki import generate_signing_key, parse_kek, unwrap_private_key, wrap_private_key

KEK = bytes(range(32))
CONTEXT = b"signer-certificate:user=1:serial=0a"


def _pkcs8(key: SigningKey) -> bytes:
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def test_the_configured_kek_is_base64_of_thirty_two_bytes() -> None:
    assert len(parse_kek(DEV_KEY_ENCRYPTION_KEY)) == 32
    assert parse_kek(base64.b64encode(KEK).decode() + "\n") == KEK


@pytest.mark.parametrize("value", ["", "not base64 at all!", base64.b64encode(b"x" * 16).decode(),
                                   base64.b64encode(b"x" * 33).decode()])
def test_a_kek_of_the_wrong_shape_is_refused_with_what_to_set(value: str) -> None:
    with pytest.raises(ConfigurationError, match="KEY_ENCRYPTION_KEY must be base64 of exactly 32"):
        parse_kek(value)


def test_new_signing_keys_are_ecdsa_p256_and_each_is_different() -> None:
    first, second = generate_signing_key(), generate_signing_key()
    assert isinstance(first.curve, ec.SECP256R1)
    assert first.private_numbers().private_value != second.private_numbers().private_value


def test_a_wrapped_key_unwraps_to_the_same_key() -> None:
    key = generate_signing_key()
    unwrapped = unwrap_private_key(wrap_private_key(key, KEK, context=CONTEXT), KEK, context=CONTEXT)
    assert _pkcs8(unwrapped) == _pkcs8(key)


def test_rsa_keys_wrap_too() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    unwrapped = unwrap_private_key(wrap_private_key(key, KEK, context=CONTEXT), KEK, context=CONTEXT)
    assert isinstance(unwrapped, rsa.RSAPrivateKey) and _pkcs8(unwrapped) == _pkcs8(key)


def test_the_wrapped_blob_never_contains_the_key_in_the_clear() -> None:
    key = generate_signing_key()
    blob = wrap_private_key(key, KEK, context=CONTEXT)
    secret = key.private_numbers().private_value.to_bytes(32, "big")
    assert _pkcs8(key) not in blob
    assert secret not in blob
    assert blob[0] == 1  # the format version, so a later scheme can be told apart


def test_each_wrap_uses_a_fresh_nonce() -> None:
    key = generate_signing_key()
    assert wrap_private_key(key, KEK, context=CONTEXT) != wrap_private_key(key, KEK, context=CONTEXT)


def test_a_wrong_kek_makes_the_key_unavailable() -> None:
    blob = wrap_private_key(generate_signing_key(), KEK, context=CONTEXT)
    with pytest.raises(KeyUnavailable):
        unwrap_private_key(blob, os.urandom(32), context=CONTEXT)


def test_a_blob_moved_to_another_record_does_not_open() -> None:
    blob = wrap_private_key(generate_signing_key(), KEK, context=CONTEXT)
    with pytest.raises(KeyUnavailable):
        unwrap_private_key(blob, KEK, context=b"signer-certificate:user=2:serial=0b")


@pytest.mark.parametrize("damage", [
    lambda blob: blob[:-1] + bytes([blob[-1] ^ 1]),  # flipped tag bit
    lambda blob: blob[:20],                          # truncated
    lambda blob: b"",                                # empty
    lambda blob: b"\x02" + blob[1:],                 # unknown format version
])
def test_a_damaged_blob_makes_the_key_unavailable(damage: Callable[[bytes], bytes]) -> None:
    blob = wrap_private_key(generate_signing_key(), KEK, context=CONTEXT)
    with pytest.raises(KeyUnavailable):
        unwrap_private_key(damage(blob), KEK, context=CONTEXT)


def test_a_kek_of_the_wrong_length_is_refused_on_both_sides() -> None:
    key = generate_signing_key()
    with pytest.raises(ConfigurationError):
        wrap_private_key(key, b"short", context=CONTEXT)
    blob = wrap_private_key(key, KEK, context=CONTEXT)
    with pytest.raises(KeyUnavailable):
        unwrap_private_key(blob, b"short", context=CONTEXT)
