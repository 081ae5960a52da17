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


@dataclass(frozen=True, slots=True)
class OutboxClaim:
    """An outbox row claimed by a worker (status ``sending``)."""

    id: int
    idempotency_key: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    invoice_number: str | None
    reclaimed: bool


@dataclass(frozen=True, slots=True)
class OutboxView:
    """An outbox row as listed by ``closeloop outbox``."""

    id: int
    idempotency_key: str
    kind: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    invoice_number: str | None
    created_at: datetime
    done_at: datetime | None


@dataclass(frozen=True, slots=True)
class Handoff:
    """A case waiting for (or handled by) a person."""

    id: int
    case_key: str
    kind: str
    client_id: str | None
    owner_id: str | None
    invoices: tuple[str, ...]
    reason: str
    summary: str
    status: str
    details: dict[str, Any]
    thread_id: str | None
    slack_ts: str | None
    created_at: datetime
    updated_at: datetime
    resolution: str | None
    resolved_by: str | None


@dataclass(frozen=True, slots=True)
class PauseView:
    """A pause record with its id and whether it was lifted."""

    id: int
    client_id: str
    invoice_number: str | None
    reason: str
    since: date
    until: date | None
    actor: str
    note: str
    lifted_at: datetime | None
