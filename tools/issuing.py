"""Issue invoices from triggers, and credit notes for corrections.

One trigger, however often and however concurrently delivered, makes one invoice: the
trigger's natural key (source, external id) is claimed in the same transaction that allocates
the number and stores the document. A repeated delivery is recorded as a duplicate on the
trigger and in the invoice's audit trail.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from billing.directory import Client, Company
from billing.errors import BillingError, InvalidInvoice
from billing.events import DomainEvent, EventKind
from billing.invoice import (
    DocumentKind,
    InvoiceDocument,
    LineInput,
    build_credit_note,
    build_document,
)
from billing.money import check_currency
from billing.numbering import NumberPattern
from billing.records import InvoiceRecord, Trigger
from billing.status import InvoiceStatus, settle
from billing.terms import due_date_for, terms_text
from tools.clock import Clock, business_date
from tools.errors import InvalidTrigger
from tools.ports import Ledger, LedgerFactory

LineResolver = Callable[[Trigger, Client], Sequence[LineInput]]
"""Resolves a trigger's reference (a deal, a signed contract, a subscription) to lines."""

#: Called inside the issuing transaction with the new invoice; later issues hook sending here.
IssueHook = Callable[[Ledger, InvoiceRecord, datetime], None]


@dataclass(frozen=True, slots=True)
class IssueResult:
    """What :func:`issue_invoice` did."""

    number: str
    created: bool
    trigger: Trigger


def _lines_for(
    trigger: Trigger, client: Client, resolver: LineResolver | None
) -> Sequence[LineInput]:
    if trigger.lines:
        return trigger.lines
    if resolver is not None and trigger.reference:
        lines = resolver(trigger, client)
        if lines:
            return lines
    raise InvalidTrigger(
        f"trigger {trigger.source}:{trigger.external_id} has no line items"
        + (f" and reference {trigger.reference!r} resolved to none" if trigger.reference else "")
    )


def build_invoice_for(
    company: Company,
    client: Client,
    *,
    number: str,
    issue_date: date,
    items: Sequence[LineInput],
    currency: str | None = None,
    due_date: date | None = None,
    buyer_reference: str | None = None,
) -> InvoiceDocument:
    """The document for ``client`` from ``company``'s profile (terms, bank, language)."""
    terms = client.payment_terms_days
    if terms is None:
        terms = company.payment_terms_days
    cur = check_currency(currency or client.currency or company.currency)
    return build_document(
        kind=DocumentKind.INVOICE,
        number=number,
        currency=cur,
        issue_date=issue_date,
        due_date=due_date or due_date_for(issue_date, terms),
        seller=company.as_party(),
        buyer=client.as_party(),
        items=items,
        language=client.language,
        payment_reference=number,
        bank=company.bank,
        payment_terms=terms_text(terms),
        buyer_reference=buyer_reference,
    )


def issue_invoice(
    ledgers: LedgerFactory,
    trigger: Trigger,
    *,
    clock: Clock,
    resolver: LineResolver | None = None,
    on_issued: Sequence[IssueHook] = (),
    actor: str | None = None,
) -> IssueResult:
    """Issue the invoice a trigger asks for, or find the one it already made.

    Raises a BillingError (unknown client, bad line, missing currency, wrong VAT id …) after
    recording the trigger as rejected, so a corrected redelivery can still issue.
    """
    now = clock.now()
    who = actor or f"trigger:{trigger.source}"
    try:
        with ledgers() as ledger:
            claim = ledger.claim_trigger(trigger, now)
            if not claim.is_new:
                ledger.record_duplicate_trigger(trigger, now)
                if claim.invoice_number is None:
                    raise InvalidTrigger(
                        f"trigger {trigger.source}:{trigger.external_id} was received before "
                        f"and is {claim.status}"
                    )
                ledger.append_event(
                    claim.invoice_number,
                    DomainEvent(
                        EventKind.TRIGGER_DUPLICATE,
                        now,
                        who,
                        f"Trigger {trigger.source}:{trigger.external_id} delivered again; "
                        "no new invoice",
                        {"source": trigger.source, "external_id": trigger.external_id},
                    ),
                )
                return IssueResult(claim.invoice_number, created=False, trigger=trigger)

            company = ledger.company()
            client = ledger.client(trigger.client_id)
            items = _lines_for(trigger, client, resolver)
            issue_date = trigger.issue_date or business_date(now, company.timezone)
            pattern = NumberPattern(company.numbering_pattern)
            series = pattern.series(issue_date)
            sequence = ledger.allocate_number(series)
            number = pattern.format(issue_date, sequence)
            document = build_invoice_for(
                company,
                client,
                number=number,
                issue_date=issue_date,
                items=items,
                currency=trigger.currency,
                buyer_reference=trigger.buyer_reference,
            )
            ledger.add_document(
                document,
                client_id=client.id,
                origin="issued",
                status=InvoiceStatus.OPEN,
                now=now,
                series=series,
                sequence=sequence,
            )
            ledger.finish_trigger(trigger, number)
            ledger.append_event(
                number,
                DomainEvent(
                    EventKind.TRIGGER_RECEIVED,
                    now,
                    who,
                    f"Trigger {trigger.source}:{trigger.external_id} received",
                    {
                        "source": trigger.source,
                        "external_id": trigger.external_id,
                        "reference": trigger.reference,
                    },
                ),
            )
            ledger.append_event(
                number,
                DomainEvent(
                    EventKind.INVOICE_ISSUED,
                    now,
                    who,
                    f"Invoice {number} issued to {client.name}: "
                    f"{document.currency} {document.totals.grand_total}, due {document.due_date}",
                    {
                        "total": str(document.totals.grand_total),
                        "currency": document.currency,
                        "due_date": str(document.due_date),
                        "series": series,
                        "sequence": sequence,
                    },
                ),
            )
            record = ledger.invoice(number)
            for hook in on_issued:
                hook(ledger, record, now)
            return IssueResult(number, created=True, trigger=trigger)
    except BillingError as exc:
        with ledgers() as ledger:
            ledger.reject_trigger(trigger, f"{exc.code}: {exc.message}", now)
        raise


