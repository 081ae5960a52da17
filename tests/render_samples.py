"""Sample invoices and credit notes for the render tests and the render benchmark.

Every builder goes through ``billing.invoice.build_document`` / ``build_credit_note``, so the
documents carry exactly the amounts the domain computes. Parties and amounts are fictitious.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from billing.invoice import (
    BankDetails,
    DocumentKind,
    InvoiceDocument,
    LineInput,
    Party,
    build_credit_note,
    build_document,
)
from billing.tax import TaxCategory

ISSUE_DATE = date(2026, 11, 26)
DUE_DATE = date(2026, 12, 10)
DELIVERY_DATE = date(2026, 11, 20)

SELLER = Party(
    name="Northwind Studio GmbH",
    address=("Torstraße 140", "10119 Berlin"),
    country="DE",
    vat_id="DE123456789",
    email="billing@northwind.example",
    registration_id="HRB 123456 B",
)
SELLER_WITHOUT_VAT = Party(
    name="Northwind Studio GmbH",
    address=("Torstraße 140", "10119 Berlin"),
    country="DE",
    email="billing@northwind.example",
    registration_id="HRB 123456 B",
)
BANK = BankDetails(
    account_name="Northwind Studio GmbH",
    iban="DE89370400440532013000",
    bic="COBADEFFXXX",
    bank_name="Commerzbank",
)
UK_BANK = BankDetails(
    account_name="Northwind Studio GmbH",
    account_number="31926819",
    sort_code="60-16-13",
    bank_name="NatWest",
)

BUYER_DE = Party(
    name="Kranich Logistik AG",
    address=("Hafenstraße 12", "20457 Hamburg"),
    country="DE",
    vat_id="DE987654321",
    email="ap@kranich.example",
    contact_name="Jana Vogel",
)
BUYER_NL = Party(
    name="Tulp Digital B.V.",
    address=("Keizersgracht 123", "1015 CJ Amsterdam"),
    country="NL",
    vat_id="NL123456789B01",
    email="finance@tulp.example",
    contact_name="Pieter de Vries",
    registration_id="KvK 12345678",
)
BUYER_FR = Party(
    name="Atelier Lumière SARL",
    address=("12 rue de la Paix", "75002 Paris"),
    country="FR",
    vat_id="FR40303265045",
    email="compta@lumiere.example",
)
BUYER_ES = Party(
    name="Sol y Mar Comunicación S.L.",
    address=("Calle de Alcalá 45", "28014 Madrid"),
    country="ES",
    vat_id="ESB12345678",
    email="facturas@solymar.example",
)
BUYER_US = Party(
    name="Redwood Apps Inc.",
    address=("500 Market Street", "San Francisco, CA 94105"),
    country="US",
    email="ap@redwood.example",
)
BUYER_PRIVATE = Party(
    name="Dr. Miriam Adler",
    address=("Lindenallee 3", "50968 Köln"),
    country="DE",
    email="miriam.adler@example.org",
)

_SERVICES = (
    ("Brand strategy workshop (2 days, on site)", "2", "1450.00"),
    ("UX design – sprint 14, checkout flow", "38.5", "95.00"),
    ("Frontend development (hours)", "42", "88.50"),
    ("Copywriting – landing page and 3 product pages", "1", "1200.00"),
    ("Hosting & maintenance, November 2026", "1", "249.00"),
    ("Project management", "12.25", "79.00"),
    ("Stock photography licences", "6", "34.90"),
    ("Accessibility audit (WCAG 2.2 AA)", "1", "980.00"),
)


def _line(position: int, category: TaxCategory, rate: str) -> LineInput:
    description, quantity, price = _SERVICES[position % len(_SERVICES)]
    if position >= len(_SERVICES):
        description = f"{description} (item {position + 1})"
    return LineInput(
        description=description,
        quantity=Decimal(quantity),
        unit_price=Decimal(price),
        vat_rate=Decimal(rate),
        tax_category=category,
    )


def lines(
    count: int, category: TaxCategory = TaxCategory.STANDARD, rate: str = "19"
) -> list[LineInput]:
    """``count`` realistic agency lines of one tax category."""
    return [_line(i, category, rate) for i in range(count)]


def standard_invoice(
    *,
    line_count: int = 6,
    language: str = "en",
    number: str = "INV-2026-0042",
    buyer: Party = BUYER_DE,
    currency: str = "EUR",
    bank: BankDetails | None = BANK,
) -> InvoiceDocument:
    """A German agency's invoice at 19 % with one 10 % discounted line and a 7 % line."""
    items = lines(line_count)
    items[0] = LineInput(
        description=items[0].description,
        quantity=items[0].quantity,
        unit_price=items[0].unit_price,
        vat_rate=Decimal("19"),
        tax_category=TaxCategory.STANDARD,
        discount_percent=Decimal("10"),
    )
    if line_count > 2:
        items[-1] = LineInput(
            description="Printed brand book (reduced rate)",
            quantity=Decimal("3"),
            unit_price=Decimal("42.80"),
            vat_rate=Decimal("7"),
            tax_category=TaxCategory.REDUCED,
        )
    return build_document(
        number=number,
        currency=currency,
        issue_date=ISSUE_DATE,
        due_date=DUE_DATE,
        delivery_date=DELIVERY_DATE,
        seller=SELLER,
        buyer=buyer,
        items=items,
        language=language,
        bank=bank,
        payment_terms="Payable within 14 days without deduction.",
        notes=("Project: Website relaunch 2026",),
        buyer_reference="PO-7781",
    )


