"""Fetch the billing inbox over IMAP (imapclient), by UID, exactly once with the handler's help.

One poll (`ImapSource.poll_once`):

1. SELECT the folder and compare its UIDVALIDITY with the stored one. A folder never seen
   starts at last UID 0. A different UIDVALIDITY means the server renumbered the folder (a
   restore, a migration, a rebuilt index): the stored last UID means nothing any more, so it is
   reset to 0, the reset is saved and logged, and the folder is read again. Messages already
   acknowledged are skipped by their marks (flag mode: the `$Processed` keyword; move mode:
   they left the folder); any other message is handed to the handler again, and the handler's
   storage, keyed by Message-ID (`RawMail.key`), is what guarantees it is answered only once.
2. Finish acknowledging messages at or below the last UID that still lack their mark (a drop
   between "saved" and "flagged" leaves one behind); the handler is not called for them.
3. `UID SEARCH UID last+1:*` — the server always includes the highest UID in `N:*` even when
   it is below N, so the result is filtered to UIDs above last.
4. FETCH `BODY.PEEK[]` (so nothing is marked \\Seen before it is handled) in batches of
   `batch_size` and call the handler per message in UID order. After each message that the
   handler accepted: save the last UID, then acknowledge it (STORE `$Processed \\Seen`, or
   MOVE to `move_to`, falling back to COPY + \\Deleted + EXPUNGE without MOVE). When the
   handler raises, the poll stops: that message and the ones after it stay for the next poll.

A connection that drops during a poll is reopened once and the poll goes on from the saved last
UID, so nothing is lost and no handled message is handed over again. `watch()` loops over
polls, waiting with IDLE when the server has it (re-issued at least every 29 minutes, RFC 2177)
or sleeping `poll_interval` otherwise, and reconnects with exponential backoff and jitter.

Library errors are translated at this edge into `inbox.sources` errors that carry the command
and the server's answer; the password is never part of them (nor of any log line).
"""

from __future__ import annotations

import logging
import random
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from imapclient import IMAPClient
from imapclient.exceptions import (
    CapabilityError,
    IMAPClientAbortError,
    IMAPClientError,
    LoginError,
)
from imapclient.imapclient import SocketTimeout

from inbox.sources import (
    ImapAuthError,
    ImapConnectionError,
    ImapError,
    MailboxState,
    MailHandler,
    PollResult,
    RawMail,
    message_key,
)
from inbox.url import ImapUrl, parse_imap_url

__all__ = ["IDLE_MAX_SECONDS", "PROCESSED_KEYWORD", "ImapSource"]

log = logging.getLogger(__name__)

PROCESSED_KEYWORD = "$Processed"
"""The keyword set (with \\Seen) on each handled message in flag mode."""

IDLE_MAX_SECONDS = 29 * 60
"""Servers may end an IDLE after 30 minutes (RFC 2177), so it is re-issued before that."""

_T = TypeVar("_T")


@dataclass
class _Tally:
    fetched: int = 0
    processed: int = 0
    failed: int = 0
    uidvalidity_reset: bool = False

    def result(self) -> PollResult:
        return PollResult(self.fetched, self.processed, self.failed, self.uidvalidity_reset)


