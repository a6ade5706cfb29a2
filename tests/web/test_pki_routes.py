"""/pki/...: the CRLs and CA certificates are public, served where signer certificates say they are."""

from __future__ import annotations

from urllib.parse import urlsplit

from cryptography import x509
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from signing.certificates import revoke_certificate, signing_identity
from signing.clock import utcnow
from signing.config import Settings
from signing.models import PublishedCrl, SignerCertificate
from signing.pki import IssuingCa, load_issuing_ca, parse_kek
from tests.conftest import make_user


def _crl(client: FlaskClient, path: str = "/pki/issuing-ca.crl") -> x509.CertificateRevocationList:
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "application/pkix-crl"
    return x509.load_der_x509_crl(response.data)


def _issue_and_revoke(engine: Engine, settings: Settings, ca: IssuingCa) -> x509.Certificate:
    with Session(engine) as session:
        user = make_user(session)
        identity = signing_identity(session, user, ca, parse_kek(settings.key_encryption_key), now=utcnow())
        row_id = session.scalars(select(SignerCertificate.id)).one()
        revoke_certificate(session, row_id, "keyCompromise", ca, now=utcnow())
        session.commit()
    return identity.certificate


def test_the_issuing_ca_crl_is_served_as_der_without_logging_in(client: FlaskClient, settings: Settings) -> None:
    ca = load_issuing_ca(settings)
    crl = _crl(client)
    assert crl.issuer == ca.certificate.subject
    assert crl.is_signature_valid(ca.certificate.public_key())  # type: ignore[arg-type]
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number > ca.crl_number_floor


def test_asking_again_serves_the_same_crl_without_publishing_another(client: FlaskClient, engine: Engine) -> None:
    assert _crl(client) == _crl(client)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(PublishedCrl)) == 1


def test_the_crl_at_the_certificates_distribution_point_lists_its_revocation(
    client: FlaskClient, engine: Engine, settings: Settings
) -> None:
    certificate = _issue_and_revoke(engine, settings, load_issuing_ca(settings))
    points = certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    (url,) = [name.value for point in points for name in point.full_name or []]
    assert url == f"{settings.base_url}/pki/issuing-ca.crl"
    crl = _crl(client, urlsplit(url).path)
    assert crl.get_revoked_certificate_by_serial_number(certificate.serial_number) is not None


def test_the_root_crl_is_served_as_der(client: FlaskClient, settings: Settings) -> None:
    assert _crl(client, "/pki/root-ca.crl") == load_issuing_ca(settings).root_crl


def test_the_ca_certificates_are_served_as_pem(client: FlaskClient, settings: Settings) -> None:
    ca = load_issuing_ca(settings)
    for path, expected in (("/pki/root-ca.pem", ca.root_certificate), ("/pki/issuing-ca.pem", ca.certificate)):
        response = client.get(path)
        assert response.status_code == 200
        assert response.mimetype == "application/x-pem-file"
        assert x509.load_pem_x509_certificate(response.data) == expected


def test_the_pki_routes_answer_only_get(client: FlaskClient) -> None:
    assert client.post("/pki/issuing-ca.crl").status_code == 405
    assert client.delete("/pki/root-ca.pem").status_code == 405
