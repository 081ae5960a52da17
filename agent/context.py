"""What the agent's nodes need from the outside (injected; nothing is built at import)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from agent.classifier import Classifier
from billing.mail import InboundMessage, KnownContact, SenderTrust
from tools.clock import Clock
from tools.ports import LedgerFactory, MailComposer

TrustAssessor = Callable[[InboundMessage, Sequence[KnownContact]], SenderTrust]


@dataclass
class AgentDeps:
    """Ports and settings for one agent (built by the composition root)."""

    ledgers: LedgerFactory
    clock: Clock
    composer: MailComposer
    classifier: Classifier
    assess_trust: TrustAssessor
    slack_channel: str | None = None
    memo: dict[Any, Any] = field(default_factory=dict)
    """Reads shared by the nodes of one message (company, contacts, a client's invoices);
    cleared before each message, so nothing stale outlives it."""

    def remember(self, key: Any, load: Callable[[], Any]) -> Any:
        """``load()`` once per message for ``key``."""
        if key not in self.memo:
            self.memo[key] = load()
        return self.memo[key]
