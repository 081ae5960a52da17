"""The invoice status machine: allowed transitions, and the status the money says."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.errors import InvalidTransition
from billing.status import InvoiceStatus, balance, check_transition, settle, void, write_off

S = InvoiceStatus
TOTAL = Decimal("1200.00")
ZERO = Decimal(0)

ALLOWED = [
    (S.DRAFT, S.OPEN),
    (S.OPEN, S.PARTIALLY_PAID),
    (S.OPEN, S.PAID),
    (S.OPEN, S.VOID),
    (S.OPEN, S.UNCOLLECTIBLE),
    (S.OPEN, S.CREDITED),
    (S.PARTIALLY_PAID, S.PAID),
    (S.PARTIALLY_PAID, S.OPEN),
    (S.PARTIALLY_PAID, S.UNCOLLECTIBLE),
    (S.PARTIALLY_PAID, S.CREDITED),
    (S.PAID, S.PARTIALLY_PAID),
    (S.PAID, S.OPEN),
    (S.PAID, S.CREDITED),
    (S.UNCOLLECTIBLE, S.PARTIALLY_PAID),
    (S.UNCOLLECTIBLE, S.PAID),
    (S.UNCOLLECTIBLE, S.CREDITED),
    (S.CREDITED, S.PAID),
]


@pytest.mark.parametrize(("current", "new"), ALLOWED)
def test_the_machine_allows(current: InvoiceStatus, new: InvoiceStatus) -> None:
    check_transition(current, new)


@pytest.mark.parametrize(
    ("current", "new"),
    [(c, n) for c in S for n in S if c != n and (c, n) not in ALLOWED],
)
def test_the_machine_forbids_every_other_change(current: InvoiceStatus, new: InvoiceStatus) -> None:
    with pytest.raises(InvalidTransition) as caught:
        check_transition(current, new)

    assert caught.value.code == "invalid_transition"
    assert caught.value.message == f"an invoice cannot go from {current.value} to {new.value}"


@pytest.mark.parametrize("status", list(S))
def test_staying_in_the_same_status_is_always_allowed(status: InvoiceStatus) -> None:
    check_transition(status, status)


def test_only_open_and_partially_paid_invoices_are_collectible() -> None:
    assert {s for s in S if s.is_collectible} == {S.OPEN, S.PARTIALLY_PAID}


# --- balance -------------------------------------------------------------------------------


def test_balance_is_total_minus_payments_minus_credit_notes() -> None:
    assert balance(TOTAL, Decimal("200.00"), Decimal("100.00")) == Decimal("900.00")
    assert balance(TOTAL, ZERO, TOTAL) == 0
    assert balance(TOTAL, Decimal("1250.00"), ZERO) == Decimal("-50.00")


# --- settle --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "paid", "credited", "expected"),
    [
        (S.OPEN, "0", "0", S.OPEN),
        (S.OPEN, "200.00", "0", S.PARTIALLY_PAID),
        (S.PARTIALLY_PAID, "1200.00", "0", S.PAID),
        (S.OPEN, "1200.00", "0", S.PAID),
        (S.OPEN, "1500.00", "0", S.PAID),
        (S.OPEN, "0", "1200.00", S.CREDITED),
        (S.OPEN, "0", "200.00", S.OPEN),
        (S.OPEN, "1000.00", "200.00", S.PAID),
        (S.PARTIALLY_PAID, "600.00", "600.00", S.PAID),
        (S.PARTIALLY_PAID, "0", "0", S.OPEN),
        (S.PAID, "0", "1200.00", S.CREDITED),
        (S.CREDITED, "1200.00", "1200.00", S.PAID),
        (S.UNCOLLECTIBLE, "1200.00", "0", S.PAID),
        (S.UNCOLLECTIBLE, "0", "1200.00", S.CREDITED),
        (S.UNCOLLECTIBLE, "300.00", "900.00", S.PAID),
        (S.UNCOLLECTIBLE, "0", "0", S.UNCOLLECTIBLE),
        (S.UNCOLLECTIBLE, "300.00", "0", S.UNCOLLECTIBLE),
        (S.UNCOLLECTIBLE, "300.00", "200.00", S.UNCOLLECTIBLE),
        (S.DRAFT, "1200.00", "0", S.DRAFT),
        (S.VOID, "0", "1200.00", S.VOID),
    ],
)
def test_settle_derives_the_status_from_the_money(
    current: InvoiceStatus, paid: str, credited: str, expected: InvoiceStatus
) -> None:
    assert settle(current, TOTAL, Decimal(paid), Decimal(credited)) is expected


def test_an_over_payment_settles_as_paid_with_a_negative_balance() -> None:
    paid = Decimal("1250.00")

    assert settle(S.OPEN, TOTAL, paid, ZERO) is S.PAID
    assert balance(TOTAL, paid, ZERO) == Decimal("-50.00")


def test_a_written_off_partially_paid_invoice_stays_written_off_when_settled_again() -> None:
    status = write_off(settle(S.OPEN, TOTAL, Decimal("300.00"), ZERO))

    # a later credit note (or a re-run sync) re-settles from totals that include old payments
    assert settle(status, TOTAL, Decimal("300.00"), Decimal("100.00")) is S.UNCOLLECTIBLE


def test_a_written_off_invoice_paid_in_the_end_is_paid() -> None:
    status = write_off(S.OPEN)

    assert settle(status, TOTAL, TOTAL, ZERO) is S.PAID


def test_a_settled_credited_invoice_stays_credited() -> None:
    assert settle(S.CREDITED, TOTAL, ZERO, TOTAL) is S.CREDITED


# --- void and write off --------------------------------------------------------------------


def test_an_open_invoice_without_payments_can_be_voided() -> None:
    assert void(S.OPEN, ZERO) is S.VOID


def test_an_invoice_with_payments_cannot_be_voided() -> None:
    with pytest.raises(InvalidTransition) as caught:
        void(S.PARTIALLY_PAID, Decimal("0.01"))

    assert caught.value.message == "an invoice with payments cannot be voided; issue a credit note"


@pytest.mark.parametrize("status", [S.DRAFT, S.PAID, S.CREDITED, S.UNCOLLECTIBLE])
def test_only_an_open_invoice_can_be_voided(status: InvoiceStatus) -> None:
    with pytest.raises(InvalidTransition, match=f"cannot go from {status.value} to void"):
        void(status, ZERO)


@pytest.mark.parametrize("status", [S.OPEN, S.PARTIALLY_PAID])
def test_an_open_or_partially_paid_invoice_can_be_written_off(status: InvoiceStatus) -> None:
    assert write_off(status) is S.UNCOLLECTIBLE


@pytest.mark.parametrize("status", [S.DRAFT, S.PAID, S.VOID, S.CREDITED])
def test_a_settled_or_unissued_invoice_cannot_be_written_off(status: InvoiceStatus) -> None:
    with pytest.raises(InvalidTransition, match=f"cannot go from {status.value} to uncollectible"):
        write_off(status)


# --- any order of payments, refunds and credit notes ---------------------------------------

CENTS = st.integers(1, 150_000).map(lambda n: Decimal(n).scaleb(-2))
EVENTS = st.lists(
    st.tuples(st.sampled_from(["payment", "refund", "credit", "write_off"]), CENTS), max_size=15
)


def status_from_money(total: Decimal, paid: Decimal, credited: Decimal) -> InvoiceStatus:
    if total - paid - credited <= 0:
        return S.PAID if paid > 0 else S.CREDITED
    return S.PARTIALLY_PAID if paid > 0 else S.OPEN


@settings(max_examples=400, deadline=None, database=None)
@given(total=CENTS, events=EVENTS)
def test_settling_after_each_event_never_fails_and_agrees_with_the_money(
    total: Decimal, events: list[tuple[str, Decimal]]
) -> None:
    status, paid, credited = S.OPEN, ZERO, ZERO
    for kind, amount in events:
        if kind == "payment":
            paid += amount
        elif kind == "refund":
            paid -= min(amount, paid)
        elif kind == "credit":
            # credit notes never exceed what is still uncredited on the invoice
            credited += min(amount, total - credited)
        elif status.is_collectible:
            status = write_off(status)
            continue
        status = settle(status, total, paid, credited)

    owed = balance(total, paid, credited)
    if status is S.UNCOLLECTIBLE:
        assert owed > 0
    else:
        assert status is status_from_money(total, paid, credited)
