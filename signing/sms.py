"""Text messages to a phone. There is no SMS gateway yet: `OutboxSms` writes each message into the local mail
outbox (read at /dev/outbox in development) and notes it in the log. A gateway is another `SmsSender`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from signing.mail import OutboxMailer, build_message

__all__ = ["OutboxSms", "SmsSender", "masked_phone"]

log = logging.getLogger("podpisant.sms")
SMS_DOMAIN = "sms.podpisant.local"


class SmsSender(Protocol):
    def send(self, phone: str, text: str) -> None:
        """Send `text` to `phone` (`+7` and ten digits); raise MailUnavailable when it cannot go."""


def masked_phone(phone: str) -> str:
    """«+7 *** ***-45-67»: enough to recognise one's number."""
    return f"{phone[:2]} *** ***-{phone[-4:-2]}-{phone[-2:]}"


@dataclass(frozen=True)
class OutboxSms:
    """Development stand-in for a gateway: the message as an .eml in the outbox directory, addressed
    `<phone>@sms.podpisant.local`."""

    directory: Path
    sender: str = "Подписант <sms@podpisant.local>"

    def send(self, phone: str, text: str) -> None:
        message = build_message(self.sender, f"SMS <{phone}@{SMS_DOMAIN}>", f"SMS {phone}", text)
        OutboxMailer(self.directory).send(message)
        log.info("SMS to %s written to the outbox %s (no SMS gateway)", masked_phone(phone), self.directory)
