"""Line items, VAT on top per line, totals per rate, amounts in Russian words and figures."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from signing.drafting.money import (
    LineItem,
    Totals,
    VatRate,
    amount_in_words,
    format_amount,
    format_quantity,
    parse_item,
    vat_rate_error,
)
from signing.errors import ValidationFailed

from .examples import item


def line(quantity: str, price: str, rate: VatRate) -> LineItem:
    return LineItem("Услуга", Decimal(quantity), "шт", Decimal(price), rate)


@pytest.mark.parametrize(("amount", "words"), [
    ("0", "Ноль рублей 00 копеек"),
    ("1", "Один рубль 00 копеек"),
    ("2", "Два рубля 00 копеек"),
    ("5", "Пять рублей 00 копеек"),
    ("11", "Одиннадцать рублей 00 копеек"),
    ("12", "Двенадцать рублей 00 копеек"),
    ("14", "Четырнадцать рублей 00 копеек"),
    ("21", "Двадцать один рубль 00 копеек"),
    ("22", "Двадцать два рубля 00 копеек"),
    ("101", "Сто один рубль 00 копеек"),
    ("111", "Сто одиннадцать рублей 00 копеек"),
    ("1000", "Одна тысяча рублей 00 копеек"),
    ("1001", "Одна тысяча один рубль 00 копеек"),
    ("2000", "Две тысячи рублей 00 копеек"),
    ("5000", "Пять тысяч рублей 00 копеек"),
    ("11000", "Одиннадцать тысяч рублей 00 копеек"),
    ("21000", "Двадцать одна тысяча рублей 00 копеек"),
    ("22222", "Двадцать две тысячи двести двадцать два рубля 00 копеек"),
    ("1000000", "Один миллион рублей 00 копеек"),
    ("3004005", "Три миллиона четыре тысячи пять рублей 00 копеек"),
    ("2000000000", "Два миллиарда рублей 00 копеек"),
    ("5000000000000", "Пять триллионов рублей 00 копеек"),
    ("123.45", "Сто двадцать три рубля 45 копеек"),
    ("0.01", "Ноль рублей 01 копейка"),
    ("0.02", "Ноль рублей 02 копейки"),
    ("0.05", "Ноль рублей 05 копеек"),
    ("0.11", "Ноль рублей 11 копеек"),
    ("0.21", "Ноль рублей 21 копейка"),
    ("3661.22", "Три тысячи шестьсот шестьдесят один рубль 22 копейки"),
    ("999999999999999.99", "Девятьсот девяносто девять триллионов девятьсот девяносто девять миллиардов "
                           "девятьсот девяносто девять миллионов девятьсот девяносто девять тысяч "
                           "девятьсот девяносто девять рублей 99 копеек"),
])
def test_amount_in_words_declines_and_agrees_in_gender(amount: str, words: str) -> None:
    assert amount_in_words(Decimal(amount)) == words


@pytest.mark.parametrize("amount", ["-1", "1000000000000000", "NaN"])
def test_amount_in_words_refuses_what_no_document_can_total(amount: str) -> None:
    with pytest.raises(ValueError, match="out of range"):
        amount_in_words(Decimal(amount))


def test_amounts_are_written_with_grouped_thousands_and_a_decimal_comma() -> None:
    assert format_amount(Decimal("1234567.89")).replace("\u00a0", " ") == "1 234 567,89"
    assert format_amount(Decimal("5")) == "5,00"
    assert format_amount(Decimal("0.005")) == "0,01"
    assert format_quantity(Decimal("2.500")) == "2,5"
    assert format_quantity(Decimal("100")) == "100"


def test_vat_is_charged_on_top_of_each_line_and_rounded_half_up() -> None:
    item = line("3", "0.05", VatRate.TWENTY_TWO)  # 0,15 × 22 % = 0,033
    assert (item.net, item.vat, item.gross) == (Decimal("0.15"), Decimal("0.03"), Decimal("0.18"))
    item = line("1", "0.25", VatRate.TWENTY_TWO)  # 0,055 → 0,06
    assert item.vat == Decimal("0.06")
    item = line("1.5", "0.99", VatRate.TEN)  # 1,485 → 1,49; VAT 0,149 → 0,15
    assert (item.net, item.vat) == (Decimal("1.49"), Decimal("0.15"))


def test_totals_sum_rounded_lines_per_rate_and_overall() -> None:
    items = [line("1", "0.25", VatRate.TWENTY_TWO), line("1", "0.25", VatRate.TWENTY_TWO),
             line("2", "100", VatRate.TEN), line("1", "50", VatRate.NONE)]
    totals = Totals.of(items)
    assert [(t.rate, t.net, t.vat, t.gross) for t in totals.by_rate] == [
        (VatRate.NONE, Decimal("50.00"), Decimal("0.00"), Decimal("50.00")),
        (VatRate.TEN, Decimal("200.00"), Decimal("20.00"), Decimal("220.00")),
        (VatRate.TWENTY_TWO, Decimal("0.50"), Decimal("0.12"), Decimal("0.62")),  # 0,06 + 0,06, not 0,11
    ]
    assert (totals.net, totals.vat, totals.gross) == (Decimal("250.50"), Decimal("20.12"), Decimal("270.62"))
    assert totals.charges_vat


def test_a_document_without_vat_says_so() -> None:
    totals = Totals.of([line("1", "10", VatRate.NONE)])
    assert not totals.charges_vat
    assert totals.vat == Decimal("0.00")


@pytest.mark.parametrize(("text", "rate"), [
    ("без НДС", VatRate.NONE), ("Без ндс", VatRate.NONE), ("none", VatRate.NONE), ("0", VatRate.ZERO),
    ("20%", VatRate.TWENTY), ("22 %", VatRate.TWENTY_TWO), ("5", VatRate.FIVE), ("7", VatRate.SEVEN),
])
def test_vat_rates_are_read_as_forms_send_them(text: str, rate: VatRate) -> None:
    assert VatRate.parse(text, "r") is rate


def test_the_general_rate_is_22_from_2026_and_20_before() -> None:
    assert vat_rate_error(VatRate.TWENTY, date(2025, 12, 31), "r") is None
    assert vat_rate_error(VatRate.TWENTY, date(2026, 1, 1), "r") is not None
    assert vat_rate_error(VatRate.TWENTY_TWO, date(2026, 1, 1), "r") is None
    assert vat_rate_error(VatRate.TWENTY_TWO, date(2025, 12, 31), "r") is not None
    assert vat_rate_error(VatRate.FIVE, date(2024, 12, 31), "r") is not None
    assert vat_rate_error(VatRate.TEN, date(2020, 1, 1), "r") is None


def test_an_item_is_read_from_form_text() -> None:
    parsed = parse_item(item(quantity="1 000,125", price="1 234 567,8", vat_rate="без НДС"), "items.0")
    assert (parsed.quantity, parsed.price, parsed.vat_rate) == (Decimal("1000.125"), Decimal("1234567.8"),
                                                                 VatRate.NONE)


@pytest.mark.parametrize(("field", "value", "code"), [
    ("quantity", "0", "QUANTITY-INVALID"),
    ("quantity", "-1", "QUANTITY-INVALID"),
    ("quantity", "1,2345", "QUANTITY-INVALID"),
    ("quantity", "1e3", "QUANTITY-INVALID"),
    ("quantity", "", "REQUIRED"),
    ("price", "10,001", "PRICE-INVALID"),
    ("price", "NaN", "PRICE-INVALID"),
    ("price", "1 000 000 000 000", "PRICE-INVALID"),
    ("price", ["1"], "PRICE-INVALID"),
    ("vat_rate", "18", "VAT-RATE-INVALID"),
    ("name", "", "REQUIRED"),
    ("unit", "x" * 21, "TOO-LONG"),
])
def test_a_wrong_item_field_is_reported_at_its_path(field: str, value: object, code: str) -> None:
    with pytest.raises(ValidationFailed) as failed:
        parse_item({**item(), field: value}, "items.3")
    assert [(e.field, e.code) for e in failed.value.errors] == [(f"items.3.{field}", code)]


def test_a_price_of_zero_and_trailing_zeros_beyond_kopecks_are_accepted() -> None:
    assert parse_item(item(price="0"), "i").price == 0
    assert parse_item(item(price="10,500"), "i").price == Decimal("10.5")


def test_a_waybill_item_needs_its_weight() -> None:
    with pytest.raises(ValidationFailed) as failed:
        parse_item(item(), "items.0", weight_required=True)
    assert [(e.field, e.code) for e in failed.value.errors] == [("items.0.weight_kg", "REQUIRED")]
    assert parse_item(item(weight_kg="12,5"), "items.0", weight_required=True).weight_kg == Decimal("12.5")


def test_an_item_round_trips_through_its_dict() -> None:
    parsed = parse_item(item(quantity="2,50", price="0,10", weight_kg="1"), "i")
    again = parse_item(parsed.to_dict(), "i")
    assert again == parsed
    assert str(again.quantity) == "2.50"


def test_an_item_cannot_be_constructed_out_of_range() -> None:
    with pytest.raises(ValidationFailed) as failed:
        LineItem("x", Decimal("0"), "шт", Decimal("-1"), VatRate.TEN)
    assert [e.code for e in failed.value.errors] == ["QUANTITY-INVALID", "PRICE-INVALID"]
