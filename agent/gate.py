"""The policy gate: code, not the model, decides what happens to a message.

Inputs are facts — the classification (already evidence-checked), the sender's trust, the
invoices the message is about as the ledger sees them, the agent policy — and the output is a
:class:`Decision`: reply from a template with system data, hand off to a person, or ignore;
plus the state changes the policy allows (pauses, a due-date extension inside the limits, a
recorded promise). Nothing in here can mark an invoice paid, void it, change an amount, a
contact or bank details: those changes do not exist in the vocabulary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal

from agent.schema import Classification, Intent, IntentFinding
from billing.mail import MachineKind, TrustLevel
from policies.models import AgentPolicy

Disposition = Literal["reply", "handoff", "ignore"]

#: Intents whose answer carries invoice data: only a verified contact on file gets one.
NEEDS_VERIFIED = frozenset(
    {
        Intent.copy_request,
        Intent.payment_confirmation,
        Intent.promise_to_pay,
        Intent.due_date_change,
        Intent.statement_request,
        Intent.payment_info_request,
    }
)
#: Intents that never need an answer.
SILENT = frozenset({Intent.acknowledgement, Intent.auto_reply, Intent.bounce})
#: Flags that always send a message to a person.
HANDOFF_FLAGS = frozenset(
    {"legal_language", "insolvency", "short_payment", "conditional_payment", "injection_suspected"}
)

REPLY_TEMPLATES = {
    Intent.copy_request: "reply_copy",
    Intent.payment_confirmation: "reply_payment_status",
    Intent.promise_to_pay: "reply_promise_ack",
    Intent.due_date_change: "reply_due_date_granted",
    Intent.statement_request: "reply_statement",
    Intent.payment_info_request: "reply_payment_instructions",
}


@dataclass(frozen=True, slots=True)
class InvoiceFacts:
    """One invoice the message is about, as the ledger sees it on ``today``."""

    number: str
    client_id: str
    status: str
    currency: str
    total: Decimal
    balance: Decimal
    due_date: date | None
    days_overdue: int
    extended: bool
    disputed: bool

    @property
    def open(self) -> bool:
        """Still owed (open or partially paid with a positive balance)."""
        return self.status in ("open", "partially_paid") and self.balance > 0


@dataclass(frozen=True, slots=True)
class GateInput:
    """Everything the gate decides from."""

    today: date
    trust: TrustLevel
    sender_on_file: bool
    client_id: str | None
    machine: MachineKind
    oversize: str | None
    classification: Classification | None
    classifier_error: str | None
    invoices: tuple[InvoiceFacts, ...]
    open_invoices: tuple[InvoiceFacts, ...]
    bounce_invoices: tuple[str, ...] = ()
    bounce_detail: str = ""
    auto_reply_until: date | None = None
    foreign_refs: bool = False


@dataclass
class Decision:
    """What to do with the message."""

    disposition: Disposition
    intent: str
    intents: list[str]
    reason: str
    template: str | None = None
    attach: list[str] = field(default_factory=list)
    about: list[str] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    ack_template: str | None = None
    confidence: float | None = None


def _intents(c: Classification | None) -> list[str]:
    return [f.intent.value for f in c.intents] if c else []


def _handoff(
    inp: GateInput,
    reason: str,
    *,
    intent: str | None = None,
    changes: list[dict[str, Any]] | None = None,
    ack: str | None = None,
) -> Decision:
    c = inp.classification
    primary = intent or (c.primary.intent.value if c and c.intents else "other")
    return Decision(
        "handoff",
        primary,
        _intents(c) or [primary],
        reason,
        about=[i.number for i in inp.invoices],
        changes=changes or [],
        ack_template=ack if inp.trust is TrustLevel.verified else None,
        confidence=c.primary.confidence if c and c.intents else None,
    )


def _machine(inp: GateInput) -> Decision | None:
    if inp.machine is MachineKind.bounce:
        if inp.bounce_invoices:
            failed = [
                {"kind": "delivery_failed", "invoice": n, "detail": inp.bounce_detail}
                for n in inp.bounce_invoices
            ]
            return Decision(
                "handoff",
                "bounce",
                ["bounce"],
                f"our email bounced ({inp.bounce_detail}); fix the contact on file",
                about=list(inp.bounce_invoices),
                changes=failed,
            )
        return Decision(
            "ignore", "bounce", ["bounce"], "bounce of a message we cannot tie to an invoice email"
        )
    if inp.machine is MachineKind.auto_reply:
        changes: list[dict[str, Any]] = []
        if inp.auto_reply_until and inp.auto_reply_until > inp.today and inp.sender_on_file:
            for inv in inp.invoices or inp.open_invoices:
                if inv.open:
                    changes.append(
                        {
                            "kind": "chase_paused",
                            "invoice": inv.number,
                            "reason": "out_of_office",
                            "until": (inp.auto_reply_until - timedelta(days=1)).isoformat(),
                        }
                    )
        return Decision(
            "ignore",
            "auto_reply",
            ["auto_reply"],
            "automatic reply"
            + (f"; away until {inp.auto_reply_until}" if inp.auto_reply_until else ""),
            about=[i.number for i in inp.invoices],
            changes=changes,
        )
    if inp.machine in (MachineKind.read_receipt, MachineKind.mailing_list):
        return Decision(
            "ignore",
            "other" if inp.machine is MachineKind.mailing_list else "acknowledgement",
            [inp.machine.value],
            f"machine mail ({inp.machine.value})",
        )
    return None


def decide(inp: GateInput, policy: AgentPolicy) -> Decision:
    """The decision for one message (see the module docstring)."""
    if inp.oversize:
        return _handoff(inp, f"message could not be read safely: {inp.oversize}", intent="other")
    machine = _machine(inp)
    if machine is not None:
        return machine
    c = inp.classification
    if c is None or not c.intents:
        return _handoff(
            inp, f"classifier unavailable ({inp.classifier_error or 'no answer'})", intent="other"
        )
    found = [f.intent for f in c.intents]
    primary = c.primary
    conf = primary.confidence

    if Intent.dispute in found:
        changes = [
            {"kind": "chase_paused", "invoice": i.number, "reason": "dispute", "until": None}
            for i in inp.invoices
            if i.open and inp.trust is not TrustLevel.suspicious and i.client_id == inp.client_id
        ]
        d = _handoff(
            inp,
            "dispute: a person decides",
            intent="dispute",
            changes=changes,
            ack="reply_dispute_ack",
        )
        return d
    if Intent.spam_or_phishing in found and inp.trust is not TrustLevel.verified:
        return Decision(
            "ignore",
            "spam_or_phishing",
            _intents(c),
            "spam or phishing",
            about=[i.number for i in inp.invoices],
            confidence=conf,
        )
    if set(found) <= SILENT:
        return Decision(
            "ignore",
            primary.intent.value,
            _intents(c),
            "nothing to answer",
            about=[i.number for i in inp.invoices],
            confidence=conf,
        )
    flags = set(c.flags) & HANDOFF_FLAGS
    if flags:
        return _handoff(inp, f"needs a person ({', '.join(sorted(flags))})")
    if inp.trust is TrustLevel.suspicious:
        return _handoff(inp, "suspicious sender: no invoice data is sent")
    actionable = [f for f in c.intents if f.intent not in SILENT]
    for f in actionable:
        if policy.action_for(f.intent.value) != "auto_reply":
            # The case is filed under the first request (a leading "thanks" is no request).
            return _handoff(
                inp, f"{f.intent.value} is decided by a person", intent=actionable[0].intent.value
            )
    if any(f.intent in NEEDS_VERIFIED for f in actionable) and (
        inp.trust is not TrustLevel.verified or not inp.sender_on_file
    ):
        return _handoff(inp, "sender is not a verified contact on file: no invoice data")
    if conf < policy.min_confidence or "low_confidence" in c.flags:
        return _handoff(inp, f"low confidence ({conf:.2f})")
    if inp.foreign_refs:
        return _handoff(inp, "refers to invoices of another client")
    return _auto(inp, policy, c, actionable)


def _auto(
    inp: GateInput, policy: AgentPolicy, c: Classification, actionable: Sequence[IntentFinding]
) -> Decision:
    primary = actionable[0]
    changes: list[dict[str, Any]] = []
    attach: list[str] = []
    about = [i.number for i in inp.invoices]
    intents = [f.intent for f in actionable]
    dropped: list[str] = []
    for f in actionable:
        before = (len(changes), len(attach))
        outcome = _one(inp, policy, f, changes, attach)
        if outcome is None:
            continue
        if f is primary:
            return _handoff(inp, outcome, intent=primary.intent.value)
        # A secondary request we cannot act on is left out of the answer (nothing is changed
        # for it); the primary request is still answered from the ledger.
        del changes[before[0] :], attach[before[1] :]
        dropped.append(f"{f.intent.value}: {outcome}")
    if Intent.statement_request in intents or Intent.payment_info_request in intents:
        about = about or [i.number for i in inp.open_invoices]
    return Decision(
        "reply",
        primary.intent.value,
        _intents(c),
        "answered from the ledger",
        template=REPLY_TEMPLATES[primary.intent],
        attach=attach,
        about=about,
        changes=changes,
        confidence=primary.confidence,
    )


def _one(
    inp: GateInput,
    policy: AgentPolicy,
    f: IntentFinding,
    changes: list[dict[str, Any]],
    attach: list[str],
) -> str | None:
    """Apply one auto intent; a string is the reason to hand off instead."""
    invs = list(inp.invoices)
    if f.intent is Intent.copy_request:
        if not invs:
            return "copy requested but no invoice could be identified"
        attach.extend(i.number for i in invs if i.number not in attach)
        return None
    if f.intent is Intent.payment_confirmation:
        targets = [i for i in invs if i.open] if invs else list(inp.open_invoices)
        if not invs and len(inp.open_invoices) != 1:
            return "payment confirmed but the invoice is unclear"
        days = policy.payment_confirmation.checking_pause_days
        for inv in targets:
            changes.append(
                {
                    "kind": "chase_paused",
                    "invoice": inv.number,
                    "reason": "payment_in_flight",
                    "until": (inp.today + timedelta(days=days)).isoformat(),
                }
            )
            changes.append(
                {
                    "kind": "check_task",
                    "invoice": inv.number,
                    "detail": "client says paid; not in the ledger yet",
                }
            )
        return None
    if f.intent is Intent.promise_to_pay:
        when = f.promised_date or (f.dates[0] if f.dates else None)
        targets = [i for i in invs if i.open] or ([] if invs else [i for i in inp.open_invoices])
        if when is None:
            return "promise to pay without a date"
        if when < inp.today:
            return f"promised date {when} is in the past"
        if when > inp.today + timedelta(days=policy.promise_to_pay.max_days_ahead):
            limit = policy.promise_to_pay.max_days_ahead
            return f"promised date {when} is beyond the policy's {limit} days"
        if not targets:
            return "promise to pay but no open invoice identified"
        for inv in targets:
            if inv.disputed:
                return f"{inv.number} is disputed"
            changes.append(
                {
                    "kind": "promise_recorded",
                    "invoice": inv.number,
                    "date": when.isoformat(),
                    "amount": f.amounts[0] if f.amounts else None,
                }
            )
            if policy.promise_to_pay.pause_chase:
                changes.append(
                    {
                        "kind": "chase_paused",
                        "invoice": inv.number,
                        "reason": "promise_to_pay",
                        "until": when.isoformat(),
                    }
                )
        return None
    if f.intent is Intent.due_date_change:
        rules = policy.due_date_change
        if not rules.enabled:
            return "due-date changes are decided by a person"
        open_invs = [i for i in invs if i.open]
        if len(open_invs) != 1:
            return "due-date change needs exactly one open invoice"
        inv = open_invs[0]
        wanted = f.requested_due_date or (f.dates[0] if f.dates else None)
        if wanted is None or inv.due_date is None:
            return "no new due date given"
        if rules.require_contact_on_file and not inp.sender_on_file:
            return "not asked by a contact on file"
        if wanted <= inv.due_date:
            return f"requested date {wanted} is not later than the due date {inv.due_date}"
        if (wanted - inv.due_date).days > rules.max_extension_days:
            return (
                f"{(wanted - inv.due_date).days} days later than the due date; policy allows "
                f"{rules.max_extension_days}"
            )
        if rules.max_changes_per_invoice < 1:
            return "the policy allows no automatic due-date change"
        if inv.extended and rules.max_changes_per_invoice <= 1:
            return f"{inv.number} was already extended once"
        if inv.disputed and not rules.allow_when_disputed:
            return f"{inv.number} is disputed"
        if inv.days_overdue > rules.max_days_overdue:
            return (
                f"{inv.number} is {inv.days_overdue} days overdue (limit {rules.max_days_overdue})"
            )
        changes.append(
            {
                "kind": "due_date_changed",
                "invoice": inv.number,
                "from": inv.due_date.isoformat(),
                "to": wanted.isoformat(),
            }
        )
        return None
    if f.intent in (Intent.statement_request, Intent.payment_info_request):
        return None
    return f"{f.intent.value} is decided by a person"
