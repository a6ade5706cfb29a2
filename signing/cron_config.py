"""The jobs `rq cron` enqueues: `rq cron signing.cron_config` (the supervisor starts it with TZ set).

RQ computes `cron=` expressions in the process's local time zone, hence `TZ=<settings.timezone>`.
"""

from __future__ import annotations

from rq.cron import register

from signing.jobs import (
    deliver_outbox,
    enqueue_renewals,
    expire_rounds,
    finalize_stalled,
    notify_upcoming_renewals,
    record_cron_tick,
    send_reminders,
)

register(record_cron_tick, queue_name="default", cron="* * * * *")
register(deliver_outbox, queue_name="default", cron="* * * * *")
register(expire_rounds, queue_name="default", cron="5 * * * *")
register(send_reminders, queue_name="default", cron="15 * * * *")
register(finalize_stalled, queue_name="default", cron="25 * * * *")
register(enqueue_renewals, queue_name="default", cron="10 0 * * *")
register(notify_upcoming_renewals, queue_name="default", cron="0 9 * * *")