def category_invoice(
    category: TaxCategory,
    *,
    language: str = "en",
    number: str = "INV-2026-0050",
    line_count: int = 3,
) -> InvoiceDocument:
    """An invoice whose lines are all of one zero-rate category, with the right parties."""
    seller, buyer = SELLER, BUYER_DE
    if category in (TaxCategory.REVERSE_CHARGE, TaxCategory.INTRA_COMMUNITY):
        buyer = BUYER_NL
    elif category in (TaxCategory.EXPORT, TaxCategory.OUTSIDE_SCOPE):
        buyer = BUYER_US
    elif category is TaxCategory.EXEMPT:
        buyer = BUYER_PRIVATE
    return build_document(
        number=number,
        currency="EUR",
        issue_date=ISSUE_DATE,
        due_date=DUE_DATE,
        delivery_date=DELIVERY_DATE,
        seller=seller,
        buyer=buyer,
        items=lines(line_count, category, "0"),
        language=language,
        bank=BANK,
    )


def credit_note(*, language: str = "en", partial: bool = False) -> InvoiceDocument:
    """A credit note for :func:`standard_invoice`, in full or for one line."""
    invoice = standard_invoice(language=language)
    items = None
    if partial:
        items = [
            LineInput(
                description="Goodwill credit: Frontend development (5 hours)",
                quantity=Decimal("5"),
                unit_price=Decimal("88.50"),
                vat_rate=Decimal("19"),
                tax_category=TaxCategory.STANDARD,
            )
        ]
    return build_credit_note(
        invoice,
        number="CN-2026-0007",
        issue_date=date(2026, 12, 2),
        items=items,
        notes=("Credited at the client's request (ticket 5531).",),
    )


def bhd_invoice() -> InvoiceDocument:
    """An invoice in Bahraini dinar (3 decimals): the PDF renders, EN 16931 cannot carry it."""
    return build_document(
        number="INV-2026-BH1",
        currency="BHD",
        issue_date=ISSUE_DATE,
        due_date=DUE_DATE,
        seller=SELLER_WITHOUT_VAT,
        buyer=BUYER_US,
        items=[
            LineInput(
                description="Design retainer",
                quantity=Decimal("1"),
                unit_price=Decimal("1250.125"),
                vat_rate=Decimal("0"),
                tax_category=TaxCategory.OUTSIDE_SCOPE,
            )
        ],
        bank=BANK,
    )


def hostile_invoice(name: str, description: str, *, note: str = "") -> InvoiceDocument:
    """An invoice whose client-supplied fields carry markup (for the injection tests)."""
    buyer = Party(
        name=name,
        address=(description[:80] or "Main St 1", "10115 Berlin"),
        country="DE",
        email="ap@client.example",
        contact_name=name,
    )
    return build_document(
        number="INV-2026-0666",
        currency="EUR",
        issue_date=ISSUE_DATE,
        due_date=DUE_DATE,
        seller=SELLER,
        buyer=buyer,
        items=[
            LineInput(
                description=description,
                quantity=Decimal("1"),
                unit_price=Decimal("100"),
                vat_rate=Decimal("19"),
                tax_category=TaxCategory.STANDARD,
            )
        ],
        bank=BANK,
        notes=(note,) if note else (),
        payment_terms=note or None,
        buyer_reference=name[:100],
    )


def is_credit_note(document: InvoiceDocument) -> bool:
    """True for a credit note (handy in parametrised tests)."""
    return document.kind is DocumentKind.CREDIT_NOTE
