"""A party's requisites (реквизиты): name, INN, KPP, OGRN/OGRNIP, address, checked as the tax service defines them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from stdnum.ru import inn as stdnum_inn

from signing.drafting.fields import line_text, section, text_errors
from signing.errors import FieldError, ValidationFailed

__all__ = [
    "MAX_ADDRESS_LENGTH",
    "MAX_NAME_LENGTH",
    "Party",
    "PartyType",
    "ogrn_checksum_valid",
    "parse_party",
    "party_errors",
    "party_section",
]

MAX_NAME_LENGTH = 300
MAX_ADDRESS_LENGTH = 500

KPP_PATTERN = re.compile(r"\d{4}[\dA-Z]{2}\d{3}")
_DIGIT_SEPARATORS = re.compile(r"[\s\-]+")


class PartyType(StrEnum):
    """Who a party is, as its INN's length tells."""

    ORGANISATION = "organisation"
    """A legal entity: 10-digit INN, a KPP, a 13-digit OGRN."""
    INDIVIDUAL = "individual"
    """A person or an individual entrepreneur (ИП): 12-digit INN, no KPP, a 15-digit OGRNIP for an ИП."""


@dataclass(frozen=True)
class Party:
    """One side of a document with its requisites; constructing it checks them (ValidationFailed if wrong)."""

    name: str
    """Full name: «ООО «Ромашка»», «ИП Иванов Иван Иванович»."""
    inn: str
    """ИНН: 10 digits (organisation) or 12 (individual, ИП), with a valid checksum."""
    kpp: str | None
    """КПП: 9 characters, required for an organisation, None for an individual."""
    ogrn: str | None
    """ОГРН (13 digits, organisation) or ОГРНИП (15 digits, ИП), checksum valid; optional."""
    address: str
    """Legal address, one line."""

    def __post_init__(self) -> None:
        errors = party_errors(self.name, self.inn, self.kpp, self.ogrn, self.address, prefix="party")
        if errors:
            raise ValidationFailed(errors)

    @property
    def type(self) -> PartyType:
        return PartyType.ORGANISATION if len(self.inn) == 10 else PartyType.INDIVIDUAL

    @property
    def ogrn_label(self) -> str:
        """«ОГРН» or «ОГРНИП», as the number's length says."""
        return "ОГРНИП" if self.ogrn is not None and len(self.ogrn) == 15 else "ОГРН"

    def to_dict(self) -> dict[str, str | None]:
        return {"name": self.name, "inn": self.inn, "kpp": self.kpp, "ogrn": self.ogrn, "address": self.address}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Party:
        """The party stored by `to_dict` (checked again: stored data is input too)."""
        return parse_party(data, "party")


def parse_party(data: Mapping[str, object] | None, prefix: str) -> Party:
    """A party from form input (`name`, `inn`, `kpp`, `ogrn`, `address`); errors at `<prefix>.<field>`.

    INN, KPP and OGRN may be typed with spaces or dashes; the KPP's letters may be lower case.
    """
    if data is None:
        raise FieldError(prefix, "TEXT-INVALID")
    texts = {key: line_text(data.get(key)) for key in ("name", "inn", "kpp", "ogrn", "address")}
    not_text = [FieldError(f"{prefix}.{key}", "TEXT-INVALID") for key, text in texts.items() if text is None]
    name, address = texts["name"] or "", texts["address"] or ""
    inn, ogrn = (_DIGIT_SEPARATORS.sub("", texts[key] or "") for key in ("inn", "ogrn"))
    kpp = (texts["kpp"] or "").replace(" ", "").upper()
    errors = [*not_text, *(e for e in party_errors(name, inn, kpp or None, ogrn or None, address, prefix=prefix)
                           if e.field not in {n.field for n in not_text})]
    if errors:
        raise ValidationFailed(errors)
    return Party(name=name, inn=inn, kpp=kpp or None, ogrn=ogrn or None, address=address)


def party_section(data: Mapping[str, object], key: str) -> Party:
    """The party under `data[key]`, errors at `<key>.<field>`."""
    return parse_party(section(data, key), key)


def party_errors(
    name: str, inn: str, kpp: str | None, ogrn: str | None, address: str, *, prefix: str
) -> list[FieldError]:
    """Everything wrong with a party's requisites, each at `<prefix>.<field>`."""
    errors = [*text_errors(name, f"{prefix}.name", MAX_NAME_LENGTH),
              *text_errors(address, f"{prefix}.address", MAX_ADDRESS_LENGTH)]
    inn_error = _inn_error(inn, f"{prefix}.inn")
    if inn_error is not None:
        return [*errors, inn_error]  # KPP and OGRN are judged by the INN's type: unknown here
    organisation = len(inn) == 10
    errors.extend(_kpp_errors(kpp, organisation, f"{prefix}.kpp"))
    errors.extend(_ogrn_errors(ogrn, organisation, f"{prefix}.ogrn"))
    return errors


def _inn_error(inn: str, path: str) -> FieldError | None:
    if not inn:
        return FieldError(path, "REQUIRED")
    if len(inn) not in (10, 12) or not inn.isascii() or not inn.isdigit():
        return FieldError(path, "INN-INVALID", reason="length")
    if not stdnum_inn.is_valid(inn):
        return FieldError(path, "INN-INVALID", reason="checksum")
    return None


def _kpp_errors(kpp: str | None, organisation: bool, path: str) -> list[FieldError]:
    if not organisation:
        return [] if kpp is None else [FieldError(path, "KPP-NOT-APPLICABLE")]
    if kpp is None:
        return [FieldError(path, "REQUIRED")]
    if not kpp.isascii() or KPP_PATTERN.fullmatch(kpp) is None:
        return [FieldError(path, "KPP-INVALID")]
    return []


def _ogrn_errors(ogrn: str | None, organisation: bool, path: str) -> list[FieldError]:
    if ogrn is None:
        return []
    if len(ogrn) not in (13, 15) or not ogrn.isascii() or not ogrn.isdigit():
        return [FieldError(path, "OGRN-INVALID", reason="length")]
    if not ogrn_checksum_valid(ogrn):
        return [FieldError(path, "OGRN-INVALID", reason="checksum")]
    if (len(ogrn) == 13) != organisation:
        return [FieldError(path, "OGRN-MISMATCH", expected_length=13 if organisation else 15)]
    return []


def ogrn_checksum_valid(ogrn: str) -> bool:
    """ОГРН: the first 12 digits mod 11; ОГРНИП (starts with 3 or 4): the first 14 mod 13; the check digit is the
    remainder's last digit. Written here because python-stdnum 2.2 compares the whole remainder for ОГРНИП and so
    rejects the real numbers whose remainder is 10–12."""
    if len(ogrn) == 13:
        return ogrn[0] != "0" and int(ogrn[:12]) % 11 % 10 == int(ogrn[12])
    return ogrn[0] in "34" and int(ogrn[:14]) % 13 % 10 == int(ogrn[14])
