"""Payment terms, due dates and lateness."""

from __future__ import annotations

from datetime import date, timedelta

from billing.errors import InvalidInvoice


def due_date_for(issue_date: date, terms_days: int) -> date:
    """Due date = issue date + the client's payment terms in days (0 = due on receipt)."""
    if terms_days < 0 or terms_days > 365:
        raise InvalidInvoice(f"payment terms must be 0..365 days (got {terms_days})")
    return issue_date + timedelta(days=terms_days)


def days_overdue(due_date: date | None, on: date) -> int:
    """Whole days past the due date on ``on`` (0 when not yet due or no due date)."""
    if due_date is None:
        return 0
    return max(0, (on - due_date).days)


def terms_text(terms_days: int) -> str:
    """A neutral English description; templates translate by the number of days."""
    return "Due on receipt" if terms_days == 0 else f"Net {terms_days} days"
