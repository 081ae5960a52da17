"""Outgoing email as outbox items: recipients on file, threading, stable Message-IDs.

The email is rendered when it is queued (its words are then part of the record) and the
outbox payload carries everything the sender needs; PDFs are attached at send time from the
frozen snapshot. The Message-ID is derived from the idempotency key, so every retry of the
same send carries the same Message-ID (receivers and our own Maildir de-duplicate on it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from billing.directory import Client, Company, Contact, Owner
from billing.events import EventKind
from billing.messageids import make_message_id
from billing.records import InvoiceRecord, OutboxItem
from billing.terms import days_overdue
from tools.ports import MailComposer


def token_for(key: str) -> str:
    """A short stable token for the Message-ID of the send keyed ``key``."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


def company_context(company: Company) -> dict[str, Any]:
    """What templates may say about us."""
    bank = company.bank
    return {
        "name": company.name,
        "address": list(company.address),
        "vat_id": company.vat_id,
        "billing_email": company.billing_email,
        "bank": None
        if bank is None
        else {
            "account_name": bank.account_name,
            "iban": bank.iban,
            "bic": bank.bic,
            "bank_name": bank.bank_name,
            "sort_code": bank.sort_code,
            "account_number": bank.account_number,
            "routing_number": bank.routing_number,
        },
    }


def invoice_context(record: InvoiceRecord, on: date) -> dict[str, Any]:
    """What templates may say about one invoice (figures from the ledger only)."""
    doc = record.document
    return {
        "number": record.number,
        "issue_date": doc.issue_date,
        "due_date": record.due_date,
        "original_due_date": record.original_due_date,
        "currency": record.currency,
        "total": doc.totals.grand_total,
        "net_total": doc.totals.tax_exclusive,
        "tax_total": doc.totals.tax_total,
        "paid": record.amount_paid,
        "credited": record.amount_credited,
        "balance": max(record.balance, Decimal(0)),
        "days_overdue": days_overdue(record.due_date, on) if record.status.is_collectible else 0,
        "status": record.status.value,
        "payment_reference": doc.payment_reference,
    }


def base_context(
    company: Company,
    client: Client,
    *,
    contact: Contact | None,
    owner: Owner | None,
    on: date,
    records: Sequence[InvoiceRecord] = (),
) -> dict[str, Any]:
    """The common context of every email: company, client, contact, owner, invoices."""
    invoices = [invoice_context(r, on) for r in records]
    return {
        "company": company_context(company),
        "client": {"id": client.id, "name": client.name, "language": client.language},
        "contact": {
            "name": contact.name if contact else client.name,
            "email": contact.email if contact else None,
        },
        "owner": None if owner is None else {"name": owner.name, "email": owner.email},
        "invoice": invoices[0] if invoices else None,
        "invoices": invoices,
        "today": on,
    }


def email_item(
    *,
    key: str,
    company: Company,
    composer: MailComposer,
    template: str,
    language: str,
    context: Mapping[str, Any],
    to: Sequence[str],
    cc: Sequence[str] = (),
    invoice_number: str | None,
    step: str,
    event: EventKind,
    attach: Sequence[str] = (),
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    recheck: bool = False,
    extra: Mapping[str, Any] | None = None,
) -> OutboxItem:
    """An email as an outbox item keyed ``key``; recipients must come from records on file."""
    if not to:
        raise ValueError("an email needs at least one recipient")
    composed = composer(template, language, context)
    message_id = make_message_id(
        invoice_number or "closeloop", step, token_for(key), company.email_domain
    )
    payload: dict[str, Any] = {
        "to": list(to),
        "cc": [a for a in cc if a not in to],
        "from_name": company.name,
        "from": company.billing_email,
        "subject": composed.subject,
        "text": composed.text,
        "html": composed.html,
        "message_id": message_id,
        "in_reply_to": in_reply_to,
        "references": list(references),
        "attach_invoices": list(attach),
        "invoice": invoice_number,
        "step": step,
        "event": event.value,
        "template": template,
        "language": language,
        "recheck": recheck,
    }
    if extra:
        payload.update(extra)
    return OutboxItem(
        idempotency_key=key, kind="email", payload=payload, invoice_number=invoice_number
    )
