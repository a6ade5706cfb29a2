"""What every benchmark writes to bench/RESULTS.md: the machine it ran on, and its own section of the file."""

from __future__ import annotations

import os
import platform
from importlib.metadata import version
from pathlib import Path

__all__ = ["RESULTS_FILE", "machine", "write_section"]

RESULTS_FILE = Path(__file__).resolve().parent / "RESULTS.md"


def machine() -> str:
    """CPU, cores and the versions that decide the figures."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    return (f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}; pyHanko {version('pyhanko')}, "
            f"pyhanko-certvalidator {version('pyhanko-certvalidator')}, cryptography {version('cryptography')}, "
            f"asn1crypto {version('asn1crypto')}")


def write_section(section: str, text: str, path: Path = RESULTS_FILE) -> None:
    """Replace the section headed `section` in RESULTS.md with `text` (other benchmarks' sections stay)."""
    current = path.read_text() if path.exists() else "# Benchmark results\n\n"
    start = current.find(section)
    if start < 0:
        path.write_text(current.rstrip("\n") + "\n\n" + text)
        return
    following = current.find("\n## ", start + len(section))
    rest = current[following + 1:] if following >= 0 else ""
    path.write_text(current[:start] + text + ("\n" + rest if rest else ""))
