"""Inbound mail as the agent sees it: a parsed message, machine-mail verdicts and sender trust.

These are plain, frozen values. The inbox adapter (``inbox.parse``, ``inbox.prefilter``,
``inbox.trust``) builds them from raw RFC 5322 bytes; the agent reads them and never touches
MIME itself.

Machine mail (``MachineKind``) is recognised before any model sees a message:

* ``bounce`` covers every delivery-status report. ``BounceInfo.action`` says what happened:
  ``failed`` (our message was not delivered: a delivery failure to record on the invoice),
  ``delayed`` (a warning, the sending server is still retrying: machine mail, not a failure),
  ``delivered`` (a success notice) and ``complaint`` (an ARF abuse/feedback report: the message
  arrived but the recipient reported it as spam). Only ``failed`` is a delivery failure, and
  ``permanent`` is true only for a failure that retrying will not fix (status 5.x.x).
* ``auto_reply`` covers out-of-office notices, ticket acknowledgements and other automatic
  answers; ``InboundMessage.auto_reply_until`` carries the stated return date when there is one.
* ``read_receipt`` is a message disposition notification (RFC 8098).
* ``mailing_list`` is list or bulk traffic.

Text fields are data, never instructions. ``text`` is what a reader sees; content a reader
cannot see (HTML comments, scripts, ``display:none`` blocks, white-on-white text) is kept apart
in ``hidden_text`` and never reaches ``text`` or ``new_text``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


class MachineKind(StrEnum):
    """What kind of machine-generated mail a message is (``none`` for a person's mail)."""

    none = "none"
    auto_reply = "auto_reply"
    bounce = "bounce"
    read_receipt = "read_receipt"
    mailing_list = "mailing_list"


class TrustLevel(StrEnum):
    """How far the sender of a message can be trusted with invoice data."""

    verified = "verified"
    unverified = "unverified"
    suspicious = "suspicious"


@dataclass(frozen=True, slots=True)
class Attachment:
    """A MIME part listed by name, type and decoded size; never opened, executed or rendered."""

    filename: str | None
    content_type: str
    size: int


@dataclass(frozen=True, slots=True)
class BounceInfo:
    """What a delivery-status report says about one of our outgoing messages.

    ``action`` is one of ``failed``, ``delayed``, ``delivered`` or ``complaint`` (see the module
    docstring). ``status`` is the enhanced status code (``5.1.1``) when one was found, else
    the SMTP reply code of the diagnostic (``550``),
    ``original_message_id`` the Message-ID (without angle brackets) of the message that bounced,
    taken from the returned message or headers, or else from In-Reply-To/References.
    """

    recipients: tuple[str, ...]
    status: str | None
    diagnostic: str | None
    original_message_id: str | None
    permanent: bool
    action: str = "failed"

    @property
    def is_failure(self) -> bool:
        """True when the message was not delivered (a hard or soft failure, not a warning)."""
        return self.action == "failed"


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One received message, parsed once, with the text a classifier may read.

    ``message_id`` is the Message-ID without angle brackets, or ``sha256:<hex>`` of the raw bytes
    when the header is missing; ``raw_sha256`` always identifies the exact bytes. Addresses are
    lower-cased. ``text`` is the visible text of the body (HTML converted), ``new_text`` the
    newest reply only (quoted history, forwarded content and signature removed). When
    ``oversize_reason`` is set the message was too large or too deeply nested to parse fully:
    the agent hands it to a person.
    """

    message_id: str
    raw_sha256: str
    from_addr: str
    from_name: str
    reply_to: tuple[str, ...]
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    date: dt.datetime | None
    in_reply_to: str | None
    references: tuple[str, ...]
    text: str
    new_text: str
    hidden_text: str
    attachments: tuple[Attachment, ...]
    auth_results: tuple[str, ...]
    machine: MachineKind
    machine_reason: str
    bounce: BounceInfo | None
    auto_reply_until: dt.date | None
    defects: tuple[str, ...]
    oversize_reason: str | None

    @property
    def is_machine(self) -> bool:
        """True for any machine-generated mail (bounce, auto-reply, receipt, list)."""
        return self.machine is not MachineKind.none

    @property
    def is_delivery_failure(self) -> bool:
        """True when this is a report that one of our messages was not delivered."""
        return (
            self.machine is MachineKind.bounce
            and self.bounce is not None
            and self.bounce.is_failure
        )

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """In-Reply-To then References, without duplicates: the messages this one answers."""
        seen: list[str] = []
        for mid in ((self.in_reply_to,) if self.in_reply_to else ()) + self.references:
            if mid not in seen:
                seen.append(mid)
        return tuple(seen)


@dataclass(frozen=True, slots=True)
class KnownContact:
    """A contact on file: the only people who may receive a client's invoice data."""

    email: str
    name: str
    role: str
    client_id: str


@dataclass(frozen=True, slots=True)
class SenderTrust:
    """How far the sender is trusted, why, and who they are on file (if anyone)."""

    level: TrustLevel
    reasons: tuple[str, ...]
    contact: KnownContact | None
    client_id: str | None
