"""Recurring billing over a year: the scheduler run twice a day bills each cycle exactly once.

Kestrel's retainer (GBP 1,000.00 + 20 % VAT, monthly on the 1st, daily proration) in 2027,
with a skipped March, a custom April amount, a summer pause (June and July) and an upgrade to
GBP 1,500.00 recorded in September, effective 15 October. ``run_subscriptions`` runs at 00:30
and 12:00 UTC on every day of the year, as cron would, with the invoice email hook of
``closeloop run``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest

from billing.status import InvoiceStatus
from entrypoints.runner import composer
from storage.ledger import SqlLedgerFactory
from tools.clock import FixedClock
from tools.recurring import run_subscriptions, save_subscription
from tools.sending import send_on_issue

SUB = "sub-kestrel-retainer"


def _line(price: str, description: str = "Monthly retainer") -> dict[str, str]:
    return {"description": description, "quantity": "1", "unit_price": price, "vat_rate": "20"}


def _spec(*exceptions: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": SUB,
        "client": "cl-kestrel",
        "currency": "GBP",
        "lines": [_line("1000.00")],
        "recurrence": {"frequency": "monthly", "day_of_month": 1},
        "start_date": "2027-01-01",
        "proration": "daily",
        "exceptions": list(exceptions),
    }


SKIP_MARCH = {"id": "skip-mar", "kind": "skip", "cycle_date": "2027-03-01", "note": "agency closed"}
CUSTOM_APRIL = {
    "id": "apr-reduced",
    "kind": "one_off",
    "cycle_date": "2027-04-01",
    "lines": [_line("750.00", "Monthly retainer (reduced April)")],
}
SUMMER_PAUSE = {
    "id": "summer",
    "kind": "pause",
    "from_date": "2027-06-01",
    "resume_date": "2027-08-01",
}
UPGRADE = {
    "id": "upgrade",
    "kind": "plan_change",
    "effective_date": "2027-10-15",
    "new_lines": [_line("1500.00", "Monthly retainer (extended)")],
}

EXPECTED = [  # number, issue date, grand total
    ("LS-2027-0001", date(2027, 1, 1), Decimal("1200.00")),
    ("LS-2027-0002", date(2027, 2, 1), Decimal("1200.00")),
    # March skipped
    ("LS-2027-0003", date(2027, 4, 1), Decimal("900.00")),  # custom 750.00 + VAT
    ("LS-2027-0004", date(2027, 5, 1), Decimal("1200.00")),
    # June and July paused
    ("LS-2027-0005", date(2027, 8, 1), Decimal("1200.00")),
    ("LS-2027-0006", date(2027, 9, 1), Decimal("1200.00")),
    ("LS-2027-0007", date(2027, 10, 1), Decimal("1200.00")),  # the upgrade starts on the 15th
    # 1,500.00 + (1,500 − 1,000) × 17/31 days = 274.19 → net 1,774.19 + VAT 354.84
    ("LS-2027-0008", date(2027, 11, 1), Decimal("2129.03")),
    ("LS-2027-0009", date(2027, 12, 1), Decimal("1800.00")),
]


@pytest.mark.slow
def test_a_year_of_daily_runs_twice_a_day_bills_exactly_the_expected_invoices(
    ledgers: SqlLedgerFactory, world: dict[str, Any], clock: FixedClock
) -> None:
    clock.set(datetime(2026, 12, 15, 10, 0, tzinfo=UTC))
    assert save_subscription(
        ledgers, _spec(SKIP_MARCH, CUSTOM_APRIL, SUMMER_PAUSE), clock=clock, actor="ada"
    )
    hooks = [send_on_issue(composer())]
    issued: list[tuple[date, str]] = []
    existing = 0
    day = date(2027, 1, 1)
    while day.year == 2027:
        if day == date(2027, 9, 20):  # the client upgrades; recorded mid-year
            clock.set(datetime.combine(day, time(9, 0), tzinfo=UTC))
            assert save_subscription(
                ledgers, _spec(SKIP_MARCH, CUSTOM_APRIL, SUMMER_PAUSE, UPGRADE), clock=clock
            )
        for at in (time(0, 30), time(12, 0)):
            clock.set(datetime.combine(day, at, tzinfo=UTC))
            report = run_subscriptions(ledgers, clock, on_issued=hooks)
            issued += [(day, number) for number in report.issued]
            existing += len(report.existing)
            assert report.credit_notes == []
        day += timedelta(days=1)

    assert issued == [(d, n) for n, d, _ in EXPECTED]  # each on its cycle date, at 00:30
    assert existing == 0  # no run re-submitted a cycle it had already billed
    with ledgers() as ledger:
        records = ledger.invoices(client_id="cl-kestrel")
        billed = [
            (r.number, r.document.issue_date, r.total) for r in records if r.number[3:7] == "2027"
        ]
        nov = ledger.invoice("LS-2027-0008")
        duplicates = [
            n
            for n, _, _ in EXPECTED
            if any(e.kind.value == "trigger_duplicate" for e in ledger.events(n))
        ]
        emails = [r.idempotency_key for r in ledger.outbox_rows(kinds=["email"])]
    assert billed == EXPECTED
    assert all(r.status is InvoiceStatus.OPEN for r in records if r.number[3:7] == "2027")
    assert [(ln.description, ln.net_amount) for ln in nov.document.lines] == [
        ("Monthly retainer (extended)", Decimal("1500.00")),
        ("Plan change adjustment (15 Oct – 31 Oct)", Decimal("274.19")),
    ]
    assert duplicates == []
    assert emails == [f"invoice:{n}:issue" for n, _, _ in EXPECTED]


def test_a_subscription_that_cannot_be_billed_does_not_stop_the_others_or_the_cycle(
    ledgers: SqlLedgerFactory, world: dict[str, Any], clock: FixedClock
) -> None:
    # Pinecrest has no VAT id: a reverse-charge line cannot be invoiced to it.
    broken = {
        **_spec(),
        "id": "sub-pine-broken",
        "client": "cl-pine",
        "currency": "USD",
        "lines": [{**_line("300.00"), "vat_rate": "0", "tax_category": "reverse_charge"}],
    }
    save_subscription(ledgers, broken, clock=clock)
    save_subscription(ledgers, _spec(), clock=clock)
    clock.set(datetime(2027, 1, 1, 8, 0, tzinfo=UTC))

    first = run_subscriptions(ledgers, clock)
    second = run_subscriptions(ledgers, clock)

    assert first.issued == ["LS-2027-0001"] and second.issued == []
    assert len(first.errors) == 1 and len(second.errors) == 1
    assert "sub-pine-broken" in first.errors[0] and "VAT" in first.errors[0]
