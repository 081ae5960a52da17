"""Tax categories, their EN 16931 codes, and the VAT breakdown computed per category total."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.tax import (
    ROUNDING_RULE,
    TaxableLine,
    TaxCategory,
    VatBreakdown,
    canonical_rate,
    parse_category,
    vat_breakdown,
)


def taxable(net: str, category: TaxCategory, rate: str, reason: str | None = None) -> TaxableLine:
    return TaxableLine(Decimal(net), category, Decimal(rate), reason)


def summary(rows: tuple[VatBreakdown, ...]) -> list[tuple[str, str, str, str]]:
    return [(r.code, str(r.rate), str(r.taxable_amount), str(r.tax_amount)) for r in rows]


# --- categories ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "code", "needs_positive_rate"),
    [
        (TaxCategory.STANDARD, "S", True),
        (TaxCategory.REDUCED, "S", True),
        (TaxCategory.ZERO, "Z", False),
        (TaxCategory.EXEMPT, "E", False),
        (TaxCategory.REVERSE_CHARGE, "AE", False),
        (TaxCategory.INTRA_COMMUNITY, "K", False),
        (TaxCategory.EXPORT, "G", False),
        (TaxCategory.OUTSIDE_SCOPE, "O", False),
    ],
)
def test_each_category_maps_to_its_en16931_code_and_rate_rule(
    category: TaxCategory, code: str, needs_positive_rate: bool
) -> None:
    assert category.code == code
    assert category.needs_positive_rate is needs_positive_rate


@pytest.mark.parametrize(
    ("category", "vatex", "reason"),
    [
        (TaxCategory.STANDARD, None, None),
        (TaxCategory.REDUCED, None, None),
        (TaxCategory.ZERO, None, None),
        (TaxCategory.EXEMPT, None, "Exempt from VAT"),
        (
            TaxCategory.REVERSE_CHARGE,
            "VATEX-EU-AE",
            "Reverse charge: VAT to be accounted for by the recipient",
        ),
        (
            TaxCategory.INTRA_COMMUNITY,
            "VATEX-EU-IC",
            "Intra-community supply exempt from VAT",
        ),
        (TaxCategory.EXPORT, "VATEX-EU-G", "Export outside the EU, exempt from VAT"),
        (
            TaxCategory.OUTSIDE_SCOPE,
            "VATEX-EU-O",
            "Not subject to VAT (outside the scope of VAT)",
        ),
    ],
)
def test_zero_rate_categories_carry_an_exemption_code_and_default_reason(
    category: TaxCategory, vatex: str | None, reason: str | None
) -> None:
    assert category.exemption_code == vatex
    assert category.default_exemption_reason == reason


@pytest.mark.parametrize(
    ("value", "rate", "expected"),
    [
        (None, "19", TaxCategory.STANDARD),
        ("", "7", TaxCategory.STANDARD),
        (None, "0", TaxCategory.ZERO),
        ("reduced", "7", TaxCategory.REDUCED),
        ("AE", "0", TaxCategory.REVERSE_CHARGE),
        ("Reverse Charge", "0", TaxCategory.REVERSE_CHARGE),
        ("reverse-charge", "0", TaxCategory.REVERSE_CHARGE),
        ("zero-rated", "0", TaxCategory.ZERO),
        ("not subject", "0", TaxCategory.OUTSIDE_SCOPE),
        ("K", "0", TaxCategory.INTRA_COMMUNITY),
        (" g ", "0", TaxCategory.EXPORT),
    ],
)
def test_category_names_codes_and_aliases_are_read(
    value: str | None, rate: str, expected: TaxCategory
) -> None:
    assert parse_category(value, Decimal(rate)) is expected


def test_an_unknown_category_name_is_refused() -> None:
    with pytest.raises(ValueError, match="'luxury' is not a valid TaxCategory"):
        parse_category("luxury", Decimal(25))


# --- breakdown ----------------------------------------------------------------------------


def test_lines_are_grouped_by_code_and_rate_highest_rate_first() -> None:
    rows = vat_breakdown(
        [
            taxable("100.00", TaxCategory.STANDARD, "19"),
            taxable("10.00", TaxCategory.REDUCED, "7"),
            taxable("5.00", TaxCategory.ZERO, "0"),
            taxable("50.00", TaxCategory.STANDARD, "19"),
        ],
        "EUR",
    )

    assert summary(rows) == [
        ("S", "19", "150.00", "28.50"),
        ("S", "7", "10.00", "0.70"),
        ("Z", "0", "5.00", "0.00"),
    ]


def test_standard_and_reduced_lines_at_one_rate_share_a_standard_row() -> None:
    rows = vat_breakdown(
        [
            taxable("10.00", TaxCategory.REDUCED, "10"),
            taxable("20.00", TaxCategory.STANDARD, "10"),
        ],
        "EUR",
    )

    assert [(r.category, str(r.taxable_amount), str(r.tax_amount)) for r in rows] == [
        (TaxCategory.STANDARD, "30.00", "3.00")
    ]


def test_rates_written_differently_share_one_row_printed_without_exponent() -> None:
    rows = vat_breakdown(
        [
            taxable("10.00", TaxCategory.STANDARD, "20"),
            taxable("10.00", TaxCategory.STANDARD, "20.00"),
            taxable("10.00", TaxCategory.STANDARD, "25.50"),
        ],
        "EUR",
    )

    assert summary(rows) == [("S", "25.5", "10.00", "2.55"), ("S", "20", "20.00", "4.00")]


@pytest.mark.parametrize(
    ("rate", "expected"),
    [("20", "20"), ("20.00", "20"), ("100", "100"), ("5.50", "5.5"), ("0.00", "0"), ("-0", "0")],
)
def test_canonical_rate_drops_trailing_zeros_and_never_uses_an_exponent(
    rate: str, expected: str
) -> None:
    assert str(canonical_rate(Decimal(rate))) == expected


def test_vat_is_rounded_once_on_the_category_total_not_per_line() -> None:
    # per line: 0.05 × 10% = 0.005 → 0.01, three times 0.03; on the total: 0.15 × 10% = 0.015 → 0.02
    rows = vat_breakdown([taxable("0.05", TaxCategory.STANDARD, "10")] * 3, "EUR")

    assert summary(rows) == [("S", "10", "0.15", "0.02")]


def test_vat_of_exactly_half_a_cent_rounds_up() -> None:
    rows = vat_breakdown([taxable("0.05", TaxCategory.STANDARD, "10")], "EUR")

    assert rows[0].tax_amount == Decimal("0.01")


@pytest.mark.parametrize(
    ("currency", "net", "rate", "tax"),
    [("JPY", "1005", "10", "101"), ("JPY", "1004", "10", "100"), ("BHD", "10.005", "10", "1.001")],
)
def test_vat_rounds_to_the_minor_unit_of_the_currency(
    currency: str, net: str, rate: str, tax: str
) -> None:
    rows = vat_breakdown([taxable(net, TaxCategory.STANDARD, rate)], currency)

    assert str(rows[0].tax_amount) == tax


def test_zero_rate_categories_each_get_their_own_row() -> None:
    rows = vat_breakdown(
        [
            taxable("10.00", TaxCategory.EXEMPT, "0"),
            taxable("20.00", TaxCategory.REVERSE_CHARGE, "0"),
            taxable("30.00", TaxCategory.EXPORT, "0"),
        ],
        "EUR",
    )

    assert sorted(summary(rows)) == [
        ("AE", "0", "20.00", "0.00"),
        ("E", "0", "10.00", "0.00"),
        ("G", "0", "30.00", "0.00"),
    ]


def test_exempt_row_without_a_reason_gets_the_default_legal_note() -> None:
    (row,) = vat_breakdown([taxable("10.00", TaxCategory.EXEMPT, "0")], "EUR")

    assert row.exemption_reason == "Exempt from VAT"
    assert row.exemption_code is None


def test_reverse_charge_row_gets_its_note_and_vatex_code() -> None:
    (row,) = vat_breakdown([taxable("10.00", TaxCategory.REVERSE_CHARGE, "0")], "EUR")

    assert row.exemption_reason == "Reverse charge: VAT to be accounted for by the recipient"
    assert row.exemption_code == "VATEX-EU-AE"


def test_the_first_reason_given_in_a_group_wins() -> None:
    (row,) = vat_breakdown(
        [
            taxable("10.00", TaxCategory.EXEMPT, "0"),
            taxable("10.00", TaxCategory.EXEMPT, "0", "Art. 132(1)(i) Directive 2006/112/EC"),
            taxable("10.00", TaxCategory.EXEMPT, "0", "Another reason"),
        ],
        "EUR",
    )

    assert row.exemption_reason == "Art. 132(1)(i) Directive 2006/112/EC"


@pytest.mark.parametrize(
    ("category", "rate"), [(TaxCategory.STANDARD, "19"), (TaxCategory.ZERO, "0")]
)
def test_standard_and_zero_rated_rows_never_carry_an_exemption_reason(
    category: TaxCategory, rate: str
) -> None:
    # EN 16931 BR-S-10 and BR-Z-10 forbid an exemption reason on these rows
    (row,) = vat_breakdown([taxable("10.00", category, rate, "stray text")], "EUR")

    assert row.exemption_reason is None
    assert row.exemption_code is None


def test_no_lines_give_no_breakdown() -> None:
    assert vat_breakdown([], "EUR") == ()


def test_the_rounding_rule_printed_on_invoices_states_per_category_half_up() -> None:
    assert ROUNDING_RULE == (
        "VAT is calculated per VAT category and rate on the sum of the line net amounts, "
        "rounded half-up to the currency's smallest unit."
    )
