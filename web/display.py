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

__all__ = [
    "EVENT_LABELS", "EXTRA_LABELS", "KIND_TITLES", "ROLE_TITLES", "STATUS_LABELS", "event_label", "init_app",
    "kind_title", "moment", "role_title", "status_label",
]

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

EVENT_LABELS: dict[str, LazyString] = {
    "created": _l("Создан"),
    "edited": _l("Изменено"),
    "attachment_added": _l("Добавлено вложение"),
    "sent": _l("Отправлен на подпись"),
    "notified": _l("Отправлено приглашение"),
    "viewed": _l("Просмотрен"),
    "reminded": _l("Отправлено напоминание"),
    "signed": _l("Подписан"),
    "declined": _l("Отказано"),
    "withdrawn": _l("Отозван"),
    "expired": _l("Срок истёк"),
    "finalized": _l("Подписан всеми сторонами"),
    "delivered": _l("Доставлено"),
    "delivery_failed": _l("Ошибка доставки"),
}
"""History events (`signing.history.EVENT_LABELS` has the Russian for PDFs) in the reader's language."""

ROLE_TITLES: dict[str, LazyString] = {
    "Исполнитель": _l("Исполнитель"),
    "Заказчик": _l("Заказчик"),
    "Продавец": _l("Продавец"),
    "Покупатель": _l("Покупатель"),
    "Грузоотправитель": _l("Грузоотправитель"),
    "Грузополучатель": _l("Грузополучатель"),
    "Перевозчик": _l("Перевозчик"),
    "Передающая сторона": _l("Передающая сторона"),
    "Принимающая сторона": _l("Принимающая сторона"),
}
"""The parties' roles (`DocumentKind.roles`, Russian) in the reader's language."""

EXTRA_LABELS: dict[str, LazyString] = {
    "basis_number": _l("Номер договора-основания"),
    "basis_date": _l("Дата договора-основания"),
    "subject": _l("Предмет договора"),
    "city": _l("Место заключения (город)"),
    "payment_document_number": _l("Номер платёжно-расчётного документа"),
    "payment_document_date": _l("Дата платёжно-расчётного документа"),
    "vehicle": _l("Автомобиль (марка, госномер)"),
    "driver": _l("Водитель (ФИО)"),
    "loading_address": _l("Пункт погрузки"),
    "unloading_address": _l("Пункт разгрузки"),
}
"""The kinds' extra fields (`DocumentKind.extra_fields`) by name, in the reader's language."""


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


def event_label(event: str) -> str:
    return str(EVENT_LABELS.get(event, event))


def role_title(role: str | None) -> str:
    return str(ROLE_TITLES.get(role or "", role or ""))


def init_app(app: Flask) -> None:
    for function in (moment, kind_title, status_label, event_label, role_title):
        app.add_template_filter(function)
    app.jinja_env.globals["extra_labels"] = EXTRA_LABELS
