"""The «Repeat monthly» form: numbering, schedule, signatories. The same fields stand on their own page (from a
document) and in a section of the draft form (the draft becomes the template).

Input names are the paths `signing.subscriptions` reports errors at (`number_pattern`, `issue_day`, `last_month`);
the signatory rows are the send form's (`signatories-2-email`, `order`, via `RoundForm`), and the domain's
`signatories.2.email` lands there. What cannot even be read (a month that is not ММ.ГГГГ, a day that is not a
number) is reported at its field together with whatever the domain finds in the rest.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from werkzeug.datastructures import MultiDict

from signing import subscriptions
from signing.drafting import Period, month_of, previous_month
from signing.drafting.periods import add_months
from signing.errors import FieldError, ValidationFailed
from signing.models import Document, PeriodMode, SigningOrder, Subscription
from signing.subscriptions import SubscriptionTerms, suggested_numbering
from web.errors import field_message
from web.round_form import ROW_KEYS, RoundForm

__all__ = ["SCHEDULE_FIELDS", "SubscriptionForm", "month_text", "parse_month"]

SCHEDULE_FIELDS = ("number_pattern", "next_number", "issue_day", "first_month", "last_month", "period_mode",
                   "notice_days")
"""The inputs besides the signatories, in the order the form shows them."""
MAX_VALUE_LENGTH = 100
_MONTH = re.compile(r"(?:(\d{1,2})\.)?(\d{1,2})\.(\d{4})|(\d{4})-(\d{1,2})(?:-\d{1,2})?")
_SIGNATORY_PATH = re.compile(r"signatories\.(\d+)\.([a-z]+)")
_STAND_IN = 1
"""What an unreadable day or counter is checked as, so that the other fields are still judged."""
T = TypeVar("T")
E = TypeVar("E", PeriodMode, SigningOrder)


def month_text(day: date | None) -> str:
    """A month as the form shows it: «12.2026»."""
    return "" if day is None else f"{day.month:02d}.{day.year:04d}"


def parse_month(text: str, path: str) -> date | None:
    """The 1st of the month typed as ММ.ГГГГ (ДД.ММ.ГГГГ or ГГГГ-ММ taken too); None when empty; FieldError
    MONTH-FORMAT otherwise."""
    cleaned = text.strip()
    if not cleaned:
        return None
    found = _MONTH.fullmatch(cleaned)
    if found is None:
        raise FieldError(path, "MONTH-FORMAT")
    _day, month, year, iso_year, iso_month = found.groups()
    try:
        return date(int(year or iso_year), int(month or iso_month), 1)
    except ValueError:
        raise FieldError(path, "MONTH-FORMAT") from None


def _number(text: str, path: str, code: str, **params: int) -> int:
    cleaned = text.strip()
    if not cleaned.isdigit() or len(cleaned) > 9:
        raise FieldError(path, code, **params)
    return int(cleaned)


@dataclass
class SubscriptionForm:
    """The form as the person filled it in (text as typed) and the errors at each input."""

    number_pattern: str = "{n}"
    next_number: str = "1"
    issue_day: str = "5"
    first_month: str = ""
    """ММ.ГГГГ."""
    last_month: str = ""
    """ММ.ГГГГ, or empty: until cancelled."""
    period_mode: str = PeriodMode.PREVIOUS_MONTH.value
    notice_days: str = "3"
    """Days before each issue day the initiator is told (0: not told)."""
    auto_sign: bool = False
    repeat: bool = False
    """The draft form's «Повторять ежемесячно» switch (the document page's own form does not need it)."""
    signatories: RoundForm = field(default_factory=RoundForm)
    """The signatory rows and the order (its deadline and «I sign too» are not used here)."""
    errors: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def blank(cls, today: date) -> SubscriptionForm:
        """For a new draft: from the month just ended, issued on today's day of the month (at most the 28th)."""
        return cls(first_month=month_text(previous_month(today).start), issue_day=str(min(today.day, 28)))

    @classmethod
    def for_document(cls, document: Document) -> SubscriptionForm:
        """Continuing `document`: its numbering, the month after its period, its day of issue, the period mode its
        date shows, and its round's signatories (the initiator's own row is auto-signing instead)."""
        period = Period(document.period_start, document.period_end) \
            if document.period_start and document.period_end else None
        pattern, next_number = suggested_numbering(document.number, period)
        issued = document.document_date
        after = add_months(period.start, 1) if period else None
        mode = PeriodMode.CURRENT_MONTH if period and issued and month_of(issued) == month_of(period.start) \
            else PeriodMode.PREVIOUS_MONTH
        people = sorted(document.signatories, key=lambda signatory: signatory.position)
        rows = [{"name": s.name, "email": s.email, "organization": s.organization or "", "role": s.role or ""}
                for s in people if not s.is_initiator]
        return cls(
            number_pattern=pattern, next_number=str(next_number),
            issue_day=str(min(issued.day, 28)) if issued else "5", first_month=month_text(after),
            period_mode=mode.value, auto_sign=any(s.is_initiator for s in people),
            signatories=RoundForm(rows, max(1, 2 - len(rows)), order=document.signing_order),
        )

    @classmethod
    def from_form(cls, form: MultiDict[str, str], default: SubscriptionForm | None = None) -> SubscriptionForm:
        """What was posted; an input missing from the post keeps `default`'s value."""
        base = default or cls()
        values = {name: form.get(name, getattr(base, name))[:MAX_VALUE_LENGTH] for name in SCHEDULE_FIELDS}
        signatories = RoundForm.from_form(form) if any(_is_row(name) for name in form) or "order" in form \
            else base.signatories
        return cls(**values, auto_sign=form.get("auto_sign") == "y", repeat=form.get("repeat") == "y",
                   signatories=signatories)

    def row_action(self, action: str) -> bool:
        """Add or remove a signatory row (the form is submitted to do it, so it works without JavaScript)."""
        if action == "add_signatory":
            self.signatories.add_row()
            return True
        index = action.removeprefix("remove_signatory:")
        if action.startswith("remove_signatory:") and index.isdigit():
            self.signatories.remove_row(int(index))
            return True
        return False

    def terms(self, today: date) -> tuple[SubscriptionTerms, list[FieldError]]:
        """The terms to hand the domain, and the inputs that could not be read (checked as a harmless stand-in,
        so the domain still judges the rest; `attach` drops its verdict on a stand-in)."""
        unreadable: list[FieldError] = []
        first = _read(lambda: parse_month(self.first_month, "first_month") or _required("first_month"),
                      month_of(today).start, unreadable)
        last = _read(lambda: parse_month(self.last_month, "last_month"), None, unreadable)
        issue_day = _read(lambda: _number(self.issue_day, "issue_day", "ISSUE-DAY-RANGE", minimum=1, maximum=28),
                          _STAND_IN, unreadable)
        next_number = _read(lambda: _number(self.next_number, "next_number", "NUMBER-RANGE"), _STAND_IN,
                            unreadable)
        notice_days = _read(lambda: _number(self.notice_days, "notice_days", "NOTICE-DAYS-RANGE", minimum=0,
                                            maximum=14), 3, unreadable)
        mode = _read(lambda: _choice(PeriodMode, self.period_mode, "period_mode", "CHOICE-INVALID"),
                     PeriodMode.PREVIOUS_MONTH, unreadable)
        order = _read(lambda: _choice(SigningOrder, self.signatories.order or "parallel", "order", "ORDER-INVALID"),
                      SigningOrder.PARALLEL, unreadable)
        if any(error.field == "first_month" for error in unreadable):
            last = None  # no "last before first" against a stand-in month
        people = [{key: row.get(key, "").strip() for key in ROW_KEYS} for row in self.signatories.rows]
        terms = SubscriptionTerms(
            number_pattern=self.number_pattern.strip(), issue_day=issue_day, first_month=first, period_mode=mode,
            last_month=last, next_number=next_number, auto_sign=self.auto_sign, notice_days=notice_days,
            signatories=people,
            signing_order=order,
        )
        return terms, unreadable

    def submit(self, today: date, create: Callable[[SubscriptionTerms], Subscription]
               ) -> tuple[Subscription | None, list[FieldError]]:
        """`create` with the terms read from the form. On any error — an input that cannot be read, or the domain's
        ValidationFailed — None: this form's errors are attached here, the others (the draft's) returned, and the
        caller rolls back whatever `create` flushed."""
        terms, unreadable = self.terms(today)
        try:
            made: Subscription | None = create(terms)
            found: list[FieldError] = []
        except ValidationFailed as failure:
            made, found = None, failure.errors
        if made is not None and not unreadable:
            return made, []
        self.attach([error for error in found if self.owns(error.field)], unreadable)
        return None, [error for error in found if not self.owns(error.field)]

    def attach(self, errors: Iterable[FieldError], unreadable: Iterable[FieldError] = ()) -> None:
        """Each error's words at its input; the domain's verdict on an input that could not be read is dropped
        (the reading error says what is wrong there)."""
        unread = list(unreadable)
        skipped = {error.field for error in unread}
        for error in [*unread, *(e for e in errors if e.field not in skipped)]:
            row = _SIGNATORY_PATH.fullmatch(error.field)
            if row is not None:
                self.signatories.attach([FieldError(f"signatories-{row.group(1)}-{row.group(2)}", error.code,
                                                    **error.params)])
            elif error.field == "order":
                self.signatories.attach([error])
            else:
                self.errors.setdefault(error.field, []).append(field_message(error))

    @staticmethod
    def owns(path: str) -> bool:
        """Whether an error at `path` belongs on this form (the rest are the draft's)."""
        return path in SCHEDULE_FIELDS or path in ("order", "signatories") or \
            _SIGNATORY_PATH.fullmatch(path) is not None

    def unplaced_errors(self) -> list[str]:
        """Messages with no input of their own here: about the document the subscription repeats."""
        return [text for path, texts in self.errors.items() if path not in SCHEDULE_FIELDS for text in texts]

    def examples(self, count: int = 3) -> tuple[list[tuple[str, str]], str | None]:
        """(number, month ММ.ГГГГ) of the first `count` documents the pattern gives, or the reason there are none."""
        try:
            first = parse_month(self.first_month, "first_month") or _required("first_month")
            counter = _number(self.next_number, "next_number", "NUMBER-RANGE")
        except FieldError as error:
            return [], field_message(error)
        problem = subscriptions.pattern_error(self.number_pattern.strip())
        if problem is not None:
            return [], field_message(problem)
        months = [month_of(add_months(first, step)) for step in range(count)]
        return [(subscriptions.format_number(self.number_pattern.strip(), counter + step, month),
                 month_text(month.start)) for step, month in enumerate(months)], None

    def value(self, path: str) -> str:
        return str(getattr(self, path, "")) if path in SCHEDULE_FIELDS else ""

    def errors_at(self, path: str) -> list[str]:
        return self.errors.get(path, [])

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.signatories.errors)


def _read(parse: Callable[[], T], stand_in: T, unreadable: list[FieldError]) -> T:
    try:
        return parse()
    except FieldError as error:
        unreadable.append(error)
        return stand_in


def _required(path: str) -> date:
    raise FieldError(path, "REQUIRED")


def _choice(enum: type[E], value: str, path: str, code: str) -> E:
    try:
        return enum(value)
    except ValueError:
        raise FieldError(path, code) from None


def _is_row(name: str) -> bool:
    return name.startswith("signatories-")
