"""The chase runner: due reminders and escalations, exactly once, on policy.

For each invoice whose next action is due (an indexed column, so the work grows with the due
invoices, not with all of them) the plan is recomputed from the facts — due date, balance,
pauses, what was already sent — and its decisions are recorded: a step is claimed once per
(invoice, step) by a unique row, then its email/Slack post is queued in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from billing.chase import (
    ChaseFacts,
    ChasePlan,
    ChaseSpec,
    Pause,
    PlannedStep,
    StepRecord,
    plan_chase,
)
from billing.directory import Client, Company, Owner
from billing.errors import NotFound
from billing.events import DomainEvent, EventKind
from billing.records import InvoiceRecord, OutboxItem
from billing.status import InvoiceStatus
from billing.terms import days_overdue
from tools.clock import Clock, business_date
from tools.errors import ToolError
from tools.messages import base_context, email_item
from tools.policy_book import PolicyBook
from tools.ports import Ledger, LedgerFactory, MailComposer
from tools.slack_blocks import escalation_message

REMINDER_EVENT = EventKind.REMINDER_SENT


@dataclass(frozen=True, slots=True)
class ChaseAction:
    """One decision of the runner (or of a preview)."""

    invoice: str
    client: str
    step: str
    kind: str  # reminder | escalate | skip
    when: datetime | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    template: str
    reason: str


@dataclass
class ChaseReport:
    """What a chase run did (or, in preview, would do)."""

    examined: int = 0
    actions: list[ChaseAction] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def sent(self) -> int:
        """Steps queued for sending."""
        return sum(1 for a in self.actions if a.kind in ("reminder", "escalate"))

    @property
    def skipped(self) -> int:
        """Steps recorded as skipped."""
        return sum(1 for a in self.actions if a.kind == "skip")


def facts_for(
    ledger: Ledger,
    record: InvoiceRecord,
    client: Client,
    *,
    pauses: Sequence[Pause] | None = None,
    history: Sequence[StepRecord] | None = None,
) -> ChaseFacts:
    """The chase facts of an invoice, read from the ledger (or from ``pauses`` and
    ``history`` when they were already read in bulk)."""
    assert record.due_date is not None
    if pauses is None:
        pauses = ledger.pauses_for(record.number, client.id)
    if history is None:
        history = ledger.chase_history(record.number)
    return ChaseFacts(
        invoice_number=record.number,
        due_date=record.due_date,
        balance_is_positive=record.balance > 0,
        status=record.status.value,
        escalated=record.escalated,
        pauses=tuple(pauses),
        history=tuple(history),
        client_timezone=client.timezone,
        issued_date=record.document.issue_date,
    )


def _recipients(
    step: PlannedStep, client: Client, owner_email: str | None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    contact = client.billing_contact()
    if step.to == "account_owner":
        to = (owner_email,) if owner_email else ()
        return to, ()
    to = (contact.email,) if contact else ()
    cc = (owner_email,) if step.cc_owner and owner_email else ()
    return to, cc


def _sent_so_far(ledger: Ledger, number: str) -> list[str]:
    wanted = {EventKind.INVOICE_SENT, EventKind.REMINDER_SENT, EventKind.INVOICE_IMPORTED}
    return [f"{e.at:%Y-%m-%d}: {e.summary}" for e in ledger.events(number) if e.kind in wanted]


def _act(
    ledger: Ledger,
    *,
    company: Company,
    client: Client,
    record: InvoiceRecord,
    plan: ChasePlan,
    composer: MailComposer,
    now: datetime,
    slack_channel: str | None,
    report: ChaseReport,
    owner: Owner | None,
    events: list[tuple[str, DomainEvent]],
) -> list[StepRecord] | None:
    """Record and queue the plan's steps; returns the step records written, or None when
    another runner had recorded one of them first (the history must then be read again).
    Audit events are appended to ``events`` (written in bulk by the caller, in order)."""
    number = record.number
    on = business_date(now, company.timezone)
    recorded: list[StepRecord] | None = []
    for step in plan.to_skip_now:
        if not ledger.record_step(number, step.step_key, "skipped", now, step.reason):
            recorded = None  # another runner recorded it
        else:
            if recorded is not None:
                recorded.append(StepRecord(step.step_key, "skipped", now, step.reason))
            events.append(
                (
                    number,
                    DomainEvent(
                        EventKind.REMINDER_SKIPPED,
                        now,
                        "chase",
                        f"Step '{step.step_key}' ({step.template}) not sent: {step.reason}",
                        {"step": step.step_key, "reason": step.reason},
                    ),
                )
            )
            report.actions.append(
                ChaseAction(
                    number,
                    client.id,
                    step.step_key,
                    "skip",
                    now,
                    (),
                    (),
                    step.template,
                    step.reason,
                )
            )
    for step in plan.due_now:
        key = f"chase:{number}:{step.step_key}"
        to, cc = _recipients(step, client, owner.email if owner else None)
        if not to:
            reason = (
                "no account owner on file"
                if step.to == "account_owner"
                else "no billing or primary contact on file"
            )
            if not ledger.record_step(number, step.step_key, "failed", now, reason):
                recorded = None
            else:
                if recorded is not None:
                    recorded.append(StepRecord(step.step_key, "failed", now, reason))
                events.append(
                    (
                        number,
                        DomainEvent(
                            EventKind.REMINDER_SKIPPED,
                            now,
                            "chase",
                            f"Step '{step.step_key}' could not be sent: {reason}",
                            {"step": step.step_key, "reason": reason},
                        ),
                    )
                )
                _open_handoff(
                    ledger,
                    events,
                    "chase_failed",
                    f"chase:{number}:{step.step_key}",
                    client,
                    record,
                    reason,
                    now,
                )
            continue
        if not ledger.record_step(number, step.step_key, "sent", now, step.reason, key):
            recorded = None
            continue  # another runner took this step
        if recorded is not None:
            recorded.append(StepRecord(step.step_key, "sent", now, step.reason))
        context = base_context(
            company, client, contact=client.billing_contact(), owner=owner, on=on, records=[record]
        )
        context["step"] = {"key": step.step_key, "kind": step.kind, "template": step.template}
        language = client.language if step.to == "billing_contact" else company.language
        if step.kind == "escalate":
            # Only the escalation tells what was sent so far (it reads the whole audit trail).
            context["history"] = _sent_so_far(ledger, number)
            ledger.set_escalated(number)
            events.append(
                (
                    number,
                    DomainEvent(
                        EventKind.ESCALATED,
                        now,
                        "chase",
                        f"Escalated to account owner {owner.name if owner else '(none)'} "
                        f"({days_overdue(record.due_date, on)} days overdue)",
                        {"step": step.step_key, "owner": owner.id if owner else None},
                    ),
                )
            )
            handoff_id = _open_handoff(
                ledger,
                events,
                "escalation",
                f"escalation:{number}",
                client,
                record,
                f"{days_overdue(record.due_date, on)} days overdue after reminders",
                now,
            )
            if "email" in step.channels:
                ledger.enqueue(
                    email_item(
                        key=key,
                        company=company,
                        composer=composer,
                        template=_escalation_template(step),
                        language=language,
                        context=context,
                        to=to,
                        cc=cc,
                        invoice_number=number,
                        step=f"escalation-{step.step_key}",
                        event=EventKind.ESCALATED,
                        recheck=True,
                        extra={"chase_step": step.step_key},
                    ),
                    now,
                )
            if "slack" in step.channels and slack_channel:
                message = escalation_message(
                    client_name=client.name,
                    record=record,
                    days_overdue=days_overdue(record.due_date, on),
                    sent_so_far=context["history"],
                    owner_name=owner.name if owner else "unassigned",
                    owner_slack_id=owner.slack_user_id if owner else None,
                )
                ledger.enqueue(
                    OutboxItem(
                        idempotency_key=f"{key}:slack",
                        kind="slack",
                        invoice_number=number,
                        payload={
                            "channel": slack_channel,
                            **message,
                            "handoff_id": handoff_id,
                            "event": EventKind.ESCALATED.value,
                            "invoice": number,
                            # like the email: not posted if the invoice is paid before it goes
                            "recheck": True,
                        },
                    ),
                    now,
                )
        else:
            ledger.enqueue(
                email_item(
                    key=key,
                    company=company,
                    composer=composer,
                    template=step.template,
                    language=language,
                    context=context,
                    to=to,
                    cc=cc,
                    invoice_number=number,
                    step=f"reminder-{step.step_key}",
                    event=REMINDER_EVENT,
                    attach=[number],
                    recheck=True,
                    extra={"chase_step": step.step_key},
                ),
                now,
            )
        report.actions.append(
            ChaseAction(
                number, client.id, step.step_key, step.kind, now, to, cc, step.template, step.reason
            )
        )
    return recorded


def _escalation_template(step: PlannedStep) -> str:
    """The email of an escalate step: the owner's internal notice, or the client's final
    notice when the step writes to the billing contact (``escalation`` names either)."""
    if step.to == "account_owner":
        return "escalation_owner"
    return "escalation_client" if step.template == "escalation" else step.template


def _open_handoff(
    ledger: Ledger,
    events: list[tuple[str, DomainEvent]],
    kind: str,
    case_key: str,
    client: Client,
    record: InvoiceRecord,
    reason: str,
    now: datetime,
) -> int:
    handoff_id, created = ledger.open_handoff(
        case_key=case_key,
        kind=kind,
        client_id=client.id,
        owner_id=client.account_owner_id,
        invoices=[record.number],
        reason=reason,
        summary=f"{record.number} {client.name}: {record.currency} {record.balance} open",
        details={"balance": str(record.balance), "currency": record.currency},
        now=now,
    )
    if created:
        events.append(
            (
                record.number,
                DomainEvent(
                    EventKind.HANDED_OFF,
                    now,
                    "chase",
                    f"Handed off to a person ({kind}): {reason}",
                    {"handoff": handoff_id, "kind": kind},
                ),
            )
        )
    return handoff_id


BATCH = 100
"""Due invoices chased per transaction: their rows, pauses and step records are read in bulk,
their events and next actions written in bulk, and the commit is paid once per batch."""


def run_chase(
    ledgers: LedgerFactory,
    clock: Clock,
    composer: MailComposer,
    *,
    slack_channel: str | None = None,
    limit: int | None = None,
) -> ChaseReport:
    """Record and queue every chase step due now; recompute each touched invoice's plan."""
    now = clock.now()
    report = ChaseReport()
    with ledgers() as ledger:
        numbers = ledger.chase_candidates(now, limit)
        company = ledger.company()
    run = _Run(company, PolicyBook(company), _People(), composer, now, slack_channel, report)
    for start in range(0, len(numbers), BATCH):
        batch = numbers[start : start + BATCH]
        if not run.chase(ledgers, batch, record_error=len(batch) == 1):
            # One invoice that cannot be chased (a policy naming a template that does not
            # exist, a zone the calendar does not know …) must not stop the chase of all the
            # others: its batch was rolled back, so each of them is chased again in a
            # transaction of its own, where only the culprit fails (and is retried next run).
            for number in batch:
                run.chase(ledgers, [number], record_error=True)
    return report


