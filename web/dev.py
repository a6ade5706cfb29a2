"""Development helpers, registered only when PODPISANT_ENV=development: the local mail outbox."""

from __future__ import annotations

from email.message import EmailMessage

from flask import Blueprint, render_template

from signing.mail import read_outbox
from web.services import services

__all__ = ["bp"]

bp = Blueprint("dev", __name__, url_prefix="/dev")


def _text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    return part.get_content() if isinstance(part, EmailMessage) else ""


@bp.get("/outbox")
def outbox() -> str:
    settings = services().settings
    messages = [
        {"to": m["To"], "subject": m["Subject"], "date": m["Date"], "text": _text(m)}
        for m in read_outbox(settings.outbox_dir)
    ]
    return render_template("dev/outbox.html", messages=messages, smtp=bool(settings.smtp_url))
