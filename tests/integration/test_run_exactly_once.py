"""`closeloop run` twice at once, and twenty times in a row: every message leaves once.

The world has six invoices issued on 2026-11-02 (their emails queued, not yet sent) and the
imported Pinecrest invoice. The runs happen at four moments, each with work due:

==================  ==========================================================================
2026-11-02 10:00Z   the six invoice emails
2026-11-17 10:00Z   Falke's two gentle reminders (Pinecrest: 02:00 in Los Angeles, nothing)
2026-11-18 18:00Z   Pinecrest's escalation to its owner (catch-up 'latest' skips the two missed
                    reminders); Europe is closed
2026-12-03 10:00Z   four gentle reminders; Falke's two escalations (their firm steps skipped)
==================  ==========================================================================

Mail goes through a real SMTP server (aiosmtpd); what it received is counted by Message-ID.
The concurrent runs are forked processes released together by a barrier, each calling the
CLI's ``main(["run", ...])`` (forking skips the cold start of two interpreters per moment).
"""

from __future__ import annotations

import contextlib
import io
import json
import multiprocessing as mp
import os
from collections import Counter
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest

from billing.invoice import LineInput
from billing.records import Trigger
from entrypoints.cli import main
from entrypoints.runner import composer
from storage.ledger import SqlLedgerFactory
from tests.fakes.smtp_server import FakeSmtpServer
from tools.clock import FixedClock
from tools.issuing import issue_invoice
from tools.sending import send_on_issue

ROOT = Path(__file__).resolve().parents[2]
MOMENTS = (
    ("2026-11-02T10:00:00+00:00", 6),
    ("2026-11-17T10:00:00+00:00", 2),
    ("2026-11-18T18:00:00+00:00", 1),
    ("2026-12-03T10:00:00+00:00", 6),
)
TOTAL = sum(n for _, n in MOMENTS)
GB_LINE = {"description": "Retainer", "quantity": "1", "unit_price": "500.00", "vat_rate": "20"}
EU_LINE = {**GB_LINE, "vat_rate": "0", "tax_category": "reverse_charge"}


def _issue_six(ledgers: SqlLedgerFactory, clock: FixedClock) -> list[str]:
    hook = send_on_issue(composer())
    numbers = []
    for i, client in enumerate(
        ["cl-kestrel", "cl-kestrel", "cl-falke", "cl-falke", "cl-mistral", "cl-sol"]
    ):
        line = GB_LINE if client == "cl-kestrel" else EU_LINE
        trigger = Trigger("asana", f"task-{i}", client, (LineInput.from_mapping(line),))
        numbers.append(issue_invoice(ledgers, trigger, clock=clock, on_issued=[hook]).number)
    return numbers


def _warm_up_pdf(ledgers: SqlLedgerFactory) -> None:
    from render.pdf import render_pdf

    with ledgers() as ledger:
        render_pdf(ledger.invoice("LS-2026-0041").document)


def _received_ids(smtp: FakeSmtpServer) -> Counter[str]:
    return Counter(str(message_from_bytes(m.data)["Message-ID"]) for m in smtp.messages)


def _outbox_statuses(ledgers: SqlLedgerFactory) -> Counter[str]:
    with ledgers() as ledger:
        return Counter(r.status for r in ledger.outbox_rows(kinds=["email"]))


@pytest.fixture
def smtp() -> Any:
    with FakeSmtpServer() as server:
        yield server


@pytest.fixture
def env(tmp_path: Path, db_url: str, smtp: FakeSmtpServer) -> dict[str, str]:
    out = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CLOSELOOP_") and not k.startswith("PYTEST")
    }
    out.update(
        CLOSELOOP_DATABASE_URL=db_url,
        CLOSELOOP_SMTP_URL=smtp.url(),
        CLOSELOOP_DATA_DIR=str(tmp_path / "data"),
        PYTHONPATH=str(ROOT),
    )
    return out


