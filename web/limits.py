"""Request limits per IP address and per account, counted in the service's Redis (Flask-Limiter).

Each guarded form has its IP limits listed before its account limit, and every limit is checked before the view
runs: a stranger hammering one login from one address meets the IP limit before the account's lock counter moves.
Failed logins also count against their IP on their own (deducted only when the answer is a refusal), so one address
can lock an account at most twice an hour instead of keeping it locked. The numbers are in README.
A breach answers RATE-LIMITED (429, Retry-After) as a page, an htmx fragment or JSON, like every other error.
"""

from __future__ import annotations

import hashlib
import logging
import math
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Flask, Response, request, session
from flask_limiter import Limiter, RequestLimit
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address

from signing.accounts import normalize_email, normalize_phone
from signing.config import Settings
from signing.errors import FieldError
from web.errors import error_response, info_for, new_reference
from web.services import services

__all__ = [
    "FAILED_LOGIN_PER_IP", "FORGOT_PER_ACCOUNT", "FORGOT_PER_IP", "LOGIN_PER_ACCOUNT", "LOGIN_PER_IP",
    "RESEND_PER_ACCOUNT", "RESEND_PER_IP", "RESET_ADDRESS", "RESET_PER_ACCOUNT", "RESET_PER_IP", "init_app", "limiter",
    "login_key", "refused", "reset_address_key", "storage_uri", "typed_address_key",
]

log = logging.getLogger("podpisant.limits")
RESET_ADDRESS = "reset_email"
"""The Flask session's key for the address a reset is under way for."""
LOGIN_PER_IP = "10/minute;50/hour"
FAILED_LOGIN_PER_IP = "10/hour;30/day"
LOGIN_PER_ACCOUNT = "20/hour"
FORGOT_PER_IP = "5/minute;20/hour"
FORGOT_PER_ACCOUNT = "5/hour"
RESET_PER_IP = "10/minute;50/hour"
RESET_PER_ACCOUNT = "20/hour"
RESEND_PER_IP = "5/minute;20/hour"
RESEND_PER_ACCOUNT = "5/hour"

limiter = Limiter(
    get_remote_address,
    key_prefix="podpisant:limits",
    strategy="moving-window",
    headers_enabled=True,
    retry_after="delta-seconds",
    swallow_errors=True,  # Redis down: requests go through (the account lock in the database still holds)
)


def _hashed(kind: str, value: str) -> str:
    """A key that does not put a person's address or phone into Redis."""
    return f"{kind}:" + hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()[:32]


def login_key() -> str:
    """The typed login, normalised as the login does (so "+7 916…" and "8916…" count together)."""
    raw = str(request.form.get("login", "")).strip()
    try:
        value = normalize_email(raw) if "@" in raw else normalize_phone(raw)
    except FieldError:
        value = raw.lower()
    return _hashed("login", value)


def typed_address_key() -> str:
    """The address typed into "forgot password"."""
    raw = str(request.form.get("email", "")).strip()
    try:
        value = normalize_email(raw)
    except FieldError:
        value = raw.lower()
    return _hashed("address", value)


def reset_address_key() -> str:
    """The address the reset under way in this browser is for."""
    return _hashed("address", str(session.get(RESET_ADDRESS, "")))


def refused(response: Response) -> bool:
    """A login that did not succeed: wrong credentials or locked."""
    return response.status_code in (401, 423)


def _breach(exc: RateLimitExceeded) -> Response:
    current: RequestLimit | None = limiter.current_limit
    reset_at = current.reset_at if current is not None else int(datetime.now(UTC).timestamp()) + 60
    wait = max(1, reset_at - int(datetime.now(UTC).timestamp()))
    local = datetime.fromtimestamp(reset_at, ZoneInfo(services().settings.timezone)).strftime("%H:%M")
    info = info_for("RATE-LIMITED", minutes=math.ceil(wait / 60), at=local)
    reference = new_reference()
    log.info("error code=RATE-LIMITED status=429 ref=%s limit=%s %s %s", reference, exc.limit.limit, request.method,
             request.path)
    response = error_response(info, reference)
    response.headers["Retry-After"] = str(wait)
    return response


def storage_uri(redis_url: str) -> str:
    """The service's Redis URL as `limits` spells it: a unix socket is `redis+unix://`, the rest is the same."""
    return "redis+unix://" + redis_url.removeprefix("unix://") if redis_url.startswith("unix://") else redis_url


def init_app(app: Flask, settings: Settings) -> None:
    """Count in the service's Redis."""
    app.config["RATELIMIT_STORAGE_URI"] = storage_uri(settings.effective_redis_url)
    limiter.init_app(app)
    app.register_error_handler(RateLimitExceeded, _breach)
