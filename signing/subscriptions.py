"""Monthly subscriptions: one document issued per calendar month from a template, exactly once per period.

The guard is the database, not the job: renewing a period first inserts its `SubscriptionPeriod` row, whose
unique (subscription, period start) makes a second run, a racing worker or a requeued job fail that insert and
skip the period. Each period is issued in its own transaction, so a crash half-way leaves whole periods only, and
the next run carries on from the last period that has a row (catch-up, in period order).
"""

from __future__ import annotations

import json
import logging
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from signing import documents, rounds, subscription_notices
from signing.config import Settings
from signing.drafting import DocumentKind, Draft, Period, month_of, validate_draft
from signing.drafting.draft import NUMBER_PATTERN
from signing.drafting.fields import format_date
from signing.drafting.periods import add_months
from signing.errors import (
    DocumentNotRepeatable,
    FieldError,
    SubscriptionNotChangeable,
    SubscriptionNotFound,
    ValidationFailed,
)
from signing.models import (
    Document,
    PeriodMode,
    PeriodOutcome,
    SigningOrder,
    Subscription,
    SubscriptionPeriod,
    SubscriptionStatus,
    User,
)

__all__ = [
    "SubscriptionTerms",
    "cancel",
    "create_from_document",
    "create_from_draft",
    "due_periods",
    "due_subscription_ids",
    "format_number",
    "get_for_initiator",
    "issue_date",
    "next_period",
    "notify_upcoming",
    "pause",
    "renew",
    "renew_due",
    "renew_each",
    "resume",
]

log = logging.getLogger(__name__)
MAX_PATTERN = 60
PATTERN_FIELDS = frozenset({"n", "yyyy", "mm"})
NUMBER_SPECS = frozenset({"", "d"} | {f"0{width}" for width in range(1, 10)} | {f"0{width}d" for width in range(1, 10)})
"""Format specs allowed for {n}: none, or zero padding to at most 9 digits ({n:03})."""


@dataclass(frozen=True)
class SubscriptionTerms:
    """What a person chooses besides the template: numbering, schedule, signatories."""

    number_pattern: str
    """e.g. «{n}/{yyyy}» or «АКТ-{yyyy}-{mm}-{n:03}»: {n} the counter, {yyyy} and {mm} the period's year and month."""
    issue_day: int
    """Day of the month (1–28) each document is issued on."""
    first_month: date
    """Any day of the first period's month."""
    period_mode: PeriodMode = PeriodMode.PREVIOUS_MONTH
    """PREVIOUS_MONTH: issued in the month after its period; CURRENT_MONTH: issued within its period."""
    last_month: date | None = None
    """Any day of the last period's month; None: until cancelled."""
    next_number: int = 1
    """The counter's value for the first document."""
    auto_sign: bool = False
    """Sign each issued document with the initiator's own certificate and send it to the signatories at once;
    otherwise the initiator gets a ready draft and a reminder to send it."""
    notice_days: int = 3
    """Tell the initiator this many days (0–14) before each issue day; 0: no advance notice."""
    signatories: Sequence[Mapping[str, str]] = ()
    """name, email, optional organization and role, in signing order."""
    signing_order: SigningOrder = SigningOrder.PARALLEL


# ---------------------------------------------------------------- creating and changing


def create_from_document(
    session: Session, initiator: User, document: Document, terms: SubscriptionTerms, *, now: datetime
) -> Subscription:
    """«Repeat monthly» on a document made from the form; ValidationFailed (terms, or the template no longer valid
    for the first period) stores nothing."""
    if document.initiator_id != initiator.id or document.draft_json is None:
        raise ValidationFailed([FieldError("document", "NOT-FROM-FORM")])
    template = Draft.from_dict(json.loads(document.draft_json))
    return _create(session, initiator, template, terms, now=now, source_document_id=document.id)


