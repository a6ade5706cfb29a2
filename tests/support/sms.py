"""A test double for `signing.sms.SmsSender`: keeps what would have been sent."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["RecordingSms"]


@dataclass
class RecordingSms:
    sent: list[tuple[str, str]] = field(default_factory=list)
    """(phone, text) in the order sent."""

    def send(self, phone: str, text: str) -> None:
        self.sent.append((phone, text))

    def last_code(self, phone: str) -> str:
        texts = [text for to, text in self.sent if to == phone]
        assert texts, f"no SMS to {phone}"
        found = re.search(r"\b(\d{6})\b", texts[-1])
        assert found, "no 6-digit code in the SMS"
        return found.group(1)
