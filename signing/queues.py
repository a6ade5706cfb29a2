"""The RQ queues, in the order a worker takes from them (`rq worker ... default renewals`).

Kept free of imports so that the supervisor can name them without loading the jobs.
"""

from __future__ import annotations

__all__ = ["DEFAULT", "QUEUES", "RENEWALS"]

DEFAULT = "default"
"""Mail (login and signing codes too), finalizations, cron's jobs, a person's «Повторить сейчас»."""
RENEWALS = "renewals"
"""The daily tick's renewal batches: taken only when `DEFAULT` is empty, so nothing a person waits for queues behind
a night's renewals."""
QUEUES = (DEFAULT, RENEWALS)
