"""Payments from a CSV export (format in ``tools/sync.py``) and how they end the chase.

The CSV rows cover a partial payment, an overpayment kept as client credit, a payment in
another currency (refused, with the line number and a reason a person can act on) and a row
given twice (recorded once). A payment in full takes an invoice out of the chase: nothing is
sent after it, and a reminder queued before it arrived is cancelled by the delivery re-check
and logged as ``reminder_skipped``. Mail goes through a real SMTP server (aiosmtpd).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from billing.invoice import LineInput
from billing.records import Trigger
from billing.status import InvoiceStatus
from connectors.slack import SlackClient
from connectors.smtp import SmtpMailer
from entrypoints.bootstrap import App
from entrypoints.runner import Services, build_services, run_cycle, worker_id
from entrypoints.settings import Settings
from storage.engine import Database
from storage.ledger import SqlLedgerFactory
from tests.fakes.slack_server import FakeSlack
from tests.fakes.smtp_server import FakeSmtpServer
from tools.clock import FixedClock
from tools.delivery import deliver_outbox
from tools.issuing import issue_invoice
from tools.sync import import_payments_csv

PINE = "LS-2026-0044"  # imported, USD 6,400.00, due 2026-11-04, Los Angeles
PINE_GENTLE_DAY = datetime(2026, 11, 5, 18, 0, tzinfo=UTC)  # 10:00 in Los Angeles
LINE = {"description": "Design sprint", "quantity": "1", "unit_price": "1000.00", "vat_rate": "20"}

CSV = """invoice,amount,currency,date,reference,external_id
LS-2026-0045,500.00,GBP,2026-11-20,BACS KESTREL 1,
LS-2026-0046,1250.00,GBP,2026-11-21,BACS KESTREL 2,
LS-2026-0045,100.00,EUR,2026-11-21,SEPA KESTREL 3,
LS-2026-0045,500.00,GBP,2026-11-20,BACS KESTREL 1,
"""
PINE_PAID_CSV = """invoice,amount,currency,date,reference
LS-2026-0044,6400.00,USD,2026-11-06,WIRE PINECREST 0611
"""


@pytest.fixture
def smtp() -> Iterator[FakeSmtpServer]:
    with FakeSmtpServer() as server:
        yield server


@pytest.fixture
def app(db: Database, ledgers: SqlLedgerFactory, clock: FixedClock, tmp_path: Path) -> App:
    return App(Settings(data_dir=str(tmp_path / "data")), db, ledgers, clock)


@pytest.fixture
def services(app: App, smtp: FakeSmtpServer) -> Services:
    return build_services(app, mailer=SmtpMailer(smtp.url()))


def _kestrel_invoices(app: App) -> list[str]:
    return [
        issue_invoice(
            app.ledgers,
            Trigger("asana", f"task-{i}", "cl-kestrel", (LineInput.from_mapping(LINE),)),
            clock=app.clock,
        ).number
        for i in range(2)
    ]


def test_csv_import_records_partial_and_over_payments_refuses_other_currency_ignores_repeats(
    app: App, world: dict[str, Any], clock: FixedClock
) -> None:
    first, second = _kestrel_invoices(app)  # GBP 1,200.00 each
    clock.set(datetime(2026, 11, 22, 9, 0, tzinfo=UTC))

    report = import_payments_csv(app.ledgers, CSV, clock=clock, source="bank")

    assert [(r.invoice_number, r.status, r.balance, r.overpaid) for r in report.recorded] == [
        (first, InvoiceStatus.PARTIALLY_PAID, Decimal("700.00"), Decimal("0")),
        (second, InvoiceStatus.PAID, Decimal("0.00"), Decimal("50.00")),
    ]
    assert report.duplicates == 1  # line 5 repeats line 2
    assert report.errors == [
        (
            4,
            f"payment_refused: payment in EUR cannot settle {first}, which is in GBP; "
            "convert it in the accounting system first",
        )
    ]
    with app.ledgers() as ledger:
        partial = ledger.invoice(first)
        paid = ledger.invoice(second)
        payments = [(p.external_id, p.amount) for p in ledger.payments(first)]
        credit_event = [e for e in ledger.events(second) if e.kind.value == "payment_recorded"]
    assert (partial.status, partial.amount_paid, partial.balance) == (
        InvoiceStatus.PARTIALLY_PAID,
        Decimal("500.00"),
        Decimal("700.00"),
    )
    assert (paid.status, paid.amount_paid, paid.balance) == (
        InvoiceStatus.PAID,
        Decimal("1200.00"),
        Decimal("0.00"),
    )
    assert payments == [("bank:BACS KESTREL 1", Decimal("500.00"))]
    assert credit_event[0].data["overpaid"] == "50.00"
    assert "GBP 50.00 kept as client credit" in credit_event[0].summary

    again = import_payments_csv(app.ledgers, CSV, clock=clock, source="bank")

    assert (len(again.recorded), again.duplicates, [ln for ln, _ in again.errors]) == (0, 3, [4])
    with app.ledgers() as ledger:
        assert ledger.invoice(first).amount_paid == Decimal("500.00")


def test_csv_without_required_columns_is_refused_before_any_row(
    app: App, world: dict[str, Any], clock: FixedClock
) -> None:
    report = import_payments_csv(app.ledgers, "invoice,amount\nLS-2026-0044,10.00\n", clock=clock)

    assert report.recorded == [] and report.duplicates == 0
    assert report.errors == [
        (
            1,
            "header lacks column(s) date, reference; expected "
            "invoice,amount,currency,date,reference[,external_id]",
        )
    ]


def test_an_invoice_paid_after_its_first_reminder_is_never_chased_again(
    app: App,
    services: Services,
    world: dict[str, Any],
    clock: FixedClock,
    smtp: FakeSmtpServer,
) -> None:
    clock.set(PINE_GENTLE_DAY)
    assert run_cycle(app, services).delivery.sent == 1  # the gentle reminder
    clock.set(datetime(2026, 11, 6, 20, 0, tzinfo=UTC))
    assert len(import_payments_csv(app.ledgers, PINE_PAID_CSV, clock=clock).recorded) == 1

    moment = clock.now()
    while moment < datetime(2026, 12, 10, tzinfo=UTC):  # past the firm and escalation dates
        clock.set(moment)
        run_cycle(app, services)
        moment += timedelta(hours=6)

    assert [m.rcpt_tos for m in smtp.messages] == [("ap@pinecrest-labs.example",)]
    with app.ledgers() as ledger:
        record = ledger.invoice(PINE)
        steps = [(r.step_key, r.status) for r in ledger.chase_history(PINE)]
        keys = [r.idempotency_key for r in ledger.outbox_rows()]
        due = ledger.chase_candidates(datetime(2027, 12, 31, tzinfo=UTC))
    assert record.status is InvoiceStatus.PAID
    assert steps == [("gentle", "sent")]
    assert keys == [f"chase:{PINE}:gentle"]
    assert due == []


def test_a_reminder_queued_before_the_payment_arrived_is_cancelled_at_delivery(
    app: App,
    services: Services,
    world: dict[str, Any],
    clock: FixedClock,
    smtp: FakeSmtpServer,
) -> None:
    clock.set(PINE_GENTLE_DAY)
    queued = run_cycle(app, services, deliver=False)  # `closeloop chase --no-send`
    assert [(a.invoice, a.step) for a in queued.chase.actions] == [(PINE, "gentle")]
    clock.set(PINE_GENTLE_DAY + timedelta(minutes=5))
    import_payments_csv(app.ledgers, PINE_PAID_CSV, clock=clock)

    report = deliver_outbox(
        app.ledgers, services.handlers, clock, worker=worker_id(), composer=services.compose
    )

    assert (report.cancelled, report.sent, report.dead) == (1, 0, 0)
    assert smtp.messages == []
    with app.ledgers() as ledger:
        (row,) = ledger.outbox_rows()
        skipped = [e for e in ledger.events(PINE) if e.kind.value == "reminder_skipped"]
        steps = [(r.step_key, r.status, r.reason) for r in ledger.chase_history(PINE)]
    assert (row.idempotency_key, row.status) == (f"chase:{PINE}:gentle", "cancelled")
    assert [e.summary for e in skipped] == [
        "Queued reminder_gentle not sent: invoice is paid",
    ]
    assert steps == [("gentle", "failed", "not sent: invoice is paid")]
    clock.set(PINE_GENTLE_DAY + timedelta(days=20))
    assert run_cycle(app, services).delivery.handled == 0


def test_an_escalation_queued_before_the_payment_arrived_is_neither_emailed_nor_posted(
    db: Database,
    ledgers: SqlLedgerFactory,
    world: dict[str, Any],
    clock: FixedClock,
    smtp: FakeSmtpServer,
    tmp_path: Path,
) -> None:
    app = App(Settings(data_dir=str(tmp_path / "d"), slack_channel="C0FINANCE"), db, ledgers, clock)
    with (
        FakeSlack(token="xoxb-test") as slack,
        SlackClient("xoxb-test", base_url=slack.base_url) as client,
    ):
        services = build_services(app, mailer=SmtpMailer(smtp.url()), slack=client)
        clock.set(datetime(2026, 11, 18, 18, 0, tzinfo=UTC))  # the escalation day, 10:00 local
        queued = run_cycle(app, services, deliver=False)
        assert [a.kind for a in queued.chase.actions] == ["skip", "skip", "escalate"]
        import_payments_csv(app.ledgers, PINE_PAID_CSV, clock=clock)

        report = deliver_outbox(
            app.ledgers,
            services.handlers,
            clock,
            worker=worker_id(),
            composer=services.compose,
            slack_channel=services.slack_channel,
        )

        assert (report.cancelled, report.sent) == (2, 0)
        assert smtp.messages == [] and slack.posts == []
    with app.ledgers() as ledger:
        rows = {r.idempotency_key: r.status for r in ledger.outbox_rows()}
    assert rows == {
        f"chase:{PINE}:escalation": "cancelled",
        f"chase:{PINE}:escalation:slack": "cancelled",
    }