def create_from_draft(
    session: Session, initiator: User, data: Mapping[str, object], terms: SubscriptionTerms, *, now: datetime
) -> Subscription:
    """A subscription from draft-form input: its number, date and period are filled in for the first period before
    the form is checked, so only the repeating fields need to be entered. ValidationFailed (the terms' errors and
    the draft's together) stores nothing."""
    errors = _terms_errors(terms)
    wrong = {error.field for error in errors}
    first = month_of(terms.first_month)
    number = "1" if wrong & {"number_pattern", "next_number"} else format_number(terms.number_pattern,
                                                                                  terms.next_number, first)
    issue_day = 1 if "issue_day" in wrong else terms.issue_day  # a stand-in, so that the draft is judged too
    filled = {**data, "number": number, "date": format_date(_issue_date(first, terms.period_mode, issue_day)),
              "period": {"start": format_date(first.start), "end": format_date(first.end)}}
    try:
        template = validate_draft(filled, today=first.end)
    except ValidationFailed as failure:
        raise ValidationFailed([*errors, *failure.errors]) from None
    if errors:
        raise ValidationFailed(errors)
    return _create(session, initiator, template, terms, now=now, source_document_id=None)


def _create(
    session: Session, initiator: User, template: Draft, terms: SubscriptionTerms, *, now: datetime,
    source_document_id: int | None,
) -> Subscription:
    _check_terms(terms)
    if not template.kind.periodic:
        raise ValidationFailed([FieldError("kind", "KIND-NOT-PERIODIC")])
    first = month_of(terms.first_month)
    _renewed(template, terms.number_pattern, terms.next_number, first, terms.period_mode, terms.issue_day)
    _ensure_no_twin(session, initiator, template, first.start, terms.last_month)
    subscription = Subscription(
        initiator_id=initiator.id, kind=template.kind.value, draft_json=json.dumps(template.to_dict(),
                                                                                   ensure_ascii=False),
        signatories_json=json.dumps([dict(s) for s in terms.signatories], ensure_ascii=False),
        signing_order=terms.signing_order.value, period_mode=terms.period_mode.value,
        number_pattern=terms.number_pattern, next_number=terms.next_number, issue_day=terms.issue_day,
        auto_sign=terms.auto_sign, notice_days=terms.notice_days, first_month=first.start,
        last_month=None if terms.last_month is None else terms.last_month.replace(day=1),
        status=SubscriptionStatus.ACTIVE.value, source_document_id=source_document_id, created_at=now, updated_at=now,
    )
    session.add(subscription)
    session.flush()
    return subscription


def _ensure_no_twin(session: Session, initiator: User, template: Draft, first: date, last: date | None) -> None:
    """SUBSCRIPTION-EXISTS when the initiator has a subscription (active or paused) for the same kind of document
    between the same seller and buyer whose months meet these: each of its periods would be skipped as covered."""
    others = session.scalars(select(Subscription).where(
        Subscription.initiator_id == initiator.id, Subscription.kind == template.kind.value,
        Subscription.status != SubscriptionStatus.CANCELLED).options(selectinload(Subscription.periods)))
    for other in others:
        parties = template_of(other)
        if (parties.seller.inn, parties.buyer.inn) != (template.seller.inn, template.buyer.inn):
            continue
        upcoming = next_period(other)
        if upcoming is None:
            continue
        ends_before = last is not None and last.replace(day=1) < upcoming.start
        starts_after = other.last_month is not None and first > other.last_month
        if not (ends_before or starts_after):
            raise ValidationFailed([FieldError("first_month", "SUBSCRIPTION-EXISTS", id=other.id,
                                               buyer=parties.buyer.name)])


def _check_terms(terms: SubscriptionTerms) -> None:
    errors = _terms_errors(terms)
    if errors:
        raise ValidationFailed(errors)


def _terms_errors(terms: SubscriptionTerms) -> list[FieldError]:
    errors = [error for error in (_pattern_error(terms.number_pattern), *_schedule_errors(terms)) if error]
    return errors + _signatory_errors(terms.signatories)


def _pattern_error(pattern: str) -> FieldError | None:
    """PATTERN-INVALID unless the pattern uses only {n} (with optional zero padding), {yyyy}, {mm} and contains {n}
    (two documents of one subscription must never share a number)."""
    path = "number_pattern"
    if not pattern.strip():
        return FieldError(path, "REQUIRED")
    if len(pattern) > MAX_PATTERN:
        return FieldError(path, "TOO-LONG", max_length=MAX_PATTERN)
    try:
        fields = [(name, spec, conversion) for _text, name, spec, conversion in string.Formatter().parse(pattern)
                  if name is not None]
    except ValueError:
        return FieldError(path, "PATTERN-INVALID")
    for name, spec, conversion in fields:
        allowed_specs = NUMBER_SPECS if name == "n" else {""}
        if name not in PATTERN_FIELDS or conversion is not None or (spec or "") not in allowed_specs:
            return FieldError(path, "PATTERN-INVALID")
    if "n" not in {name for name, _spec, _conversion in fields}:
        return FieldError(path, "PATTERN-WITHOUT-COUNTER")
    if NUMBER_PATTERN.fullmatch(format_number(pattern, 1, month_of(date(2026, 1, 1)))) is None:
        return FieldError(path, "PATTERN-INVALID")
    return None


