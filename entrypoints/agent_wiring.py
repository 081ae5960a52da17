"""Wiring of the inbox agent: parse → store once → graph (with its checkpointer) → outcome."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.classifier import Classifier
from agent.context import AgentDeps
from agent.graph import build_graph
from agent.nodes import message_state
from billing.mail import InboundMessage, KnownContact, SenderTrust
from entrypoints.bootstrap import App


def make_classifier(app: App, name: str | None = None) -> Classifier:
    """OpenAI (any compatible server) when a key is configured, else the offline rules."""
    settings = app.settings
    if (name or ("openai" if settings.openai_api_key else "offline")) == "openai":
        from agent.openai_classifier import OpenAIClassifier

        if not settings.openai_api_key:
            from entrypoints.cli import UserError

            raise UserError("the openai classifier needs CLOSELOOP_OPENAI_API_KEY", "config")
        return OpenAIClassifier(
            api_key=settings.openai_api_key.get_secret_value(),
            base_url=settings.openai_base_url,
            model=settings.openai_model,
        )
    from agent.offline import OfflineClassifier

    return OfflineClassifier()


def trust_assessor(app: App) -> Any:
    """Sender trust with the configured authserv-id (default ``mx.<our billing domain>``)."""
    from inbox.trust import assess_sender

    with app.ledgers() as ledger:
        company = ledger.company()
    authserv = app.settings.trusted_authserv_id or f"mx.{company.email_domain}"

    def assess(msg: InboundMessage, contacts: Sequence[KnownContact]) -> SenderTrust:
        return assess_sender(
            msg, contacts, trusted_authserv_id=authserv, own_domains=[company.email_domain]
        )

    return assess


@dataclass
class Agent:
    """A compiled graph and its deps, built once per process."""

    deps: AgentDeps
    graph: Any
    dry_graph: Any


def build_agent(
    app: App,
    *,
    classifier: Classifier | None = None,
    slack_channel: str | None = None,
    durable: bool = True,
) -> Agent:
    """The agent over ``app`` (a checkpointer on the app's database when ``durable``)."""
    from entrypoints.runner import composer
    from storage.checkpoint import checkpointer_for

    deps = AgentDeps(
        ledgers=app.ledgers,
        clock=app.clock,
        composer=composer(),
        classifier=classifier or make_classifier(app),
        assess_trust=trust_assessor(app),
        slack_channel=slack_channel,
    )
    graph = build_graph(deps, checkpointer_for(app.db)) if durable else None
    return Agent(deps=deps, graph=graph, dry_graph=build_graph(deps, None))


def message_key(msg: InboundMessage, raw: bytes) -> str:
    """The storage key: the Message-ID, or a hash of the bytes when there is none."""
    return msg.message_id or "sha256:" + hashlib.sha256(raw).hexdigest()


def _output(state: dict[str, Any], msg: InboundMessage, file: str | None) -> dict[str, Any]:
    d = state.get("decision") or {}
    return {
        "file": file,
        "message_id": msg.message_id,
        "intent": d.get("intent", "other"),
        "intents": d.get("intents", []),
        "invoices": d.get("about", state.get("invoices", [])),
        "disposition": d.get("disposition", "handoff"),
        "reply": state.get("reply"),
        "handoff": state.get("handoff") if d.get("disposition") == "handoff" else None,
        "changes": state.get("changes", []),
        "sender_trust": (state.get("trust") or {}).get("level", "unverified"),
        "reason": d.get("reason"),
    }


def process_raw(
    app: App, agent: Agent, raw: bytes, *, dry_run: bool = False, file: str | None = None
) -> dict[str, Any]:
    """Triage one raw message (stored once; a handled message is never answered twice)."""
    from inbox.parse import parse_message

    msg = parse_message(raw)
    key = message_key(msg, raw)
    agent.deps.memo.clear()
    if not dry_run:
        with app.ledgers() as ledger:
            _id, status = ledger.store_inbound(
                key, raw, msg.from_addr, msg.subject, app.clock.now()
            )
            stored = ledger.inbound_outcome(key) if status != "new" else None
        if stored is not None:
            base = _output({}, msg, file)
            return {**base, **stored, "file": file, "duplicate": True}
    state = {"key": key, "dry_run": dry_run, "message": message_state(msg)}
    thread_id = f"inbox:{key}"
    config = {"configurable": {"thread_id": thread_id, "inbound": msg}}
    graph = agent.dry_graph if dry_run or agent.graph is None else agent.graph
    try:
        final = graph.invoke(state, config)
    except Exception as exc:  # the safe fallback is always a person; the message is kept
        if dry_run:
            raise
        return _failed(app, key, msg, file, exc)
    finally:
        agent.deps.memo.clear()
    out = _output(final, msg, file)
    if not dry_run:
        with app.ledgers() as ledger:
            ledger.finish_inbound(
                key,
                {k: v for k, v in out.items() if k != "file"},
                app.clock.now(),
                status="done" if final.get("done") else "waiting",
            )
    return out


def _failed(
    app: App, key: str, msg: InboundMessage, file: str | None, exc: Exception
) -> dict[str, Any]:
    """A message the agent could not handle: stored as failed and handed to a person."""
    reason = f"the agent failed on this message ({type(exc).__name__}: {str(exc)[:200]})"
    now = app.clock.now()
    with app.ledgers() as ledger:
        handoff_id, _created = ledger.open_handoff(
            case_key=f"failed:{key}",
            kind="inbox_error",
            client_id=None,
            owner_id=None,
            invoices=[],
            reason=reason,
            summary=msg.subject[:200],
            details={"sender": msg.from_addr, "message_id": msg.message_id, "key": key},
            now=now,
        )
        out = {
            **_output({}, msg, file),
            "disposition": "handoff",
            "handoff": {"reason": reason, "owner": None, "id": handoff_id},
        }
        ledger.finish_inbound(
            key, {k: v for k, v in out.items() if k != "file"}, now, status="failed"
        )
    return out


def triage_files(
    app: App, paths: Sequence[Path], *, dry_run: bool, agent: Agent | None = None
) -> list[dict[str, Any]]:
    """`closeloop inbox triage`: one output object per file."""
    agent = agent or build_agent(app, durable=not dry_run)
    return [
        process_raw(app, agent, Path(p).read_bytes(), dry_run=dry_run, file=str(p)) for p in paths
    ]


NOT_WAITING = "is not waiting for a decision; nothing done"


def resume_thread(app: App, thread_id: str, *, decision: str, actor: str, note: str) -> str:
    """Resume a waiting inbox thread with a person's decision (``Command(resume=…)``).

    The side effects run in nodes after the interrupt, keyed, so a repeated click or a retried
    resume finds the case decided and does nothing.
    """
    from langgraph.types import Command

    channel = app.settings.slack_channel if app.settings.slack_bot_token else None
    agent = build_agent(app, slack_channel=channel)
    config = {"configurable": {"thread_id": thread_id, "inbound": None}}
    snapshot = agent.graph.get_state(config)
    if not snapshot.next:
        return f"{thread_id} {NOT_WAITING}"
    agent.graph.invoke(Command(resume={"decision": decision, "actor": actor, "note": note}), config)
    after = agent.graph.get_state(config)
    waiting = " (still open: waiting for the final decision)" if after.next else ""
    return f"{decision} recorded by {actor} on {thread_id}{waiting}"


def poll_inbox(
    app: App, agent: Agent | Callable[[], Agent], *, once: bool = True
) -> dict[str, int]:
    """Fetch new mail (IMAP when configured, else the local Maildir) and triage it.

    ``agent`` may be a callable: the agent (and LangGraph) is then built only when mail came.
    """
    from inbox.sources import RawMail

    counts = {"fetched": 0, "replied": 0, "handed_off": 0, "ignored": 0, "duplicates": 0}
    built: list[Agent] = []

    def handle(mail: RawMail) -> None:
        if not built:
            built.append(agent if isinstance(agent, Agent) else agent())
        out = process_raw(app, built[0], mail.raw)
        counts["fetched"] += 1
        if out.get("duplicate"):
            counts["duplicates"] += 1
            return
        key = {"reply": "replied", "handoff": "handed_off"}.get(out["disposition"], "ignored")
        counts[key] += 1

    source = mail_source(app)
    try:
        source.poll_once(handle)
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()
    return counts


def mail_source(app: App) -> Any:
    """IMAP source from CLOSELOOP_IMAP_URL, else the local Maildir ``<data>/mail/inbox``."""
    url = app.settings.imap_url.get_secret_value() if app.settings.imap_url else None
    if url:
        from inbox.imap import ImapSource

        return ImapSource(url, DatabaseMailboxState(app))
    from inbox.maildir import MaildirSource

    return MaildirSource(Path(app.data_dir) / "mail" / "inbox")


class DatabaseMailboxState:
    """UIDVALIDITY and last UID per account and folder, in closeloop's database."""

    def __init__(self, app: App) -> None:
        self.app = app

    def load(self, account: str, folder: str) -> tuple[int, int] | None:
        with self.app.ledgers() as ledger:
            value = ledger.get_state(f"imap:{account}:{folder}")
        return None if value is None else (int(value["uidvalidity"]), int(value["last_uid"]))

    def save(self, account: str, folder: str, uidvalidity: int, last_uid: int) -> None:
        with self.app.ledgers() as ledger:
            ledger.set_state(
                f"imap:{account}:{folder}",
                {"uidvalidity": uidvalidity, "last_uid": last_uid},
                self.app.clock.now(),
            )
