"""The send form (who signs, in what order, until when) and a stored draft read back into its form for an edit.

Input names are the paths `signing.rounds` reports errors at (`signatories-2-email`, `deadline`, `order`), so a
`FieldError` lands at its input as it comes. Blank signatory rows are dropped and the rest renumbered before the
round is checked, so an error's row number is the row the person sees on the re-rendered form.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from werkzeug.datastructures import MultiDict

from signing.drafting import DocumentKind
from signing.errors import FieldError
from signing.models import SigningOrder
from signing.rounds import MAX_SIGNATORIES, SignatorySpec
from web.draft_form import DraftForm
from web.errors import field_message

__all__ = ["MIN_ROWS", "ROW_KEYS", "RoundForm", "draft_form_of", "parse_deadline"]

ROW_KEYS = ("name", "email", "organization", "role")
MIN_ROWS = 2
"""Signatory rows on screen at least: without JavaScript these are where people are typed in."""
MAX_VALUE_LENGTH = 500
_ROW_PATH = re.compile(r"signatories-(\d{1,3})-([a-z]+)")
_DEADLINE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?:\s+(\d{1,2}):(\d{2}))?")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
END_OF_DAY = time(23, 59)
"""A deadline typed as a day only means the end of that day."""

Row = dict[str, str]


def parse_deadline(text: str, zone: ZoneInfo) -> datetime | None:
    """«30.11.2026 18:00» (or «30.11.2026», meaning 23:59) in `zone`; None when empty; FieldError when unreadable."""
    cleaned = " ".join(text.split())
    if not cleaned:
        return None
    match = _DEADLINE.fullmatch(cleaned)
    if match is None:
        raise FieldError("deadline", "DEADLINE-FORMAT")
    day, month, year, hour, minute = match.groups()
    try:
        moment = time(int(hour), int(minute)) if hour is not None else END_OF_DAY
        if not 1900 <= int(year) <= 2999:
            raise ValueError(year)
        return datetime.combine(date(int(year), int(month), int(day)), moment, tzinfo=zone)
    except ValueError:
        raise FieldError("deadline", "DEADLINE-FORMAT") from None


@dataclass
class RoundForm:
    """The send form as the initiator filled it in."""

    rows: list[Row] = field(default_factory=list)
    """The typed signatories, in order (blank rows dropped)."""
    spare_rows: int = MIN_ROWS
    """Empty rows shown after the typed ones."""
    order: str = SigningOrder.PARALLEL.value
    deadline: str = ""
    """The deadline as typed (ДД.ММ.ГГГГ ЧЧ:ММ, Moscow time)."""
    initiator_signs: bool = True
    """«Я тоже подписываю (первым)»: checked on a new form."""
    errors: dict[str, list[str]] = field(default_factory=dict)
    """Input name → messages to show at that input."""

    @classmethod
    def from_form(cls, form: MultiDict[str, str]) -> RoundForm:
        rows: dict[int, Row] = {}
        for name in form:
            found = _ROW_PATH.fullmatch(name)
            if found is not None and found.group(2) in ROW_KEYS:
                rows.setdefault(int(found.group(1)), {})[found.group(2)] = form.get(name, "")[:MAX_VALUE_LENGTH]
        typed = [row for _, row in sorted(rows.items()) if any(value.strip() for value in row.values())]
        typed = typed[:MAX_SIGNATORIES + 1]
        return cls(typed, max(1, MIN_ROWS - len(typed)), order=form.get("order", "")[:20],
                   deadline=form.get("deadline", "")[:40], initiator_signs=form.get("initiator_signs") == "y")

    @property
    def row_numbers(self) -> range:
        return range(len(self.rows) + self.spare_rows)

    def value(self, row: int, key: str) -> str:
        return self.rows[row].get(key, "") if row < len(self.rows) else ""

    def add_row(self) -> None:
        if len(self.rows) + self.spare_rows < MAX_SIGNATORIES:
            self.spare_rows += 1

    def remove_row(self, index: int) -> None:
        """Drop row `index` (a typed one, or one spare row); the rows after it move up."""
        if 0 <= index < len(self.rows):
            del self.rows[index]
        elif self.spare_rows > 1:
            self.spare_rows -= 1
        self.spare_rows = max(self.spare_rows, MIN_ROWS - len(self.rows), 1)

    def specs(self) -> list[SignatorySpec]:
        return [SignatorySpec(row.get("name", ""), row.get("email", ""), row.get("organization") or None,
                              row.get("role") or None) for row in self.rows]

    def attach(self, errors: Iterable[FieldError]) -> None:
        for error in errors:
            self.errors.setdefault(error.field, []).append(field_message(error))

    def errors_at(self, name: str) -> list[str]:
        return self.errors.get(name, [])

    def unplaced_errors(self) -> list[str]:
        """Messages about the list as a whole (`signatories`), or at a row no longer on screen."""
        shown = {f"signatories-{row}-{key}" for row in self.row_numbers for key in ROW_KEYS}
        shown |= {"order", "deadline"}
        return [text for name, texts in self.errors.items() if name not in shown for text in texts]


def _form_text(value: object) -> str:
    """A stored value as the form shows it: ISO days as ДД.ММ.ГГГГ, decimals with a comma, None as empty."""
    if value is None:
        return ""
    text = str(value)
    if _ISO_DAY.fullmatch(text):
        return date.fromisoformat(text).strftime("%d.%m.%Y")
    if re.fullmatch(r"-?\d+\.\d+", text):
        return text.rstrip("0").rstrip(".").replace(".", ",") if "." in text else text
    return text


def draft_form_of(stored: Mapping[str, object]) -> DraftForm:
    """The draft form filled with a stored draft (`Draft.to_dict`), to edit it."""
    kind = DocumentKind(str(stored["kind"]))
    values: dict[str, str] = {key: _form_text(stored.get(key)) for key in ("number", "date", "notes")}
    for section in ("seller", "buyer", "carrier", "period", "extra"):
        found = stored.get(section)
        if isinstance(found, Mapping):
            values.update({f"{section}.{key}": _form_text(value) for key, value in found.items()})
    items_found = stored.get("items")
    items = [{key: _form_text(value) for key, value in item.items()}
             for item in (items_found if isinstance(items_found, list) else []) if isinstance(item, Mapping)]
    return DraftForm(kind, values, items, spare_rows=1)
