"""Outgoing mail: SMTP when configured, else a local outbox directory that development shows in the browser."""

from __future__ import annotations

import smtplib
import ssl
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from signing.clock import utcnow
from signing.errors import ConfigurationError, MailUnavailable

__all__ = ["Mailer", "OutboxMailer", "SmtpMailer", "build_message", "mailer_from_settings", "read_outbox"]


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None: ...


def build_message(sender: str, to: str, subject: str, text: str, html: str | None = None) -> EmailMessage:
    """A UTF-8 message with a plain-text body and, optionally, an HTML alternative."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain="podpisant.local")
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


@dataclass(frozen=True)
class SmtpMailer:
    """Sends over SMTP: `smtp://` (STARTTLS when the server offers it) or `smtps://` (TLS from the start)."""

    url: str
    timeout: float = 10.0

    def send(self, message: EmailMessage) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ConfigurationError("SMTP_URL must look like smtp://user:password@host:port")
        context = ssl.create_default_context()
        try:
            if parts.scheme == "smtps":
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    parts.hostname, parts.port or 465, timeout=self.timeout, context=context
                )
            else:
                client = smtplib.SMTP(parts.hostname, parts.port or 25, timeout=self.timeout)
            with client:
                if parts.scheme == "smtp" and client.has_extn("starttls"):
                    client.starttls(context=context)
                if parts.username:
                    client.login(unquote(parts.username), unquote(parts.password or ""))
                client.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailUnavailable(f"{type(exc).__name__} talking to {parts.hostname}") from exc


@dataclass(frozen=True)
class OutboxMailer:
    """Writes each message as an .eml file; `/dev/outbox` lists them in development."""

    directory: Path

    def send(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{utcnow():%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.eml"
        tmp = self.directory / f".{name}.tmp"
        tmp.write_bytes(message.as_bytes(policy=default_policy))
        tmp.replace(self.directory / name)


def read_outbox(directory: Path, limit: int = 50) -> list[EmailMessage]:
    """The newest messages of an outbox directory, newest first."""
    from email import message_from_bytes

    files = sorted(directory.glob("*.eml"), reverse=True)[:limit] if directory.is_dir() else []
    messages = []
    for path in files:
        parsed = message_from_bytes(path.read_bytes(), policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        messages.append(parsed)
    return messages


def mailer_from_settings(smtp_url: str, outbox_dir: Path) -> Mailer:
    return SmtpMailer(smtp_url) if smtp_url else OutboxMailer(outbox_dir)
