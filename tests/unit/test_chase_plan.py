"""The chase plan: exact schedules over 60 simulated days, pauses, catch-up, windows, zones.

The time-travel tests drive :func:`billing.chase.plan_chase` the way the runner will: at each
moment, "send" what is due and log what is skipped (both appended to the history), then look
again. Every scenario runs twice, polled hourly and woken only at ``next_action_at`` (and at
events), and both runs must agree: the indexed next action date is all the runner needs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.chase import (
    ChaseFacts,
    ChasePlan,
    ChasePlanError,
    ChaseSpec,
    Pause,
    StepRecord,
    StepSpec,
    WindowSpec,
    next_action_at,
    plan_chase,
    reason_not_to_send,
)
from policies.chase import to_specs
from policies.loader import default_policy, load_policy_file, parse_policy_text
from policies.models import resolve

BERLIN = "Europe/Berlin"
LOS_ANGELES = "America/Los_Angeles"
NEW_YORK = "America/New_York"
HOUR = timedelta(hours=1)
STRICT_EXAMPLE = (
    Path(__file__).resolve().parents[2] / "policies" / "examples" / "client-strict.yaml"
)


def spec_with(company_yaml: str = "") -> ChaseSpec:
    """The default policy, optionally with a company override, as the billing spec."""
    company = parse_policy_text(company_yaml, source="company.yaml") if company_yaml else None
    return to_specs(resolve(default_policy(), company))


DEFAULT = spec_with()
STRICT = to_specs(resolve(default_policy(), None, load_policy_file(STRICT_EXAMPLE)))


def at(tz: str, y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    """A wall-clock moment in ``tz`` as aware UTC."""
    return datetime(y, m, d, hh, mm, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def invoice(
    *,
    issued: date = date(2026, 5, 5),
    terms: int = 30,
    tz: str | None = BERLIN,
    number: str = "INV-2026-0001",
) -> ChaseFacts:
    """An open invoice with a positive balance (issued Tue 5 May, due Thu 4 June by default)."""
    return ChaseFacts(
        invoice_number=number,
        due_date=issued + timedelta(days=terms),
        balance_is_positive=True,
        status="open",
        client_timezone=tz,
        issued_date=issued,
    )


# --- the simulated runner -------------------------------------------------------------------

Event = tuple[datetime, Callable[[ChaseFacts], ChaseFacts]]


@dataclass
class Run:
    """What a simulated runner did: local "date time weekday" and step key of each action."""

    sent: list[tuple[str, str]]
    skipped: list[tuple[str, str, str]]
    sent_utc: list[datetime]
    escalated_at: str | None
    plans_computed: int
    facts: ChaseFacts


def _local(moment: datetime, tz: str) -> str:
    return moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M %a")


def _simulate(
    spec: ChaseSpec,
    facts: ChaseFacts,
    start: datetime,
    end: datetime,
    events: Sequence[Event],
    outages: Sequence[tuple[datetime, datetime]],
    *,
    driven: bool,
) -> Run:
    tz = facts.client_timezone or spec.timezone
    queue = sorted(events, key=lambda e: e[0])
    run = Run([], [], [], None, 0, facts)
    now = start
    while now < end:
        while queue and queue[0][0] <= now:
            facts = queue.pop(0)[1](facts)
        next_event = queue[0][0] if queue else end
        outage_end = next((b for a, b in outages if a <= now < b), None)
        if outage_end is not None:
            now = min(outage_end, next_event) if driven else now + HOUR
            continue
        plan = plan_chase(spec, facts, now)
        run.plans_computed += 1
        history = list(facts.history)
        for step in plan.due_now:
            # The runner's last check before the send: fresh facts, balance and pauses.
            assert reason_not_to_send(spec, facts, now) is None
            run.sent.append((_local(now, tz), step.step_key))
            run.sent_utc.append(now)
            history.append(StepRecord(step.step_key, "sent", now))
        for step in plan.to_skip_now:
            run.skipped.append((_local(now, tz), step.step_key, step.reason))
            history.append(StepRecord(step.step_key, "skipped", now, step.reason))
        if plan.escalate_now:
            run.escalated_at = _local(now, tz)
        facts = replace(
            facts, history=tuple(history), escalated=facts.escalated or plan.escalate_now
        )
        if driven:
            wake = next_action_at(spec, facts, now)
            assert wake is None or wake > now, "after acting, the next action must be later"
            now = min(wake or end, next_event)
        else:
            now += HOUR
    run.facts = facts
    return run


def chase_for_60_days(
    spec: ChaseSpec,
    facts: ChaseFacts,
    *,
    events: Sequence[Event] = (),
    outages: Sequence[tuple[datetime, datetime]] = (),
) -> Run:
    """Simulate from the issue date (00:00 UTC) for 60 days; polled and driven runs must agree."""
    assert facts.issued_date is not None
    start = datetime.combine(facts.issued_date, time(0), tzinfo=UTC)
    end = start + timedelta(days=60)
    polled = _simulate(spec, facts, start, end, events, outages, driven=False)
    driven = _simulate(spec, facts, start, end, events, outages, driven=True)
    assert (driven.sent, driven.skipped, driven.escalated_at) == (
        polled.sent,
        polled.skipped,
        polled.escalated_at,
    )
    assert driven.plans_computed < 40  # the work follows the due items, not the clock
    return polled


def paid(facts: ChaseFacts) -> ChaseFacts:
    return replace(facts, status="paid", balance_is_positive=False)


def add_pause(pause: Pause) -> Callable[[ChaseFacts], ChaseFacts]:
    return lambda facts: replace(facts, pauses=(*facts.pauses, pause))


def lift(reason: str, last_paused_day: date) -> Callable[[ChaseFacts], ChaseFacts]:
    """Resume: an open-ended pause gets ``until`` = the day before the lift."""
    return lambda facts: replace(
        facts,
        pauses=tuple(
            replace(p, until=last_paused_day) if p.reason == reason and p.until is None else p
            for p in facts.pauses
        ),
    )


# --- 60 days with the default policy --------------------------------------------------------


def test_default_policy_sends_gentle_day_1_firm_day_7_escalation_day_14_at_window_opening() -> None:
    run = chase_for_60_days(DEFAULT, invoice())

    assert run.sent == [
        ("2026-06-05 09:00 Fri", "gentle"),
        ("2026-06-11 09:00 Thu", "firm"),
        ("2026-06-18 09:00 Thu", "escalation"),
    ]
    assert run.skipped == []
    assert run.escalated_at == "2026-06-18 09:00 Thu"
    assert next_action_at(DEFAULT, run.facts, at(BERLIN, 2026, 7, 1)) is None


def test_step_falling_on_a_weekend_goes_at_monday_opening() -> None:
    run = chase_for_60_days(DEFAULT, invoice(issued=date(2026, 5, 6)))  # due Fri 5 June

    assert run.sent == [
        ("2026-06-08 09:00 Mon", "gentle"),
        ("2026-06-12 09:00 Fri", "firm"),
        ("2026-06-19 09:00 Fri", "escalation"),
    ]


def test_step_falling_on_a_holiday_goes_on_the_next_business_day() -> None:
    spec = spec_with("chase:\n  send_window:\n    holidays: [2026-06-05]\n")

    run = chase_for_60_days(spec, invoice())

    assert run.sent == [
        ("2026-06-08 09:00 Mon", "gentle"),
        ("2026-06-11 09:00 Thu", "firm"),
        ("2026-06-18 09:00 Thu", "escalation"),
    ]


def test_client_time_zone_sets_the_window_los_angeles_versus_berlin() -> None:
    berlin = chase_for_60_days(DEFAULT, invoice(tz=BERLIN))
    los_angeles = chase_for_60_days(DEFAULT, invoice(tz=LOS_ANGELES))

    assert berlin.sent == los_angeles.sent
    assert berlin.sent_utc == [
        datetime(2026, 6, 5, 7, tzinfo=UTC),
        datetime(2026, 6, 11, 7, tzinfo=UTC),
        datetime(2026, 6, 18, 7, tzinfo=UTC),
    ]
    assert los_angeles.sent_utc == [
        datetime(2026, 6, 5, 16, tzinfo=UTC),
        datetime(2026, 6, 11, 16, tzinfo=UTC),
        datetime(2026, 6, 18, 16, tzinfo=UTC),
    ]


def test_window_opening_follows_daylight_saving_time() -> None:
    run = chase_for_60_days(DEFAULT, invoice(issued=date(2026, 9, 22)))  # due Thu 22 Oct

    assert run.sent == [
        ("2026-10-23 09:00 Fri", "gentle"),
        ("2026-10-29 09:00 Thu", "firm"),
        ("2026-11-05 09:00 Thu", "escalation"),
    ]
    assert run.sent_utc == [
        datetime(2026, 10, 23, 7, tzinfo=UTC),  # CEST
        datetime(2026, 10, 29, 8, tzinfo=UTC),  # CET after 25 October
        datetime(2026, 11, 5, 8, tzinfo=UTC),
    ]


def test_invoice_paid_midway_is_never_chased_again() -> None:
    run = chase_for_60_days(DEFAULT, invoice(), events=[(at(BERLIN, 2026, 6, 9, 10), paid)])

    assert run.sent == [("2026-06-05 09:00 Fri", "gentle")]
    plan = plan_chase(DEFAULT, run.facts, at(BERLIN, 2026, 6, 11, 9))
    assert plan.closed_reason == "invoice is paid"
    assert plan.next_action_at is None
    assert [(s.step_key, s.state, s.reason) for s in plan.steps] == [
        ("gentle", "done", f"sent at {at(BERLIN, 2026, 6, 5, 9).isoformat()}"),
        ("firm", "skipped", "not sent: invoice is paid"),
        ("escalation", "skipped", "not sent: invoice is paid"),
    ]


def test_promise_to_pay_holds_the_firm_reminder_until_the_day_after_the_promised_date() -> None:
    promise = Pause(
        "promise_to_pay", until=date(2026, 6, 16), actor="agent", since=date(2026, 6, 8)
    )

    run = chase_for_60_days(
        DEFAULT, invoice(), events=[(at(BERLIN, 2026, 6, 8, 11), add_pause(promise))]
    )

    assert run.sent == [
        ("2026-06-05 09:00 Fri", "gentle"),
        ("2026-06-17 09:00 Wed", "firm"),
        ("2026-06-18 09:00 Thu", "escalation"),
    ]


def test_promise_kept_ends_the_chase() -> None:
    promise = Pause(
        "promise_to_pay", until=date(2026, 6, 16), actor="agent", since=date(2026, 6, 8)
    )

    run = chase_for_60_days(
        DEFAULT,
        invoice(),
        events=[
            (at(BERLIN, 2026, 6, 8, 11), add_pause(promise)),
            (at(BERLIN, 2026, 6, 15, 12), paid),
        ],
    )

    assert run.sent == [("2026-06-05 09:00 Fri", "gentle")]


def test_open_dispute_blocks_everything_and_on_resume_sends_only_the_latest_held_step() -> None:
    dispute = Pause("dispute", until=None, actor="agent", since=date(2026, 6, 9))

    run = chase_for_60_days(
        DEFAULT,
        invoice(),
        events=[
            (at(BERLIN, 2026, 6, 9, 10), add_pause(dispute)),
            (at(BERLIN, 2026, 6, 24, 14), lift("dispute", date(2026, 6, 23))),
        ],
    )

    assert run.sent == [
        ("2026-06-05 09:00 Fri", "gentle"),
        ("2026-06-24 14:00 Wed", "escalation"),
    ]
    assert run.skipped == [
        (
            "2026-06-24 14:00 Wed",
            "firm",
            "superseded by escalation after a pause: both fell on 2026-06-24",
        )
    ]


def test_plan_during_an_open_dispute_shows_blocked_steps_and_no_next_action() -> None:
    facts = replace(
        invoice(),
        pauses=(Pause("dispute", until=None, actor="alice", since=date(2026, 6, 9)),),
        history=(StepRecord("gentle", "sent", at(BERLIN, 2026, 6, 5, 9)),),
    )

    plan = plan_chase(DEFAULT, facts, at(BERLIN, 2026, 6, 15, 10))

    assert plan.due_now == ()
    assert plan.next_action_at is None
    assert plan.paused_by == facts.pauses
    assert [(s.step_key, s.state, s.send_date, s.send_at, s.reason) for s in plan.steps] == [
        (
            "gentle",
            "done",
            date(2026, 6, 5),
            at(BERLIN, 2026, 6, 5, 9),
            f"sent at {at(BERLIN, 2026, 6, 5, 9).isoformat()}",
        ),
        ("firm", "blocked", None, None, "paused: dispute until resumed (by alice)"),
        ("escalation", "blocked", None, None, "paused: dispute until resumed (by alice)"),
    ]


def test_plan_during_a_promise_shows_blocked_step_and_next_action_after_the_pause() -> None:
    facts = replace(
        invoice(),
        pauses=(
            Pause(
                "promise_to_pay",
                until=date(2026, 6, 16),
                actor="agent",
                scope="client",
                since=date(2026, 6, 8),
            ),
        ),
        history=(StepRecord("gentle", "sent", at(BERLIN, 2026, 6, 5, 9)),),
    )

    plan = plan_chase(DEFAULT, facts, at(BERLIN, 2026, 6, 12, 10))

    assert plan.next_action_at == at(BERLIN, 2026, 6, 17, 9)
    assert [(s.step_key, s.state, s.send_date, s.send_at, s.reason) for s in plan.steps[1:]] == [
        (
            "firm",
            "blocked",
            date(2026, 6, 17),
            at(BERLIN, 2026, 6, 17, 9),
            "paused: client-wide promise_to_pay until 2026-06-16 (by agent)",
        ),
        ("escalation", "scheduled", date(2026, 6, 18), at(BERLIN, 2026, 6, 18, 9), ""),
    ]


def test_out_of_office_reply_delays_the_next_step_until_the_return_date() -> None:
    away = Pause.out_of_office(date(2026, 6, 15), actor="inbox", since=date(2026, 6, 5))

    run = chase_for_60_days(
        DEFAULT, invoice(), events=[(at(BERLIN, 2026, 6, 5, 14), add_pause(away))]
    )

    assert run.sent == [
        ("2026-06-05 09:00 Fri", "gentle"),
        ("2026-06-15 09:00 Mon", "firm"),
        ("2026-06-18 09:00 Thu", "escalation"),
    ]


# --- catch-up after a 10-day outage ---------------------------------------------------------

TEN_DAY_OUTAGE = [(at(BERLIN, 2026, 6, 10), at(BERLIN, 2026, 6, 20))]  # back on a Saturday


def test_after_outage_catch_up_latest_sends_only_the_latest_missed_step_and_logs_the_rest() -> None:
    run = chase_for_60_days(DEFAULT, invoice(), outages=TEN_DAY_OUTAGE)

    assert run.sent == [
        ("2026-06-05 09:00 Fri", "gentle"),
        ("2026-06-22 09:00 Mon", "escalation"),
    ]
    assert run.skipped == [
        (
            "2026-06-22 09:00 Mon",
            "firm",
            "missed its send date 2026-06-11; catch-up 'latest' sends only escalation",
        )
    ]


def test_after_outage_catch_up_all_sends_every_missed_step_in_order() -> None:
    run = chase_for_60_days(
        spec_with("chase:\n  catch_up: all\n"), invoice(), outages=TEN_DAY_OUTAGE
    )

    assert run.sent == [
        ("2026-06-05 09:00 Fri", "gentle"),
        ("2026-06-22 09:00 Mon", "firm"),
        ("2026-06-22 09:00 Mon", "escalation"),
    ]
    assert run.skipped == []


def test_after_outage_catch_up_none_skips_every_missed_step() -> None:
    run = chase_for_60_days(
        spec_with("chase:\n  catch_up: none\n"), invoice(), outages=TEN_DAY_OUTAGE
    )

    assert run.sent == [("2026-06-05 09:00 Fri", "gentle")]
    assert run.skipped == [
        (
            "2026-06-22 09:00 Mon",
            "firm",
            "missed its send date 2026-06-11; catch-up 'none' skips it",
        ),
        (
            "2026-06-22 09:00 Mon",
            "escalation",
            "missed its send date 2026-06-18; catch-up 'none' skips it",
        ),
    ]
    assert run.escalated_at is None


def test_catch_up_none_still_sends_the_step_whose_date_is_the_day_the_runner_returns() -> None:
    outage = [(at(BERLIN, 2026, 6, 8), at(BERLIN, 2026, 6, 18))]

    run = chase_for_60_days(spec_with("chase:\n  catch_up: none\n"), invoice(), outages=outage)

    assert run.sent == [
        ("2026-06-05 09:00 Fri", "gentle"),
        ("2026-06-18 09:00 Thu", "escalation"),
    ]
    assert [(when, key) for when, key, _ in run.skipped] == [("2026-06-18 09:00 Thu", "firm")]


# --- 60 days with a custom policy (policies/examples/client-strict.yaml) --------------------


def test_custom_policy_sends_its_own_schedule_in_the_policy_zone_around_weekend_and_holiday() -> (
    None
):
    # Due Tue 23 June; -3 is Saturday 20 → Monday 22; +10 is Friday 3 July, a holiday → Mon 6.
    run = chase_for_60_days(STRICT, invoice(issued=date(2026, 6, 9), terms=14, tz=None))

    assert run.sent == [
        ("2026-06-22 08:00 Mon", "upcoming"),
        ("2026-06-23 08:00 Tue", "due_today"),
        ("2026-06-26 08:00 Fri", "overdue"),
        ("2026-07-06 08:00 Mon", "escalation"),
    ]
    assert run.sent_utc[0] == datetime(2026, 6, 22, 12, tzinfo=UTC)


def test_custom_policy_with_catch_up_all_sends_all_missed_steps_after_outage() -> None:
    outage = [(at(NEW_YORK, 2026, 6, 21), at(NEW_YORK, 2026, 6, 27))]

    run = chase_for_60_days(
        STRICT, invoice(issued=date(2026, 6, 9), terms=14, tz=None), outages=outage
    )

    assert run.sent == [
        ("2026-06-29 08:00 Mon", "upcoming"),
        ("2026-06-29 08:00 Mon", "due_today"),
        ("2026-06-29 08:00 Mon", "overdue"),
        ("2026-07-06 08:00 Mon", "escalation"),
    ]


def test_client_zone_beats_the_policy_zone() -> None:
    run = chase_for_60_days(STRICT, invoice(issued=date(2026, 6, 9), terms=14, tz=LOS_ANGELES))

    assert run.sent[0] == ("2026-06-22 08:00 Mon", "upcoming")
    assert run.sent_utc[0] == datetime(2026, 6, 22, 15, tzinfo=UTC)


def test_step_scheduled_before_the_invoice_was_issued_is_skipped_not_sent() -> None:
    facts = invoice(issued=date(2026, 6, 22), terms=1, tz=None)  # due Tue 23 June

    run = chase_for_60_days(STRICT, facts)

    assert [key for _, key in run.sent] == ["due_today", "overdue", "escalation"]
    plan = plan_chase(STRICT, facts, at(NEW_YORK, 2026, 6, 22, 12))
    assert (plan.steps[0].state, plan.steps[0].reason) == (
        "skipped",
        "scheduled for 2026-06-20, before the invoice was issued",
    )
    assert plan.to_skip_now == ()


# --- the send window ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "due", "next_action"),
    [
        (at(BERLIN, 2026, 6, 5, 8, 59), [], at(BERLIN, 2026, 6, 5, 9)),
        (at(BERLIN, 2026, 6, 5, 9), ["gentle"], at(BERLIN, 2026, 6, 5, 9)),
        (at(BERLIN, 2026, 6, 5, 16, 59), ["gentle"], at(BERLIN, 2026, 6, 5, 16, 59)),
        (at(BERLIN, 2026, 6, 5, 17), [], at(BERLIN, 2026, 6, 8, 9)),
        (at(BERLIN, 2026, 6, 6, 12), [], at(BERLIN, 2026, 6, 8, 9)),
    ],
    ids=["before-opening", "at-opening", "before-closing", "at-closing", "saturday"],
)
def test_steps_go_only_inside_the_send_window(
    now: datetime, due: list[str], next_action: datetime
) -> None:
    plan = plan_chase(DEFAULT, invoice(), now)

    assert [s.step_key for s in plan.due_now] == due
    assert plan.next_action_at == next_action


def test_step_missed_at_closing_time_waits_for_monday_and_says_why() -> None:
    plan = plan_chase(DEFAULT, invoice(), at(BERLIN, 2026, 6, 6, 12))

    gentle = plan.steps[0]
    assert (gentle.state, gentle.send_at, gentle.reason) == (
        "scheduled",
        at(BERLIN, 2026, 6, 8, 9),
        "missed its send date 2026-06-05; catch-up 'latest' sends it; "
        "at the window opening 2026-06-08 07:00:00+00:00",
    )


def test_moved_step_explains_the_move() -> None:
    plan = plan_chase(DEFAULT, invoice(issued=date(2026, 5, 6)), at(BERLIN, 2026, 6, 1))

    assert [(s.step_key, s.scheduled_date, s.send_date, s.reason) for s in plan.steps] == [
        (
            "gentle",
            date(2026, 6, 6),
            date(2026, 6, 8),
            "moved from 2026-06-06 to the next business day",
        ),
        ("firm", date(2026, 6, 12), date(2026, 6, 12), ""),
        ("escalation", date(2026, 6, 19), date(2026, 6, 19), ""),
    ]


# --- single rules ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["draft", "paid", "void", "uncollectible", "credited"])
def test_invoice_that_is_not_collectible_has_nothing_due(status: str) -> None:
    facts = replace(invoice(), status=status)

    plan = plan_chase(DEFAULT, facts, at(BERLIN, 2026, 6, 18, 10))

    assert (plan.due_now, plan.to_skip_now, plan.next_action_at) == ((), (), None)
    assert plan.closed_reason == f"invoice is {status}"


def test_open_invoice_with_nothing_owed_is_not_chased() -> None:
    facts = replace(invoice(), balance_is_positive=False)

    plan = plan_chase(DEFAULT, facts, at(BERLIN, 2026, 6, 5, 10))

    assert (plan.due_now, plan.next_action_at, plan.closed_reason) == ((), None, "nothing is owed")


def test_partially_paid_invoice_is_still_chased() -> None:
    facts = replace(invoice(), status="partially_paid")

    plan = plan_chase(DEFAULT, facts, at(BERLIN, 2026, 6, 5, 10))

    assert [s.step_key for s in plan.due_now] == ["gentle"]


def test_policy_with_chasing_disabled_plans_nothing() -> None:
    spec = to_specs(
        resolve(default_policy(), None, parse_policy_text("chase: null", source="client.yaml"))
    )

    plan = plan_chase(spec, invoice(), at(BERLIN, 2026, 6, 5, 10))

    assert (plan.due_now, plan.next_action_at) == ((), None)
    assert plan.closed_reason == "chasing is disabled by policy"


def test_failed_step_is_not_retried_by_the_plan() -> None:
    failed = StepRecord("gentle", "failed", at(BERLIN, 2026, 6, 5, 9), "smtp 550 after 5 attempts")
    facts = replace(invoice(), history=(failed,))

    plan = plan_chase(DEFAULT, facts, at(BERLIN, 2026, 6, 5, 10))

    assert plan.due_now == ()
    assert (plan.steps[0].state, plan.steps[0].reason) == ("failed", "smtp 550 after 5 attempts")
    assert plan.next_action_at == at(BERLIN, 2026, 6, 11, 9)


def test_a_sent_record_wins_over_a_later_record_of_the_same_step() -> None:
    sent = StepRecord("gentle", "sent", at(BERLIN, 2026, 6, 5, 9))
    late_skip = StepRecord("gentle", "skipped", at(BERLIN, 2026, 6, 5, 10), "duplicate run")
    facts = replace(invoice(), history=(sent, late_skip))

    plan = plan_chase(DEFAULT, facts, at(BERLIN, 2026, 6, 5, 11))

    assert plan.steps[0].state == "done"


def test_escalation_marks_the_invoice_escalated_only_once() -> None:
    before = replace(
        invoice(),
        history=(
            StepRecord("gentle", "sent", at(BERLIN, 2026, 6, 5, 9)),
            StepRecord("firm", "sent", at(BERLIN, 2026, 6, 11, 9)),
        ),
    )
    now = at(BERLIN, 2026, 6, 18, 9)

    assert plan_chase(DEFAULT, before, now).escalate_now is True
    assert plan_chase(DEFAULT, replace(before, escalated=True), now).escalate_now is False


def test_due_step_carries_what_the_runner_needs_to_send_it() -> None:
    facts = replace(
        invoice(),
        history=(
            StepRecord("gentle", "sent", at(BERLIN, 2026, 6, 5, 9)),
            StepRecord("firm", "sent", at(BERLIN, 2026, 6, 11, 9)),
        ),
    )

    (step,) = plan_chase(DEFAULT, facts, at(BERLIN, 2026, 6, 18, 9, 30)).due_now

    assert (step.step_key, step.kind, step.template, step.channels, step.to, step.cc_owner) == (
        "escalation",
        "escalate",
        "escalation",
        ("email", "slack"),
        "account_owner",
        False,
    )
    assert step.send_at == at(BERLIN, 2026, 6, 18, 9, 30)


def test_reason_not_to_send_rechecks_balance_and_pauses_just_before_sending() -> None:
    now = at(BERLIN, 2026, 6, 11, 9)
    hold = Pause("manual_hold", until=None, actor="bob", scope="client", since=date(2026, 6, 10))

    assert reason_not_to_send(DEFAULT, invoice(), now) is None
    assert reason_not_to_send(DEFAULT, paid(invoice()), now) == "invoice is paid"
    assert (
        reason_not_to_send(DEFAULT, replace(invoice(), pauses=(hold,)), now)
        == "paused: client-wide manual_hold until resumed (by bob)"
    )


def test_naive_now_is_refused() -> None:
    with pytest.raises(ChasePlanError) as caught:
        plan_chase(DEFAULT, invoice(), datetime(2026, 6, 5, 9))

    assert caught.value.code == "invalid_chase_input"


def test_unknown_client_zone_is_refused() -> None:
    with pytest.raises(ChasePlanError, match="unknown time zone 'Mars/Olympus'"):
        plan_chase(DEFAULT, invoice(tz="Mars/Olympus"), at(BERLIN, 2026, 6, 5, 9))


def test_spec_with_offsets_out_of_order_is_refused() -> None:
    with pytest.raises(ChasePlanError, match="strictly increase"):
        ChaseSpec(steps=(StepSpec("b", "reminder", 7, "t"), StepSpec("a", "reminder", 1, "t")))


# --- properties -----------------------------------------------------------------------------

ZONES = ["UTC", BERLIN, LOS_ANGELES, "Asia/Tokyo"]
CLOSED = ["draft", "paid", "void", "uncollectible", "credited"]


@st.composite
def specs(draw: st.DrawFn) -> ChaseSpec:
    offsets = sorted(draw(st.sets(st.integers(-6, 25), min_size=1, max_size=4)))
    kinds = [draw(st.sampled_from(["reminder", "escalate"])) for _ in offsets]
    start = draw(st.integers(0, 15))
    end = draw(st.integers(start + 1, 24))
    days = draw(st.sets(st.integers(0, 6), min_size=1))
    holidays = draw(st.sets(st.dates(date(2026, 6, 1), date(2026, 8, 31)), max_size=5))
    return ChaseSpec(
        steps=tuple(
            StepSpec(f"s{i}", kind, off, "t")  # type: ignore[arg-type]
            for i, (off, kind) in enumerate(zip(offsets, kinds, strict=True))
        ),
        window=WindowSpec(
            time(start),
            time(23, 59) if end == 24 else time(end),
            frozenset(days),
            frozenset(holidays),
        ),
        catch_up=draw(st.sampled_from(["latest", "all", "none"])),
        timezone=draw(st.sampled_from(ZONES)),
    )


@st.composite
def pauses(draw: st.DrawFn) -> tuple[Pause, ...]:
    found = []
    for _ in range(draw(st.integers(0, 2))):
        since = draw(st.dates(date(2026, 6, 1), date(2026, 7, 31)))
        length = draw(st.none() | st.integers(0, 20))
        until = None if length is None else since + timedelta(days=length)
        reason = draw(
            st.sampled_from(["dispute", "promise_to_pay", "manual_hold", "out_of_office"])
        )
        found.append(Pause(reason, until, "prop", since=since))  # type: ignore[arg-type]
    return tuple(found)


@st.composite
def open_invoices(draw: st.DrawFn) -> ChaseFacts:
    issued = draw(st.dates(date(2026, 5, 15), date(2026, 6, 30)))
    return ChaseFacts(
        invoice_number="INV-P",
        due_date=issued + timedelta(days=draw(st.integers(0, 30))),
        balance_is_positive=True,
        status=draw(st.sampled_from(["open", "partially_paid"])),
        pauses=draw(pauses()),
        client_timezone=draw(st.none() | st.sampled_from(ZONES)),
        issued_date=issued,
    )


def _act(spec: ChaseSpec, facts: ChaseFacts, now: datetime) -> tuple[ChasePlan, ChaseFacts]:
    plan = plan_chase(spec, facts, now)
    records = [StepRecord(s.step_key, "sent", now) for s in plan.due_now]
    records += [StepRecord(s.step_key, "skipped", now, s.reason) for s in plan.to_skip_now]
    return plan, replace(facts, history=(*facts.history, *records))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    spec=specs(),
    facts=open_invoices(),
    gaps=st.lists(st.integers(1, 60 * 72), min_size=1, max_size=120),
)
def test_property_no_step_is_ever_due_twice_and_sends_respect_window_and_pauses(
    spec: ChaseSpec, facts: ChaseFacts, gaps: list[int]
) -> None:
    now = datetime.combine(facts.issued_date or facts.due_date, time(0), tzinfo=UTC)
    zone = ZoneInfo(facts.client_timezone or spec.timezone)
    sent: list[str] = []
    for gap in gaps:
        now += timedelta(minutes=gap)
        decided = {r.step_key for r in facts.history}
        plan, facts = _act(spec, facts, now)
        local = now.astimezone(zone)
        for step in plan.due_now:
            assert step.step_key not in decided
            assert spec.window.is_business_day(local.date())
            assert spec.window.start <= local.time() < spec.window.end
            assert not any(p.covers(local.date()) for p in facts.pauses)
            sent.append(step.step_key)
        assert not {s.step_key for s in plan.to_skip_now} & decided
        if plan.due_now or plan.to_skip_now:
            assert plan.next_action_at == now
        else:
            assert plan.next_action_at is None or plan.next_action_at > now
    assert len(sent) == len(set(sent))


@settings(max_examples=150, deadline=None)
@given(
    spec=specs(),
    facts=open_invoices(),
    status=st.sampled_from(CLOSED),
    settled=st.booleans(),
    now=st.datetimes(datetime(2026, 5, 1), datetime(2026, 9, 30), timezones=st.just(UTC)),
)
def test_property_nothing_is_ever_due_for_an_invoice_that_is_paid_or_closed(
    spec: ChaseSpec, facts: ChaseFacts, status: str, settled: bool, now: datetime
) -> None:
    closed = (
        replace(facts, status=status) if not settled else replace(facts, balance_is_positive=False)
    )

    plan = plan_chase(spec, closed, now)

    assert (plan.due_now, plan.to_skip_now, plan.next_action_at, plan.escalate_now) == (
        (),
        (),
        None,
        False,
    )


@settings(max_examples=150, deadline=None)
@given(
    spec=specs(),
    facts=open_invoices(),
    now=st.datetimes(datetime(2026, 5, 1), datetime(2026, 9, 30), timezones=st.just(UTC)),
)
def test_property_next_action_is_never_in_the_past_unless_something_is_due_now(
    spec: ChaseSpec, facts: ChaseFacts, now: datetime
) -> None:
    plan = plan_chase(spec, facts, now)

    if plan.due_now or plan.to_skip_now:
        assert plan.next_action_at == now
    else:
        assert plan.next_action_at is None or plan.next_action_at > now
        _, after = _act(spec, facts, now)
        assert after.history == facts.history


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs(), facts=open_invoices())
def test_property_waking_at_next_action_does_what_hourly_polling_does(
    spec: ChaseSpec, facts: ChaseFacts
) -> None:
    # Whole-hour zones and window starts, so hourly polls land exactly on window openings.
    assert facts.issued_date is not None
    start = datetime.combine(facts.issued_date, time(0), tzinfo=UTC)
    end = start + timedelta(days=100)
    polled = _simulate(spec, facts, start, end, (), (), driven=False)
    driven = _simulate(spec, facts, start, end, (), (), driven=True)

    assert (driven.sent, driven.skipped) == (polled.sent, polled.skipped)
    last_step = facts.due_date + timedelta(days=spec.steps[-1].offset_days)
    ends = [p.until for p in facts.pauses if p.until is not None]
    finite = len(ends) == len(facts.pauses)
    if finite and max([last_step, *ends]) + timedelta(days=50) < end.date():
        # With finite pauses and enough time, every step gets exactly one decision.
        decided = [key for _, key in polled.sent] + [key for _, key, _ in polled.skipped]
        before_issue = [
            s.key
            for s in spec.steps
            if facts.due_date + timedelta(days=s.offset_days) < facts.issued_date
        ]
        assert sorted(decided + before_issue) == sorted(s.key for s in spec.steps)
