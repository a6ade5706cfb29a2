"""Parties' requisites: INN by checksum, KPP for organisations only, OGRN/OGRNIP by checksum and type."""

from __future__ import annotations

import pytest
from stdnum.ru import ogrn as stdnum_ogrn

from signing.drafting.requisites import Party, PartyType, ogrn_checksum_valid, parse_party
from signing.errors import ValidationFailed

from .examples import ENTREPRENEUR, SBERBANK, YANDEX


def codes(data: dict[str, str], prefix: str = "buyer") -> list[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as failed:
        parse_party(data, prefix)
    return [(error.field, error.code) for error in failed.value.errors]


@pytest.mark.parametrize("data", [SBERBANK, YANDEX, ENTREPRENEUR])
def test_real_requisites_are_accepted(data: dict[str, str]) -> None:
    party = parse_party(data, "seller")
    assert party.inn == data["inn"]
    assert party.type is (PartyType.ORGANISATION if len(data["inn"]) == 10 else PartyType.INDIVIDUAL)


def test_an_entrepreneur_has_no_kpp_and_an_ogrnip() -> None:
    party = parse_party(ENTREPRENEUR, "buyer")
    assert party.kpp is None
    assert party.ogrn_label == "ОГРНИП"


def test_numbers_typed_with_spaces_and_dashes_are_read_as_digits() -> None:
    party = parse_party({**SBERBANK, "inn": "7707 083 893", "kpp": " 7736 01 001", "ogrn": "1-027700-132195"}, "x")
    assert (party.inn, party.kpp, party.ogrn) == ("7707083893", "773601001", "1027700132195")


@pytest.mark.parametrize("inn", ["7707083894", "500100732258", "500100732249"])
def test_an_inn_with_a_wrong_check_digit_is_refused(inn: str) -> None:
    assert codes({**SBERBANK, "inn": inn, "kpp": "773601001" if len(inn) == 10 else "", "ogrn": ""}) == [
        ("buyer.inn", "INN-INVALID")
    ]


@pytest.mark.parametrize("inn", ["770708389", "77070838931", "770708389X", "７７０７０８３８９３"])
def test_an_inn_of_the_wrong_length_or_not_digits_is_refused(inn: str) -> None:
    assert codes({**SBERBANK, "inn": inn}) == [("buyer.inn", "INN-INVALID")]


def test_an_organisation_needs_a_kpp() -> None:
    assert codes({**SBERBANK, "kpp": ""}) == [("buyer.kpp", "REQUIRED")]


@pytest.mark.parametrize("kpp", ["77360100", "7736010011", "773601O01", "77AB01001X", "773б01001"])
def test_a_malformed_kpp_is_refused(kpp: str) -> None:
    assert codes({**SBERBANK, "kpp": kpp}) == [("buyer.kpp", "KPP-INVALID")]


def test_a_kpp_with_letters_in_the_reason_code_is_accepted() -> None:
    assert parse_party({**SBERBANK, "kpp": "7736ab001"}, "x").kpp == "7736AB001"


def test_an_individual_may_not_have_a_kpp() -> None:
    assert codes({**ENTREPRENEUR, "kpp": "773601001"}) == [("buyer.kpp", "KPP-NOT-APPLICABLE")]


def test_an_ogrn_with_a_wrong_check_digit_is_refused() -> None:
    assert codes({**SBERBANK, "ogrn": "1027700132196"}) == [("buyer.ogrn", "OGRN-INVALID")]
    assert codes({**ENTREPRENEUR, "ogrn": "304500116600012"}) == [("buyer.ogrn", "OGRN-INVALID")]


def test_the_ogrn_must_match_the_inn_type() -> None:
    assert codes({**SBERBANK, "ogrn": "304500116600011"}) == [("buyer.ogrn", "OGRN-MISMATCH")]
    assert codes({**ENTREPRENEUR, "ogrn": "1027700132195"}) == [("buyer.ogrn", "OGRN-MISMATCH")]


def test_the_ogrn_is_optional() -> None:
    assert parse_party({**YANDEX, "ogrn": ""}, "x").ogrn is None


@pytest.mark.parametrize("number", ["1027700132195", "1027700229193", "304770100000124", "312500000000002"])
def test_ogrn_checksum_agrees_with_python_stdnum_where_the_remainder_is_one_digit(number: str) -> None:
    assert ogrn_checksum_valid(number) and stdnum_ogrn.is_valid(number)


def test_an_ogrnip_whose_remainder_has_two_digits_takes_its_last_digit() -> None:
    assert int("30450011660001") % 13 == 11
    assert ogrn_checksum_valid("304500116600011")
    assert not ogrn_checksum_valid("304500116600010")


def test_every_wrong_field_of_a_party_is_reported_at_once() -> None:
    assert codes({"name": " ", "inn": "7707083893", "kpp": "12", "ogrn": "123", "address": ""}, "seller") == [
        ("seller.name", "REQUIRED"),
        ("seller.address", "REQUIRED"),
        ("seller.kpp", "KPP-INVALID"),
        ("seller.ogrn", "OGRN-INVALID"),
    ]


def test_a_party_cannot_be_constructed_with_wrong_requisites() -> None:
    with pytest.raises(ValidationFailed):
        Party(name="ООО «Ромашка»", inn="7707083894", kpp="773601001", ogrn=None, address="Москва")


def test_a_party_round_trips_through_its_dict() -> None:
    party = parse_party(SBERBANK, "seller")
    assert Party.from_dict(party.to_dict()) == party
