"""A person's decision on a hand-off, from the CLI or a verified Slack action.

Inbox cases resume the agent's LangGraph thread (``Command(resume=…)``); other cases only
change state. A decision is applied once: the same click twice finds the case already decided.
"""

from __future__ import annotations

from typing import Any

from billing.events import DomainEvent, EventKind
from entrypoints.bootstrap import App
from tools.chase import resume_chase

DECISIONS = ("take", "approve_reply", "not_dispute", "resolved")


def apply_decision(app: App, handoff_id: int, *, decision: str, actor: str, note: str = "") -> str:
    """Record ``decision`` on the case; returns a one-line outcome."""
    from entrypoints.cli import UserError

    if decision not in DECISIONS:
        raise UserError(f"--decision must be one of {', '.join(DECISIONS)}", "invalid_decision")
    now = app.clock.now()
    with app.ledgers() as ledger:
        case = ledger.handoff(handoff_id)
    if case.status == "resolved":
        return f"hand-off {handoff_id} was already resolved ({case.resolution}); nothing done"
    if case.thread_id:
        # Outside any transaction of ours: the resumed graph writes in its own transactions,
        # and on SQLite (BEGIN IMMEDIATE) an open one here would lock it out.
        resumed = _resume_agent(app, case.thread_id, decision, actor, note)
        if resumed is not None:
            return resumed
    with app.ledgers() as ledger:
        case = ledger.handoff(handoff_id)
        if case.status == "resolved":
            return f"hand-off {handoff_id} was already resolved ({case.resolution}); nothing done"
        values: dict[str, Any] = {}
        if decision == "take":
            values = {"status": "taken", "resolved_by": actor}
        else:
            values = {
                "status": "resolved",
                "resolution": f"{decision}: {note}".strip(": "),
                "resolved_by": actor,
            }
        ledger.update_handoff(handoff_id, now, **values)
        for number in case.invoices:
            ledger.append_event(
                number,
                DomainEvent(
                    EventKind.HANDOFF_RESOLVED if decision != "take" else EventKind.HANDED_OFF,
                    now,
                    actor,
                    f"Hand-off #{handoff_id} "
                    + (f"taken by {actor}" if decision == "take" else decision)
                    + (f": {note}" if note else ""),
                    {"handoff": handoff_id, "decision": decision},
                ),
            )
    if decision == "not_dispute":
        for number in case.invoices:
            resume_chase(app.ledgers, app.clock, target=number, actor=actor, reasons=["dispute"])
    return f"hand-off {handoff_id}: {decision} recorded by {actor}"


def _resume_agent(app: App, thread_id: str, decision: str, actor: str, note: str) -> str | None:
    try:
        from entrypoints.agent_wiring import NOT_WAITING, resume_thread
    except ImportError:
        return None
    outcome: str = resume_thread(app, thread_id, decision=decision, actor=actor, note=note)
    # No checkpoint to resume (a case opened by a graph without one): the decision is still
    # a person's to record, as for any other case.
    return None if outcome.endswith(NOT_WAITING) else outcome
