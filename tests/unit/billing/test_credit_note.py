"""Credit notes: a correction that refers to the invoice and negates it exactly."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.errors import InvalidInvoice
from billing.invoice import (
    DocumentKind,
    DocumentRef,
    InvoiceDocument,
    LineInput,
    Party,
    build_credit_note,
    build_document,
    line_inputs_of,
)
from billing.status import InvoiceStatus, balance, settle
from billing.tax import TaxCategory

ISSUE = date(2026, 3, 2)
SELLER = Party(
    name="Northwind Digital Ltd", address=("12 Harbour St",), country="GB", vat_id="GB980780684"
)
BUYER = Party(
    name="Brandt Maschinenbau GmbH",
    address=("Industriestraße 8",),
    country="DE",
    vat_id="DE136695976",
)


def line(
    price: str,
    *,
    quantity: str = "1",
    rate: str = "20",
    category: TaxCategory = TaxCategory.STANDARD,
    discount_percent: str = "0",
    discount_amount: str = "0",
) -> LineInput:
    return LineInput(
        description="Work",
        quantity=Decimal(quantity),
        unit_price=Decimal(price),
        vat_rate=Decimal(rate),
        tax_category=category,
        discount_percent=Decimal(discount_percent),
        discount_amount=Decimal(discount_amount),
    )


def invoice(*items: LineInput, currency: str = "GBP") -> InvoiceDocument:
    return build_document(
        number="INV-2026-0117",
        currency=currency,
        issue_date=ISSUE,
        due_date=date(2026, 4, 1),
        seller=SELLER,
        buyer=BUYER,
        items=items,
        buyer_reference="PO-4471",
        payment_terms="Net 30 days",
    )


def test_a_full_credit_note_reproduces_the_invoice_and_refers_to_it() -> None:
    original = invoice(
        line("3500.00"),
        line("120.00", quantity="1.5", discount_percent="12.5"),
        line("99.99", discount_amount="9.99"),
        line("400.00", rate="0", category=TaxCategory.REVERSE_CHARGE),
    )

    credit = build_credit_note(original, number="CN-2026-0001", issue_date=date(2026, 3, 9))

    assert credit.kind is DocumentKind.CREDIT_NOTE
    assert credit.kind.type_code == "381"
    assert credit.refers_to == DocumentRef("INV-2026-0117", ISSUE)
    assert credit.totals == original.totals
    assert credit.breakdown == original.breakdown
    assert credit.lines == original.lines
    assert (credit.seller, credit.buyer) == (original.seller, original.buyer)
    assert credit.due_date is None
    assert credit.payment_reference == "CN-2026-0001"
    assert credit.buyer_reference == "PO-4471"


def test_a_full_credit_note_brings_the_balance_to_zero_and_the_status_to_credited() -> None:
    original = invoice(line("1000.00"), line("15.55", quantity="3", rate="5"))
    credit = build_credit_note(original, number="CN-2026-0001", issue_date=ISSUE)

    credited = credit.totals.grand_total

    assert balance(original.totals.grand_total, Decimal(0), credited) == 0
    assert settle(InvoiceStatus.OPEN, original.totals.grand_total, Decimal(0), credited) is (
        InvoiceStatus.CREDITED
    )


def test_line_inputs_of_a_document_rebuild_its_lines() -> None:
    original = invoice(
        line("10.00", discount_percent="33.3333"), line("10.00", discount_amount="1")
    )

    assert line_inputs_of(original) == (
        line("10.00", discount_percent="33.3333"),
        line("10.00", discount_amount="1.00"),
    )


def test_a_partial_credit_note_credits_only_the_given_lines() -> None:
    original = invoice(line("3500.00"), line("120.00"))

    credit = build_credit_note(
        original,
        number="CN-2026-0002",
        issue_date=ISSUE,
        items=[line("120.00")],
        notes=("Hosting not delivered in October",),
    )

    assert (credit.totals.lines_total, credit.totals.tax_total, credit.totals.grand_total) == (
        Decimal("120.00"),
        Decimal("24.00"),
        Decimal("144.00"),
    )
    assert credit.notes == ("Hosting not delivered in October",)
    assert balance(original.totals.grand_total, Decimal(0), credit.totals.grand_total) == (
        Decimal("4200.00")
    )


def test_a_credit_note_above_the_invoice_total_is_refused() -> None:
    original = invoice(line("100.00"))

    with pytest.raises(InvalidInvoice) as caught:
        build_credit_note(original, number="CN-2026-0003", issue_date=ISSUE, items=[line("100.01")])

    assert caught.value.message == (
        "credit note total 120.01 exceeds invoice INV-2026-0117 total 120.00"
    )


def test_a_credit_note_cannot_be_credited() -> None:
    original = invoice(line("100.00"))
    credit = build_credit_note(original, number="CN-2026-0001", issue_date=ISSUE)

    with pytest.raises(InvalidInvoice, match=r"^only an invoice can be credited$"):
        build_credit_note(credit, number="CN-2026-0002", issue_date=ISSUE)


def test_a_credit_note_dated_before_its_invoice_is_refused() -> None:
    original = invoice(line("100.00"))

    with pytest.raises(InvalidInvoice) as caught:
        build_credit_note(original, number="CN-2026-0001", issue_date=date(2026, 3, 1))

    assert caught.value.message == "a credit note cannot be dated before the invoice it corrects"


RATES = ["5", "7", "9", "10", "19", "20", "21", "25.5"]


@st.composite
def line_inputs(draw: st.DrawFn) -> LineInput:
    quantity = Decimal(draw(st.integers(1, 10**8))).scaleb(-4)
    price = Decimal(draw(st.integers(0, 10**9))).scaleb(-4)
    if draw(st.booleans()):
        rate = draw(st.sampled_from(RATES))
        category = draw(st.sampled_from([TaxCategory.STANDARD, TaxCategory.REDUCED]))
    else:
        rate = "0"
        category = draw(
            st.sampled_from([TaxCategory.ZERO, TaxCategory.EXEMPT, TaxCategory.REVERSE_CHARGE])
        )
    percent = Decimal(draw(st.integers(0, 10000))).scaleb(-2) if draw(st.booleans()) else 0
    return LineInput(
        description="Work",
        quantity=quantity,
        unit_price=price,
        vat_rate=Decimal(rate),
        tax_category=category,
        discount_percent=Decimal(percent),
    )


@settings(max_examples=200, deadline=None, database=None)
@given(
    items=st.lists(line_inputs(), min_size=1, max_size=10),
    currency=st.sampled_from(["EUR", "GBP", "USD", "JPY", "BHD"]),
)
def test_a_full_credit_note_negates_any_invoice_exactly(
    items: list[LineInput], currency: str
) -> None:
    original = invoice(*items, currency=currency)

    credit = build_credit_note(original, number="CN-2026-0001", issue_date=ISSUE)

    assert credit.totals == original.totals
    assert credit.breakdown == original.breakdown
    assert balance(original.totals.grand_total, Decimal(0), credit.totals.grand_total) == 0
