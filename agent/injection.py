"""Instructions hidden in a message (HTML comments, display:none spans, attachment names).

The classifier reads only the visible text; what a sender hid is checked here with the same
injection patterns. Hidden instructions never act — they only send the case to a person.
"""

from __future__ import annotations

from agent.offline import suspects_injection


def hidden_injection(*texts: str) -> bool:
    """True when hidden text or attachment names carry injection-like instructions."""
    return any(suspects_injection(text) for text in texts)
