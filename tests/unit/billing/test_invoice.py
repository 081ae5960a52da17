"""Invoice lines, totals and the EN 16931 rules a document meets before it is issued."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.errors import InvalidInvoice, InvalidLine, InvalidMoney
from billing.invoice import (
    DocumentKind,
    DocumentRef,
    InvoiceDocument,
    LineInput,
    Party,
    build_document,
    compute_line,
)
from billing.tax import TaxCategory

ISSUE = date(2026, 3, 2)
SELLER = Party(
    name="Northwind Digital GmbH",
    address=("Hafenstraße 1", "20457 Hamburg"),
    country="DE",
    vat_id="DE136695976",
)
BUYER = Party(
    name="Vos & De Jong B.V.",
    address=("Keizersgracht 221", "1016 DV Amsterdam"),
    country="NL",
    vat_id="NL004495445B01",
)
BUYER_WITHOUT_VAT_ID = Party(name="Harbor Analytics Inc.", address=("500 Market St",), country="US")


def line(
    price: str = "100.00",
    *,
    quantity: str = "1",
    rate: str = "19",
    category: TaxCategory = TaxCategory.STANDARD,
    description: str = "Design work",
    discount_percent: str = "0",
    discount_amount: str = "0",
    reason: str | None = None,
) -> LineInput:
    return LineInput(
        description=description,
        quantity=Decimal(quantity),
        unit_price=Decimal(price),
        vat_rate=Decimal(rate),
        tax_category=category,
        discount_percent=Decimal(discount_percent),
        discount_amount=Decimal(discount_amount),
        exemption_reason=reason,
    )


def document(
    *items: LineInput,
    currency: str = "EUR",
    seller: Party = SELLER,
    buyer: Party = BUYER,
    **kwargs: Any,
) -> InvoiceDocument:
    return build_document(
        number="INV-2026-0001",
        currency=currency,
        issue_date=ISSUE,
        due_date=kwargs.pop("due_date", date(2026, 4, 1)),
        seller=seller,
        buyer=buyer,
        items=items,
        **kwargs,
    )


# --- line input from the import / trigger JSON shape --------------------------------------


@pytest.mark.parametrize(
    "field", ["quantity", "unit_price", "vat_rate", "discount_percent", "discount_amount"]
)
def test_a_float_in_any_amount_field_of_a_line_is_refused(field: str) -> None:
    data: dict[str, Any] = {"description": "Design", "quantity": "1", "unit_price": "10"}
    data[field] = 1.5

    with pytest.raises(InvalidLine) as caught:
        LineInput.from_mapping(data, position=3)

    assert caught.value.code == "invalid_line"
    assert caught.value.message == (f"line 3: {field} must be a decimal string, not a float (1.5)")


def test_a_line_is_read_from_strings_and_integers() -> None:
    item = LineInput.from_mapping(
        {
            "description": "Hosting",
            "quantity": 3,
            "unit_price": "120.00",
            "vat_rate": "20",
            "discount_percent": "10",
            "unit_code": "MON",
        }
    )

    assert item == LineInput(
        description="Hosting",
        quantity=Decimal(3),
        unit_price=Decimal("120.00"),
        vat_rate=Decimal(20),
        tax_category=TaxCategory.STANDARD,
        discount_percent=Decimal(10),
        unit_code="MON",
    )


def test_a_line_without_rate_or_category_is_zero_rated() -> None:
    item = LineInput.from_mapping({"description": "Fee", "quantity": "1", "unit_price": "5"})

    assert (item.tax_category, item.vat_rate) == (TaxCategory.ZERO, Decimal(0))


def test_to_mapping_gives_back_the_import_shape() -> None:
    data = {
        "description": "Audit",
        "quantity": "2.5",
        "unit_price": "80.0000",
        "vat_rate": "0",
        "tax_category": "exempt",
        "discount_amount": "5.00",
        "unit_code": "HUR",
        "exemption_reason": "Art. 132 Directive 2006/112/EC",
    }

    assert LineInput.from_mapping(data).to_mapping() == data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("not a line", "line 2: expected an object with description, quantity, unit_price"),
        (
            {"description": "x", "quantity": "1", "unit_price": "1", "colour": "red"},
            "line 2: unknown field(s) colour",
        ),
        ({"description": "x", "unit_price": "1"}, "line 2: missing 'quantity'"),
        ({"quantity": "1", "unit_price": "1"}, "line 2: missing 'description'"),
        (
            {"description": None, "quantity": "1", "unit_price": "1"},
            "line 2: description must be text, got NoneType",
        ),
        (
            {"description": "x", "quantity": "1", "unit_price": "1", "tax_category": 5},
            "line 2: tax_category must be text, got int",
        ),
        (
            {"description": "x", "quantity": "1", "unit_price": "1", "tax_category": "luxury"},
            "line 2: unknown tax_category 'luxury' (one of standard, reduced, zero, exempt, "
            "reverse_charge, intra_community, export, outside_scope)",
        ),
        (
            {"description": "x", "quantity": "one", "unit_price": "1"},
            "line 2: quantity 'one' is not a decimal number",
        ),
    ],
)
def test_a_bad_line_is_refused_with_one_message(data: Any, message: str) -> None:
    with pytest.raises(InvalidLine) as caught:
        LineInput.from_mapping(data, position=2)

    assert caught.value.message == message


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (line(description="  "), "line 1: description is empty"),
        (line(description="x" * 1001), "line 1: description longer than 1000 characters"),
        (line(quantity="0"), "line 1: quantity must be above zero (got 0)"),
        (line(quantity="-1"), "line 1: quantity must be above zero (got -1)"),
        (line(quantity="1.00001"), "line 1: quantity has more than 4 decimals"),
        (line(price="-1"), "line 1: unit_price must not be negative (use a credit note)"),
        (line(price="1.00001"), "line 1: unit_price has more than 4 decimals"),
        (line(rate="101"), "line 1: vat_rate must be between 0 and 100 (got 101)"),
        (line(rate="0"), "line 1: a standard line needs a VAT rate above 0"),
        (
            line(rate="0", category=TaxCategory.REDUCED),
            "line 1: a reduced line needs a VAT rate above 0",
        ),
        (
            line(rate="19", category=TaxCategory.ZERO),
            "line 1: a zero line must have vat_rate 0 (got 19)",
        ),
        (
            line(rate="19", category=TaxCategory.REVERSE_CHARGE),
            "line 1: a reverse_charge line must have vat_rate 0 (got 19)",
        ),
        (line(discount_percent="101"), "line 1: discount_percent must be between 0 and 100"),
        (line(discount_percent="-1"), "line 1: discount_percent must be between 0 and 100"),
        (line(discount_amount="-1"), "line 1: discount_amount must not be negative"),
        (
            line(discount_percent="10", discount_amount="5"),
            "line 1: give discount_percent or discount_amount, not both",
        ),
        (
            line(reason="Exempt"),
            "line 1: a standard line takes no exemption_reason (only exempt, reverse_charge, "
            "intra_community, export and outside_scope do)",
        ),
        (
            line(rate="0", category=TaxCategory.ZERO, reason="Exempt"),
            "line 1: a zero line takes no exemption_reason (only exempt, reverse_charge, "
            "intra_community, export and outside_scope do)",
        ),
    ],
)
def test_a_line_that_cannot_be_invoiced_is_refused_with_the_reason(
    item: LineInput, message: str
) -> None:
    with pytest.raises(InvalidLine) as caught:
        item.validate()

    assert caught.value.message == message


@pytest.mark.parametrize("unit_code", ["", "ABCD"])
def test_a_unit_code_must_look_like_a_rec20_code(unit_code: str) -> None:
    item = dataclasses.replace(line(), unit_code=unit_code)

    with pytest.raises(InvalidLine, match="unit_code must be a UN/ECE Rec 20 code such as C62"):
        item.validate()


# --- computed lines -----------------------------------------------------------------------


def test_line_net_is_quantity_times_price_rounded_half_up() -> None:
    computed = compute_line(1, line("0.0125", quantity="3"), "EUR")

    # 3 × 0.0125 = 0.0375 → 0.04
    assert (computed.gross_amount, computed.net_amount) == (Decimal("0.04"), Decimal("0.04"))


def test_percent_discount_is_rounded_and_taken_off_the_line() -> None:
    computed = compute_line(1, line("99.99", discount_percent="10"), "EUR")

    # 10 % of 99.99 = 9.999 → 10.00
    assert computed.discount_amount == Decimal("10.00")
    assert computed.net_amount == Decimal("89.99")


def test_amount_discount_is_taken_off_the_line() -> None:
    computed = compute_line(1, line("100.00", quantity="2", discount_amount="15.5"), "EUR")

    assert (computed.gross_amount, computed.discount_amount, computed.net_amount) == (
        Decimal("200.00"),
        Decimal("15.50"),
        Decimal("184.50"),
    )


def test_a_discount_equal_to_the_line_leaves_a_zero_line() -> None:
    computed = compute_line(1, line("50.00", discount_amount="50"), "EUR")

    assert computed.net_amount == Decimal("0.00")


def test_a_discount_above_the_line_is_refused() -> None:
    with pytest.raises(InvalidLine) as caught:
        compute_line(4, line("50.00", discount_amount="50.01"), "EUR")

    assert caught.value.message == "line 4: discount 50.01 exceeds the line amount 50.00"


def test_a_discount_amount_finer_than_the_currency_is_refused() -> None:
    with pytest.raises(InvalidLine) as caught:
        compute_line(1, line("1000", rate="10", discount_amount="0.5"), "JPY")

    assert caught.value.message == (
        "line 1: discount_amount 0.5 has more decimals than JPY allows (0)"
    )


def test_a_yen_line_rounds_to_whole_yen() -> None:
    computed = compute_line(1, line("333.3333", quantity="1.5", rate="10"), "JPY")

    # 1.5 × 333.3333 = 499.99995 → 500
    assert computed.net_amount == Decimal("500")


def test_a_line_too_large_to_compute_is_refused_as_a_bad_line() -> None:
    with pytest.raises(InvalidLine, match=r"^line 1: amount .* is too large$"):
        compute_line(1, line("9" * 20, quantity="9" * 10), "EUR")


# --- documents ----------------------------------------------------------------------------


def test_totals_are_lines_plus_vat_per_category() -> None:
    doc = document(
        line("1200.00", description="Website redesign"),
        line("45.50", quantity="3", rate="7", category=TaxCategory.REDUCED),
        line("99.99", discount_percent="10"),
        line("250.00", rate="0", category=TaxCategory.EXEMPT),
    )

    assert [
        (r.code, str(r.rate), str(r.taxable_amount), str(r.tax_amount)) for r in doc.breakdown
    ] == [
        ("S", "19", "1289.99", "245.10"),
        ("S", "7", "136.50", "9.56"),
        ("E", "0", "250.00", "0.00"),
    ]
    assert dataclasses.astuple(doc.totals) == (
        "EUR",
        Decimal("1676.49"),
        Decimal("1676.49"),
        Decimal("254.66"),
        Decimal("1931.15"),
    )
    assert str(doc.totals.money("grand_total")) == "EUR 1931.15"


def test_a_yen_invoice_has_whole_yen_totals() -> None:
    doc = document(line("1234", quantity="3", rate="10"), currency="jpy")

    assert doc.currency == "JPY"
    assert (doc.totals.tax_total, doc.totals.grand_total) == (Decimal("370"), Decimal("4072"))


def test_a_document_records_its_defaults() -> None:
    doc = document(line())

    assert doc.kind is DocumentKind.INVOICE
    assert doc.kind.type_code == "380"
    assert DocumentKind.CREDIT_NOTE.type_code == "381"
    assert doc.delivery_date == ISSUE
    assert doc.payment_reference == "INV-2026-0001"
    assert doc.categories == frozenset({TaxCategory.STANDARD})


def test_an_invoice_without_lines_is_refused() -> None:
    with pytest.raises(InvalidInvoice, match=r"^an invoice needs at least one line$"):
        document()


def test_an_invoice_in_an_unknown_currency_is_refused() -> None:
    with pytest.raises(InvalidMoney, match="unknown currency 'EURO'"):
        document(line(), currency="EURO")


def test_an_invoice_without_a_currency_is_refused() -> None:
    with pytest.raises(InvalidMoney, match="a currency is required"):
        document(line(), currency="")


def test_a_due_date_before_the_issue_date_is_refused() -> None:
    with pytest.raises(InvalidInvoice) as caught:
        document(line(), due_date=date(2026, 3, 1))

    assert caught.value.message == "due date 2026-03-01 is before the issue date 2026-03-02"


def test_a_credit_note_without_the_invoice_it_corrects_is_refused() -> None:
    with pytest.raises(InvalidInvoice, match="must refer to the invoice it corrects"):
        document(line(), kind=DocumentKind.CREDIT_NOTE)


def test_a_credit_note_document_keeps_its_reference() -> None:
    ref = DocumentRef("INV-2026-0001", date(2026, 3, 1))

    doc = document(line(), kind=DocumentKind.CREDIT_NOTE, refers_to=ref)

    assert doc.refers_to == ref


def test_the_line_position_is_named_when_a_later_line_is_bad() -> None:
    with pytest.raises(InvalidLine, match=r"^line 2: quantity must be above zero"):
        document(line(), line(quantity="0"))


# --- tax rules between parties and categories ---------------------------------------------


def test_outside_scope_lines_cannot_be_mixed_with_other_categories() -> None:
    with pytest.raises(InvalidInvoice) as caught:
        document(line(), line(rate="0", category=TaxCategory.OUTSIDE_SCOPE))

    assert caught.value.message == (
        "an invoice with 'outside_scope' lines cannot contain other tax categories "
        "(EN 16931 BR-O-11); issue separate invoices"
    )


def test_an_outside_scope_invoice_needs_no_vat_ids() -> None:
    seller = dataclasses.replace(SELLER, vat_id=None)

    doc = document(
        line(rate="0", category=TaxCategory.OUTSIDE_SCOPE),
        seller=seller,
        buyer=BUYER_WITHOUT_VAT_ID,
    )

    (row,) = doc.breakdown
    assert (row.code, row.exemption_code) == ("O", "VATEX-EU-O")


@pytest.mark.parametrize(
    ("category", "kind"),
    [
        (TaxCategory.REVERSE_CHARGE, "reverse_charge"),
        (TaxCategory.INTRA_COMMUNITY, "intra_community"),
    ],
)
def test_reverse_charge_or_intra_community_without_buyer_vat_id_is_refused(
    category: TaxCategory, kind: str
) -> None:
    with pytest.raises(InvalidInvoice) as caught:
        document(line(rate="0", category=category), buyer=BUYER_WITHOUT_VAT_ID)

    assert caught.value.message == (
        f"a {kind} invoice needs the buyer's VAT id (EN 16931 BR-AE-02/BR-IC-02); "
        "add it to client 'Harbor Analytics Inc.'"
    )


def test_a_reverse_charge_invoice_with_both_vat_ids_gets_the_legal_note() -> None:
    doc = document(line("800.00", rate="0", category=TaxCategory.REVERSE_CHARGE))

    (row,) = doc.breakdown
    assert (row.code, row.tax_amount, row.exemption_reason) == (
        "AE",
        Decimal("0.00"),
        "Reverse charge: VAT to be accounted for by the recipient",
    )
    assert doc.totals.grand_total == Decimal("800.00")


@pytest.mark.parametrize(
    ("category", "rate"),
    [
        (TaxCategory.STANDARD, "19"),
        (TaxCategory.ZERO, "0"),
        (TaxCategory.EXPORT, "0"),
        (TaxCategory.REVERSE_CHARGE, "0"),
    ],
)
def test_taxed_or_zero_rated_lines_need_the_seller_vat_id(category: TaxCategory, rate: str) -> None:
    seller = dataclasses.replace(SELLER, vat_id=None)

    with pytest.raises(InvalidInvoice) as caught:
        document(line(rate=rate, category=category), seller=seller)

    assert caught.value.message == (
        "the seller has no VAT id, required for taxed or zero-rated lines"
    )


def test_an_exempt_invoice_from_a_seller_without_vat_id_is_accepted() -> None:
    seller = dataclasses.replace(SELLER, vat_id=None)

    doc = document(line(rate="0", category=TaxCategory.EXEMPT), seller=seller)

    assert doc.breakdown[0].exemption_reason == "Exempt from VAT"


def test_a_buyer_vat_id_in_a_wrong_format_is_refused() -> None:
    buyer = dataclasses.replace(BUYER, vat_id="NL123")

    with pytest.raises(InvalidInvoice, match=r"^VAT id 'NL123' has a wrong format for NL"):
        document(line(), buyer=buyer)


# --- the issued document is frozen --------------------------------------------------------


def test_an_issued_document_cannot_be_edited() -> None:
    doc = document(line())

    with pytest.raises(dataclasses.FrozenInstanceError):
        doc.number = "INV-2026-0002"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        doc.lines[0].net_amount = Decimal(0)  # type: ignore[misc]
    with pytest.raises(TypeError):
        doc.extra["note"] = "edited"  # type: ignore[index]


def test_a_party_address_given_as_a_list_is_frozen_into_a_tuple() -> None:
    party = Party(name="Acme", address=["4 Mill Lane", "Leeds"], country="GB")  # type: ignore[arg-type]

    assert party.address == ("4 Mill Lane", "Leeds")


# --- EN 16931 arithmetic, for any lines ---------------------------------------------------

RATES = ["0", "5", "7", "9", "10", "19", "20", "21", "25.5"]
ZERO_CATEGORIES = [
    TaxCategory.ZERO,
    TaxCategory.EXEMPT,
    TaxCategory.REVERSE_CHARGE,
    TaxCategory.INTRA_COMMUNITY,
    TaxCategory.EXPORT,
]


@st.composite
def line_inputs(draw: st.DrawFn) -> LineInput:
    rate = Decimal(draw(st.sampled_from(RATES)))
    if rate:
        category = draw(st.sampled_from([TaxCategory.STANDARD, TaxCategory.REDUCED]))
    else:
        category = draw(st.sampled_from(ZERO_CATEGORIES))
    quantity = Decimal(draw(st.integers(1, 10**8))).scaleb(-4)
    price = Decimal(draw(st.integers(0, 10**9))).scaleb(-4)
    discount = draw(st.sampled_from(["none", "percent", "amount"]))
    percent = amount = Decimal(0)
    if discount == "percent":
        percent = Decimal(draw(st.integers(0, 10000))).scaleb(-2)
    elif discount == "amount":
        gross = (quantity * price).quantize(Decimal("0.01"), ROUND_HALF_UP)
        amount = Decimal(draw(st.integers(0, int(gross * 100)))).scaleb(-2)
    return LineInput(
        description="Work",
        quantity=quantity,
        unit_price=price,
        vat_rate=rate,
        tax_category=category,
        discount_percent=percent,
        discount_amount=amount,
    )


def two_decimals(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), ROUND_HALF_UP)


def has_at_most_two_decimals(value: Decimal) -> bool:
    exponent = value.as_tuple().exponent
    return isinstance(exponent, int) and exponent >= -2


@settings(max_examples=300, deadline=None, database=None)
@given(
    items=st.lists(line_inputs(), min_size=1, max_size=12),
    currency=st.sampled_from(["EUR", "GBP", "USD"]),
)
def test_totals_follow_en16931_for_any_lines(items: list[LineInput], currency: str) -> None:
    doc = document(*items, currency=currency)

    # line nets computed independently: round(quantity × price) − round(discount)
    expected_nets = []
    for item in items:
        gross = two_decimals(item.quantity * item.unit_price)
        discount = two_decimals(gross * item.discount_percent / 100 + item.discount_amount)
        expected_nets.append(gross - discount)
    assert [ln.net_amount for ln in doc.lines] == expected_nets

    totals = doc.totals
    # BR-CO-10: sum of line nets = BT-106; BR-CO-13: no document allowances, so BT-109 = BT-106
    assert totals.lines_total == sum(expected_nets, Decimal(0))
    assert totals.tax_exclusive == totals.lines_total
    # BR-CO-14: VAT total = sum of category tax amounts
    assert totals.tax_total == sum((row.tax_amount for row in doc.breakdown), Decimal(0))
    # BR-CO-15: grand total = tax exclusive + VAT
    assert totals.grand_total == totals.tax_exclusive + totals.tax_total
    # BR-CO-17: category tax = base × rate / 100, rounded to 2 decimals, once per (code, rate)
    groups: dict[tuple[str, Decimal], Decimal] = {}
    for item, net in zip(items, expected_nets, strict=True):
        key = (item.tax_category.code, item.vat_rate)
        groups[key] = groups.get(key, Decimal(0)) + net
    assert {(row.code, row.rate): row.taxable_amount for row in doc.breakdown} == groups
    for row in doc.breakdown:
        assert row.tax_amount == two_decimals(row.taxable_amount * row.rate / 100)
    # BR-DEC-*: every document-level amount has at most two decimals
    amounts = [
        totals.lines_total,
        totals.tax_exclusive,
        totals.tax_total,
        totals.grand_total,
        *(row.taxable_amount for row in doc.breakdown),
        *(row.tax_amount for row in doc.breakdown),
        *(ln.net_amount for ln in doc.lines),
    ]
    assert all(has_at_most_two_decimals(a) for a in amounts)
