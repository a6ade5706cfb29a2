"""Password hashing (argon2id) and the strength rule applied at registration."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from signing.errors import FieldError

__all__ = ["MIN_LENGTH", "check_strength", "hash_password", "needs_rehash", "verify_password"]

MIN_LENGTH = 10
MIN_SCORE = 3
"""zxcvbn's 0..4 scale: 3 means "safely unguessable" for an online attacker."""

_hasher = PasswordHasher()  # argon2id with the library's current RFC 9106 parameters


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def check_strength(password: str, personal: list[str]) -> None:
    """Refuse short passwords and guessable ones, including ones built from the person's own data."""
    if len(password) < MIN_LENGTH:
        raise FieldError("password", "PASSWORD-SHORT", min_length=MIN_LENGTH)
    if len(password) > 256:
        raise FieldError("password", "PASSWORD-LONG")
    if zxcvbn(password[:100], user_inputs=[p for p in personal if p])["score"] < MIN_SCORE:
        raise FieldError("password", "PASSWORD-WEAK")
