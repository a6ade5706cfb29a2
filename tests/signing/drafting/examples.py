"""Form input as the web form sends it: real requisites (checksums valid) and one valid form per document kind."""

from __future__ import annotations

from datetime import date
from typing import Any

from signing.drafting.kinds import DocumentKind

TODAY = date(2026, 12, 10)
"""The day the tests draft on: November 2026 is over, December is running."""

SBERBANK = {
    "name": "ПАО Сбербанк",
    "inn": "7707083893",
    "kpp": "773601001",
    "ogrn": "1027700132195",
    "address": "117312, г. Москва, ул. Вавилова, д. 19",
}
YANDEX = {
    "name": "ООО «Яндекс»",
    "inn": "7736207543",
    "kpp": "770401001",
    "ogrn": "1027700229193",
    "address": "119021, г. Москва, ул. Льва Толстого, д. 16",
}
ENTREPRENEUR = {
    "name": "ИП Иванов Иван Иванович",
    "inn": "500100732259",
    "kpp": "",
    "ogrn": "304500116600011",  # check digit from a remainder of 11 (mod 13)
    "address": "141070, г. Королёв, ул. Ленина, д. 1, кв. 2",
}
EXTRA = {
    DocumentKind.ACT: {"basis_number": "5/2026", "basis_date": "12.01.2026"},
    DocumentKind.CONTRACT: {"subject": "Оказание услуг по сопровождению 1С", "city": "Москва"},
    DocumentKind.INVOICE: {"payment_document_number": "318", "payment_document_date": "02.12.2026"},
    DocumentKind.WAYBILL: {"vehicle": "КАМАЗ 65115, А123ВС777", "driver": "Петров Пётр Петрович",
                           "loading_address": "г. Москва, ул. Складская, д. 1",
                           "unloading_address": "г. Тверь, ул. Заводская, д. 7"},
    DocumentKind.ACCEPTANCE_ACT: {"basis_number": "17", "basis_date": "01.09.2026"},
}


def item(name: str = "Сопровождение 1С", quantity: str = "2", price: str = "1 500,50", vat_rate: str = "22",
         **more: str) -> dict[str, str]:
    return {"name": name, "quantity": quantity, "unit": "ч", "price": price, "vat_rate": vat_rate, **more}


def form(kind: DocumentKind = DocumentKind.ACT, **changes: Any) -> dict[str, Any]:
    """A valid form of `kind`, with `changes` replacing top-level keys."""
    data: dict[str, Any] = {
        "kind": kind.value,
        "number": "12",
        "date": "30.11.2026",
        "seller": dict(SBERBANK),
        "buyer": dict(ENTREPRENEUR),
        "items": [item(weight_kg="12,5") if kind is DocumentKind.WAYBILL else item()],
        "extra": dict(EXTRA[kind]),
        "notes": "",
    }
    if kind.periodic:
        data["period"] = {"start": "01.11.2026", "end": "30.11.2026"}
    if kind.has_carrier:
        data["carrier"] = dict(YANDEX)
    data.update(changes)
    return data


def company(index: int) -> dict[str, str]:
    """The `index`-th of many distinct organisations with a valid INN (the check digit computed), for tests that
    need counterparties whose documents must not overlap."""
    from stdnum.ru import inn

    base = f"77{index:07d}"
    return {"name": f"ООО «Ромашка-{index}»", "inn": base + inn.calc_company_check_digit(base), "kpp": "773601001",
            "ogrn": "", "address": f"125009, г. Москва, ул. Тверская, д. {index % 200 + 1}"}
