"""Each kind's Russian title, periodicity, roles and extra fields."""

from __future__ import annotations

from signing.drafting.kinds import DocumentKind


def test_each_kind_has_its_russian_title() -> None:
    assert {kind.value: kind.title for kind in DocumentKind} == {
        "act": "Акт выполненных работ",
        "contract": "Договор",
        "invoice": "Счёт-фактура",
        "waybill": "Товарно-транспортная накладная",
        "acceptance_act": "Акт приёма-передачи",
    }


def test_only_acts_and_invoices_cover_a_period() -> None:
    assert {kind for kind in DocumentKind if kind.periodic} == {DocumentKind.ACT, DocumentKind.INVOICE}


def test_roles_are_named_as_each_kind_names_them() -> None:
    assert (DocumentKind.ACT.roles.seller, DocumentKind.ACT.roles.buyer) == ("Исполнитель", "Заказчик")
    assert (DocumentKind.INVOICE.roles.seller, DocumentKind.INVOICE.roles.buyer) == ("Продавец", "Покупатель")
    assert DocumentKind.WAYBILL.roles.carrier == "Перевозчик"
    assert DocumentKind.ACCEPTANCE_ACT.roles.buyer == "Принимающая сторона"
    assert [kind for kind in DocumentKind if kind.has_carrier] == [DocumentKind.WAYBILL]


def test_required_extra_fields_per_kind() -> None:
    required = {kind: {f.name for f in kind.extra_fields if f.required} for kind in DocumentKind}
    assert required == {
        DocumentKind.ACT: set(),
        DocumentKind.CONTRACT: {"subject", "city"},
        DocumentKind.INVOICE: set(),
        DocumentKind.WAYBILL: {"vehicle", "driver", "loading_address", "unloading_address"},
        DocumentKind.ACCEPTANCE_ACT: {"basis_number", "basis_date"},
    }
    assert DocumentKind.WAYBILL.spec.item_weight_required
    assert not DocumentKind.ACT.spec.item_weight_required
