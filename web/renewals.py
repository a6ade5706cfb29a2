"""Renewals a request puts on the queue: «retry now», and a new subscription whose first period is already due
(otherwise it would wait for the night's `rq cron` tick). The job issues each period once however often it runs."""

from __future__ import annotations

import logging
from datetime import date

from flask import flash
from flask_babel import gettext as _
from redis.exceptions import RedisError
from rq import Queue
from rq.job import Job

from signing import jobs, subscriptions
from signing.finalization import QUEUE
from signing.models import Subscription
from web.services import services

__all__ = ["announce_created", "enqueue_renewal", "renew_if_due"]

log = logging.getLogger("podpisant.renewals")


def enqueue_renewal(subscription_id: int) -> Job:
    """One `renew_subscription` job, retried like the daily tick's; RedisError when the queue cannot be reached."""
    queue = Queue(QUEUE, connection=services().redis)
    return queue.enqueue(jobs.renew_subscription, subscription_id, retry=jobs.RENEWAL_RETRY,
                         description=f"renew subscription {subscription_id} now")


def renew_if_due(subscription: Subscription, today: date) -> bool | None:
    """After the commit: start the renewal now when a period is due (a new or resumed subscription) instead of at
    the night's tick. True when queued, False when nothing is due, None when the queue could not be reached (the
    tick will renew it)."""
    due = subscriptions.next_issue_date(subscription)
    if due is None or due > today:
        return False
    try:
        enqueue_renewal(subscription.id)
    except RedisError:
        log.warning("could not enqueue the renewal of subscription %s; the daily tick will", subscription.id,
                    exc_info=True)
        return None
    return True


def announce_created(subscription: Subscription, today: date) -> None:
    """After the commit: say when the first document comes; start the renewal now when it is already due."""
    queued = renew_if_due(subscription, today)
    if queued:
        flash(_("Подписка создана. Документы за прошедшие месяцы выпускаются сейчас."), "success")
    elif queued is None:
        flash(_("Подписка создана. Документы за прошедшие месяцы будут выпущены при ежедневной проверке."), "info")
    else:
        first = subscriptions.next_issue_date(subscription)
        flash(_("Подписка создана. Первый документ будет выпущен %(day)s.",
                day=first.strftime("%d.%m.%Y") if first else "—"), "success")