def _schedule_errors(terms: SubscriptionTerms) -> list[FieldError | None]:
    errors: list[FieldError | None] = []
    if not 1 <= terms.issue_day <= 28:
        errors.append(FieldError("issue_day", "ISSUE-DAY-RANGE", minimum=1, maximum=28))
    if not 0 <= terms.notice_days <= 14:
        errors.append(FieldError("notice_days", "NOTICE-DAYS-RANGE", minimum=0, maximum=14))
    if terms.next_number < 1:
        errors.append(FieldError("next_number", "NUMBER-RANGE"))
    if terms.last_month is not None and terms.last_month.replace(day=1) < terms.first_month.replace(day=1):
        errors.append(FieldError("last_month", "LAST-MONTH-BEFORE-FIRST"))
    return errors


def _signatory_errors(signatories: Sequence[Mapping[str, str]]) -> list[FieldError]:
    errors = []
    for i, signatory in enumerate(signatories):
        if not str(signatory.get("name") or "").strip():
            errors.append(FieldError(f"signatories.{i}.name", "REQUIRED"))
        email = str(signatory.get("email") or "").strip()
        if "@" not in email.strip("@"):
            errors.append(FieldError(f"signatories.{i}.email", "REQUIRED" if not email else "EMAIL-INVALID"))
    return errors


def get_for_initiator(session: Session, user: User, subscription_id: int) -> Subscription:
    """The subscription if `user` created it; SubscriptionNotFound otherwise."""
    found = session.scalars(select(Subscription).where(Subscription.id == subscription_id,
                                                       Subscription.initiator_id == user.id)).first()
    if found is None:
        raise SubscriptionNotFound(str(subscription_id))
    return found


def pause(subscription: Subscription, *, now: datetime) -> None:
    """Stop issuing until resumed (active only)."""
    _move(subscription, SubscriptionStatus.ACTIVE, SubscriptionStatus.PAUSED, now)


def resume(subscription: Subscription, *, now: datetime) -> None:
    """Issue again (paused only); the periods that fell due meanwhile are issued too, in order (catch-up)."""
    _move(subscription, SubscriptionStatus.PAUSED, SubscriptionStatus.ACTIVE, now)


def cancel(subscription: Subscription, *, now: datetime) -> None:
    """Issue nothing more, for good (active or paused)."""
    if subscription.status == SubscriptionStatus.CANCELLED:
        raise SubscriptionNotChangeable(subscription.status)
    subscription.status = SubscriptionStatus.CANCELLED.value
    subscription.updated_at = now


def _move(subscription: Subscription, source: SubscriptionStatus, target: SubscriptionStatus, now: datetime) -> None:
    if subscription.status != source:
        raise SubscriptionNotChangeable(subscription.status)
    subscription.status = target.value
    subscription.updated_at = now


# ---------------------------------------------------------------- periods and numbers


def format_number(pattern: str, n: int, period: Period) -> str:
    """The document number the pattern gives for counter `n` and `period` («АКТ-{yyyy}-{mm}-{n:03}» →
    «АКТ-2026-11-007»)."""
    return pattern.format(n=n, yyyy=f"{period.start.year:04d}", mm=f"{period.start.month:02d}")


def issue_date(subscription: Subscription, period: Period) -> date:
    """The day `period`'s document is issued: the issue day of the month after it, or of its own month."""
    return _issue_date(period, PeriodMode(subscription.period_mode), subscription.issue_day)


def _issue_date(period: Period, mode: PeriodMode, issue_day: int) -> date:
    month = add_months(period.start, 1) if mode is PeriodMode.PREVIOUS_MONTH else period.start
    return month.replace(day=issue_day)


def next_period(subscription: Subscription) -> Period | None:
    """The first period not yet handled (issued or skipped), whether due or not; None after the last month."""
    handled = [row.period_start for row in subscription.periods]
    start = add_months(max(handled), 1) if handled else subscription.first_month
    if subscription.last_month is not None and start > subscription.last_month:
        return None
    return month_of(start)


