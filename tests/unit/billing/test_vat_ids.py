"""VAT ids: wrong formats are refused; a wrong check digit alone is accepted (see vat_ids)."""

from __future__ import annotations

import pytest

from billing.errors import InvalidInvoice
from billing.vat_ids import check_vat_id


@pytest.mark.parametrize(
    ("vat_id", "compact"),
    [
        ("DE136695976", "DE136695976"),
        ("de 136 695 976", "DE136695976"),
        ("FR 40 303 265 045", "FR40303265045"),
        ("NL004495445B01", "NL004495445B01"),
        ("ATU13585627", "ATU13585627"),
        ("BE 0411.905.847", "BE0411905847"),
        ("EL094259216", "EL094259216"),
        ("GB 980 7806 84", "GB980780684"),
        ("XI980780684", "XI980780684"),
        ("CHE-116.281.710 MWST", "CHE116281710MWST"),
    ],
)
def test_a_valid_vat_id_is_returned_compact(vat_id: str, compact: str) -> None:
    assert check_vat_id(vat_id) == compact


@pytest.mark.parametrize(
    "vat_id",
    [
        "DE136695977",
        "ATU13585626",
        # the shared eval world's seller and clients: made-up ids with wrong check digits
        "GB293847561",
        "GB123456789",
        "NL859271635B01",
    ],
)
def test_a_wrong_check_digit_alone_is_accepted(vat_id: str) -> None:
    assert check_vat_id(vat_id) == vat_id


def test_an_id_from_a_country_without_rules_is_accepted_as_written() -> None:
    assert check_vat_id("us-12 345") == "US12345"


@pytest.mark.parametrize("vat_id", ["123456789", "DE", "D1", "1E123456789", "  ", "DE-1"])
def test_an_id_without_a_country_prefix_is_refused(vat_id: str) -> None:
    with pytest.raises(InvalidInvoice) as caught:
        check_vat_id(vat_id)

    assert caught.value.message == (
        f"VAT id {vat_id!r} has a wrong format: it must start with the country prefix "
        "(e.g. DE123456789)"
    )


@pytest.mark.parametrize(
    ("vat_id", "prefix", "reason"),
    [
        ("DE12345", "DE", "The number has an invalid length."),
        ("DE12345678A", "DE", "The number has an invalid format."),
        ("NL123", "NL", "The number has an invalid format."),
        ("GB12345678901234", "GB", "The number has an invalid length."),
    ],
)
def test_an_id_in_a_wrong_format_for_its_country_is_refused(
    vat_id: str, prefix: str, reason: str
) -> None:
    with pytest.raises(InvalidInvoice) as caught:
        check_vat_id(vat_id, "DE")

    assert caught.value.code == "invalid_invoice"
    assert caught.value.message == f"VAT id {vat_id!r} has a wrong format for {prefix} ({reason})"
