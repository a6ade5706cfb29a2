"""How document-related values read on a page: moments with their time zone, kinds and statuses in the reader's
language. Registered as template filters by `init_app`."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from web.services import services

__all__ = ["KIND_TITLES", "STATUS_LABELS", "init_app", "kind_title", "moment", "status_label"]

KIND_TITLES: dict[str, LazyString] = {
    "act": _l("Акт выполненных работ"),
    "contract": _l("Договор"),
    "invoice": _l("Счёт-фактура"),
    "waybill": _l("Товарно-транспортная накладная"),
    "acceptance_act": _l("Акт приёма-передачи"),
}
"""`DocumentKind` values in the reader's language (the domain keeps only the Russian titles printed on PDFs)."""

STATUS_LABELS: dict[str, LazyString] = {
    "draft": _l("Черновик"),
    "in_signing": _l("На подписании"),
    "completed": _l("Подписан"),
    "delivered": _l("Доставлено"),
    "declined": _l("Отказано"),
    "withdrawn": _l("Отозван"),
    "expired": _l("Срок истёк"),
}
"""`DocumentStatus` values as PRODUCT.md names them to a person."""


def moment(value: datetime | date | None) -> str:
    """«30.11.2026 14:05 МСК»: a point in time in the service's time zone, with the zone named."""
    if value is None:
        return ""
    if not isinstance(value, datetime):
        return value.strftime("%d.%m.%Y")
    name = services().settings.timezone
    local = value.astimezone(ZoneInfo(name))
    zone = _("МСК") if name == "Europe/Moscow" else local.strftime("%Z")
    return f"{local:%d.%m.%Y %H:%M} {zone}"


def kind_title(kind: str | None) -> str:
    return str(KIND_TITLES.get(kind or "", kind or ""))


def status_label(status: str | None) -> str:
    return str(STATUS_LABELS.get(status or "", status or ""))


def init_app(app: Flask) -> None:
    app.add_template_filter(moment, "moment")
    app.add_template_filter(kind_title, "kind_title")
    app.add_template_filter(status_label, "status_label")
