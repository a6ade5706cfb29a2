"""The renewal benchmark still runs end to end — real workers, real Redis, the database — and ends with the RESULT
line its readers parse; no timing asserts, but every subscription is renewed exactly once."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from bench.renew import Config, report, run

TINY = Config(sizes=(6,), baseline=2)
RESULT = re.compile(r"RESULT renewals_per_s=\d+(\.\d+)? duplicates=\d+ gaps=\d+ rss_mib=\d+(\.\d+)?")


def test_the_benchmark_renews_every_subscription_once_and_ends_with_a_parsable_result_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BENCH_DATABASE_URL", raising=False)  # a scratch SQLite file
    saved = dict(os.environ)  # the benchmark points its environment at its scratch services: put it back after
    try:
        outcomes = run(TINY, tmp_path)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    (outcome,) = outcomes
    assert (outcome.duplicates, outcome.gaps, outcome.failed_jobs) == (0, 0, 0)
    assert outcome.documents == 6 and outcome.notices == 6 + 2  # the baseline's two renewals notify too
    assert outcome.job_seconds["renew_subscriptions"][0] == 1  # six subscriptions: one batch
    last = report(outcomes, TINY, "sqlite").rstrip("\n").splitlines()[-1]
    assert RESULT.fullmatch(last), last
