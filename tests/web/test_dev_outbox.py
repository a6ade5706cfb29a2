"""Without SMTP_URL, development mail lands in a local outbox shown at /dev/outbox, and only in development."""

from __future__ import annotations

from flask.testing import FlaskClient

from signing.config import Settings
from tests.conftest import WebUser
from web import create_app


def test_development_shows_the_confirmation_code_in_the_outbox(settings: Settings) -> None:
    app = create_app(settings.with_overrides(env="development", smtp_url=""))
    user = WebUser(app.test_client(), mail=None)  # type: ignore[arg-type]
    assert user.register().status_code == 302
    page = app.test_client().get("/dev/outbox").get_data(as_text=True)
    assert "Код подтверждения" in page and user.email in page
    assert list((settings.instance_dir / "outbox").glob("*.eml"))
    app.extensions["podpisant"].engine.dispose()


def test_the_outbox_does_not_exist_outside_development(client: FlaskClient) -> None:
    assert client.get("/dev/outbox").status_code == 404
