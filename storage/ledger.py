"""SqlLedger: the tools' Ledger port over SQLAlchemy (SQLite or PostgreSQL).

Concurrency rules live here, in the database:

- a trigger's natural key (source, external_id) is a unique constraint; a racing second
  delivery waits on the first transaction's index entry, then sees it and reports a duplicate;
- numbers come from ``number_series`` with ``UPDATE … SET next_number = next_number + 1
  RETURNING`` inside the issuing transaction: the row lock (PostgreSQL) or the write lock
  taken by ``BEGIN IMMEDIATE`` (SQLite) serialises issuers, and a rolled-back issue gives its
  number back, so numbers have no gaps;
- ``invoices (series, sequence)`` is unique as a last line of defence.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing.directory import Client, Company, Contact, ContactRole, DeliveryMethod, Owner
from billing.errors import NotFound
from billing.events import DomainEvent, EventKind
from billing.invoice import BankDetails, DocumentKind, InvoiceDocument
from billing.money import round_amount
from billing.records import InvoiceRecord, OutboxItem, Payment, Trigger, TriggerClaim
from billing.snapshot import from_snapshot, to_snapshot
from billing.status import InvoiceStatus
from storage.engine import Database
from storage.models import (
    ClientRow,
    CompanyRow,
    ContactRow,
    CreditNoteRow,
    InvoiceEventRow,
    InvoiceLineRow,
    InvoiceRow,
    NumberSeriesRow,
    OutboxRow,
    OwnerRow,
    PaymentRow,
    TriggerRow,
)
from storage.operations import OperationsMixin


def _bank_to_json(bank: BankDetails | None) -> dict[str, Any] | None:
    if bank is None:
        return None
    return {k: getattr(bank, k) for k in BankDetails.__slots__ if getattr(bank, k) is not None}


# Statements on the path of every due invoice or outbox row, built once: constructing a
# statement costs more than SQLite takes to run it.
_INVOICE_ID = select(InvoiceRow.id).where(InvoiceRow.number == bindparam("number"))
_INVOICE = select(InvoiceRow).where(InvoiceRow.number == bindparam("number"))
_INVOICE_FOR_UPDATE = _INVOICE.with_for_update()
_EVENT_INSERT = insert(cast(Table, InvoiceEventRow.__table__))
_OUTBOX_INSERTS: dict[str, Any] = {}


def _outbox_insert(dialect: str) -> Any:
    """The outbox INSERT … ON CONFLICT DO NOTHING RETURNING id of ``dialect`` (None when the
    dialect has none), built once: constructing it costs more than running it."""
    if dialect not in ("sqlite", "postgresql"):
        return None
    stmt = _OUTBOX_INSERTS.get(dialect)
    if stmt is None:
        insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
        table = cast(Table, OutboxRow.__table__)
        stmt = _OUTBOX_INSERTS[dialect] = (
            insert(table)
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(table.c.id)
        )
    return stmt


class SqlLedger(OperationsMixin):
    """One unit of work on a SQLAlchemy session (see :class:`tools.ports.Ledger`)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._ids: dict[str, int] = {}

    # ------------------------------------------------------------------ directory
    def company(self) -> Company:
        row = self.session.get(CompanyRow, 1)
        if row is None:
            raise NotFound("no company profile yet: run `closeloop import FILE.json` first")
        bank = BankDetails(**row.bank) if row.bank else None
        return Company(
            name=row.name,
            address=tuple(row.address),
            country=row.country,
            currency=row.currency,
            billing_email=row.billing_email,
            vat_id=row.vat_id,
            registration_id=row.registration_id,
            bank=bank,
            timezone=row.timezone,
            language=row.language,
            numbering_pattern=row.numbering_pattern,
            credit_note_pattern=row.credit_note_pattern,
            payment_terms_days=row.payment_terms_days,
            policy=row.policy or {},
        )

    def save_company(self, company: Company, now: datetime) -> bool:
        values = {
            "name": company.name,
            "address": list(company.address),
            "country": company.country,
            "currency": company.currency,
            "billing_email": company.billing_email,
            "vat_id": company.vat_id,
            "registration_id": company.registration_id,
            "bank": _bank_to_json(company.bank),
            "timezone": company.timezone,
            "language": company.language,
            "numbering_pattern": company.numbering_pattern,
            "credit_note_pattern": company.credit_note_pattern,
            "payment_terms_days": company.payment_terms_days,
            "policy": dict(company.policy),
        }
        row = self.session.get(CompanyRow, 1)
        if row is None:
            self.session.add(CompanyRow(id=1, updated_at=now, **values))
            return True
        return _apply(row, values, now_field=("updated_at", now))

    def owner(self, owner_id: str) -> Owner | None:
        row = self.session.get(OwnerRow, owner_id)
        if row is None:
            return None
        return Owner(id=row.id, name=row.name, email=row.email, slack_user_id=row.slack_user_id)

    def owners(self) -> list[Owner]:
        rows = self.session.scalars(select(OwnerRow).order_by(OwnerRow.id))
        return [Owner(r.id, r.name, r.email, r.slack_user_id) for r in rows]

    def save_owner(self, owner: Owner) -> bool:
        values = {"name": owner.name, "email": owner.email, "slack_user_id": owner.slack_user_id}
        row = self.session.get(OwnerRow, owner.id)
        if row is None:
            self.session.add(OwnerRow(id=owner.id, **values))
            return True
        return _apply(row, values)

    def _client_from(self, row: ClientRow) -> Client:
        contacts = tuple(
            Contact(
                client_id=row.id,
                name=c.name,
                email=c.email,
                role=ContactRole(c.role),
                source=c.source,
            )
            for c in row.contacts
        )
        return Client(
            id=row.id,
            name=row.name,
            country=row.country,
            currency=row.currency,
            address=tuple(row.address),
            account_owner_id=row.account_owner_id,
            language=row.language,
            vat_id=row.vat_id,
            payment_terms_days=row.payment_terms_days,
            timezone=row.timezone,
            delivery_method=DeliveryMethod(row.delivery_method),
            contacts=contacts,
            policy=row.policy or {},
        )

    def client(self, client_id: str) -> Client:
        row = self.session.get(ClientRow, client_id)
        if row is None:
            raise NotFound(f"unknown client {client_id!r}")
        return self._client_from(row)

    def clients(self) -> list[Client]:
        rows = self.session.scalars(select(ClientRow).order_by(ClientRow.id))
        return [self._client_from(r) for r in rows]

    def save_client(self, client: Client, now: datetime) -> bool:
        values = {
            "name": client.name,
            "country": client.country,
            "currency": client.currency,
            "address": list(client.address),
            "vat_id": client.vat_id,
            "language": client.language,
            "timezone": client.timezone,
            "payment_terms_days": client.payment_terms_days,
            "account_owner_id": client.account_owner_id,
            "delivery_method": client.delivery_method.value,
            "policy": dict(client.policy),
        }
        row = self.session.get(ClientRow, client.id)
        changed = False
        if row is None:
            row = ClientRow(id=client.id, created_at=now, **values)
            self.session.add(row)
            self.session.flush()
            changed = True
        else:
            changed = _apply(row, values)
        existing = {c.email.lower(): c for c in row.contacts}
        for contact in client.contacts:
            current = existing.get(contact.email.lower())
            if current is None:
                row.contacts.append(
                    ContactRow(
                        name=contact.name,
                        email=contact.email.lower(),
                        role=contact.role.value,
                        source=contact.source,
                        created_at=now,
                    )
                )
                changed = True
            else:
                changed |= _apply(current, {"name": contact.name, "role": contact.role.value})
        return changed

    # ------------------------------------------------------------------ triggers
    def _trigger_row(self, trigger: Trigger) -> TriggerRow | None:
        return self.session.scalar(
            select(TriggerRow).where(
                TriggerRow.source == trigger.source,
                TriggerRow.external_id == trigger.external_id,
            )
        )

    def _claim_of(self, row: TriggerRow) -> TriggerClaim:
        number = None
        if row.invoice_id is not None:
            number = self.session.scalar(
                select(InvoiceRow.number).where(InvoiceRow.id == row.invoice_id)
            )
        return TriggerClaim(is_new=False, status=row.status, invoice_number=number)

    def claim_trigger(self, trigger: Trigger, now: datetime) -> TriggerClaim:
        row = self._trigger_row(trigger)
        if row is not None and row.status != "rejected":
            return self._claim_of(row)
        if row is not None:  # a redelivery of a trigger we once refused: try again
            row.status, row.error, row.payload = "processing", None, dict(trigger.payload)
            row.client_id = trigger.client_id
            return TriggerClaim(is_new=True, status="processing")
        try:
            with self.session.begin_nested():
                self.session.add(
                    TriggerRow(
                        source=trigger.source,
                        external_id=trigger.external_id,
                        client_id=trigger.client_id,
                        payload=dict(trigger.payload),
                        status="processing",
                        received_at=now,
                        duplicates=0,
                    )
                )
                self.session.flush()
        except IntegrityError:
            # A concurrent delivery committed first; its row is visible now.
            row = self._trigger_row(trigger)
            assert row is not None
            return self._claim_of(row)
        return TriggerClaim(is_new=True, status="processing")

    def record_duplicate_trigger(self, trigger: Trigger, now: datetime) -> None:
        self.session.execute(
            update(TriggerRow)
            .where(
                TriggerRow.source == trigger.source, TriggerRow.external_id == trigger.external_id
            )
            .values(duplicates=TriggerRow.duplicates + 1, last_duplicate_at=now)
        )

    def finish_trigger(self, trigger: Trigger, invoice_number: str) -> None:
        row = self._trigger_row(trigger)
        if row is None:
            raise NotFound(f"trigger {trigger.source}:{trigger.external_id} was not claimed")
        row.status = "issued"
        row.invoice_id = self._invoice_id(invoice_number)

    def reject_trigger(self, trigger: Trigger, error: str, now: datetime) -> None:
        row = self._trigger_row(trigger)
        if row is None:
            self.session.add(
                TriggerRow(
                    source=trigger.source,
                    external_id=trigger.external_id,
                    client_id=trigger.client_id,
                    payload=dict(trigger.payload),
                    status="rejected",
                    error=error,
                    received_at=now,
                    duplicates=0,
                )
            )
        elif row.status != "issued":
            row.status, row.error = "rejected", error

    def trigger_stats(self) -> dict[str, int]:
        """Counts of triggers by status, and duplicates received."""
        out: dict[str, int] = {}
        for status, count, dups in self.session.execute(
            select(
                TriggerRow.status, func.count(), func.coalesce(func.sum(TriggerRow.duplicates), 0)
            ).group_by(TriggerRow.status)
        ):
            out[status] = int(count)
            out["duplicates"] = out.get("duplicates", 0) + int(dups)
        return out

    # ------------------------------------------------------------------ numbering
    def allocate_number(self, series: str) -> int:
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        self.session.execute(
            insert(NumberSeriesRow)
            .values(series=series, next_number=1)
            .on_conflict_do_nothing(index_elements=["series"])
        )
        allocated = self.session.execute(
            update(NumberSeriesRow)
            .where(NumberSeriesRow.series == series)
            .values(next_number=NumberSeriesRow.next_number + 1)
            .returning(NumberSeriesRow.next_number)
        ).scalar_one()
        return int(allocated) - 1

    def bump_series(self, series: str, used: int) -> None:
        row = self.session.get(NumberSeriesRow, series, with_for_update=True)
        if row is None:
            self.session.add(NumberSeriesRow(series=series, next_number=used + 1))
        elif row.next_number <= used:
            row.next_number = used + 1

    # ------------------------------------------------------------------ documents
    def _invoice_id(self, number: str) -> int:
        if number not in self._ids:
            found = self.session.scalar(_INVOICE_ID, {"number": number})
            if found is None:
                raise NotFound(f"unknown invoice {number!r}")
            self._ids[number] = found
        return self._ids[number]

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
        row = InvoiceRow(
            number=document.number,
            series=series,
            sequence=sequence,
            kind=document.kind.value,
            origin=origin,
            client_id=client_id,
            currency=document.currency,
            issue_date=document.issue_date,
            due_date=document.due_date,
            original_due_date=document.due_date,
            language=document.language,
            net_total=document.totals.tax_exclusive,
            tax_total=document.totals.tax_total,
            grand_total=document.totals.grand_total,
            amount_paid=Decimal(0),
            amount_credited=Decimal(0),
            status=status.value,
            snapshot=to_snapshot(document),
            escalated=False,
            issued_at=now,
            updated_at=now,
        )
        row.lines = [
            InvoiceLineRow(
                position=ln.position,
                description=ln.description,
                quantity=ln.quantity,
                unit_code=ln.unit_code,
                unit_price=ln.unit_price,
                discount_amount=ln.discount_amount,
                net_amount=ln.net_amount,
                tax_category=ln.tax_category.value,
                vat_rate=ln.vat_rate,
            )
            for ln in document.lines
        ]
        self.session.add(row)
        self.session.flush()
        self._ids[document.number] = row.id
        if credits is not None:
            self.session.add(
                CreditNoteRow(
                    document_id=row.id,
                    invoice_id=self._invoice_id(credits),
                    amount=document.totals.grand_total,
                    reason=reason or "",
                    created_at=now,
                )
            )

    def has_document(self, number: str) -> bool:
        return (
            self.session.scalar(select(InvoiceRow.id).where(InvoiceRow.number == number))
            is not None
        )

    def _record(self, row: InvoiceRow) -> InvoiceRecord:
        self._ids[row.number] = row.id
        return InvoiceRecord(
            number=row.number,
            kind=DocumentKind(row.kind),
            origin=row.origin,
            client_id=row.client_id,
            status=InvoiceStatus(row.status),
            document=from_snapshot(row.snapshot),
            due_date=row.due_date,
            amount_paid=round_amount(row.amount_paid, row.currency),
            amount_credited=round_amount(row.amount_credited, row.currency),
            escalated=row.escalated,
            next_action_at=row.next_action_at,
            original_due_date=row.original_due_date,
        )

    def _row(self, number: str, *, for_update: bool = False) -> InvoiceRow:
        row = self.session.scalar(
            _INVOICE_FOR_UPDATE if for_update else _INVOICE, {"number": number}
        )
        if row is None:
            raise NotFound(f"unknown invoice {number!r}")
        return row

    def invoice(self, number: str, *, for_update: bool = False) -> InvoiceRecord:
        return self._record(self._row(number, for_update=for_update))

    def invoices_by_number(
        self, numbers: Sequence[str], *, for_update: bool = False
    ) -> dict[str, InvoiceRecord]:
        """Many invoices in one query (locked in id order with ``for_update``); unknown
        numbers are left out."""
        if not numbers:
            return {}
        stmt = select(InvoiceRow).where(InvoiceRow.number.in_(list(numbers)))
        stmt = stmt.order_by(InvoiceRow.id)
        if for_update:
            stmt = stmt.with_for_update()
        return {r.number: self._record(r) for r in self.session.scalars(stmt)}

    def invoices(
        self,
        *,
        statuses: Sequence[InvoiceStatus] | None = None,
        client_id: str | None = None,
        kind: str | None = "invoice",
    ) -> list[InvoiceRecord]:
        stmt = select(InvoiceRow).order_by(InvoiceRow.issue_date, InvoiceRow.number)
        if statuses:
            stmt = stmt.where(InvoiceRow.status.in_([s.value for s in statuses]))
        if client_id:
            stmt = stmt.where(InvoiceRow.client_id == client_id)
        if kind:
            stmt = stmt.where(InvoiceRow.kind == kind)
        return [self._record(r) for r in self.session.scalars(stmt)]

    def invoices_matching(
        self, fragments: Sequence[str], *, limit: int = 50
    ) -> list[InvoiceRecord]:
        """Invoices whose number ends with one of ``fragments`` (digits as written in mail)."""
        cleaned = [f for f in {x.strip() for x in fragments} if f and f.isalnum()]
        if not cleaned:
            return []
        stmt = (
            select(InvoiceRow)
            .where(InvoiceRow.kind == "invoice")
            .where(or_(*[InvoiceRow.number.like(f"%{f}") for f in cleaned]))
            .order_by(InvoiceRow.issue_date, InvoiceRow.number)
            .limit(limit)
        )
        return [self._record(r) for r in self.session.scalars(stmt)]

    def set_status(self, number: str, status: InvoiceStatus, now: datetime) -> None:
        row = self._row(number)
        row.status, row.updated_at = status.value, now

    def add_credit(self, number: str, amount: Decimal, now: datetime) -> None:
        row = self._row(number)
        row.amount_credited = row.amount_credited + amount
        row.updated_at = now

    # ------------------------------------------------------------------ payments
    def payment_exists(self, external_id: str) -> bool:
        return (
            self.session.scalar(select(PaymentRow.id).where(PaymentRow.external_id == external_id))
            is not None
        )

    def add_payment(
        self, payment: Payment, *, applied: Decimal, client_id: str, now: datetime
    ) -> None:
        row = self._row(payment.invoice_number)
        self.session.add(
            PaymentRow(
                external_id=payment.external_id,
                invoice_id=row.id,
                client_id=client_id,
                amount=payment.amount,
                applied_amount=applied,
                currency=payment.currency,
                received_date=payment.received_date,
                reference=payment.reference,
                source=payment.source,
                created_at=now,
            )
        )
        row.amount_paid = row.amount_paid + applied
        row.updated_at = now
        self.session.flush()

    def payments(self, number: str) -> list[Payment]:
        rows = self.session.scalars(
            select(PaymentRow)
            .where(PaymentRow.invoice_id == self._invoice_id(number))
            .order_by(PaymentRow.received_date, PaymentRow.id)
        )
        return [
            Payment(
                external_id=r.external_id,
                invoice_number=number,
                amount=round_amount(r.amount, r.currency),
                currency=r.currency,
                received_date=r.received_date,
                reference=r.reference,
                source=r.source,
            )
            for r in rows
        ]

    # ------------------------------------------------------------------ audit and outbox
    def append_event(self, number: str, event: DomainEvent) -> None:
        self.append_events([(number, event)])

    def append_events(self, events: Sequence[tuple[str, DomainEvent]]) -> None:
        """``append_event`` of many (number, event) pairs in one executemany, in order."""
        if not events:
            return
        self.session.execute(
            _EVENT_INSERT,
            [
                {
                    "invoice_id": self._invoice_id(number),
                    "kind": event.kind.value,
                    "at": event.at,
                    "actor": event.actor,
                    "summary": event.summary,
                    "data": dict(event.data),
                }
                for number, event in events
            ],
        )

    def events(self, number: str) -> list[DomainEvent]:
        rows = self.session.scalars(
            select(InvoiceEventRow)
            .where(InvoiceEventRow.invoice_id == self._invoice_id(number))
            .order_by(InvoiceEventRow.at, InvoiceEventRow.id)
        )
        return [
            DomainEvent(
                kind=EventKind(r.kind), at=r.at, actor=r.actor, summary=r.summary, data=r.data or {}
            )
            for r in rows
        ]

    def enqueue(self, item: OutboxItem, now: datetime) -> bool:
        stmt = _outbox_insert(self.session.get_bind().dialect.name)
        if stmt is not None:
            # One statement instead of SELECT + SAVEPOINT + INSERT + RELEASE: the chase
            # queues one row per due invoice.
            values = {
                "idempotency_key": item.idempotency_key,
                "kind": item.kind,
                "invoice_id": self._invoice_id(item.invoice_number)
                if item.invoice_number
                else None,
                "payload": dict(item.payload),
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": item.not_before or now,
                "created_at": now,
            }
            return self.session.execute(stmt, values).first() is not None
        exists = self.session.scalar(
            select(OutboxRow.id).where(OutboxRow.idempotency_key == item.idempotency_key)
        )
        if exists is not None:
            return False
        try:
            with self.session.begin_nested():
                self.session.add(
                    OutboxRow(
                        idempotency_key=item.idempotency_key,
                        kind=item.kind,
                        invoice_id=self._invoice_id(item.invoice_number)
                        if item.invoice_number
                        else None,
                        payload=dict(item.payload),
                        status="pending",
                        attempts=0,
                        next_attempt_at=item.not_before or now,
                        created_at=now,
                    )
                )
                self.session.flush()
        except IntegrityError:
            return False
        return True


def _apply(row: Any, values: dict[str, Any], now_field: tuple[str, Any] | None = None) -> bool:
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    if changed and now_field is not None:
        setattr(row, now_field[0], now_field[1])
    return changed


class SqlLedgerFactory:
    """``with ledgers() as ledger:`` — one transaction per block (tools.ports.LedgerFactory)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @contextmanager
    def __call__(self) -> Iterator[SqlLedger]:
        with self.db.session() as session:
            yield SqlLedger(session)
