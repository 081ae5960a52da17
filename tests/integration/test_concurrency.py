"""Races between processes: the database keeps triggers idempotent and numbers gap-free."""

from __future__ import annotations

import multiprocessing as mp
from datetime import UTC, datetime
from typing import Any

import pytest

from billing.invoice import LineInput
from billing.records import Trigger
from storage.engine import Database
from storage.ledger import SqlLedgerFactory
from tools.clock import FixedClock
from tools.issuing import issue_invoice

LINE = {"description": "Retainer", "quantity": "1", "unit_price": "1000.00", "vat_rate": "20"}


def _issue_in_child(url: str, external_id: str, barrier: Any, results: Any) -> None:
    db = Database.open(url, migrate_schema=False)
    trigger = Trigger(
        source="asana",
        external_id=external_id,
        client_id="cl-kestrel",
        lines=(LineInput.from_mapping(LINE),),
    )
    clock = FixedClock(datetime(2026, 11, 2, 10, 0, tzinfo=UTC))
    barrier.wait(timeout=60)
    try:
        result = issue_invoice(SqlLedgerFactory(db), trigger, clock=clock)
        results.put(("ok", result.number, result.created))
    except Exception as exc:  # reported to the parent, which fails the test
        results.put(("error", repr(exc), False))
    finally:
        db.dispose()


def _race(url: str, external_ids: list[str]) -> list[tuple[str, str, bool]]:
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(len(external_ids))
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_issue_in_child, args=(url, ext, barrier, results))
        for ext in external_ids
    ]
    for p in procs:
        p.start()
    out = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    return out


@pytest.mark.slow
def test_twenty_processes_delivering_the_same_trigger_issue_one_invoice(
    db_url: str, world: dict[str, Any], ledgers: SqlLedgerFactory
) -> None:
    outcomes = _race(db_url, ["task-777"] * 20)

    assert [o for o in outcomes if o[0] == "error"] == []
    numbers = {number for _, number, _ in outcomes}
    # the sample world imported LS-2026-0044, so the series continues at 45
    assert numbers == {"LS-2026-0045"}
    assert sum(1 for _, _, created in outcomes if created) == 1
    with ledgers() as ledger:
        assert len(ledger.invoices(client_id="cl-kestrel")) == 2  # the imported one + this one
        dupes = [e for e in ledger.events("LS-2026-0045") if e.kind.value == "trigger_duplicate"]
        assert len(dupes) == 19
        assert ledger.trigger_stats() == {"issued": 1, "duplicates": 19}


@pytest.mark.slow
def test_fifty_concurrent_issues_in_one_series_number_one_to_fifty_without_gaps(
    db_url: str, world: dict[str, Any], ledgers: SqlLedgerFactory
) -> None:
    outcomes = _race(db_url, [f"deal-{i}" for i in range(50)])

    assert [o for o in outcomes if o[0] == "error"] == []
    assert all(created for _, _, created in outcomes)
    numbers = sorted(number for _, number, _ in outcomes)
    # imported LS-2026-0044 is the last number used elsewhere: 50 new ones follow, no gap
    assert numbers == [f"LS-2026-{i:04d}" for i in range(45, 95)]