def due_periods(subscription: Subscription, *, today: date) -> list[Period]:
    """Every period not yet handled whose issue day has come, oldest first: from the month after the last handled
    one (or the first month) up to the latest due one, never past the last month; none unless active."""
    if subscription.status != SubscriptionStatus.ACTIVE:
        return []
    due = []
    period = next_period(subscription)
    while period is not None and issue_date(subscription, period) <= today:
        due.append(period)
        following = add_months(period.start, 1)
        period = None if subscription.last_month is not None and following > subscription.last_month \
            else month_of(following)
    return due


def _renewed(
    template: Draft, pattern: str, n: int, period: Period, mode: PeriodMode, issue_day: int
) -> Draft:
    return template.renewed(format_number(pattern, n, period), _issue_date(period, mode, issue_day), period)


# ---------------------------------------------------------------- renewal


def due_subscription_ids(session: Session, *, today: date) -> list[int]:
    """Active subscriptions with at least one due period (the daily tick enqueues one renewal for each)."""
    active = session.scalars(select(Subscription).where(Subscription.status == SubscriptionStatus.ACTIVE)
                             .options(selectinload(Subscription.periods)).order_by(Subscription.id))
    return [subscription.id for subscription in active if due_periods(subscription, today=today)]


def renew_due(session_factory: sessionmaker[Session], *, now: datetime, settings: Settings) -> int:
    """Renew every due subscription in turn; returns the documents issued. One subscription's failure (kept in its
    `last_error`) does not hold up the others."""
    with session_factory() as session:
        ids = due_subscription_ids(session, today=_today(now, settings))
    issued, _failed = renew_each(session_factory, ids, now=now, settings=settings)
    return issued


def renew_each(session_factory: sessionmaker[Session], subscription_ids: Sequence[int], *, now: datetime,
               settings: Settings) -> tuple[int, list[int]]:
    """`renew` each subscription in turn: the documents issued, and the subscriptions that failed (each one's
    reason kept in its `last_error`; the others are not held up)."""
    issued, failed = 0, []
    for subscription_id in subscription_ids:
        try:
            issued += renew(session_factory, subscription_id, now=now, settings=settings)
        except Exception:  # recorded on the subscription by `renew`; a retry, the next tick or "retry now" goes on
            log.warning("renewal of subscription %s failed", subscription_id, exc_info=True)
            failed.append(subscription_id)
    return issued, failed


def _today(now: datetime, settings: Settings) -> date:
    return now.astimezone(ZoneInfo(settings.timezone)).date()


def renew(session_factory: sessionmaker[Session], subscription_id: int, *, now: datetime, settings: Settings) -> int:
    """Issue the document of each due period, in order, each in its own transaction; returns how many this run
    issued (periods another run issued, or skipped as overlapping, do not count). A failure is stored in
    `last_error` (and mailed to the initiator once per period) and raised again, so that the job is retried; later
    periods wait for it."""
    with session_factory() as session:
        subscription = session.get(Subscription, subscription_id, options=[selectinload(Subscription.periods)])
        if subscription is None:
            raise SubscriptionNotFound(str(subscription_id))
        due = [(period, issue_date(subscription, period))
               for period in due_periods(subscription, today=_today(now, settings))]
        session.rollback()  # the reading transaction ends; each period gets its own
        issued = 0
        for period, day in due:
            try:
                issued += _issue(session, subscription_id, period, day, now=now, settings=settings)
            except Exception as error:
                session.rollback()
                _record_failure(session_factory, subscription_id, period, error, now=now, settings=settings)
                raise
    return issued


def _issue(session: Session, subscription_id: int, period: Period, day: date, *, now: datetime,
           settings: Settings) -> int:
    """1 when this transaction issued `period`, 0 when another run had (the unique row) or it overlaps a document
    made by hand (the row then records the skip). Commits, or leaves the session rolled back."""
    try:
        row = SubscriptionPeriod(subscription_id=subscription_id, period_start=period.start,
                                 period_end=period.end, issue_date=day, created_at=now)
        session.add(row)
        session.flush()
    except IntegrityError:
        session.rollback()
        if _handled(session, subscription_id, period):
            session.rollback()
            return 0
        raise
    issued = _fill(session, row, period, now=now, settings=settings)
    session.commit()
    return issued


