"""Reading form-like input: text as a web form sends it, dates as ДД.ММ.ГГГГ, and errors collected per field."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import TypeVar

from signing.errors import FieldError, ValidationFailed

__all__ = [
    "Collector",
    "format_date",
    "line_text",
    "parse_date",
    "required_line",
    "section",
    "text_errors",
]

T = TypeVar("T")

DATE_PATTERN = re.compile(r"(\d{2})\.(\d{2})\.(\d{4})")
YEARS = range(1900, 3000)
"""Years a document date may carry: anything else is a typo, and date arithmetic near year 9999 would overflow."""
_WHITESPACE = re.compile(r"[\s\x00-\x1f\x7f]+")


def line_text(value: object) -> str | None:
    """A single-line text value: whitespace and control characters collapsed, ends stripped.

    Missing (None) is "", numbers (a JSON client's) become their text, and anything else (a list, a mapping, a bool)
    is None: not text at all.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal | float):
        value = str(value)
    if not isinstance(value, str):
        return None
    return _WHITESPACE.sub(" ", value).strip()


def required_line(data: Mapping[str, object], key: str, path: str, max_length: int) -> str:
    """A non-empty single-line text field of at most `max_length` characters, or a FieldError at `path`."""
    text = line_text(data.get(key))
    if text is None:
        raise FieldError(path, "TEXT-INVALID")
    if not text:
        raise FieldError(path, "REQUIRED")
    if len(text) > max_length:
        raise FieldError(path, "TOO-LONG", max_length=max_length)
    return text


def text_errors(value: str, path: str, max_length: int) -> list[FieldError]:
    """REQUIRED when blank, TOO-LONG past `max_length`: the check every stored text field gets again."""
    if not value.strip():
        return [FieldError(path, "REQUIRED")]
    return [FieldError(path, "TOO-LONG", max_length=max_length)] if len(value) > max_length else []


def parse_date(value: object, path: str, code: str = "DATE-FORMAT") -> date:
    """A date entered as ДД.ММ.ГГГГ (and only so); empty is REQUIRED, anything else `code`."""
    text = line_text(value)
    if text == "":
        raise FieldError(path, "REQUIRED")
    match = DATE_PATTERN.fullmatch(text or "")
    if match is None:
        raise FieldError(path, code)
    day, month, year = (int(part) for part in match.groups())
    if year not in YEARS:
        raise FieldError(path, code)
    try:
        return date(year, month, day)
    except ValueError:
        raise FieldError(path, code) from None


def format_date(day: date) -> str:
    """ДД.ММ.ГГГГ, as Russian documents show dates."""
    return day.strftime("%d.%m.%Y")


def section(data: Mapping[str, object], key: str) -> Mapping[str, object] | None:
    """A nested part of the input (a party, the period); an absent one reads as empty, a non-mapping as None."""
    value = data.get(key)
    if value is None:
        return {}
    return value if isinstance(value, Mapping) else None


class Collector:
    """Runs parsers and keeps every FieldError, so a form learns about all its wrong fields at once."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def take(self, parse: Callable[[], T]) -> T | None:
        """`parse()`'s result, or None after recording the FieldError(s) it raised."""
        try:
            return parse()
        except ValidationFailed as failed:
            self.errors.extend(failed.errors)
        except FieldError as error:
            self.errors.append(error)
        return None

    def add(self, error: FieldError) -> None:
        self.errors.append(error)

    def raise_if_any(self) -> None:
        """ValidationFailed with everything collected, if anything was."""
        if self.errors:
            raise ValidationFailed(list(self.errors))
