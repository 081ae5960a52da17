"""Recurring billing: turn due subscription cycles into ``schedule`` triggers.

A cycle's trigger id is ``subscription:<id>:<cycle date>``, so however often the scheduler
runs (cron every minute, several machines) each cycle is billed exactly once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from billing.errors import BillingError
from billing.records import Trigger
from billing.recurrence import (
    TRIGGER_SOURCE,
    ExtraLine,
    OneOffAmount,
    PauseException,
    PlanChange,
    Recurrence,
    ScheduleException,
    SkipException,
    Subscription,
    check_exceptions,
    due_cycles,
)
from tools.clock import Clock, business_date
from tools.errors import ImportFormatError
from tools.importing import parse_lines
from tools.issuing import IssueHook, issue_credit_note, issue_invoice
from tools.ports import LedgerFactory


@dataclass
class RecurringReport:
    """What a scheduler pass billed."""

    issued: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    credit_notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _d(value: Any, where: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ImportFormatError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from None


def subscription_from_spec(spec: Mapping[str, Any]) -> Subscription:
    """Build a Subscription from its stored/imported JSON."""
    where = f"subscription {spec.get('id')!r}"
    rec = spec.get("recurrence") or {}
    return Subscription(
        id=str(spec["id"]),
        client_id=str(spec["client"]),
        currency=str(spec["currency"]),
        lines=parse_lines(spec.get("lines"), f"{where}.lines"),
        recurrence=Recurrence(
            frequency=rec.get("frequency", "monthly"),
            interval=int(rec.get("interval", 1)),
            day_of_month=rec.get("day_of_month"),
            weekday=rec.get("weekday"),
        ),
        start_date=_d(spec["start_date"], f"{where}.start_date"),
        end_date=_d(spec["end_date"], f"{where}.end_date") if spec.get("end_date") else None,
        max_cycles=spec.get("max_cycles"),
        proration=spec.get("proration", "none"),
    )


def exception_from_row(
    sub_id: str,
    exc_id: str,
    kind: str,
    data: Mapping[str, Any],
    created_at: datetime,
    created_by: str,
) -> ScheduleException:
    """Build a schedule exception from its stored JSON."""
    common: dict[str, Any] = {
        "id": exc_id,
        "subscription_id": sub_id,
        "created_at": created_at,
        "created_by": created_by,
        "note": str(data.get("note", "")),
    }
    where = f"exception {exc_id!r}"
    if kind == "pause":
        resume = data.get("resume_date")
        return PauseException(
            **common,
            from_date=_d(data["from_date"], where),
            resume_date=_d(resume, where) if resume else None,
        )
    if kind == "skip":
        return SkipException(**common, cycle_date=_d(data["cycle_date"], where))
    if kind == "one_off":
        return OneOffAmount(
            **common,
            cycle_date=_d(data["cycle_date"], where),
            lines=parse_lines(data.get("lines"), f"{where}.lines"),
        )
    if kind == "extra_line":
        return ExtraLine(
            **common,
            cycle_date=_d(data["cycle_date"], where),
            line=parse_lines([data.get("line")], f"{where}.line")[0],
        )
    if kind == "plan_change":
        return PlanChange(
            **common,
            effective_date=_d(data["effective_date"], where),
            new_lines=parse_lines(data.get("new_lines"), f"{where}.new_lines"),
        )
    raise ImportFormatError(
        f"{where}: unknown kind {kind!r} (pause, skip, one_off, extra_line, plan_change)"
    )


def save_subscription(
    ledgers: LedgerFactory, spec: Mapping[str, Any], *, clock: Clock, actor: str = "import"
) -> bool:
    """Validate and store a subscription with its exceptions (idempotent)."""
    sub = subscription_from_spec(spec)
    now = clock.now()
    exceptions = [
        exception_from_row(sub.id, str(e["id"]), str(e["kind"]), e, now, actor)
        for e in spec.get("exceptions", [])
    ]
    check_exceptions(sub, exceptions)
    with ledgers() as ledger:
        ledger.client(sub.client_id)
        body = {k: v for k, v in spec.items() if k != "exceptions"}
        changed = ledger.save_subscription(sub.id, sub.client_id, sub.currency, body, now)
        for e in spec.get("exceptions", []):
            data = {k: v for k, v in e.items() if k not in ("id", "kind")}
            changed |= ledger.add_subscription_exception(
                str(e["id"]), sub.id, str(e["kind"]), data, actor, now
            )
    return changed


def import_subscriptions(ledgers: LedgerFactory, data: Mapping[str, Any], *, clock: Clock) -> int:
    """Store the ``subscriptions`` of an import file; returns how many changed."""
    specs = data.get("subscriptions") or []
    if not isinstance(specs, list):
        raise ImportFormatError("subscriptions: expected a list")
    return sum(int(save_subscription(ledgers, spec, clock=clock)) for spec in specs)


def run_subscriptions(
    ledgers: LedgerFactory,
    clock: Clock,
    *,
    on_issued: Sequence[IssueHook] = (),
) -> RecurringReport:
    """Bill every due cycle of every active subscription (safe to run any number of times)."""
    report = RecurringReport()
    now = clock.now()
    with ledgers() as ledger:
        today = business_date(now, ledger.company().timezone)
        subs = ledger.subscriptions()
        loaded = []
        for sub_id, _client, _cur, spec, last in subs:
            rows = ledger.subscription_exceptions(sub_id)
            loaded.append((spec, last, rows))
    for spec, last, rows in loaded:
        try:
            _bill_due_cycles(ledgers, clock, spec, last, rows, today, on_issued, report)
        except BillingError as exc:
            # One subscription that cannot be billed (bad lines, a client without a VAT id …)
            # must not stop the others, nor the chase and deliveries that run after it. Its
            # cursor stays before the failed cycle, so the next run tries that cycle again.
            report.errors.append(f"subscription {spec.get('id')}: {exc.code}: {exc.message}")
    return report


def _bill_due_cycles(
    ledgers: LedgerFactory,
    clock: Clock,
    spec: Mapping[str, Any],
    last: date | None,
    rows: Sequence[tuple[str, str, dict[str, Any], datetime, str]],
    today: date,
    on_issued: Sequence[IssueHook],
    report: RecurringReport,
) -> None:
    sub = subscription_from_spec(spec)
    exceptions = [exception_from_row(sub.id, i, k, d, at, by) for i, k, d, at, by in rows]
    # Cycles up to the cursor are billed: submitting them again at every run would only log
    # a duplicate trigger on their invoice each time.
    since = last + timedelta(days=1) if last is not None else None
    for cycle in due_cycles(sub, exceptions, today, since=since):
        trigger = Trigger(
            source=TRIGGER_SOURCE,
            external_id=cycle.trigger_external_id,
            client_id=sub.client_id,
            lines=cycle.lines,
            issue_date=cycle.cycle_date,
            currency=sub.currency,
            payload={
                "subscription": sub.id,
                "period": [cycle.period_start.isoformat(), cycle.period_end.isoformat()],
            },
        )
        result = issue_invoice(
            ledgers, trigger, clock=clock, on_issued=on_issued, actor=f"schedule:{sub.id}"
        )
        (report.issued if result.created else report.existing).append(result.number)
        if result.created:
            for credit in cycle.credits:
                report.credit_notes.append(
                    issue_credit_note(
                        ledgers,
                        result.number,
                        clock=clock,
                        reason=credit.description,
                        items=[credit.as_line()],
                        actor=f"schedule:{sub.id}",
                    )
                )
        with ledgers() as ledger:
            ledger.set_subscription_cursor(sub.id, cycle.cycle_date)
