"""Line items, VAT and totals in roubles and kopecks, the amount in Russian words, amounts as Russians write them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from signing.drafting.fields import Collector, line_text, required_line, text_errors
from signing.errors import FieldError, ValidationFailed

__all__ = [
    "KOPECK",
    "MAX_TOTAL",
    "UNITS",
    "LineItem",
    "RateTotal",
    "Totals",
    "VatRate",
    "amount_in_words",
    "format_amount",
    "format_quantity",
    "parse_item",
    "vat_rate_error",
]

KOPECK = Decimal("0.01")
MAX_PRICE = Decimal("999999999999.99")
MAX_QUANTITY = Decimal("999999999.999")
MAX_TOTAL = Decimal("999999999999999.99")
"""The largest document total: the amount in words goes up to триллионы."""
MAX_ITEM_NAME_LENGTH = 1000
MAX_UNIT_LENGTH = 20
UNITS = ("шт", "ч", "усл. ед.", "кг", "т", "м", "м²", "м³", "км", "л", "компл.", "мес.", "рейс")
"""Units the form suggests; any short unit is accepted."""

GENERAL_RATE_22_FROM = date(2026, 1, 1)
"""The general VAT rate is 22 % for documents dated from this day, 20 % before it."""
REDUCED_USN_RATES_FROM = date(2025, 1, 1)
"""The 5 % and 7 % rates (simplified tax system payers) exist from this day."""

_NUMBER = re.compile(r"(\d{1,15})(?:\.(\d{1,15}))?")
_NUMBER_SEPARATORS = re.compile(r"[\s\u00a0\u202f']")


class VatRate(StrEnum):
    """A VAT rate a line item may carry; the value is what storage and forms use."""

    NONE = "none"
    """«Без НДС»: the seller does not charge VAT."""
    ZERO = "0"
    FIVE = "5"
    SEVEN = "7"
    TEN = "10"
    TWENTY = "20"
    TWENTY_TWO = "22"

    @property
    def percent(self) -> Decimal | None:
        """The rate in per cent; None for «без НДС»."""
        return None if self is VatRate.NONE else Decimal(self.value)

    @property
    def label(self) -> str:
        """«без НДС» or «22 %», as documents print the rate."""
        return "без НДС" if self is VatRate.NONE else f"{self.value}\u00a0%"

    @classmethod
    def parse(cls, value: object, path: str) -> VatRate:
        """A rate as a form sends it: «без НДС»/«none», «20», «20%», «20 %»."""
        text = line_text(value)
        if text == "":
            raise FieldError(path, "REQUIRED")
        normalised = (text or "").lower().replace(" ", "").removesuffix("%")
        if normalised in ("безндс", "none"):
            return cls.NONE
        try:
            return cls(normalised)
        except ValueError:
            raise FieldError(path, "VAT-RATE-INVALID") from None


def vat_rate_error(rate: VatRate, on: date, path: str) -> FieldError | None:
    """Whether `rate` may appear on a document dated `on`: 22 % from 2026, 20 % before, 5 and 7 % from 2025."""
    if rate is VatRate.TWENTY and on >= GENERAL_RATE_22_FROM:
        return FieldError(path, "VAT-RATE-INVALID", rate=rate.value, reason="replaced-by-22", date=on.isoformat())
    if rate is VatRate.TWENTY_TWO and on < GENERAL_RATE_22_FROM:
        return FieldError(path, "VAT-RATE-INVALID", rate=rate.value, reason="not-yet-in-force", date=on.isoformat())
    if rate in (VatRate.FIVE, VatRate.SEVEN) and on < REDUCED_USN_RATES_FROM:
        return FieldError(path, "VAT-RATE-INVALID", rate=rate.value, reason="not-yet-in-force", date=on.isoformat())
    return None


def _kopecks(value: Decimal) -> Decimal:
    return value.quantize(KOPECK, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class LineItem:
    """One line of a document: what, how much, at what price before VAT, and the VAT rate charged on top."""

    name: str
    quantity: Decimal
    """Positive, at most three decimal places."""
    unit: str
    """Unit of measure: шт, ч, усл. ед., кг, т, м, км..."""
    price: Decimal
    """Price of one unit excluding VAT, in roubles with kopecks (at most two decimal places), not negative."""
    vat_rate: VatRate
    weight_kg: Decimal | None = None
    """Gross cargo weight of the line in kilograms (waybills require it), positive, at most three decimals."""

    def __post_init__(self) -> None:
        errors = _item_errors(self, "item")
        if errors:
            raise ValidationFailed(errors)

    @property
    def net(self) -> Decimal:
        """Quantity × price, rounded half up to kopecks."""
        return _kopecks(self.quantity * self.price)

    @property
    def vat(self) -> Decimal:
        """VAT charged on top of the net amount, rounded half up to kopecks; zero for «без НДС»."""
        percent = self.vat_rate.percent
        return Decimal("0.00") if percent is None else _kopecks(self.net * percent / 100)

    @property
    def gross(self) -> Decimal:
        return self.net + self.vat

    def to_dict(self) -> dict[str, str | None]:
        return {
            "name": self.name,
            "quantity": f"{self.quantity:f}",
            "unit": self.unit,
            "price": f"{self.price:f}",
            "vat_rate": self.vat_rate.value,
            "weight_kg": None if self.weight_kg is None else f"{self.weight_kg:f}",
        }


def parse_item(data: Mapping[str, object], path: str, *, weight_required: bool = False) -> LineItem:
    """A line item from form input (`name`, `quantity`, `unit`, `price`, `vat_rate`, `weight_kg`), errors at
    `<path>.<field>`. Stored items (`LineItem.to_dict`) read back through here too."""
    collector = Collector()
    name = collector.take(lambda: required_line(data, "name", f"{path}.name", MAX_ITEM_NAME_LENGTH))
    unit = collector.take(lambda: required_line(data, "unit", f"{path}.unit", MAX_UNIT_LENGTH))
    quantity = collector.take(lambda: _decimal(data.get("quantity"), f"{path}.quantity", _QUANTITY))
    price = collector.take(lambda: _decimal(data.get("price"), f"{path}.price", _PRICE))
    vat_rate = collector.take(lambda: VatRate.parse(data.get("vat_rate"), f"{path}.vat_rate"))
    weight = collector.take(lambda: _optional_decimal(data.get("weight_kg"), f"{path}.weight_kg"))
    if weight_required and weight is None and not any(e.field == f"{path}.weight_kg" for e in collector.errors):
        collector.add(FieldError(f"{path}.weight_kg", "REQUIRED"))
    collector.raise_if_any()
    assert name is not None and unit is not None and quantity is not None and price is not None
    assert vat_rate is not None
    return _checked(name, quantity, unit, price, vat_rate, weight, path)


def _checked(
    name: str, quantity: Decimal, unit: str, price: Decimal, vat_rate: VatRate, weight: Decimal | None, path: str
) -> LineItem:
    """The item, its range errors reported at `path` rather than at the constructor's generic "item"."""
    try:
        return LineItem(name, quantity, unit, price, vat_rate, weight)
    except ValidationFailed as failed:
        raise ValidationFailed(
            [FieldError(path + e.field.removeprefix("item"), e.code, **e.params) for e in failed.errors]
        ) from None


