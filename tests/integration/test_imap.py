"""ImapSource against a real Dovecot (Debian `dovecot-imapd`) on 127.0.0.1.

Skipped when Dovecot is not installed, except under CI=true, where a missing server fails.
Every test reads its own folder, so tests share one server per module and stay independent.
Server-side events are real: `doveadm kick` drops sessions, `doveadm mailbox update
--uid-validity` renumbers a folder (see tests/integration/imap_server.py).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from imapclient import IMAPClient

from inbox.imap import PROCESSED_KEYWORD, ImapSource
from inbox.sources import (
    ImapAuthError,
    ImapConnectionError,
    ImapError,
    MemoryMailboxState,
    PollResult,
    RawMail,
    message_key,
)
from tests.integration.imap_server import DovecotServer, find_binary, run_dovecot

pytestmark = [pytest.mark.imap, pytest.mark.timeout(60)]

# Timeouts on every socket so a wedged server fails a test instead of hanging the suite.
TIMEOUTS: dict[str, Any] = {"connect_timeout": 5.0, "read_timeout": 10.0}
WAKE_LIMIT = 3.0
WITHOUT_IDLE_AND_MOVE = ["IMAP4rev1", "LITERAL+", "SASL-IR", "ENABLE", "UIDPLUS", "UNSELECT"]


def _require_dovecot() -> None:
    if find_binary("dovecot") and find_binary("doveadm"):
        return
    message = (
        "Dovecot is not installed (no `dovecot`/`doveadm` in PATH or /usr/sbin); install it with "
        "`apt-get install -y --no-install-recommends dovecot-imapd`"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true requires the IMAP integration tests to run. {message}")
    pytest.skip(message)


@pytest.fixture(scope="module")
def server() -> Iterator[DovecotServer]:
    _require_dovecot()
    with run_dovecot() as running:
        yield running


@pytest.fixture(scope="module")
def tls_server() -> Iterator[DovecotServer]:
    """A server with a self-signed certificate: STARTTLS on `port`, TLS on `imaps_port`."""
    _require_dovecot()
    with run_dovecot(tls=True) as running:
        yield running


@pytest.fixture(scope="module")
def basic_server() -> Iterator[DovecotServer]:
    """A server that advertises neither IDLE nor MOVE."""
    _require_dovecot()
    with run_dovecot(capabilities=WITHOUT_IDLE_AND_MOVE) as running:
        yield running


_folder_numbers = itertools.count(1)


def _new_folder(srv: DovecotServer) -> str:
    name = f"Billing{next(_folder_numbers):03d}"
    with admin(srv) as client:
        client.create_folder(name)
    return name


@pytest.fixture
def folder(server: DovecotServer) -> str:
    return _new_folder(server)


@pytest.fixture
def state() -> MemoryMailboxState:
    return MemoryMailboxState()


@contextlib.contextmanager
def admin(srv: DovecotServer) -> Iterator[IMAPClient]:
    """A second, independent session: how mail arrives and how tests look at the folder."""
    client = IMAPClient(srv.host, srv.port, ssl=False, timeout=5)
    try:
        client.login(srv.user, srv.password)
        yield client
    finally:
        with contextlib.suppress(Exception):
            client.logout()


def mail(n: int) -> bytes:
    return (
        f"Message-ID: <reply-{n}@client.example>\r\n"
        f"From: ap@client.example\r\nTo: billing@example.test\r\n"
        f"Subject: Re: Invoice INV-{n:04d}\r\n\r\nPlease resend invoice {n}.\r\n"
    ).encode()


def key(n: int) -> str:
    return f"reply-{n}@client.example"


def deliver(srv: DovecotServer, folder: str, *numbers: int) -> None:
    with admin(srv) as client:
        for n in numbers:
            client.append(folder, mail(n))


def marks(srv: DovecotServer, folder: str) -> dict[str, set[bytes]]:
    """Message key -> flags, for every message now in `folder`."""
    with admin(srv) as client:
        client.select_folder(folder, readonly=True)
        uids = client.search(["ALL"])
        fetched = client.fetch(uids, ["FLAGS", "BODY.PEEK[]"]) if uids else {}
    return {message_key(item[b"BODY[]"]): set(item[b"FLAGS"]) for item in fetched.values()}


PROCESSED = {b"\\Seen", PROCESSED_KEYWORD.encode()}


class IdempotentStore:
    """Stands in for the storage handler: keeps each key once, as the real one does by
    Message-ID, and counts what it would answer. `hook(mail, call_number)` runs first."""

    def __init__(self, hook: Callable[[RawMail, int], None] | None = None) -> None:
        self.calls: list[RawMail] = []
        self.stored: dict[str, bytes] = {}
        self.duplicates: list[str] = []
        self.hook = hook
        self.changed = threading.Event()

    def __call__(self, mail: RawMail) -> None:
        self.calls.append(mail)
        if self.hook is not None:
            self.hook(mail, len(self.calls))
        if mail.key in self.stored:
            self.duplicates.append(mail.key)
            return
        self.stored[mail.key] = mail.raw
        self.changed.set()

    @property
    def keys(self) -> list[str]:
        return [mail.key for mail in self.calls]


def source(srv: DovecotServer, folder: str, state: MemoryMailboxState, **options) -> ImapSource:
    params = options.pop("params", {})
    return ImapSource(srv.url(folder, **params), state, **{**TIMEOUTS, **options})


def uidvalidity(srv: DovecotServer, folder: str) -> int:
    with admin(srv) as client:
        return int(client.folder_status(folder, ["UIDVALIDITY"])[b"UIDVALIDITY"])


def wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


# -- new mail ------------------------------------------------------------------------------


def test_new_mail_is_handed_over_once_across_two_polls_and_flagged(server, folder, state):
    deliver(server, folder, 1, 2, 3)
    store = IdempotentStore()

    with source(server, folder, state) as src:
        first = src.poll_once(store)
        deliver(server, folder, 4)
        second = src.poll_once(store)
        third = src.poll_once(store)

    assert first == PollResult(fetched=3, processed=3, failed=0, uidvalidity_reset=False)
    assert second == PollResult(fetched=1, processed=1, failed=0, uidvalidity_reset=False)
    assert third == PollResult()
    assert store.keys == [key(1), key(2), key(3), key(4)]
    assert [m.uid for m in store.calls] == [1, 2, 3, 4]
    assert {m.folder for m in store.calls} == {folder}
    assert store.stored[key(2)] == mail(2)
    assert state.load(src.url.account, folder) == (uidvalidity(server, folder), 4)
    assert marks(server, folder) == {key(n): PROCESSED for n in (1, 2, 3, 4)}


def test_mail_in_several_batches_keeps_uid_order(server, folder, state):
    deliver(server, folder, *range(1, 8))
    store = IdempotentStore()

    with source(server, folder, state, batch_size=3) as src:
        result = src.poll_once(store)

    assert result == PollResult(fetched=7, processed=7)
    assert [m.uid for m in store.calls] == [1, 2, 3, 4, 5, 6, 7]
    assert [save[3] for save in state.saves] == [0, 1, 2, 3, 4, 5, 6, 7]


def test_handler_failure_mid_batch_retries_that_message_and_later_ones_without_repeats(
    server, folder, state
):
    deliver(server, folder, 1, 2, 3, 4, 5)

    def fail_first_attempt_of_third(mail: RawMail, call_number: int) -> None:
        if call_number == 3:
            raise RuntimeError("database is locked")

    store = IdempotentStore(hook=fail_first_attempt_of_third)

    with source(server, folder, state, batch_size=2) as src:
        first = src.poll_once(store)
        after_failure = marks(server, folder)
        saved_after_failure = state.load(src.url.account, folder)
        second = src.poll_once(store)

    assert first == PollResult(fetched=3, processed=2, failed=1)
    assert saved_after_failure == (uidvalidity(server, folder), 2)
    assert after_failure == {
        key(1): PROCESSED,
        key(2): PROCESSED,
        key(3): set(),
        key(4): set(),
        key(5): set(),
    }
    assert second == PollResult(fetched=3, processed=3)
    assert store.keys == [key(1), key(2), key(3), key(3), key(4), key(5)]
    assert store.duplicates == []
    assert marks(server, folder) == {key(n): PROCESSED for n in (1, 2, 3, 4, 5)}


# -- connection drops ----------------------------------------------------------------------


def test_session_killed_mid_batch_loses_and_repeats_nothing(server, folder, state, caplog):
    deliver(server, folder, 1, 2, 3, 4, 5)

    def kick_after_second(mail: RawMail, call_number: int) -> None:
        if call_number == 2:
            server.kick()  # the handler returns; marking message 2 then hits a dead socket

    store = IdempotentStore(hook=kick_after_second)

    with (
        caplog.at_level(logging.INFO, logger="inbox.imap"),
        source(server, folder, state, batch_size=2) as src,
    ):
        result = src.poll_once(store)

    assert result == PollResult(fetched=5, processed=5)
    assert store.keys == [key(1), key(2), key(3), key(4), key(5)]
    assert store.duplicates == []
    assert marks(server, folder) == {key(n): PROCESSED for n in (1, 2, 3, 4, 5)}
    messages = [record.getMessage() for record in caplog.records]
    assert any("connection lost during poll" in text for text in messages)
    assert "acknowledging 1 handled message(s) left unmarked" in messages


def test_session_killed_between_polls_is_reopened_by_the_next_poll(server, folder, state):
    deliver(server, folder, 1)
    store = IdempotentStore()

    with source(server, folder, state) as src:
        src.poll_once(store)
        server.kick()
        deliver(server, folder, 2)
        result = src.poll_once(store)

    assert result == PollResult(fetched=1, processed=1)
    assert store.keys == [key(1), key(2)]


def test_poll_raises_a_transient_connection_error_when_the_server_is_unreachable(state):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    src = ImapSource(f"imap://u:hunter2@127.0.0.1:{closed_port}/INBOX", state, **TIMEOUTS)

    with pytest.raises(ImapConnectionError) as caught:
        src.poll_once(IdempotentStore())

    assert caught.value.code == "imap_connection_lost"
    assert caught.value.transient is True
    assert caught.value.command == "CONNECT"
    assert "hunter2" not in str(caught.value)


# -- UIDVALIDITY ---------------------------------------------------------------------------


def test_uidvalidity_change_resets_the_position_and_only_unmarked_mail_is_handed_again(
    server, folder, state, caplog
):
    deliver(server, folder, 1, 2, 3)
    store = IdempotentStore()
    with source(server, folder, state) as src:
        src.poll_once(store)
        old_validity = uidvalidity(server, folder)
        # Message 2 lost its mark (as after a restore), message 4 is new.
        with admin(server) as client:
            client.select_folder(folder)
            client.remove_flags([2], [PROCESSED_KEYWORD])
            client.close_folder()
        deliver(server, folder, 4)
        # Dovecot ends the source's selected session with BYE ("state is inconsistent").
        server.set_uidvalidity(folder, old_validity + 1000)

        with caplog.at_level(logging.WARNING, logger="inbox.imap"):
            result = src.poll_once(store)

    assert result == PollResult(fetched=2, processed=2, failed=0, uidvalidity_reset=True)
    assert store.keys == [key(1), key(2), key(3), key(2), key(4)]
    # The second delivery of message 2 reaches only the idempotent store, which keeps one copy.
    assert store.duplicates == [key(2)]
    assert sorted(store.stored) == [key(1), key(2), key(3), key(4)]
    account = src.url.account
    assert state.saves[-3:] == [
        (account, folder, old_validity + 1000, 0),
        (account, folder, old_validity + 1000, 2),
        (account, folder, old_validity + 1000, 4),
    ]
    assert marks(server, folder) == {key(n): PROCESSED for n in (1, 2, 3, 4)}
    assert any(
        f"changed from {old_validity} to {old_validity + 1000}" in record.getMessage()
        for record in caplog.records
    )


def test_uidvalidity_unchanged_never_resets(server, folder, state):
    deliver(server, folder, 1)
    with source(server, folder, state) as src:
        first = src.poll_once(IdempotentStore())
        second = src.poll_once(IdempotentStore())

    assert (first.uidvalidity_reset, second.uidvalidity_reset) == (False, False)


# -- flag mode vs move mode ----------------------------------------------------------------


def test_move_mode_moves_handled_mail_to_the_processed_folder(server, folder, state):
    deliver(server, folder, 1, 2)
    done = f"{folder}Done"
    store = IdempotentStore()

    with source(server, folder, state, params={"processed": "move", "move_to": done}) as src:
        first = src.poll_once(store)
        second = src.poll_once(store)

    assert first == PollResult(fetched=2, processed=2)
    assert second == PollResult()
    assert marks(server, folder) == {}
    assert set(marks(server, done)) == {key(1), key(2)}
    assert store.keys == [key(1), key(2)]


def test_move_mode_without_move_capability_copies_then_expunges(basic_server, state):
    folder = _new_folder(basic_server)
    deliver(basic_server, folder, 1, 2, 3)
    done = f"{folder}Done"
    store = IdempotentStore()

    with source(basic_server, folder, state, params={"processed": "move", "move_to": done}) as src:
        result = src.poll_once(store)
        assert not src._connected().has_capability("MOVE")

    assert result == PollResult(fetched=3, processed=3)
    assert marks(basic_server, folder) == {}
    assert set(marks(basic_server, done)) == {key(1), key(2), key(3)}


def test_flag_mode_leaves_mail_in_place_marked_seen_and_processed(server, folder, state):
    deliver(server, folder, 1)

    with source(server, folder, state, params={"processed": "flag"}) as src:
        src.poll_once(IdempotentStore())

    assert marks(server, folder) == {key(1): PROCESSED}


# -- watch: IDLE, polling, reconnect -------------------------------------------------------


@contextlib.contextmanager
def watching(src: ImapSource, store: IdempotentStore, **options) -> Iterator[threading.Thread]:
    stop = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            src.watch(store, stop, **options)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, name="imap-watch", daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive(), "watch() did not return after stop_event"
    assert errors == []


def test_idle_wakes_up_for_mail_appended_by_another_connection(server, folder, state):
    store = IdempotentStore()
    # A 10-minute poll interval: only IDLE can bring the message in within seconds.
    src = source(server, folder, state, poll_interval=600)

    with watching(src, store, check_interval=0.2):
        assert wait_for(lambda: state.saves != [], timeout=5)  # first poll done, now idling
        time.sleep(0.3)
        appended_at = time.monotonic()
        deliver(server, folder, 1)
        woke = store.changed.wait(timeout=WAKE_LIMIT)
        latency = time.monotonic() - appended_at

    assert woke, f"no wake-up within {WAKE_LIMIT} s"
    assert latency < WAKE_LIMIT
    assert store.keys == [key(1)]
    assert marks(server, folder) == {key(1): PROCESSED}


def test_watch_without_idle_polls_and_still_gets_new_mail(basic_server, state):
    folder = _new_folder(basic_server)
    store = IdempotentStore()
    src = source(basic_server, folder, state, poll_interval=0.2)

    with watching(src, store):
        assert wait_for(lambda: state.saves != [], timeout=5)
        deliver(basic_server, folder, 1)
        assert store.changed.wait(timeout=WAKE_LIMIT)

    assert store.keys == [key(1)]


def test_watch_with_idle_off_polls_even_when_the_server_has_idle(server, folder, state):
    store = IdempotentStore()
    src = source(server, folder, state, poll_interval=0.2, params={"idle": "off"})

    with watching(src, store):
        assert wait_for(lambda: state.saves != [], timeout=5)
        deliver(server, folder, 1)
        assert store.changed.wait(timeout=WAKE_LIMIT)

    assert store.keys == [key(1)]


def test_watch_reconnects_after_the_session_is_killed_during_idle(server, folder, state, caplog):
    store = IdempotentStore()
    src = source(server, folder, state, poll_interval=600, backoff_initial=0.05)

    with (
        caplog.at_level(logging.WARNING, logger="inbox.imap"),
        watching(src, store, check_interval=0.2),
    ):
        assert wait_for(lambda: state.saves != [], timeout=5)
        time.sleep(0.3)
        server.kick()
        deliver(server, folder, 1)
        assert store.changed.wait(timeout=WAKE_LIMIT + 2)

    assert store.keys == [key(1)]
    assert any("retrying in" in record.getMessage() for record in caplog.records)


def test_watch_retries_a_failed_message_without_waiting_for_new_mail(server, folder, state):
    deliver(server, folder, 1)

    def fail_once(mail: RawMail, call_number: int) -> None:
        if call_number == 1:
            raise RuntimeError("database is locked")

    store = IdempotentStore(hook=fail_once)
    src = source(server, folder, state, poll_interval=600, backoff_initial=0.1)

    with watching(src, store, check_interval=0.1):
        assert store.changed.wait(timeout=WAKE_LIMIT)

    assert store.keys == [key(1), key(1)]
    assert list(store.stored) == [key(1)]


def test_watch_stops_promptly_while_idling(server, folder, state):
    src = source(server, folder, state, poll_interval=600)
    store = IdempotentStore()

    with watching(src, store, check_interval=0.2) as thread:
        assert wait_for(lambda: state.saves != [], timeout=5)
        time.sleep(0.3)
        stopped_at = time.monotonic()
    elapsed = time.monotonic() - stopped_at

    assert not thread.is_alive()
    assert elapsed < 2.0


# -- errors --------------------------------------------------------------------------------


def test_wrong_password_is_an_auth_error_that_names_no_password(server, state):
    url = server.url("INBOX").replace("p%40ss", "wrong%40ss")
    src = ImapSource(url, state, **TIMEOUTS)

    with pytest.raises(ImapAuthError) as caught:
        src.poll_once(IdempotentStore())

    error = caught.value
    assert (error.code, error.command, error.transient) == ("imap_auth_failed", "LOGIN", False)
    assert "AUTHENTICATIONFAILED" in (error.response or "")
    assert "wrong@ss" not in str(error) and "wrong%40ss" not in str(error)


def test_watch_raises_a_permanent_error_instead_of_retrying_forever(server, state):
    url = server.url("INBOX").replace("p%40ss", "wrong%40ss")
    stop = threading.Event()

    with pytest.raises(ImapAuthError):
        ImapSource(url, state, **TIMEOUTS).watch(IdempotentStore(), stop)


def test_missing_folder_is_a_command_error_with_the_server_answer(server, state):
    src = source(server, "NoSuchFolder", state)

    with pytest.raises(ImapError) as caught, src:
        src.poll_once(IdempotentStore())

    error = caught.value
    assert (error.code, error.command) == ("imap_command_failed", "SELECT")
    assert "Mailbox doesn't exist" in (error.response or "")
    assert error.transient is False


# -- TLS -----------------------------------------------------------------------------------


def _trusting(srv: DovecotServer) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(srv.ca_file))


def test_imaps_url_reads_mail_over_implicit_tls(tls_server, state):
    folder = _new_folder(tls_server)
    deliver(tls_server, folder, 1)
    src = ImapSource(
        tls_server.url(folder, scheme="imaps"), state, ssl_context=_trusting(tls_server), **TIMEOUTS
    )
    store = IdempotentStore()

    with src:
        result = src.poll_once(store)
        assert src._connected().socket().version() in {"TLSv1.2", "TLSv1.3"}

    assert result == PollResult(fetched=1, processed=1)
    assert store.keys == [key(1)]


def test_starttls_url_upgrades_the_connection_before_login(tls_server, state):
    folder = _new_folder(tls_server)
    deliver(tls_server, folder, 1)
    src = ImapSource(
        tls_server.url(folder, starttls="1"), state, ssl_context=_trusting(tls_server), **TIMEOUTS
    )
    store = IdempotentStore()

    with src:
        result = src.poll_once(store)
        assert src._connected().socket().version() in {"TLSv1.2", "TLSv1.3"}

    assert result == PollResult(fetched=1, processed=1)


@pytest.mark.parametrize("tls_options", [{"scheme": "imaps"}, {"starttls": "1"}])
def test_untrusted_certificate_is_refused_and_not_retried(tls_server, state, tls_options):
    src = ImapSource(tls_server.url("INBOX", **tls_options), state, **TIMEOUTS)

    with pytest.raises(ImapConnectionError) as caught:
        src.poll_once(IdempotentStore())

    error = caught.value
    assert (error.code, error.transient) == ("imap_tls_failed", False)
    assert "CERTIFICATE_VERIFY_FAILED" in (error.response or "")
