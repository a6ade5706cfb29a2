"""Security headers on every response: pages, fragments, JSON, static files, error pages (404, 405, 500, CSRF),
downloads; the stricter referrer policy where URLs hold secrets; HSTS and Secure cookies only over HTTPS, and no
redirect to HTTPS outside production."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import Engine
from werkzeug.test import TestResponse

from signing.config import Settings
from tests.conftest import WebUser
from web import create_app

PUBLIC = ["/", "/login", "/register", "/status", "/healthz", "/verify", "/static/css/app.css",
          "/static/js/app.js", "/static/vendor/htmx-4.0.1/htmx.min.js", "/static/favicon.svg", "/pki/root-ca.pem",
          "/no-such-page", "/static/no-such-file.js", "/documents/1", "/feedback/new?ref=R-ABCDEFGHJK"]
SIGNED_IN = ["/cabinet", "/profile", "/feedback", "/feedback/new", "/documents/new", "/documents/424242",
             "/feedback/424242", "/feedback/all"]


def assert_secure(response: TestResponse, *, referrer: str = "strict-origin-when-cross-origin") -> None:
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    assert directives.get("script-src") == ["'self'"], csp
    assert directives.get("style-src") == ["'self'"], csp
    assert directives.get("default-src") == ["'self'"] and directives.get("object-src") == ["'none'"], csp
    assert directives.get("frame-ancestors") == ["'none'"], csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers.get("X-Content-Type-Options") == "nosniff"
    assert headers.get("X-Frame-Options") == "DENY"
    assert headers.get("Referrer-Policy") == referrer
    assert "Strict-Transport-Security" not in headers  # plain HTTP here


@pytest.mark.parametrize("path", PUBLIC)
def test_every_public_response_carries_the_headers(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code < 500 or path == "/healthz", (path, response.status_code)
    assert_secure(response)


def test_pages_of_a_signed_in_person_and_their_fragments_carry_the_headers(web_user: WebUser) -> None:
    web_user.signup()
    for path in SIGNED_IN:
        assert_secure(web_user.client.get(path))
        assert_secure(web_user.client.get(path, headers={"HX-Request": "true"}))


def test_error_responses_carry_the_headers(app: Flask, client: FlaskClient) -> None:
    app.add_url_rule("/boom", "boom", lambda: 1 / 0)
    assert_secure(client.post("/status"))  # 405
    assert_secure(client.post("/login", data={"login": "x", "password": "y"}))  # CSRF refused
    assert_secure(client.get("/no-such-page", headers={"Accept": "application/json"}))
    crashed = client.get("/boom")
    assert crashed.status_code == 500
    assert_secure(crashed)


def test_pages_whose_urls_hold_secrets_send_no_referrer(client: FlaskClient) -> None:
    for path in ("/s/not-a-real-token-but-long-enough-0123456789", "/sign/424242"):
        response = client.get(path)
        assert response.status_code == 404
        assert_secure(response, referrer="no-referrer")


def test_the_error_page_keeps_its_link_to_feedback_under_the_policy(client: FlaskClient) -> None:
    html = client.get("/no-such-page").get_data(as_text=True)
    assert 'href="/feedback/new?ref=R-' in html and "<script>" not in html and " style=" not in html


@pytest.fixture
def https_app(settings: Settings, engine: Engine, redis: Redis) -> Flask:
    return create_app(settings.with_overrides(base_url="https://podpisant.example"))


def test_over_https_hsts_and_secure_cookies_but_no_redirect_outside_production(https_app: Flask) -> None:
    client = https_app.test_client()
    plain = client.get("/login")
    assert plain.status_code == 200  # development and tests never redirect to HTTPS
    secure = client.get("/login", base_url="https://podpisant.example")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
    cookie = secure.headers.get("Set-Cookie", "")
    assert "podpisant_session=" in cookie and "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_over_plain_http_the_session_cookie_is_not_secure(client: FlaskClient) -> None:
    cookie = client.get("/login").headers.get("Set-Cookie", "")
    assert "podpisant_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_production_over_https_redirects_plain_http() -> None:
    """The production switch, tried on the test app: only the redirect rule is looked at."""
    from web.headers import init_app

    app = Flask("probe")
    init_app(app, Settings(env="production", base_url="https://podpisant.example"))
    app.add_url_rule("/", "home", lambda: "ok")
    response = app.test_client().get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("https://")
