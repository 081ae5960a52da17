"""Errors of the tools layer (the domain's BillingError tree is reused for user errors)."""

from __future__ import annotations

from billing.errors import BillingError


class ToolError(BillingError):
    """A tool could not do what was asked; ``code`` says why."""

    code = "tool_error"


class InvalidTrigger(ToolError):
    """A trigger without what an invoice needs (client, lines, currency …)."""

    code = "invalid_trigger"


class ImportFormatError(ToolError):
    """An import file that does not follow the documented format."""

    code = "invalid_import"


class PaymentRefused(ToolError):
    """A payment that cannot be applied (wrong currency, unknown invoice, non-positive)."""

    code = "payment_refused"
