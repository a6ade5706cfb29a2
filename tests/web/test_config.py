"""Configuration from the environment; production refuses development secrets and the development CA."""

from __future__ import annotations

from pathlib import Path

import pytest

from signing.config import DEFAULT_SECRET_KEY, load_settings
from signing.errors import ConfigurationError
from web import create_app

PROD_SECRET = "p" * 48


def test_embedded_defaults_when_nothing_is_set(tmp_path: Path) -> None:
    settings = load_settings({"INSTANCE_DIR": str(tmp_path)})
    assert settings.env == "development" and settings.secret_key == DEFAULT_SECRET_KEY
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'podpisant.db'}"
    assert settings.effective_redis_url == f"unix://{tmp_path / 'redis' / 'redis.sock'}"
    assert settings.smtp_url == "" and settings.timezone == "Europe/Moscow"


def test_variables_override_the_defaults() -> None:
    settings = load_settings({"DATABASE_URL": "postgresql://u@h/db", "REDIS_URL": "redis://h:6379/2",
                              "SESSION_IDLE_MINUTES": "15", "BASE_URL": "https://sign.example.ru/"})
    assert settings.effective_database_url == "postgresql://u@h/db"
    assert settings.effective_redis_url == "redis://h:6379/2"
    assert settings.session_idle_minutes == 15 and settings.base_url == "https://sign.example.ru"


def test_nonsense_values_are_refused_with_the_variable_named() -> None:
    with pytest.raises(ConfigurationError, match="SESSION_IDLE_MINUTES"):
        load_settings({"SESSION_IDLE_MINUTES": "half an hour"})
    with pytest.raises(ConfigurationError, match="PODPISANT_ENV"):
        load_settings({"PODPISANT_ENV": "prod"})


def test_production_refuses_the_default_secret_and_the_development_ca(certs_dir: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        create_app(load_settings({"PODPISANT_ENV": "production", "SMTP_URL": "smtp://mail:25"}))
    message = str(caught.value)
    for variable in ("SECRET_KEY", "CA_CERT", "KEY_ENCRYPTION_KEY", "TSA_URL"):
        assert f"{variable} " in message or f"set {variable}" in message, variable


def test_production_refuses_a_dev_ca_copied_elsewhere(certs_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_bytes((certs_dir / "issuing-ca.pem").read_bytes())
    (tmp_path / "ca.key").write_bytes((certs_dir / "issuing-ca.key").read_bytes())
    env = {"PODPISANT_ENV": "production", "SECRET_KEY": PROD_SECRET, "SMTP_URL": "smtp://mail:25",
           "CA_CERT": str(tmp_path / "ca.pem"), "CA_KEY": str(tmp_path / "ca.key"),
           "CA_KEY_PASSPHRASE": "a-real-passphrase", "TSA_URL": "https://tsa.example.ru/tsp",
           "KEY_ENCRYPTION_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}
    with pytest.raises(ConfigurationError) as caught:
        create_app(load_settings(env))
    problems = str(caught.value).split("\n  - ")[1:]
    assert len(problems) == 1 and "development CA" in problems[0]


def _production_ca(tmp_path: Path) -> tuple[Path, Path]:
    """A non-development issuing CA under a self-signed root, its key encrypted with 'prod-passphrase'."""
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)

    def cert(subject: str, key: ec.EllipticCurvePrivateKey, issuer: str, signer: ec.EllipticCurvePrivateKey
             ) -> x509.Certificate:
        return (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
                .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=900))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(signer, hashes.SHA256()))

    root_key, ca_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    root = cert("Prod Root", root_key, "Prod Root", root_key)
    issuing = cert("Prod Issuing", ca_key, "Prod Root", root_key)
    cert_path, key_path = tmp_path / "prod-ca.pem", tmp_path / "prod-ca.key"
    pem = serialization.Encoding.PEM
    cert_path.write_bytes(issuing.public_bytes(pem) + root.public_bytes(pem))
    key_path.write_bytes(ca_key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                              serialization.BestAvailableEncryption(b"prod-passphrase")))
    return cert_path, key_path


def test_production_loads_the_configured_ca_at_start_and_names_what_is_wrong(tmp_path: Path) -> None:
    cert_path, key_path = _production_ca(tmp_path)
    env = {"PODPISANT_ENV": "production", "SECRET_KEY": PROD_SECRET, "SMTP_URL": "smtp://mail:25",
           "CA_CERT": str(cert_path), "CA_KEY": str(key_path), "CA_KEY_PASSPHRASE": "wrong-passphrase",
           "TSA_URL": "https://tsa.example.ru/tsp", "KEY_ENCRYPTION_KEY": "c2hvcnQ="}
    with pytest.raises(ConfigurationError) as caught:
        create_app(load_settings(env))
    problems = str(caught.value).split("\n  - ")[1:]
    assert any("CA_KEY" in p for p in problems), problems
    assert any("KEY_ENCRYPTION_KEY" in p for p in problems), problems
    assert "wrong-passphrase" not in str(caught.value)
