"""A person's INN and SNILS as typed in the profile: separators dropped, length and check digits verified.

INN uses python-stdnum; SNILS is checked here (weights 9..1 over the first nine digits, the sum modulo 101,
where 100 and 101 give «00»), written out so that the rule the service applies is the one in this file.
"""

from __future__ import annotations

import re

from stdnum.ru import inn as stdnum_inn

from signing.errors import FieldError

__all__ = ["format_snils", "normalize_person_inn", "normalize_snils", "snils_check_digits"]

_SEPARATORS = re.compile(r"[\s\-‐‑–—.]")


def _digits(raw: str) -> str:
    return _SEPARATORS.sub("", raw.strip())


def normalize_person_inn(raw: str, field: str = "inn") -> str | None:
    """Twelve digits of an individual's INN with valid check digits; None when left empty."""
    digits = _digits(raw)
    if not digits:
        return None
    if len(digits) != 12 or not (digits.isascii() and digits.isdigit()):
        raise FieldError(field, "INN-INVALID", reason="person-length")
    if not stdnum_inn.is_valid(digits):
        raise FieldError(field, "INN-INVALID", reason="checksum")
    return digits


def snils_check_digits(number: str) -> str:
    """The two check digits for the first nine digits of a SNILS."""
    if len(number) != 9 or not (number.isascii() and number.isdigit()):
        raise ValueError(f"nine digits expected, got {number!r}")
    total = sum(int(digit) * weight for digit, weight in zip(number, range(9, 0, -1), strict=True))
    remainder = total % 101
    return "00" if remainder == 100 else f"{remainder:02d}"


def normalize_snils(raw: str, field: str = "snils") -> str | None:
    """Eleven digits («123-456-789 64», «12345678964» and the like accepted) with valid check digits; None when
    left empty."""
    digits = _digits(raw)
    if not digits:
        return None
    if len(digits) != 11 or not (digits.isascii() and digits.isdigit()):
        raise FieldError(field, "SNILS-INVALID", reason="length")
    if snils_check_digits(digits[:9]) != digits[9:]:
        raise FieldError(field, "SNILS-INVALID", reason="checksum")
    return digits


def format_snils(digits: str | None) -> str:
    """«123-456-789 64», as printed on the card; empty for None."""
    if not digits:
        return ""
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:9]} {digits[9:]}"
