"""The chase plan of one invoice: which reminder steps are done, due, skipped, scheduled or blocked.

Pure: no I/O, no clock. The runner passes the facts it read and ``now``; the plan says what to
send now, what to log as skipped now, and when to look again (``next_action_at``, which the
runner stores in an indexed column so each run only touches invoices with work to do).

Vocabulary
----------
*scheduled date*
    due date + the step's ``offset_days`` (negative = before the due date).
*send date*
    the first business day (send window's weekdays, not a holiday) on or after the scheduled
    date that no pause covers. Steps go at the *opening* of the send window on that day, in the
    client's time zone.
*opportunity*
    the next moment a step may go: ``now`` when ``now`` is inside an open, unpaused window;
    otherwise the next unpaused window opening.

Rules, in the order they apply
------------------------------
1. History wins: a step with a record (sent, skipped or failed) is never due again.
2. An invoice that is not collectible (status other than open / partially paid), has no
   positive balance, or whose policy disables chasing has nothing due and no next action.
3. A step scheduled before the invoice was issued is skipped (never sent).
4. A pause covers the business dates ``since..until`` (inclusive; open-ended when ``until`` is
   None). While a pause covers the opportunity's date, steps that have come due are *blocked*.
   A step whose send date a pause covers is *held*: its send date moves to the first uncovered
   business day (an out-of-office reply with a return date therefore delays the next step until
   that date).
5. Steps whose send dates coincide (a weekend or a pause pushed them together) collapse to the
   latest one; the others are skipped as superseded.
6. Steps whose send date passed without a send (the runner was down) are *missed*; the
   catch-up rule decides: ``latest`` sends only the latest arrived step and skips the others,
   ``all`` sends every missed step in order, ``none`` skips every missed step and sends only a
   step whose send date is the opportunity's date.
7. Nothing is sent or skipped outside the send window: a step that came due at night waits for
   the next window opening.

The runner must record every step of ``due_now`` (sent or failed) and of ``to_skip_now``
(skipped) in the history, and must call the plan again with fresh facts just before each send
(the balance re-check: :func:`reason_not_to_send`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from billing.errors import BillingError
from billing.status import InvoiceStatus

StepKind = Literal["reminder", "escalate"]
Channel = Literal["email", "slack"]
Recipient = Literal["billing_contact", "account_owner"]
CatchUp = Literal["latest", "all", "none"]
PauseReason = Literal[
    "dispute", "promise_to_pay", "payment_in_flight", "manual_hold", "out_of_office"
]
PauseScope = Literal["invoice", "client"]
RecordStatus = Literal["sent", "skipped", "failed"]
StepState = Literal["done", "skipped", "failed", "due", "scheduled", "blocked"]

COLLECTIBLE_STATUSES: frozenset[str] = frozenset(
    {InvoiceStatus.OPEN.value, InvoiceStatus.PARTIALLY_PAID.value}
)

# More than a year of consecutive non-business days means the calendar is broken; stop looking.
_MAX_SEARCH_DAYS = 400


class ChasePlanError(BillingError):
    """Inputs the chase plan cannot work with (naive ``now``, unknown time zone, bad spec)."""

    code = "invalid_chase_input"


@dataclass(frozen=True, slots=True)
class StepSpec:
    """One step of a chase schedule (plain-value copy of ``policies.models.ChaseStep``)."""

    key: str
    kind: StepKind
    offset_days: int
    template: str
    channels: tuple[Channel, ...] = ("email",)
    to: Recipient = "billing_contact"
    cc_owner: bool = False


@dataclass(frozen=True, slots=True)
class WindowSpec:
    """When sends may happen: ``start <= local time < end`` on business days, in local time.

    ``business_days`` are ``date.weekday()`` numbers: 0 = Monday … 6 = Sunday.
    """

    start: time = time(9, 0)
    end: time = time(17, 0)
    business_days: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ChasePlanError("send window times are local wall-clock times, without a zone")
        if not self.start < self.end:
            raise ChasePlanError(f"send window start {self.start} must be before end {self.end}")
        if not self.business_days or not self.business_days <= frozenset(range(7)):
            raise ChasePlanError("business days must be a non-empty set of weekdays 0..6")

    def is_business_day(self, day: date) -> bool:
        """True when sends may happen on ``day`` (a business weekday and not a holiday)."""
        return day.weekday() in self.business_days and day not in self.holidays


@dataclass(frozen=True, slots=True)
class ChaseSpec:
    """A resolved chase policy as plain values: steps in order, window, catch-up rule, zone."""

    steps: tuple[StepSpec, ...]
    window: WindowSpec = WindowSpec()
    catch_up: CatchUp = "latest"
    timezone: str = "UTC"
    enabled: bool = True

    def __post_init__(self) -> None:
        keys = [s.key for s in self.steps]
        if len(set(keys)) != len(keys):
            raise ChasePlanError(f"chase step keys must be unique: {keys}")
        offsets = [s.offset_days for s in self.steps]
        if any(a >= b for a, b in pairwise(offsets)):
            raise ChasePlanError(f"chase step offsets must strictly increase: {offsets}")


@dataclass(frozen=True, slots=True)
class Pause:
    """A reason not to chase, covering business dates ``since..until`` (both inclusive).

    ``since`` None means "from the start"; ``until`` None means open-ended (a dispute or a
    manual hold lasts until someone resumes it: lifting a pause sets ``until`` to the day before
    the lift, so chasing may resume at once). Pass expired and lifted pauses too: they tell which
    steps were held rather than missed.
    """

    reason: PauseReason
    until: date | None
    actor: str
    scope: PauseScope = "invoice"
    since: date | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.since is not None and self.until is not None and self.until < self.since:
            raise ChasePlanError(f"pause ends ({self.until}) before it starts ({self.since})")

    @classmethod
    def out_of_office(
        cls,
        return_date: date,
        actor: str,
        *,
        since: date | None = None,
        scope: PauseScope = "invoice",
        note: str = "",
    ) -> Pause:
        """The pause for an auto-reply saying the reader is back on ``return_date``."""
        return cls(
            reason="out_of_office",
            until=return_date - timedelta(days=1),
            actor=actor,
            scope=scope,
            since=since,
            note=note,
        )

    def covers(self, day: date) -> bool:
        """True when ``day`` falls inside the pause."""
        return (self.since is None or self.since <= day) and (
            self.until is None or day <= self.until
        )

    def describe(self) -> str:
        """One line for plans and timelines, e.g. ``promise_to_pay until 2026-06-12 (by agent)``."""
        span = f"until {self.until.isoformat()}" if self.until is not None else "until resumed"
        where = "client-wide " if self.scope == "client" else ""
        return f"{where}{self.reason} {span} (by {self.actor})"


@dataclass(frozen=True, slots=True)
class StepRecord:
    """What already happened to a step of this invoice (the runner's log, keyed by step)."""

    step_key: str
    status: RecordStatus
    at: datetime
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ChaseFacts:
    """What the runner knows about one invoice when it asks for the plan.

    ``client_timezone`` None means the policy's zone. ``pauses`` holds the invoice's pauses and
    the client-wide ones.
    """

    invoice_number: str
    due_date: date
    balance_is_positive: bool
    status: str
    escalated: bool = False
    pauses: tuple[Pause, ...] = ()
    history: tuple[StepRecord, ...] = ()
    client_timezone: str | None = None
    issued_date: date | None = None


@dataclass(frozen=True, slots=True)
class PlannedStep:
    """One step of the plan with its dates and state.

    ``send_date`` is the business date it goes (after weekend, holiday and pause moves; None
    while an open-ended pause holds it). ``send_at`` is an aware UTC moment: when it was
    recorded (done/skipped/failed), ``now`` (due), or when the runner should next act on it
    (scheduled/blocked); None when there is no such moment.
    """

    step_key: str
    kind: StepKind
    template: str
    channels: tuple[Channel, ...]
    to: Recipient
    cc_owner: bool
    offset_days: int
    scheduled_date: date
    send_date: date | None
    send_at: datetime | None
    state: StepState
    reason: str


@dataclass(frozen=True, slots=True)
class ChasePlan:
    """The plan of one invoice at one moment.

    ``due_now``: send these now, in order. ``to_skip_now``: log these as skipped now (with their
    reason). ``escalate_now``: a due escalation step marks the invoice escalated.
    ``next_action_at``: when to compute the plan again (``now`` when something is due now; None
    when nothing will ever be due without a new event). ``paused_by``: the pauses that block the
    next opportunity.
    """

    invoice_number: str
    steps: tuple[PlannedStep, ...]
    due_now: tuple[PlannedStep, ...]
    to_skip_now: tuple[PlannedStep, ...]
    escalate_now: bool
    next_action_at: datetime | None
    paused_by: tuple[Pause, ...]
    closed_reason: str | None


class _Calendar:
    """Business days, pauses and window openings in one time zone."""

    def __init__(self, window: WindowSpec, zone: ZoneInfo, pauses: tuple[Pause, ...]) -> None:
        self.window = window
        self.zone = zone
        self.pauses = pauses

    def covering(self, day: date) -> tuple[Pause, ...]:
        return tuple(p for p in self.pauses if p.covers(day))

    def business_day_from(self, day: date) -> date:
        for _ in range(_MAX_SEARCH_DAYS):
            if self.window.is_business_day(day):
                return day
            day += timedelta(days=1)
        raise ChasePlanError(f"no business day within {_MAX_SEARCH_DAYS} days of {day}")

    def release(self, day: date) -> date | None:
        """First business day on or after ``day`` that no pause covers (None: open-ended)."""
        for _ in range(_MAX_SEARCH_DAYS + len(self.pauses) + 1):
            day = self.business_day_from(day)
            covering = self.covering(day)
            if not covering:
                return day
            ends = [p.until for p in covering]
            if any(end is None for end in ends):
                return None
            day = max(end for end in ends if end is not None) + timedelta(days=1)
        raise ChasePlanError("pauses and holidays leave no business day to send on")

    def opening(self, day: date) -> datetime:
        return datetime.combine(day, self.window.start, tzinfo=self.zone).astimezone(UTC)

    def closing(self, day: date) -> datetime:
        return datetime.combine(day, self.window.end, tzinfo=self.zone).astimezone(UTC)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def first_window(self, now: datetime) -> tuple[date, bool]:
        """The business date of the current or next window, and whether ``now`` is inside it."""
        today = self.local_date(now)
        if self.window.is_business_day(today) and now < self.closing(today):
            return today, self.opening(today) <= now
        return self.business_day_from(today + timedelta(days=1)), False


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ChasePlanError(f"unknown time zone {name!r}") from exc


def _closed_reason(spec: ChaseSpec, facts: ChaseFacts) -> str | None:
    if not spec.enabled:
        return "chasing is disabled by policy"
    if facts.status not in COLLECTIBLE_STATUSES:
        return f"invoice is {facts.status}"
    if not facts.balance_is_positive:
        return "nothing is owed"
    return None


def _records(history: tuple[StepRecord, ...]) -> dict[str, StepRecord]:
    """One record per step: a send beats any other record, else the latest record wins."""
    chosen: dict[str, StepRecord] = {}
    for record in sorted(history, key=lambda r: r.at):
        current = chosen.get(record.step_key)
        if current is None or current.status != "sent":
            chosen[record.step_key] = record
    return chosen


_RECORD_STATE: dict[RecordStatus, StepState] = {
    "sent": "done",
    "skipped": "skipped",
    "failed": "failed",
}


@dataclass(slots=True)
class _Row:
    spec: StepSpec
    scheduled: date
    nominal: date
    effective: date | None


def _planned(row: _Row, state: StepState, reason: str, send_at: datetime | None) -> PlannedStep:
    s = row.spec
    return PlannedStep(
        step_key=s.key,
        kind=s.kind,
        template=s.template,
        channels=s.channels,
        to=s.to,
        cc_owner=s.cc_owner,
        offset_days=s.offset_days,
        scheduled_date=row.scheduled,
        send_date=row.effective,
        send_at=send_at,
        state=state,
        reason=reason,
    )


def _moves(row: _Row, cal: _Calendar) -> str:
    """Why a step's send date differs from its scheduled date, if it does."""
    parts: list[str] = []
    if row.nominal != row.scheduled:
        parts.append(f"moved from {row.scheduled.isoformat()} to the next business day")
    if row.effective != row.nominal:
        held = cal.covering(row.nominal)
        pauses = "; ".join(p.describe() for p in held) or "a pause"
        parts.append(f"held by {pauses}")
    return "; ".join(parts)


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _decide(
    arrived: list[_Row], on: date, catch_up: CatchUp
) -> tuple[list[_Row], list[tuple[_Row, str]]]:
    """Which arrived steps to send on ``on`` and which to skip (with reasons)."""
    skip: list[tuple[_Row, str]] = []
    kept: list[_Row] = []
    # Steps landing on the same day collapse to the latest: one message, the firmest tone.
    for row in arrived:
        same_day = [r for r in arrived if r.effective == row.effective]
        winner = same_day[-1]
        if winner is not row:
            held = " after a pause" if row.effective != row.nominal else ""
            skip.append(
                (row, f"superseded by {winner.spec.key}{held}: both fell on {row.effective}")
            )
        else:
            kept.append(row)
    current = [r for r in kept if r.effective == on]
    missed = [r for r in kept if r.effective is not None and r.effective < on]
    if catch_up == "all":
        return missed + current, skip
    if catch_up == "none":
        for row in missed:
            skip.append((row, f"missed its send date {row.effective}; catch-up 'none' skips it"))
        return current, skip
    send = current or missed[-1:]
    for row in missed:
        if row not in send:
            skip.append(
                (
                    row,
                    f"missed its send date {row.effective}; catch-up 'latest' sends only "
                    f"{send[-1].spec.key}",
                )
            )
    return send, skip


def plan_chase(spec: ChaseSpec, facts: ChaseFacts, now: datetime) -> ChasePlan:
    """The chase plan of one invoice at ``now`` (aware). See the module docstring for the rules."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ChasePlanError("now must be timezone-aware")
    now = now.astimezone(UTC)
    cal = _Calendar(spec.window, _zone(facts.client_timezone or spec.timezone), facts.pauses)
    records = _records(facts.history)
    rows = []
    for step in spec.steps:
        scheduled = facts.due_date + timedelta(days=step.offset_days)
        rows.append(_Row(step, scheduled, cal.business_day_from(scheduled), cal.release(scheduled)))

    planned: dict[str, PlannedStep] = {}
    pending: list[_Row] = []
    closed = _closed_reason(spec, facts)
    for row in rows:
        record = records.get(row.spec.key)
        if record is not None:
            reason = record.reason or f"{record.status} at {record.at.isoformat()}"
            planned[row.spec.key] = _planned(row, _RECORD_STATE[record.status], reason, record.at)
        elif closed is not None:
            planned[row.spec.key] = _planned(row, "skipped", f"not sent: {closed}", None)
        elif facts.issued_date is not None and row.scheduled < facts.issued_date:
            reason = f"scheduled for {row.scheduled}, before the invoice was issued"
            planned[row.spec.key] = _planned(row, "skipped", reason, None)
        else:
            pending.append(row)

    if closed is not None:
        return ChasePlan(
            invoice_number=facts.invoice_number,
            steps=tuple(planned[r.spec.key] for r in rows),
            due_now=(),
            to_skip_now=(),
            escalate_now=False,
            next_action_at=None,
            paused_by=(),
            closed_reason=closed,
        )

    first_day, in_window = cal.first_window(now)
    paused_by = cal.covering(first_day)
    opportunity_day = cal.release(first_day)
    acting_now = in_window and opportunity_day == first_day
    opportunity: datetime | None = None
    if opportunity_day is not None:
        opportunity = now if acting_now else cal.opening(opportunity_day)

    def action_at(row: _Row) -> datetime | None:
        if row.effective is None or opportunity is None:
            return None
        return max(cal.opening(row.effective), opportunity)

    send: list[_Row] = []
    skip: list[tuple[_Row, str]] = []
    if paused_by:
        pause_text = "paused: " + "; ".join(p.describe() for p in paused_by)
        for row in pending:
            if row.nominal <= first_day or row.effective is None:
                planned[row.spec.key] = _planned(row, "blocked", pause_text, action_at(row))
    elif opportunity_day is not None:
        arrived = [r for r in pending if r.effective is not None and r.effective <= opportunity_day]
        send, skip = _decide(arrived, opportunity_day, spec.catch_up)
        later = "" if acting_now else f"at the window opening {opportunity}"
        for row, reason in skip:
            planned[row.spec.key] = _planned(row, "skipped", _join(reason, later), None)
        for row in send:
            reason = _moves(row, cal)
            if row.effective is not None and row.effective < opportunity_day:
                reason = (
                    f"missed its send date {row.effective}; catch-up '{spec.catch_up}' sends it"
                )
            if acting_now:
                planned[row.spec.key] = _planned(row, "due", reason, now)
            else:
                planned[row.spec.key] = _planned(
                    row, "scheduled", _join(reason, later), opportunity
                )
    for row in pending:
        if row.spec.key in planned:
            continue
        at = action_at(row)
        if at is None:
            held = cal.covering(row.nominal) or tuple(p for p in facts.pauses if p.until is None)
            text = "paused: " + "; ".join(p.describe() for p in held)
            planned[row.spec.key] = _planned(row, "blocked", text, None)
        else:
            planned[row.spec.key] = _planned(row, "scheduled", _moves(row, cal), at)

    due_now = tuple(planned[r.spec.key] for r in send) if acting_now else ()
    skipped_keys = {r.spec.key for r, _ in skip}
    to_skip_now = (
        tuple(planned[r.spec.key] for r in rows if r.spec.key in skipped_keys) if acting_now else ()
    )
    next_action: datetime | None
    if due_now or to_skip_now:
        next_action = now
    else:
        # Every pending step needs one more decision (a send or a logged skip).
        next_action = min((at for r in pending if (at := action_at(r)) is not None), default=None)
    return ChasePlan(
        invoice_number=facts.invoice_number,
        steps=tuple(planned[r.spec.key] for r in rows),
        due_now=due_now,
        to_skip_now=to_skip_now,
        escalate_now=not facts.escalated and any(s.kind == "escalate" for s in due_now),
        next_action_at=next_action,
        paused_by=paused_by,
        closed_reason=None,
    )


def next_action_at(spec: ChaseSpec, facts: ChaseFacts, now: datetime) -> datetime | None:
    """When the runner should look at this invoice again (the indexed ``next_action_at``).

    ``now`` when something is due or to be skipped now; otherwise a future window opening; None
    when nothing will happen without a new event (paid, disabled, all steps done, open-ended
    pause).
    """
    return plan_chase(spec, facts, now).next_action_at


def reason_not_to_send(spec: ChaseSpec, facts: ChaseFacts, now: datetime) -> str | None:
    """The re-check just before a queued chase message goes out, with fresh facts.

    Returns why it must not go (the invoice is paid, void, settled or no longer chased, or a
    pause covers today's date in the client's zone), or None when it may go. It ignores the
    step's own record and the send window: the decision to send was taken in the window, and
    the outbox may deliver a little later.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ChasePlanError("now must be timezone-aware")
    closed = _closed_reason(spec, facts)
    if closed is not None:
        return closed
    today = now.astimezone(_zone(facts.client_timezone or spec.timezone)).date()
    covering = [p for p in facts.pauses if p.covers(today)]
    if covering:
        return "paused: " + "; ".join(p.describe() for p in covering)
    return None
