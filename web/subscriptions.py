"""Monthly subscriptions: «Повторять ежемесячно» from a document, the «Подписки» page with each subscription's
periods and their documents, pause / resume / cancel and «retry now». Only the initiator sees a subscription (or
the document it starts from); anyone else gets a 404."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from redis.exceptions import RedisError
from werkzeug.wrappers import Response

from signing import subscriptions
from signing.clock import utcnow
from signing.drafting import Draft
from signing.errors import SubscriptionNotChangeable
from signing.models import Document, Subscription, SubscriptionPeriod, SubscriptionStatus
from web.documents import _go, _today
from web.errors import ErrorInfo, form_failure
from web.htmx import is_htmx, render
from web.login import current_account
from web.renewals import announce_created, enqueue_renewal, renew_if_due
from web.services import db
from web.subscription_form import SubscriptionForm

__all__ = ["SubscriptionRow", "bp"]

bp = Blueprint("subscriptions", __name__)
Failure = tuple[ErrorInfo, str]
Change = Callable[..., None]


@dataclass(frozen=True)
class SubscriptionRow:
    """One subscription as its row on the page shows it."""

    subscription: Subscription
    template: Draft
    next_issue: date | None
    """None when paused, cancelled or finished."""
    periods: list[tuple[SubscriptionPeriod, Document | None]]
    """Newest first, each with the document it issued (None when skipped)."""
    today: date
    notice: str | None = None
    """What the last button did («Поставлено в очередь»)."""
    failure: Failure | None = None

    @property
    def finished(self) -> bool:
        """Active, but its last month is handled: nothing more will be issued."""
        return self.subscription.status == SubscriptionStatus.ACTIVE and self.next_issue is None

    @property
    def waiting(self) -> bool:
        """A period is due and not issued yet (the renewal has not run, or failed)."""
        return self.next_issue is not None and self.next_issue <= self.today

    @property
    def signatories(self) -> list[dict[str, str]]:
        """Who each document goes to, in signing order."""
        people: list[dict[str, str]] = json.loads(self.subscription.signatories_json or "[]")
        return people

    @property
    def can_retry(self) -> bool:
        return self.subscription.status == SubscriptionStatus.ACTIVE and bool(self.subscription.last_error)


SUBSCRIPTION_STATUS_LABELS: dict[str, LazyString] = {
    "active": _l("Действует"),
    "paused": _l("Приостановлена"),
    "cancelled": _l("Отменена"),
}
PERIOD_MODE_LABELS: dict[str, LazyString] = {
    "previous_month": _l("за прошедший месяц"),
    "current_month": _l("за текущий месяц"),
}
OUTCOME_LABELS: dict[str, LazyString] = {
    "issued": _l("выпущен"),
    "skipped": _l("пропущен"),
}


@bp.app_template_filter("subscription_status")
def subscription_status(status: str) -> str:
    return str(SUBSCRIPTION_STATUS_LABELS.get(status, status))


@bp.app_template_filter("period_mode")
def period_mode(mode: str) -> str:
    return str(PERIOD_MODE_LABELS.get(mode, mode))


@bp.app_template_filter("period_outcome")
def period_outcome(outcome: str) -> str:
    return str(OUTCOME_LABELS.get(outcome, outcome))


@bp.app_template_test("repeatable")
def repeatable(document: Document) -> bool:
    """`{% if document is repeatable %}`: the document page offers «Повторять ежемесячно» (to its initiator)."""
    return subscriptions.repeatable(document)


def _rows(found: list[Subscription], *, notice: str | None = None, failure: Failure | None = None
          ) -> list[SubscriptionRow]:
    issued = subscriptions.period_documents(db(), found)
    today = _today()
    return [SubscriptionRow(subscription, subscriptions.template_of(subscription),
                            subscriptions.next_issue_date(subscription),
                            [(row, issued.get(row.document_id or 0)) for row in reversed(subscription.periods)],
                            today, notice, failure)
            for subscription in found]


def _mine(subscription_id: int) -> Subscription:
    return subscriptions.get_for_initiator(db(), current_account(), subscription_id)


# ---------------------------------------------------------------- the list


@bp.get("/subscriptions")
@login_required
def index() -> tuple[str, int]:
    rows = _rows(subscriptions.for_initiator(db(), current_account()))
    return render("subscriptions/page.html", "subscriptions/_list.html", rows=rows)


def _row_answer(subscription_id: int, *, notice: str | None = None, failure: Failure | None = None
                ) -> Response | tuple[str, int]:
    """htmx: the subscription's row in its new state; a browser: back to the list with the message."""
    if not is_htmx():
        if failure is not None:
            flash(f"{failure[0].message} {failure[0].hint}", "error")
        elif notice:
            flash(notice, "success")
        return redirect(url_for(".index", _anchor=f"subscription-{subscription_id}"), code=303)
    db().expire_all()
    row = _rows([_mine(subscription_id)], notice=notice, failure=failure)[0]
    return render_template("subscriptions/_subscription.html", row=row), failure[0].status if failure else 200