def _handled(session: Session, subscription_id: int, period: Period) -> bool:
    found = session.scalar(select(SubscriptionPeriod.id).where(SubscriptionPeriod.subscription_id == subscription_id,
                                                               SubscriptionPeriod.period_start == period.start))
    return found is not None


def _fill(session: Session, row: SubscriptionPeriod, period: Period, *, now: datetime, settings: Settings) -> int:
    """Create the period's document on the row just inserted (same transaction) — signed by the initiator and sent
    when auto-signing is on, a ready draft otherwise — or mark the row skipped."""
    subscription = session.get(Subscription, row.subscription_id, with_for_update=True, populate_existing=True)
    assert subscription is not None
    if subscription.status != SubscriptionStatus.ACTIVE:
        session.rollback()
        return 0
    initiator = session.get(User, subscription.initiator_id)
    assert initiator is not None
    template = Draft.from_dict(json.loads(subscription.draft_json))
    draft = _renewed(template, subscription.number_pattern, subscription.next_number, period,
                     PeriodMode(subscription.period_mode), subscription.issue_day)
    try:
        document = documents.create_from_form(session, initiator, _form_of(draft), today=max(row.issue_date,
                                              period.end), now=now, ip=None)
    except ValidationFailed as failure:
        overlap = _overlap(failure)
        if overlap is None:
            raise
        _skip(session, subscription, row, period, overlap, now=now, settings=settings)
        return 0
    if subscription.auto_sign:
        rounds.send(session, document, initiator, _signatory_specs(subscription), order=subscription.signing_order,
                    deadline=None, initiator_signs=True, settings=settings, now=now, ip=None,
                    auto_sign=f"subscription:{subscription.id}")
    row.document_id = document.id
    row.number = draft.number
    subscription.next_number += 1
    subscription.last_error = None
    subscription.updated_at = now
    subscription_notices.tell_issued(session, subscription, period, document, sent=subscription.auto_sign,
                                     settings=settings, now=now)
    return 1


def _signatory_specs(subscription: Subscription) -> list[rounds.SignatorySpec]:
    return [rounds.SignatorySpec(name=str(s.get("name") or ""), email=str(s.get("email") or ""),
                                 organization=s.get("organization") or None, role=s.get("role") or None)
            for s in json.loads(subscription.signatories_json)]


def _overlap(failure: ValidationFailed) -> FieldError | None:
    if len(failure.errors) == 1 and failure.errors[0].code == "PERIOD-OVERLAP":
        return failure.errors[0]
    return None


def _skip(session: Session, subscription: Subscription, row: SubscriptionPeriod, period: Period,
          overlap: FieldError, *, now: datetime, settings: Settings) -> None:
    """The period is already covered by a document someone made by hand: flag it, never duplicate it."""
    reason = (f"Период {period.label()} пропущен: уже есть документ № {overlap.params.get('number')} "
              f"от {overlap.params.get('date')} ({overlap.params.get('period')})")
    row.outcome = PeriodOutcome.SKIPPED.value
    row.reason = reason
    subscription.last_error = reason
    subscription.updated_at = now
    subscription_notices.tell_skipped(session, subscription, period, reason, settings=settings, now=now)


def _record_failure(factory: sessionmaker[Session], subscription_id: int, period: Period, error: Exception, *,
                    now: datetime, settings: Settings) -> None:
    code = getattr(error, "code", type(error).__name__)
    reason = f"{code}: {error}"[:1500]
    with factory() as session, session.begin():
        subscription = session.get(Subscription, subscription_id, with_for_update=True)
        if subscription is not None:
            subscription.last_error = f"Период {period.label()} не выпущен: {reason}"
            subscription.updated_at = now
            subscription_notices.tell_failed(session, subscription, period, reason, settings=settings, now=now)


def notify_upcoming(session: Session, *, settings: Settings, now: datetime) -> int:
    """Tell each initiator whose active subscription issues within its `notice_days` (daily, from rq cron; once
    per period whatever the number of runs); returns how many notices were written now."""
    today = _today(now, settings)
    active = session.scalars(select(Subscription).where(Subscription.status == SubscriptionStatus.ACTIVE,
                                                        Subscription.notice_days > 0)
                             .options(selectinload(Subscription.periods)).order_by(Subscription.id))
    told = 0
    for subscription in active:
        period = next_period(subscription)
        if period is None:
            continue
        day = issue_date(subscription, period)
        if today < day <= today + timedelta(days=subscription.notice_days):
            told += subscription_notices.tell_upcoming(session, subscription, period, day, settings=settings,
                                                       now=now)
    return told


