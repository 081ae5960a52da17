"""Issuing from triggers, credit notes, payments and import — on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from billing.errors import BillingError, InvalidInvoice, NotFound
from billing.invoice import LineInput
from billing.records import Trigger
from billing.status import InvoiceStatus
from storage.engine import Database
from storage.ledger import SqlLedgerFactory
from tools.clock import FixedClock
from tools.errors import ImportFormatError, PaymentRefused
from tools.importing import import_world
from tools.issuing import issue_credit_note, issue_invoice
from tools.payments import record_payment


def _line(**over: str) -> LineInput:
    data = {
        "description": "Design sprint",
        "quantity": "3",
        "unit_price": "950.00",
        "vat_rate": "20",
    }
    data.update(over)
    return LineInput.from_mapping(data)


def _trigger(ext: str = "task-1", client: str = "cl-kestrel", **kw: Any) -> Trigger:
    return Trigger(
        source="asana", external_id=ext, client_id=client, lines=kw.pop("lines", (_line(),)), **kw
    )


def test_trigger_issues_a_numbered_invoice_with_snapshot_and_trail(
    ledgers: SqlLedgerFactory, world: dict[str, Any], clock: FixedClock
) -> None:
    result = issue_invoice(ledgers, _trigger(), clock=clock)

    assert (result.number, result.created) == ("LS-2026-0045", True)
    with ledgers() as ledger:
        inv = ledger.invoice(result.number)
        events = [e.kind.value for e in ledger.events(result.number)]
    assert inv.status is InvoiceStatus.OPEN
    assert inv.document.issue_date == date(2026, 11, 2)
    assert inv.due_date == date(2026, 12, 2)  # Kestrel: 30 days
    assert inv.document.totals.grand_total == Decimal("3420.00")
    assert inv.document.seller.vat_id == "GB100000001"
    assert inv.document.buyer.email == "finance@kestrel-outdoor.example"
    assert events == ["trigger_received", "invoice_issued"]


def test_second_delivery_of_same_trigger_issues_no_new_invoice(
    ledgers: SqlLedgerFactory, world: dict[str, Any], clock: FixedClock
) -> None:
    first = issue_invoice(ledgers, _trigger(), clock=clock)
    second = issue_invoice(ledgers, _trigger(lines=(_line(unit_price="1.00"),)), clock=clock)

    assert second.number == first.number and second.created is False
    with ledgers() as ledger:
        assert ledger.invoice(first.number).total == Decimal("3420.00")
        assert [e.kind.value for e in ledger.events(first.number)][-1] == "trigger_duplicate"
        assert ledger.trigger_stats() == {"issued": 1, "duplicates": 1}


def test_bad_trigger_is_refused_recorded_and_can_be_redelivered_fixed(
    ledgers: SqlLedgerFactory, world: dict[str, Any], clock: FixedClock
) -> None:
    reverse = _line(vat_rate="0", tax_category="reverse_charge")
    with pytest.raises(InvalidInvoice, match="buyer's VAT id"):
        issue_invoice(ledgers, _trigger(client="cl-pine", lines=(reverse,)), clock=clock)
    with ledgers() as ledger:
        assert ledger.trigger_stats() == {"rejected": 1, "duplicates": 0}
        assert ledger.invoices(client_id="cl-pine")[-1].number == "LS-2026-0044"  # nothing new

    fixed = _line(vat_rate="0", tax_category="outside_scope")
    result = issue_invoice(ledgers, _trigger(client="cl-pine", lines=(fixed,)), clock=clock)
    assert (result.number, result.created) == ("LS-2026-0045", True)  # no number was burnt


def test_unknown_client_is_a_clear_error_and_issues_nothing(
    ledgers: SqlLedgerFactory, world: dict[str, Any], clock: FixedClock
) -> None:
    with pytest.raises(NotFound, match="unknown client 'cl-ghost'"):
        issue_invoice(ledgers, _trigger(client="cl-ghost"), clock=clock)
    with ledgers() as ledger:
        assert ledger.trigger_stats()["rejected"] == 1


def test_reverse_charge_invoice_for_german_client_in_euro(
    ledgers: SqlLedgerFactory, world: dict[str, Any], clock: FixedClock
) -> None:
    line = _line(vat_rate="0", tax_category="reverse_charge", unit_price="1200.00")
    number = issue_invoice(ledgers, _trigger(client="cl-falke", lines=(line,)), clock=clock).number
    with ledgers() as ledger:
        inv = ledger.invoice(number)
    assert inv.currency == "EUR"
    assert inv.document.language == "de"
    assert inv.document.totals.tax_total == Decimal("0.00")
    assert inv.document.breakdown[0].code == "AE"
    assert inv.document.breakdown[0].exemption_code == "VATEX-EU-AE"
    assert inv.due_date == date(2026, 11, 16)  # 14 days


def test_partial_then_full_payment_settles_and_overpayment_is_kept_as_credit(
    ledgers: SqlLedgerFactory, world: dict[str, Any], clock: FixedClock
) -> None:
    number = issue_invoice(ledgers, _trigger(), clock=clock).number

    part = record_payment(
        ledgers,
        invoice_number=number,
        amount="1000.00",
        received_date=date(2026, 11, 10),
        reference="BACS 1",
        clock=clock,
    )
    again = record_payment(
        ledgers,
        invoice_number=number,
        amount="1000.00",
        received_date=date(2026, 11, 10),
        reference="BACS 1",
        clock=clock,
    )
    rest = record_payment(
        ledgers,
        invoice_number=number,
        amount="2500.00",
        received_date=date(2026, 11, 20),
        reference="BACS 2",
        clock=clock,
    )

    assert (part.status, part.balance) == (InvoiceStatus.PARTIALLY_PAID, Decimal("2420.00"))
    assert again.recorded is False
    assert (rest.status, rest.applied, rest.overpaid) == (
        InvoiceStatus.PAID,
        Decimal("2420.00"),
        Decimal("80.00"),
    )
    with ledgers() as ledger:
        inv = ledger.invoice(number)
        assert inv.amount_paid == Decimal("3420.00") and inv.balance == Decimal("0.00")
        assert [p.reference for p in ledger.payments(number)] == ["BACS 1", "BACS 2"]


def test_payment_in_another_currency_is_refused_and_changes_nothing(
    ledgers: SqlLedgerFactory, world: dict[str, Any], clock: FixedClock
) -> None:
    number = issue_invoice(ledgers, _trigger(), clock=clock).number
    with pytest.raises(PaymentRefused, match="payment in EUR cannot settle"):
        record_payment(
            ledgers,
            invoice_number=number,
            amount="100.00",
            currency="EUR",
            received_date=date(2026, 11, 10),
            reference="X",
            clock=clock,
        )
    with ledgers() as ledger:
        assert ledger.invoice(number).amount_paid == Decimal("0")
        assert ledger.payments(number) == []


def test_credit_note_refers_to_invoice_and_reduces_the_balance(
    ledgers: SqlLedgerFactory, world: dict[str, Any], clock: FixedClock
) -> None:
    number = issue_invoice(ledgers, _trigger(), clock=clock).number
    partial = issue_credit_note(
        ledgers, number, clock=clock, reason="One day not delivered", items=[_line(quantity="1")]
    )
    with ledgers() as ledger:
        credit = ledger.invoice(partial)
        inv = ledger.invoice(number)
    assert partial == "LSC-2026-0001"
    assert credit.document.refers_to is not None and credit.document.refers_to.number == number
    assert credit.total == Decimal("1140.00")
    assert inv.balance == Decimal("2280.00")
    assert inv.status is InvoiceStatus.OPEN

    full_rest = issue_credit_note(
        ledgers, number, clock=clock, reason="Cancelled", items=[_line(quantity="2")]
    )
    with ledgers() as ledger:
        assert ledger.invoice(number).status is InvoiceStatus.CREDITED
    assert full_rest == "LSC-2026-0002"
    with pytest.raises(InvalidInvoice):
        issue_credit_note(ledgers, number, clock=clock, reason="again")


def test_audit_trail_is_append_only_and_issued_invoices_cannot_be_deleted(
    db: Database, ledgers: SqlLedgerFactory, world: dict[str, Any], clock: FixedClock
) -> None:
    issue_invoice(ledgers, _trigger(), clock=clock)
    for statement in (
        "UPDATE invoice_events SET summary = 'edited'",
        "DELETE FROM invoice_events",
        "DELETE FROM invoices WHERE number = 'LS-2026-0045'",
    ):
        with pytest.raises(DBAPIError), db.engine.begin() as conn:
            conn.execute(text(statement))
    with ledgers() as ledger:
        assert len(ledger.events("LS-2026-0045")) == 2


def test_reimporting_the_same_file_changes_nothing(
    ledgers: SqlLedgerFactory, world: dict[str, Any], clock: FixedClock
) -> None:
    report = import_world(ledgers, world, clock=clock)

    assert report.changed == 0
    with ledgers() as ledger:
        paid = ledger.invoice("LS-2026-0041")
        assert paid.status is InvoiceStatus.PAID and len(ledger.payments("LS-2026-0041")) == 1
        assert [e.kind.value for e in ledger.events("LS-2026-0041")] == [
            "invoice_imported",
            "payment_recorded",
            "invoice_paid",
        ]


def test_import_error_names_the_place_in_the_file_and_loads_nothing(
    ledgers: SqlLedgerFactory, clock: FixedClock, sample_world: dict[str, Any]
) -> None:
    broken = copy.deepcopy(sample_world)
    broken["clients"][1]["vat_id"] = "DE12"
    with pytest.raises(ImportFormatError, match=r"clients\[1\]: VAT id 'DE12' has a wrong format"):
        import_world(ledgers, broken, clock=clock)
    with ledgers() as ledger, pytest.raises(BillingError):
        ledger.company()

    broken = copy.deepcopy(sample_world)
    del broken["company"]["currency"]
    with pytest.raises(ImportFormatError, match=r"company.currency: missing"):
        import_world(ledgers, broken, clock=clock)
