"""Outbox handlers: turn an outbox row into a real email or Slack post.

Adapters' exceptions are translated here (the one place that knows both sides): connector
``TransientError`` → retry, ``PermanentError`` → dead-letter.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any

from billing.records import OutboxClaim
from connectors.errors import ConnectorError, DeliveryRejected, PermanentError, TransientError
from tools.clock import Clock
from tools.delivery import Handler, PermanentFailure, TransientFailure
from tools.ports import LedgerFactory


def _translate(exc: ConnectorError) -> Exception:
    code = str(getattr(exc, "vendor_code", None) or exc.code)
    recipients: tuple[str, ...] = ()
    if isinstance(exc, DeliveryRejected):
        recipients = tuple(getattr(exc, "refused", {}) or ())
    if isinstance(exc, TransientError):
        return TransientFailure(code, str(exc), retry_after=exc.retry_after)
    return PermanentFailure(code, str(exc), recipients=recipients)


def build_email(
    payload: Mapping[str, Any], at: datetime, attachments: list[tuple[str, bytes]]
) -> EmailMessage:
    """The MIME message of an email outbox payload (text + HTML alternative, PDFs)."""
    msg = EmailMessage()
    msg["From"] = formataddr((str(payload.get("from_name") or ""), str(payload["from"])))
    msg["To"] = ", ".join(payload["to"])
    if payload.get("cc"):
        msg["Cc"] = ", ".join(payload["cc"])
    msg["Subject"] = payload["subject"]
    msg["Message-ID"] = payload["message_id"]
    msg["Date"] = format_datetime(at)
    if payload.get("in_reply_to"):
        msg["In-Reply-To"] = payload["in_reply_to"]
    refs = list(payload.get("references") or [])
    if refs:
        msg["References"] = " ".join(refs)
    # RFC 3834: we are an automated sender; well-behaved auto-responders will not loop.
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Closeloop-Step"] = str(payload.get("step", ""))
    msg.set_content(payload["text"])
    if payload.get("html"):
        msg.add_alternative(payload["html"], subtype="html")
    for filename, data in attachments:
        msg.add_attachment(data, maintype="application", subtype="pdf", filename=filename)
    return msg


def email_handler(ledgers: LedgerFactory, mailer: Any, clock: Clock) -> Handler:
    """Send email rows through ``mailer`` (SMTP or the local Maildir)."""

    def handle(claim: OutboxClaim) -> Mapping[str, Any]:
        payload = claim.payload
        attachments: list[tuple[str, bytes]] = []
        for number in payload.get("attach_invoices") or []:
            from render.errors import RenderError
            from render.facturx import render_facturx_pdf
            from render.pdf import render_pdf

            with ledgers() as ledger:
                document = ledger.invoice(str(number)).document
            try:
                pdf = render_facturx_pdf(document)
            except RenderError:
                pdf = render_pdf(document)  # e.g. a currency Factur-X cannot carry
            attachments.append((f"{number}.pdf", pdf))
        message = build_email(payload, clock.now(), attachments)
        try:
            receipt = mailer.send(message)
        except ConnectorError as exc:
            raise _translate(exc) from exc
        refused = dict(getattr(receipt, "refused", {}) or {})
        if refused and not getattr(receipt, "accepted", ()):
            raise PermanentFailure(
                "refused", f"all recipients refused: {refused}", recipients=tuple(refused)
            )
        return {
            "message_id": receipt.message_id,
            "accepted": list(receipt.accepted),
            "refused": {k: str(v) for k, v in refused.items()},
        }

    return handle


def slack_handler(client: Any) -> Handler:
    """Post Slack rows (a message and its thread replies)."""

    def handle(claim: OutboxClaim) -> Mapping[str, Any]:
        payload = claim.payload
        try:
            main = client.post_message(payload["channel"], payload["text"], payload.get("blocks"))
        except ConnectorError as exc:
            raise _translate(exc) from exc
        result: dict[str, Any] = {"ts": main.ts, "channel": main.channel}
        replies = payload.get("thread") or []
        for posted, reply in enumerate(replies):
            try:
                client.post_message(
                    payload["channel"], reply["text"], reply.get("blocks"), thread_ts=main.ts
                )
            except ConnectorError as exc:
                # The message itself is posted: failing the row now would post it again on
                # the retry. The missing replies are put on record instead.
                result["thread_failed"] = {
                    "posted": posted,
                    "missing": len(replies) - posted,
                    "error": f"{exc.code}: {exc}",
                }
                break
        return result

    return handle


def accounting_handler(ledgers: LedgerFactory, accounting: Any) -> Handler:
    """Push invoices to the accounting system."""

    def handle(claim: OutboxClaim) -> Mapping[str, Any]:
        with ledgers() as ledger:
            record = ledger.invoice(str(claim.payload["invoice"]))
        try:
            external_id = accounting.push_invoice(record)
        except TransientError as exc:
            raise _translate(exc) from exc
        except PermanentError as exc:
            raise _translate(exc) from exc
        return {"external_id": external_id, "system": accounting.name}

    return handle