@dataclass(frozen=True)
class _Bounds:
    """What a decimal field accepts."""

    code: str
    places: int
    maximum: Decimal
    zero_allowed: bool


_QUANTITY = _Bounds("QUANTITY-INVALID", 3, MAX_QUANTITY, zero_allowed=False)
_PRICE = _Bounds("PRICE-INVALID", 2, MAX_PRICE, zero_allowed=True)
_WEIGHT = _Bounds("WEIGHT-INVALID", 3, MAX_QUANTITY, zero_allowed=False)


def _item_errors(item: LineItem, path: str) -> list[FieldError]:
    errors = [
        *text_errors(item.name, f"{path}.name", MAX_ITEM_NAME_LENGTH),
        *text_errors(item.unit, f"{path}.unit", MAX_UNIT_LENGTH),
        *_bounds_errors(item.quantity, f"{path}.quantity", _QUANTITY),
        *_bounds_errors(item.price, f"{path}.price", _PRICE),
    ]
    if item.weight_kg is not None:
        errors += _bounds_errors(item.weight_kg, f"{path}.weight_kg", _WEIGHT)
    return errors


def _bounds_errors(value: Decimal, path: str, bounds: _Bounds) -> list[FieldError]:
    """Finite, not negative (positive unless zero is allowed), at most the maximum and the decimal places."""
    valid = (
        value.is_finite() and value >= 0 and value <= bounds.maximum and (bounds.zero_allowed or value > 0)
        and value == value.quantize(Decimal(1).scaleb(-bounds.places))
    )
    return [] if valid else [FieldError(path, bounds.code)]


def _decimal(value: object, path: str, bounds: _Bounds) -> Decimal:
    """A number as a form sends it: «1 234,56» or «1234.56»; no sign, no exponent, within `bounds`."""
    text = line_text(value)
    if text == "":
        raise FieldError(path, "REQUIRED")
    match = _NUMBER.fullmatch(_NUMBER_SEPARATORS.sub("", text or "").replace(",", "."))
    if match is None:
        raise FieldError(path, bounds.code)
    number = Decimal(match[0])
    errors = _bounds_errors(number, path, bounds)
    if errors:
        raise errors[0]
    return number


def _optional_decimal(value: object, path: str) -> Decimal | None:
    return None if line_text(value) == "" else _decimal(value, path, _WEIGHT)


@dataclass(frozen=True)
class RateTotal:
    """The sums of the lines that carry one VAT rate."""

    rate: VatRate
    net: Decimal
    vat: Decimal
    gross: Decimal


