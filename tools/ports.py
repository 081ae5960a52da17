"""What the tools need from the outside world, as Protocols (ports).

The storage adapter implements :class:`Ledger` over SQLAlchemy; tests may use it on SQLite or
PostgreSQL (never a mock of our own database). A ``Ledger`` is one unit of work: everything
done through it commits together when its context exits without error.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from billing.directory import Client, Company, Owner
from billing.events import DomainEvent
from billing.invoice import InvoiceDocument
from billing.records import InvoiceRecord, OutboxItem, Payment, Trigger, TriggerClaim
from billing.status import InvoiceStatus


class Ledger(Protocol):
    """One transaction over closeloop's records."""

    # directory
    def company(self) -> Company:
        """The company profile; raises NotFound when none was imported yet."""
        ...

    def save_company(self, company: Company, now: datetime) -> bool:
        """Insert or update the company; True when something changed."""
        ...

    def owner(self, owner_id: str) -> Owner | None:
        """An account owner by id."""
        ...

    def save_owner(self, owner: Owner) -> bool:
        """Insert or update an owner; True when something changed."""
        ...

    def client(self, client_id: str) -> Client:
        """A client with its contacts; raises NotFound."""
        ...

    def clients(self) -> list[Client]:
        """All clients."""
        ...

    def save_client(self, client: Client, now: datetime) -> bool:
        """Insert or update a client and its contacts; True when something changed."""
        ...

    # triggers and numbering
    def claim_trigger(self, trigger: Trigger, now: datetime) -> TriggerClaim:
        """Insert the trigger's natural key, or return the existing claim (waits for a racer)."""
        ...

    def record_duplicate_trigger(self, trigger: Trigger, now: datetime) -> None:
        """Count a repeated delivery of an already-handled trigger."""
        ...

    def finish_trigger(self, trigger: Trigger, invoice_number: str) -> None:
        """Link a claimed trigger to the invoice it produced."""
        ...

    def reject_trigger(self, trigger: Trigger, error: str, now: datetime) -> None:
        """Record a trigger that could not be turned into an invoice (kept for redelivery)."""
        ...

    def allocate_number(self, series: str) -> int:
        """The next sequence number of ``series``, allocated inside this transaction."""
        ...

    def bump_series(self, series: str, used: int) -> None:
        """Make sure ``series`` continues after ``used`` (for imported numbers)."""
        ...

    # documents
    def add_document(
        self,
        document: InvoiceDocument,
        *,
        client_id: str,
        origin: str,
        status: InvoiceStatus,
        now: datetime,
        series: str | None,
        sequence: int | None,
        credits: str | None = None,
        reason: str | None = None,
    ) -> None:
        """Store an issued (or imported) document and its lines."""
        ...

    def has_document(self, number: str) -> bool:
        """True when a document with this number exists."""
        ...

    def invoice(self, number: str, *, for_update: bool = False) -> InvoiceRecord:
        """A document by number; raises NotFound."""
        ...

    def invoices(
        self,
        *,
        statuses: Sequence[InvoiceStatus] | None = None,
        client_id: str | None = None,
        kind: str | None = "invoice",
    ) -> list[InvoiceRecord]:
        """Documents filtered by status/client/kind, newest number last."""
        ...

    def set_status(self, number: str, status: InvoiceStatus, now: datetime) -> None:
        """Store a new status (the caller checked the transition)."""
        ...

    def add_credit(self, number: str, amount: Decimal, now: datetime) -> None:
        """Add to an invoice's credited amount."""
        ...

    # payments
    def payment_exists(self, external_id: str) -> bool:
        """True when a payment with this external id was recorded."""
        ...

    def add_payment(
        self, payment: Payment, *, applied: Decimal, client_id: str, now: datetime
    ) -> None:
        """Store a payment and add ``applied`` to the invoice's paid amount."""
        ...

    def payments(self, number: str) -> list[Payment]:
        """Payments recorded against an invoice."""
        ...

    # audit trail and outbox
    def append_event(self, number: str, event: DomainEvent) -> None:
        """Append to an invoice's audit trail."""
        ...

    def events(self, number: str) -> list[DomainEvent]:
        """An invoice's audit trail, oldest first."""
        ...

    def enqueue(self, item: OutboxItem, now: datetime) -> bool:
        """Add an outbox row unless its idempotency key exists; True when added."""
        ...


class LedgerFactory(Protocol):
    """Opens a unit of work: ``with ledgers() as ledger: ...`` commits on success."""

    def __call__(self) -> AbstractContextManager[Ledger]:
        """A new transaction."""
        ...
