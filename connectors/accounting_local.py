"""The local accounting system used by the demo and by default.

Invoices pushed are written as JSON files under ``<dir>/invoices/``; payments are read from
``<dir>/payments.csv`` (the bank/accounting export format of ``closeloop payments import``),
the cursor being the number of rows already read. It stands in for Xero/QuickBooks/Sage.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from connectors.errors import InvalidConfiguration

PAYMENT_COLUMNS = ("invoice", "amount", "currency", "date", "reference")


class LocalAccounting:
    """A folder that plays the accounting system."""

    name = "local"

    def __init__(self, directory: str | Path) -> None:
        self.dir = Path(directory)

    def push_invoice(self, record: Any) -> str:
        """Write the invoice (idempotent by number) and return its external id."""
        out = self.dir / "invoices"
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"{record.number}.json"
        body = {
            "number": record.number,
            "client": record.client_id,
            "currency": record.currency,
            "total": str(record.total),
            "issue_date": record.document.issue_date.isoformat(),
            "due_date": record.due_date.isoformat() if record.due_date else None,
        }
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(body, indent=2), encoding="utf-8")
        tmp.replace(path)
        return f"local:{record.number}"

    def payments_since(self, cursor: str | None) -> tuple[list[dict[str, str]], str | None]:
        """Rows of payments.csv after ``cursor`` (a row count), and the new cursor."""
        path = self.dir / "payments.csv"
        if not path.exists():
            return [], cursor
        start = int(cursor or 0)
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in PAYMENT_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise InvalidConfiguration(f"{path}: missing column(s) {', '.join(missing)}")
            rows = list(reader)
        return rows[start:], str(len(rows))
