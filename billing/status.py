"""The invoice status machine and balances.

::

    draft ──issue──> open ──payment──> partially_paid ──payment──> paid
      │               │  └──────────────payment (full)──────────────^
      └─discard       ├──void (no payments yet)──> void
                      ├──write off──> uncollectible ──settled in full──> paid / credited
                      └──credit notes in full──> credited

``overdue`` is not a status: it is an open or partially paid invoice past its due date on a
given day (see :func:`billing.terms.days_overdue`). Status changes that follow from money
(payments, credit notes) are derived by :func:`settle`, never set by hand.

Among open, partially paid, paid and credited the status is a function of the money alone, so
the order in which payments, refunds and credit notes arrive never matters and re-settling
never fails (credit notes are never withdrawn, so credited only ever moves on to paid). A
write-off is a person's decision: money short of settling the balance leaves the invoice
uncollectible (and unchased).
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from billing.errors import InvalidTransition


class InvoiceStatus(StrEnum):
    """Lifecycle status of an invoice."""

    DRAFT = "draft"
    OPEN = "open"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    VOID = "void"
    UNCOLLECTIBLE = "uncollectible"
    CREDITED = "credited"

    @property
    def is_collectible(self) -> bool:
        """Open for collection: the chase applies, the balance is owed."""
        return self in (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID)


_ALLOWED: dict[InvoiceStatus, set[InvoiceStatus]] = {
    InvoiceStatus.DRAFT: {InvoiceStatus.OPEN},
    InvoiceStatus.OPEN: {
        InvoiceStatus.PARTIALLY_PAID,
        InvoiceStatus.PAID,
        InvoiceStatus.VOID,
        InvoiceStatus.UNCOLLECTIBLE,
        InvoiceStatus.CREDITED,
    },
    InvoiceStatus.PARTIALLY_PAID: {
        InvoiceStatus.PAID,
        InvoiceStatus.UNCOLLECTIBLE,
        InvoiceStatus.CREDITED,
        InvoiceStatus.OPEN,
    },
    InvoiceStatus.UNCOLLECTIBLE: {
        InvoiceStatus.PARTIALLY_PAID,
        InvoiceStatus.PAID,
        InvoiceStatus.CREDITED,
    },
    # a refund after a credit note turns paid into credited; a payment after a full credit
    # note (an overpayment to refund) turns credited into paid
    InvoiceStatus.PAID: {InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.OPEN, InvoiceStatus.CREDITED},
    InvoiceStatus.VOID: set(),
    InvoiceStatus.CREDITED: {InvoiceStatus.PAID},
}


def check_transition(current: InvoiceStatus, new: InvoiceStatus) -> None:
    """Raise InvalidTransition unless the machine allows current → new (same state is a no-op)."""
    if current == new:
        return
    if new not in _ALLOWED[current]:
        raise InvalidTransition(f"an invoice cannot go from {current.value} to {new.value}")


def balance(total: Decimal, paid: Decimal, credited: Decimal) -> Decimal:
    """What is still owed: total − payments − credit notes (negative = overpaid)."""
    return total - paid - credited


def settle(
    current: InvoiceStatus, total: Decimal, paid: Decimal, credited: Decimal
) -> InvoiceStatus:
    """The status that the money says, starting from ``current``.

    Void and draft invoices are not settled by money. An uncollectible invoice stays so until
    its balance is settled: only totals reach this function, so it cannot tell a new payment
    from one made before the write-off, and re-settling must not undo a write-off.
    """
    if current in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
        return current
    owed = balance(total, paid, credited)
    if owed <= 0:
        new = InvoiceStatus.CREDITED if paid <= 0 < credited else InvoiceStatus.PAID
    elif current is InvoiceStatus.UNCOLLECTIBLE:
        new = current
    elif paid > 0:
        new = InvoiceStatus.PARTIALLY_PAID
    else:
        new = InvoiceStatus.OPEN
    check_transition(current, new)
    return new


def void(current: InvoiceStatus, paid: Decimal) -> InvoiceStatus:
    """Void an open invoice that has received no payment."""
    if paid > 0:
        raise InvalidTransition("an invoice with payments cannot be voided; issue a credit note")
    check_transition(current, InvoiceStatus.VOID)
    return InvoiceStatus.VOID


def write_off(current: InvoiceStatus) -> InvoiceStatus:
    """Mark an open or partially paid invoice uncollectible."""
    check_transition(current, InvoiceStatus.UNCOLLECTIBLE)
    return InvoiceStatus.UNCOLLECTIBLE
