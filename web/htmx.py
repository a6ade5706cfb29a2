"""One URL, two shapes: the full page for a browser navigation, the fragment for an htmx request."""

from __future__ import annotations

from typing import Any

from flask import render_template, request

__all__ = ["is_htmx", "render"]


def is_htmx() -> bool:
    """True for an htmx request that swaps part of a page (htmx 4 marks whole-page ones `full`)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Request-Type") != "full"


def render(page: str, fragment: str, status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(fragment if is_htmx() else page, **context), status
