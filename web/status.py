"""`/healthz` for machines and `/status` for people: the same checks, JSON or a page that refreshes itself."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from werkzeug.wrappers import Response

from signing.health import check_all
from web.htmx import render
from web.services import services

__all__ = ["bp"]

bp = Blueprint("status", __name__)


def _report() -> tuple[dict[str, Any], int]:
    serving, checks = check_all(services().engine, services().redis)
    healthy = all(check["ok"] for check in checks.values())
    body = {"status": "ok" if healthy else "degraded", "checks": checks}
    return body, 200 if serving else 503


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    body, status = _report()
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response, status


@bp.get("/status")
def page() -> tuple[str, int]:
    body, status = _report()
    return render("status/page.html", "status/_checks.html", status, report=body)