@dataclass
class _Run:
    """What one chase run shares between its batches."""

    company: Company
    book: PolicyBook
    people: _People
    composer: MailComposer
    now: datetime
    slack_channel: str | None
    report: ChaseReport

    def chase(self, ledgers: LedgerFactory, numbers: Sequence[str], *, record_error: bool) -> bool:
        """Chase ``numbers`` in one transaction; on failure roll it (and its report lines)
        back, note the error when ``record_error``, and return False."""
        report = self.report
        done, examined = len(report.actions), report.examined
        try:
            with ledgers() as ledger:
                self._chase(ledger, numbers)
        except Exception as exc:
            del report.actions[done:]  # rolled back: they did not happen
            report.examined = examined
            if record_error:
                report.errors.append(f"{numbers[0]}: {type(exc).__name__}: {exc}")
            return False
        return True

    def _chase(self, ledger: Ledger, numbers: Sequence[str]) -> None:
        now, report = self.now, self.report
        records = ledger.invoices_by_number(numbers, for_update=True)
        next_actions: dict[str, datetime | None] = {}
        chased: dict[str, tuple[InvoiceRecord, Client]] = {}
        for number in numbers:
            record = records.get(number)
            if record is None:
                raise NotFound(f"unknown invoice {number!r}")
            report.examined += 1
            if not record.status.is_collectible or record.due_date is None:
                next_actions[number] = None
                continue
            chased[number] = (record, self.people.client(ledger, record.client_id))
        pauses = ledger.pauses_for_many({n: c.id for n, (_, c) in chased.items()})
        histories = ledger.chase_histories(list(chased))
        events: list[tuple[str, DomainEvent]] = []
        for number, (record, client) in chased.items():
            spec = self.book.chase_spec(client)
            facts = facts_for(
                ledger, record, client, pauses=pauses[number], history=histories[number]
            )
            plan = after = plan_chase(spec, facts, now)
            if plan.due_now or plan.to_skip_now:
                recorded = _act(
                    ledger,
                    company=self.company,
                    client=client,
                    record=record,
                    plan=plan,
                    composer=self.composer,
                    now=now,
                    slack_channel=self.slack_channel,
                    report=report,
                    owner=self.people.owner(ledger, client.account_owner_id),
                    events=events,
                )
                # Acting only adds step records (the balance, status and pauses read above
                # still hold), so the plan after it needs the new history alone: the records
                # just written, unless another runner wrote one first (then read it again).
                history = (
                    (*facts.history, *recorded)
                    if recorded is not None
                    else tuple(ledger.chase_history(number))
                )
                after = plan_chase(spec, replace(facts, history=history), now)
            next_actions[number] = _future(after, now)
        ledger.append_events(events)
        ledger.set_next_actions(next_actions)


