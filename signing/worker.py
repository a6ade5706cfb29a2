"""The RQ worker the service runs (`rq worker --worker-class signing.worker.ServiceWorker`).

RQ's default worker forks a work horse for every job, and whatever a horse loads dies with it: every job imported
the domain core, pyHanko and reportlab, decrypted the issuing CA's key, loaded the TSA and the fonts, opened a new
database engine and compiled its SQL again — seconds before a renewal or a finalization could start, far more than
the work itself. The jobs are our own code (an untrusted PDF is parsed in its own capped child process anyway), so
this worker runs them in its own process, RQ's `SimpleWorker`, after loading all of that once: job timeouts still
apply (RQ's signal-based death penalty), a crash still leaves the job in the started registry for RQ to retry, and
the supervisor restarts a worker that exits. `bench/renew.py` watches that its memory stays flat.
"""

from __future__ import annotations

import logging
from typing import Any

from rq import SimpleWorker

__all__ = ["ServiceWorker", "preload"]

log = logging.getLogger("podpisant.worker")


def preload() -> None:
    """Import the job modules and load the keys, TSA and fonts the jobs use."""
    from sqlalchemy.orm import configure_mappers

    from signing import jobs  # noqa: F401 - the import is the point: every job module, pyHanko, reportlab
    from signing.config import load_settings
    from signing.drafting.render import register_fonts
    from signing.pades.fontengine import font_metrics
    from signing.trust_services import ca_for, kek_for, timestamper_for

    configure_mappers()
    register_fonts()
    font_metrics()
    settings = load_settings()
    try:
        ca_for(settings)
        kek_for(settings)
        timestamper_for(settings)
    except Exception:  # a job that needs them reports the problem; preloading only saves time
        log.warning("could not preload the trust services; jobs will load them", exc_info=True)


class ServiceWorker(SimpleWorker):
    """RQ's in-process worker, with `preload()` done before the first job."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        preload()
