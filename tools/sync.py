"""Payments from the outside: a bank/accounting CSV export, or the accounting system's feed.

CSV format (UTF-8, header row, one payment per row)::

    invoice,amount,currency,date,reference[,external_id]
    INV-2026-0117,4344.00,GBP,2026-11-21,BACS ACME 88120

``amount`` is a decimal string with a dot; ``date`` is YYYY-MM-DD; ``external_id`` defaults to
``<source>:<reference>`` and makes each row idempotent (importing the same file again records
nothing new). Each row is its own transaction: a bad row is reported with its line number and
does not stop the others.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from billing.errors import BillingError
from tools.clock import Clock
from tools.payments import PaymentResult, record_payment
from tools.ports import AccountingSystem, LedgerFactory

REQUIRED = ("invoice", "amount", "date", "reference")


@dataclass
class PaymentImportReport:
    """Outcome of a payments import or sync."""

    recorded: list[PaymentResult] = field(default_factory=list)
    duplicates: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def import_payment_rows(
    ledgers: LedgerFactory,
    rows: Iterable[Mapping[str, str]],
    *,
    clock: Clock,
    source: str,
    first_line: int = 2,
) -> PaymentImportReport:
    """Record each row (see the module docstring for the columns)."""
    report = PaymentImportReport()
    for offset, row in enumerate(rows):
        line = first_line + offset
        missing = [c for c in REQUIRED if not (row.get(c) or "").strip()]
        if missing:
            report.errors.append((line, f"missing {', '.join(missing)}"))
            continue
        try:
            received = date.fromisoformat(row["date"].strip())
        except ValueError:
            report.errors.append((line, f"date {row['date']!r} is not YYYY-MM-DD"))
            continue
        reference = row["reference"].strip()
        try:
            result = record_payment(
                ledgers,
                invoice_number=row["invoice"].strip(),
                amount=row["amount"].strip(),
                currency=(row.get("currency") or "").strip() or None,
                received_date=received,
                reference=reference,
                external_id=(row.get("external_id") or "").strip() or f"{source}:{reference}",
                source=source,
                clock=clock,
                actor=f"payments:{source}",
            )
        except BillingError as exc:
            report.errors.append((line, f"{exc.code}: {exc.message}"))
            continue
        if result.recorded:
            report.recorded.append(result)
        else:
            report.duplicates += 1
    return report


def import_payments_csv(
    ledgers: LedgerFactory, text: str, *, clock: Clock, source: str = "csv"
) -> PaymentImportReport:
    """Import a payments CSV given as text."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        report = PaymentImportReport()
        report.errors.append(
            (
                1,
                f"header lacks column(s) {', '.join(missing)}; expected "
                "invoice,amount,currency,date,reference[,external_id]",
            )
        )
        return report
    rows = ({(k or "").strip(): (v or "") for k, v in row.items()} for row in reader)
    return import_payment_rows(ledgers, rows, clock=clock, source=source)


def sync_payments(
    ledgers: LedgerFactory, accounting: AccountingSystem, *, clock: Clock
) -> PaymentImportReport:
    """Pull new payments from the accounting system; the cursor is kept in the database."""
    key = f"sync:{accounting.name}:payments"
    with ledgers() as ledger:
        state = ledger.get_state(key) or {}
    rows, cursor = accounting.payments_since(state.get("cursor"))
    report = import_payment_rows(ledgers, rows, clock=clock, source=accounting.name)
    with ledgers() as ledger:
        ledger.set_state(key, {"cursor": cursor}, clock.now())
    return report
