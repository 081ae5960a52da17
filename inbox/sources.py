"""Ports and types shared by the mail sources (IMAP, local Maildir).

A source moves raw bytes and nothing else: it hands each message to a handler as a `RawMail`
and acknowledges it (IMAP: flag or move, and advance the stored last UID; Maildir: move to
`cur/` with the `S` flag) only after the handler returned. A handler that raises leaves the
message where it is, so the next poll offers it again.

Exactly-once is shared between the source and the handler:

- the source never acknowledges a message before the handler returned, so nothing is lost;
- the handler stores each message once under `RawMail.key` (the Message-ID without angle
  brackets, or a hash of the bytes when there is none) and does nothing for a key it already
  stored, so the rare second delivery (a crash between the handler and the acknowledgement,
  an IMAP UIDVALIDITY reset that renumbers a folder) is answered at most once.

Errors: every failure a source reports is an `InboxError` (or a subclass) with a stable
`code`; IMAP errors also carry the command and the server's response, never the password.

    InboxError              inbox_error (root); maildir_error: a Maildir file cannot be read/moved
    ├── InboxConfigError    inbox_config_invalid; imap_url_invalid, imap_url_insecure,
    │                       maildir_unusable
    └── ImapError           imap_command_failed: the server said NO/BAD;
        │                   imap_capability_missing, imap_keywords_unsupported,
        │                   imap_uidvalidity_missing
        ├── ImapAuthError        imap_auth_failed: LOGIN refused (transient if [UNAVAILABLE])
        └── ImapConnectionError  imap_connection_lost: refused, reset, timeout, BYE (transient);
                                 imap_tls_failed: certificate rejected (not transient)

`transient` tells whether retrying later can help; `ImapSource.watch` retries only those.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Protocol

from inbox.parse import normalize_message_id

__all__ = [
    "ImapAuthError",
    "ImapConnectionError",
    "ImapError",
    "InboxConfigError",
    "InboxError",
    "MailHandler",
    "MailSource",
    "MailboxState",
    "MemoryMailboxState",
    "PollResult",
    "RawMail",
    "message_key",
]


class InboxError(Exception):
    """Root of every error raised by the inbox adapters; `code` is stable for CLI/API/agent."""

    code: str = "inbox_error"
    transient: bool = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        command: str | None = None,
        response: str | None = None,
    ) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.command = command
        self.response = response

    def __str__(self) -> str:
        text = super().__str__()
        if self.command:
            text += f" [command: {self.command}]"
        if self.response:
            text += f" [server: {self.response}]"
        return text


class InboxConfigError(InboxError):
    """The mailbox URL or folder path cannot be used (bad syntax, insecure transport…)."""

    code = "inbox_config_invalid"


class ImapError(InboxError):
    """The IMAP server refused a command (tagged NO/BAD) or answered something unexpected."""

    code = "imap_command_failed"


class ImapAuthError(ImapError):
    """The server refused the credentials. Transient only for `[UNAVAILABLE]` answers."""

    code = "imap_auth_failed"


class ImapConnectionError(ImapError):
    """The connection failed or dropped (socket error, timeout, `BYE`); retrying may succeed."""

    code = "imap_connection_lost"
    transient = True


@dataclass(frozen=True)
class RawMail:
    """One message as the server stores it.

    `uid` is the IMAP UID (None for Maildir), `folder` the folder it came from, `raw` the exact
    RFC 5322 bytes, `key` the idempotency key the handler stores it under (see `message_key`).
    """

    uid: int | None
    folder: str
    raw: bytes = field(repr=False)
    key: str


MailHandler = Callable[[RawMail], None]
"""Stores/processes one message. Raising means "not done": the message stays for the next poll."""


@dataclass(frozen=True)
class PollResult:
    """What one poll did.

    `fetched` messages were read from the source; `processed` were handed to the handler and
    acknowledged; `failed` is 1 when the handler raised (the poll stops there so messages are
    handled in order) and 0 otherwise; `uidvalidity_reset` tells that the IMAP folder's
    UIDVALIDITY differed from the stored one and the folder was read again from UID 1.
    """

    fetched: int = 0
    processed: int = 0
    failed: int = 0
    uidvalidity_reset: bool = False

    def __add__(self, other: PollResult) -> PollResult:
        return PollResult(
            fetched=self.fetched + other.fetched,
            processed=self.processed + other.processed,
            failed=self.failed + other.failed,
            uidvalidity_reset=self.uidvalidity_reset or other.uidvalidity_reset,
        )


class MailSource(Protocol):
    """A place mail comes from: IMAP in production, a local Maildir by default."""

    def poll_once(self, handler: MailHandler) -> PollResult:
        """Hand every message not yet acknowledged to `handler`, in arrival order."""
        ...

    def watch(self, handler: MailHandler, stop_event: threading.Event) -> None:
        """Keep handing new messages to `handler` until `stop_event` is set."""
        ...


class MailboxState(Protocol):
    """Where an IMAP source remembers, per account and folder, how far it got.

    `load` returns `(uidvalidity, last_uid)` or None for a folder never seen. `save` is called
    after every acknowledged message, so it must be durable (the database implementation
    commits) before it returns.
    """

    def load(self, account: str, folder: str) -> tuple[int, int] | None:
        """The stored `(uidvalidity, last_uid)` of `folder`, or None."""
        ...

    def save(self, account: str, folder: str, uidvalidity: int, last_uid: int) -> None:
        """Record that every message of `folder` up to `last_uid` was handled."""
        ...


class MemoryMailboxState:
    """A `MailboxState` in a dict, for tests and one-shot runs. Records every save in `saves`."""

    def __init__(self) -> None:
        self._positions: dict[tuple[str, str], tuple[int, int]] = {}
        self.saves: list[tuple[str, str, int, int]] = []
        self._lock = threading.Lock()

    def load(self, account: str, folder: str) -> tuple[int, int] | None:
        """The stored `(uidvalidity, last_uid)` of `folder`, or None."""
        with self._lock:
            return self._positions.get((account, folder))

    def save(self, account: str, folder: str, uidvalidity: int, last_uid: int) -> None:
        """Record the position (and the call, in `saves`)."""
        with self._lock:
            self._positions[(account, folder)] = (uidvalidity, last_uid)
            self.saves.append((account, folder, uidvalidity, last_uid))


def message_key(raw: bytes) -> str:
    """The idempotency key of a message: its Message-ID, else `sha256:<hex of the bytes>`.

    Same form as `InboundMessage.message_id` from `inbox.parse` (the Message-ID without angle
    brackets, from the first Message-ID header), so storage can key on either and the same
    message fetched twice, from IMAP or Maildir, always gets the same key.
    """
    headers = BytesHeaderParser(policy=compat32).parsebytes(raw)
    value = next(
        (str(v) for name, v in headers.raw_items() if name.strip().lower() == "message-id"),
        None,
    )
    return normalize_message_id(value) or "sha256:" + hashlib.sha256(raw).hexdigest()
