"""The outbox worker: deliver each queued side effect once, retry, dead-letter, hand off.

Protocol per row (designed for a worker killed at any instant):

1. *claim* — one transaction marks the row ``sending``, stamps the worker and the time and
   counts the attempt; the attempt is on record **before** anything leaves the machine;
2. *re-check* — a chase reminder is cancelled (and its step logged as skipped) when the invoice
   was paid, closed or paused since it was queued;
3. *send* — the handler performs the effect carrying the row's identity (the email's
   Message-ID is derived from the idempotency key; the Maildir mailer de-duplicates on it);
4. *record* — a second transaction marks it ``sent`` and appends the audit event.

A worker killed between 3 and 4 leaves the row ``sending``; after ``lease`` another worker
reclaims and repeats it. That is the one remaining **at-least-once window**: an SMTP server that
accepted the message in the instant before the kill receives it twice (with the same
Message-ID, which mail clients de-duplicate). The window is the time between the server's
final ``250`` and our commit — milliseconds — and only a crash inside it duplicates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from billing.chase import reason_not_to_send
from billing.directory import Client
from billing.events import DomainEvent, EventKind
from billing.records import OutboxClaim, OutboxItem
from tools.chase import facts_for
from tools.clock import Clock, business_date
from tools.messages import base_context, email_item
from tools.policy_book import PolicyBook
from tools.ports import Ledger, LedgerFactory, MailComposer


class DeliveryFailure(Exception):
    """A handler could not deliver; ``code`` and ``detail`` go on record."""

    transient = True

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        retry_after: float | None = None,
        recipients: tuple[str, ...] = (),
    ) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.retry_after = retry_after
        self.recipients = recipients


class TransientFailure(DeliveryFailure):
    """Try again later (SMTP 4xx, timeouts, HTTP 5xx, 429)."""

    transient = True


class PermanentFailure(DeliveryFailure):
    """Do not try again (SMTP 5xx such as 550 user unknown, invalid channel …)."""

    transient = False


Handler = Callable[[OutboxClaim], Mapping[str, Any]]
"""Performs one outbox row; returns a JSON-safe result or raises a DeliveryFailure."""


@dataclass
class DeliveryReport:
    """What one delivery pass did."""

    sent: int = 0
    retried: int = 0
    dead: int = 0
    cancelled: int = 0
    reclaimed: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        """Rows finished or rescheduled in this pass."""
        return self.sent + self.retried + self.dead + self.cancelled


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: base × 2^(attempt−1), capped; Retry-After wins when longer."""

    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=2)
    max_attempts: int = 8

    def delay(self, attempts: int, retry_after: float | None) -> timedelta:
        """Delay before the next attempt after ``attempts`` attempts."""
        backoff: timedelta = min(self.base * (2 ** max(attempts - 1, 0)), self.cap)
        if retry_after is not None:
            backoff = max(backoff, timedelta(seconds=retry_after))
        return backoff


def _event_kind(payload: Mapping[str, Any]) -> EventKind:
    try:
        return EventKind(str(payload.get("event") or "invoice_sent"))
    except ValueError:
        return EventKind.INVOICE_SENT


def _sent_summary(claim: OutboxClaim, result: Mapping[str, Any]) -> str:
    p = claim.payload
    if claim.kind == "email":
        what = {
            "invoice_sent": "Invoice emailed",
            "reminder_sent": "Reminder emailed",
            "escalated": "Escalation emailed",
            "reply_sent": "Reply emailed",
        }.get(str(p.get("event")), "Email sent")
        to = ", ".join(p.get("to", []))
        cc = f" (cc {', '.join(p['cc'])})" if p.get("cc") else ""
        return f"{what} to {to}{cc}, Message-ID {p.get('message_id')}"
    if claim.kind == "slack":
        return f"Posted to Slack {p.get('channel')} (ts {result.get('ts')})"
    return f"{claim.kind} delivered"


def _target(claim: OutboxClaim) -> str:
    return ", ".join(claim.payload.get("to", [])) or str(claim.payload.get("channel", "?"))


def _recheck(
    ledger: Ledger,
    claim: OutboxClaim,
    now: datetime,
    book: PolicyBook | None,
    clients: dict[str, Client] | None = None,
) -> str | None:
    """Why a queued chase message must not go out any more (None: send it).

    ``clients`` caches the client records over one delivery pass (like the chase runner
    does over one run); the invoice, its pauses and its steps are always read fresh."""
    if not claim.payload.get("recheck") or not claim.invoice_number:
        return None
    record = ledger.invoice(claim.invoice_number)
    client = None if clients is None else clients.get(record.client_id)
    if client is None:
        client = ledger.client(record.client_id)
        if clients is not None:
            clients[record.client_id] = client
    if book is None:
        book = PolicyBook(ledger.company())
    if record.due_date is None:
        return None
    return reason_not_to_send(book.chase_spec(client), facts_for(ledger, record, client), now)


