"""Domain events: the vocabulary of an invoice's audit trail.

Every change and every deliberate non-action is an event appended to the invoice's log; the
log is never edited. ``data`` holds JSON-safe details (strings, numbers, lists, dicts).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    """What happened to an invoice (past tense)."""

    TRIGGER_RECEIVED = "trigger_received"
    TRIGGER_DUPLICATE = "trigger_duplicate"
    INVOICE_ISSUED = "invoice_issued"
    INVOICE_IMPORTED = "invoice_imported"
    CREDIT_NOTE_ISSUED = "credit_note_issued"
    PDF_RENDERED = "pdf_rendered"
    INVOICE_QUEUED = "invoice_queued"
    INVOICE_SENT = "invoice_sent"
    DELIVERY_FAILED = "delivery_failed"
    DELIVERY_RETRIED = "delivery_retried"
    OPENED = "opened"
    REMINDER_SENT = "reminder_sent"
    REMINDER_SKIPPED = "reminder_skipped"
    CHASE_PAUSED = "chase_paused"
    CHASE_RESUMED = "chase_resumed"
    ESCALATED = "escalated"
    EMAIL_RECEIVED = "email_received"
    REPLY_SENT = "reply_sent"
    HANDED_OFF = "handed_off"
    HANDOFF_RESOLVED = "handoff_resolved"
    PROMISE_RECORDED = "promise_recorded"
    DUE_DATE_CHANGED = "due_date_changed"
    PAYMENT_RECORDED = "payment_recorded"
    PAYMENT_DUPLICATE = "payment_duplicate"
    STATUS_CHANGED = "status_changed"
    INVOICE_PAID = "invoice_paid"
    INVOICE_VOIDED = "invoice_voided"
    MARKED_UNCOLLECTIBLE = "marked_uncollectible"
    PUSHED_TO_ACCOUNTING = "pushed_to_accounting"


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """One entry of the audit trail."""

    kind: EventKind
    at: datetime
    actor: str
    summary: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("event times must be timezone-aware")