class ImapSource:
    """Reads one IMAP folder (from an `imap://`/`imaps://` URL) and hands new mail to a handler.

    `state` remembers UIDVALIDITY and the last handled UID per account and folder. Timeouts
    bound every socket operation. `clock` (monotonic seconds), `sleep` (used instead of waiting
    on the stop event) and `jitter` (a float in [0, 1)) are injectable for tests. One instance
    serves one thread; it keeps its connection between polls until `close()`.
    """

    def __init__(
        self,
        url: ImapUrl | str,
        state: MailboxState,
        *,
        connect_timeout: float = 15.0,
        read_timeout: float = 60.0,
        batch_size: int = 25,
        poll_interval: float = 60.0,
        reconnect_attempts: int = 1,
        backoff_initial: float = 1.0,
        backoff_max: float = 300.0,
        ssl_context: ssl.SSLContext | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] | None = None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.url = url if isinstance(url, ImapUrl) else parse_imap_url(url)
        self._state = state
        self._timeout = SocketTimeout(connect=connect_timeout, read=read_timeout)
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._reconnect_attempts = reconnect_attempts
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._ssl_context = ssl_context
        self._clock = clock
        self._sleep = sleep
        self._jitter = jitter
        self._client: IMAPClient | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> ImapSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ImapSource({self.url.redacted()!r})"

    def close(self) -> None:
        """Log out (or just close the socket when the server is gone)."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.logout()
        except Exception:  # the connection is being discarded either way
            self._shutdown(client)

    # -- polling ---------------------------------------------------------------------------

    def poll_once(self, handler: MailHandler) -> PollResult:
        """Hand every new message of the folder to `handler`, in UID order (see module doc).

        Reconnects up to `reconnect_attempts` times when the connection drops mid-poll; raises
        `ImapConnectionError` when it still fails, other `ImapError`s when the server refuses.
        """
        tally = _Tally()
        attempt = 0
        while True:
            try:
                client = self._connected()
                self._poll(client, handler, tally)
                return tally.result()
            except ImapConnectionError as exc:
                self._drop()
                if not exc.transient or attempt >= self._reconnect_attempts:
                    raise
                attempt += 1
                log.warning(
                    "IMAP connection lost during poll of %s (%s); reconnecting",
                    self.url.redacted(),
                    exc,
                )

    def _poll(self, client: IMAPClient, handler: MailHandler, tally: _Tally) -> None:
        url = self.url
        selected = self._call("SELECT", client.select_folder, url.folder)
        if b"UIDVALIDITY" not in selected:
            raise ImapError(
                f"the server sent no UIDVALIDITY for {url.folder}; UIDs cannot be trusted",
                code="imap_uidvalidity_missing",
                command="SELECT",
            )
        uidvalidity = int(selected[b"UIDVALIDITY"])
        if url.processed == "flag":
            self._require_keywords(selected)

        stored = self._state.load(url.account, url.folder)
        if stored is None:
            last_uid = 0
            self._state.save(url.account, url.folder, uidvalidity, 0)
        elif stored[0] != uidvalidity:
            log.warning(
                "UIDVALIDITY of %s on %s changed from %d to %d: its UIDs were renumbered; "
                "reading it again from UID 1 (acknowledged messages are skipped, any other one "
                "is deduplicated by Message-ID in storage)",
                url.folder,
                url.account,
                stored[0],
                uidvalidity,
            )
            last_uid = 0
            tally.uidvalidity_reset = True
            self._state.save(url.account, url.folder, uidvalidity, 0)
        else:
            last_uid = stored[1]

        if last_uid > 0:
            leftovers = self._search(client, f"1:{last_uid}")
            leftovers = [uid for uid in leftovers if uid <= last_uid]
            if leftovers:
                log.info("acknowledging %d handled message(s) left unmarked", len(leftovers))
                self._acknowledge(client, leftovers)

        new_uids = [uid for uid in self._search(client, f"{last_uid + 1}:*") if uid > last_uid]
        for batch in _chunks(sorted(new_uids), self._batch_size):
            fetched = self._call("FETCH", client.fetch, batch, ["BODY.PEEK[]"])
            for uid in batch:
                item = fetched.get(uid)
                raw = item.get(b"BODY[]") if item is not None else None
                if raw is None:  # expunged by someone else since the SEARCH
                    continue
                tally.fetched += 1
                mail = RawMail(uid=uid, folder=url.folder, raw=bytes(raw), key=message_key(raw))
                try:
                    handler(mail)
                except Exception:
                    tally.failed += 1
                    log.exception(
                        "handler failed for UID %d (%s) in %s; it stays for the next poll",
                        uid,
                        mail.key,
                        url.folder,
                    )
                    return
                self._state.save(url.account, url.folder, uidvalidity, uid)
                tally.processed += 1
                self._acknowledge(client, [uid])

    def _search(self, client: IMAPClient, uid_range: str) -> list[int]:
        criteria: list[str] = ["UID", uid_range]
        if self.url.processed == "flag":
            criteria += ["NOT", "KEYWORD", PROCESSED_KEYWORD]
        found = self._call("UID SEARCH", client.search, criteria)
        return sorted(int(uid) for uid in found)

    def _require_keywords(self, selected: dict[bytes, Any]) -> None:
        permanent = selected.get(b"PERMANENTFLAGS")
        if permanent is None:  # not announced: RFC 3501 says all flags are permanent
            return
        if b"\\*" not in permanent and PROCESSED_KEYWORD.encode() not in permanent:
            raise ImapError(
                f"{self.url.folder} does not accept the {PROCESSED_KEYWORD} keyword; "
                "use ?processed=move",
                code="imap_keywords_unsupported",
                command="SELECT",
                response=" ".join(flag.decode(errors="replace") for flag in permanent),
            )

    def _acknowledge(self, client: IMAPClient, uids: list[int]) -> None:
        if self.url.processed == "flag":
            self._call(
                "UID STORE",
                client.add_flags,
                uids,
                [b"\\Seen", PROCESSED_KEYWORD.encode()],
                silent=True,
            )
        elif client.has_capability("MOVE"):
            self._call("UID MOVE", client.move, uids, self.url.move_to)
        else:
            # Without MOVE: a drop between COPY and EXPUNGE leaves a second copy in move_to,
            # never a lost message.
            self._call("UID COPY", client.copy, uids, self.url.move_to)
            self._call("UID STORE", client.add_flags, uids, [b"\\Deleted"], silent=True)
            if client.has_capability("UIDPLUS"):
                self._call("UID EXPUNGE", client.uid_expunge, uids)
            else:
                # Plain EXPUNGE also removes other messages someone marked \Deleted here,
                # which is what any client closing the folder would do anyway.
                self._call("EXPUNGE", client.expunge)

    # -- watching --------------------------------------------------------------------------

    def watch(
        self,
        handler: MailHandler,
        stop_event: threading.Event,
        *,
        idle_timeout: float = IDLE_MAX_SECONDS,
        check_interval: float = 1.0,
    ) -> None:
        """Poll, then wait for new mail, until `stop_event` is set; then log out.

        Waits with IDLE when the URL allows it (`idle=auto`) and the server advertises it,
        for at most `idle_timeout` seconds (capped at 29 minutes) per IDLE command, checking
        `stop_event` every `check_interval` seconds; otherwise sleeps `poll_interval`.
        Transient errors (drops, timeouts) reconnect after an exponential backoff with jitter;
        other errors (authentication, a missing folder) are raised. After a handler failure
        the next poll comes after the same kind of backoff instead of the next new mail.
        """
        idle_timeout = min(idle_timeout, IDLE_MAX_SECONDS)
        connection_failures = 0
        handler_failures = 0
        try:
            while not stop_event.is_set():
                try:
                    result = self.poll_once(handler)
                    connection_failures = 0
                    handler_failures = handler_failures + 1 if result.failed else 0
                    if stop_event.is_set():
                        break
                    client = self._connected()
                    if self.url.idle == "auto" and client.has_capability("IDLE"):
                        wait = idle_timeout
                        if handler_failures:
                            wait = min(wait, self._backoff(handler_failures - 1))
                        self._idle(client, stop_event, wait, check_interval)
                    else:
                        wait = self._poll_interval
                        if handler_failures:
                            wait = min(wait, self._backoff(handler_failures - 1))
                        self._wait(stop_event, wait)
                except ImapError as exc:
                    if not exc.transient:
                        raise
                    self._drop()
                    delay = self._backoff(connection_failures)
                    connection_failures += 1
                    log.warning(
                        "IMAP %s unavailable (%s); retrying in %.1f s",
                        self.url.redacted(),
                        exc,
                        delay,
                    )
                    self._wait(stop_event, delay)
        finally:
            self.close()

    def _idle(
        self,
        client: IMAPClient,
        stop_event: threading.Event,
        max_wait: float,
        check_interval: float,
    ) -> None:
        """Wait in IDLE until new mail (EXISTS), `max_wait` seconds, or the stop event."""
        started = self._clock()
        self._call("IDLE", client.idle)
        while not stop_event.is_set():
            remaining = max_wait - (self._clock() - started)
            if remaining <= 0:
                break
            timeout = min(check_interval, remaining)
            asked_at = self._clock()
            responses = self._call("IDLE", client.idle_check, timeout=timeout)
            if any(_is_bye(response) for response in responses):
                raise ImapConnectionError(
                    "IMAP server ended the session during IDLE",
                    command="IDLE",
                    response=_describe(responses),
                )
            if any(_is_new_mail(response) for response in responses):
                break
            # imapclient returns [] right away when the socket hit EOF; leaving IDLE then
            # makes the next command find out whether the connection is still there.
            if not responses and self._clock() - asked_at < timeout / 2:
                break
        self._call("DONE", client.idle_done)

    def _backoff(self, failures: int) -> float:
        ceiling = min(self._backoff_max, self._backoff_initial * (2.0 ** min(failures, 30)))
        return ceiling * (0.5 + self._jitter() / 2)

    def _wait(self, stop_event: threading.Event, seconds: float) -> None:
        if self._sleep is not None:
            self._sleep(seconds)
        else:
            stop_event.wait(seconds)

    # -- connection ------------------------------------------------------------------------

    def _connected(self) -> IMAPClient:
        if self._client is None:
            self._client = self._connect()
        return self._client

    def _connect(self) -> IMAPClient:
        url = self.url
        context = self._ssl_context or ssl.create_default_context()
        client = self._call(
            "CONNECT",
            IMAPClient,
            url.host,
            port=url.port,
            ssl=url.tls == "implicit",
            ssl_context=context if url.tls == "implicit" else None,
            timeout=self._timeout,
        )
        try:
            if url.tls == "starttls":
                self._call("STARTTLS", client.starttls, context)
            self._login(client)
            if url.processed == "move":
                self._ensure_folder(client, url.move_to)
        except BaseException:
            self._shutdown(client)
            raise
        log.info("connected to %s", url.redacted())
        return client

    def _login(self, client: IMAPClient) -> None:
        try:
            client.login(self.url.username, self.url.password)
        except LoginError as exc:
            if isinstance(exc.__context__, IMAPClientAbortError):
                # imapclient turns every error during LOGIN into LoginError, drops included.
                raise ImapConnectionError(
                    f"IMAP connection to {self.url.host}:{self.url.port} lost during login",
                    command="LOGIN",
                    response=self._scrub(exc),
                ) from None
            response = self._scrub(exc)
            error = ImapAuthError(
                f"IMAP login as {self.url.username} on {self.url.host} refused",
                command="LOGIN",
                response=response,
            )
            # [UNAVAILABLE] is the server's own "try again later" (RFC 5530).
            error.transient = "UNAVAILABLE" in response.upper()
            raise error from None
        except (IMAPClientAbortError, OSError) as exc:
            raise ImapConnectionError(
                f"IMAP connection to {self.url.host}:{self.url.port} lost during login",
                command="LOGIN",
                response=self._scrub(exc),
            ) from None

    def _ensure_folder(self, client: IMAPClient, folder: str) -> None:
        if self._call("LIST", client.folder_exists, folder):
            return
        try:
            self._call("CREATE", client.create_folder, folder)
        except ImapError:
            # Another worker may have created it in between; only that is acceptable.
            if not self._call("LIST", client.folder_exists, folder):
                raise

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            self._shutdown(client)

    @staticmethod
    def _shutdown(client: IMAPClient) -> None:
        try:
            client.shutdown()
        except Exception as exc:  # already closed
            log.debug("closing a dead IMAP connection: %s", exc)

    def _call(self, command: str, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        """Run one imapclient call, translating its exceptions at this edge."""
        try:
            return fn(*args, **kwargs)
        except ssl.SSLCertVerificationError as exc:
            error = ImapConnectionError(
                f"TLS certificate of {self.url.host} rejected",
                code="imap_tls_failed",
                command=command,
                response=self._scrub(exc),
            )
            error.transient = False
            raise error from None
        except (IMAPClientAbortError, OSError) as exc:
            # abort: EOF, BYE or a protocol violation; OSError: refused, reset, timeout, TLS.
            raise ImapConnectionError(
                f"IMAP connection to {self.url.host}:{self.url.port} lost",
                command=command,
                response=self._scrub(exc),
            ) from exc
        except CapabilityError as exc:
            raise ImapError(
                f"IMAP server lacks a capability {command} needs",
                code="imap_capability_missing",
                command=command,
                response=self._scrub(exc),
            ) from exc
        except IMAPClientError as exc:
            raise ImapError(
                f"IMAP {command} failed", command=command, response=self._scrub(exc)
            ) from exc

    def _scrub(self, exc: BaseException) -> str:
        text = str(exc) or type(exc).__name__
        if text.startswith(("b'", 'b"')) and text.endswith(("'", '"')):
            text = text[2:-1]
        password = self.url.password
        # Servers do not echo passwords; this is a safety net, skipped for passwords so short
        # that masking them would garble ordinary words.
        if len(password) >= 4:
            text = text.replace(password, "***")
        return text


def _chunks(items: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _is_new_mail(response: tuple[Any, ...]) -> bool:
    return len(response) >= 2 and isinstance(response[0], int) and response[1] == b"EXISTS"


def _is_bye(response: tuple[Any, ...]) -> bool:
    return len(response) >= 1 and response[0] == b"BYE"


def _describe(responses: list[tuple[Any, ...]]) -> str:
    return "; ".join(
        " ".join(
            part.decode(errors="replace") if isinstance(part, bytes) else str(part)
            for part in response
        )
        for response in responses
    )