def deliver_outbox(
    ledgers: LedgerFactory,
    handlers: Mapping[str, Handler],
    clock: Clock,
    *,
    worker: str,
    composer: MailComposer | None = None,
    slack_channel: str | None = None,
    limit: int = 20,
    lease: timedelta = timedelta(minutes=10),
    retry: RetryPolicy | None = None,
    max_batches: int | None = None,
) -> DeliveryReport:
    """Deliver due outbox rows until none is left (or ``max_batches``)."""
    retry = retry or RetryPolicy()
    report = DeliveryReport()
    book: PolicyBook | None = None
    clients: dict[str, Client] = {}
    batches = 0
    while max_batches is None or batches < max_batches:
        batches += 1
        now = clock.now()
        with ledgers() as ledger:
            claims = ledger.claim_outbox(
                worker, now, limit=limit, lease=lease, kinds=sorted(handlers)
            )
            if book is None and any(c.payload.get("recheck") for c in claims):
                book = PolicyBook(ledger.company())  # once per pass, not once per message
        if not claims:
            break
        for claim in claims:
            _deliver_one(
                ledgers,
                handlers,
                clock,
                claim,
                worker=worker,
                composer=composer,
                slack_channel=slack_channel,
                retry=retry,
                report=report,
                book=book,
                clients=clients,
            )
    return report


def _deliver_one(
    ledgers: LedgerFactory,
    handlers: Mapping[str, Handler],
    clock: Clock,
    claim: OutboxClaim,
    *,
    worker: str,
    composer: MailComposer | None,
    slack_channel: str | None,
    retry: RetryPolicy,
    report: DeliveryReport,
    book: PolicyBook | None,
    clients: dict[str, Client] | None = None,
) -> None:
    now = clock.now()
    if claim.reclaimed:
        report.reclaimed += 1
    with ledgers() as ledger:
        reason = _recheck(ledger, claim, now, book, clients)
        if reason is not None:
            ledger.outbox_dead(claim.id, worker, f"cancelled: {reason}", now, status="cancelled")
            step = claim.payload.get("chase_step")
            assert claim.invoice_number is not None
            if step:
                ledger.mark_step_failed(claim.invoice_number, str(step), f"not sent: {reason}")
            ledger.append_event(
                claim.invoice_number,
                DomainEvent(
                    EventKind.REMINDER_SKIPPED,
                    now,
                    "delivery",
                    f"Queued {claim.payload.get('template', claim.kind)} not sent: {reason}",
                    {"outbox": claim.idempotency_key, "reason": reason},
                ),
            )
            report.cancelled += 1
            return
    failure: DeliveryFailure | None = None
    try:
        result = dict(handlers[claim.kind](claim))
    except DeliveryFailure as exc:
        failure = exc
    except Exception as exc:
        # One row must not stall the outbox or stop the worker: an unexpected error (a bug, a
        # PDF that will not render) is retried with backoff and dead-lettered after the last
        # attempt, like any failure, while the other rows go on.
        failure = TransientFailure("handler_error", f"{type(exc).__name__}: {exc}")
    if failure is not None:
        _failed(
            ledgers,
            clock,
            claim,
            failure,
            worker=worker,
            composer=composer,
            slack_channel=slack_channel,
            retry=retry,
            report=report,
        )
        return
    done_at = clock.now()
    with ledgers() as ledger:
        if not ledger.outbox_done(claim.id, worker, done_at, result):
            report.errors.append(f"{claim.idempotency_key}: claim lost before recording")
            return
        if claim.invoice_number:
            ledger.append_event(
                claim.invoice_number,
                DomainEvent(
                    _event_kind(claim.payload),
                    done_at,
                    "delivery",
                    _sent_summary(claim, result),
                    {
                        "outbox": claim.idempotency_key,
                        "attempts": claim.attempts,
                        "to": claim.payload.get("to"),
                        "message_id": claim.payload.get("message_id"),
                        **{
                            k: v
                            for k, v in result.items()
                            if k in ("ts", "accepted", "refused", "thread_failed")
                        },
                    },
                ),
            )
        handoff_id = claim.payload.get("handoff_id")
        if claim.kind == "slack" and handoff_id and result.get("ts"):
            ledger.update_handoff(int(handoff_id), done_at, slack_ts=str(result["ts"]))
    report.sent += 1


