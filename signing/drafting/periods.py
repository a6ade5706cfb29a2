"""The period a periodic document covers: entered as ДД.ММ.ГГГГ, at most one calendar month, never in the future."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from signing.drafting.fields import Collector, format_date, parse_date
from signing.errors import FieldError, ValidationFailed

__all__ = [
    "Period",
    "add_months",
    "month_of",
    "overlap_error",
    "overlaps",
    "parse_period",
    "previous_month",
]

MONTHS = ("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь", "ноябрь",
          "декабрь")
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Period:
    """An interval of whole days, both ends included."""

    start: date
    end: date
    """Not before `start`."""

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValidationFailed([FieldError("period.end", "PERIOD-END-BEFORE-START")])

    @property
    def is_calendar_month(self) -> bool:
        """Whether the period is exactly one calendar month, 1st to last day."""
        return self.start.day == 1 and self.end == month_of(self.start).end

    def label(self) -> str:
        """«за ноябрь 2026 г.» for a calendar month, else «с 01.11.2026 по 15.11.2026»."""
        if self.is_calendar_month:
            return f"за {MONTHS[self.start.month - 1]} {self.start.year} г."
        return f"с {format_date(self.start)} по {format_date(self.end)}"

    def to_dict(self) -> dict[str, str]:
        """ISO dates, for storage."""
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Period:
        return cls(date.fromisoformat(str(data["start"])), date.fromisoformat(str(data["end"])))


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier); the month's last day where it is shorter (31.01 + 1 → 28.02)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def month_of(day: date) -> Period:
    """The calendar month that contains `day`."""
    return Period(day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1]))


def previous_month(today: date) -> Period:
    """The calendar month before the one that contains `today`: what a monthly subscription issues for."""
    return month_of(today.replace(day=1) - ONE_DAY)


def overlaps(a: Period, b: Period) -> bool:
    """Whether the two periods share at least one day."""
    return a.start <= b.end and b.start <= a.end


def parse_period(start_text: object, end_text: object, *, today: date) -> Period:
    """A period from the form's two ДД.ММ.ГГГГ fields, checked against the rules; ValidationFailed lists every
    broken one (PERIOD-FORMAT, PERIOD-END-BEFORE-START, PERIOD-TOO-LONG, PERIOD-IN-FUTURE) at `period.start` or
    `period.end`. `today` is the current day in the service's time zone: the caller owns the clock."""
    collector = Collector()
    start = collector.take(lambda: parse_date(start_text, "period.start", "PERIOD-FORMAT"))
    end = collector.take(lambda: parse_date(end_text, "period.end", "PERIOD-FORMAT"))
    for error in _rule_errors(start, end, today):
        collector.add(error)
    collector.raise_if_any()
    assert start is not None and end is not None
    return Period(start, end)


def _rule_errors(start: date | None, end: date | None, today: date) -> list[FieldError]:
    """The rules that the dates read so far break (an unreadable start still lets a future end be reported)."""
    if end is None:
        return []
    errors: list[FieldError] = []
    if start is not None and end < start:
        errors.append(FieldError("period.end", "PERIOD-END-BEFORE-START"))
    elif start is not None and end >= add_months(start, 1):
        latest_end = format_date(add_months(start, 1) - ONE_DAY)
        errors.append(FieldError("period.end", "PERIOD-TOO-LONG", latest_end=latest_end))
    if end > today:
        errors.append(FieldError("period.end", "PERIOD-IN-FUTURE", today=format_date(today)))
    return errors


def overlap_error(number: str, issued: date, existing: Period) -> FieldError:
    """The error the documents service raises when the period overlaps an existing document of the same kind between
    the same parties; it names that document («№ 12 от 30.11.2026, за ноябрь 2026 г.»)."""
    return FieldError(
        "period.start", "PERIOD-OVERLAP", number=number, date=format_date(issued), period=existing.label()
    )
