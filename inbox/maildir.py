"""The embedded default mail source: a local Maildir folder (no IMAP server needed).

A message is pending while it sits in `new/`, or in `cur/` without the `S` (seen) flag. Each
poll hands pending messages to the handler, oldest first, and after the handler returned moves
the file to `cur/` with `S` added to its flags — one atomic rename, the way Maildir readers
mark mail, so a crash leaves the message either pending or processed, never half-done. A
handler that raises stops the poll: that message and the later ones stay pending, in order.

The folder (with `new/`, `cur/`, `tmp/`) is created when missing, through stdlib
`mailbox.Maildir`, which is also the simplest way to deliver into it (`Maildir(path).add(raw)`).

Mark with care: a mail client pointed at the same folder marks what a person read as `S` too,
and closeloop will then skip it. The folder is meant for closeloop alone.
"""

from __future__ import annotations

import logging
import mailbox
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from inbox.sources import (
    InboxConfigError,
    InboxError,
    MailHandler,
    PollResult,
    RawMail,
    message_key,
)

__all__ = ["PROCESSED_FLAG", "MaildirSource"]

log = logging.getLogger(__name__)

PROCESSED_FLAG = "S"
"""The Maildir info flag that marks a message as processed (standard "seen")."""


@dataclass(frozen=True)
class _Pending:
    path: Path
    base: str
    flags: str
    mtime_ns: int


class MaildirSource:
    """Reads a local Maildir folder and hands unprocessed messages to a handler."""

    def __init__(self, path: str | os.PathLike[str], *, poll_interval: float = 5.0) -> None:
        self.path = Path(path).expanduser()
        self._poll_interval = poll_interval
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            maildir = mailbox.Maildir(self.path, create=True)
            for sub in ("tmp", "new", "cur"):
                (self.path / sub).mkdir(mode=0o700, exist_ok=True)
        except OSError as exc:
            raise InboxConfigError(
                f"cannot use {self.path} as a Maildir folder: {exc.strerror or exc}",
                code="maildir_unusable",
            ) from exc
        # ":" on POSIX, "!" on Windows, where ":" is not allowed in file names.
        self._colon: str = maildir.colon

    def __repr__(self) -> str:
        return f"MaildirSource({str(self.path)!r})"

    def poll_once(self, handler: MailHandler) -> PollResult:
        """Hand every pending message to `handler`, oldest first; mark each one it accepted."""
        fetched = processed = 0
        for pending in self._pending():
            try:
                raw = pending.path.read_bytes()
            except FileNotFoundError:  # another reader took it meanwhile
                continue
            except OSError as exc:
                raise InboxError(
                    f"cannot read {pending.path}: {exc.strerror or exc}", code="maildir_error"
                ) from exc
            fetched += 1
            mail = RawMail(uid=None, folder=str(self.path), raw=raw, key=message_key(raw))
            try:
                handler(mail)
            except Exception:
                log.exception(
                    "handler failed for %s (%s); it stays for the next poll",
                    pending.path.name,
                    mail.key,
                )
                return PollResult(fetched=fetched, processed=processed, failed=1)
            self._mark_processed(pending)
            processed += 1
        return PollResult(fetched=fetched, processed=processed)

    def watch(
        self,
        handler: MailHandler,
        stop_event: threading.Event,
        *,
        poll_interval: float | None = None,
    ) -> None:
        """Poll every `poll_interval` seconds (default from the constructor) until stopped."""
        interval = self._poll_interval if poll_interval is None else poll_interval
        while not stop_event.is_set():
            self.poll_once(handler)
            stop_event.wait(interval)

    def _pending(self) -> list[_Pending]:
        found: list[_Pending] = []
        for sub in ("new", "cur"):
            try:
                entries = list(os.scandir(self.path / sub))
            except OSError as exc:
                raise InboxError(
                    f"cannot list {self.path / sub}: {exc.strerror or exc}", code="maildir_error"
                ) from exc
            for entry in entries:
                if entry.name.startswith(".") or not entry.is_file():
                    continue
                base, _, info = entry.name.partition(self._colon)
                flags = info[2:] if info.startswith("2,") else ""
                if sub == "cur" and PROCESSED_FLAG in flags:
                    continue
                try:
                    mtime_ns = entry.stat().st_mtime_ns
                except FileNotFoundError:
                    continue
                found.append(_Pending(Path(entry.path), base, flags, mtime_ns))
        # Delivery time first; the unique name breaks ties (it starts with the delivery second).
        found.sort(key=lambda pending: (pending.mtime_ns, pending.base))
        return found

    def _mark_processed(self, pending: _Pending) -> None:
        flags = "".join(sorted(set(pending.flags) | {PROCESSED_FLAG}))
        target = self.path / "cur" / f"{pending.base}{self._colon}2,{flags}"
        try:
            pending.path.replace(target)
        except FileNotFoundError:
            log.info("%s was moved by another reader after it was handled", pending.path.name)
        except OSError as exc:
            raise InboxError(
                f"cannot mark {pending.path.name} processed: {exc.strerror or exc}",
                code="maildir_error",
            ) from exc
