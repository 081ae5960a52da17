"""The one interface both classifiers implement, and what they read.

A classifier turns a human email into a :class:`~agent.schema.Classification`. It never acts
and never decides; the policy gate does. When a classifier cannot give a trustworthy answer
(the model timed out, refused, returned garbage) it raises :class:`ClassifierUnavailable` and
the graph hands the message to a person: a failed classification is never replaced by a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from agent.schema import Classification


@dataclass(frozen=True, slots=True)
class ClassifierInput:
    """The parts of a parsed message a classifier may read (all of it untrusted data).

    ``new_text`` is the newest reply without quoted history or signature; ``text`` the whole
    visible body (it includes ``new_text``). ``language_hint`` is the client's language on file,
    used only when the text itself does not tell.
    """

    subject: str
    new_text: str
    text: str
    from_name: str = ""
    language_hint: str | None = None

    @property
    def full_text(self) -> str:
        """Everything an evidence quote may come from: subject, newest text and whole body."""
        return f"{self.subject}\n{self.new_text}\n{self.text}"


class ClassifierUnavailable(Exception):
    """The classifier could not give a trustworthy answer; the message goes to a person.

    ``code`` is stable (``classifier_unavailable``); ``reason`` says why, one of ``timeout``,
    ``rate_limited``, ``connection_error``, ``server_error``, ``auth_error``, ``bad_request``,
    ``refused``, ``content_filter``, ``truncated``, ``malformed_output``, ``empty_output``,
    ``unavailable``.
    """

    code = "classifier_unavailable"

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class Classifier(Protocol):
    """Reads one message and says what it is about; ``today`` resolves relative dates."""

    def classify(self, message: ClassifierInput, *, today: date) -> Classification:
        """Classify ``message``; raise :class:`ClassifierUnavailable` rather than guess."""
        ...
