"""The agent's nodes: prefilter → resolve → classify → gate → act | hand off → human.

Reading nodes change nothing. Side effects happen only in ``act``, ``handoff`` and ``human``,
after the gate, each keyed (by the inbound message's key, the conversation, the decision), so a
re-run or resumed graph never sends or changes anything twice. With ``dry_run`` they compute
what they would do and write nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from agent.classifier import ClassifierInput, ClassifierUnavailable
from agent.context import AgentDeps
from agent.gate import REPLY_TEMPLATES, GateInput, InvoiceFacts, decide
from agent.injection import hidden_injection
from agent.references import (
    InvoiceCandidate,
    extract_invoice_refs,
    extract_month_refs,
    resolve_refs,
)
from agent.schema import Classification, Intent, verify_evidence
from agent.slack import handoff_post
from agent.state import AgentState
from billing.chase import Pause
from billing.directory import Client, Company
from billing.events import DomainEvent, EventKind
from billing.mail import InboundMessage, KnownContact, MachineKind, TrustLevel
from billing.messageids import parse_message_id
from billing.records import InvoiceRecord
from billing.terms import days_overdue
from tools.clock import business_date
from tools.messages import base_context, email_item, invoice_context
from tools.policy_book import PolicyBook
from tools.ports import Ledger

MAX_CLASSIFIER_TEXT = 20_000


def message_state(msg: InboundMessage) -> dict[str, Any]:
    """The parsed message as JSON-safe data for the graph state."""
    bounce = msg.bounce
    return {
        "message_id": msg.message_id,
        "from_addr": msg.from_addr,
        "from_name": msg.from_name,
        "reply_to": list(msg.reply_to),
        "to": list(msg.to),
        "subject": msg.subject,
        "in_reply_to": msg.in_reply_to,
        "references": list(msg.references),
        "text": msg.text[:MAX_CLASSIFIER_TEXT],
        "hidden_text": msg.hidden_text[:MAX_CLASSIFIER_TEXT],
        "new_text": msg.new_text[:MAX_CLASSIFIER_TEXT],
        "attachments": [a.filename or a.content_type for a in msg.attachments],
        "machine": msg.machine.value,
        "machine_reason": msg.machine_reason,
        "bounce": None
        if bounce is None
        else {
            "recipients": list(bounce.recipients),
            "status": bounce.status,
            "diagnostic": bounce.diagnostic,
            "original_message_id": bounce.original_message_id,
            "permanent": bounce.permanent,
        },
        "auto_reply_until": msg.auto_reply_until.isoformat() if msg.auto_reply_until else None,
        "oversize_reason": msg.oversize_reason,
    }


def _today(deps: AgentDeps, company: Company) -> date:
    return business_date(deps.clock.now(), company.timezone)


def _our_numbers(ledger: Ledger, ids: list[str | None], domain: str) -> list[str]:
    """Invoice numbers named by Message-IDs we sent (``<NUMBER.step[.token]@our domain>``)."""
    out: list[str] = []
    for mid in ids:
        if not mid:
            continue
        parts = parse_message_id(mid, domain=domain)
        candidates = [parts.number] if parts else []
        local, _, host = mid.strip().strip("<>").rpartition("@")
        if host.lower() == domain.lower() or host.lower().endswith("." + domain.lower()):
            # Older or foreign step formats: try every dotted prefix of the local part.
            pieces = local.split(".")
            candidates += [".".join(pieces[:i]) for i in range(1, len(pieces))]
        for number in candidates:
            if number and number not in out and ledger.has_document(number):
                out.append(number)
                break
    return out


def _candidate(record: InvoiceRecord) -> InvoiceCandidate:
    return InvoiceCandidate(
        number=record.number,
        client_id=record.client_id,
        issue_date=record.document.issue_date,
        due_date=record.due_date or record.document.issue_date,
        total=record.total,
        balance=record.balance,
        currency=record.currency,
    )


def _client_invoices(deps: AgentDeps, ledger: Ledger, client_id: str) -> list[InvoiceRecord]:
    return list(
        deps.remember(("invoices", client_id), lambda: ledger.invoices(client_id=client_id))
    )


def _client_of(ledger: Ledger, state: AgentState) -> Client | None:
    client_id = state.get("client_id")
    return ledger.client(client_id) if client_id else None


def _remembered_client(deps: AgentDeps, ledger: Ledger, state: AgentState) -> Client | None:
    client_id = state.get("client_id")
    if not client_id:
        return None
    return cast(Client, deps.remember(("client", client_id), lambda: ledger.client(client_id)))


# ---------------------------------------------------------------------------- resolve
def resolve(deps: AgentDeps, state: AgentState, msg: InboundMessage) -> AgentState:
    """Sender → contact → client (with trust); references and thread → invoices."""
    m = state["message"]
    with deps.ledgers() as ledger:
        company = deps.remember("company", ledger.company)
        contacts = deps.remember("contacts", ledger.all_contacts)
        known = [
            KnownContact(email=c.email, name=c.name, role=c.role.value, client_id=c.client_id)
            for c in contacts
        ]
        trust = deps.assess_trust(msg, known)
        client_id = trust.client_id
        if trust.level is TrustLevel.verified and trust.contact is not None:
            client_id = trust.contact.client_id
        thread = _our_numbers(ledger, [m["in_reply_to"], *m["references"]], company.email_domain)
        bounce_ids: list[str | None] = []
        if m["machine"] == MachineKind.bounce.value:
            b = m.get("bounce") or {}
            bounce_ids = [b.get("original_message_id"), m["in_reply_to"], *m["references"]]
        bounced = _our_numbers(ledger, bounce_ids, company.email_domain)
        own = _client_invoices(deps, ledger, client_id) if client_id else []
        text = f"{m['subject']}\n{m['text']}"
        refs = extract_invoice_refs(text)
        months = [mr.month for mr in extract_month_refs(m["subject"] + "\n" + m["new_text"])]
        # Unknown senders: only invoices whose number matches what the message wrote (never
        # a scan of the whole ledger); they are reported, never disclosed.
        fragments = [f"{r.seq:0{w}d}" for r in refs for w in (1, 2, 3, 4)]
        named = ledger.invoices_matching(fragments) if refs else []
        pool = own if client_id else named
        found = resolve_refs(
            refs, (), months, [_candidate(r) for r in pool], thread_invoice_numbers=thread
        )
        foreign = False
        if client_id and refs and not found:
            others = [r for r in named if r.client_id != client_id]
            foreign = bool(resolve_refs(refs, (), (), [_candidate(r) for r in others]))
    return {
        "trust": {
            "level": trust.level.value,
            "reasons": list(trust.reasons),
            "client_id": client_id,
            "contact": None if trust.contact is None else asdict(trust.contact),
        },
        "client_id": client_id,
        "invoices": found,
        "thread_invoices": thread,
        "bounce_invoices": bounced,
        "foreign_refs": foreign,
    }


# ---------------------------------------------------------------------------- classify
def classify(deps: AgentDeps, state: AgentState, language_hint: str | None) -> AgentState:
    """Ask the classifier (never for machine mail); failures become a hand-off reason."""
    m = state["message"]
    if m["machine"] != MachineKind.none.value or m.get("oversize_reason"):
        return {"classification": None, "classifier_error": None}
    inp = ClassifierInput(
        subject=m["subject"],
        new_text=m["new_text"],
        text=m["text"],
        from_name=m["from_name"],
        language_hint=language_hint,
    )
    with deps.ledgers() as ledger:
        today = _today(deps, deps.remember("company", ledger.company))
    try:
        result = deps.classifier.classify(inp, today=today)
        result = verify_evidence(result, inp.full_text)
    except ClassifierUnavailable as exc:
        return {"classification": None, "classifier_error": f"{exc.reason}: {exc.detail}"[:300]}
    if hidden_injection(m.get("hidden_text", ""), " ".join(m.get("attachments") or [])) and (
        "injection_suspected" not in result.flags
    ):
        result = result.model_copy(update={"flags": [*result.flags, "injection_suspected"]})
    return {"classification": result.model_dump(mode="json"), "classifier_error": None}


# ---------------------------------------------------------------------------- gate
def _facts(record: InvoiceRecord, pauses: Sequence[Pause], today: date) -> InvoiceFacts:
    disputed = any(p.reason == "dispute" and (p.until is None or p.until >= today) for p in pauses)
    extended = (
        record.original_due_date is not None
        and record.due_date is not None
        and record.original_due_date != record.due_date
    )
    return InvoiceFacts(
        number=record.number,
        client_id=record.client_id,
        status=record.status.value,
        currency=record.currency,
        total=record.total,
        balance=record.balance,
        due_date=record.due_date,
        days_overdue=days_overdue(record.due_date, today) if record.status.is_collectible else 0,
        extended=extended,
        disputed=disputed,
    )


def gate(deps: AgentDeps, state: AgentState) -> AgentState:
    """Decide from facts; amounts in the message refine which invoice is meant."""
    m = state["message"]
    c = (
        Classification.model_validate(state["classification"])
        if state.get("classification")
        else None
    )
    with deps.ledgers() as ledger:
        company = deps.remember("company", ledger.company)
        today = _today(deps, company)
        client = _remembered_client(deps, ledger, state)
        book = PolicyBook.for_company(company)
        policy = (book.for_client(client) if client else book.company_policy).agent
        numbers = list(state.get("invoices") or [])
        if c is not None and not numbers and client is not None:
            amounts = [a for f in c.intents for a in f.amounts]
            raw = [r for f in c.intents for r in f.invoice_refs]
            pool = [_candidate(r) for r in _client_invoices(deps, ledger, client.id)]
            numbers = resolve_refs(raw, amounts, (), pool)
        # the client's invoices are already read; only other documents cost a query
        known = {r.number: r for r in _client_invoices(deps, ledger, client.id)} if client else {}
        records = [known.get(n) or ledger.invoice(n) for n in numbers]
        open_records = (
            [
                r
                for r in _client_invoices(deps, ledger, client.id)
                if r.status.is_collectible and r.balance > 0
            ]
            if client
            else []
        )
        pauses = ledger.pauses_for_many({r.number: r.client_id for r in (*records, *open_records)})
        trust = TrustLevel(state["trust"]["level"])
        contact = state["trust"].get("contact")
        on_file = (
            bool(contact) and client is not None and client.contact_for(m["from_addr"]) is not None
        )
        b = m.get("bounce") or {}
        inp = GateInput(
            today=today,
            trust=trust,
            sender_on_file=on_file,
            client_id=client.id if client else None,
            machine=MachineKind(m["machine"]),
            oversize=m.get("oversize_reason"),
            classification=c,
            classifier_error=state.get("classifier_error"),
            invoices=tuple(_facts(r, pauses[r.number], today) for r in records),
            open_invoices=tuple(_facts(r, pauses[r.number], today) for r in open_records),
            bounce_invoices=tuple(state.get("bounce_invoices") or ()),
            bounce_detail=" ".join(str(x) for x in (b.get("status"), b.get("diagnostic")) if x)[
                :300
            ],
            auto_reply_until=date.fromisoformat(m["auto_reply_until"])
            if m.get("auto_reply_until")
            else None,
            foreign_refs=bool(state.get("foreign_refs")),
        )
        decision = decide(inp, policy)
        owner = client.account_owner_id if client else None
    return {"decision": {**asdict(decision), "owner": owner}, "invoices": numbers}


# ---------------------------------------------------------------------------- act
def _reply_context(
    ledger: Ledger,
    company: Company,
    client: Client,
    contact_email: str,
    decision: dict[str, Any],
    today: date,
) -> dict[str, Any]:
    contact = client.contact_for(contact_email)
    owner = ledger.owner(client.account_owner_id) if client.account_owner_id else None
    about = [ledger.invoice(n) for n in decision["about"]]
    ctx = base_context(company, client, contact=contact, owner=owner, on=today, records=about)
    open_items = [
        r for r in ledger.invoices(client_id=client.id) if r.status.is_collectible and r.balance > 0
    ]
    ctx["open_items"] = [invoice_context(r, today) for r in open_items]
    # Replies carry only system data: the subject is ours, not an echo of the client's (which
    # may carry an attack); threading comes from In-Reply-To/References (RFC 5322).
    ctx["thread_subject"] = None
    totals: dict[str, Decimal] = {}
    for r in open_items:
        totals[r.currency] = totals.get(r.currency, Decimal(0)) + r.balance
    ctx["open_totals"] = [{"currency": k, "amount": v} for k, v in sorted(totals.items())]
    # "We have paid" that the ledger does not show yet: the reply says it is being checked
    # (and reminders paused) instead of calling the invoice open and overdue.
    checking = {
        c["invoice"]
        for c in decision["changes"]
        if c["kind"] == "chase_paused" and c["reason"] == "payment_in_flight"
    }
    for item in ctx["invoices"]:
        item["payment_pending"] = item["number"] in checking
    for change in decision["changes"]:
        if change["kind"] == "promise_recorded":
            ctx["promised_date"] = date.fromisoformat(change["date"])
        if change["kind"] == "due_date_changed":
            ctx["new_due_date"] = date.fromisoformat(change["to"])
        if change["kind"] == "chase_paused" and change["reason"] == "payment_in_flight":
            ctx["checking_until"] = date.fromisoformat(change["until"])
    ctx["payments_checked"] = [
        {
            "number": r.number,
            "paid": r.amount_paid,
            "balance": max(r.balance, Decimal(0)),
            "currency": r.currency,
            "status": r.status.value,
        }
        for r in about
    ]
    return ctx


def _reply_summary(to: list[str], subject: str, attach: list[str]) -> dict[str, Any]:
    return {"to": to, "subject": subject, "attachments": attach}


def _subject(subject: str) -> str:
    s = subject.strip() or "Your message"
    return s if s.lower().startswith(("re:", "aw:", "antw:", "rép:", "re :")) else f"Re: {s}"


def apply_changes(
    ledger: Ledger,
    changes: list[dict[str, Any]],
    client_id: str | None,
    now: datetime,
    today: date,
    key: str,
    subject: str,
) -> None:
    """Write the state changes the gate allowed (the only ones an email can cause)."""
    for ch in changes:
        number = ch.get("invoice")
        if not number:
            continue
        record = ledger.invoice(number)
        if (
            client_id is not None
            and record.client_id != client_id
            and ch["kind"] != "delivery_failed"
        ):
            continue  # never touch another client's invoice
        kind = ch["kind"]
        if kind == "chase_paused":
            until = date.fromisoformat(ch["until"]) if ch.get("until") else None
            ledger.add_pause(
                client_id=record.client_id,
                invoice_number=number,
                reason=ch["reason"],
                since=today,
                until=until,
                actor="agent",
                now=now,
                note=f"from email {key}",
            )
            ledger.append_event(
                number,
                DomainEvent(
                    EventKind.CHASE_PAUSED,
                    now,
                    "agent",
                    f"Chase paused ({ch['reason']}) until {until or 'a person resumes it'}",
                    {"reason": ch["reason"], "until": ch.get("until"), "email": key},
                ),
            )
            ledger.replan(number)
        elif kind == "promise_recorded":
            ledger.append_event(
                number,
                DomainEvent(
                    EventKind.PROMISE_RECORDED,
                    now,
                    "agent",
                    f"Client promised to pay by {ch['date']}"
                    + (f" ({ch['amount']})" if ch.get("amount") else ""),
                    {"date": ch["date"], "amount": ch.get("amount"), "email": key},
                ),
            )
        elif kind == "due_date_changed":
            ledger.set_due_date(number, date.fromisoformat(ch["to"]), now)
            ledger.append_event(
                number,
                DomainEvent(
                    EventKind.DUE_DATE_CHANGED,
                    now,
                    "agent",
                    f"Due date moved from {ch['from']} to {ch['to']} at the client's request "
                    "(inside policy limits)",
                    {"from": ch["from"], "to": ch["to"], "email": key},
                ),
            )
        elif kind == "delivery_failed":
            ledger.append_event(
                number,
                DomainEvent(
                    EventKind.DELIVERY_FAILED,
                    now,
                    "agent",
                    f"Our email bounced: {ch.get('detail') or 'delivery failure report'}",
                    {"detail": ch.get("detail"), "email": key},
                ),
            )
        elif kind == "check_task":
            ledger.open_handoff(
                case_key=f"check:{key}:{number}",
                kind="payment_check",
                client_id=record.client_id,
                owner_id=None,
                invoices=[number],
                reason="client says paid; not in the ledger yet — check the bank",
                summary=subject[:200],
                details={"email": key},
                now=now,
            )


def act(deps: AgentDeps, state: AgentState) -> AgentState:
    """Reply from a template with system data and apply the allowed changes (keyed)."""
    d = state["decision"]
    m = state["message"]
    key = state["key"]
    dry = bool(state.get("dry_run"))
    reply: dict[str, Any] | None = None
    with deps.ledgers() as ledger:
        company = deps.remember("company", ledger.company)
        now = deps.clock.now()
        today = _today(deps, company)
        client = _remembered_client(deps, ledger, state)
        if d["disposition"] == "reply" and client is not None:
            contact = client.contact_for(m["from_addr"])
            assert contact is not None, "the gate only replies to a contact on file"
            ctx = _reply_context(ledger, company, client, contact.email, d, today)
            subject = _subject(m["subject"])
            item = email_item(
                key=f"reply:{key}",
                company=company,
                composer=deps.composer,
                template=d["template"],
                language=client.language,
                context=ctx,
                to=[contact.email],
                invoice_number=(d["about"] or [None])[0],
                step="reply",
                event=EventKind.REPLY_SENT,
                attach=d["attach"],
                in_reply_to=_angle(m["message_id"]),
                references=[*[_angle(r) for r in m["references"]], _angle(m["message_id"])],
            )
            reply = _reply_summary(
                [contact.email], item.payload["subject"] or subject, list(d["attach"])
            )
            if not dry and ledger.inbound_outcome(key) is None:
                ledger.enqueue(item, now)
        if not dry and ledger.inbound_outcome(key) is None:
            _received(ledger, d["about"], m, key, now, d)
            apply_changes(
                ledger, d["changes"], state.get("client_id"), now, today, key, m["subject"]
            )
            ledger.finish_inbound(
                key, {"disposition": d["disposition"], "intent": d["intent"]}, now, status="done"
            )
    return {"reply": reply, "changes": d["changes"], "done": True}


def _angle(mid: str) -> str:
    return mid if mid.startswith("<") or mid.startswith("sha256:") else f"<{mid}>"


def _received(
    ledger: Ledger,
    numbers: list[str],
    m: dict[str, Any],
    key: str,
    now: datetime,
    d: dict[str, Any],
) -> None:
    for number in numbers:
        ledger.append_event(
            number,
            DomainEvent(
                EventKind.EMAIL_RECEIVED,
                now,
                "inbox",
                f'Email from {m["from_addr"]}: "{m["subject"][:120]}" → {d["intent"]} '
                f"({d['disposition']})",
                {
                    "from": m["from_addr"],
                    "message_id": m["message_id"],
                    "intent": d["intent"],
                    "disposition": d["disposition"],
                    "key": key,
                },
            ),
        )


# ---------------------------------------------------------------------------- hand-off
def conversation_key(m: dict[str, Any]) -> str:
    """One case per conversation: the thread's first Message-ID."""
    root = (m["references"] or [m["in_reply_to"]])[0] or m["message_id"]
    return f"conversation:{root.strip('<>')}"


