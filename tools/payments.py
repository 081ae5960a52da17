"""Record payments: idempotent by external reference; status and balance follow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from billing.events import DomainEvent, EventKind
from billing.invoice import DocumentKind
from billing.money import check_currency, round_amount, to_decimal
from billing.records import Payment
from billing.status import InvoiceStatus, settle
from tools.clock import Clock
from tools.errors import PaymentRefused
from tools.ports import Ledger, LedgerFactory


@dataclass(frozen=True, slots=True)
class PaymentResult:
    """What recording a payment did."""

    invoice_number: str
    recorded: bool
    status: InvoiceStatus
    balance: Decimal
    applied: Decimal
    overpaid: Decimal


def apply_payment(
    ledger: Ledger, payment: Payment, *, now_actor: str, clock: Clock
) -> PaymentResult:
    """Apply one payment inside an open unit of work (used by import and sync too)."""
    now = clock.now()
    invoice = ledger.invoice(payment.invoice_number, for_update=True)
    if invoice.kind is not DocumentKind.INVOICE:
        raise PaymentRefused(f"{payment.invoice_number} is a credit note, not an invoice")
    if ledger.payment_exists(payment.external_id):
        return PaymentResult(
            invoice.number, False, invoice.status, invoice.balance, Decimal(0), Decimal(0)
        )
    currency = check_currency(payment.currency)
    if currency != invoice.currency:
        raise PaymentRefused(
            f"payment in {currency} cannot settle {invoice.number}, which is in "
            f"{invoice.currency}; convert it in the accounting system first"
        )
    amount = round_amount(payment.amount, currency)
    if amount <= 0:
        raise PaymentRefused(f"a payment must be above zero (got {payment.amount})")
    if invoice.status in (InvoiceStatus.VOID, InvoiceStatus.DRAFT):
        raise PaymentRefused(f"{invoice.number} is {invoice.status.value}; it takes no payments")
    owed = max(invoice.balance, Decimal(0))
    applied = min(amount, owed)
    overpaid = amount - applied
    ledger.add_payment(payment, applied=applied, client_id=invoice.client_id, now=now)
    ledger.replan(invoice.number)
    paid = invoice.amount_paid + applied
    new_status = settle(invoice.status, invoice.total, paid, invoice.amount_credited)
    remaining = invoice.total - paid - invoice.amount_credited
    ledger.append_event(
        invoice.number,
        DomainEvent(
            EventKind.PAYMENT_RECORDED,
            now,
            now_actor,
            f"Payment of {currency} {amount} received {payment.received_date}"
            + (f" (ref {payment.reference})" if payment.reference else "")
            + (f"; {currency} {overpaid} kept as client credit" if overpaid else ""),
            {
                "amount": str(amount),
                "applied": str(applied),
                "overpaid": str(overpaid),
                "currency": currency,
                "external_id": payment.external_id,
                "received_date": payment.received_date.isoformat(),
                "source": payment.source,
            },
        ),
    )
    if new_status is not invoice.status:
        ledger.set_status(invoice.number, new_status, now)
        kind = (
            EventKind.INVOICE_PAID if new_status is InvoiceStatus.PAID else EventKind.STATUS_CHANGED
        )
        ledger.append_event(
            invoice.number,
            DomainEvent(
                kind,
                now,
                now_actor,
                f"Status {invoice.status.value} → {new_status.value}",
                {"from": invoice.status.value, "to": new_status.value},
            ),
        )
    return PaymentResult(invoice.number, True, new_status, remaining, applied, overpaid)


def record_payment(
    ledgers: LedgerFactory,
    *,
    invoice_number: str,
    amount: str | Decimal,
    received_date: date,
    reference: str,
    clock: Clock,
    currency: str | None = None,
    external_id: str | None = None,
    source: str = "manual",
    actor: str = "user",
) -> PaymentResult:
    """Record money received for an invoice; the same external id twice records it once."""
    if not reference.strip():
        raise PaymentRefused("a payment needs a reference (bank or accounting id)")
    value = to_decimal(amount, what="payment amount")
    with ledgers() as ledger:
        invoice = ledger.invoice(invoice_number)
        payment = Payment(
            external_id=external_id or f"{source}:{reference.strip()}",
            invoice_number=invoice.number,
            amount=value,
            currency=currency or invoice.currency,
            received_date=received_date,
            reference=reference.strip(),
            source=source,
        )
        return apply_payment(ledger, payment, now_actor=actor, clock=clock)
