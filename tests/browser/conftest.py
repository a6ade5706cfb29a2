"""A live server in a thread and Debian's chromium driven by Playwright (never `playwright install`)."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture
def live_url(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


class CspWatchedBrowser:
    """The browser, each of whose contexts and pages notes every Content-Security-Policy violation: the console
    messages chromium writes ("... violates the following Content Security Policy directive ...") and the DOM's
    `securitypolicyviolation` events (reported through the console by an init script, which CSP does not block)."""

    REPORT = ("document.addEventListener('securitypolicyviolation', function (e) {"
              " console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI); });")

    def __init__(self, browser: Any) -> None:
        self._browser = browser
        self.violations: list[str] = []

    def _note(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.violations.append(f"{message.text} at {message.location.get('url', '?')}")

    def new_context(self, *args: Any, **kwargs: Any) -> Any:
        context = self._browser.new_context(*args, **kwargs)
        context.add_init_script(self.REPORT)
        context.on("console", self._note)
        return context

    def new_page(self, *args: Any, **kwargs: Any) -> Any:
        return self.new_context(*args, **kwargs).new_page()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)


@pytest.fixture(scope="module")  # Playwright's sync API holds an event loop: keep it to browser modules
def browser() -> Iterator[CspWatchedBrowser]:
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium); "
                    "bin/test does this when run as root")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield CspWatchedBrowser(browser)
        browser.close()


@pytest.fixture(autouse=True)
def _no_csp_violations(request: pytest.FixtureRequest) -> Iterator[None]:
    """A browser test fails when any page it opened broke the Content-Security-Policy."""
    if "browser" not in request.fixturenames:
        yield
        return
    watched = request.getfixturevalue("browser")
    watched.violations.clear()
    yield
    assert watched.violations == [], "Content-Security-Policy violations:\n" + "\n".join(watched.violations)
