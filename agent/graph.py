"""The inbox agent as a LangGraph StateGraph.

::

    prefilter → resolve → classify → gate ─┬─ act ──────────────────────────────→ END
                                           └─ handoff ─→ human (interrupt) ─┬─→ END
                                                            ↑               │
                                                            └── "take" ─────┘

``build_graph`` compiles it with the checkpointer it is given (the project's own database in
production, none for a dry run). The parsed message travels in the run's config (it is not
checkpointed: every node that needs it runs before the interrupt).
"""

from __future__ import annotations

from typing import Any, Literal

from agent.context import AgentDeps
from agent.nodes import act, apply_human, classify, gate, handoff, resolve, waiting_payload
from agent.state import AgentState


def build_graph(deps: AgentDeps, checkpointer: Any = None) -> Any:
    """Compile the agent graph over ``deps``."""
    from langchain_core.runnables import RunnableConfig
    from langgraph.graph import END, START, StateGraph
    from langgraph.types import interrupt

    def _msg(config: RunnableConfig) -> Any:
        return (config.get("configurable") or {})["inbound"]

    def prefilter_node(state: AgentState) -> AgentState:
        # Machine mail (bounces, auto-replies, receipts, lists) was recognised while parsing,
        # before any model sees it; classify skips it and the gate routes it.
        return {"changes": [], "human": []}

    def resolve_node(state: AgentState, config: RunnableConfig) -> AgentState:
        return resolve(deps, state, _msg(config))

    def classify_node(state: AgentState, config: RunnableConfig) -> AgentState:
        hint = (config.get("configurable") or {}).get("language_hint")
        if hint is None and state.get("client_id"):
            client_id = str(state["client_id"])
            with deps.ledgers() as ledger:
                client = deps.remember(("client", client_id), lambda: ledger.client(client_id))
                hint = client.language
        return classify(deps, state, hint)

    def gate_node(state: AgentState) -> AgentState:
        return gate(deps, state)

    def act_node(state: AgentState) -> AgentState:
        return act(deps, state)

    def handoff_node(state: AgentState, config: RunnableConfig) -> AgentState:
        return handoff(deps, state, (config.get("configurable") or {}).get("thread_id"))

    def human_node(state: AgentState) -> AgentState:
        decision = interrupt(waiting_payload(state))
        if not isinstance(decision, dict):
            decision = {"decision": str(decision)}
        return apply_human(deps, state, decision)

    def after_gate(state: AgentState) -> Literal["act", "handoff"]:
        return "handoff" if state["decision"]["disposition"] == "handoff" else "act"

    def after_handoff(state: AgentState) -> Literal["human", "__end__"]:
        if state.get("dry_run") or checkpointer is None or state.get("done"):
            return "__end__"
        return "human"

    def after_human(state: AgentState) -> Literal["human", "__end__"]:
        return "__end__" if state.get("done") else "human"

    builder = StateGraph(AgentState)
    builder.add_node("prefilter", prefilter_node)
    builder.add_node("resolve", resolve_node)
    builder.add_node("classify", classify_node)
    builder.add_node("gate", gate_node)
    builder.add_node("act", act_node)
    builder.add_node("handoff", handoff_node)
    builder.add_node("human", human_node)
    builder.add_edge(START, "prefilter")
    builder.add_edge("prefilter", "resolve")
    builder.add_edge("resolve", "classify")
    builder.add_edge("classify", "gate")
    builder.add_conditional_edges("gate", after_gate)
    builder.add_edge("act", END)
    builder.add_conditional_edges("handoff", after_handoff)
    builder.add_conditional_edges("human", after_human)
    return builder.compile(checkpointer=checkpointer)