def _run_in_child(moment: str, barrier: Any, results: Any) -> None:
    """`closeloop run --now <moment> --json` in a forked process; its JSON goes to the queue."""
    out = io.StringIO()
    barrier.wait(timeout=60)
    try:
        with contextlib.redirect_stdout(out):
            main(["run", "--now", moment, "--json"])
    except SystemExit as exc:
        if exc.code not in (0, None):
            results.put(("error", f"exit {exc.code}"))
            return
    except Exception as exc:  # reported to the parent, which fails the test
        results.put(("error", repr(exc)))
        return
    results.put(("ok", out.getvalue().strip().splitlines()[-1]))


@pytest.mark.slow
def test_two_concurrent_runs_at_each_moment_send_every_message_exactly_once(
    ledgers: SqlLedgerFactory,
    world: dict[str, Any],
    clock: FixedClock,
    smtp: FakeSmtpServer,
    env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _issue_six(ledgers, clock)
    _warm_up_pdf(ledgers)  # the forked runs then share a loaded WeasyPrint, not a cold start
    monkeypatch.chdir(tmp_path)
    for key in ("CLOSELOOP_DATABASE_URL", "CLOSELOOP_SMTP_URL", "CLOSELOOP_DATA_DIR"):
        monkeypatch.setenv(key, env[key])
    ctx = mp.get_context("fork")
    delivered: list[int] = []
    for moment, expected in MOMENTS:
        before = len(smtp.messages)
        barrier, results = ctx.Barrier(2), ctx.Queue()
        procs = [ctx.Process(target=_run_in_child, args=(moment, barrier, results)) for _ in "ab"]
        for proc in procs:
            proc.start()
        outcomes = [results.get(timeout=120) for _ in procs]
        for proc in procs:
            proc.join(timeout=30)
            assert proc.exitcode == 0
        assert [o for o in outcomes if o[0] == "error"] == []
        for _, line in outcomes:
            report = json.loads(line)
            assert report["failed"] == 0 and report["retrying"] == 0
            delivered.append(report["delivered"])
        assert len(smtp.messages) - before == expected, moment

    received = _received_ids(smtp)
    assert len(received) == TOTAL
    assert [mid for mid, n in received.items() if n > 1] == []
    assert sum(delivered) == TOTAL  # each send was recorded once, by the process that made it
    assert _outbox_statuses(ledgers) == {"sent": TOTAL}


@pytest.mark.slow
def test_twenty_runs_in_a_row_send_every_message_exactly_once(
    ledgers: SqlLedgerFactory,
    world: dict[str, Any],
    clock: FixedClock,
    smtp: FakeSmtpServer,
    env: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    numbers = _issue_six(ledgers, clock)
    monkeypatch.chdir(tmp_path)
    for key in ("CLOSELOOP_DATABASE_URL", "CLOSELOOP_SMTP_URL", "CLOSELOOP_DATA_DIR"):
        monkeypatch.setenv(key, env[key])

    reports = []
    for moment, expected in MOMENTS:
        before = len(smtp.messages)
        for _ in range(5):  # 4 moments × 5 = twenty runs
            with pytest.raises(SystemExit) as exit_info:
                main(["run", "--now", moment, "--json"])
            assert exit_info.value.code in (0, None)
            reports.append(json.loads(capsys.readouterr().out.strip().splitlines()[-1]))
        assert len(smtp.messages) - before == expected, moment

    assert len(reports) == 20
    # the first run at each moment sends what is due; the four after it find nothing to do
    assert [r["delivered"] for r in reports] == [x for _, n in MOMENTS for x in (n, 0, 0, 0, 0)]
    received = _received_ids(smtp)
    assert len(received) == TOTAL and set(received.values()) == {1}
    assert _outbox_statuses(ledgers) == {"sent": TOTAL}
    with ledgers() as ledger:
        falke = [e.kind.value for e in ledger.events(numbers[2])]
        pine = [e.kind.value for e in ledger.events("LS-2026-0044")]
    assert falke.count("reminder_sent") == 1 and falke.count("reminder_skipped") == 1
    assert pine.count("reminder_skipped") == 2 and pine.count("escalated") == 2