def handoff(deps: AgentDeps, state: AgentState, thread_id: str | None) -> AgentState:
    """Open (once per conversation) the case, post it, acknowledge a verified sender."""
    d = state["decision"]
    m = state["message"]
    key = state["key"]
    dry = bool(state.get("dry_run"))
    out: dict[str, Any] = {"reason": d["reason"], "owner": d.get("owner")}
    reply: dict[str, Any] | None = None
    with deps.ledgers() as ledger:
        company = deps.remember("company", ledger.company)
        now = deps.clock.now()
        today = _today(deps, company)
        client = _remembered_client(deps, ledger, state)
        ack = d.get("ack_template")
        contact = client.contact_for(m["from_addr"]) if client else None
        ack_item = None
        if ack and client is not None and contact is not None:
            ctx = _reply_context(
                ledger, company, client, contact.email, {**d, "changes": []}, today
            )
            ack_item = email_item(
                key=f"ack:{key}",
                company=company,
                composer=deps.composer,
                template=ack,
                language=client.language,
                context=ctx,
                to=[contact.email],
                invoice_number=(d["about"] or [None])[0],
                step="ack",
                event=EventKind.REPLY_SENT,
                in_reply_to=_angle(m["message_id"]),
                references=[*[_angle(r) for r in m["references"]], _angle(m["message_id"])],
            )
            reply = _reply_summary([contact.email], ack_item.payload["subject"], [])
        if dry or ledger.inbound_outcome(key) is not None:
            return {"handoff": out, "reply": reply, "changes": d["changes"], "done": True}
        case_key = conversation_key(m)
        handoff_id, created = ledger.open_handoff(
            case_key=case_key,
            kind="inbox",
            client_id=client.id if client else None,
            owner_id=d.get("owner"),
            invoices=d["about"],
            reason=d["reason"],
            summary=m["subject"][:200],
            details={
                "intent": d["intent"],
                "intents": d["intents"],
                "confidence": d.get("confidence"),
                "sender": m["from_addr"],
                "sender_trust": state["trust"]["level"],
                "message_id": m["message_id"],
                "key": key,
                "draft_template": _draft_template(d, contact is not None),
            },
            now=now,
            thread_id=thread_id,
        )
        out["id"] = handoff_id
        reopened = False
        if not created and ledger.handoff(handoff_id).status == "resolved":
            # A new message in a conversation a person already closed: the case opens again on
            # this message's thread and is posted again, so a closed case cannot swallow it.
            ledger.update_handoff(
                handoff_id,
                now,
                status="open",
                resolution=None,
                resolved_by=None,
                reason=d["reason"],
                thread_id=thread_id,
            )
            reopened = True
        # A follow-up joining a case that is still open waits on that case's own thread.
        waits = created or reopened
        _received(ledger, d["about"], m, key, now, d)
        apply_changes(ledger, d["changes"], state.get("client_id"), now, today, key, m["subject"])
        for number in d["about"]:
            ledger.append_event(
                number,
                DomainEvent(
                    EventKind.HANDED_OFF,
                    now,
                    "agent",
                    f"Handed off to a person (case #{handoff_id}): {d['reason']}",
                    {"handoff": handoff_id, "intent": d["intent"]},
                ),
            )
        if ack_item is not None:
            ledger.enqueue(ack_item, now)
        if waits and deps.slack_channel:
            post_key = case_key if created else f"{case_key}:reopened:{key}"
            ledger.enqueue(
                handoff_post(
                    ledger, handoff_id, client, d, state, today, deps.slack_channel, post_key
                ),
                now,
            )
        ledger.finish_inbound(
            key,
            {"disposition": "handoff", "intent": d["intent"], "handoff": handoff_id},
            now,
            status="waiting" if waits else "done",
        )
    return {"handoff": out, "reply": reply, "changes": d["changes"], "done": not waits}


