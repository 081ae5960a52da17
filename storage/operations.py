"""Ledger operations for running the billing cycle: pauses, chase steps, hand-offs,
the outbox claim, subscriptions, small state, and the inbound mail store.

Mixed into :class:`storage.ledger.SqlLedger`; every method runs in the ledger's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing.chase import COLLECTIBLE_STATUSES, Pause, StepRecord
from billing.directory import Contact, ContactRole
from billing.errors import NotFound
from billing.records import Handoff, OutboxClaim, OutboxView, PauseView
from storage.models import (
    ChaseStepRow,
    ContactRow,
    HandoffRow,
    InboundMessageRow,
    InvoiceRow,
    KeyValueRow,
    OutboxRow,
    PauseRow,
    SubscriptionExceptionRow,
    SubscriptionRow,
)

# Statements on the path of every due invoice or outbox row, built once: constructing a
# statement costs more than SQLite takes to run it.
_PAUSES_OF_INVOICE = (
    select(PauseRow)
    .where(
        PauseRow.client_id == bindparam("client_id"),
        or_(PauseRow.invoice_id == bindparam("invoice_id"), PauseRow.invoice_id.is_(None)),
    )
    .order_by(PauseRow.id)
)
_STEPS_OF_INVOICE = (
    select(ChaseStepRow)
    .where(ChaseStepRow.invoice_id == bindparam("invoice_id"))
    .order_by(ChaseStepRow.at, ChaseStepRow.id)
)
_OUTBOX = cast(Table, OutboxRow.__table__)
_OUTBOX_DONE = (
    update(_OUTBOX)
    .where(
        _OUTBOX.c.id == bindparam("b_id"),
        _OUTBOX.c.status == "sending",
        _OUTBOX.c.claimed_by == bindparam("b_worker"),
    )
    .values(
        status="sent", done_at=bindparam("done_at"), result=bindparam("result"), last_error=None
    )
)
_STEP_INSERTS: dict[str, Any] = {}


def _step_insert(dialect: str) -> Any:
    """The chase step INSERT … ON CONFLICT DO NOTHING RETURNING id of ``dialect`` (None when
    the dialect has none), built once: constructing it costs more than running it."""
    if dialect not in ("sqlite", "postgresql"):
        return None
    stmt = _STEP_INSERTS.get(dialect)
    if stmt is None:
        insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
        table = cast(Table, ChaseStepRow.__table__)
        stmt = _STEP_INSERTS[dialect] = (
            insert(table)
            .on_conflict_do_nothing(index_elements=["invoice_id", "step_key"])
            .returning(table.c.id)
        )
    return stmt


class OperationsMixin:
    """Operations used by the chase runner, the outbox worker and the inbox."""

    session: Session

    def _invoice_id(self, number: str) -> int:  # provided by SqlLedger
        raise NotImplementedError

    def _number_of(self, invoice_id: int | None) -> str | None:
        if invoice_id is None:
            return None
        return self.session.scalar(select(InvoiceRow.number).where(InvoiceRow.id == invoice_id))

    # ------------------------------------------------------------------ contacts
    def contacts_by_email(self, email: str) -> list[Contact]:
        """Contacts on file with this exact address (any client)."""
        rows = self.session.scalars(
            select(ContactRow)
            .where(ContactRow.email == email.strip().lower())
            .order_by(ContactRow.id)
        )
        return [
            Contact(
                client_id=r.client_id,
                name=r.name,
                email=r.email,
                role=ContactRole(r.role),
                source=r.source,
            )
            for r in rows
        ]

    def all_contacts(self) -> list[Contact]:
        """Every contact on file."""
        rows = self.session.scalars(select(ContactRow).order_by(ContactRow.id))
        return [
            Contact(
                client_id=r.client_id,
                name=r.name,
                email=r.email,
                role=ContactRole(r.role),
                source=r.source,
            )
            for r in rows
        ]

    # ------------------------------------------------------------------ pauses
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
        row = PauseRow(
            client_id=client_id,
            invoice_id=self._invoice_id(invoice_number) if invoice_number else None,
            reason=reason,
            since=since,
            until=until,
            actor=actor,
            note=note,
            created_at=now,
        )
        self.session.add(row)
        self.session.flush()
        return row.id

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
        """Lift active pauses of an invoice (or of the client); returns how many."""
        stmt = select(PauseRow).where(PauseRow.client_id == client_id, PauseRow.lifted_at.is_(None))
        if invoice_number is not None:
            stmt = stmt.where(PauseRow.invoice_id == self._invoice_id(invoice_number))
        else:
            stmt = stmt.where(PauseRow.invoice_id.is_(None))
        if reasons:
            stmt = stmt.where(PauseRow.reason.in_(list(reasons)))
        lifted = 0
        for row in self.session.scalars(stmt):
            if row.until is not None and row.until < on:
                continue  # already over
            row.lifted_at, row.lifted_by = now, actor
            # The plan reads `until` as the last paused day; lifting today frees today.
            row.until = max(row.since - timedelta(days=1), on - timedelta(days=1))
            lifted += 1
        return lifted

    def pauses_for(self, number: str, client_id: str) -> list[Pause]:
        """Pauses that apply to an invoice (its own and its client's), lifted ones included."""
        rows = self.session.scalars(
            _PAUSES_OF_INVOICE, {"client_id": client_id, "invoice_id": self._invoice_id(number)}
        )
        return [
            Pause(
                reason=r.reason,  # type: ignore[arg-type]
                until=r.until,
                actor=r.actor,
                scope="invoice" if r.invoice_id is not None else "client",
                since=r.since,
                note=r.note,
            )
            for r in rows
            # A pause lifted on the day it began never applied (its last day is before its
            # first): it stays on record but is not a pause for the plan.
            if r.until is None or r.until >= r.since
        ]

    def pauses_for_many(self, invoices: Mapping[str, str]) -> dict[str, list[Pause]]:
        """``pauses_for`` of many invoices (number -> client id) in one query."""
        out: dict[str, list[Pause]] = {number: [] for number in invoices}
        if not invoices:
            return out
        ids = {number: self._invoice_id(number) for number in invoices}
        rows = self.session.execute(
            select(
                PauseRow.client_id,
                PauseRow.invoice_id,
                PauseRow.reason,
                PauseRow.until,
                PauseRow.actor,
                PauseRow.since,
                PauseRow.note,
            )
            .where(PauseRow.client_id.in_(sorted(set(invoices.values()))))
            .order_by(PauseRow.id)
        ).all()
        if not rows:
            return out
        for number, client_id in invoices.items():
            own = ids[number]
            out[number] = [
                Pause(
                    reason=r.reason,
                    until=r.until,
                    actor=r.actor,
                    scope="invoice" if r.invoice_id is not None else "client",
                    since=r.since,
                    note=r.note,
                )
                for r in rows
                if r.client_id == client_id
                and (r.invoice_id is None or r.invoice_id == own)
                and (r.until is None or r.until >= r.since)
            ]
        return out

    def pause_views(self, *, active_on: date | None = None) -> list[PauseView]:
        """Pause records (optionally only those active on a date)."""
        stmt = select(PauseRow).order_by(PauseRow.id)
        out = []
        for r in self.session.scalars(stmt):
            if active_on is not None and (
                r.lifted_at is not None or (r.until is not None and r.until < active_on)
            ):
                continue
            out.append(
                PauseView(
                    r.id,
                    r.client_id,
                    self._number_of(r.invoice_id),
                    r.reason,
                    r.since,
                    r.until,
                    r.actor,
                    r.note,
                    r.lifted_at,
                )
            )
        return out

    # ------------------------------------------------------------------ chase steps
    def chase_history(self, number: str) -> list[StepRecord]:
        """What happened to the invoice's chase steps."""
        rows = self.session.scalars(_STEPS_OF_INVOICE, {"invoice_id": self._invoice_id(number)})
        return [
            StepRecord(
                step_key=r.step_key,
                status=r.status,  # type: ignore[arg-type]
                at=r.at,
                reason=r.reason,
            )
            for r in rows
        ]

    def chase_histories(self, numbers: Sequence[str]) -> dict[str, list[StepRecord]]:
        """``chase_history`` of many invoices in one query."""
        out: dict[str, list[StepRecord]] = {number: [] for number in numbers}
        if not numbers:
            return out
        by_id = {self._invoice_id(number): number for number in numbers}
        rows = self.session.execute(
            select(
                ChaseStepRow.invoice_id,
                ChaseStepRow.step_key,
                ChaseStepRow.status,
                ChaseStepRow.at,
                ChaseStepRow.reason,
            )
            .where(ChaseStepRow.invoice_id.in_(list(by_id)))
            .order_by(ChaseStepRow.at, ChaseStepRow.id)
        )
        for r in rows:
            out[by_id[r.invoice_id]].append(
                StepRecord(step_key=r.step_key, status=r.status, at=r.at, reason=r.reason)
            )
        return out

    def record_step(
        self,
        number: str,
        step_key: str,
        status: str,
        at: datetime,
        reason: str = "",
        outbox_key: str | None = None,
    ) -> bool:
        """Record a step once; False when the step was already recorded (someone else won)."""
        values = {
            "invoice_id": self._invoice_id(number),
            "step_key": step_key,
            "status": status,
            "at": at,
            "reason": reason,
            "outbox_key": outbox_key,
        }
        stmt = _step_insert(self.session.get_bind().dialect.name)
        if stmt is not None:
            # One statement instead of SAVEPOINT + INSERT + RELEASE: this runs for every step
            # the chase records, so it is on the path of each due invoice.
            return self.session.execute(stmt, values).first() is not None
        try:
            with self.session.begin_nested():
                self.session.add(ChaseStepRow(**values))
                self.session.flush()
        except IntegrityError:
            return False
        return True

    def mark_step_failed(self, number: str, step_key: str, reason: str) -> None:
        """A sent step whose delivery was dead-lettered."""
        self.session.execute(
            update(ChaseStepRow)
            .where(
                ChaseStepRow.invoice_id == self._invoice_id(number),
                ChaseStepRow.step_key == step_key,
            )
            .values(status="failed", reason=reason)
        )

    def set_next_action(self, number: str, at: datetime | None) -> None:
        """Store when the invoice next needs the chase runner (None: nothing planned)."""
        row = self.session.get(InvoiceRow, self._invoice_id(number))
        assert row is not None
        row.next_action_at = at
        row.planned = True

    def set_next_actions(self, actions: Mapping[str, datetime | None]) -> None:
        """``set_next_action`` of many invoices in one executemany statement."""
        if not actions:
            return
        table = cast(Table, InvoiceRow.__table__)
        self.session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(next_action_at=bindparam("b_at"), planned=True),
            [{"b_id": self._invoice_id(n), "b_at": at} for n, at in actions.items()],
        )

    def replan(self, number: str) -> None:
        """Ask the runner to recompute this invoice's plan (after any event)."""
        self.session.execute(
            update(InvoiceRow)
            .where(InvoiceRow.id == self._invoice_id(number))
            .values(planned=False)
        )

    def replan_client(self, client_id: str) -> None:
        """Recompute the plans of all of a client's invoices."""
        self.session.execute(
            update(InvoiceRow).where(InvoiceRow.client_id == client_id).values(planned=False)
        )

    def set_escalated(self, number: str) -> None:
        """Mark the invoice escalated to its account owner."""
        self.session.execute(
            update(InvoiceRow)
            .where(InvoiceRow.id == self._invoice_id(number))
            .values(escalated=True)
        )

    def set_due_date(self, number: str, due: date, now: datetime) -> None:
        """Move the due date (a granted extension); the plan is recomputed."""
        self.session.execute(
            update(InvoiceRow)
            .where(InvoiceRow.id == self._invoice_id(number))
            .values(due_date=due, planned=False, updated_at=now)
        )

    def chase_candidates(self, until: datetime, limit: int | None = None) -> list[str]:
        """Collectible invoices whose next action is due by ``until``, or that need planning.

        Served by the index on (status, next_action_at) and the partial condition on
        ``planned``: the work grows with the due invoices, not with all of them.
        """
        statuses = sorted(COLLECTIBLE_STATUSES)
        stmt = (
            select(InvoiceRow.number)
            .where(InvoiceRow.kind == "invoice", InvoiceRow.status.in_(statuses))
            .where(
                or_(
                    InvoiceRow.planned.is_(False),
                    and_(
                        InvoiceRow.next_action_at.is_not(None), InvoiceRow.next_action_at <= until
                    ),
                )
            )
            .order_by(InvoiceRow.next_action_at, InvoiceRow.id)
        )
        if limit:
            stmt = stmt.limit(limit)
        return list(self.session.scalars(stmt))

    # ------------------------------------------------------------------ hand-offs
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
        """Open a case once per key; returns (id, created)."""
        existing = self.session.scalar(select(HandoffRow).where(HandoffRow.case_key == case_key))
        if existing is not None:
            return existing.id, False
        row = HandoffRow(
            case_key=case_key,
            kind=kind,
            client_id=client_id,
            owner_id=owner_id,
            invoices=list(invoices),
            reason=reason,
            summary=summary,
            status="open",
            details=details,
            thread_id=thread_id,
            created_at=now,
            updated_at=now,
        )
        try:
            with self.session.begin_nested():
                self.session.add(row)
                self.session.flush()
        except IntegrityError:
            again = self.session.scalar(select(HandoffRow).where(HandoffRow.case_key == case_key))
            assert again is not None
            return again.id, False
        return row.id, True

    def _handoff(self, r: HandoffRow) -> Handoff:
        return Handoff(
            r.id,
            r.case_key,
            r.kind,
            r.client_id,
            r.owner_id,
            tuple(r.invoices or ()),
            r.reason,
            r.summary,
            r.status,
            dict(r.details or {}),
            r.thread_id,
            r.slack_ts,
            r.created_at,
            r.updated_at,
            r.resolution,
            r.resolved_by,
        )

    def handoffs(self, *, statuses: Sequence[str] | None = None) -> list[Handoff]:
        """Cases, oldest first."""
        stmt = select(HandoffRow).order_by(HandoffRow.id)
        if statuses:
            stmt = stmt.where(HandoffRow.status.in_(list(statuses)))
        return [self._handoff(r) for r in self.session.scalars(stmt)]

    def handoff(self, handoff_id: int) -> Handoff:
        """One case; raises NotFound."""
        row = self.session.get(HandoffRow, handoff_id)
        if row is None:
            raise NotFound(f"unknown hand-off {handoff_id}")
        return self._handoff(row)

    def handoff_by_key(self, case_key: str) -> Handoff | None:
        """The case with this key, if any."""
        row = self.session.scalar(select(HandoffRow).where(HandoffRow.case_key == case_key))
        return None if row is None else self._handoff(row)

    def update_handoff(self, handoff_id: int, now: datetime, **values: Any) -> None:
        """Change a case's status/resolution/slack_ts/details."""
        row = self.session.get(HandoffRow, handoff_id, with_for_update=True)
        if row is None:
            raise NotFound(f"unknown hand-off {handoff_id}")
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = now

    # ------------------------------------------------------------------ outbox
    def claim_outbox(
        self,
        worker: str,
        now: datetime,
        *,
        limit: int = 10,
        lease: timedelta,
        kinds: Sequence[str] | None = None,
    ) -> list[OutboxClaim]:
        """Claim due rows for ``worker`` (portable UPDATE … WHERE id IN (… SKIP LOCKED)).

        Rows left in ``sending`` by a worker that died (older than ``lease``) are claimed again:
        that is the reconciliation after a crash, and the source of the documented
        at-least-once window.
        """
        stale = now - lease
        pick = (
            select(OutboxRow.id, OutboxRow.status)
            .where(
                or_(
                    and_(OutboxRow.status == "pending", OutboxRow.next_attempt_at <= now),
                    and_(OutboxRow.status == "sending", OutboxRow.claimed_at < stale),
                )
            )
            .order_by(OutboxRow.next_attempt_at, OutboxRow.id)
            .limit(limit)
        )
        if kinds:
            pick = pick.where(OutboxRow.kind.in_(list(kinds)))
        if self.session.get_bind().dialect.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        # A row still ``sending`` when picked was claimed by a worker whose lease ran out.
        previous = {row.id: row.status for row in self.session.execute(pick)}
        ids = list(previous)
        if not ids:
            return []
        rows = self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_(ids))
            .where(
                or_(
                    OutboxRow.status == "pending",
                    and_(OutboxRow.status == "sending", OutboxRow.claimed_at < stale),
                )
            )
            .values(
                status="sending", claimed_by=worker, claimed_at=now, attempts=OutboxRow.attempts + 1
            )
            .returning(
                OutboxRow.id,
                OutboxRow.idempotency_key,
                OutboxRow.kind,
                OutboxRow.payload,
                OutboxRow.attempts,
                OutboxRow.invoice_id,
                OutboxRow.last_error,
            )
            .execution_options(synchronize_session=False)
        ).all()
        invoice_ids = {r.invoice_id for r in rows if r.invoice_id is not None}
        numbers = (
            {
                r.id: r.number
                for r in self.session.execute(
                    select(InvoiceRow.id, InvoiceRow.number).where(
                        InvoiceRow.id.in_(sorted(invoice_ids))
                    )
                )
            }
            if invoice_ids
            else {}
        )
        claims = [
            OutboxClaim(
                r.id,
                r.idempotency_key,
                r.kind,
                dict(r.payload),
                r.attempts,
                numbers.get(r.invoice_id) if r.invoice_id is not None else None,
                reclaimed=previous.get(r.id) == "sending",
            )
            for r in rows
        ]
        return sorted(claims, key=lambda c: c.id)

    def outbox_done(
        self, outbox_id: int, worker: str, now: datetime, result: dict[str, Any]
    ) -> bool:
        """Mark a claimed row sent; False if the claim was lost (another worker took it)."""
        res = self.session.execute(
            _OUTBOX_DONE, {"b_id": outbox_id, "b_worker": worker, "done_at": now, "result": result}
        )
        return bool(res.rowcount)  # type: ignore[attr-defined]

    def outbox_retry(self, outbox_id: int, worker: str, error: str, at: datetime) -> None:
        """Give a claimed row back for a later attempt."""
        self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == outbox_id, OutboxRow.claimed_by == worker)
            .values(status="pending", next_attempt_at=at, last_error=error[:2000])
        )

    def outbox_dead(
        self, outbox_id: int, worker: str, error: str, now: datetime, status: str = "dead"
    ) -> None:
        """Dead-letter a row (a permanent failure)."""
        self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == outbox_id, OutboxRow.claimed_by == worker)
            .values(status=status, done_at=now, last_error=error[:2000])
        )

    def outbox_rows(
        self, *, statuses: Sequence[str] | None = None, kinds: Sequence[str] | None = None
    ) -> list[OutboxView]:
        """Outbox rows for inspection."""
        stmt = select(OutboxRow).order_by(OutboxRow.id)
        if statuses:
            stmt = stmt.where(OutboxRow.status.in_(list(statuses)))
        if kinds:
            stmt = stmt.where(OutboxRow.kind.in_(list(kinds)))
        return [
            OutboxView(
                r.id,
                r.idempotency_key,
                r.kind,
                r.status,
                r.attempts,
                r.next_attempt_at,
                r.last_error,
                self._number_of(r.invoice_id),
                r.created_at,
                r.done_at,
            )
            for r in self.session.scalars(stmt)
        ]

    def outbox_payload(self, idempotency_key: str) -> dict[str, Any] | None:
        """The payload of an outbox row, by key."""
        row = self.session.scalar(
            select(OutboxRow).where(OutboxRow.idempotency_key == idempotency_key)
        )
        return None if row is None else dict(row.payload)

    # ------------------------------------------------------------------ small state
    def get_state(self, key: str) -> dict[str, Any] | None:
        """A small JSON value stored under ``key``."""
        row = self.session.get(KeyValueRow, key)
        return None if row is None else dict(row.value)

    def set_state(self, key: str, value: dict[str, Any], now: datetime) -> None:
        """Store a small JSON value under ``key``."""
        row = self.session.get(KeyValueRow, key, with_for_update=True)
        if row is None:
            self.session.add(KeyValueRow(key=key, value=value, updated_at=now))
        else:
            row.value, row.updated_at = value, now

    # ------------------------------------------------------------------ subscriptions
    def save_subscription(
        self, sub_id: str, client_id: str, currency: str, spec: dict[str, Any], now: datetime
    ) -> bool:
        """Insert or update a subscription; True when something changed."""
        row = self.session.get(SubscriptionRow, sub_id)
        if row is None:
            self.session.add(
                SubscriptionRow(
                    id=sub_id,
                    client_id=client_id,
                    currency=currency,
                    spec=spec,
                    status="active",
                    created_at=now,
                )
            )
            return True
        if row.spec != spec or row.client_id != client_id or row.currency != currency:
            row.spec, row.client_id, row.currency = spec, client_id, currency
            return True
        return False

    def subscriptions(self) -> list[tuple[str, str, str, dict[str, Any], date | None]]:
        """(id, client, currency, spec, last billed cycle date) of active subscriptions."""
        rows = self.session.scalars(
            select(SubscriptionRow)
            .where(SubscriptionRow.status == "active")
            .order_by(SubscriptionRow.id)
        )
        return [(r.id, r.client_id, r.currency, dict(r.spec), r.last_cycle_date) for r in rows]

    def set_subscription_cursor(self, sub_id: str, cycle_date: date) -> None:
        """Remember the latest cycle billed (the scheduler starts from there next time)."""
        row = self.session.get(SubscriptionRow, sub_id)
        if row is not None and (row.last_cycle_date is None or row.last_cycle_date < cycle_date):
            row.last_cycle_date = cycle_date

    def add_subscription_exception(
        self, exc_id: str, sub_id: str, kind: str, data: dict[str, Any], actor: str, now: datetime
    ) -> bool:
        """Record an exception once (by id)."""
        if self.session.get(SubscriptionExceptionRow, exc_id) is not None:
            return False
        self.session.add(
            SubscriptionExceptionRow(
                id=exc_id,
                subscription_id=sub_id,
                kind=kind,
                data=data,
                created_at=now,
                created_by=actor,
            )
        )
        return True

    def subscription_exceptions(
        self, sub_id: str
    ) -> list[tuple[str, str, dict[str, Any], datetime, str]]:
        """(id, kind, data, created_at, created_by) of a subscription's exceptions."""
        rows = self.session.scalars(
            select(SubscriptionExceptionRow)
            .where(SubscriptionExceptionRow.subscription_id == sub_id)
            .order_by(SubscriptionExceptionRow.created_at, SubscriptionExceptionRow.id)
        )
        return [(r.id, r.kind, dict(r.data), r.created_at, r.created_by) for r in rows]

    # ------------------------------------------------------------------ inbound mail
    def _inbound(self, key: str) -> InboundMessageRow | None:
        return self.session.scalar(
            select(InboundMessageRow).where(InboundMessageRow.message_key == key)
        )

    def store_inbound(
        self, key: str, raw: bytes, from_addr: str, subject: str, now: datetime
    ) -> tuple[int, str]:
        """Store a received message once; returns (id, status) — ``done`` means handled."""
        row = self.session.scalar(
            select(InboundMessageRow).where(InboundMessageRow.message_key == key)
        )
        if row is not None:
            return row.id, row.status
        row = InboundMessageRow(
            message_key=key,
            raw=raw,
            from_addr=from_addr[:320],
            subject=subject[:2000],
            received_at=now,
            status="new",
        )
        try:
            with self.session.begin_nested():
                self.session.add(row)
                self.session.flush()
        except IntegrityError:
            again = self.session.scalar(
                select(InboundMessageRow).where(InboundMessageRow.message_key == key)
            )
            assert again is not None
            return again.id, again.status
        return row.id, "new"

    def finish_inbound(
        self, key: str, outcome: dict[str, Any], now: datetime, status: str = "done"
    ) -> None:
        """Record what was done with a message."""
        self.session.execute(
            update(InboundMessageRow)
            .where(InboundMessageRow.message_key == key)
            .values(status=status, outcome=outcome, processed_at=now)
        )

    def inbound_outcome(self, key: str) -> dict[str, Any] | None:
        """The stored outcome of a handled message."""
        row = self.session.scalar(
            select(InboundMessageRow).where(InboundMessageRow.message_key == key)
        )
        return None if row is None or row.outcome is None else dict(row.outcome)
