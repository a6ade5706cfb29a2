"""A drafted document before it is rendered: parsed from form input, checked as a whole, stored as JSON, renewed.

Form input is a mapping of strings, as a web form sends it (nested for parties, items, the period and the
kind-specific fields)::

    {"kind": "act", "number": "12", "date": "30.11.2026",
     "seller": {"name": ..., "inn": ..., "kpp": ..., "ogrn": ..., "address": ...}, "buyer": {...},
     "carrier": {...},                                   # waybill only
     "items": [{"name": ..., "quantity": "2", "unit": "шт", "price": "1 500,00", "vat_rate": "22",
                "weight_kg": "12,5"}],                   # weight_kg: waybill only
     "period": {"start": "01.11.2026", "end": "30.11.2026"},   # periodic kinds only
     "extra": {"basis_number": ..., "basis_date": ...},  # the kind's ExtraFields
     "notes": ...}

Every error carries the path of its field ("buyer.inn", "items.2.price", "period.end", "extra.subject").
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial
from types import MappingProxyType

from signing.drafting.fields import Collector, format_date, line_text, parse_date, section
from signing.drafting.kinds import DocumentKind, FieldType
from signing.drafting.money import MAX_TOTAL, LineItem, Totals, parse_item, vat_rate_error
from signing.drafting.periods import Period, parse_period
from signing.drafting.requisites import Party, parse_party, party_section
from signing.errors import FieldError, ValidationFailed

__all__ = ["MAX_ITEMS", "Draft", "validate_draft"]

MAX_ITEMS = 1000
MAX_EXTRA_LENGTH = 500
MAX_NOTES_LENGTH = 2000
NUMBER_PATTERN = re.compile(r"[0-9A-Za-zА-Яа-яЁё][0-9A-Za-zА-Яа-яЁё\-/._ ]{0,39}")
"""A document number: letters, digits, «-», «/», «.», «_» and spaces, up to 40 characters («А-12/2026»)."""
STORAGE_VERSION = 1


@dataclass(frozen=True)
class Draft:
    """Everything a document of one kind says, checked; constructing one re-checks it (ValidationFailed)."""

    kind: DocumentKind
    number: str
    """As printed after «№», without the sign."""
    date: dt.date
    """The document's date; it also decides which VAT rates apply."""
    seller: Party
    """The party that performs, sells, ships or hands over (its Russian role: `kind.roles.seller`)."""
    buyer: Party
    """The party that orders, buys, receives or accepts (`kind.roles.buyer`)."""
    items: tuple[LineItem, ...]
    period: Period | None = None
    """The period covered: required for periodic kinds, None for the others."""
    extra: Mapping[str, str] = field(default_factory=dict)
    """The kind's extra fields by name (`kind.extra_fields`); dates as ДД.ММ.ГГГГ; optional ones may be absent."""
    carrier: Party | None = None
    """The carrier (Перевозчик): required on a waybill, None elsewhere."""
    notes: str = ""
    """Free text printed under the totals; may span lines."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra", MappingProxyType({k: v for k, v in self.extra.items() if v}))
        errors = _invariant_errors(self)
        if errors:
            raise ValidationFailed(errors)

    @cached_property
    def totals(self) -> Totals:
        return Totals.of(self.items)

    @property
    def title(self) -> str:
        """«Акт выполненных работ № 12 от 30.11.2026»."""
        return f"{self.kind.title} № {self.number} от {format_date(self.date)}"

    def renewed(self, number: str, date: dt.date, period: Period | None) -> Draft:
        """The same document for a new number, date and period (what a subscription issues each month); raises
        ValidationFailed when the copy no longer holds, e.g. a 20 % VAT line on a document dated from 2026."""
        return dataclasses.replace(self, number=number, date=date, period=period)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: dates ISO, Decimals as strings; `from_dict` gives back an equal Draft."""
        return {
            "version": STORAGE_VERSION,
            "kind": self.kind.value,
            "number": self.number,
            "date": self.date.isoformat(),
            "seller": self.seller.to_dict(),
            "buyer": self.buyer.to_dict(),
            "carrier": None if self.carrier is None else self.carrier.to_dict(),
            "items": [item.to_dict() for item in self.items],
            "period": None if self.period is None else self.period.to_dict(),
            "extra": dict(self.extra),
            "notes": self.notes,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Draft:
        """The draft stored by `to_dict`; damaged data is ValidationFailed (DRAFT-CORRUPT or the field's error)."""
        try:
            return cls(
                kind=DocumentKind(str(data["kind"])),
                number=str(data["number"]),
                date=dt.date.fromisoformat(str(data["date"])),
                seller=parse_party(_mapping(data["seller"]), "seller"),
                buyer=parse_party(_mapping(data["buyer"]), "buyer"),
                carrier=None if data.get("carrier") is None else parse_party(_mapping(data["carrier"]), "carrier"),
                items=tuple(parse_item(_mapping(item), f"items.{i}") for i, item in enumerate(_list(data["items"]))),
                period=None if data.get("period") is None else Period.from_dict(_mapping(data["period"])),
                extra={str(k): str(v) for k, v in _mapping(data.get("extra") or {}).items()},
                notes=str(data.get("notes") or ""),
            )
        except (KeyError, ValueError, TypeError) as error:
            raise ValidationFailed([FieldError("draft", "DRAFT-CORRUPT", reason=repr(error))]) from None


def _mapping(value: object) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise TypeError(f"expected a mapping, got {type(value).__name__}")
    return value


def _list(value: object) -> Sequence[object]:
    if not isinstance(value, list | tuple):
        raise TypeError(f"expected a list, got {type(value).__name__}")
    return value


def validate_draft(data: Mapping[str, object], *, today: dt.date) -> Draft:
    """A Draft from form input, or ValidationFailed listing every wrong field at once (nothing is half-parsed:
    either a whole Draft comes back or only errors). `today` (service time zone) judges the period."""
    collector = Collector()
    kind = collector.take(lambda: _kind(data.get("kind")))
    number = collector.take(lambda: _number(data.get("number")))
    issued = collector.take(lambda: parse_date(data.get("date"), "date"))
    seller = collector.take(lambda: party_section(data, "seller"))
    buyer = collector.take(lambda: party_section(data, "buyer"))
    has_carrier = kind is not None and kind.has_carrier
    carrier = collector.take(lambda: party_section(data, "carrier")) if has_carrier else None
    items = collector.take(lambda: _items(data.get("items"), kind, issued))
    period = extra = None
    if kind is not None:
        period = collector.take(lambda: _period(data, today)) if kind.periodic else None
        extra = collector.take(lambda: _extra(section(data, "extra"), kind))
    notes = collector.take(lambda: _notes(data.get("notes")))
    collector.raise_if_any()
    assert kind is not None and number is not None and issued is not None and seller is not None
    assert buyer is not None and items is not None and extra is not None and notes is not None
    return Draft(kind, number, issued, seller, buyer, items, period, extra, carrier, notes)


def _kind(value: object) -> DocumentKind:
    text = line_text(value)
    if text == "":
        raise FieldError("kind", "REQUIRED")
    try:
        return DocumentKind(text or "")
    except ValueError:
        raise FieldError("kind", "KIND-INVALID") from None


def _number(value: object) -> str:
    text = line_text(value)
    if text == "":
        raise FieldError("number", "REQUIRED")
    number = (text or "").removeprefix("№").strip()
    if NUMBER_PATTERN.fullmatch(number) is None:
        raise FieldError("number", "NUMBER-INVALID")
    return number


def _items(value: object, kind: DocumentKind | None, issued: dt.date | None) -> tuple[LineItem, ...]:
    """Every line item, each checked on its own and against the document's kind and date, then the whole list."""
    if value is None or value == []:
        raise FieldError("items", "REQUIRED")
    if not isinstance(value, list | tuple):
        raise FieldError("items", "ITEMS-INVALID")
    if len(value) > MAX_ITEMS:
        raise FieldError("items", "ITEMS-TOO-MANY", max_items=MAX_ITEMS)
    collector = Collector()
    weight_required = kind is not None and kind.spec.item_weight_required
    items = [collector.take(partial(_item, raw, f"items.{i}", weight_required, issued)) for i, raw in enumerate(value)]
    collector.raise_if_any()
    parsed = tuple(item for item in items if item is not None)
    total_error = _total_error(parsed)
    if total_error is not None:
        raise total_error
    return parsed


def _item(raw: object, path: str, weight_required: bool, issued: dt.date | None) -> LineItem:
    if not isinstance(raw, Mapping):
        raise FieldError(path, "ITEM-INVALID")
    item = parse_item(raw, path, weight_required=weight_required)
    error = None if issued is None else vat_rate_error(item.vat_rate, issued, f"{path}.vat_rate")
    if error is not None:
        raise error
    return item


def _total_error(items: tuple[LineItem, ...]) -> FieldError | None:
    gross = Totals.of(items).gross
    return FieldError("items", "TOTAL-TOO-LARGE", maximum=str(MAX_TOTAL)) if gross > MAX_TOTAL else None


def _period(data: Mapping[str, object], today: dt.date) -> Period:
    raw = section(data, "period")
    if raw is None:
        raise FieldError("period.start", "PERIOD-FORMAT")
    return parse_period(raw.get("start"), raw.get("end"), today=today)


def _extra(raw: Mapping[str, object] | None, kind: DocumentKind) -> dict[str, str]:
    """The kind's extra fields that were filled in, dates normalised to ДД.ММ.ГГГГ; other keys are ignored."""
    if raw is None:
        raise FieldError("extra", "TEXT-INVALID")
    collector = Collector()
    values: dict[str, str] = {}
    for spec in kind.extra_fields:
        text = collector.take(partial(_extra_value, raw.get(spec.name), spec.type, spec.required, f"extra.{spec.name}"))
        if text:
            values[spec.name] = text
    collector.raise_if_any()
    return values


def _extra_value(value: object, type_: FieldType, required: bool, path: str) -> str:
    text = line_text(value)
    if text is None:
        raise FieldError(path, "TEXT-INVALID")
    if not text:
        if required:
            raise FieldError(path, "REQUIRED")
        return ""
    if type_ is FieldType.DATE:
        return format_date(parse_date(text, path))
    if len(text) > MAX_EXTRA_LENGTH:
        raise FieldError(path, "TOO-LONG", max_length=MAX_EXTRA_LENGTH)
    return text


def _notes(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise FieldError("notes", "TEXT-INVALID")
    text = "\n".join(line_text(line) or "" for line in value.strip().splitlines())
    if len(text) > MAX_NOTES_LENGTH:
        raise FieldError("notes", "TOO-LONG", max_length=MAX_NOTES_LENGTH)
    return text


def _invariant_errors(draft: Draft) -> list[FieldError]:
    """What must hold of any Draft, however it was built (form, storage, renewal): the same rules as the form's."""
    collector = Collector()
    if collector.take(partial(_number, draft.number)) not in (None, draft.number):
        collector.add(FieldError("number", "NUMBER-INVALID"))
    collector.take(partial(_items, [item.to_dict() for item in draft.items], draft.kind, draft.date))
    if draft.kind.periodic != (draft.period is not None):
        collector.add(FieldError("period", "REQUIRED" if draft.kind.periodic else "NOT-APPLICABLE"))
    if draft.kind.has_carrier != (draft.carrier is not None):
        collector.add(FieldError("carrier", "REQUIRED" if draft.kind.has_carrier else "NOT-APPLICABLE"))
    known = {spec.name for spec in draft.kind.extra_fields}
    for name in sorted(set(draft.extra) - known):
        collector.add(FieldError(f"extra.{name}", "NOT-APPLICABLE"))
    extra = collector.take(partial(_extra, draft.extra, draft.kind))
    for name in sorted(known & set(draft.extra)):
        if extra is not None and extra.get(name) != draft.extra[name]:
            collector.add(FieldError(f"extra.{name}", "TEXT-INVALID"))
    if collector.take(partial(_notes, draft.notes)) not in (None, draft.notes):
        collector.add(FieldError("notes", "TEXT-INVALID"))
    return collector.errors
