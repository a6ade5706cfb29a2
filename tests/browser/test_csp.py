"""The browser fixture's Content-Security-Policy watch catches what the policy blocks: an inline script and an
inline style on a page served with the app's own headers."""

from __future__ import annotations

import pytest
from flask import Flask

pytestmark = pytest.mark.browser

PROBE = '<!doctype html><p id="p" style="color: red">probe</p><script>document.title = "ran";</script>'


@pytest.fixture
def probe_app(app: Flask) -> Flask:
    app.add_url_rule("/csp-probe", "csp_probe", lambda: PROBE)
    return app


def test_an_inline_script_and_style_are_blocked_and_reported(probe_app: Flask, live_url: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    page.goto(f"{live_url}/csp-probe")
    page.wait_for_load_state("load")
    assert page.title() != "ran"  # the policy held
    noted = list(browser.violations)
    browser.violations.clear()  # seen on purpose: the fixture's own check must not fail this test
    assert any("script-src" in line for line in noted), noted
    assert any("style-src" in line for line in noted), noted
    page.context.close()
