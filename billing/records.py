"""Records exchanged between the tools and the storage adapter (pure data, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from billing.invoice import DocumentKind, InvoiceDocument, LineInput
from billing.status import InvoiceStatus, balance

TRIGGER_SOURCES = (
    "manual",
    "schedule",
    "asana",
    "clickup",
    "linear",
    "docusign",
    "pandadoc",
    "webhook",
    "hubspot",
    "salesforce",
    "pipedrive",
    "n8n",
    "make",
    "zapier",
    "import",
)


@dataclass(frozen=True, slots=True)
class Trigger:
    """Something that asks for an invoice; ``(source, external_id)`` is its natural key."""

    source: str
    external_id: str
    client_id: str
    lines: tuple[LineInput, ...] = ()
    reference: str | None = None
    issue_date: date | None = None
    currency: str | None = None
    buyer_reference: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TriggerClaim:
    """The outcome of claiming a trigger's natural key."""

    is_new: bool
    status: str
    invoice_number: str | None = None


@dataclass(frozen=True, slots=True)
class InvoiceRecord:
    """A stored document as the tools see it: the frozen snapshot plus live state."""

    number: str
    kind: DocumentKind
    origin: str
    client_id: str
    status: InvoiceStatus
    document: InvoiceDocument
    due_date: date | None
    amount_paid: Decimal
    amount_credited: Decimal
    escalated: bool = False
    next_action_at: datetime | None = None
    original_due_date: date | None = None

    @property
    def currency(self) -> str:
        """The document currency."""
        return self.document.currency

    @property
    def total(self) -> Decimal:
        """Grand total (BT-112)."""
        return self.document.totals.grand_total

    @property
    def balance(self) -> Decimal:
        """Still owed: total − payments − credit notes."""
        return balance(self.total, self.amount_paid, self.amount_credited)


@dataclass(frozen=True, slots=True)
class Payment:
    """Money received for an invoice; ``external_id`` makes recording it idempotent."""

    external_id: str
    invoice_number: str
    amount: Decimal
    currency: str
    received_date: date
    reference: str | None = None
    source: str = "manual"


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """An external side effect to perform once (email, Slack post …)."""

    idempotency_key: str
    kind: str
    payload: Mapping[str, Any]
    invoice_number: str | None = None
    not_before: datetime | None = None
