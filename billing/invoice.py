"""Invoices and credit notes as frozen documents, built from line inputs.

:func:`build_document` turns line inputs into an :class:`InvoiceDocument`: every amount is
computed here, once, by the rules of EN 16931 (line net = quantity × price − discount, rounded;
VAT per category total; total = lines + VAT). An issued document is a snapshot — seller and
buyer details are copied in — and it is never edited: a correction is a credit note that
refers to it (:func:`build_credit_note`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from billing.errors import InvalidInvoice, InvalidLine, InvalidMoney
from billing.money import Money, check_currency, minor_units, round_amount, to_decimal
from billing.tax import TaxableLine, TaxCategory, VatBreakdown, parse_category, vat_breakdown
from billing.vat_ids import check_vat_id

MAX_DESCRIPTION = 1000
MAX_QUANTITY_DECIMALS = 4
MAX_PRICE_DECIMALS = 4


class DocumentKind(StrEnum):
    """Invoice (UNTDID 1001 code 380) or credit note (381)."""

    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"

    @property
    def type_code(self) -> str:
        """UNTDID 1001 document type code (BT-3)."""
        return "380" if self is DocumentKind.INVOICE else "381"


@dataclass(frozen=True, slots=True)
class Party:
    """Seller or buyer as printed on the document (a snapshot, never a live reference)."""

    name: str
    address: tuple[str, ...]
    country: str
    vat_id: str | None = None
    email: str | None = None
    registration_id: str | None = None
    contact_name: str | None = None

    def __post_init__(self) -> None:
        # a list would leave the snapshot's address editable after issue
        object.__setattr__(self, "address", tuple(self.address))


@dataclass(frozen=True, slots=True)
class BankDetails:
    """Where the buyer pays: IBAN/BIC, or local account details."""

    account_name: str
    iban: str | None = None
    bic: str | None = None
    bank_name: str | None = None
    account_number: str | None = None
    sort_code: str | None = None
    routing_number: str | None = None


@dataclass(frozen=True, slots=True)
class LineInput:
    """A line item as given by a trigger, an import or a subscription, before computation."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    vat_rate: Decimal
    tax_category: TaxCategory
    discount_percent: Decimal = Decimal(0)
    discount_amount: Decimal = Decimal(0)
    unit_code: str = "C62"
    exemption_reason: str | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, position: int = 1) -> LineInput:
        """Read the import/trigger JSON shape; amounts must be strings or integers."""
        where = f"line {position}"
        if not isinstance(data, Mapping):
            raise InvalidLine(f"{where}: expected an object with description, quantity, unit_price")
        unknown = set(data) - _LINE_KEYS
        if unknown:
            raise InvalidLine(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        for key in ("description", "quantity", "unit_price"):
            if key not in data:
                raise InvalidLine(f"{where}: missing {key!r}")
        for key in ("description", "tax_category", "unit_code", "exemption_reason"):
            value = data.get(key)
            if (key == "description" or value is not None) and not isinstance(value, str):
                raise InvalidLine(f"{where}: {key} must be text, got {type(value).__name__}")
        try:
            quantity = to_decimal(data["quantity"], what=f"{where}: quantity")
            price = to_decimal(data["unit_price"], what=f"{where}: unit_price")
            rate = to_decimal(data.get("vat_rate", "0"), what=f"{where}: vat_rate")
            pct = to_decimal(data.get("discount_percent", "0"), what=f"{where}: discount_percent")
            amt = to_decimal(data.get("discount_amount", "0"), what=f"{where}: discount_amount")
        except InvalidMoney as exc:
            raise InvalidLine(exc.message) from None
        try:
            category = parse_category(data.get("tax_category"), rate)
        except ValueError:
            raise InvalidLine(
                f"{where}: unknown tax_category {data.get('tax_category')!r} (one of "
                + ", ".join(c.value for c in TaxCategory)
                + ")"
            ) from None
        line = cls(
            description=str(data["description"]),
            quantity=quantity,
            unit_price=price,
            vat_rate=rate,
            tax_category=category,
            discount_percent=pct,
            discount_amount=amt,
            unit_code="C62" if data.get("unit_code") is None else data["unit_code"],
            exemption_reason=data.get("exemption_reason") or None,
        )
        line.validate(position)
        return line

    def validate(self, position: int = 1) -> None:
        """Refuse lines that cannot be invoiced, with the reason."""
        where = f"line {position}"
        if not self.description.strip():
            raise InvalidLine(f"{where}: description is empty")
        if len(self.description) > MAX_DESCRIPTION:
            raise InvalidLine(f"{where}: description longer than {MAX_DESCRIPTION} characters")
        if self.quantity <= 0:
            raise InvalidLine(f"{where}: quantity must be above zero (got {self.quantity})")
        if _decimals(self.quantity) > MAX_QUANTITY_DECIMALS:
            raise InvalidLine(f"{where}: quantity has more than {MAX_QUANTITY_DECIMALS} decimals")
        if self.unit_price < 0:
            raise InvalidLine(f"{where}: unit_price must not be negative (use a credit note)")
        if _decimals(self.unit_price) > MAX_PRICE_DECIMALS:
            raise InvalidLine(f"{where}: unit_price has more than {MAX_PRICE_DECIMALS} decimals")
        if not Decimal(0) <= self.vat_rate <= Decimal(100):
            raise InvalidLine(f"{where}: vat_rate must be between 0 and 100 (got {self.vat_rate})")
        if self.tax_category.needs_positive_rate and self.vat_rate == 0:
            raise InvalidLine(f"{where}: a {self.tax_category.value} line needs a VAT rate above 0")
        if not self.tax_category.needs_positive_rate and self.vat_rate != 0:
            raise InvalidLine(
                f"{where}: a {self.tax_category.value} line must have vat_rate 0 "
                f"(got {self.vat_rate})"
            )
        if self.exemption_reason and self.tax_category.default_exemption_reason is None:
            # EN 16931 BR-S-10 / BR-Z-10: taxed and zero-rated VAT carries no exemption reason
            raise InvalidLine(
                f"{where}: a {self.tax_category.value} line takes no exemption_reason "
                "(only exempt, reverse_charge, intra_community, export and outside_scope do)"
            )
        if not Decimal(0) <= self.discount_percent <= Decimal(100):
            raise InvalidLine(f"{where}: discount_percent must be between 0 and 100")
        if self.discount_amount < 0:
            raise InvalidLine(f"{where}: discount_amount must not be negative")
        if self.discount_percent and self.discount_amount:
            raise InvalidLine(f"{where}: give discount_percent or discount_amount, not both")
        if not self.unit_code.strip() or len(self.unit_code) > 3:
            raise InvalidLine(f"{where}: unit_code must be a UN/ECE Rec 20 code such as C62")

    def to_mapping(self) -> dict[str, str]:
        """The JSON shape of the import format (amounts as strings)."""
        out = {
            "description": self.description,
            "quantity": str(self.quantity),
            "unit_price": str(self.unit_price),
            "vat_rate": str(self.vat_rate),
            "tax_category": self.tax_category.value,
        }
        if self.discount_percent:
            out["discount_percent"] = str(self.discount_percent)
        if self.discount_amount:
            out["discount_amount"] = str(self.discount_amount)
        if self.unit_code != "C62":
            out["unit_code"] = self.unit_code
        if self.exemption_reason:
            out["exemption_reason"] = self.exemption_reason
        return out


_LINE_KEYS = {
    "description",
    "quantity",
    "unit_price",
    "vat_rate",
    "tax_category",
    "discount_percent",
    "discount_amount",
    "unit_code",
    "exemption_reason",
}


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


@dataclass(frozen=True, slots=True)
class Line:
    """A computed invoice line (BG-25)."""

    position: int
    description: str
    quantity: Decimal
    unit_code: str
    unit_price: Decimal
    gross_amount: Decimal
    discount_amount: Decimal
    discount_percent: Decimal
    net_amount: Decimal
    tax_category: TaxCategory
    vat_rate: Decimal
    exemption_reason: str | None


@dataclass(frozen=True, slots=True)
class Totals:
    """Document totals (BG-22)."""

    currency: str
    lines_total: Decimal
    tax_exclusive: Decimal
    tax_total: Decimal
    grand_total: Decimal

    def money(self, name: str) -> Money:
        """A total as Money, e.g. ``totals.money("grand_total")``."""
        return Money(getattr(self, name), self.currency)


@dataclass(frozen=True, slots=True)
class DocumentRef:
    """A reference to a preceding invoice (BG-3) on a credit note."""

    number: str
    issue_date: date


@dataclass(frozen=True, slots=True)
class InvoiceDocument:
    """An issued invoice or credit note: everything printed on it, frozen."""

    kind: DocumentKind
    number: str
    currency: str
    issue_date: date
    due_date: date | None
    delivery_date: date
    seller: Party
    buyer: Party
    lines: tuple[Line, ...]
    breakdown: tuple[VatBreakdown, ...]
    totals: Totals
    language: str = "en"
    payment_reference: str = ""
    bank: BankDetails | None = None
    payment_terms: str | None = None
    notes: tuple[str, ...] = ()
    refers_to: DocumentRef | None = None
    buyer_reference: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # the snapshot is frozen all the way down: no dict left to edit after issue
        object.__setattr__(self, "extra", MappingProxyType(dict(self.extra)))

    @property
    def categories(self) -> frozenset[TaxCategory]:
        """The tax categories used on this document."""
        return frozenset(row.category for row in self.breakdown)


def compute_line(position: int, item: LineInput, currency: str) -> Line:
    """Line net = round(quantity × unit price) − discount (BT-131), per currency rounding."""
    item.validate(position)
    try:
        gross = round_amount(item.quantity * item.unit_price, currency)
    except InvalidMoney as exc:
        raise InvalidLine(f"line {position}: {exc.message}") from None
    if item.discount_percent:
        discount = round_amount(gross * item.discount_percent / Decimal(100), currency)
    else:
        if _decimals(item.discount_amount) > minor_units(currency):
            raise InvalidLine(
                f"line {position}: discount_amount {item.discount_amount} has more decimals "
                f"than {currency} allows ({minor_units(currency)})"
            )
        discount = round_amount(item.discount_amount, currency)
    if discount > gross:
        raise InvalidLine(f"line {position}: discount {discount} exceeds the line amount {gross}")
    return Line(
        position=position,
        description=item.description.strip(),
        quantity=item.quantity,
        unit_code=item.unit_code,
        unit_price=item.unit_price,
        gross_amount=gross,
        discount_amount=discount,
        discount_percent=item.discount_percent,
        net_amount=gross - discount,
        tax_category=item.tax_category,
        vat_rate=item.vat_rate,
        exemption_reason=item.exemption_reason,
    )


def compute_totals(lines: Sequence[Line], currency: str) -> tuple[tuple[VatBreakdown, ...], Totals]:
    """VAT breakdown per category and the document totals (BR-CO-10, -13, -14, -15, -17)."""
    breakdown = vat_breakdown(
        [
            TaxableLine(ln.net_amount, ln.tax_category, ln.vat_rate, ln.exemption_reason)
            for ln in lines
        ],
        currency,
    )
    lines_total = sum((ln.net_amount for ln in lines), Decimal(0))
    tax_total = sum((row.tax_amount for row in breakdown), Decimal(0))
    lines_total = round_amount(lines_total, currency)
    tax_total = round_amount(tax_total, currency)
    totals = Totals(
        currency=currency,
        lines_total=lines_total,
        tax_exclusive=lines_total,
        tax_total=tax_total,
        grand_total=lines_total + tax_total,
    )
    return breakdown, totals


def check_tax_rules(seller: Party, buyer: Party, lines: Sequence[Line]) -> None:
    """The EN 16931 party/category rules a document must meet before it is issued."""
    cats = {ln.tax_category for ln in lines}
    if TaxCategory.OUTSIDE_SCOPE in cats and len(cats) > 1:
        raise InvalidInvoice(
            "an invoice with 'outside_scope' lines cannot contain other tax categories "
            "(EN 16931 BR-O-11); issue separate invoices"
        )
    needs_seller_vat = cats - {TaxCategory.OUTSIDE_SCOPE, TaxCategory.EXEMPT}
    if needs_seller_vat and not seller.vat_id:
        raise InvalidInvoice("the seller has no VAT id, required for taxed or zero-rated lines")
    buyer_vat_needed = cats & {TaxCategory.REVERSE_CHARGE, TaxCategory.INTRA_COMMUNITY}
    if buyer_vat_needed and not buyer.vat_id:
        kind = sorted(c.value for c in buyer_vat_needed)[0]
        raise InvalidInvoice(
            f"a {kind} invoice needs the buyer's VAT id (EN 16931 BR-AE-02/BR-IC-02); "
            f"add it to client {buyer.name!r}"
        )
    for party in (seller, buyer):
        if party.vat_id:
            check_vat_id(party.vat_id, party.country)


def build_document(
    *,
    kind: DocumentKind = DocumentKind.INVOICE,
    number: str,
    currency: str,
    issue_date: date,
    due_date: date | None,
    seller: Party,
    buyer: Party,
    items: Sequence[LineInput],
    delivery_date: date | None = None,
    language: str = "en",
    payment_reference: str | None = None,
    bank: BankDetails | None = None,
    payment_terms: str | None = None,
    notes: Sequence[str] = (),
    refers_to: DocumentRef | None = None,
    buyer_reference: str | None = None,
) -> InvoiceDocument:
    """Compute and validate a document; raises InvalidLine/InvalidInvoice with the reason."""
    currency = check_currency(currency)
    if not items:
        raise InvalidInvoice("an invoice needs at least one line")
    if kind is DocumentKind.CREDIT_NOTE and refers_to is None:
        raise InvalidInvoice("a credit note must refer to the invoice it corrects")
    if due_date is not None and due_date < issue_date:
        raise InvalidInvoice(f"due date {due_date} is before the issue date {issue_date}")
    lines = tuple(compute_line(i, item, currency) for i, item in enumerate(items, start=1))
    check_tax_rules(seller, buyer, lines)
    breakdown, totals = compute_totals(lines, currency)
    return InvoiceDocument(
        kind=kind,
        number=number,
        currency=currency,
        issue_date=issue_date,
        due_date=due_date,
        delivery_date=delivery_date or issue_date,
        seller=seller,
        buyer=buyer,
        lines=lines,
        breakdown=breakdown,
        totals=totals,
        language=language,
        payment_reference=payment_reference or number,
        bank=bank,
        payment_terms=payment_terms,
        notes=tuple(notes),
        refers_to=refers_to,
        buyer_reference=buyer_reference,
    )


def line_inputs_of(document: InvoiceDocument) -> tuple[LineInput, ...]:
    """The inputs that rebuild this document's lines (used to credit it in full)."""
    return tuple(
        LineInput(
            description=ln.description,
            quantity=ln.quantity,
            unit_price=ln.unit_price,
            vat_rate=ln.vat_rate,
            tax_category=ln.tax_category,
            discount_percent=ln.discount_percent,
            discount_amount=Decimal(0) if ln.discount_percent else ln.discount_amount,
            unit_code=ln.unit_code,
            exemption_reason=ln.exemption_reason,
        )
        for ln in document.lines
    )


def build_credit_note(
    invoice: InvoiceDocument,
    *,
    number: str,
    issue_date: date,
    items: Sequence[LineInput] | None = None,
    notes: Sequence[str] = (),
) -> InvoiceDocument:
    """A credit note for ``invoice``: in full (``items`` None) or for the given lines.

    A full credit note reproduces the invoice's lines, so its totals equal the invoice's
    exactly and the two cancel to zero. A partial one may not exceed the invoice total.
    """
    if invoice.kind is not DocumentKind.INVOICE:
        raise InvalidInvoice("only an invoice can be credited")
    if issue_date < invoice.issue_date:
        raise InvalidInvoice("a credit note cannot be dated before the invoice it corrects")
    credit = build_document(
        kind=DocumentKind.CREDIT_NOTE,
        number=number,
        currency=invoice.currency,
        issue_date=issue_date,
        due_date=None,
        seller=invoice.seller,
        buyer=invoice.buyer,
        items=list(items) if items is not None else list(line_inputs_of(invoice)),
        delivery_date=invoice.delivery_date,
        language=invoice.language,
        payment_reference=number,
        bank=invoice.bank,
        notes=notes,
        refers_to=DocumentRef(invoice.number, invoice.issue_date),
        buyer_reference=invoice.buyer_reference,
    )
    if credit.totals.grand_total > invoice.totals.grand_total:
        raise InvalidInvoice(
            f"credit note total {credit.totals.grand_total} exceeds invoice "
            f"{invoice.number} total {invoice.totals.grand_total}"
        )
    return credit
