"""Security headers on every response, error pages and static files included (flask-talisman).

- Content-Security-Policy: scripts, styles, fonts, images, workers and requests from this origin only; no inline
  script or style (JavaScript lives in static/js, htmx's indicator CSS is off in base.html's htmx-config and lives in
  app.css); no plugins; the page is never framed (`frame-ancestors 'none'`, and `X-Frame-Options: DENY` for
  browsers that predate it).
- `X-Content-Type-Options: nosniff`.
- `Referrer-Policy: strict-origin-when-cross-origin`, unless the view chose a stricter one itself (the signing
  links and password pages send `no-referrer`: their URLs hold secrets).
- HSTS and Secure cookies only when the service is served over HTTPS (BASE_URL `https://`); a redirect to HTTPS
  only in production, never in development or tests.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_talisman import Talisman

from signing.config import Settings

__all__ = ["CONTENT_SECURITY_POLICY", "DEFAULT_REFERRER_POLICY", "init_app"]

CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "font-src": "'self'",
    "connect-src": "'self'",
    "worker-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
DEFAULT_REFERRER_POLICY = "strict-origin-when-cross-origin"


class _Talisman(Talisman):  # type: ignore[misc]
    """Talisman overwrites Referrer-Policy on every response; here a policy the view set itself stands."""

    def _set_referrer_policy_headers(self, headers: Any) -> None:
        headers.setdefault("Referrer-Policy", self.referrer_policy)


def init_app(app: Flask, settings: Settings) -> None:
    https = settings.base_url.startswith("https://")
    _Talisman().init_app(
        app,
        force_https=https and settings.is_production,
        strict_transport_security=https,
        session_cookie_secure=https,
        session_cookie_http_only=True,
        session_cookie_samesite="Lax",
        frame_options="DENY",
        content_security_policy=CONTENT_SECURITY_POLICY,
        referrer_policy=DEFAULT_REFERRER_POLICY,
        x_content_type_options=True,
    )
