"""Periods: ДД.ММ.ГГГГ only, end not before start, at most one calendar month, not in the future; overlaps."""

from __future__ import annotations

from datetime import date

import pytest

from signing.drafting.periods import (
    Period,
    add_months,
    month_of,
    overlap_error,
    overlaps,
    parse_period,
    previous_month,
)
from signing.errors import ValidationFailed

TODAY = date(2026, 12, 10)


def errors(start: object, end: object, today: date = TODAY) -> list[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as failed:
        parse_period(start, end, today=today)
    return [(e.field, e.code) for e in failed.value.errors]


@pytest.mark.parametrize(("start", "end"), [
    ("15.01.2026", "14.02.2026"),
    ("01.02.2026", "28.02.2026"),
    ("01.11.2026", "30.11.2026"),
    ("01.12.2026", "10.12.2026"),  # ends today
    ("05.05.2026", "05.05.2026"),  # one day
    ("31.01.2026", "27.02.2026"),
])
def test_periods_within_one_calendar_month_are_accepted(start: str, end: str) -> None:
    period = parse_period(start, end, today=TODAY)
    assert (period.start.strftime("%d.%m.%Y"), period.end.strftime("%d.%m.%Y")) == (start, end)


@pytest.mark.parametrize(("start", "end"), [
    ("15.01.2026", "15.02.2026"),
    ("01.02.2026", "01.03.2026"),
    ("01.01.2026", "31.03.2026"),
    ("31.01.2026", "28.02.2026"),  # a month from 31.01 ends on the last day of February: not included
])
def test_a_period_longer_than_one_calendar_month_is_refused(start: str, end: str) -> None:
    assert errors(start, end) == [("period.end", "PERIOD-TOO-LONG")]


def test_too_long_names_the_latest_allowed_end() -> None:
    with pytest.raises(ValidationFailed) as failed:
        parse_period("15.01.2026", "15.02.2026", today=TODAY)
    assert failed.value.errors[0].params == {"latest_end": "14.02.2026"}


def test_the_end_may_not_precede_the_start() -> None:
    assert errors("10.11.2026", "09.11.2026") == [("period.end", "PERIOD-END-BEFORE-START")]


def test_a_period_may_not_end_after_today() -> None:
    assert errors("01.12.2026", "11.12.2026") == [("period.end", "PERIOD-IN-FUTURE")]
    assert parse_period("01.12.2026", "11.12.2026", today=date(2026, 12, 11)).end == date(2026, 12, 11)


@pytest.mark.parametrize("text", ["1.11.2026", "2026-11-01", "01/11/2026", "01.11.26", "31.11.2026", "29.02.2026",
                                  "01.13.2026", " 01.11.2026x", ["01.11.2026"], "15.12.9999", "01.01.0001"])
def test_only_real_dates_written_as_dd_mm_yyyy_are_read(text: object) -> None:
    assert errors(text, "30.11.2026") == [("period.start", "PERIOD-FORMAT")]


def test_empty_dates_are_required_and_every_broken_rule_is_reported() -> None:
    assert errors("", None) == [("period.start", "REQUIRED"), ("period.end", "REQUIRED")]
    assert errors("junk", "31.12.2026") == [("period.start", "PERIOD-FORMAT"), ("period.end", "PERIOD-IN-FUTURE")]
    assert errors("01.01.2027", "31.12.2026") == [("period.end", "PERIOD-END-BEFORE-START"),
                                                  ("period.end", "PERIOD-IN-FUTURE")]


def test_a_period_cannot_be_constructed_backwards() -> None:
    with pytest.raises(ValidationFailed):
        Period(date(2026, 11, 2), date(2026, 11, 1))


def test_overlapping_periods_share_a_day() -> None:
    november = month_of(date(2026, 11, 15))
    assert overlaps(november, Period(date(2026, 11, 30), date(2026, 12, 5)))
    assert overlaps(november, Period(date(2026, 11, 10), date(2026, 11, 12)))
    assert overlaps(Period(date(2026, 10, 20), date(2026, 11, 1)), november)
    assert not overlaps(november, Period(date(2026, 12, 1), date(2026, 12, 5)))
    assert not overlaps(Period(date(2026, 10, 1), date(2026, 10, 31)), november)


def test_month_of_and_previous_month_are_calendar_months() -> None:
    assert month_of(date(2028, 2, 10)) == Period(date(2028, 2, 1), date(2028, 2, 29))
    assert previous_month(date(2026, 1, 1)) == Period(date(2025, 12, 1), date(2025, 12, 31))
    assert previous_month(date(2026, 3, 31)) == Period(date(2026, 2, 1), date(2026, 2, 28))


def test_add_months_keeps_the_day_or_takes_the_months_last() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 12, 15), 1) == date(2027, 1, 15)
    assert add_months(date(2026, 1, 15), -1) == date(2025, 12, 15)


def test_labels_name_a_calendar_month_or_the_dates() -> None:
    assert month_of(date(2026, 11, 3)).label() == "за ноябрь 2026 г."
    assert Period(date(2026, 11, 1), date(2026, 11, 15)).label() == "с 01.11.2026 по 15.11.2026"
    assert Period(date(2026, 1, 15), date(2026, 2, 14)).label() == "с 15.01.2026 по 14.02.2026"


def test_the_overlap_error_names_the_existing_document() -> None:
    error = overlap_error("12", date(2026, 11, 30), month_of(date(2026, 11, 1)))
    assert (error.field, error.code) == ("period.start", "PERIOD-OVERLAP")
    assert error.params == {"number": "12", "date": "30.11.2026", "period": "за ноябрь 2026 г."}


def test_a_period_round_trips_through_its_dict() -> None:
    period = Period(date(2026, 11, 1), date(2026, 11, 15))
    assert period.to_dict() == {"start": "2026-11-01", "end": "2026-11-15"}
    assert Period.from_dict(period.to_dict()) == period
