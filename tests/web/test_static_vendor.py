"""Vendored front-end files are exactly the ones listed in static/vendor/MANIFEST (fetched by bin/vendor-static)."""

from __future__ import annotations

import hashlib

from flask.testing import FlaskClient

from signing.config import PROJECT_ROOT

VENDOR = PROJECT_ROOT / "static" / "vendor"


def _entries() -> list[tuple[str, str, str]]:
    lines = (VENDOR / "MANIFEST").read_text().splitlines()
    return [(parts[0], parts[2], parts[3]) for parts in (line.split() for line in lines if not line.startswith("#"))]


def test_every_vendored_file_matches_the_sha256_in_the_manifest() -> None:
    entries = _entries()
    assert {package.split("@")[0] for package, _, _ in entries} >= {"htmx.org", "pdfjs-dist"}
    for _, target, sha in entries:
        assert hashlib.sha256((VENDOR / target).read_bytes()).hexdigest() == sha, target


def test_pdfjs_is_served_as_javascript_modules(client: FlaskClient) -> None:
    for name in ("pdf.min.mjs", "pdf.worker.min.mjs"):
        response = client.get(f"/static/vendor/pdfjs-dist-4.10.38/{name}")
        assert response.status_code == 200 and response.mimetype == "text/javascript"
        response.close()
