"""Recurring billing as a pure computation: subscriptions, their exceptions, their cycles.

A :class:`Subscription` bills its lines on the dates of a :class:`Recurrence` (a dateutil
``rrule``). Exceptions are records, never edits of the subscription: a pause, a skipped cycle,
a one-off custom amount or extra line for one cycle, a plan change from a date. From these,
:func:`cycles_until` computes every cycle up to a date and :func:`due_cycles` the ones to bill
on ``today``. Nothing here reads a clock or stores anything: the caller passes ``today`` and
turns each due cycle into a trigger with source ``"schedule"`` and external id
``subscription:<id>:<cycle date>``, so a cycle is billed exactly once however often the
scheduler runs.

Rules (each one pinned by ``tests/unit/test_recurrence.py``):

- **Billing in advance.** A cycle dated D bills the period [D, next cycle date).
- **Start and end.** The first cycle is the first recurrence date on or after ``start_date``
  (days before it are not billed). ``end_date`` is exclusive: the subscription ends at the start
  of that day, so no cycle is dated on or after it. The last cycle bills its full period.
- **Day of month.** ``day_of_month`` 29, 30 or 31 falls back to the last day of shorter months
  (31 → 28/29 Feb, 30 Apr); the month after, the cycle is back on the chosen day. A yearly
  schedule started on 29 Feb bills on 28 Feb in common years.
- **max_cycles counts schedule dates, not invoices.** Skipped and paused cycles use up a cycle:
  ``max_cycles`` is the length of the contract (12 monthly cycles = one year), and a pause or a
  skip never extends it. It also keeps the set of cycle dates — hence every trigger id —
  independent of the exceptions recorded later. To extend a contract, raise ``max_cycles``.
- **Pause.** Cycles dated in [from_date, resume_date) are ``paused`` and never billed, then or
  later (no back-billing). A cycle billed before the pause is not refunded. When the resume
  date is not a cycle date, billing restarts at the next cycle date; the days in between are
  not billed. ``resume_date=None`` pauses until the record is replaced.
- **Exceptions for one cycle** (skip, one-off amount, extra line) must name a cycle date of the
  schedule; a skip cannot be combined with a one-off or an extra line for the same cycle, and
  none of them may fall inside a pause. Conflicts raise :class:`InvalidSchedule` with the
  records involved, so a bad record is refused when it is recorded (:func:`check_exceptions`).
- **Plan change.** New lines apply to cycles dated on or after ``effective_date``. With
  proration ``"none"`` that is all. With ``"daily"``, when the change falls strictly inside a
  billed period, the next billed cycle also carries, per VAT group (category, rate),
  ``(new net − old net) × days on the new plan ÷ days in the period``, rounded half-up to the
  currency's minor unit. "Old" is the plan in force at the period's start (a one-off amount
  billed for that period is ignored). A positive amount becomes a normal line
  ``Plan change adjustment (15 Oct – 31 Oct)``. A negative amount (a downgrade) cannot be an
  invoice line — lines are never negative here — so it is carried on the cycle as a
  :class:`CreditAdjustment` for the caller to issue as a credit note. No adjustment is made
  for a period that was skipped or paused (nothing was billed for it). If the cycle after the
  period is not billed, the adjustment moves to the next billed cycle.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import ClassVar, Literal, get_args

from dateutil.rrule import MONTHLY, WEEKLY, rrule

from billing.errors import BillingError, InvalidLine, InvalidMoney
from billing.invoice import LineInput, Totals, compute_line, compute_totals
from billing.money import Money, check_currency, round_amount
from billing.tax import TaxCategory

TRIGGER_SOURCE = "schedule"
"""The trigger source of every cycle; the external id is :attr:`Cycle.trigger_external_id`."""

Frequency = Literal["weekly", "monthly", "quarterly", "yearly"]
Proration = Literal["none", "daily"]
BillingTiming = Literal["advance"]
CycleStatus = Literal["bill", "skipped", "paused"]

_MONTHS_PER_STEP = {"monthly": 1, "quarterly": 3, "yearly": 12}
_MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class InvalidSchedule(BillingError):
    """A subscription, recurrence or schedule exception that cannot be billed as given."""

    code = "invalid_schedule"


@dataclass(frozen=True, slots=True)
class Recurrence:
    """When cycles fall: every ``interval`` weeks/months/quarters/years.

    ``day_of_month`` (1–31, month-based frequencies) defaults to the start date's day; 29–31
    fall back to the last day of shorter months. ``weekday`` (0 = Monday … 6 = Sunday, weekly
    only) defaults to the start date's weekday. Quarterly and yearly schedules count their
    months from the start date's month.
    """

    frequency: Frequency
    interval: int = 1
    day_of_month: int | None = None
    weekday: int | None = None

    def __post_init__(self) -> None:
        if self.frequency not in get_args(Frequency):
            raise InvalidSchedule(
                f"unknown frequency {self.frequency!r} (one of {', '.join(get_args(Frequency))})"
            )
        if isinstance(self.interval, bool) or not isinstance(self.interval, int):
            raise InvalidSchedule(f"interval must be a whole number (got {self.interval!r})")
        if self.interval < 1:
            raise InvalidSchedule(f"interval must be at least 1 (got {self.interval})")
        if self.frequency == "weekly":
            if self.day_of_month is not None:
                raise InvalidSchedule("a weekly schedule takes a weekday, not a day_of_month")
            if self.weekday is not None and not 0 <= self.weekday <= 6:
                raise InvalidSchedule(
                    f"weekday must be 0 (Monday) to 6 (Sunday) (got {self.weekday})"
                )
        else:
            if self.weekday is not None:
                raise InvalidSchedule(
                    f"a {self.frequency} schedule takes a day_of_month, not a weekday"
                )
            if self.day_of_month is not None and not 1 <= self.day_of_month <= 31:
                raise InvalidSchedule(
                    f"day_of_month must be 1 to 31 (got {self.day_of_month}); "
                    "31 means the last day of every month"
                )

    def rule(self, start: date) -> rrule:
        """The dateutil rule of this recurrence anchored at ``start`` (UTC midnights)."""
        dtstart = datetime(start.year, start.month, start.day, tzinfo=UTC)
        if self.frequency == "weekly":
            weekday = start.weekday() if self.weekday is None else self.weekday
            return rrule(WEEKLY, dtstart=dtstart, interval=self.interval, byweekday=weekday)
        day = start.day if self.day_of_month is None else self.day_of_month
        months = _MONTHS_PER_STEP[self.frequency] * self.interval
        if day <= 28:
            return rrule(MONTHLY, dtstart=dtstart, interval=months, bymonthday=day)
        # The first of {day, last day} in each month: the chosen day, or the month's end
        # when the month is shorter (dateutil's own rule would skip those months).
        return rrule(MONTHLY, dtstart=dtstart, interval=months, bymonthday=(day, -1), bysetpos=1)

    def describe(self, start: date) -> str:
        """A short English description, e.g. ``monthly on day 31`` (for error messages)."""
        if self.frequency == "weekly":
            weekday = start.weekday() if self.weekday is None else self.weekday
            every = "weekly" if self.interval == 1 else f"every {self.interval} weeks"
            return f"{every} on {_WEEKDAYS[weekday]}"
        day = start.day if self.day_of_month is None else self.day_of_month
        every = self.frequency
        if self.interval > 1:
            every = f"every {self.interval} × {self.frequency}"
        return f"{every} on day {day}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscription:
    """A billing schedule for one client: lines billed in advance on each cycle date."""

    id: str
    client_id: str
    currency: str
    lines: tuple[LineInput, ...]
    recurrence: Recurrence
    start_date: date
    end_date: date | None = None
    max_cycles: int | None = None
    proration: Proration = "none"
    billing: BillingTiming = "advance"

    def __post_init__(self) -> None:
        if not self.id.strip():
            raise InvalidSchedule("a subscription needs an id")
        if not self.client_id.strip():
            raise InvalidSchedule(f"subscription {self.id}: a client_id is required")
        try:
            object.__setattr__(self, "currency", check_currency(self.currency))
        except InvalidMoney as exc:
            raise InvalidSchedule(f"subscription {self.id}: {exc.message}") from None
        object.__setattr__(self, "lines", tuple(self.lines))
        if not self.lines:
            raise InvalidSchedule(f"subscription {self.id}: at least one line is required")
        _check_lines(self.lines, self.currency, f"subscription {self.id}")
        if self.end_date is not None and self.end_date <= self.start_date:
            raise InvalidSchedule(
                f"subscription {self.id}: end_date {self.end_date} must be after "
                f"start_date {self.start_date} (the subscription ends at the start of end_date)"
            )
        if self.max_cycles is not None and self.max_cycles < 1:
            raise InvalidSchedule(
                f"subscription {self.id}: max_cycles must be at least 1 (got {self.max_cycles})"
            )
        if self.proration not in get_args(Proration):
            raise InvalidSchedule(
                f"subscription {self.id}: proration must be 'none' or 'daily' "
                f"(got {self.proration!r})"
            )
        if self.billing not in get_args(BillingTiming):
            raise InvalidSchedule(
                f"subscription {self.id}: only billing 'advance' is supported "
                f"(got {self.billing!r})"
            )

    def trigger_external_id(self, cycle_date: date) -> str:
        """The idempotency key of the cycle dated ``cycle_date`` (source ``"schedule"``)."""
        return f"subscription:{self.id}:{cycle_date.isoformat()}"


@dataclass(frozen=True, slots=True, kw_only=True)
class _ScheduleRecord:
    """Fields every schedule exception carries: who recorded it, when, and why."""

    id: str
    subscription_id: str
    created_at: datetime
    created_by: str
    note: str = ""

    def __post_init__(self) -> None:
        if not self.id.strip():
            raise InvalidSchedule("a schedule exception needs an id")
        if self.created_at.tzinfo is None:
            raise InvalidSchedule(f"exception {self.id}: created_at must be timezone-aware")

    kind: ClassVar[str] = "exception"

    @property
    def label(self) -> str:
        """``kind id`` and the note, for reasons and error messages."""
        return f"{self.kind} {self.id}" + (f": {self.note}" if self.note else "")


@dataclass(frozen=True, slots=True, kw_only=True)
class PauseException(_ScheduleRecord):
    """No cycle dated in [from_date, resume_date) is billed, then or later."""

    kind: ClassVar[str] = "pause"
    from_date: date
    resume_date: date | None

    def __post_init__(self) -> None:
        _ScheduleRecord.__post_init__(self)
        if self.resume_date is not None and self.resume_date <= self.from_date:
            raise InvalidSchedule(
                f"pause {self.id}: resume_date {self.resume_date} must be after "
                f"from_date {self.from_date}"
            )

    def covers(self, day: date) -> bool:
        """True when a cycle dated ``day`` falls inside the pause."""
        return self.from_date <= day and (self.resume_date is None or day < self.resume_date)


@dataclass(frozen=True, slots=True, kw_only=True)
class SkipException(_ScheduleRecord):
    """The cycle dated ``cycle_date`` is not billed."""

    kind: ClassVar[str] = "skip"
    cycle_date: date


@dataclass(frozen=True, slots=True, kw_only=True)
class OneOffAmount(_ScheduleRecord):
    """For the cycle dated ``cycle_date`` only, ``lines`` replace the plan's lines."""

    kind: ClassVar[str] = "one-off amount"
    cycle_date: date
    lines: tuple[LineInput, ...]

    def __post_init__(self) -> None:
        _ScheduleRecord.__post_init__(self)
        object.__setattr__(self, "lines", tuple(self.lines))
        if not self.lines:
            raise InvalidSchedule(
                f"one-off amount {self.id}: at least one line is required (to bill nothing "
                "for the cycle, record a skip)"
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtraLine(_ScheduleRecord):
    """For the cycle dated ``cycle_date`` only, ``line`` is billed after the normal lines."""

    kind: ClassVar[str] = "extra line"
    cycle_date: date
    line: LineInput


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanChange(_ScheduleRecord):
    """From ``effective_date`` on, ``new_lines`` replace the subscription's lines."""

    kind: ClassVar[str] = "plan change"
    effective_date: date
    new_lines: tuple[LineInput, ...]

    def __post_init__(self) -> None:
        _ScheduleRecord.__post_init__(self)
        object.__setattr__(self, "new_lines", tuple(self.new_lines))
        if not self.new_lines:
            raise InvalidSchedule(
                f"plan change {self.id}: at least one line is required (to stop billing, "
                "set the subscription's end_date)"
            )


ScheduleException = PauseException | SkipException | OneOffAmount | ExtraLine | PlanChange
"""Any of the records that change what a subscription bills."""


@dataclass(frozen=True, slots=True)
class CreditAdjustment:
    """Money owed back to the client after a mid-period downgrade, to issue as a credit note.

    ``amount`` is the positive net amount to credit; VAT applies at ``vat_rate`` like the line
    it corrects. :meth:`as_line` gives the credit-note line.
    """

    amount: Money
    description: str
    tax_category: TaxCategory
    vat_rate: Decimal
    exemption_reason: str | None = None

    def as_line(self) -> LineInput:
        """The credit note line: quantity 1 at the credited net amount."""
        return LineInput(
            description=self.description,
            quantity=Decimal(1),
            unit_price=self.amount.amount,
            vat_rate=self.vat_rate,
            tax_category=self.tax_category,
            exemption_reason=self.exemption_reason,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Cycle:
    """One cycle of a subscription: its date, the period it bills, and what it bills.

    ``period_end`` is exclusive. Skipped and paused cycles carry no lines. The trigger for a
    billed cycle is ``(TRIGGER_SOURCE, trigger_external_id)``.
    """

    subscription_id: str
    currency: str
    cycle_date: date
    period_start: date
    period_end: date
    lines: tuple[LineInput, ...]
    status: CycleStatus
    reason: str
    credits: tuple[CreditAdjustment, ...] = ()
    trigger_external_id: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "trigger_external_id",
            f"subscription:{self.subscription_id}:{self.cycle_date.isoformat()}",
        )

    @property
    def trigger_source(self) -> str:
        """Always ``"schedule"``."""
        return TRIGGER_SOURCE

    @property
    def is_billed(self) -> bool:
        """True for a cycle that issues an invoice."""
        return self.status == "bill"

    def totals(self) -> Totals:
        """The invoice totals these lines make (zero for a skipped or paused cycle)."""
        lines = [compute_line(i, item, self.currency) for i, item in enumerate(self.lines, 1)]
        return compute_totals(lines, self.currency)[1]


# --- schedule -----------------------------------------------------------------------------


def _schedule(subscription: Subscription) -> Iterator[tuple[date, date]]:
    """(cycle date, natural next cycle date) pairs, honouring end_date and max_cycles."""
    rule = subscription.recurrence.rule(subscription.start_date)
    occurrences = (moment.date() for moment in rule)
    current = next(occurrences, None)
    count = 0
    while current is not None:
        if subscription.end_date is not None and current >= subscription.end_date:
            return
        if subscription.max_cycles is not None and count >= subscription.max_cycles:
            return
        following = next(occurrences, None)
        if following is None:  # dateutil stops at year 9999; a period needs an end
            return
        yield current, following
        count += 1
        current = following


def _until(subscription: Subscription, last: date) -> Iterator[tuple[date, date]]:
    for pair in _schedule(subscription):
        if pair[0] > last:
            return
        yield pair


# --- exceptions ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Index:
    pauses: tuple[PauseException, ...]
    skips: dict[date, SkipException]
    one_offs: dict[date, OneOffAmount]
    extras: dict[date, list[ExtraLine]]
    changes: tuple[PlanChange, ...]  # sorted by effective date

    def plan_at(
        self, subscription: Subscription, day: date
    ) -> tuple[tuple[LineInput, ...], PlanChange | None]:
        """The lines in force on ``day`` and the plan change that set them (None: the original)."""
        lines, source = subscription.lines, None
        for change in self.changes:
            if change.effective_date > day:
                break
            lines, source = change.new_lines, change
        return lines, source

    def pause_at(self, day: date) -> PauseException | None:
        return next((p for p in self.pauses if p.covers(day)), None)


def check_exceptions(subscription: Subscription, exceptions: Iterable[ScheduleException]) -> None:
    """Raise :class:`InvalidSchedule` when the exceptions do not fit the subscription.

    Call it with the stored exceptions plus a new one before recording the new one; the same
    checks run inside :func:`cycles_until`.
    """
    _index(subscription, exceptions)


def _index(subscription: Subscription, exceptions: Iterable[ScheduleException]) -> _Index:
    records = sorted(exceptions, key=lambda e: (e.created_at, e.id))
    seen_ids: set[str] = set()
    pauses: list[PauseException] = []
    skips: dict[date, SkipException] = {}
    one_offs: dict[date, OneOffAmount] = {}
    extras: dict[date, list[ExtraLine]] = {}
    changes: dict[date, PlanChange] = {}
    targeted: list[tuple[str, date]] = []
    sub = subscription
    for record in records:
        if record.subscription_id != sub.id:
            raise InvalidSchedule(
                f"exception {record.id} belongs to subscription {record.subscription_id}, "
                f"not {sub.id}"
            )
        if record.id in seen_ids:
            raise InvalidSchedule(f"exception id {record.id} is used twice")
        seen_ids.add(record.id)
        if isinstance(record, PauseException):
            pauses.append(record)
        elif isinstance(record, SkipException):
            if record.cycle_date in skips:
                raise InvalidSchedule(
                    f"cycle {record.cycle_date} is already skipped by {skips[record.cycle_date].id}"
                    f" (skip {record.id} repeats it)"
                )
            skips[record.cycle_date] = record
            targeted.append((f"skip {record.id}", record.cycle_date))
        elif isinstance(record, OneOffAmount):
            if record.cycle_date in one_offs:
                raise InvalidSchedule(
                    f"cycle {record.cycle_date} already has the custom amount "
                    f"{one_offs[record.cycle_date].id}; one-off amount {record.id} conflicts"
                )
            _check_lines(record.lines, sub.currency, f"one-off amount {record.id}")
            one_offs[record.cycle_date] = record
            targeted.append((f"one-off amount {record.id}", record.cycle_date))
        elif isinstance(record, ExtraLine):
            _check_lines((record.line,), sub.currency, f"extra line {record.id}")
            extras.setdefault(record.cycle_date, []).append(record)
            targeted.append((f"extra line {record.id}", record.cycle_date))
        else:
            if record.effective_date < sub.start_date:
                raise InvalidSchedule(
                    f"plan change {record.id}: effective date {record.effective_date} is before "
                    f"the subscription starts ({sub.start_date})"
                )
            if sub.end_date is not None and record.effective_date >= sub.end_date:
                raise InvalidSchedule(
                    f"plan change {record.id}: effective date {record.effective_date} is not "
                    f"before the subscription's end ({sub.end_date})"
                )
            if record.effective_date in changes:
                raise InvalidSchedule(
                    f"plan change {record.id}: plan change {changes[record.effective_date].id} "
                    f"already takes effect on {record.effective_date}"
                )
            _check_lines(record.new_lines, sub.currency, f"plan change {record.id}")
            changes[record.effective_date] = record
    if targeted:
        last = max(day for _label, day in targeted)
        dates = {cycle_date for cycle_date, _next in _until(sub, last)}
        for label, day in targeted:
            if day not in dates:
                raise InvalidSchedule(_not_a_cycle_date(sub, label, day))
    for day, skip in skips.items():
        if day in one_offs:
            raise InvalidSchedule(
                f"cycle {day} is skipped ({skip.id}) and has a custom amount "
                f"({one_offs[day].id}); remove one of them"
            )
        if day in extras:
            raise InvalidSchedule(
                f"cycle {day} is skipped ({skip.id}) and has an extra line "
                f"({extras[day][0].id}); remove one of them"
            )
    for label, day in targeted:
        pause = next((p for p in pauses if p.covers(day)), None)
        if pause is not None:
            raise InvalidSchedule(
                f"{label}: cycle {day} is inside pause {pause.id} "
                f"({_pause_span(pause)}); paused cycles are never billed"
            )
    return _Index(
        pauses=tuple(pauses),
        skips=skips,
        one_offs=one_offs,
        extras=extras,
        changes=tuple(changes[day] for day in sorted(changes)),
    )


def _not_a_cycle_date(subscription: Subscription, label: str, day: date) -> str:
    message = (
        f"{label}: {day} is not a cycle date of subscription {subscription.id} "
        f"({subscription.recurrence.describe(subscription.start_date)}, "
        f"from {subscription.start_date}"
    )
    if subscription.end_date is not None:
        message += f", ending {subscription.end_date}"
    if subscription.max_cycles is not None:
        message += f", {subscription.max_cycles} cycles"
    message += ")"
    before = [d for d, _n in _until(subscription, day)]
    after = next((d for d, _n in _schedule(subscription) if d > day), None)
    near = [f"{before[-1]}" if before else None, f"{after}" if after else None]
    shown = [n for n in near if n]
    if shown:
        message += "; nearest cycle dates: " + ", ".join(shown)
    return message


def _check_lines(lines: Sequence[LineInput], currency: str, owner: str) -> None:
    for position, line in enumerate(lines, 1):
        try:
            compute_line(position, line, currency)
        except InvalidLine as exc:
            raise InvalidSchedule(f"{owner}: {exc.message}") from None


def _pause_span(pause: PauseException) -> str:
    until = f"until {pause.resume_date}" if pause.resume_date else "with no resume date"
    return f"from {pause.from_date} {until}"


# --- proration ----------------------------------------------------------------------------

_TaxKey = tuple[TaxCategory, Decimal, str | None]


def _net_by_tax(lines: Sequence[LineInput], currency: str) -> dict[_TaxKey, Decimal]:
    totals: dict[_TaxKey, Decimal] = {}
    for position, item in enumerate(lines, 1):
        # Decimal("20") and Decimal("20.00") are equal and hash alike, so they share a group.
        key = (item.tax_category, item.vat_rate, item.exemption_reason)
        net = compute_line(position, item, currency).net_amount
        totals[key] = totals.get(key, Decimal(0)) + net
    return totals


def _span(first: date, last: date) -> str:
    def day_month(day: date) -> str:
        return f"{day.day} {_MONTH_ABBR[day.month - 1]}"

    if first.year == last.year:
        return f"{day_month(first)} – {day_month(last)}"
    return f"{day_month(first)} {first.year} – {day_month(last)} {last.year}"


def _tax_suffix(key: _TaxKey) -> str:
    category, rate, _reason = key
    if category.needs_positive_rate:
        return f", VAT {format(rate.normalize(), 'f')}%"
    return f", {category.value.replace('_', ' ')}"


def _proration(
    subscription: Subscription, index: _Index, period_start: date, period_end: date
) -> tuple[list[LineInput], list[CreditAdjustment]]:
    """Adjustments for plan changes that took effect strictly inside a billed period."""
    inside = [c for c in index.changes if period_start < c.effective_date < period_end]
    if not inside:
        return [], []
    currency = subscription.currency
    old_lines, _source = index.plan_at(subscription, period_start)
    old = _net_by_tax(old_lines, currency)
    days_in_period = Decimal((period_end - period_start).days)
    exact: dict[_TaxKey, Decimal] = {}
    ends = [c.effective_date for c in inside[1:]] + [period_end]
    for change, segment_end in zip(inside, ends, strict=True):
        days = Decimal((segment_end - change.effective_date).days)
        new = _net_by_tax(change.new_lines, currency)
        for key in [*new, *(k for k in old if k not in new)]:
            diff = new.get(key, Decimal(0)) - old.get(key, Decimal(0))
            exact[key] = exact.get(key, Decimal(0)) + diff * days / days_in_period
    span = _span(inside[0].effective_date, period_end - timedelta(days=1))
    charges: list[LineInput] = []
    credits: list[CreditAdjustment] = []
    for key, amount in exact.items():
        rounded = round_amount(amount, currency)
        if rounded == 0:
            continue
        category, rate, reason = key
        suffix = _tax_suffix(key) if len(exact) > 1 else ""
        if rounded > 0:
            charges.append(
                LineInput(
                    description=f"Plan change adjustment ({span}){suffix}",
                    quantity=Decimal(1),
                    unit_price=rounded,
                    vat_rate=rate,
                    tax_category=category,
                    exemption_reason=reason,
                )
            )
        else:
            credits.append(
                CreditAdjustment(
                    amount=Money(-rounded, currency),
                    description=f"Plan change credit ({span}){suffix}",
                    tax_category=category,
                    vat_rate=rate,
                    exemption_reason=reason,
                )
            )
    return charges, credits


# --- cycles -------------------------------------------------------------------------------


def _walk(subscription: Subscription, exceptions: Iterable[ScheduleException]) -> Iterator[Cycle]:
    index = _index(subscription, exceptions)
    pending_lines: list[LineInput] = []
    pending_credits: list[CreditAdjustment] = []
    previous: Cycle | None = None
    for cycle_date, next_date in _schedule(subscription):
        if subscription.proration == "daily" and previous is not None and previous.is_billed:
            charges, credits = _proration(
                subscription, index, previous.period_start, previous.period_end
            )
            pending_lines += charges
            pending_credits += credits
        cycle = _cycle(subscription, index, cycle_date, next_date, pending_lines, pending_credits)
        if cycle.is_billed:
            pending_lines, pending_credits = [], []
        previous = cycle
        yield cycle


def _cycle(
    subscription: Subscription,
    index: _Index,
    cycle_date: date,
    next_date: date,
    adjustments: list[LineInput],
    credits: list[CreditAdjustment],
) -> Cycle:
    def make(
        status: CycleStatus,
        lines: tuple[LineInput, ...],
        reason: str,
        carried: tuple[CreditAdjustment, ...] = (),
    ) -> Cycle:
        return Cycle(
            subscription_id=subscription.id,
            currency=subscription.currency,
            cycle_date=cycle_date,
            period_start=cycle_date,
            period_end=next_date,
            lines=lines,
            status=status,
            reason=reason,
            credits=carried,
        )

    pause = index.pause_at(cycle_date)
    if pause is not None:
        return make("paused", (), f"paused {_pause_span(pause)} ({pause.label})")
    skip = index.skips.get(cycle_date)
    if skip is not None:
        return make("skipped", (), f"skipped ({skip.label})")
    plan_lines, change = index.plan_at(subscription, cycle_date)
    reasons = [
        "scheduled" if change is None else f"plan from {change.effective_date} ({change.label})"
    ]
    lines = list(plan_lines)
    one_off = index.one_offs.get(cycle_date)
    if one_off is not None:
        lines = list(one_off.lines)
        reasons.append(f"custom amount ({one_off.label})")
    for extra in index.extras.get(cycle_date, []):
        lines.append(extra.line)
        reasons.append(f"extra line ({extra.label})")
    if adjustments:
        lines += adjustments
        reasons.append("plan change adjustment")
    if credits:
        reasons.append("plan change credit")
    return make("bill", tuple(lines), "; ".join(reasons), tuple(credits))


def cycles_until(
    subscription: Subscription, exceptions: Iterable[ScheduleException], until: date
) -> list[Cycle]:
    """Every cycle dated from the start up to ``until`` inclusive, billed or not.

    Raises :class:`InvalidSchedule` when an exception does not fit the schedule.
    """
    cycles: list[Cycle] = []
    for cycle in _walk(subscription, exceptions):
        if cycle.cycle_date > until:
            break
        cycles.append(cycle)
    return cycles


def due_cycles(
    subscription: Subscription,
    exceptions: Iterable[ScheduleException],
    today: date,
    *,
    since: date | None = None,
) -> list[Cycle]:
    """The cycles to bill on ``today``: status ``"bill"`` and dated on or before ``today``.

    Already-billed cycles are returned again on every run; the trigger id makes billing them
    idempotent. ``since`` limits the look-back (cycles dated before it are left out).
    """
    return [
        cycle
        for cycle in cycles_until(subscription, exceptions, today)
        if cycle.is_billed and (since is None or cycle.cycle_date >= since)
    ]


def next_cycle_date(
    subscription: Subscription, exceptions: Iterable[ScheduleException], today: date
) -> date | None:
    """The first date after ``today`` on which a cycle bills, or None when none ever will."""
    index = _index(subscription, exceptions)
    # Pauses with a resume date and skips are finite, so past them the first cycle bills; only
    # a pause with no resume date stops billing for good.
    open_pause = min((p.from_date for p in index.pauses if p.resume_date is None), default=None)
    for cycle_date, _next in _schedule(subscription):
        if cycle_date <= today:
            continue
        if open_pause is not None and cycle_date >= open_pause:
            return None
        if index.pause_at(cycle_date) is None and cycle_date not in index.skips:
            return cycle_date
    return None
