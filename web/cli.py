"""`flask db upgrade` and `flask pki init-dev` (what the run command does before starting the service), and
`flask staff grant|revoke <email>`."""

from __future__ import annotations

import click
from alembic import command
from alembic.config import Config
from flask import Flask

from signing import feedback
from signing.config import PROJECT_ROOT, Settings
from signing.pki import ensure_dev_pki
from web.services import services

__all__ = ["alembic_config", "register_cli"]


def alembic_config(url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["database_url"] = url
    return config


def register_cli(app: Flask) -> None:
    @app.cli.group("db")
    def db_group() -> None:
        """Database schema migrations (Alembic)."""

    @db_group.command("upgrade")
    @click.argument("revision", default="head")
    def upgrade(revision: str) -> None:
        """Upgrade the database to REVISION (the latest by default)."""
        command.upgrade(alembic_config(services().settings.effective_database_url), revision)

    @app.cli.group("pki")
    def pki_group() -> None:
        """The development PKI in certs-dev/."""

    @pki_group.command("init-dev")
    def init_dev() -> None:
        """Create the development root CA, issuing CA, CRLs and TSA certificate if any is missing."""
        settings: Settings = services().settings
        if settings.is_production:
            raise click.ClickException("the development PKI is never created in production")
        created = ensure_dev_pki(settings.certs_dir, settings.ca_key_passphrase.encode(), settings.base_url)
        click.echo(f"{'created' if created else 'kept'} the development PKI in {settings.certs_dir}")

    @app.cli.group("staff")
    def staff_group() -> None:
        """Support staff: they see, answer and close every feedback ticket."""

    @staff_group.command("grant")
    @click.argument("email")
    def grant(email: str) -> None:
        """Make the account with EMAIL support staff."""
        _set_staff(email, staff=True)

    @staff_group.command("revoke")
    @click.argument("email")
    def revoke(email: str) -> None:
        """Take the staff role from the account with EMAIL."""
        _set_staff(email, staff=False)


def _set_staff(email: str, *, staff: bool) -> None:
    with services().session_factory() as session:
        user = feedback.set_staff(session, email, staff=staff)
        if user is None:
            raise click.ClickException(f"no account has the address {email}")
        session.commit()
    click.echo(f"{user.email} is {'now' if staff else 'no longer'} staff")
