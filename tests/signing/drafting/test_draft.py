"""A draft from form input: every wrong field reported at once with its path, nothing half-parsed; stored as JSON
and back; renewed for a subscription's next period."""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from signing.drafting.draft import Draft, validate_draft
from signing.drafting.kinds import DocumentKind
from signing.drafting.money import VatRate
from signing.drafting.periods import Period, month_of
from signing.errors import ValidationFailed

from .examples import ENTREPRENEUR, SBERBANK, TODAY, form, item


def errors(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as failed:
        validate_draft(data, today=TODAY)
    return [(e.field, e.code) for e in failed.value.errors]


@pytest.mark.parametrize("kind", list(DocumentKind))
def test_a_complete_form_of_each_kind_gives_a_draft(kind: DocumentKind) -> None:
    draft = validate_draft(form(kind), today=TODAY)
    assert draft.kind is kind
    assert draft.seller.inn == "7707083893"
    assert (draft.period is not None) == kind.periodic
    assert (draft.carrier is not None) == kind.has_carrier
    assert draft.totals.gross == Decimal("3661.22")  # 2 × 1 500,50 + 22 %


def test_the_title_carries_the_number_and_date() -> None:
    draft = validate_draft(form(number="№ А-12/2026"), today=TODAY)
    assert draft.number == "А-12/2026"
    assert draft.title == "Акт выполненных работ № А-12/2026 от 30.11.2026"


def test_every_wrong_field_is_reported_at_once_with_its_path() -> None:
    data = form(
        number="",
        date="31.11.2026",
        seller={**SBERBANK, "inn": "7707083894"},
        buyer={**ENTREPRENEUR, "kpp": "773601001", "ogrn": "1027700132195"},
        items=[item(), item(price="abc"), item(quantity="0", vat_rate="18"), "not an item"],
        period={"start": "01.11.2026", "end": "15.12.2026"},
        extra={"basis_date": "2026-01-12"},
    )
    assert errors(data) == [
        ("number", "REQUIRED"),
        ("date", "DATE-FORMAT"),
        ("seller.inn", "INN-INVALID"),
        ("buyer.kpp", "KPP-NOT-APPLICABLE"),
        ("buyer.ogrn", "OGRN-MISMATCH"),
        ("items.1.price", "PRICE-INVALID"),
        ("items.2.quantity", "QUANTITY-INVALID"),
        ("items.2.vat_rate", "VAT-RATE-INVALID"),
        ("items.3", "ITEM-INVALID"),
        ("period.end", "PERIOD-TOO-LONG"),
        ("period.end", "PERIOD-IN-FUTURE"),
        ("extra.basis_date", "DATE-FORMAT"),
    ]


def test_the_input_is_left_as_it_was_whether_it_passes_or_fails() -> None:
    good, bad = form(), form(number="", items=[item(price="x")])
    good_copy, bad_copy = copy.deepcopy(good), copy.deepcopy(bad)
    validate_draft(good, today=TODAY)
    with pytest.raises(ValidationFailed):
        validate_draft(bad, today=TODAY)
    assert (good, bad) == (good_copy, bad_copy)


def test_an_empty_form_names_every_required_field() -> None:
    assert errors({}) == [
        ("kind", "REQUIRED"),
        ("number", "REQUIRED"),
        ("date", "REQUIRED"),
        ("seller.name", "REQUIRED"),
        ("seller.address", "REQUIRED"),
        ("seller.inn", "REQUIRED"),
        ("buyer.name", "REQUIRED"),
        ("buyer.address", "REQUIRED"),
        ("buyer.inn", "REQUIRED"),
        ("items", "REQUIRED"),
    ]


def test_kind_specific_fields_are_required_where_the_kind_requires_them() -> None:
    assert errors(form(DocumentKind.CONTRACT, extra={})) == [("extra.subject", "REQUIRED"), ("extra.city", "REQUIRED")]
    assert errors(form(DocumentKind.ACCEPTANCE_ACT, extra={"basis_number": "17"})) == [
        ("extra.basis_date", "REQUIRED")
    ]
    assert errors(form(DocumentKind.ACT, period=None)) == [("period.start", "REQUIRED"), ("period.end", "REQUIRED")]
    assert errors(form(DocumentKind.WAYBILL, carrier=None, items=[item()])) == [
        ("carrier.name", "REQUIRED"), ("carrier.address", "REQUIRED"), ("carrier.inn", "REQUIRED"),
        ("items.0.weight_kg", "REQUIRED"),
    ]


def test_optional_kind_fields_may_be_left_out() -> None:
    assert validate_draft(form(DocumentKind.ACT, extra={}), today=TODAY).extra == {}
    assert validate_draft(form(DocumentKind.INVOICE, extra={"payment_document_number": " "}), today=TODAY).extra == {}


def test_the_vat_rate_is_checked_against_the_document_date() -> None:
    assert errors(form(items=[item(vat_rate="20")])) == [("items.0.vat_rate", "VAT-RATE-INVALID")]
    earlier = form(date="30.11.2025", period={"start": "01.11.2025", "end": "30.11.2025"})
    assert errors({**earlier, "items": [item(vat_rate="22")]}) == [("items.0.vat_rate", "VAT-RATE-INVALID")]
    assert validate_draft({**earlier, "items": [item(vat_rate="20")]}, today=TODAY).items[0].vat_rate is VatRate.TWENTY


def test_a_total_beyond_what_words_can_say_is_refused() -> None:
    big = item(quantity="999 999 999", price="999 999 999 999")
    assert errors(form(items=[big])) == [("items", "TOTAL-TOO-LARGE")]


def test_an_unknown_kind_is_refused_and_other_fields_still_checked() -> None:
    assert errors({**form(number="?!"), "kind": "letter"}) == [("kind", "KIND-INVALID"), ("number", "NUMBER-INVALID")]


@pytest.mark.parametrize("number", ["?", "12#3", "x" * 41, "-12"])
def test_a_malformed_number_is_refused(number: str) -> None:
    assert errors(form(number=number)) == [("number", "NUMBER-INVALID")]


@pytest.mark.parametrize(("key", "value"), [("seller", "ПАО Сбербанк"), ("items", "много"), ("period", "ноябрь"),
                                            ("extra", ["x"]), ("notes", 5)])
def test_sections_of_the_wrong_shape_are_field_errors_not_crashes(key: str, value: object) -> None:
    assert [field for field, _ in errors({**form(), key: value})] == [key if key != "period" else "period.start"]


def test_text_is_kept_on_one_line_except_the_notes() -> None:
    draft = validate_draft(
        form(seller={**SBERBANK, "name": " ПАО\n  Сбербанк\t"}, notes="  Первая строка\nВторая\x00 строка "),
        today=TODAY,
    )
    assert draft.seller.name == "ПАО Сбербанк"
    assert draft.notes == "Первая строка\nВторая строка"


@pytest.mark.parametrize("kind", list(DocumentKind))
def test_a_draft_round_trips_through_json_exactly(kind: DocumentKind) -> None:
    data = form(kind, items=[item(quantity="2,50", price="0,10", weight_kg="3,000"),
                             item(name="Доставка <b>&</b>", vat_rate="без НДС", weight_kg="1")],
                notes="Строка 1\nСтрока 2")
    draft = validate_draft(data, today=TODAY)
    stored = json.dumps(draft.to_dict(), ensure_ascii=False)
    again = Draft.from_dict(json.loads(stored))
    assert again == draft
    assert again.to_dict() == draft.to_dict()
    assert draft.to_dict()["items"][0]["quantity"] == "2.50"  # type: ignore[index]


def test_damaged_stored_data_is_a_validation_error() -> None:
    stored = validate_draft(form(), today=TODAY).to_dict()
    for damaged in ({**stored, "date": "30.11.2026"}, {**stored, "items": "x"}, {k: v for k, v in stored.items()
                                                                                 if k != "seller"}):
        with pytest.raises(ValidationFailed):
            Draft.from_dict(damaged)
    with pytest.raises(ValidationFailed) as failed:
        Draft.from_dict({**stored, "seller": {**SBERBANK, "inn": "1234567890"}})
    assert [(e.field, e.code) for e in failed.value.errors] == [("seller.inn", "INN-INVALID")]


def test_a_draft_cannot_be_built_without_what_its_kind_requires() -> None:
    draft = validate_draft(form(), today=TODAY)
    with pytest.raises(ValidationFailed) as failed:
        Draft(DocumentKind.CONTRACT, draft.number, draft.date, draft.seller, draft.buyer, draft.items,
              period=draft.period, extra={"unknown": "x"})
    assert [(e.field, e.code) for e in failed.value.errors] == [
        ("period", "NOT-APPLICABLE"), ("extra.unknown", "NOT-APPLICABLE"),
        ("extra.subject", "REQUIRED"), ("extra.city", "REQUIRED"),
    ]


def test_renewed_copies_everything_but_number_date_and_period() -> None:
    november = validate_draft(form(), today=TODAY)
    december = november.renewed("13", date(2026, 12, 31), month_of(date(2026, 12, 1)))
    assert (december.number, december.date, december.period) == ("13", date(2026, 12, 31),
                                                                  Period(date(2026, 12, 1), date(2026, 12, 31)))
    assert (december.seller, december.buyer, december.items, december.extra) == (
        november.seller, november.buyer, november.items, november.extra)
    assert november.number == "12"


def test_renewal_into_2026_refuses_a_copied_20_percent_line() -> None:
    data = form(date="30.11.2025", period={"start": "01.11.2025", "end": "30.11.2025"}, items=[item(vat_rate="20")])
    november = validate_draft(data, today=TODAY)
    with pytest.raises(ValidationFailed) as failed:
        november.renewed("13", date(2026, 1, 31), month_of(date(2026, 1, 1)))
    assert [(e.field, e.code) for e in failed.value.errors] == [("items.0.vat_rate", "VAT-RATE-INVALID")]


def test_renewal_checks_the_new_number_and_the_period_presence() -> None:
    draft = validate_draft(form(), today=TODAY)
    with pytest.raises(ValidationFailed) as failed:
        draft.renewed("", date(2026, 12, 31), None)
    assert [(e.field, e.code) for e in failed.value.errors] == [("number", "REQUIRED"), ("period", "REQUIRED")]
