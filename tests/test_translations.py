"""Every Russian message in the code and templates has an English translation."""

from __future__ import annotations

import subprocess
import sys

from babel.messages.pofile import read_po

from signing.config import PROJECT_ROOT


def test_every_message_is_extracted_and_translated(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "lazy_gettext",
         "-k", "_l", "-o", str(pot), "--no-location", "--omit-header", "."],
        cwd=PROJECT_ROOT, check=True, capture_output=True,
    )
    extracted = {m.id for m in read_po(pot.open("rb")) if m.id}
    with (PROJECT_ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        english = {m.id: m.string for m in read_po(handle) if m.id}
    missing = sorted(str(i) for i in extracted if not english.get(i))
    assert missing == [], "run pybabel extract and add English to translations/en.py"
