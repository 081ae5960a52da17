"""The graph's state: JSON-safe values only, so any checkpointer can store it."""

from __future__ import annotations

from typing import Any, TypedDict


class AgentState(TypedDict, total=False):
    """One message's way through the graph."""

    key: str  # the inbound message's storage key (Message-ID or sha256)
    dry_run: bool
    message: dict[str, Any]  # the parsed message's fields the nodes read
    trust: dict[str, Any]  # level, reasons, client_id, contact
    client_id: str | None
    invoices: list[str]  # invoices the message is about (sender's client only)
    thread_invoices: list[str]
    bounce_invoices: list[str]
    foreign_refs: bool
    classification: dict[str, Any] | None
    classifier_error: str | None
    decision: dict[str, Any]
    reply: dict[str, Any] | None
    handoff: dict[str, Any] | None
    changes: list[dict[str, Any]]
    human: list[dict[str, Any]]
    done: bool
