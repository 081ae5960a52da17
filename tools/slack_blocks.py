"""Block Kit messages for escalations and hand-offs (plain data; the Slack adapter posts it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from billing.events import DomainEvent
from billing.records import InvoiceRecord


def _mention(slack_user_id: str | None, name: str) -> str:
    return f"<@{slack_user_id}>" if slack_user_id else name


def _plain(text: str, limit: int = 2900) -> str:
    # Slack mrkdwn: escape the three control characters so client text cannot ping or link.
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escalation_message(
    *,
    client_name: str,
    record: InvoiceRecord,
    days_overdue: int,
    sent_so_far: Sequence[str],
    owner_name: str,
    owner_slack_id: str | None,
) -> dict[str, Any]:
    """The escalation post: who, what, how late, what was sent, the owner mentioned."""
    amount = f"{record.currency} {record.balance:,}"
    text = (
        f"Escalation: {record.number} for {client_name} is {days_overdue} days overdue "
        f"({amount} open). {_mention(owner_slack_id, owner_name)}"
    )
    history = "\n".join(f"• {_plain(s)}" for s in sent_so_far) or "• nothing sent yet"
    return {
        "text": text,
        "blocks": [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": f"Overdue invoice {record.number}"},
            },
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": f"*Client*\n{_plain(client_name)}"},
                    {"type": "mrkdwn", "text": f"*Invoice*\n{record.number}"},
                    {"type": "mrkdwn", "text": f"*Amount open*\n{amount}"},
                    {"type": "mrkdwn", "text": f"*Days overdue*\n{days_overdue}"},
                ],
            },
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*Sent so far*\n{history}"}},
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": f"Account owner: {_mention(owner_slack_id, _plain(owner_name))} — "
                        "please contact the client.",
                    }
                ],
            },
        ],
    }


def timeline_text(events: Sequence[DomainEvent]) -> str:
    """An invoice's timeline as plain text for a thread reply."""
    lines = [f"{e.at:%Y-%m-%d %H:%M} UTC  {e.kind.value}: {e.summary}" for e in events]
    return _plain("\n".join(lines) or "(no events)")


def handoff_message(
    *,
    handoff_id: int,
    title: str,
    client_name: str | None,
    invoices: Sequence[tuple[str, str, int]],
    intent: str,
    confidence: float | None,
    sender_trust: str | None,
    reason: str,
    owner_name: str | None,
    owner_slack_id: str | None,
) -> dict[str, Any]:
    """A hand-off case post with the action buttons (Take it, Approve reply, …)."""
    owner = _mention(owner_slack_id, owner_name or "unassigned")
    inv_lines = (
        "\n".join(
            f"• {n} — {amount}, {late} days overdue" if late else f"• {n} — {amount}"
            for n, amount, late in invoices
        )
        or "• none found"
    )
    conf = "n/a" if confidence is None else f"{confidence:.2f}"
    value = str(handoff_id)
    return {
        "text": f"Hand-off #{handoff_id}: {_plain(title, 150)} "
        f"({_plain(client_name or 'unknown sender')}) {owner}",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": _plain(title, 150)}},
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": f"*Client*\n{_plain(client_name or 'unknown')}"},
                    {"type": "mrkdwn", "text": f"*Intent*\n{_plain(intent)} (confidence {conf})"},
                    {"type": "mrkdwn", "text": f"*Sender trust*\n{sender_trust or 'n/a'}"},
                    {"type": "mrkdwn", "text": f"*Owner*\n{owner}"},
                ],
            },
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*Invoices*\n{inv_lines}"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*Why*\n{_plain(reason)}"}},
            {
                "type": "actions",
                "block_id": f"handoff:{handoff_id}",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "take",
                        "value": value,
                        "text": {"type": "plain_text", "text": "Take it"},
                    },
                    {
                        "type": "button",
                        "action_id": "approve_reply",
                        "value": value,
                        "style": "primary",
                        "text": {"type": "plain_text", "text": "Approve reply"},
                    },
                    {
                        "type": "button",
                        "action_id": "not_dispute",
                        "value": value,
                        "text": {"type": "plain_text", "text": "Not a dispute"},
                    },
                    {
                        "type": "button",
                        "action_id": "resolved",
                        "value": value,
                        "text": {"type": "plain_text", "text": "Resolved"},
                    },
                ],
            },
        ],
    }