def issue_credit_note(
    ledgers: LedgerFactory,
    invoice_number: str,
    *,
    clock: Clock,
    reason: str,
    items: Sequence[LineInput] | None = None,
    actor: str = "user",
) -> str:
    """Issue a credit note correcting an invoice (in full, or for ``items``)."""
    if not reason.strip():
        raise InvalidInvoice("a credit note needs a reason")
    now = clock.now()
    with ledgers() as ledger:
        original = ledger.invoice(invoice_number, for_update=True)
        if original.kind is not DocumentKind.INVOICE:
            raise InvalidInvoice(f"{invoice_number} is not an invoice")
        if original.status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID, InvoiceStatus.CREDITED):
            raise InvalidInvoice(f"{invoice_number} is {original.status.value}; nothing to credit")
        company = ledger.company()
        issue_date = max(business_date(now, company.timezone), original.document.issue_date)
        pattern = NumberPattern(company.credit_note_pattern)
        series = pattern.series(issue_date)
        sequence = ledger.allocate_number(series)
        number = pattern.format(issue_date, sequence)
        credit = build_credit_note(
            original.document,
            number=number,
            issue_date=issue_date,
            items=items,
            notes=(reason,),
        )
        already = original.amount_credited
        if already + credit.totals.grand_total > original.total:
            raise InvalidInvoice(
                f"credit notes would exceed the invoice total ({already} already credited, "
                f"{credit.totals.grand_total} more asked, total {original.total})"
            )
        ledger.add_document(
            credit,
            client_id=original.client_id,
            origin="issued",
            status=InvoiceStatus.OPEN,
            now=now,
            series=series,
            sequence=sequence,
            credits=invoice_number,
            reason=reason,
        )
        ledger.add_credit(invoice_number, credit.totals.grand_total, now)
        new_status = settle(
            original.status,
            original.total,
            original.amount_paid,
            already + credit.totals.grand_total,
        )
        ledger.append_event(
            invoice_number,
            DomainEvent(
                EventKind.CREDIT_NOTE_ISSUED,
                now,
                actor,
                f"Credit note {number} issued for {credit.currency} "
                f"{credit.totals.grand_total}: {reason}",
                {"credit_note": number, "amount": str(credit.totals.grand_total)},
            ),
        )
        ledger.append_event(
            number,
            DomainEvent(
                EventKind.INVOICE_ISSUED,
                now,
                actor,
                f"Credit note {number} issued, correcting {invoice_number}",
                {"credits": invoice_number},
            ),
        )
        if new_status is not original.status:
            ledger.set_status(invoice_number, new_status, now)
            ledger.append_event(
                invoice_number,
                DomainEvent(
                    EventKind.STATUS_CHANGED,
                    now,
                    actor,
                    f"Status {original.status.value} → {new_status.value}",
                    {"from": original.status.value, "to": new_status.value},
                ),
            )
        return number
