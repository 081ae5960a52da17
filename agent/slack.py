"""The Slack post of an inbox hand-off: the case, then the timeline and the email in the thread."""

from __future__ import annotations

from datetime import date
from typing import Any

from agent.state import AgentState
from billing.directory import Client
from billing.records import OutboxItem
from billing.terms import days_overdue
from tools.ports import Ledger
from tools.slack_blocks import handoff_message, timeline_text

MAX_EMAIL_IN_THREAD = 2800


def handoff_post(
    ledger: Ledger,
    handoff_id: int,
    client: Client | None,
    d: dict[str, Any],
    state: AgentState,
    today: date,
    channel: str,
    case_key: str,
) -> OutboxItem:
    """The outbox row posting case ``handoff_id`` (keyed by the conversation)."""
    owner = ledger.owner(client.account_owner_id) if client and client.account_owner_id else None
    invoices = []
    thread: list[dict[str, Any]] = []
    for number in d["about"]:
        rec = ledger.invoice(number)
        late = days_overdue(rec.due_date, today) if rec.status.is_collectible else 0
        invoices.append((number, f"{rec.currency} {rec.balance:,} open of {rec.total:,}", late))
        thread.append({"text": f"Timeline of {number}:\n{timeline_text(ledger.events(number))}"})
    m = state["message"]
    body = m["new_text"] or m["text"]
    if len(body) > MAX_EMAIL_IN_THREAD:
        body = body[:MAX_EMAIL_IN_THREAD] + "\n… (truncated)"
    email_text = f"From: {m['from_name']} <{m['from_addr']}>\nSubject: {m['subject']}\n\n{body}"
    thread.append(
        {
            "text": "The email, as plain text:\n```"
            + _escaped(email_text).replace("```", "'''")
            + "```"
        }
    )
    message = handoff_message(
        handoff_id=handoff_id,
        title=f"{d['intent'].replace('_', ' ')}: {m['subject'][:120]}",
        client_name=client.name if client else None,
        invoices=invoices,
        intent=d["intent"],
        confidence=d.get("confidence"),
        sender_trust=state["trust"]["level"],
        reason=d["reason"],
        owner_name=owner.name if owner else None,
        owner_slack_id=owner.slack_user_id if owner else None,
    )
    return OutboxItem(
        idempotency_key=f"slack:{case_key}",
        kind="slack",
        invoice_number=(d["about"] or [None])[0],
        payload={
            "channel": channel,
            **message,
            "thread": thread,
            "handoff_id": handoff_id,
            "event": "handed_off",
        },
    )


def _escaped(text: str) -> str:
    # Slack reads <!channel>, <@U…> and <url|label> anywhere, even in a code block: the
    # sender's text must not ping people or show a link as if we had written it.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
