"""Loose invoice references and their resolution within one client's invoices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from agent.references import (
    InvoiceCandidate,
    RawRef,
    extract_invoice_refs,
    extract_month_refs,
    resolve_refs,
)


def _invoice(number: str, issued: date, total: str, balance: str | None = None) -> InvoiceCandidate:
    return InvoiceCandidate(
        number=number,
        client_id="cl-oak",
        issue_date=issued,
        due_date=issued,
        total=Decimal(total),
        balance=Decimal(balance if balance is not None else total),
        currency="GBP",
    )


OAK = [
    _invoice("INV-2026-0042", date(2026, 6, 3), "1200.00", "0.00"),
    _invoice("INV-2026-0098", date(2026, 8, 20), "18000.00"),
    _invoice("INV-2026-0117", date(2026, 10, 15), "4344.00"),
    _invoice("INV-2026-0124", date(2026, 11, 10), "684.00", "184.00"),
]


@pytest.mark.parametrize(
    ("text", "written", "seq", "year"),
    [
        ("please resend inv 117 asap", "inv 117", 117, None),
        ("re INV2026-0101, paid by BACS", "INV2026-0101", 101, 2026),
        ("factuur 2026/0117 staat open", "2026/0117", 117, 2026),
        ("before paying invoice #98?", "invoice #98", 98, None),
        ("the invoice no. 2026-0121 once more", "2026-0121", 121, 2026),
        ("the website invoice (0101) looks high", "invoice (0101)", 101, None),
        ("Rechnung Nr. 117 vom 3. Mai", "Rechnung Nr. 117", 117, None),
        ("Re invoice INV-2026-124 (SEO audit)", "INV-2026-124", 124, 2026),
        ("la factura 0042 sigue pendiente", "factura 0042", 42, None),
    ],
)
def test_loosely_written_invoice_numbers_are_extracted_as_written(
    text: str, written: str, seq: int, year: int | None
) -> None:
    refs = extract_invoice_refs(text)

    assert [(r.text, r.seq, r.year) for r in refs] == [(written, seq, year)]


@pytest.mark.parametrize(
    "text",
    [
        "Vendor #100482 needs a tax form",
        "Ticket: AP-48213 created",
        "invoice dated 10 November 2026",
        "paid on 2026-11-20 by transfer",
        "our VAT id DE201234567",
        "an invoice for £4,344.00",
        "invoices:\n\n1. Beneficiary name",
    ],
)
def test_numbers_that_are_not_invoice_references_are_ignored(text: str) -> None:
    assert extract_invoice_refs(text) == []


@pytest.mark.parametrize(
    ("text", "month"),
    [
        ("could you resend your invoice from October please?", 10),
        ("the November support retainer invoice", 11),
        ("die Rechnung vom Oktober fehlt", 10),
        ("de factuur van september", 9),
        ("la facture d'octobre", 10),
        ("la factura de marzo", 3),
        ("the May invoice", 5),
    ],
)
def test_invoices_named_by_month_are_recognised(text: str, month: int) -> None:
    assert [m.month for m in extract_month_refs(text)] == [month]


@pytest.mark.parametrize(
    "text",
    ["we may invoice you later", "factura el 10 de noviembre", "until January to pay invoice 42"],
)
def test_month_words_that_do_not_name_an_invoice_are_ignored(text: str) -> None:
    assert extract_month_refs(text) == []


@pytest.mark.parametrize(
    ("written", "number"),
    [
        ("inv 117", "INV-2026-0117"),
        ("invoice #98", "INV-2026-0098"),
        ("INV2026-0124", "INV-2026-0124"),
        ("2026/0117", "INV-2026-0117"),
        ("INV-2026-124", "INV-2026-0124"),
        ("INV-2026-0042", "INV-2026-0042"),
    ],
)
def test_loose_number_resolves_to_the_clients_invoice(written: str, number: str) -> None:
    assert resolve_refs([written], (), (), OAK) == [number]


def test_number_of_another_clients_invoice_resolves_to_nothing() -> None:
    assert resolve_refs(["INV-2026-0112"], (), (), OAK) == []


def test_other_kinds_of_numbered_documents_do_not_resolve() -> None:
    quote_ref = RawRef("AN-2026-0117", seq=117, year=2026, prefix="AN")

    assert resolve_refs([quote_ref], (), (), OAK) == []


def test_wrong_year_does_not_resolve() -> None:
    assert resolve_refs(["INV-2025-0117"], (), (), OAK) == []


def test_amount_matches_an_invoice_total() -> None:
    assert resolve_refs([], ["4344.00"], (), OAK) == ["INV-2026-0117"]


def test_amount_matches_an_open_balance() -> None:
    assert resolve_refs([], [Decimal("184")], (), OAK) == ["INV-2026-0124"]


def test_month_of_issue_resolves_when_nothing_else_does() -> None:
    assert resolve_refs(["invoice from October"], (), (), OAK) == ["INV-2026-0117"]
    assert resolve_refs([], (), ["August"], OAK) == ["INV-2026-0098"]
    assert resolve_refs([], (), [11], OAK) == ["INV-2026-0124"]


def test_month_is_ignored_once_a_number_has_matched() -> None:
    assert resolve_refs(["inv 98", "invoice from October"], (), (), OAK) == ["INV-2026-0098"]


def test_ambiguous_reference_returns_every_match_for_the_gate() -> None:
    candidates = [
        *OAK,
        _invoice("INV-2025-0117", date(2025, 10, 2), "900.00"),
    ]

    assert resolve_refs(["inv 117"], (), (), candidates) == ["INV-2026-0117", "INV-2025-0117"]


def test_thread_invoices_come_first_and_only_when_the_client_owns_them() -> None:
    result = resolve_refs(
        ["inv 117"], (), (), OAK, thread_invoice_numbers=["INV-2026-0124", "INV-2026-0112"]
    )

    assert result == ["INV-2026-0124", "INV-2026-0117"]


def test_references_and_amounts_are_combined_without_duplicates_in_mention_order() -> None:
    result = resolve_refs(["INV-2026-0098", "inv 117"], ["4344.00", "684.00"], (), OAK)

    assert result == ["INV-2026-0098", "INV-2026-0117", "INV-2026-0124"]


def test_nothing_to_match_gives_nothing() -> None:
    assert resolve_refs(["inv 117"], ["4344.00"], ["October"], []) == []
    assert resolve_refs([], ["0", "not money"], (), OAK) == []
