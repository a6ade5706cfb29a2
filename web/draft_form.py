"""The draft form of one document kind: what the person typed, the line-item rows on screen, the errors at each field.

Input names in the HTML are the drafting paths (`buyer.inn`, `items.2.price`, `period.end`, `extra.subject`), so a
`FieldError` from `signing.drafting` lands at its input without translation. Blank item rows (the spare ones a
form without JavaScript offers) are dropped and the rest renumbered before validation, so an error's row number
is the row the person sees on the re-rendered form.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from werkzeug.datastructures import MultiDict

from signing.drafting import DocumentKind, previous_month
from signing.errors import FieldError
from web.errors import field_message

__all__ = ["MIN_ROWS", "PARTY_KEYS", "VAT_RATES", "DraftForm", "parse_kind"]

PARTY_KEYS = ("name", "inn", "kpp", "ogrn", "address")
ITEM_KEYS = ("name", "quantity", "unit", "price", "vat_rate", "weight_kg")
CONTENT_KEYS = ("name", "quantity", "price", "weight_kg")
"""A row with all of these empty is a spare row, not a line item (unit and VAT rate have defaults)."""
VAT_RATES = ("22", "20", "10", "7", "5", "0", "none")
MIN_ROWS = 3
"""Rows on screen at least: without JavaScript these are where new lines are typed."""
MAX_ROWS = 1000
MAX_VALUE_LENGTH = 5000
"""Longer input is cut before it is echoed back (the domain refuses anything near this long anyway)."""
_ITEM_PATH = re.compile(r"items\.(\d{1,4})\.([a-z_]+)")

Row = dict[str, str]


def _date_text(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def parse_kind(value: object) -> DocumentKind | None:
    """The kind named by a form or query value, None for anything else."""
    try:
        return DocumentKind(str(value or ""))
    except ValueError:
        return None


@dataclass
class DraftForm:
    """One kind's form as the person filled it in."""

    kind: DocumentKind
    values: dict[str, str] = field(default_factory=dict)
    """Field path → text typed, for every field outside the line items."""
    items: list[Row] = field(default_factory=list)
    """The typed line items, in order (blank rows dropped)."""
    spare_rows: int = MIN_ROWS
    """Empty rows shown after the typed ones."""
    default_vat: str = "22"
    """The VAT rate preselected in an empty row."""
    errors: dict[str, list[str]] = field(default_factory=dict)
    """Field path → messages to show at that field."""

    @classmethod
    def blank(cls, kind: DocumentKind, today: date) -> DraftForm:
        """A new form: today's date, the previous month as the period, the general VAT rate in force."""
        values = {"date": _date_text(today)}
        if kind.periodic:
            period = previous_month(today)
            values.update({"period.start": _date_text(period.start), "period.end": _date_text(period.end)})
        return cls(kind, values, default_vat="22" if today.year >= 2026 else "20")

    @classmethod
    def from_form(cls, kind: DocumentKind, form: MultiDict[str, str]) -> DraftForm:
        """The fields this kind has, from a posted form; anything else is ignored."""
        values: dict[str, str] = {}
        rows: dict[int, Row] = {}
        scalars = _scalar_paths(kind)
        for path in form:
            text = form.get(path, "")[:MAX_VALUE_LENGTH]
            item = _ITEM_PATH.fullmatch(path)
            if item is not None and item.group(2) in ITEM_KEYS:
                rows.setdefault(int(item.group(1)), {})[item.group(2)] = text
            elif path in scalars:
                values[path] = text
        typed = [row for _, row in sorted(rows.items()) if any(row.get(key, "").strip() for key in CONTENT_KEYS)]
        typed = typed[:MAX_ROWS]
        return cls(kind, values, typed, spare_rows=max(1, MIN_ROWS - len(typed)))

    def value(self, path: str) -> str:
        item = _ITEM_PATH.fullmatch(path)
        if item is None:
            return self.values.get(path, "")
        index = int(item.group(1))
        return self.items[index].get(item.group(2), "") if index < len(self.items) else ""

    def vat_rate(self, row: int) -> str:
        return self.value(f"items.{row}.vat_rate") or self.default_vat

    @property
    def rows(self) -> range:
        return range(len(self.items) + self.spare_rows)

    def add_row(self) -> None:
        if len(self.items) + self.spare_rows < MAX_ROWS:
            self.spare_rows += 1

    def remove_row(self, index: int) -> None:
        """Drop row `index` (a typed one, or one spare row); the rows after it move up."""
        if 0 <= index < len(self.items):
            del self.items[index]
        elif self.spare_rows > 1:
            self.spare_rows -= 1
        self.spare_rows = max(self.spare_rows, MIN_ROWS - len(self.items), 1)

    @property
    def parties(self) -> tuple[str, ...]:
        return _parties(self.kind)

    @property
    def item_keys(self) -> tuple[str, ...]:
        return ITEM_KEYS if self.kind.spec.item_weight_required else ITEM_KEYS[:-1]

    def data(self) -> dict[str, object]:
        """The nested mapping `signing.drafting.validate_draft` reads."""
        data: dict[str, object] = {"kind": self.kind.value, "number": self.value("number"),
                                   "date": self.value("date"), "notes": self.value("notes")}
        for party in self.parties:
            data[party] = {key: self.value(f"{party}.{key}") for key in PARTY_KEYS}
        data["items"] = [{key: row.get(key, "") for key in self.item_keys} for row in self.items]
        if self.kind.periodic:
            data["period"] = {"start": self.value("period.start"), "end": self.value("period.end")}
        data["extra"] = {spec.name: self.value(f"extra.{spec.name}") for spec in self.kind.extra_fields}
        return data

    def attach(self, errors: Iterable[FieldError]) -> None:
        """Each error's words at its path."""
        for error in errors:
            self.errors.setdefault(error.field, []).append(field_message(error))

    def unplaced_errors(self) -> list[str]:
        """Messages whose path has no input of its own (a whole section, the draft): shown above the form."""
        shown = self.paths()
        return [message for path, messages in self.errors.items() if path not in shown for message in messages]

    def paths(self) -> set[str]:
        """Every path the form shows errors at (the items table shows its own above the rows)."""
        rows = {f"items.{row}.{key}" for row in self.rows for key in self.item_keys}
        return _scalar_paths(self.kind) | rows | {"items"}


def _parties(kind: DocumentKind) -> tuple[str, ...]:
    return ("seller", "buyer", "carrier") if kind.has_carrier else ("seller", "buyer")


def _scalar_paths(kind: DocumentKind) -> set[str]:
    paths = {"number", "date", "notes"}
    paths.update(f"{party}.{key}" for party in _parties(kind) for key in PARTY_KEYS)
    paths.update(f"extra.{spec.name}" for spec in kind.extra_fields)
    if kind.periodic:
        paths.update({"period.start", "period.end"})
    return paths
