"""Running a signature round against live processes: a real `rq worker` for finalization and mail delivery,
an act's form filled for today's date (live processes cannot share a travelled clock), and helpers to wait on
conditions rather than sleep."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from signing.clock import utcnow
from signing.config import PROJECT_ROOT
from signing.drafting import previous_month
from tests.conftest import MailSink
from tests.signing.drafting.examples import ENTREPRENEUR, SBERBANK, item
from tests.signing.round_fixtures import text_of

__all__ = ["act_fields", "code_after", "moscow_today", "rq_worker", "wait_until"]

VENV_BIN = Path(PROJECT_ROOT) / ".venv" / "bin"


def moscow_today() -> date:
    from zoneinfo import ZoneInfo

    return utcnow().astimezone(ZoneInfo("Europe/Moscow")).date()


def act_fields(today: date, number: str = "77") -> dict[str, str]:
    """The act form's inputs (by name, as the page has them) for an act dated `today` over the previous month."""
    period = previous_month(today)
    fields: dict[str, str] = {"number": number, "date": f"{today:%d.%m.%Y}",
                              "period.start": f"{period.start:%d.%m.%Y}", "period.end": f"{period.end:%d.%m.%Y}",
                              "extra.basis_number": "5/2026", "extra.basis_date": "12.01.2026"}
    for party, data in (("seller", SBERBANK), ("buyer", ENTREPRENEUR)):
        fields.update({f"{party}.{key}": value for key, value in data.items()})
    fields.update({f"items.0.{key}": value for key, value in item().items()})
    return fields


def wait_until(condition: Callable[[], Any], timeout: float = 60, what: str = "condition") -> Any:
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


def code_after(mail: MailSink, email: str, before: int) -> str:
    """The code in the first code mail to `email` after its first `before` mails (an invitation or a notice
    delivered by a worker meanwhile is skipped)."""
    def found() -> str | None:
        for message in mail.to(email)[before:]:
            match = re.search(r"\b(\d{6})\b", text_of(message))
            if str(message["Subject"]).startswith("Код подтверждения") and match:
                return match.group(1)
        return None
    code: str = wait_until(found, 30, f"a code mailed to {email}")
    return code


@contextmanager
def rq_worker(log_path: Path, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """A real `rq worker` on the default queue, reading its settings from the environment (as in production);
    stopped (warm shutdown, then killed) when the block ends."""
    environment = dict(os.environ if env is None else env)
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            [str(VENV_BIN / "rq"), "worker", "--url", environment["REDIS_URL"], "--path", str(PROJECT_ROOT),
             "default"],
            cwd=PROJECT_ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            yield worker
        finally:
            worker.terminate()
            try:
                worker.wait(15)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(5)
