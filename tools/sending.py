"""Queue the invoice email when an invoice is issued (and re-send on request)."""

from __future__ import annotations

from datetime import datetime

from billing.directory import DeliveryMethod
from billing.errors import BillingError
from billing.events import DomainEvent, EventKind
from billing.records import InvoiceRecord, OutboxItem
from tools.clock import business_date
from tools.issuing import IssueHook
from tools.messages import base_context, email_item
from tools.ports import Ledger, MailComposer


class NoRecipient(BillingError):
    """The client has no billing or primary contact on file."""

    code = "no_recipient"


def queue_invoice_email(
    ledger: Ledger,
    record: InvoiceRecord,
    composer: MailComposer,
    now: datetime,
    *,
    resend: int = 0,
    actor: str = "closeloop",
) -> str | None:
    """Queue the invoice email to the billing contact on file (never anyone else).

    Returns the outbox key, or None when it was already queued. ``resend`` > 0 makes a new,
    separately keyed send (an explicit re-send by a person).
    """
    company = ledger.company()
    client = ledger.client(record.client_id)
    contact = client.billing_contact()
    if contact is None:
        raise NoRecipient(f"{client.name} has no billing or primary contact on file")
    owner = ledger.owner(client.account_owner_id) if client.account_owner_id else None
    on = business_date(now, company.timezone)
    key = f"invoice:{record.number}:issue" + (f":resend-{resend}" if resend else "")
    context = base_context(company, client, contact=contact, owner=owner, on=on, records=[record])
    item = email_item(
        key=key,
        company=company,
        composer=composer,
        template="invoice_issue",
        language=client.language,
        context=context,
        to=[contact.email],
        invoice_number=record.number,
        step="issue" if not resend else f"resend-{resend}",
        event=EventKind.INVOICE_SENT,
        attach=[record.number],
    )
    if not ledger.enqueue(item, now):
        return None
    ledger.append_event(
        record.number,
        DomainEvent(
            EventKind.INVOICE_QUEUED,
            now,
            actor,
            f"Invoice email queued for {contact.name} <{contact.email}> "
            f"({contact.role.value} contact)",
            {"to": contact.email, "message_id": item.payload["message_id"], "outbox": key},
        ),
    )
    return key


def send_on_issue(composer: MailComposer, *, accounting: bool = False) -> IssueHook:
    """An issue hook: the invoice goes out the moment it is issued (same transaction)."""

    def hook(ledger: Ledger, record: InvoiceRecord, now: datetime) -> None:
        client = ledger.client(record.client_id)
        if client.delivery_method in (DeliveryMethod.EMAIL_PDF, DeliveryMethod.EMAIL_LINK):
            queue_invoice_email(ledger, record, composer, now)
        if accounting or client.delivery_method is DeliveryMethod.ACCOUNTING_PORTAL:
            ledger.enqueue(
                OutboxItem(
                    idempotency_key=f"invoice:{record.number}:accounting",
                    kind="accounting",
                    payload={"invoice": record.number},
                    invoice_number=record.number,
                ),
                now,
            )

    return hook
