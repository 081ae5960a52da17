"""Recurring billing: cycle dates, exceptions, proration, idempotent trigger ids."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any, get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.errors import BillingError
from billing.invoice import LineInput
from billing.money import Money
from billing.recurrence import (
    TRIGGER_SOURCE,
    CreditAdjustment,
    Cycle,
    ExtraLine,
    Frequency,
    InvalidSchedule,
    OneOffAmount,
    PauseException,
    PlanChange,
    Recurrence,
    ScheduleException,
    SkipException,
    Subscription,
    check_exceptions,
    cycles_until,
    due_cycles,
    next_cycle_date,
)
from billing.tax import TaxCategory

RECORDED_AT = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
FAR = date(2099, 12, 31)


def line(description: str, quantity: str, price: str, rate: str = "20") -> LineInput:
    category = TaxCategory.STANDARD if Decimal(rate) > 0 else TaxCategory.EXEMPT
    return LineInput(description, Decimal(quantity), Decimal(price), Decimal(rate), category)


RETAINER = (line("Monthly retainer", "1", "1000.00"), line("Hosting", "2", "45.50"))
PRO = (line("Monthly retainer (Pro)", "1", "1500.00"), line("Hosting", "2", "45.50"))
LITE = (line("Monthly retainer (Lite)", "1", "400.00"), line("Hosting", "2", "45.50"))


def subscription(**overrides: Any) -> Subscription:
    fields: dict[str, Any] = {
        "id": "sub-1",
        "client_id": "acme",
        "currency": "EUR",
        "lines": RETAINER,
        "recurrence": Recurrence("monthly", day_of_month=1),
        "start_date": date(2026, 1, 1),
    }
    fields.update(overrides)
    return Subscription(**fields)


def recorded(**fields: Any) -> dict[str, Any]:
    return {"subscription_id": "sub-1", "created_at": RECORDED_AT, "created_by": "ann", **fields}


def pause(id: str, from_date: date, resume_date: date | None) -> PauseException:
    return PauseException(**recorded(id=id, from_date=from_date, resume_date=resume_date))


def skip(id: str, cycle_date: date, **fields: Any) -> SkipException:
    return SkipException(**recorded(id=id, cycle_date=cycle_date, **fields))


def one_off(id: str, cycle_date: date, *lines: LineInput) -> OneOffAmount:
    return OneOffAmount(**recorded(id=id, cycle_date=cycle_date, lines=lines))


def extra(id: str, cycle_date: date, item: LineInput, at: datetime = RECORDED_AT) -> ExtraLine:
    return ExtraLine(**recorded(id=id, cycle_date=cycle_date, line=item, created_at=at))


def plan_change(id: str, effective: date, *lines: LineInput) -> PlanChange:
    return PlanChange(**recorded(id=id, effective_date=effective, new_lines=lines))


def dates(cycles: list[Cycle]) -> list[date]:
    return [c.cycle_date for c in cycles]


def summary(cycles: list[Cycle]) -> list[tuple[date, str, str, str, str]]:
    out: list[tuple[date, str, str, str, str]] = []
    for cycle in cycles:
        totals = cycle.totals()
        out.append(
            (
                cycle.cycle_date,
                cycle.status,
                str(totals.lines_total),
                str(totals.tax_total),
                str(totals.grand_total),
            )
        )
    return out


# --- recurrence rules -----------------------------------------------------------------------


def test_monthly_on_the_31st_falls_back_to_the_last_day_of_shorter_months() -> None:
    sub = subscription(
        recurrence=Recurrence("monthly", day_of_month=31), start_date=date(2024, 1, 31)
    )

    cycles = cycles_until(sub, [], date(2025, 3, 31))

    assert dates(cycles)[:5] == [
        date(2024, 1, 31),
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
        date(2024, 5, 31),
    ]
    assert dates(cycles)[-3:] == [date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31)]
    assert len(cycles) == 15


def test_monthly_on_the_30th_bills_on_the_30th_except_in_february() -> None:
    sub = subscription(
        recurrence=Recurrence("monthly", day_of_month=30), start_date=date(2025, 1, 30)
    )

    assert dates(cycles_until(sub, [], date(2025, 4, 30))) == [
        date(2025, 1, 30),
        date(2025, 2, 28),
        date(2025, 3, 30),
        date(2025, 4, 30),
    ]


def test_each_period_runs_from_its_cycle_date_to_the_next_one() -> None:
    sub = subscription(
        recurrence=Recurrence("monthly", day_of_month=31), start_date=date(2025, 1, 31)
    )

    periods = [(c.period_start, c.period_end) for c in cycles_until(sub, [], date(2025, 3, 31))]

    assert periods == [
        (date(2025, 1, 31), date(2025, 2, 28)),
        (date(2025, 2, 28), date(2025, 3, 31)),
        (date(2025, 3, 31), date(2025, 4, 30)),
    ]


def test_quarterly_schedule_counts_quarters_from_the_start_month() -> None:
    sub = subscription(
        recurrence=Recurrence("quarterly", day_of_month=1), start_date=date(2026, 1, 15)
    )

    # 1 January is before the start, so the first quarter billed is April's.
    assert dates(cycles_until(sub, [], date(2027, 1, 1))) == [
        date(2026, 4, 1),
        date(2026, 7, 1),
        date(2026, 10, 1),
        date(2027, 1, 1),
    ]


def test_quarterly_without_a_day_bills_on_the_start_dates_day() -> None:
    sub = subscription(recurrence=Recurrence("quarterly"), start_date=date(2026, 2, 15))

    assert dates(cycles_until(sub, [], date(2026, 12, 31))) == [
        date(2026, 2, 15),
        date(2026, 5, 15),
        date(2026, 8, 15),
        date(2026, 11, 15),
    ]


def test_yearly_from_29_february_bills_on_28_february_in_common_years() -> None:
    sub = subscription(recurrence=Recurrence("yearly"), start_date=date(2024, 2, 29))

    assert dates(cycles_until(sub, [], date(2028, 12, 31))) == [
        date(2024, 2, 29),
        date(2025, 2, 28),
        date(2026, 2, 28),
        date(2027, 2, 28),
        date(2028, 2, 29),
    ]


def test_every_two_weeks_on_wednesday_starts_in_the_start_week() -> None:
    sub = subscription(
        recurrence=Recurrence("weekly", interval=2, weekday=2), start_date=date(2026, 1, 5)
    )

    cycles = cycles_until(sub, [], date(2026, 3, 4))

    assert dates(cycles) == [
        date(2026, 1, 7),
        date(2026, 1, 21),
        date(2026, 2, 4),
        date(2026, 2, 18),
        date(2026, 3, 4),
    ]
    assert all(c.cycle_date.weekday() == 2 for c in cycles)
    assert cycles[0].period_end == date(2026, 1, 21)


def test_weekly_without_a_weekday_bills_on_the_start_dates_weekday() -> None:
    sub = subscription(recurrence=Recurrence("weekly"), start_date=date(2026, 1, 9))

    assert dates(cycles_until(sub, [], date(2026, 1, 31))) == [
        date(2026, 1, 9),
        date(2026, 1, 16),
        date(2026, 1, 23),
        date(2026, 1, 30),
    ]


def test_until_before_the_start_gives_no_cycles() -> None:
    assert cycles_until(subscription(), [], date(2025, 12, 31)) == []


# --- end date and max cycles ----------------------------------------------------------------


def test_end_date_is_exclusive_so_no_cycle_is_dated_on_it() -> None:
    sub = subscription(end_date=date(2026, 4, 1))

    assert dates(cycles_until(sub, [], FAR)) == [
        date(2026, 1, 1),
        date(2026, 2, 1),
        date(2026, 3, 1),
    ]


def test_end_date_between_cycle_dates_keeps_the_cycle_before_it() -> None:
    sub = subscription(end_date=date(2026, 3, 15))

    cycles = cycles_until(sub, [], FAR)

    assert dates(cycles) == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
    # Billing in advance: the last cycle bills its whole period.
    assert cycles[-1].period_end == date(2026, 4, 1)


def test_max_cycles_stops_the_schedule_after_that_many_cycles() -> None:
    sub = subscription(max_cycles=3)

    assert dates(cycles_until(sub, [], FAR)) == [
        date(2026, 1, 1),
        date(2026, 2, 1),
        date(2026, 3, 1),
    ]


def test_skipped_and_paused_cycles_use_up_max_cycles() -> None:
    sub = subscription(max_cycles=6)
    exceptions: list[ScheduleException] = [
        skip("k1", date(2026, 2, 1)),
        pause("p1", date(2026, 4, 1), date(2026, 5, 1)),
    ]

    cycles = cycles_until(sub, exceptions, FAR)

    assert [(c.cycle_date, c.status) for c in cycles] == [
        (date(2026, 1, 1), "bill"),
        (date(2026, 2, 1), "skipped"),
        (date(2026, 3, 1), "bill"),
        (date(2026, 4, 1), "paused"),
        (date(2026, 5, 1), "bill"),
        (date(2026, 6, 1), "bill"),
    ]
    assert next_cycle_date(sub, exceptions, date(2026, 6, 1)) is None


def test_the_earlier_of_end_date_and_max_cycles_ends_the_schedule() -> None:
    sub = subscription(max_cycles=10, end_date=date(2026, 3, 1))

    assert dates(cycles_until(sub, [], FAR)) == [date(2026, 1, 1), date(2026, 2, 1)]


# --- trigger ids and due cycles --------------------------------------------------------------


def test_a_cycle_is_triggered_by_the_schedule_with_a_stable_external_id() -> None:
    cycle = cycles_until(subscription(), [], date(2026, 2, 1))[-1]

    assert cycle.trigger_source == TRIGGER_SOURCE == "schedule"
    assert cycle.trigger_external_id == "subscription:sub-1:2026-02-01"
    assert subscription().trigger_external_id(date(2026, 2, 1)) == cycle.trigger_external_id


def test_scheduler_running_twice_on_the_same_day_sees_the_same_trigger_ids() -> None:
    sub = subscription()

    first = due_cycles(sub, [], date(2026, 3, 10))
    second = due_cycles(sub, [], date(2026, 3, 10))

    assert [c.trigger_external_id for c in first] == [
        "subscription:sub-1:2026-01-01",
        "subscription:sub-1:2026-02-01",
        "subscription:sub-1:2026-03-01",
    ]
    assert first == second


def test_a_later_run_returns_the_earlier_cycles_unchanged_plus_the_new_one() -> None:
    sub = subscription()

    march = due_cycles(sub, [], date(2026, 3, 31))
    april = due_cycles(sub, [], date(2026, 4, 1))

    assert april[:3] == march
    assert april[3].trigger_external_id == "subscription:sub-1:2026-04-01"


def test_recording_a_skip_later_changes_no_other_cycles_trigger_id() -> None:
    sub = subscription()
    before = {c.trigger_external_id for c in cycles_until(sub, [], date(2026, 6, 1))}

    after = cycles_until(sub, [skip("k1", date(2026, 5, 1))], date(2026, 6, 1))

    assert {c.trigger_external_id for c in after} == before
    assert [c.trigger_external_id for c in after if not c.is_billed] == [
        "subscription:sub-1:2026-05-01"
    ]


def test_due_cycles_leaves_out_skipped_and_paused_cycles() -> None:
    sub = subscription()
    exceptions: list[ScheduleException] = [
        skip("k1", date(2026, 2, 1)),
        pause("p1", date(2026, 3, 1), date(2026, 4, 1)),
    ]

    due = due_cycles(sub, exceptions, date(2026, 4, 1))

    assert dates(due) == [date(2026, 1, 1), date(2026, 4, 1)]


def test_due_cycles_since_limits_the_look_back() -> None:
    due = due_cycles(subscription(), [], date(2026, 5, 1), since=date(2026, 4, 1))

    assert dates(due) == [date(2026, 4, 1), date(2026, 5, 1)]


def test_next_cycle_date_is_the_first_billed_date_after_today() -> None:
    sub = subscription()
    exceptions: list[ScheduleException] = [
        pause("p1", date(2026, 4, 1), date(2026, 6, 1)),
        skip("k1", date(2026, 6, 1)),
    ]

    assert next_cycle_date(sub, exceptions, date(2026, 3, 1)) == date(2026, 7, 1)
    assert next_cycle_date(sub, exceptions, date(2026, 2, 28)) == date(2026, 3, 1)
    assert next_cycle_date(sub, [], date(2025, 6, 1)) == date(2026, 1, 1)


def test_an_open_ended_pause_means_no_next_cycle() -> None:
    sub = subscription()
    exceptions: list[ScheduleException] = [pause("p1", date(2026, 4, 1), None)]

    assert next_cycle_date(sub, exceptions, date(2026, 3, 15)) is None
    assert dates(due_cycles(sub, exceptions, date(2026, 12, 31))) == [
        date(2026, 1, 1),
        date(2026, 2, 1),
        date(2026, 3, 1),
    ]


def test_resuming_between_cycle_dates_does_not_back_bill_the_paused_days() -> None:
    sub = subscription()
    exceptions: list[ScheduleException] = [pause("p1", date(2026, 2, 10), date(2026, 3, 15))]

    cycles = cycles_until(sub, exceptions, date(2026, 4, 1))

    # 1 Feb was billed before the pause began; 1 Mar is paused; billing restarts on 1 Apr
    # at the normal amount, with nothing added for 15–31 March.
    assert summary(cycles) == [
        (date(2026, 1, 1), "bill", "1091.00", "218.20", "1309.20"),
        (date(2026, 2, 1), "bill", "1091.00", "218.20", "1309.20"),
        (date(2026, 3, 1), "paused", "0.00", "0.00", "0.00"),
        (date(2026, 4, 1), "bill", "1091.00", "218.20", "1309.20"),
    ]
    assert cycles[2].reason == "paused from 2026-02-10 until 2026-03-15 (pause p1)"
    assert cycles[2].lines == ()


# --- the year --------------------------------------------------------------------------------

# Plan: retainer 1 × 1000.00 + hosting 2 × 45.50 = 1091.00 net, VAT 20 % = 218.20, 1309.20.
# Sep custom amount: 1 × 600.00 = 600.00 net, VAT 120.00, 720.00.
# Pro plan from 15 Oct: 1500.00 + 91.00 = 1591.00 net, VAT 318.20, 1909.20.
# Daily proration: October has 31 days and 15–31 Oct (17 days) ran on Pro, so
#   (1591.00 − 1091.00) × 17 / 31 = 8500 / 31 = 274.1935… → 274.19.
# 1 Nov bills 1591.00 + 274.19 = 1865.19 net, VAT 373.038 → 373.04, total 2238.23.
YEAR_EXCEPTIONS: list[ScheduleException] = [
    pause("pause-spring", date(2026, 4, 1), date(2026, 6, 1)),
    skip("skip-august", date(2026, 8, 1)),
    one_off(
        "custom-september", date(2026, 9, 1), line("Reduced September retainer", "1", "600.00")
    ),
    plan_change("upgrade-pro", date(2026, 10, 15), *PRO),
]


def test_a_year_with_pause_skip_custom_amount_and_prorated_upgrade_bills_exactly() -> None:
    sub = subscription(max_cycles=12, proration="daily")

    cycles = cycles_until(sub, YEAR_EXCEPTIONS, FAR)

    assert summary(cycles) == [
        (date(2026, 1, 1), "bill", "1091.00", "218.20", "1309.20"),
        (date(2026, 2, 1), "bill", "1091.00", "218.20", "1309.20"),
        (date(2026, 3, 1), "bill", "1091.00", "218.20", "1309.20"),
        (date(2026, 4, 1), "paused", "0.00", "0.00", "0.00"),
        (date(2026, 5, 1), "paused", "0.00", "0.00", "0.00"),
        (date(2026, 6, 1), "bill", "1091.00", "218.20", "1309.20"),
        (date(2026, 7, 1), "bill", "1091.00", "218.20", "1309.20"),
        (date(2026, 8, 1), "skipped", "0.00", "0.00", "0.00"),
        (date(2026, 9, 1), "bill", "600.00", "120.00", "720.00"),
        (date(2026, 10, 1), "bill", "1091.00", "218.20", "1309.20"),
        (date(2026, 11, 1), "bill", "1865.19", "373.04", "2238.23"),
        (date(2026, 12, 1), "bill", "1591.00", "318.20", "1909.20"),
    ]
    november = cycles[10]
    assert november.lines[-1] == LineInput(
        "Plan change adjustment (15 Oct – 31 Oct)",
        Decimal(1),
        Decimal("274.19"),
        Decimal("20"),
        TaxCategory.STANDARD,
    )
    assert [ln.description for ln in november.lines[:2]] == ["Monthly retainer (Pro)", "Hosting"]
    assert november.credits == ()
    assert november.reason == (
        "plan from 2026-10-15 (plan change upgrade-pro); plan change adjustment"
    )
    assert cycles[8].reason == "scheduled; custom amount (one-off amount custom-september)"
    assert cycles[7].reason == "skipped (skip skip-august)"


def test_the_same_year_without_proration_bills_the_new_plan_from_november() -> None:
    sub = subscription(max_cycles=12, proration="none")

    cycles = cycles_until(sub, YEAR_EXCEPTIONS, FAR)

    assert summary(cycles)[9:] == [
        (date(2026, 10, 1), "bill", "1091.00", "218.20", "1309.20"),
        (date(2026, 11, 1), "bill", "1591.00", "318.20", "1909.20"),
        (date(2026, 12, 1), "bill", "1591.00", "318.20", "1909.20"),
    ]
    assert (
        summary(cycles)[:9]
        == summary(
            cycles_until(subscription(max_cycles=12, proration="daily"), YEAR_EXCEPTIONS, FAR)
        )[:9]
    )
    assert len(cycles) == 12
    billed = due_cycles(sub, YEAR_EXCEPTIONS, date(2026, 12, 31))
    assert len(billed) == 9
    assert sum(c.totals().grand_total for c in billed) == Decimal("12393.60")


# --- proration -------------------------------------------------------------------------------


def test_a_mid_period_downgrade_gives_a_credit_not_a_negative_line() -> None:
    sub = subscription(proration="daily")
    exceptions: list[ScheduleException] = [plan_change("downgrade", date(2026, 10, 15), *LITE)]

    november = cycles_until(sub, exceptions, date(2026, 11, 1))[-1]

    # (491.00 − 1091.00) × 17 / 31 = −10200 / 31 = −329.032… → a credit of 329.03.
    assert summary([november]) == [(date(2026, 11, 1), "bill", "491.00", "98.20", "589.20")]
    assert all(ln.unit_price >= 0 for ln in november.lines)
    assert november.credits == (
        CreditAdjustment(
            amount=Money("329.03", "EUR"),
            description="Plan change credit (15 Oct – 31 Oct)",
            tax_category=TaxCategory.STANDARD,
            vat_rate=Decimal("20"),
        ),
    )
    assert november.credits[0].as_line() == LineInput(
        "Plan change credit (15 Oct – 31 Oct)",
        Decimal(1),
        Decimal("329.03"),
        Decimal("20"),
        TaxCategory.STANDARD,
    )
    assert november.reason.endswith("plan change credit")


def test_a_plan_change_on_a_cycle_date_needs_no_adjustment() -> None:
    sub = subscription(proration="daily")

    cycles = cycles_until(sub, [plan_change("pc", date(2026, 3, 1), *PRO)], date(2026, 4, 1))

    assert summary(cycles)[1:] == [
        (date(2026, 2, 1), "bill", "1091.00", "218.20", "1309.20"),
        (date(2026, 3, 1), "bill", "1591.00", "318.20", "1909.20"),
        (date(2026, 4, 1), "bill", "1591.00", "318.20", "1909.20"),
    ]


def test_two_plan_changes_in_one_period_prorate_each_segment() -> None:
    sub = subscription(
        lines=(line("Retainer", "1", "1000.00"),), proration="daily", start_date=date(2026, 3, 1)
    )
    exceptions: list[ScheduleException] = [
        plan_change("pc1", date(2026, 3, 11), line("Retainer", "1", "1310.00")),
        plan_change("pc2", date(2026, 3, 21), line("Retainer", "1", "1620.00")),
    ]

    april = cycles_until(sub, exceptions, date(2026, 4, 1))[-1]

    # 11–20 Mar (10 days) at +310 and 21–31 Mar (11 days) at +620, over 31 days:
    # 310 × 10 / 31 + 620 × 11 / 31 = 100 + 220 = 320.00.
    assert [(ln.description, ln.unit_price) for ln in april.lines] == [
        ("Retainer", Decimal("1620.00")),
        ("Plan change adjustment (11 Mar – 31 Mar)", Decimal("320.00")),
    ]


def test_proration_is_computed_per_vat_group() -> None:
    training = line("Training", "1", "300.00", rate="0")
    sub = subscription(
        lines=(line("Retainer", "1", "1000.00"), training),
        proration="daily",
        start_date=date(2026, 3, 1),
    )
    change = plan_change(
        "pc",
        date(2026, 3, 16),
        line("Retainer", "1", "1200.00"),
        line("Training", "1", "150.00", "0"),
    )

    april = cycles_until(sub, [change], date(2026, 4, 1))[-1]

    # 16–31 Mar is 16 of 31 days: +200 × 16/31 = 103.2258… → 103.23 at 20 %;
    # −150 × 16/31 = −77.419… → a credit of 77.42, exempt.
    assert april.lines[-1] == LineInput(
        "Plan change adjustment (16 Mar – 31 Mar), VAT 20%",
        Decimal(1),
        Decimal("103.23"),
        Decimal("20"),
        TaxCategory.STANDARD,
    )
    assert april.credits == (
        CreditAdjustment(
            amount=Money("77.42", "EUR"),
            description="Plan change credit (16 Mar – 31 Mar), exempt",
            tax_category=TaxCategory.EXEMPT,
            vat_rate=Decimal("0"),
        ),
    )
    assert summary([april]) == [(date(2026, 4, 1), "bill", "1453.23", "260.65", "1713.88")]


def test_no_adjustment_for_a_change_inside_a_skipped_period() -> None:
    sub = subscription(proration="daily")
    exceptions: list[ScheduleException] = [
        skip("k", date(2026, 10, 1)),
        plan_change("pc", date(2026, 10, 15), *PRO),
    ]

    november = cycles_until(sub, exceptions, date(2026, 11, 1))[-1]

    assert summary([november]) == [(date(2026, 11, 1), "bill", "1591.00", "318.20", "1909.20")]


def test_an_adjustment_moves_to_the_next_billed_cycle_when_the_next_one_is_skipped() -> None:
    sub = subscription(proration="daily")
    exceptions: list[ScheduleException] = [
        plan_change("pc", date(2026, 10, 15), *PRO),
        skip("k", date(2026, 11, 1)),
    ]

    cycles = cycles_until(sub, exceptions, date(2027, 1, 1))

    assert summary(cycles)[-3:] == [
        (date(2026, 11, 1), "skipped", "0.00", "0.00", "0.00"),
        (date(2026, 12, 1), "bill", "1865.19", "373.04", "2238.23"),
        (date(2027, 1, 1), "bill", "1591.00", "318.20", "1909.20"),
    ]


def test_proration_uses_the_plan_not_a_one_off_billed_for_the_period() -> None:
    sub = subscription(proration="daily")
    exceptions: list[ScheduleException] = [
        one_off("o", date(2026, 10, 1), line("October special", "1", "10.00")),
        plan_change("pc", date(2026, 10, 15), *PRO),
    ]

    november = cycles_until(sub, exceptions, date(2026, 11, 1))[-1]

    assert november.lines[-1].unit_price == Decimal("274.19")


def test_a_plan_change_before_the_first_cycle_bills_the_new_plan_from_the_start() -> None:
    sub = subscription(start_date=date(2026, 1, 10), proration="daily")

    cycles = cycles_until(sub, [plan_change("pc", date(2026, 1, 20), *PRO)], date(2026, 3, 1))

    assert summary(cycles) == [
        (date(2026, 2, 1), "bill", "1591.00", "318.20", "1909.20"),
        (date(2026, 3, 1), "bill", "1591.00", "318.20", "1909.20"),
    ]


def test_yen_adjustments_round_to_whole_yen() -> None:
    sub = subscription(
        currency="JPY",
        lines=(line("Plan", "1", "10000"),),
        proration="daily",
        start_date=date(2026, 3, 1),
    )
    change = plan_change("pc", date(2026, 3, 30), line("Plan", "1", "20000"))

    april = cycles_until(sub, [change], date(2026, 4, 1))[-1]

    # 10000 × 2 / 31 = 645.16… → 645 yen.
    assert april.lines[-1].unit_price == Decimal("645")
    assert april.lines[-1].description == "Plan change adjustment (30 Mar – 31 Mar)"


# --- one-cycle exceptions --------------------------------------------------------------------


def test_extra_lines_are_added_after_the_plan_lines_in_recording_order() -> None:
    later = RECORDED_AT + timedelta(hours=1)
    exceptions: list[ScheduleException] = [
        extra("x2", date(2026, 2, 1), line("Workshop", "1", "250.00"), at=later),
        extra("x1", date(2026, 2, 1), line("Setup fee", "1", "100.00")),
    ]

    february = cycles_until(subscription(), exceptions, date(2026, 2, 1))[-1]

    assert [ln.description for ln in february.lines] == [
        "Monthly retainer",
        "Hosting",
        "Setup fee",
        "Workshop",
    ]
    assert summary([february]) == [(date(2026, 2, 1), "bill", "1441.00", "288.20", "1729.20")]
    assert february.reason == "scheduled; extra line (extra line x1); extra line (extra line x2)"


def test_a_one_off_with_an_extra_line_replaces_the_plan_and_keeps_the_extra() -> None:
    exceptions: list[ScheduleException] = [
        one_off("o", date(2026, 2, 1), line("February only", "1", "500.00")),
        extra("x", date(2026, 2, 1), line("Setup fee", "1", "100.00")),
    ]

    february = cycles_until(subscription(), exceptions, date(2026, 2, 1))[-1]

    assert [ln.description for ln in february.lines] == ["February only", "Setup fee"]


def test_an_exception_note_appears_in_the_cycle_reason() -> None:
    holiday = skip("k", date(2026, 2, 1), note="office closed")

    february = cycles_until(subscription(), [holiday], date(2026, 2, 1))[-1]

    assert february.reason == "skipped (skip k: office closed)"


# --- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"end_date": date(2025, 12, 1)}, "end_date 2025-12-01 must be after start_date"),
        ({"end_date": date(2026, 1, 1)}, "end_date 2026-01-01 must be after start_date"),
        ({"max_cycles": 0}, "max_cycles must be at least 1"),
        ({"currency": "XYZ"}, "unknown currency"),
        ({"lines": ()}, "at least one line is required"),
        ({"lines": (line("Bad", "0", "10"),)}, "line 1: quantity must be above zero"),
        ({"proration": "weekly"}, "proration must be 'none' or 'daily'"),
        ({"billing": "arrears"}, "only billing 'advance' is supported"),
        ({"client_id": " "}, "a client_id is required"),
    ],
)
def test_an_invalid_subscription_is_refused_with_the_reason(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidSchedule, match=message) as caught:
        subscription(**overrides)

    assert caught.value.code == "invalid_schedule"
    assert isinstance(caught.value, BillingError)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"frequency": "monthly", "interval": 0}, "interval must be at least 1"),
        ({"frequency": "monthly", "day_of_month": 0}, "day_of_month must be 1 to 31"),
        ({"frequency": "yearly", "day_of_month": 32}, "day_of_month must be 1 to 31"),
        ({"frequency": "weekly", "weekday": 7}, "weekday must be 0"),
        ({"frequency": "weekly", "day_of_month": 1}, "takes a weekday, not a day_of_month"),
        ({"frequency": "monthly", "weekday": 1}, "takes a day_of_month, not a weekday"),
        ({"frequency": "daily"}, "unknown frequency 'daily'"),
    ],
)
def test_an_invalid_recurrence_is_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidSchedule, match=message):
        Recurrence(**kwargs)


def test_a_skip_for_a_date_that_is_not_a_cycle_date_names_the_nearest_cycles() -> None:
    with pytest.raises(InvalidSchedule) as caught:
        cycles_until(subscription(), [skip("k", date(2026, 3, 15))], FAR)

    assert caught.value.message == (
        "skip k: 2026-03-15 is not a cycle date of subscription sub-1 (monthly on day 1, "
        "from 2026-01-01); nearest cycle dates: 2026-03-01, 2026-04-01"
    )


def test_a_one_off_after_the_last_cycle_is_refused() -> None:
    sub = subscription(max_cycles=2)

    with pytest.raises(InvalidSchedule, match=r"2026-03-01 is not a cycle date .* 2 cycles\)"):
        check_exceptions(sub, [one_off("o", date(2026, 3, 1), line("X", "1", "1"))])


def test_an_extra_line_before_the_start_is_refused() -> None:
    with pytest.raises(InvalidSchedule, match="extra line x: 2025-12-01 is not a cycle date"):
        check_exceptions(subscription(), [extra("x", date(2025, 12, 1), line("X", "1", "1"))])


@pytest.mark.parametrize(
    ("exceptions", "message"),
    [
        (
            [skip("k", date(2026, 2, 1)), one_off("o", date(2026, 2, 1), line("X", "1", "1"))],
            r"cycle 2026-02-01 is skipped \(k\) and has a custom amount \(o\)",
        ),
        (
            [skip("k", date(2026, 2, 1)), extra("x", date(2026, 2, 1), line("X", "1", "1"))],
            r"cycle 2026-02-01 is skipped \(k\) and has an extra line \(x\)",
        ),
        (
            [skip("k1", date(2026, 2, 1)), skip("k2", date(2026, 2, 1))],
            "cycle 2026-02-01 is already skipped by k1",
        ),
        (
            [
                one_off("o1", date(2026, 2, 1), line("X", "1", "1")),
                one_off("o2", date(2026, 2, 1), line("Y", "1", "1")),
            ],
            "already has the custom amount o1; one-off amount o2 conflicts",
        ),
        (
            [
                pause("p", date(2026, 2, 1), date(2026, 4, 1)),
                one_off("o", date(2026, 3, 1), line("X", "1", "1")),
            ],
            r"one-off amount o: cycle 2026-03-01 is inside pause p \(from 2026-02-01 until",
        ),
        (
            [plan_change("a", date(2026, 5, 5), *PRO), plan_change("b", date(2026, 5, 5), *LITE)],
            "plan change b: plan change a already takes effect on 2026-05-05",
        ),
        (
            [plan_change("a", date(2025, 12, 31), *PRO)],
            "plan change a: effective date 2025-12-31 is before the subscription starts",
        ),
        (
            [plan_change("a", date(2026, 5, 5), line("Broken", "1", "-5"))],
            "plan change a: line 1: unit_price must not be negative",
        ),
        (
            [skip("k", date(2026, 2, 1)), skip("k", date(2026, 3, 1))],
            "exception id k is used twice",
        ),
    ],
)
def test_conflicting_or_invalid_exceptions_are_refused(
    exceptions: list[ScheduleException], message: str
) -> None:
    with pytest.raises(InvalidSchedule, match=message):
        check_exceptions(subscription(), exceptions)
    with pytest.raises(InvalidSchedule, match=message):
        due_cycles(subscription(), exceptions, date(2026, 12, 31))


def test_an_exception_of_another_subscription_is_refused() -> None:
    other = skip("k", date(2026, 2, 1), subscription_id="sub-2")

    with pytest.raises(InvalidSchedule, match="belongs to subscription sub-2, not sub-1"):
        check_exceptions(subscription(), [other])


def test_a_pause_must_resume_after_it_starts() -> None:
    with pytest.raises(InvalidSchedule, match="resume_date 2026-03-01 must be after from_date"):
        pause("p", date(2026, 3, 1), date(2026, 3, 1))


def test_an_exception_needs_an_aware_creation_time() -> None:
    with pytest.raises(InvalidSchedule, match="created_at must be timezone-aware"):
        SkipException(
            id="k",
            subscription_id="sub-1",
            created_at=datetime(2026, 1, 1, 9, 0),
            created_by="ann",
            cycle_date=date(2026, 2, 1),
        )


def test_a_one_off_with_no_lines_points_to_a_skip_instead() -> None:
    with pytest.raises(InvalidSchedule, match="to bill nothing for the cycle, record a skip"):
        one_off("o", date(2026, 2, 1))


def test_valid_exceptions_pass_the_check() -> None:
    check_exceptions(subscription(max_cycles=12), YEAR_EXCEPTIONS)

    assert len(cycles_until(subscription(max_cycles=12), YEAR_EXCEPTIONS, FAR)) == 12


# --- properties ------------------------------------------------------------------------------


@st.composite
def schedules(draw: st.DrawFn) -> tuple[Subscription, list[ScheduleException]]:
    frequency = draw(st.sampled_from(get_args(Frequency)))
    interval = draw(st.integers(1, 3))
    if frequency == "weekly":
        recurrence = Recurrence("weekly", interval, weekday=draw(st.none() | st.integers(0, 6)))
    else:
        day = draw(st.none() | st.integers(1, 31))
        recurrence = Recurrence(frequency, interval, day_of_month=day)
    start = draw(st.dates(date(2020, 1, 1), date(2030, 12, 31)))
    end = draw(st.none() | st.integers(1, 1500).map(lambda n: start + timedelta(days=n)))
    sub = subscription(
        recurrence=recurrence,
        start_date=start,
        end_date=end,
        max_cycles=draw(st.none() | st.integers(1, 40)),
        proration=draw(st.sampled_from(["none", "daily"])),
    )
    cycle_dates = dates(cycles_until(sub, [], start + timedelta(days=1500)))
    exceptions: list[ScheduleException] = []
    pause_range: tuple[date, date] | None = None
    if draw(st.booleans()):
        first = draw(st.dates(start - timedelta(days=30), start + timedelta(days=1500)))
        pause_range = (first, first + timedelta(days=draw(st.integers(1, 200))))
        exceptions.append(pause("p", *pause_range))
    free = [
        d for d in cycle_dates if pause_range is None or not pause_range[0] <= d < pause_range[1]
    ]
    if free:
        for n, skipped_day in enumerate(draw(st.sets(st.sampled_from(free), max_size=5))):
            exceptions.append(skip(f"k{n}", skipped_day))
    if draw(st.booleans()):
        effective = draw(st.dates(start, start + timedelta(days=1500)))
        if end is None or effective < end:
            exceptions.append(plan_change("pc", effective, *LITE))
    return sub, exceptions


@settings(max_examples=150, deadline=None)
@given(schedules())
def test_cycles_increase_have_unique_ids_and_skipped_or_paused_dates_never_bill(
    case: tuple[Subscription, list[ScheduleException]],
) -> None:
    sub, exceptions = case
    until = sub.start_date + timedelta(days=1500)

    cycles = cycles_until(sub, exceptions, until)
    due = due_cycles(sub, exceptions, until)

    days = dates(cycles)
    assert all(a < b for a, b in pairwise(days))
    assert len({c.trigger_external_id for c in cycles}) == len(cycles)
    assert all(a.period_end == b.period_start for a, b in pairwise(cycles))
    assert all(c.period_start == c.cycle_date < c.period_end for c in cycles)
    # Exceptions never move or drop a cycle date (max_cycles counts every date).
    assert days == dates(cycles_until(sub, [], until))
    skipped = {e.cycle_date for e in exceptions if isinstance(e, SkipException)}
    pauses = [e for e in exceptions if isinstance(e, PauseException)]
    billed = {c.cycle_date for c in due}
    for cycle in cycles:
        blocked = cycle.cycle_date in skipped or any(p.covers(cycle.cycle_date) for p in pauses)
        assert blocked == (not cycle.is_billed)
        assert blocked == (cycle.cycle_date not in billed)
        assert blocked == (cycle.lines == ())
    assert all(all(ln.unit_price >= 0 for ln in c.lines) for c in cycles)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 31), st.dates(date(2020, 1, 1), date(2030, 12, 31)))
def test_a_monthly_day_falls_on_that_day_or_the_last_day_of_a_shorter_month(
    day: int, start: date
) -> None:
    sub = subscription(recurrence=Recurrence("monthly", day_of_month=day), start_date=start)

    cycles = cycles_until(sub, [], start + timedelta(days=800))

    assert len(cycles) >= 25
    for cycle in cycles:
        month_length = calendar.monthrange(cycle.cycle_date.year, cycle.cycle_date.month)[1]
        assert cycle.cycle_date.day == min(day, month_length)
    months = [(c.cycle_date.year, c.cycle_date.month) for c in cycles]
    assert len(set(months)) == len(months)


@settings(max_examples=60, deadline=None)
@given(schedules(), st.integers(0, 1500), st.integers(0, 400))
def test_a_later_scheduler_run_keeps_every_earlier_due_cycle_unchanged(
    case: tuple[Subscription, list[ScheduleException]], offset: int, more: int
) -> None:
    sub, exceptions = case
    today = sub.start_date + timedelta(days=offset)

    earlier = due_cycles(sub, exceptions, today)
    later = due_cycles(sub, exceptions, today + timedelta(days=more))

    assert later[: len(earlier)] == earlier
    upcoming = next_cycle_date(sub, exceptions, today)
    assert upcoming is None or upcoming > today
    if upcoming is not None and upcoming <= today + timedelta(days=more):
        assert later[len(earlier)].cycle_date == upcoming