def _failed(
    ledgers: LedgerFactory,
    clock: Clock,
    claim: OutboxClaim,
    failure: DeliveryFailure,
    *,
    worker: str,
    composer: MailComposer | None,
    slack_channel: str | None,
    retry: RetryPolicy,
    report: DeliveryReport,
) -> None:
    now = clock.now()
    error = f"{failure.code}: {failure.detail}"
    with ledgers() as ledger:
        if failure.transient and claim.attempts < retry.max_attempts:
            at = now + retry.delay(claim.attempts, failure.retry_after)
            ledger.outbox_retry(claim.id, worker, error, at)
            if claim.invoice_number:
                ledger.append_event(
                    claim.invoice_number,
                    DomainEvent(
                        EventKind.DELIVERY_RETRIED,
                        now,
                        "delivery",
                        f"{claim.kind} attempt {claim.attempts} failed ({error}); retry at "
                        f"{at:%Y-%m-%d %H:%M} UTC",
                        {
                            "outbox": claim.idempotency_key,
                            "error": error,
                            "retry_at": at.isoformat(),
                        },
                    ),
                )
            report.retried += 1
            return
        why = (
            error if not failure.transient else f"gave up after {claim.attempts} attempts: {error}"
        )
        ledger.outbox_dead(claim.id, worker, why, now)
        report.dead += 1
        if not claim.invoice_number:
            return
        number = claim.invoice_number
        ledger.append_event(
            number,
            DomainEvent(
                EventKind.DELIVERY_FAILED,
                now,
                "delivery",
                f"{claim.kind} to {_target(claim)} failed permanently: {why}",
                {
                    "outbox": claim.idempotency_key,
                    "error": why,
                    "code": failure.code,
                    "recipients": list(failure.recipients),
                },
            ),
        )
        step = claim.payload.get("chase_step")
        if step:
            ledger.mark_step_failed(number, str(step), why)
        if claim.kind != "email":
            return  # a Slack post that cannot be made stays as the local hand-off case
        open_delivery_handoff(
            ledger, number, claim, why, now, composer=composer, slack_channel=slack_channel
        )


def open_delivery_handoff(
    ledger: Ledger,
    number: str,
    claim: OutboxClaim,
    why: str,
    now: datetime,
    *,
    composer: MailComposer | None,
    slack_channel: str | None,
) -> None:
    """Tell the account owner that an email to the client could not be delivered."""
    record = ledger.invoice(number)
    client = ledger.client(record.client_id)
    owner = ledger.owner(client.account_owner_id) if client.account_owner_id else None
    handoff_id, created = ledger.open_handoff(
        case_key=f"delivery:{claim.idempotency_key}",
        kind="delivery_failed",
        client_id=client.id,
        owner_id=owner.id if owner else None,
        invoices=[number],
        reason=f"Email to {', '.join(claim.payload.get('to', []))} failed: {why}",
        summary=f"Fix the contact on file for {client.name}",
        details={"outbox": claim.idempotency_key, "error": why},
        now=now,
    )
    if not created:
        return
    ledger.append_event(
        number,
        DomainEvent(
            EventKind.HANDED_OFF,
            now,
            "delivery",
            f"Handed off to {owner.name if owner else 'a person'}: fix the contact on file",
            {"handoff": handoff_id, "kind": "delivery_failed"},
        ),
    )
    if owner is None or composer is None:
        return
    company = ledger.company()
    # Mailing the owner about mail that failed to reach the owner (an escalation, or an
    # earlier notice) would fail again and queue another notice, without end.
    failed_to = {str(a).lower() for a in claim.payload.get("to", [])}
    mail_owner = owner.email.lower() not in failed_to
    if mail_owner:
        context = base_context(
            company,
            client,
            contact=client.billing_contact(),
            owner=owner,
            on=business_date(now, company.timezone),
            records=[record],
        )
        context["failure"] = {
            "to": list(claim.payload.get("to", [])),
            "error": why,
            "subject": claim.payload.get("subject", ""),
        }
        ledger.enqueue(
            email_item(
                key=f"delivery-failed:{claim.idempotency_key}",
                company=company,
                composer=composer,
                template="delivery_failed_owner",
                language=company.language,
                context=context,
                to=[owner.email],
                invoice_number=number,
                step="delivery-failed",
                event=EventKind.HANDED_OFF,
            ),
            now,
        )
    if slack_channel:
        text = (
            f"Delivery failed for {number} ({client.name}): {why}. "
            f"{'<@' + owner.slack_user_id + '>' if owner.slack_user_id else owner.name}, "
            "please fix the contact on file."
        )
        ledger.enqueue(
            OutboxItem(
                idempotency_key=f"delivery-failed:{claim.idempotency_key}:slack",
                kind="slack",
                invoice_number=number,
                payload={
                    "channel": slack_channel,
                    "text": text,
                    "blocks": [
                        {
                            "type": "section",
                            "text": {
                                "type": "mrkdwn",
                                "text": text.replace("<", "&lt;")
                                if not owner.slack_user_id
                                else text,
                            },
                        }
                    ],
                    "handoff_id": handoff_id,
                    "event": "handed_off",
                    "invoice": number,
                },
            ),
            now,
        )
