"""The policy gate (agent.gate.decide): every rule, with hand-built facts and classifications.

No I/O: the gate is pure. Dates are fixed (today = 2026-11-20) and the policy is the packaged
default (policies/agent.yaml): min confidence 0.6, due-date change ≤ 14 days, once, not
disputed, ≤ 30 days overdue, promise ≤ 60 days ahead, payment check pause 5 days.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.gate import Decision, GateInput, InvoiceFacts, decide
from agent.schema import Classification, Intent, IntentFinding
from billing.mail import MachineKind, TrustLevel
from policies.loader import default_policy
from policies.models import AgentPolicy

TODAY = date(2026, 11, 20)
POLICY = default_policy().agent
CLIENT = "cl-acme"
VOCABULARY = {
    "chase_paused",
    "promise_recorded",
    "due_date_changed",
    "delivery_failed",
    "check_task",
}


def invoice(
    number: str = "INV-2026-0117",
    *,
    client_id: str = CLIENT,
    status: str = "open",
    balance: str = "4344.00",
    due_date: date | None = date(2026, 11, 14),
    days_overdue: int | None = None,
    extended: bool = False,
    disputed: bool = False,
) -> InvoiceFacts:
    if days_overdue is None:
        days_overdue = max((TODAY - due_date).days, 0) if due_date and status != "paid" else 0
    return InvoiceFacts(
        number=number,
        client_id=client_id,
        status=status,
        currency="GBP",
        total=Decimal("4344.00"),
        balance=Decimal(balance),
        due_date=due_date,
        days_overdue=days_overdue,
        extended=extended,
        disputed=disputed,
    )


PAID = invoice("INV-2026-0101", status="paid", balance="0.00", due_date=date(2026, 10, 1))


def finding(intent: Intent, confidence: float = 0.95, **kw: Any) -> IntentFinding:
    return IntentFinding(intent=intent, confidence=confidence, evidence=["quote"], **kw)


def classified(*findings: IntentFinding, flags: tuple[str, ...] = ()) -> Classification:
    return Classification(
        intents=list(findings), language="en", flags=list(flags), classifier="test"
    )


def gate_input(
    classification: Classification | None = None,
    *,
    trust: TrustLevel = TrustLevel.verified,
    on_file: bool = True,
    client_id: str | None = CLIENT,
    invoices: tuple[InvoiceFacts, ...] = (),
    open_invoices: tuple[InvoiceFacts, ...] | None = None,
    machine: MachineKind = MachineKind.none,
    **kw: Any,
) -> GateInput:
    return GateInput(
        today=TODAY,
        trust=trust,
        sender_on_file=on_file,
        client_id=client_id,
        machine=machine,
        oversize=kw.pop("oversize", None),
        classification=classification,
        classifier_error=kw.pop("classifier_error", None),
        invoices=invoices,
        open_invoices=tuple(i for i in invoices if i.open)
        if open_invoices is None
        else open_invoices,
        **kw,
    )


def handoff_reason(decision: Decision) -> str:
    assert decision.disposition == "handoff", decision
    assert decision.template is None and decision.attach == []
    return decision.reason


# ------------------------------------------------------------------ routine answers
def test_copy_request_from_verified_contact_is_answered_with_the_pdf_and_changes_nothing() -> None:
    inv = invoice()
    d = decide(gate_input(classified(finding(Intent.copy_request)), invoices=(inv,)), POLICY)
    assert (d.disposition, d.intent, d.template) == ("reply", "copy_request", "reply_copy")
    assert d.attach == ["INV-2026-0117"]
    assert d.about == ["INV-2026-0117"]
    assert d.changes == []
    assert d.reason == "answered from the ledger"
    assert d.ack_template is None


def test_copy_request_without_an_identified_invoice_goes_to_a_person() -> None:
    d = decide(gate_input(classified(finding(Intent.copy_request))), POLICY)
    assert handoff_reason(d) == "copy requested but no invoice could be identified"
    assert d.intent == "copy_request"


def test_payment_confirmation_not_in_ledger_pauses_five_days_and_opens_a_check_task() -> None:
    inv = invoice()
    d = decide(
        gate_input(classified(finding(Intent.payment_confirmation)), invoices=(inv,)), POLICY
    )
    assert (d.disposition, d.template) == ("reply", "reply_payment_status")
    assert d.changes == [
        {
            "kind": "chase_paused",
            "invoice": "INV-2026-0117",
            "reason": "payment_in_flight",
            "until": "2026-11-25",
        },
        {
            "kind": "check_task",
            "invoice": "INV-2026-0117",
            "detail": "client says paid; not in the ledger yet",
        },
    ]
    assert not any(c["kind"] in ("paid", "payment_recorded", "status") for c in d.changes)


def test_payment_confirmation_of_an_invoice_the_ledger_shows_paid_answers_without_changes() -> None:
    d = decide(
        gate_input(classified(finding(Intent.payment_confirmation)), invoices=(PAID,)), POLICY
    )
    assert (d.disposition, d.template, d.changes) == ("reply", "reply_payment_status", [])


def test_payment_confirmation_without_reference_uses_the_single_open_invoice() -> None:
    only = invoice()
    d = decide(
        gate_input(classified(finding(Intent.payment_confirmation)), open_invoices=(only,)), POLICY
    )
    assert d.disposition == "reply"
    assert [c["invoice"] for c in d.changes] == ["INV-2026-0117", "INV-2026-0117"]


def test_payment_confirmation_without_reference_and_two_open_invoices_goes_to_a_person() -> None:
    two = (invoice(), invoice("INV-2026-0124", due_date=date(2026, 12, 10)))
    d = decide(
        gate_input(classified(finding(Intent.payment_confirmation)), open_invoices=two), POLICY
    )
    assert handoff_reason(d) == "payment confirmed but the invoice is unclear"
    assert d.changes == []


def test_promise_to_pay_is_recorded_and_pauses_chasing_until_the_date() -> None:
    inv = invoice()
    f = finding(Intent.promise_to_pay, promised_date=date(2026, 12, 1), amounts=["4344.00"])
    d = decide(gate_input(classified(f), invoices=(inv,)), POLICY)
    assert (d.disposition, d.template) == ("reply", "reply_promise_ack")
    assert d.changes == [
        {
            "kind": "promise_recorded",
            "invoice": "INV-2026-0117",
            "date": "2026-12-01",
            "amount": "4344.00",
        },
        {
            "kind": "chase_paused",
            "invoice": "INV-2026-0117",
            "reason": "promise_to_pay",
            "until": "2026-12-01",
        },
    ]


@pytest.mark.parametrize(
    ("days_ahead", "disposition"), [(0, "reply"), (60, "reply"), (61, "handoff")]
)
def test_promise_to_pay_is_accepted_up_to_sixty_days_ahead(
    days_ahead: int, disposition: str
) -> None:
    when = TODAY + timedelta(days=days_ahead)
    d = decide(
        gate_input(
            classified(finding(Intent.promise_to_pay, promised_date=when)), invoices=(invoice(),)
        ),
        POLICY,
    )
    assert d.disposition == disposition
    if disposition == "handoff":
        assert d.reason == "promised date 2027-01-20 is beyond the policy's 60 days"
        assert d.changes == []


def test_promise_to_pay_in_the_past_or_without_a_date_goes_to_a_person() -> None:
    past = finding(Intent.promise_to_pay, promised_date=date(2026, 11, 19))
    d = decide(gate_input(classified(past), invoices=(invoice(),)), POLICY)
    assert handoff_reason(d) == "promised date 2026-11-19 is in the past"
    undated = finding(Intent.promise_to_pay)
    d = decide(gate_input(classified(undated), invoices=(invoice(),)), POLICY)
    assert handoff_reason(d) == "promise to pay without a date"


def test_promise_to_pay_on_a_disputed_invoice_goes_to_a_person() -> None:
    f = finding(Intent.promise_to_pay, promised_date=date(2026, 12, 1))
    d = decide(gate_input(classified(f), invoices=(invoice(disputed=True),)), POLICY)
    assert handoff_reason(d) == "INV-2026-0117 is disputed"
    assert d.changes == []


def test_promise_to_pay_takes_its_date_from_the_dates_list_when_not_given_explicitly() -> None:
    f = finding(Intent.promise_to_pay, dates=[date(2026, 11, 30)])
    d = decide(gate_input(classified(f), invoices=(invoice(),)), POLICY)
    assert d.disposition == "reply"
    assert d.changes[0] == {
        "kind": "promise_recorded",
        "invoice": "INV-2026-0117",
        "date": "2026-11-30",
        "amount": None,
    }


def test_statement_request_without_references_is_about_every_open_invoice() -> None:
    opens = (invoice(), invoice("INV-2026-0124", due_date=date(2026, 12, 10)))
    d = decide(
        gate_input(classified(finding(Intent.statement_request)), open_invoices=opens), POLICY
    )
    assert (d.disposition, d.template) == ("reply", "reply_statement")
    assert d.about == ["INV-2026-0117", "INV-2026-0124"]
    assert d.changes == [] and d.attach == []


def test_payment_instructions_go_to_a_verified_contact_on_file_only() -> None:
    c = classified(finding(Intent.payment_info_request))
    d = decide(gate_input(c, open_invoices=(invoice(),)), POLICY)
    assert (d.disposition, d.template) == ("reply", "reply_payment_instructions")
    for trust, on_file in (
        (TrustLevel.unverified, True),
        (TrustLevel.verified, False),
        (TrustLevel.unverified, False),
    ):
        d = decide(gate_input(c, trust=trust, on_file=on_file, open_invoices=(invoice(),)), POLICY)
        assert handoff_reason(d) == "sender is not a verified contact on file: no invoice data"
    d = decide(gate_input(c, trust=TrustLevel.suspicious, open_invoices=(invoice(),)), POLICY)
    assert handoff_reason(d) == "suspicious sender: no invoice data is sent"


# ------------------------------------------------------------------ due-date changes
def due_change(wanted: date, inv: InvoiceFacts, **kw: Any) -> Decision:
    f = finding(Intent.due_date_change, requested_due_date=wanted)
    return decide(gate_input(classified(f), invoices=(inv,), **kw), POLICY)


def test_due_date_change_of_fourteen_days_is_granted() -> None:
    inv = invoice("INV-2026-0124", due_date=date(2026, 12, 10))
    d = due_change(date(2026, 12, 24), inv)
    assert (d.disposition, d.template) == ("reply", "reply_due_date_granted")
    assert d.changes == [
        {
            "kind": "due_date_changed",
            "invoice": "INV-2026-0124",
            "from": "2026-12-10",
            "to": "2026-12-24",
        }
    ]


def test_due_date_change_of_fifteen_days_goes_to_a_person() -> None:
    inv = invoice("INV-2026-0124", due_date=date(2026, 12, 10))
    d = due_change(date(2026, 12, 25), inv)
    assert handoff_reason(d) == "15 days later than the due date; policy allows 14"
    assert d.changes == []


@pytest.mark.parametrize(("overdue", "granted"), [(30, True), (31, False)])
def test_due_date_change_is_refused_beyond_thirty_days_overdue(overdue: int, granted: bool) -> None:
    due = TODAY - timedelta(days=overdue)
    inv = invoice(due_date=due, days_overdue=overdue)
    d = due_change(due + timedelta(days=14), inv)
    if granted:
        assert d.disposition == "reply"
        assert d.changes[0]["to"] == (due + timedelta(days=14)).isoformat()
    else:
        assert handoff_reason(d) == "INV-2026-0117 is 31 days overdue (limit 30)"


def test_due_date_change_is_granted_once_per_invoice() -> None:
    inv = invoice("INV-2026-0124", due_date=date(2026, 12, 10), extended=True)
    assert handoff_reason(due_change(date(2026, 12, 17), inv)) == (
        "INV-2026-0124 was already extended once"
    )


def test_due_date_change_of_a_disputed_invoice_goes_to_a_person() -> None:
    inv = invoice("INV-2026-0124", due_date=date(2026, 12, 10), disputed=True)
    assert handoff_reason(due_change(date(2026, 12, 17), inv)) == "INV-2026-0124 is disputed"


def test_due_date_change_to_an_earlier_date_or_without_a_date_goes_to_a_person() -> None:
    inv = invoice("INV-2026-0124", due_date=date(2026, 12, 10))
    assert handoff_reason(due_change(date(2026, 12, 10), inv)) == (
        "requested date 2026-12-10 is not later than the due date 2026-12-10"
    )
    f = finding(Intent.due_date_change)
    d = decide(gate_input(classified(f), invoices=(inv,)), POLICY)
    assert handoff_reason(d) == "no new due date given"


def test_due_date_change_needs_exactly_one_open_invoice() -> None:
    two = (invoice(), invoice("INV-2026-0124", due_date=date(2026, 12, 10)))
    f = finding(Intent.due_date_change, requested_due_date=date(2026, 11, 20))
    d = decide(gate_input(classified(f), invoices=two), POLICY)
    assert handoff_reason(d) == "due-date change needs exactly one open invoice"


def test_due_date_change_asked_by_someone_not_on_file_goes_to_a_person() -> None:
    inv = invoice("INV-2026-0124", due_date=date(2026, 12, 10))
    d = due_change(date(2026, 12, 17), inv, trust=TrustLevel.unverified, on_file=False)
    assert handoff_reason(d) == "sender is not a verified contact on file: no invoice data"
    assert d.changes == []


def test_due_date_change_policy_switched_off_or_with_no_changes_allowed_goes_to_a_person() -> None:
    inv = invoice("INV-2026-0124", due_date=date(2026, 12, 10))
    f = finding(Intent.due_date_change, requested_due_date=date(2026, 12, 17))
    off = POLICY.model_copy(
        update={"due_date_change": POLICY.due_date_change.model_copy(update={"enabled": False})}
    )
    d = decide(gate_input(classified(f), invoices=(inv,)), off)
    assert handoff_reason(d) == "due-date changes are decided by a person"
    none_allowed = POLICY.model_copy(
        update={
            "due_date_change": POLICY.due_date_change.model_copy(
                update={"max_changes_per_invoice": 0}
            )
        }
    )
    d = decide(gate_input(classified(f), invoices=(inv,)), none_allowed)
    assert handoff_reason(d) == "the policy allows no automatic due-date change"


# ------------------------------------------------------------------ disputes
def test_dispute_from_a_verified_contact_pauses_open_invoices_and_is_only_acknowledged() -> None:
    opened, other_client = invoice(), invoice("INV-2026-0108", client_id="cl-brandt")
    c = classified(finding(Intent.dispute), finding(Intent.copy_request))
    d = decide(gate_input(c, invoices=(opened, PAID, other_client)), POLICY)
    assert (d.disposition, d.intent, d.reason) == (
        "handoff",
        "dispute",
        "dispute: a person decides",
    )
    assert d.intents == ["dispute", "copy_request"]
    assert d.template is None and d.attach == []
    assert d.ack_template == "reply_dispute_ack"
    assert d.changes == [
        {"kind": "chase_paused", "invoice": "INV-2026-0117", "reason": "dispute", "until": None}
    ]


def test_dispute_as_a_secondary_intent_still_wins_over_a_routine_request() -> None:
    c = classified(finding(Intent.payment_confirmation), finding(Intent.dispute, 0.7))
    d = decide(gate_input(c, invoices=(invoice(),)), POLICY)
    assert (d.disposition, d.intent) == ("handoff", "dispute")
    assert [ch["reason"] for ch in d.changes] == ["dispute"]


def test_dispute_from_an_unverified_sender_gets_no_acknowledgement() -> None:
    c = classified(finding(Intent.dispute))
    d = decide(
        gate_input(c, trust=TrustLevel.unverified, on_file=False, invoices=(invoice(),)), POLICY
    )
    assert d.disposition == "handoff" and d.ack_template is None
    assert [ch["kind"] for ch in d.changes] == ["chase_paused"]


def test_dispute_from_a_suspicious_sender_changes_nothing_and_gets_no_acknowledgement() -> None:
    c = classified(finding(Intent.dispute))
    d = decide(gate_input(c, trust=TrustLevel.suspicious, invoices=(invoice(),)), POLICY)
    assert (d.disposition, d.ack_template, d.changes) == ("handoff", None, [])


def test_dispute_with_low_confidence_still_goes_to_a_person() -> None:
    c = classified(finding(Intent.dispute, 0.2), flags=("low_confidence",))
    d = decide(gate_input(c, invoices=(invoice(),)), POLICY)
    assert (d.disposition, d.intent) == ("handoff", "dispute")


# ------------------------------------------------------------------ always a person
@pytest.mark.parametrize(
    "intent",
    [Intent.billing_details_change, Intent.tax_document_request, Intent.other],
)
def test_intents_outside_the_auto_list_go_to_a_person(intent: Intent) -> None:
    d = decide(gate_input(classified(finding(intent)), invoices=(invoice(),)), POLICY)
    assert handoff_reason(d) == f"{intent.value} is decided by a person"
    assert (d.intent, d.changes, d.ack_template) == (intent.value, [], None)


@pytest.mark.parametrize(
    "flag", ["legal_language", "insolvency", "injection_suspected", "short_payment"]
)
def test_flags_that_need_a_person_override_a_routine_request(flag: str) -> None:
    c = classified(finding(Intent.copy_request), flags=(flag,))
    d = decide(gate_input(c, invoices=(invoice(),)), POLICY)
    assert handoff_reason(d) == f"needs a person ({flag})"


def test_suspicious_sender_asking_for_a_copy_gets_no_invoice_data() -> None:
    c = classified(finding(Intent.copy_request))
    d = decide(gate_input(c, trust=TrustLevel.suspicious, invoices=(invoice(),)), POLICY)
    assert handoff_reason(d) == "suspicious sender: no invoice data is sent"


def test_unverified_colleague_asking_for_a_copy_gets_no_invoice_data() -> None:
    c = classified(finding(Intent.copy_request))
    d = decide(
        gate_input(c, trust=TrustLevel.unverified, on_file=False, invoices=(invoice(),)), POLICY
    )
    assert handoff_reason(d) == "sender is not a verified contact on file: no invoice data"
    assert d.ack_template is None


@pytest.mark.parametrize(("confidence", "disposition"), [(0.59, "handoff"), (0.6, "reply")])
def test_confidence_below_the_policy_minimum_goes_to_a_person(
    confidence: float, disposition: str
) -> None:
    c = classified(finding(Intent.copy_request, confidence))
    d = decide(gate_input(c, invoices=(invoice(),)), POLICY)
    assert d.disposition == disposition
    if disposition == "handoff":
        assert d.reason == "low confidence (0.59)"


def test_low_confidence_flag_goes_to_a_person_whatever_the_score() -> None:
    c = classified(finding(Intent.copy_request, 0.9), flags=("low_confidence",))
    assert handoff_reason(decide(gate_input(c, invoices=(invoice(),)), POLICY)) == (
        "low confidence (0.90)"
    )


def test_classifier_failure_goes_to_a_person_with_the_reason() -> None:
    d = decide(gate_input(None, classifier_error="timeout: 30 s"), POLICY)
    assert handoff_reason(d) == "classifier unavailable (timeout: 30 s)"
    assert (d.intent, d.intents, d.confidence) == ("other", ["other"], None)


def test_oversize_message_goes_to_a_person_before_anything_is_read() -> None:
    c = classified(finding(Intent.copy_request))
    d = decide(gate_input(c, invoices=(invoice(),), oversize="body over 5 MB"), POLICY)
    assert handoff_reason(d) == "message could not be read safely: body over 5 MB"
    assert d.intent == "other"


def test_references_to_another_clients_invoices_go_to_a_person() -> None:
    c = classified(finding(Intent.copy_request))
    d = decide(gate_input(c, foreign_refs=True), POLICY)
    assert handoff_reason(d) == "refers to invoices of another client"


# ------------------------------------------------------------------ several intents
def test_secondary_request_outside_policy_is_dropped_and_the_primary_answered() -> None:
    inv = invoice("INV-2026-0124", due_date=date(2026, 12, 10))
    c = classified(
        finding(Intent.copy_request),
        finding(Intent.due_date_change, 0.8, requested_due_date=date(2027, 1, 30)),
    )
    d = decide(gate_input(c, invoices=(inv,)), POLICY)
    assert (d.disposition, d.intent, d.template) == ("reply", "copy_request", "reply_copy")
    assert d.intents == ["copy_request", "due_date_change"]
    assert d.attach == ["INV-2026-0124"]
    assert d.changes == []  # the refused extension changed nothing


def test_secondary_request_inside_policy_is_carried_out_with_the_primary() -> None:
    inv = invoice("INV-2026-0124", due_date=date(2026, 12, 10))
    c = classified(
        finding(Intent.promise_to_pay, promised_date=date(2026, 12, 5)),
        finding(Intent.copy_request, 0.8),
    )
    d = decide(gate_input(c, invoices=(inv,)), POLICY)
    assert (d.disposition, d.template) == ("reply", "reply_promise_ack")
    assert d.attach == ["INV-2026-0124"]
    assert [ch["kind"] for ch in d.changes] == ["promise_recorded", "chase_paused"]


def test_primary_request_outside_policy_hands_off_the_whole_message() -> None:
    inv = invoice("INV-2026-0124", due_date=date(2026, 12, 10))
    c = classified(
        finding(Intent.due_date_change, requested_due_date=date(2027, 1, 30)),
        finding(Intent.copy_request, 0.8),
    )
    d = decide(gate_input(c, invoices=(inv,)), POLICY)
    assert handoff_reason(d) == "51 days later than the due date; policy allows 14"
    assert (d.intent, d.changes) == ("due_date_change", [])


def test_thanks_with_a_request_outside_policy_is_handed_off_under_the_request() -> None:
    inv = invoice("INV-2026-0124", due_date=date(2026, 12, 10))
    c = classified(
        finding(Intent.acknowledgement),
        finding(Intent.due_date_change, 0.9, requested_due_date=date(2027, 1, 30)),
    )
    d = decide(gate_input(c, invoices=(inv,)), POLICY)
    assert d.disposition == "handoff"
    assert d.intent == "due_date_change"
    billing = classified(finding(Intent.acknowledgement), finding(Intent.billing_details_change))
    d = decide(gate_input(billing, invoices=(inv,)), POLICY)
    assert (d.disposition, d.intent) == ("handoff", "billing_details_change")


def test_a_secondary_intent_a_person_decides_hands_off_the_message() -> None:
    c = classified(finding(Intent.copy_request), finding(Intent.billing_details_change, 0.8))
    d = decide(gate_input(c, invoices=(invoice(),)), POLICY)
    assert handoff_reason(d) == "billing_details_change is decided by a person"
    assert d.intent == "copy_request"


# ------------------------------------------------------------------ no answer
@pytest.mark.parametrize("intent", [Intent.acknowledgement, Intent.auto_reply, Intent.bounce])
def test_thanks_and_machine_like_intents_are_not_answered(intent: Intent) -> None:
    d = decide(gate_input(classified(finding(intent)), invoices=(invoice(),)), POLICY)
    assert (d.disposition, d.reason, d.changes) == ("ignore", "nothing to answer", [])


def test_spam_from_an_unknown_sender_is_ignored() -> None:
    c = classified(finding(Intent.spam_or_phishing))
    d = decide(gate_input(c, trust=TrustLevel.unverified, on_file=False, client_id=None), POLICY)
    assert (d.disposition, d.intent, d.reason) == ("ignore", "spam_or_phishing", "spam or phishing")


def test_spam_verdict_on_a_verified_contact_goes_to_a_person() -> None:
    c = classified(finding(Intent.spam_or_phishing))
    assert decide(gate_input(c), POLICY).disposition == "handoff"


def test_bounce_of_our_invoice_email_records_the_failure_and_hands_off() -> None:
    d = decide(
        gate_input(
            None,
            machine=MachineKind.bounce,
            trust=TrustLevel.unverified,
            on_file=False,
            client_id=None,
            bounce_invoices=("INV-2026-0115",),
            bounce_detail="5.1.1 user unknown",
        ),
        POLICY,
    )
    assert (d.disposition, d.intent) == ("handoff", "bounce")
    assert d.reason == "our email bounced (5.1.1 user unknown); fix the contact on file"
    assert d.about == ["INV-2026-0115"]
    assert d.changes == [
        {"kind": "delivery_failed", "invoice": "INV-2026-0115", "detail": "5.1.1 user unknown"}
    ]
    assert d.ack_template is None


def test_bounce_we_cannot_tie_to_an_invoice_email_is_ignored() -> None:
    d = decide(gate_input(None, machine=MachineKind.bounce, client_id=None), POLICY)
    assert (d.disposition, d.intent, d.changes) == ("ignore", "bounce", [])
    assert d.reason == "bounce of a message we cannot tie to an invoice email"


def test_out_of_office_with_a_return_date_pauses_open_invoices_until_the_day_before() -> None:
    opened = invoice()
    d = decide(
        gate_input(
            None,
            machine=MachineKind.auto_reply,
            invoices=(opened, PAID),
            auto_reply_until=date(2026, 11, 30),
        ),
        POLICY,
    )
    assert (d.disposition, d.intent) == ("ignore", "auto_reply")
    assert d.reason == "automatic reply; away until 2026-11-30"
    assert d.changes == [
        {
            "kind": "chase_paused",
            "invoice": "INV-2026-0117",
            "reason": "out_of_office",
            "until": "2026-11-29",
        }
    ]


def test_out_of_office_without_named_invoices_pauses_the_clients_open_invoices() -> None:
    opens = (invoice(), invoice("INV-2026-0124", due_date=date(2026, 12, 10)))
    d = decide(
        gate_input(
            None,
            machine=MachineKind.auto_reply,
            open_invoices=opens,
            auto_reply_until=date(2026, 12, 1),
        ),
        POLICY,
    )
    assert [c["invoice"] for c in d.changes] == ["INV-2026-0117", "INV-2026-0124"]


@pytest.mark.parametrize(
    ("until", "on_file"), [(None, True), (TODAY, True), (date(2026, 11, 30), False)]
)
def test_out_of_office_without_future_return_or_from_a_stranger_changes_nothing(
    until: date | None, on_file: bool
) -> None:
    d = decide(
        gate_input(
            None,
            machine=MachineKind.auto_reply,
            on_file=on_file,
            invoices=(invoice(),),
            auto_reply_until=until,
        ),
        POLICY,
    )
    assert (d.disposition, d.changes) == ("ignore", [])


@pytest.mark.parametrize(
    ("machine", "intent"),
    [(MachineKind.read_receipt, "acknowledgement"), (MachineKind.mailing_list, "other")],
)
def test_read_receipts_and_list_mail_are_ignored(machine: MachineKind, intent: str) -> None:
    d = decide(gate_input(classified(finding(Intent.copy_request)), machine=machine), POLICY)
    assert (d.disposition, d.intent, d.changes) == ("ignore", intent, [])


# ------------------------------------------------------------------ invariants
_intents = st.sampled_from(list(Intent))
_findings = st.builds(
    IntentFinding,
    intent=_intents,
    confidence=st.floats(0, 1),
    evidence=st.just(["q"]),
    promised_date=st.none() | st.dates(date(2026, 10, 1), date(2027, 3, 1)),
    requested_due_date=st.none() | st.dates(date(2026, 10, 1), date(2027, 3, 1)),
)
_invoices = st.builds(
    invoice,
    number=st.sampled_from(["INV-2026-0117", "INV-2026-0124", "INV-2026-0108"]),
    client_id=st.sampled_from([CLIENT, "cl-brandt"]),
    status=st.sampled_from(["open", "paid", "partially_paid", "void"]),
    balance=st.sampled_from(["0.00", "100.00"]),
    due_date=st.dates(date(2026, 9, 1), date(2027, 1, 1)),
    extended=st.booleans(),
    disputed=st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(
    findings=st.lists(_findings, min_size=1, max_size=3),
    flags=st.lists(st.sampled_from(["low_confidence", "legal_language", "negated_payment"])),
    trust=st.sampled_from(list(TrustLevel)),
    on_file=st.booleans(),
    machine=st.sampled_from(list(MachineKind)),
    invoices=st.lists(_invoices, max_size=3),
)
def test_no_decision_ever_leaves_the_vocabulary_or_answers_an_untrusted_sender(
    findings: list[IntentFinding],
    flags: list[str],
    trust: TrustLevel,
    on_file: bool,
    machine: MachineKind,
    invoices: list[InvoiceFacts],
) -> None:
    c = classified(*findings, flags=tuple(flags))
    d = decide(
        gate_input(c, trust=trust, on_file=on_file, machine=machine, invoices=tuple(invoices)),
        POLICY,
    )
    assert {ch["kind"] for ch in d.changes} <= VOCABULARY
    if d.disposition == "reply":
        assert trust is TrustLevel.verified and on_file
        assert not any(f.intent is Intent.dispute for f in findings)
    if any(f.intent is Intent.dispute for f in findings) and machine is MachineKind.none:
        assert d.disposition == "handoff"
    if d.ack_template is not None:
        assert trust is TrustLevel.verified
    for ch in d.changes:
        if ch["kind"] == "due_date_changed":
            inv = next(i for i in invoices if i.number == ch["invoice"])
            assert inv.due_date is not None and not inv.extended and not inv.disputed
            assert 0 < (date.fromisoformat(ch["to"]) - inv.due_date).days <= 14
            assert inv.days_overdue <= 30


def test_default_policy_matches_issue_four_limits() -> None:
    policy: AgentPolicy = POLICY
    assert policy.min_confidence == 0.6
    assert policy.due_date_change.max_extension_days == 14
    assert policy.due_date_change.max_changes_per_invoice == 1
    assert policy.due_date_change.max_days_overdue == 30
    assert policy.due_date_change.allow_when_disputed is False
    assert policy.promise_to_pay.max_days_ahead == 60
    assert policy.payment_confirmation.checking_pause_days == 5
    assert policy.action_for("dispute") == "hand_off"
    assert policy.action_for("payment_info_request") == "auto_reply"
