"""The kinds of document the service drafts from a form, and what each kind asks for beyond the common fields."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["DocumentKind", "ExtraField", "FieldType", "KindSpec", "PartyRoles"]


class FieldType(StrEnum):
    """How a kind-specific field is entered and checked."""

    TEXT = "text"
    DATE = "date"
    """ДД.ММ.ГГГГ, stored as entered once it is a real calendar date."""


@dataclass(frozen=True)
class ExtraField:
    """A field one kind of document has and the others do not."""

    name: str
    """Key in `Draft.extra` and in the form (`extra.<name>`)."""
    label: str
    """Russian label, as the form and the PDF show it."""
    required: bool
    type: FieldType = FieldType.TEXT


@dataclass(frozen=True)
class PartyRoles:
    """Russian names of the parties' roles in one kind of document (nominative case, capitalised)."""

    seller: str
    """The party that performs, sells, ships or hands over."""
    buyer: str
    """The party that orders, buys, receives or accepts."""
    carrier: str | None = None
    """The third party of a waybill; None where a kind has only two parties."""


@dataclass(frozen=True)
class KindSpec:
    """Everything that differs between kinds: title, periodicity, roles, extra fields, per-item requirements."""

    title: str
    """Russian title, as the PDF heading and the document lists show it."""
    periodic: bool
    """Whether the document covers a period (ДД.ММ.ГГГГ–ДД.ММ.ГГГГ) and may be issued monthly by a subscription."""
    roles: PartyRoles
    extra_fields: tuple[ExtraField, ...]
    item_weight_required: bool = False
    """Whether each line item must carry its cargo weight (waybill)."""


_BASIS = (
    ExtraField("basis_number", "Номер договора-основания", required=False),
    ExtraField("basis_date", "Дата договора-основания", required=False, type=FieldType.DATE),
)


class DocumentKind(StrEnum):
    """A kind of document drafted from a form.

    Periodic kinds are the ones whose subject is a stretch of time: an act of completed works records the services
    rendered over a period (typically a month), and an invoice (счёт-фактура) for continuous services is issued for
    the same period. A contract is concluded once on a date, a waybill records one shipment and an acceptance act
    one handing-over; none of those covers an interval, so they carry no period.
    """

    ACT = "act"
    CONTRACT = "contract"
    INVOICE = "invoice"
    WAYBILL = "waybill"
    ACCEPTANCE_ACT = "acceptance_act"

    @property
    def spec(self) -> KindSpec:
        """What this kind asks for."""
        return _SPECS[self]

    @property
    def title(self) -> str:  # type: ignore[override]  # str.title() is meaningless on an enum's key
        """Russian title, e.g. «Акт выполненных работ»."""
        return self.spec.title

    @property
    def periodic(self) -> bool:
        """Whether the document covers a period (see the class docstring for why)."""
        return self.spec.periodic

    @property
    def roles(self) -> PartyRoles:
        """Russian names of the parties' roles."""
        return self.spec.roles

    @property
    def has_carrier(self) -> bool:
        """Whether the document names a third party, the carrier (Перевозчик)."""
        return self.spec.roles.carrier is not None

    @property
    def extra_fields(self) -> tuple[ExtraField, ...]:
        """The fields this kind adds to the common ones."""
        return self.spec.extra_fields


_SPECS: dict[DocumentKind, KindSpec] = {
    DocumentKind.ACT: KindSpec(
        title="Акт выполненных работ",
        periodic=True,
        roles=PartyRoles(seller="Исполнитель", buyer="Заказчик"),
        extra_fields=_BASIS,
    ),
    DocumentKind.CONTRACT: KindSpec(
        title="Договор",
        periodic=False,
        roles=PartyRoles(seller="Исполнитель", buyer="Заказчик"),
        extra_fields=(
            ExtraField("subject", "Предмет договора", required=True),
            ExtraField("city", "Место заключения (город)", required=True),
        ),
    ),
    DocumentKind.INVOICE: KindSpec(
        title="Счёт-фактура",
        periodic=True,
        roles=PartyRoles(seller="Продавец", buyer="Покупатель"),
        extra_fields=(
            ExtraField("payment_document_number", "Номер платёжно-расчётного документа", required=False),
            ExtraField("payment_document_date", "Дата платёжно-расчётного документа", required=False,
                       type=FieldType.DATE),
        ),
    ),
    DocumentKind.WAYBILL: KindSpec(
        title="Товарно-транспортная накладная",
        periodic=False,
        roles=PartyRoles(seller="Грузоотправитель", buyer="Грузополучатель", carrier="Перевозчик"),
        extra_fields=(
            ExtraField("vehicle", "Автомобиль (марка, госномер)", required=True),
            ExtraField("driver", "Водитель (ФИО)", required=True),
            ExtraField("loading_address", "Пункт погрузки", required=True),
            ExtraField("unloading_address", "Пункт разгрузки", required=True),
        ),
        item_weight_required=True,
    ),
    DocumentKind.ACCEPTANCE_ACT: KindSpec(
        title="Акт приёма-передачи",
        periodic=False,
        roles=PartyRoles(seller="Передающая сторона", buyer="Принимающая сторона"),
        extra_fields=(
            ExtraField("basis_number", "Номер договора-основания", required=True),
            ExtraField("basis_date", "Дата договора-основания", required=True, type=FieldType.DATE),
        ),
    ),
}
