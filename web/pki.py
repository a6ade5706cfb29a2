"""`/pki/...`: the CA certificates and CRLs that signer certificates point validators to. Public, GET only."""

from __future__ import annotations

from cryptography.hazmat.primitives.serialization import Encoding
from flask import Blueprint, abort
from werkzeug.wrappers import Response

from signing.certificates import current_crl
from signing.clock import utcnow
from signing.pki import IssuingCa, issuing_ca
from web.services import db, services

__all__ = ["bp"]

bp = Blueprint("pki", __name__, url_prefix="/pki")

CRL_MIMETYPE = "application/pkix-crl"
PEM_MIMETYPE = "application/x-pem-file"
CACHE = "public, max-age=300"  # a revocation reaches fetchers within five minutes


def _ca() -> IssuingCa:
    return issuing_ca(services().settings)


def _download(data: bytes, mimetype: str, filename: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = CACHE
    return response


@bp.get("/issuing-ca.crl")
def issuing_ca_crl() -> Response:
    crl = current_crl(db(), _ca(), now=utcnow())
    db().commit()  # keep a CRL published on demand
    return _download(crl.public_bytes(Encoding.DER), CRL_MIMETYPE, "issuing-ca.crl")


@bp.get("/root-ca.crl")
def root_ca_crl() -> Response:
    crl = _ca().root_crl
    if crl is None:
        abort(404)
    return _download(crl.public_bytes(Encoding.DER), CRL_MIMETYPE, "root-ca.crl")


@bp.get("/root-ca.pem")
def root_ca_certificate() -> Response:
    return _download(_ca().root_certificate.public_bytes(Encoding.PEM), PEM_MIMETYPE, "root-ca.pem")


@bp.get("/issuing-ca.pem")
def issuing_ca_certificate() -> Response:
    return _download(_ca().certificate.public_bytes(Encoding.PEM), PEM_MIMETYPE, "issuing-ca.pem")
