"""The signing benchmark still runs end to end and ends with the RESULT line its readers parse (no timing asserts)."""

from __future__ import annotations

from pathlib import Path

from bench.sign import RESULT_PATTERN, SECTION, Config, report, result_line, run, write_section

TINY = Config(sizes=(20_000,), rounds=1, warmup=0, signatures=2, kth_rounds=1, validate_rounds=1, rss_size=20_000)


def test_the_benchmark_runs_on_a_tiny_document_and_ends_with_a_parsable_result_line(tmp_path: Path) -> None:
    results = run(TINY, tmp_path)
    text = report(results, TINY)
    last = text.rstrip("\n").splitlines()[-1]
    assert RESULT_PATTERN.fullmatch(last), last
    assert last == result_line(results, 20_000)
    assert results.rss_peak_mib >= results.rss_after_imports_mib > 0


def test_writing_results_replaces_only_the_signing_section(tmp_path: Path) -> None:
    path = tmp_path / "RESULTS.md"
    path.write_text(f"# Benchmark results\n\n{SECTION}\n\nold figures\n\n## Verification (bench/verify.py)\n\nkept\n")
    write_section(f"{SECTION}\n\nnew figures\n", path)
    text = path.read_text()
    assert "new figures" in text and "old figures" not in text
    assert text.endswith("## Verification (bench/verify.py)\n\nkept\n")
