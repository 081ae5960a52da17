"""Domain errors with stable codes.

Every error a user can cause carries a ``code`` that the CLI, the API and the agent show
unchanged. The tree::

    BillingError                  (code: "billing_error")
    ├── InvalidMoney              float input, unknown currency, currency mismatch
    ├── InvalidLine               a line item that cannot be invoiced
    ├── InvalidInvoice            an invoice that breaks a rule (tax, parties, totals)
    ├── InvalidTransition         a status change the state machine forbids
    ├── FrozenInvoice             an attempt to edit or delete an issued invoice
    ├── NotFound                  an unknown client, invoice, contact …
    └── InvalidPattern            a bad numbering pattern (billing.numbering)
"""

from __future__ import annotations


class BillingError(Exception):
    """Root of the domain's errors; ``code`` is stable and shown to users."""

    code = "billing_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        """The human-readable message."""
        return str(self.args[0]) if self.args else self.code


class InvalidMoney(BillingError):
    """Money built from a float, an unknown currency, or mixed currencies."""

    code = "invalid_money"


class InvalidLine(BillingError):
    """A line item that cannot be invoiced (bad quantity, price, tax category or rate)."""

    code = "invalid_line"


class InvalidInvoice(BillingError):
    """An invoice or credit note that breaks a rule (parties, tax, totals)."""

    code = "invalid_invoice"


class InvalidTransition(BillingError):
    """A status change that the invoice state machine does not allow."""

    code = "invalid_transition"


class FrozenInvoice(BillingError):
    """An issued invoice is a legal document: it cannot be edited or deleted."""

    code = "frozen_invoice"


class NotFound(BillingError):
    """Something referred to by id or number does not exist."""

    code = "not_found"
