"""An issued document as JSON-safe data and back, exactly (Decimals as strings).

The stored snapshot is what was issued; it is read back into an
:class:`~billing.invoice.InvoiceDocument` for rendering and queries, never recomputed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from billing.invoice import (
    BankDetails,
    DocumentKind,
    DocumentRef,
    InvoiceDocument,
    Line,
    Party,
    Totals,
)
from billing.tax import TaxCategory, VatBreakdown

SNAPSHOT_VERSION = 1


def _party(p: Party) -> dict[str, Any]:
    return {
        "name": p.name,
        "address": list(p.address),
        "country": p.country,
        "vat_id": p.vat_id,
        "email": p.email,
        "registration_id": p.registration_id,
        "contact_name": p.contact_name,
    }


def _party_from(d: Mapping[str, Any]) -> Party:
    return Party(
        name=d["name"],
        address=tuple(d["address"]),
        country=d["country"],
        vat_id=d.get("vat_id"),
        email=d.get("email"),
        registration_id=d.get("registration_id"),
        contact_name=d.get("contact_name"),
    )


def _dec(value: Decimal) -> str:
    return str(value)


def to_snapshot(doc: InvoiceDocument) -> dict[str, Any]:
    """The document as JSON-safe data."""
    return {
        "version": SNAPSHOT_VERSION,
        "kind": doc.kind.value,
        "number": doc.number,
        "currency": doc.currency,
        "issue_date": doc.issue_date.isoformat(),
        "due_date": doc.due_date.isoformat() if doc.due_date else None,
        "delivery_date": doc.delivery_date.isoformat(),
        "seller": _party(doc.seller),
        "buyer": _party(doc.buyer),
        "lines": [
            {
                "position": ln.position,
                "description": ln.description,
                "quantity": _dec(ln.quantity),
                "unit_code": ln.unit_code,
                "unit_price": _dec(ln.unit_price),
                "gross_amount": _dec(ln.gross_amount),
                "discount_amount": _dec(ln.discount_amount),
                "discount_percent": _dec(ln.discount_percent),
                "net_amount": _dec(ln.net_amount),
                "tax_category": ln.tax_category.value,
                "vat_rate": _dec(ln.vat_rate),
                "exemption_reason": ln.exemption_reason,
            }
            for ln in doc.lines
        ],
        "breakdown": [
            {
                "category": row.category.value,
                "rate": _dec(row.rate),
                "taxable_amount": _dec(row.taxable_amount),
                "tax_amount": _dec(row.tax_amount),
                "exemption_reason": row.exemption_reason,
                "exemption_code": row.exemption_code,
            }
            for row in doc.breakdown
        ],
        "totals": {
            "lines_total": _dec(doc.totals.lines_total),
            "tax_exclusive": _dec(doc.totals.tax_exclusive),
            "tax_total": _dec(doc.totals.tax_total),
            "grand_total": _dec(doc.totals.grand_total),
        },
        "language": doc.language,
        "payment_reference": doc.payment_reference,
        "bank": None
        if doc.bank is None
        else {
            "account_name": doc.bank.account_name,
            "iban": doc.bank.iban,
            "bic": doc.bank.bic,
            "bank_name": doc.bank.bank_name,
            "account_number": doc.bank.account_number,
            "sort_code": doc.bank.sort_code,
            "routing_number": doc.bank.routing_number,
        },
        "payment_terms": doc.payment_terms,
        "notes": list(doc.notes),
        "refers_to": None
        if doc.refers_to is None
        else {
            "number": doc.refers_to.number,
            "issue_date": doc.refers_to.issue_date.isoformat(),
        },
        "buyer_reference": doc.buyer_reference,
    }


def from_snapshot(d: Mapping[str, Any]) -> InvoiceDocument:
    """Rebuild the issued document from its snapshot (no recomputation)."""
    currency = str(d["currency"])
    totals = d["totals"]
    bank = d.get("bank")
    ref = d.get("refers_to")
    return InvoiceDocument(
        kind=DocumentKind(d["kind"]),
        number=d["number"],
        currency=currency,
        issue_date=date.fromisoformat(d["issue_date"]),
        due_date=date.fromisoformat(d["due_date"]) if d.get("due_date") else None,
        delivery_date=date.fromisoformat(d["delivery_date"]),
        seller=_party_from(d["seller"]),
        buyer=_party_from(d["buyer"]),
        lines=tuple(
            Line(
                position=int(ln["position"]),
                description=ln["description"],
                quantity=Decimal(ln["quantity"]),
                unit_code=ln["unit_code"],
                unit_price=Decimal(ln["unit_price"]),
                gross_amount=Decimal(ln["gross_amount"]),
                discount_amount=Decimal(ln["discount_amount"]),
                discount_percent=Decimal(ln["discount_percent"]),
                net_amount=Decimal(ln["net_amount"]),
                tax_category=TaxCategory(ln["tax_category"]),
                vat_rate=Decimal(ln["vat_rate"]),
                exemption_reason=ln.get("exemption_reason"),
            )
            for ln in d["lines"]
        ),
        breakdown=tuple(
            VatBreakdown(
                category=TaxCategory(row["category"]),
                rate=Decimal(row["rate"]),
                taxable_amount=Decimal(row["taxable_amount"]),
                tax_amount=Decimal(row["tax_amount"]),
                exemption_reason=row.get("exemption_reason"),
                exemption_code=row.get("exemption_code"),
            )
            for row in d["breakdown"]
        ),
        totals=Totals(
            currency=currency,
            lines_total=Decimal(totals["lines_total"]),
            tax_exclusive=Decimal(totals["tax_exclusive"]),
            tax_total=Decimal(totals["tax_total"]),
            grand_total=Decimal(totals["grand_total"]),
        ),
        language=d.get("language", "en"),
        payment_reference=d.get("payment_reference", d["number"]),
        bank=None if not bank else BankDetails(**bank),
        payment_terms=d.get("payment_terms"),
        notes=tuple(d.get("notes", ())),
        refers_to=None
        if not ref
        else DocumentRef(ref["number"], date.fromisoformat(ref["issue_date"])),
        buyer_reference=d.get("buyer_reference"),
    )
