"""Payment terms: due dates and days overdue on a given business date."""

from __future__ import annotations

from datetime import date

import pytest

from billing.errors import InvalidInvoice
from billing.terms import days_overdue, due_date_for, terms_text


@pytest.mark.parametrize(
    ("issue", "days", "due"),
    [
        (date(2026, 3, 2), 30, date(2026, 4, 1)),
        (date(2026, 1, 31), 30, date(2026, 3, 2)),
        (date(2026, 12, 15), 30, date(2027, 1, 14)),
        (date(2028, 2, 28), 1, date(2028, 2, 29)),
        (date(2026, 3, 2), 0, date(2026, 3, 2)),
        (date(2026, 3, 2), 365, date(2027, 3, 2)),
    ],
)
def test_the_due_date_is_the_issue_date_plus_the_terms(issue: date, days: int, due: date) -> None:
    assert due_date_for(issue, days) == due


@pytest.mark.parametrize("days", [-1, 366])
def test_terms_outside_zero_to_a_year_are_refused(days: int) -> None:
    with pytest.raises(InvalidInvoice) as caught:
        due_date_for(date(2026, 3, 2), days)

    assert caught.value.message == f"payment terms must be 0..365 days (got {days})"


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (date(2026, 3, 31), 0),
        (date(2026, 4, 1), 0),
        (date(2026, 4, 2), 1),
        (date(2026, 4, 8), 7),
        (date(2026, 4, 15), 14),
        (date(2027, 4, 1), 365),
    ],
)
def test_days_overdue_count_whole_days_after_the_due_date(on: date, expected: int) -> None:
    assert days_overdue(date(2026, 4, 1), on) == expected


def test_an_invoice_without_a_due_date_is_never_overdue() -> None:
    assert days_overdue(None, date(2030, 1, 1)) == 0


@pytest.mark.parametrize(("days", "text"), [(0, "Due on receipt"), (14, "Net 14 days")])
def test_terms_text_names_the_days(days: int, text: str) -> None:
    assert terms_text(days) == text