def _form_of(draft: Draft) -> dict[str, object]:
    """The draft as the form would send it (ДД.ММ.ГГГГ dates), for `documents.create_from_form`."""
    data = draft.to_dict()
    data["date"] = format_date(draft.date)
    assert draft.period is not None
    data["period"] = {"start": format_date(draft.period.start), "end": format_date(draft.period.end)}
    return data


# ---------------------------------------------------------------- reading: the subscriptions pages

__all__ += [
    "for_initiator", "get_repeatable", "next_issue_date", "pattern_error", "period_documents", "repeatable",
    "suggested_numbering", "template_of",
]

_DIGITS = re.compile(r"\d+")


def for_initiator(session: Session, user: User) -> list[Subscription]:
    """`user`'s subscriptions, newest first, each with its periods loaded (oldest first)."""
    query = (select(Subscription).where(Subscription.initiator_id == user.id)
             .options(selectinload(Subscription.periods)).order_by(Subscription.id.desc()))
    return list(session.scalars(query))


def period_documents(session: Session, subscriptions: Sequence[Subscription]) -> dict[int, Document]:
    """The documents the subscriptions' periods issued, by id, in one query."""
    ids = {row.document_id for subscription in subscriptions for row in subscription.periods if row.document_id}
    if not ids:
        return {}
    return {document.id: document for document in session.scalars(select(Document).where(Document.id.in_(ids)))}


def next_issue_date(subscription: Subscription) -> date | None:
    """The issue day of the first period not yet handled; None unless active, or once the last month is handled.
    It lies in the past while a due renewal has not run (or keeps failing)."""
    period = next_period(subscription) if subscription.status == SubscriptionStatus.ACTIVE else None
    return None if period is None else issue_date(subscription, period)


def template_of(subscription: Subscription) -> Draft:
    """The template each period's document is made from (parties, items; number, date and period replaced)."""
    return Draft.from_dict(json.loads(subscription.draft_json))


def repeatable(document: Document) -> bool:
    """Whether «Repeat monthly» can start from `document`: made from the form, of a kind that covers a period."""
    try:
        return document.draft_json is not None and DocumentKind(document.kind).periodic
    except ValueError:
        return False


def get_repeatable(session: Session, user: User, document_id: int) -> Document:
    """`user`'s own document that can be repeated monthly; DocumentNotFound for anyone else's (or none),
    DocumentNotRepeatable for an upload or a kind without a period."""
    document = documents.get_for_initiator(session, user, document_id)
    if not repeatable(document):
        raise DocumentNotRepeatable(document.kind)
    return document


def pattern_error(pattern: str) -> FieldError | None:
    """What is wrong with a number pattern (REQUIRED, TOO-LONG, PATTERN-INVALID, PATTERN-WITHOUT-COUNTER), or None."""
    return _pattern_error(pattern)


def suggested_numbering(number: str | None, period: Period | None) -> tuple[str, int]:
    """A pattern and the next counter that continue a document's number: the period's year becomes {yyyy}, the
    month (two digits) {mm}, the last other run of digits the counter (zero padding kept): «А-12/2026» for November
    2026 → («А-{n}/{yyyy}», 13); «{n}» from 1 when the number has no counter to continue."""
    text = number or ""
    year = f"{period.start.year:04d}" if period is not None else None
    runs = [run for run in _DIGITS.finditer(text) if run.group() != year]
    if not runs:
        return "{n}", 1
    counter = runs[-1]
    width = len(counter.group())
    field = f"{{n:0{width}}}" if counter.group().startswith("0") and 1 < width <= 9 else "{n}"
    escaped = [part.replace("{", "{{").replace("}", "}}") for part in (text[:counter.start()], text[counter.end():])]
    if period is not None:
        month = re.compile(rf"(?<!\d){period.start.month:02d}(?!\d)")
        escaped = [month.sub("{mm}", part.replace(f"{period.start.year:04d}", "{yyyy}")) for part in escaped]
    pattern = escaped[0] + field + escaped[1]
    if _pattern_error(pattern) is not None or int(counter.group()) >= 10**9:
        return "{n}", 1
    return pattern, int(counter.group()) + 1