class _People:
    """Clients and owners read once per run: each due invoice would otherwise re-read them."""

    def __init__(self) -> None:
        self._clients: dict[str, Client] = {}
        self._owners: dict[str, Owner | None] = {}

    def client(self, ledger: Ledger, client_id: str) -> Client:
        if client_id not in self._clients:
            self._clients[client_id] = ledger.client(client_id)
        return self._clients[client_id]

    def owner(self, ledger: Ledger, owner_id: str | None) -> Owner | None:
        if owner_id is None:
            return None
        if owner_id not in self._owners:
            self._owners[owner_id] = ledger.owner(owner_id)
        return self._owners[owner_id]


def _future(plan: ChasePlan, now: datetime) -> datetime | None:
    """Next time the runner must look; never in the past (which would spin)."""
    at = plan.next_action_at
    if at is None:
        return None
    return max(at, now + timedelta(seconds=1)) if plan.due_now or plan.to_skip_now else at


def preview_chase(
    ledgers: LedgerFactory,
    clock: Clock,
    *,
    days: int = 7,
) -> list[ChaseAction]:
    """What would go out in the next ``days`` days, to whom, when and why — without sending."""
    now = clock.now()
    horizon = now + timedelta(days=days)
    actions: list[ChaseAction] = []
    with ledgers() as ledger:
        company = ledger.company()
        book = PolicyBook(company)
        people = _People()
        numbers = ledger.chase_candidates(horizon)
        for number in numbers:
            record = ledger.invoice(number)
            if not record.status.is_collectible or record.due_date is None:
                continue
            client = people.client(ledger, record.client_id)
            owner = people.owner(ledger, client.account_owner_id)
            spec: ChaseSpec = book.chase_spec(client)
            plan = plan_chase(spec, facts_for(ledger, record, client), now)
            for step in plan.to_skip_now:
                actions.append(
                    ChaseAction(
                        number,
                        client.id,
                        step.step_key,
                        "skip",
                        now,
                        (),
                        (),
                        step.template,
                        step.reason,
                    )
                )
            for step in plan.steps:
                if step.state not in ("due", "scheduled", "blocked") or step.send_at is None:
                    continue
                if step.send_at > horizon:
                    continue
                to, cc = _recipients(step, client, owner.email if owner else None)
                kind = step.kind if step.state != "blocked" else "blocked"
                actions.append(
                    ChaseAction(
                        number,
                        client.id,
                        step.step_key,
                        kind,
                        step.send_at,
                        to,
                        cc,
                        step.template,
                        step.reason,
                    )
                )
    actions.sort(key=lambda a: (a.when or now, a.invoice))
    return actions


