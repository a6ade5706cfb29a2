"""A real RQ worker (forking work horses) for the renewal tests, with the test's controls applied first:

- `PODPISANT_TEST_NOW` (ISO 8601): the worker's clock starts at that moment and ticks on (time-machine), so the
  periods that are due do not depend on the day the suite runs;
- `PODPISANT_TEST_STALL_AT_RENDER=N` and `PODPISANT_TEST_STALL_MARKER=path`: the N-th PDF rendering writes the
  marker and blocks, leaving that period's transaction open, for the test to SIGKILL the worker mid-renewal.

Everything else — the job, the database, Redis — is the production code and configuration.
Run: python -m tests.support.renewal_worker [--burst]
"""

from __future__ import annotations

import os
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import time_machine
from redis import Redis
from rq import Queue, Worker

from signing import documents
from signing.config import load_settings


def _stall_at(count: int, marker: Path) -> None:
    real_render = documents.render_pdf
    calls = {"n": 0}

    def render(draft: Any) -> bytes:
        calls["n"] += 1
        if calls["n"] == count:
            marker.write_text(str(os.getpid()))
            threading.Event().wait()  # until SIGKILL
        return real_render(draft)

    documents.render_pdf = render  # type: ignore[assignment]


def main() -> None:
    now = os.environ.get("PODPISANT_TEST_NOW")
    if now:
        time_machine.travel(datetime.fromisoformat(now), tick=True).start()
    stall = os.environ.get("PODPISANT_TEST_STALL_AT_RENDER")
    if stall:
        _stall_at(int(stall), Path(os.environ["PODPISANT_TEST_STALL_MARKER"]))
    connection = Redis.from_url(load_settings().effective_redis_url)
    Worker([Queue("default", connection=connection)], connection=connection).work(
        burst="--burst" in sys.argv, logging_level="WARNING")


if __name__ == "__main__":
    main()
