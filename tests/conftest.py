"""Shared fixtures: a real database (SQLite, or PostgreSQL via TEST_DATABASE_URL), a real Redis,
an SMTP sink (aiosmtpd), the development PKI, and the app built on them."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import Engine, inspect, text
from sqlalchemy.orm import Session

from signing.config import PROJECT_ROOT, Settings
from signing.db import create_db_engine
from signing.models import Base, User
from signing.pki import ensure_dev_pki
from web import create_app
from web.cli import alembic_config
from web.supervisor import redis_server_binary

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
PASSWORD = "верблюд-гуляет-по-крыше-42"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ---------------------------------------------------------------- Redis

@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """REDIS_URL when given (tests flush it: point it at a disposable database), else a private redis-server."""
    given = os.environ.get("REDIS_URL")
    if given:
        yield given
        return
    workdir = Path(tempfile.mkdtemp(prefix="podpisant-redis-"))
    sock = workdir / "redis.sock"
    proc = subprocess.Popen(
        [redis_server_binary(), "--port", "0", "--unixsocket", str(sock), "--save", "", "--appendonly", "no",
         "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"unix://{sock}"
    deadline = time.monotonic() + 10
    while True:
        try:
            if Redis.from_url(url).ping():
                break
        except Exception:
            if time.monotonic() > deadline:
                proc.kill()
                raise
            time.sleep(0.05)
    yield url
    proc.terminate()
    proc.wait(10)
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def redis(redis_url: str) -> Iterator[Redis]:
    client = Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


# ---------------------------------------------------------------- database

def _reset_schema(engine: Engine) -> None:
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        else:
            for table in reversed(inspect(connection).get_table_names()):
                connection.execute(text(f'DROP TABLE "{table}"'))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The schema is built by the real migrations, once per run, on a clean database."""
    from alembic import command

    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    engine = create_db_engine(url)
    _reset_schema(engine)
    config = alembic_config(url)
    config.attributes["skip_logging"] = True
    command.upgrade(config, "head")
    yield url
    engine.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url)
    yield engine
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    engine.dispose()


def make_user(session: Session, email: str = "p@example.ru", phone: str = "+79161112233") -> User:
    """A confirmed-or-not account row written straight to the database, for domain tests."""
    moment = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    user = User(full_name="Петров Пётр Петрович", email=email, phone=phone, password_hash="x",
                created_at=moment, pd_consent_at=moment, pd_consent_version="test")
    session.add(user)
    session.flush()
    return user


# ---------------------------------------------------------------- mail

@dataclass
class MailSink:
    """Messages received over SMTP by an aiosmtpd server on localhost."""

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Condition = field(default_factory=threading.Condition)
    hold: Callable[[EmailMessage], bool] | None = None
    """While set, matching messages wait before the server answers: a test can look at a state that delivery ends."""

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=default_policy)
        while self.hold is not None and self.hold(parsed):  # type: ignore[arg-type]
            await asyncio.sleep(0.05)
        with self.lock:
            self.messages.append(parsed)  # type: ignore[arg-type]
            self.lock.notify_all()
        return "250 OK"

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    @contextmanager
    def holding(self, predicate: Callable[[EmailMessage], bool]) -> Iterator[None]:
        """Keep messages matching `predicate` in the SMTP conversation until the block ends (under the client's
        10 s timeout), then accept them."""
        self.hold = predicate
        try:
            yield
        finally:
            self.hold = None

    def wait_for(self, to: str, count: int = 1, timeout: float = 10) -> list[EmailMessage]:
        with self.lock:
            self.lock.wait_for(lambda: len(self.to(to)) >= count, timeout)
            found = self.to(to)
        assert len(found) >= count, f"expected {count} message(s) to {to}, got {len(found)}"
        return found

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]

    def last_code(self, to: str, count: int = 1) -> str:
        body = self.wait_for(to, count)[-1].get_body(("plain",))
        assert body is not None
        match = re.search(r"\b(\d{6})\b", body.get_content())
        assert match, "no 6-digit code in the message"
        return match.group(1)


@pytest.fixture(scope="session")
def _smtp_server() -> Iterator[MailSink]:
    sink = MailSink("127.0.0.1", free_port())
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    yield sink
    controller.stop()


@pytest.fixture
def mail(_smtp_server: MailSink) -> Iterator[MailSink]:
    _smtp_server.messages.clear()
    yield _smtp_server
    _smtp_server.messages.clear()


# ---------------------------------------------------------------- PKI, settings, app

def pytest_configure(config: pytest.Config) -> None:
    """Create the development PKI before collection: PAdES test modules load it at import (a clean clone has none)."""
    ensure_dev_pki(PROJECT_ROOT / "certs-dev", Settings().ca_key_passphrase.encode(), "http://127.0.0.1:5000")


@pytest.fixture(scope="session")
def certs_dir() -> Path:
    """The development PKI in certs-dev/, created by the same code as `flask pki init-dev`."""
    directory = PROJECT_ROOT / "certs-dev"
    ensure_dev_pki(directory, Settings().ca_key_passphrase.encode(), "http://127.0.0.1:5000")
    return directory


@pytest.fixture
def settings(tmp_path: Path, database_url: str, redis_url: str, mail: MailSink, certs_dir: Path) -> Settings:
    return Settings(
        env="testing",
        secret_key=TEST_SECRET,
        instance_dir=tmp_path / "instance",
        database_url=database_url,
        redis_url=redis_url,
        smtp_url=mail.url,
        certs_dir=certs_dir,
        base_url="http://localhost",
    )


@pytest.fixture
def app(settings: Settings, engine: Engine, redis: Redis) -> Iterator[Flask]:
    app = create_app(settings)
    yield app
    app.extensions["podpisant"].engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "page has no CSRF token"
    return match.group(1) or match.group(2)


@dataclass
class WebUser:
    """Drives the real forms, CSRF tokens included, the way a browser without JavaScript would."""

    client: FlaskClient
    mail: MailSink
    full_name: str = "Иванова Мария Петровна"
    email: str = "maria@example.ru"
    phone: str = "+7 916 123-45-67"
    password: str = PASSWORD

    def token(self, path: str) -> str:
        return csrf_from(self.client.get(path).get_data(as_text=True))

    def register(self, **overrides: Any) -> Any:
        form = {
            "full_name": self.full_name, "email": self.email, "phone": self.phone,
            "password": self.password, "password_confirm": self.password, "consent": "y",
        }
        form.update(overrides)
        form["csrf_token"] = self.token("/register")
        return self.client.post("/register", data=form)

    def confirm(self, code: str | None = None) -> Any:
        code = code if code is not None else self.mail.last_code(self.email)
        return self.client.post("/confirm", data={"code": code, "csrf_token": self.token("/confirm")})

    def signup(self) -> Any:
        self.register()
        return self.confirm()

    def login(self, login: str | None = None, password: str | None = None) -> Any:
        data = {"login": login or self.email, "password": password or self.password,
                "csrf_token": self.token("/login")}
        return self.client.post("/login", data=data)

    def logout(self) -> Any:
        return self.client.post("/logout", data={"csrf_token": self.token("/cabinet")})


@pytest.fixture
def web_user(client: FlaskClient, mail: MailSink) -> WebUser:
    return WebUser(client, mail)