def pause_chase(
    ledgers: LedgerFactory,
    clock: Clock,
    *,
    target: str,
    until: date | None,
    reason: str,
    actor: str,
    note: str = "",
) -> tuple[str, int]:
    """Pause an invoice (``target`` = number) or a whole client (``target`` = client id)."""
    now = clock.now()
    with ledgers() as ledger:
        company = ledger.company()
        since = business_date(now, company.timezone)
        if until is not None and until < since:
            raise ToolError(f"--until {until} is in the past", code="invalid_pause")
        number: str | None
        try:
            record = ledger.invoice(target)
            number, client_id = record.number, record.client_id
        except NotFound:  # not an invoice number: try a client id
            number, client_id = None, ledger.client(target).id
        pause_id = ledger.add_pause(
            client_id=client_id,
            invoice_number=number,
            reason=reason,
            since=since,
            until=until,
            actor=actor,
            now=now,
            note=note,
        )
        targets = (
            [number]
            if number
            else [
                r.number
                for r in ledger.invoices(
                    client_id=client_id, statuses=[InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID]
                )
            ]
        )
        for n in targets:
            ledger.append_event(
                n,
                DomainEvent(
                    EventKind.CHASE_PAUSED,
                    now,
                    actor,
                    f"Chase paused ({reason}) until {until or 'resumed'}"
                    + ("" if number else f" for all of client {client_id}")
                    + (f": {note}" if note else ""),
                    {
                        "reason": reason,
                        "until": until.isoformat() if until else None,
                        "scope": "invoice" if number else "client",
                        "pause": pause_id,
                    },
                ),
            )
            ledger.replan(n)
        return client_id, len(targets)


def resume_chase(
    ledgers: LedgerFactory,
    clock: Clock,
    *,
    target: str,
    actor: str,
    reasons: Sequence[str] | None = None,
) -> int:
    """Lift the active pauses of an invoice or a client; the plan is recomputed."""
    now = clock.now()
    with ledgers() as ledger:
        company = ledger.company()
        on = business_date(now, company.timezone)
        try:
            record = ledger.invoice(target)
            number: str | None = record.number
            client_id = record.client_id
        except NotFound:
            number, client_id = None, ledger.client(target).id
        lifted = ledger.lift_pauses(
            client_id=client_id, invoice_number=number, actor=actor, now=now, on=on, reasons=reasons
        )
        targets = (
            [number]
            if number
            else [
                r.number
                for r in ledger.invoices(
                    client_id=client_id, statuses=[InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID]
                )
            ]
        )
        for n in targets:
            if lifted:
                ledger.append_event(
                    n,
                    DomainEvent(
                        EventKind.CHASE_RESUMED, now, actor, "Chase resumed", {"lifted": lifted}
                    ),
                )
            ledger.replan(n)
        return lifted