#: Replies a person may approve as drafted: they state ledger facts only. A due date or a
#: promise the policy refused would need a change the gate did not make, so the person answers
#: those themselves (a drafted "granted" would tell the client something untrue).
DRAFTABLE = frozenset(
    {
        Intent.copy_request,
        Intent.payment_confirmation,
        Intent.statement_request,
        Intent.payment_info_request,
    }
)


def _draft_template(d: dict[str, Any], on_file: bool) -> str | None:
    """A reply a person may approve: only for answerable intents to a contact on file."""
    try:
        intent = Intent(d["intent"])
    except ValueError:
        return None
    if not on_file or intent not in DRAFTABLE or not d.get("about"):
        return None
    return REPLY_TEMPLATES[intent]


# ---------------------------------------------------------------------------- human
def apply_human(deps: AgentDeps, state: AgentState, decision: dict[str, Any]) -> AgentState:
    """Carry out a person's decision (keyed: a repeated click changes nothing)."""
    d = state["decision"]
    m = state["message"]
    key = state["key"]
    choice = decision.get("decision")
    actor = str(decision.get("actor") or "person")
    note = str(decision.get("note") or "")
    handoff_id = int((state.get("handoff") or {}).get("id") or 0)
    with deps.ledgers() as ledger:
        company = ledger.company()
        now = deps.clock.now()
        today = _today(deps, company)
        case = ledger.handoff(handoff_id) if handoff_id else None
        if case is None or case.status == "resolved":
            return {"done": True}
        if choice == "take":
            ledger.update_handoff(handoff_id, now, status="taken", resolved_by=actor)
            return {"human": [*state.get("human", []), decision], "done": False}
        client = _client_of(ledger, state)
        if choice == "approve_reply":
            template = case.details.get("draft_template")
            if template not in {REPLY_TEMPLATES[i] for i in DRAFTABLE}:
                template = None  # a case filed before drafts were limited to ledger facts
            contact = client.contact_for(m["from_addr"]) if client else None
            if template and client is not None and contact is not None:
                ctx = _reply_context(
                    ledger,
                    company,
                    client,
                    contact.email,
                    {**d, "changes": []},
                    today,
                )
                attach = list(d["about"]) if template == "reply_copy" else []
                ledger.enqueue(
                    email_item(
                        key=f"approved:{key}",
                        company=company,
                        composer=deps.composer,
                        template=template,
                        language=client.language,
                        context=ctx,
                        to=[contact.email],
                        invoice_number=(d["about"] or [None])[0],
                        step="reply",
                        event=EventKind.REPLY_SENT,
                        attach=attach,
                        in_reply_to=_angle(m["message_id"]),
                        references=[*[_angle(r) for r in m["references"]], _angle(m["message_id"])],
                    ),
                    now,
                )
        if choice == "not_dispute":
            for number in d["about"]:
                rec = ledger.invoice(number)
                lifted = ledger.lift_pauses(
                    client_id=rec.client_id,
                    invoice_number=number,
                    actor=actor,
                    now=now,
                    on=today,
                    reasons=["dispute"],
                )
                if lifted:
                    ledger.append_event(
                        number,
                        DomainEvent(
                            EventKind.CHASE_RESUMED,
                            now,
                            actor,
                            "Not a dispute: chase resumed",
                            {"handoff": handoff_id},
                        ),
                    )
                    ledger.replan(number)
        ledger.update_handoff(
            handoff_id,
            now,
            status="resolved",
            resolution=f"{choice}: {note}".strip(": "),
            resolved_by=actor,
        )
        for number in d["about"]:
            ledger.append_event(
                number,
                DomainEvent(
                    EventKind.HANDOFF_RESOLVED,
                    now,
                    actor,
                    f"Case #{handoff_id}: {choice}" + (f" — {note}" if note else ""),
                    {"handoff": handoff_id, "decision": choice},
                ),
            )
        ledger.finish_inbound(
            key,
            {
                "disposition": "handoff",
                "intent": d["intent"],
                "handoff": handoff_id,
                "decision": choice,
            },
            now,
        )
    return {"human": [*state.get("human", []), decision], "done": True}


def waiting_payload(state: AgentState) -> dict[str, Any]:
    """What the interrupt shows a person."""
    d = state["decision"]
    return {
        "handoff": (state.get("handoff") or {}).get("id"),
        "intent": d["intent"],
        "reason": d["reason"],
        "invoices": d["about"],
        "options": ["take", "approve_reply", "not_dispute", "resolved"],
    }
