"""Every error shows a code, a message, a hint and a reference that is also in the server log."""

from __future__ import annotations

import logging
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient


def _reference(html: str) -> str:
    match = re.search(r"data-reference>(R-[A-Z0-9]{10})<", html)
    assert match, "no reference on the page"
    return match.group(1)


def test_a_missing_page_shows_code_message_hint_and_a_logged_reference(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="podpisant.errors"):
        response = client.get("/no-such-page")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert 'data-error-code="404"' in html and "Страница не найдена." in html
    assert "Проверьте адрес" in html
    assert _reference(html) in caplog.text


def test_api_clients_get_the_same_fields_as_json(client: FlaskClient) -> None:
    response = client.get("/no-such-page", headers={"Accept": "application/json"})
    body = response.get_json()
    assert response.status_code == 404
    assert set(body["error"]) == {"code", "message", "hint", "reference"}
    assert body["error"]["code"] == "404" and body["error"]["reference"].startswith("R-")


def test_htmx_requests_get_a_fragment_not_a_page(client: FlaskClient) -> None:
    response = client.get("/no-such-page", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and "<html" not in html and 'data-error-code="404"' in html


def test_a_crash_shows_a_reference_and_no_stack_trace(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret internals: password=hunter2")

    with caplog.at_level(logging.ERROR, logger="podpisant.errors"):
        response = app.test_client().get("/boom")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Traceback" not in html and "hunter2" not in html and "RuntimeError" not in html
    assert 'data-error-code="500"' in html
    assert _reference(html) in caplog.text and "RuntimeError" in caplog.text


def test_english_error_pages_follow_the_language(client: FlaskClient) -> None:
    response = client.get("/no-such-page", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "Page not found." in response.get_data(as_text=True)
