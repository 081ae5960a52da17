"""What the tools need from the outside world, as Protocols (ports).

The storage adapter implements :class:`Ledger` over SQLAlchemy; tests may use it on SQLite or
PostgreSQL (never a mock of our own database). A ``Ledger`` is one unit of work: everything
done through it commits together when its context exits without error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from billing.chase import Pause, StepRecord
from billing.directory import Client, Company, Contact, Owner
from billing.events import DomainEvent
from billing.invoice import InvoiceDocument
from billing.records import (
    Handoff,
    InvoiceRecord,
    OutboxClaim,
    OutboxItem,
    OutboxView,
    PauseView,
    Payment,
    Trigger,
    TriggerClaim,
)
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

    def invoices_matching(
        self, fragments: Sequence[str], *, limit: int = 50
    ) -> list[InvoiceRecord]:
        """Invoices whose number ends with one of ``fragments``."""
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

    def owners(self) -> list[Owner]:
        """All account owners."""
        ...

    def contacts_by_email(self, email: str) -> list[Contact]:
        """Contacts on file with this exact address (any client)."""
        ...

    def all_contacts(self) -> list[Contact]:
        """Every contact on file."""
        ...

    # chase
    def add_pause(
        self,
        *,
        client_id: str,
        invoice_number: str | None,
        reason: str,
        since: date,
        until: date | None,
        actor: str,
        now: datetime,
        note: str = "",
    ) -> int:
        """Record a pause (invoice scope when ``invoice_number`` is given, else client)."""
        ...

    def lift_pauses(
        self,
        *,
        client_id: str,
        invoice_number: str | None,
        actor: str,
        now: datetime,
        on: date,
        reasons: Sequence[str] | None = None,
    ) -> int:
        """Lift active pauses; returns how many."""
        ...

    def pauses_for(self, number: str, client_id: str) -> list[Pause]:
        """Pauses that apply to an invoice, lifted ones included."""
        ...

    def pauses_for_many(self, invoices: Mapping[str, str]) -> dict[str, list[Pause]]:
        """``pauses_for`` of many invoices (number -> client id) at once."""
        ...

    def pause_views(self, *, active_on: date | None = None) -> list[PauseView]:
        """Pause records."""
        ...

    def chase_history(self, number: str) -> list[StepRecord]:
        """Recorded chase steps of an invoice."""
        ...

    def chase_histories(self, numbers: Sequence[str]) -> dict[str, list[StepRecord]]:
        """``chase_history`` of many invoices at once."""
        ...

    def set_next_actions(self, actions: Mapping[str, datetime | None]) -> None:
        """``set_next_action`` of many invoices at once."""
        ...

    def append_events(self, events: Sequence[tuple[str, DomainEvent]]) -> None:
        """``append_event`` of many (number, event) pairs at once, in order."""
        ...

    def invoices_by_number(
        self, numbers: Sequence[str], *, for_update: bool = False
    ) -> dict[str, InvoiceRecord]:
        """Many invoices at once (locked with ``for_update``); unknown numbers left out."""
        ...

    def record_step(
        self,
        number: str,
        step_key: str,
        status: str,
        at: datetime,
        reason: str = "",
        outbox_key: str | None = None,
    ) -> bool:
        """Record a step once; False when it was already recorded."""
        ...

    def mark_step_failed(self, number: str, step_key: str, reason: str) -> None:
        """A step whose delivery was dead-lettered."""
        ...

    def set_next_action(self, number: str, at: datetime | None) -> None:
        """Store the invoice's next chase action time."""
        ...

    def replan(self, number: str) -> None:
        """Ask for the invoice's plan to be recomputed."""
        ...

    def replan_client(self, client_id: str) -> None:
        """Ask for all of a client's plans to be recomputed."""
        ...

    def set_escalated(self, number: str) -> None:
        """Mark an invoice escalated."""
        ...

    def set_due_date(self, number: str, due: date, now: datetime) -> None:
        """Move an invoice's due date."""
        ...

    def chase_candidates(self, until: datetime, limit: int | None = None) -> list[str]:
        """Invoices whose next chase action is due by ``until`` or that need planning."""
        ...

    # hand-offs
    def open_handoff(
        self,
        *,
        case_key: str,
        kind: str,
        client_id: str | None,
        owner_id: str | None,
        invoices: Sequence[str],
        reason: str,
        summary: str,
        details: dict[str, Any],
        now: datetime,
        thread_id: str | None = None,
    ) -> tuple[int, bool]:
        """Open a case once per key; (id, created)."""
        ...

    def handoffs(self, *, statuses: Sequence[str] | None = None) -> list[Handoff]:
        """Cases, oldest first."""
        ...

    def handoff(self, handoff_id: int) -> Handoff:
        """One case."""
        ...

    def handoff_by_key(self, case_key: str) -> Handoff | None:
        """The case with this key."""
        ...

    def update_handoff(self, handoff_id: int, now: datetime, **values: Any) -> None:
        """Change a case."""
        ...

    # outbox
    def claim_outbox(
        self,
        worker: str,
        now: datetime,
        *,
        limit: int = 10,
        lease: timedelta,
        kinds: Sequence[str] | None = None,
    ) -> list[OutboxClaim]:
        """Claim due outbox rows for a worker."""
        ...

    def outbox_done(
        self, outbox_id: int, worker: str, now: datetime, result: dict[str, Any]
    ) -> bool:
        """Mark a claimed row sent."""
        ...

    def outbox_retry(self, outbox_id: int, worker: str, error: str, at: datetime) -> None:
        """Give a row back for a later attempt."""
        ...

    def outbox_dead(
        self, outbox_id: int, worker: str, error: str, now: datetime, status: str = "dead"
    ) -> None:
        """Dead-letter a row."""
        ...

    def outbox_rows(
        self, *, statuses: Sequence[str] | None = None, kinds: Sequence[str] | None = None
    ) -> list[OutboxView]:
        """Outbox rows for inspection."""
        ...

    def outbox_payload(self, idempotency_key: str) -> dict[str, Any] | None:
        """The payload of an outbox row, by key."""
        ...

    # state and subscriptions
    def get_state(self, key: str) -> dict[str, Any] | None:
        """A small stored JSON value."""
        ...

    def set_state(self, key: str, value: dict[str, Any], now: datetime) -> None:
        """Store a small JSON value."""
        ...

    def save_subscription(
        self, sub_id: str, client_id: str, currency: str, spec: dict[str, Any], now: datetime
    ) -> bool:
        """Insert or update a subscription."""
        ...

    def subscriptions(self) -> list[tuple[str, str, str, dict[str, Any], date | None]]:
        """Active subscriptions."""
        ...

    def set_subscription_cursor(self, sub_id: str, cycle_date: date) -> None:
        """Remember the latest cycle billed."""
        ...

    def add_subscription_exception(
        self,
        exc_id: str,
        sub_id: str,
        kind: str,
        data: dict[str, Any],
        actor: str,
        now: datetime,
    ) -> bool:
        """Record a schedule exception once."""
        ...

    def subscription_exceptions(
        self, sub_id: str
    ) -> list[tuple[str, str, dict[str, Any], datetime, str]]:
        """A subscription's exceptions."""
        ...

    # inbound mail
    def store_inbound(
        self, key: str, raw: bytes, from_addr: str, subject: str, now: datetime
    ) -> tuple[int, str]:
        """Store a received message once; (id, status)."""
        ...

    def finish_inbound(
        self, key: str, outcome: dict[str, Any], now: datetime, status: str = "done"
    ) -> None:
        """Record what was done with a message."""
        ...

    def inbound_outcome(self, key: str) -> dict[str, Any] | None:
        """The stored outcome of a handled message."""
        ...


@dataclass(frozen=True, slots=True)
class ComposedEmail:
    """An email rendered from a template: subject, plain text and HTML."""

    subject: str
    text: str
    html: str


class MailComposer(Protocol):
    """Renders an email template in a language with a context of system data."""

    def __call__(self, name: str, language: str, context: Mapping[str, Any]) -> ComposedEmail:
        """Subject, text and HTML of template ``name``."""
        ...


class AccountingSystem(Protocol):
    """The accounting system of record (Xero, QuickBooks, Sage … or the local one)."""

    name: str

    def push_invoice(self, record: InvoiceRecord) -> str:
        """Create the invoice there (idempotently, by number); returns its external id."""
        ...

    def payments_since(self, cursor: str | None) -> tuple[list[dict[str, str]], str | None]:
        """Payments recorded after ``cursor`` as rows of the payments CSV format
        (invoice, amount, currency, date, reference[, external_id]), and the new cursor."""
        ...


class LedgerFactory(Protocol):
    """Opens a unit of work: ``with ledgers() as ledger: ...`` commits on success."""

    def __call__(self) -> AbstractContextManager[Ledger]:
        """A new transaction."""
        ...