@dataclass(frozen=True)
class Totals:
    """A document's sums: overall and per VAT rate; VAT is computed per line on top of the net amount."""

    net: Decimal
    """Sum of the lines' net amounts (without VAT)."""
    vat: Decimal
    """Sum of the lines' VAT, each line rounded to kopecks first."""
    gross: Decimal
    """What is to be paid: net + VAT."""
    by_rate: tuple[RateTotal, ...]
    """One entry per rate that occurs, in the order of VatRate."""

    @classmethod
    def of(cls, items: Iterable[LineItem]) -> Totals:
        lines = tuple(items)
        by_rate = tuple(
            RateTotal(rate, *(_sum(getattr(line, part) for line in lines if line.vat_rate is rate)
                              for part in ("net", "vat", "gross")))
            for rate in VatRate
            if any(line.vat_rate is rate for line in lines)
        )
        return cls(
            net=_sum(t.net for t in by_rate), vat=_sum(t.vat for t in by_rate), gross=_sum(t.gross for t in by_rate),
            by_rate=by_rate,
        )

    @property
    def charges_vat(self) -> bool:
        """Whether any line carries a VAT rate (0 % included), as opposed to all «без НДС»."""
        return any(t.rate is not VatRate.NONE for t in self.by_rate)


def _sum(values: Iterable[Decimal]) -> Decimal:
    return sum(values, Decimal("0.00"))


def format_amount(value: Decimal) -> str:
    """«1 234 567,89»: groups of three split by a no-break space, decimal comma, always two kopeck digits."""
    return f"{_kopecks(value):,.2f}".replace(",", "\u00a0").replace(".", ",")


def format_quantity(value: Decimal) -> str:
    """«2», «2,5», «1 000,125»: no trailing zeros, decimal comma."""
    text = f"{value.normalize():,f}" if value != 0 else "0"
    return text.replace(",", "\u00a0").replace(".", ",")


_ONES_MASCULINE = ("", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять")
_ONES_FEMININE = ("", "одна", "две", *_ONES_MASCULINE[3:])
_TEENS = ("десять", "одиннадцать", "двенадцать", "тринадцать", "четырнадцать", "пятнадцать", "шестнадцать",
          "семнадцать", "восемнадцать", "девятнадцать")
_TENS = ("", "", "двадцать", "тридцать", "сорок", "пятьдесят", "шестьдесят", "семьдесят", "восемьдесят", "девяносто")
_HUNDREDS = ("", "сто", "двести", "триста", "четыреста", "пятьсот", "шестьсот", "семьсот", "восемьсот", "девятьсот")
_SCALES = (  # (forms for 1, 2–4, 5–20), feminine
    (("тысяча", "тысячи", "тысяч"), True),
    (("миллион", "миллиона", "миллионов"), False),
    (("миллиард", "миллиарда", "миллиардов"), False),
    (("триллион", "триллиона", "триллионов"), False),
)
_ROUBLES = ("рубль", "рубля", "рублей")
_KOPECKS = ("копейка", "копейки", "копеек")


def _plural(number: int, forms: tuple[str, str, str]) -> str:
    """The noun form agreeing with `number`: 1, 21 рубль; 2, 22 рубля; 5, 11, 12 рублей."""
    if 11 <= number % 100 <= 14:
        return forms[2]
    return forms[0] if number % 10 == 1 else forms[1] if 2 <= number % 10 <= 4 else forms[2]


def _triple(number: int, feminine: bool) -> list[str]:
    """Words for 1–999."""
    hundreds, rest = divmod(number, 100)
    words = [_HUNDREDS[hundreds]]
    if 10 <= rest <= 19:
        words.append(_TEENS[rest - 10])
    else:
        tens, ones = divmod(rest, 10)
        words += [_TENS[tens], (_ONES_FEMININE if feminine else _ONES_MASCULINE)[ones]]
    return [word for word in words if word]


def _integer_words(number: int) -> list[str]:
    """Words for a whole number of roubles (masculine), up to триллионы."""
    if number == 0:
        return ["ноль"]
    number, units = divmod(number, 1000)
    words = _triple(units, feminine=False)
    for forms, feminine in _SCALES:
        if number == 0:
            break
        number, group = divmod(number, 1000)
        if group:
            words = [*_triple(group, feminine), _plural(group, forms), *words]
    return words


def amount_in_words(amount: Decimal) -> str:
    """«Сто двадцать три рубля 45 копеек»: roubles in words, kopecks in two digits, as Russian accounting writes."""
    amount = _kopecks(amount)
    if not amount.is_finite() or amount < 0 or amount > MAX_TOTAL:
        raise ValueError(f"amount out of range: {amount}")
    roubles, kopecks = divmod(int(amount * 100), 100)
    words = [*_integer_words(roubles), _plural(roubles, _ROUBLES), f"{kopecks:02d}", _plural(kopecks, _KOPECKS)]
    text = " ".join(words)
    return text[0].upper() + text[1:]