def _change(subscription_id: int, change: Change, notice: str) -> Response | tuple[str, int]:
    subscription = _mine(subscription_id)
    try:
        change(subscription, now=utcnow())
    except SubscriptionNotChangeable as exc:
        db().rollback()
        return _row_answer(subscription_id, failure=form_failure(exc.code))
    db().commit()
    renew_if_due(subscription, _today())  # resumed: the months due meanwhile are issued now, in order
    return _row_answer(subscription_id, notice=notice)


@bp.post("/subscriptions/<int:subscription_id>/pause")
@login_required
def pause(subscription_id: int) -> Response | tuple[str, int]:
    return _change(subscription_id, subscriptions.pause, _("Подписка приостановлена."))


@bp.post("/subscriptions/<int:subscription_id>/resume")
@login_required
def resume(subscription_id: int) -> Response | tuple[str, int]:
    return _change(subscription_id, subscriptions.resume,
                   _("Подписка возобновлена. Пропущенные за паузу месяцы будут выпущены по порядку."))


@bp.post("/subscriptions/<int:subscription_id>/cancel")
@login_required
def cancel(subscription_id: int) -> Response | tuple[str, int]:
    return _change(subscription_id, subscriptions.cancel, _("Подписка отменена. Новые документы выпускаться не будут."))


@bp.post("/subscriptions/<int:subscription_id>/retry")
@login_required
def retry(subscription_id: int) -> Response | tuple[str, int]:
    """«Повторить сейчас»: the renewal job on the queue at once (it issues nothing twice)."""
    subscription = _mine(subscription_id)
    if subscription.status != SubscriptionStatus.ACTIVE:
        return _row_answer(subscription_id, failure=form_failure(SubscriptionNotChangeable.code))
    try:
        enqueue_renewal(subscription.id)
    except RedisError:
        return _row_answer(subscription_id, failure=form_failure("QUEUE-UNAVAILABLE"))
    return _row_answer(subscription_id, notice=_("Поставлено в очередь."))


# ---------------------------------------------------------------- «Повторять ежемесячно» from a document


def _repeat_page(document: Document, form: SubscriptionForm, failure: Failure | None) -> tuple[str, int]:
    return render("subscriptions/new.html", "subscriptions/_form.html", failure[0].status if failure else 200,
                  document=document, repeat_form=form, failure=failure)


@bp.get("/documents/<int:document_id>/repeat")
@login_required
def repeat_form(document_id: int) -> tuple[str, int]:
    document = subscriptions.get_repeatable(db(), current_account(), document_id)
    return _repeat_page(document, SubscriptionForm.for_document(document), None)


@bp.post("/documents/<int:document_id>/repeat")
@login_required
def repeat(document_id: int) -> Response | tuple[str, int]:
    document = subscriptions.get_repeatable(db(), current_account(), document_id)
    form = SubscriptionForm.from_form(request.form, SubscriptionForm.for_document(document))
    if form.row_action(request.form.get("action", "create")):
        return _repeat_page(document, form, None)
    today = _today()
    subscription, template_errors = form.submit(today, lambda terms: subscriptions.create_from_document(
        db(), current_account(), document, terms, now=utcnow()))
    if subscription is None:
        db().rollback()
        form.attach(template_errors)  # the document no longer holds for the first period (shown above the form)
        return _repeat_page(document, form, form_failure("FORM-INVALID"))
    db().commit()
    announce_created(subscription, today)
    return _go(url_for(".index", _anchor=f"subscription-{subscription.id}"))


@bp.get("/subscriptions/number-example")
@login_required
def number_example() -> tuple[str, int]:
    """The numbers the pattern typed so far gives the first documents (htmx, as the person types)."""
    return render_template("subscriptions/_number_example.html",
                           repeat_form=SubscriptionForm.from_form(request.args)), 200
