"""The embedded mail source: a local Maildir read in delivery order, marked `S` once handled."""

from __future__ import annotations

import hashlib
import mailbox
import os
import threading

import pytest

from inbox.maildir import MaildirSource
from inbox.parse import parse_message
from inbox.sources import InboxConfigError, PollResult, RawMail, message_key


def _mail(n: int) -> bytes:
    return f"Message-ID: <m{n}@client.example>\r\nSubject: invoice {n}\r\n\r\nbody {n}\r\n".encode()


class RecordingHandler:
    """Records what it is handed; raises for the keys listed in `fail_on`."""

    def __init__(self, fail_on: set[str] | None = None) -> None:
        self.handled: list[RawMail] = []
        self.fail_on = fail_on or set()

    def __call__(self, mail: RawMail) -> None:
        if mail.key in self.fail_on:
            raise RuntimeError(f"storage down for {mail.key}")
        self.handled.append(mail)

    @property
    def keys(self) -> list[str]:
        return [mail.key for mail in self.handled]


@pytest.fixture
def folder(tmp_path):
    return tmp_path / "mail" / "billing"


def _deliver(folder, *raws: bytes) -> list[str]:
    """Deliver into new/ with strictly increasing delivery times; return the file names."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    box = mailbox.Maildir(folder, create=True)
    names = []
    for offset, raw in enumerate(raws):
        key = box.add(raw)
        path = folder / "new" / key
        os.utime(path, ns=(1_700_000_000_000_000_000 + offset * 1_000_000,) * 2)
        names.append(key)
    return names


def _files(folder, sub: str) -> list[str]:
    return sorted(os.listdir(folder / sub))


def test_missing_folder_is_created_as_an_empty_maildir(folder):
    source = MaildirSource(folder)

    assert [_files(folder, sub) for sub in ("tmp", "new", "cur")] == [[], [], []]
    assert source.poll_once(RecordingHandler()) == PollResult()


def test_new_messages_are_handled_in_delivery_order_and_moved_to_cur_as_seen(folder):
    names = _deliver(folder, _mail(1), _mail(2), _mail(3))
    handler = RecordingHandler()

    result = MaildirSource(folder).poll_once(handler)

    assert result == PollResult(fetched=3, processed=3, failed=0)
    assert handler.keys == ["m1@client.example", "m2@client.example", "m3@client.example"]
    assert [mail.raw for mail in handler.handled] == [_mail(1), _mail(2), _mail(3)]
    assert {mail.uid for mail in handler.handled} == {None}
    assert {mail.folder for mail in handler.handled} == {str(folder)}
    assert _files(folder, "new") == []
    assert _files(folder, "cur") == sorted(f"{name}:2,S" for name in names)


def test_second_poll_hands_over_nothing_already_handled(folder):
    _deliver(folder, _mail(1), _mail(2))
    source = MaildirSource(folder)
    source.poll_once(RecordingHandler())
    handler = RecordingHandler()

    result = source.poll_once(handler)

    assert result == PollResult()
    assert handler.handled == []


def test_message_delivered_after_a_poll_is_handled_by_the_next_one(folder):
    _deliver(folder, _mail(1))
    source = MaildirSource(folder)
    source.poll_once(RecordingHandler())
    _deliver(folder, _mail(2))
    handler = RecordingHandler()

    source.poll_once(handler)

    assert handler.keys == ["m2@client.example"]


def test_cur_message_without_seen_flag_is_pending_and_its_flags_are_kept(folder):
    (folder / "cur").mkdir(parents=True)
    (folder / "new").mkdir()
    (folder / "tmp").mkdir()
    (folder / "cur" / "1700000000.M1P1.host:2,F").write_bytes(_mail(1))
    (folder / "cur" / "1700000001.M1P1.host:2,RS").write_bytes(_mail(2))
    handler = RecordingHandler()

    result = MaildirSource(folder).poll_once(handler)

    assert result == PollResult(fetched=1, processed=1)
    assert handler.keys == ["m1@client.example"]
    assert _files(folder, "cur") == ["1700000000.M1P1.host:2,FS", "1700000001.M1P1.host:2,RS"]


def test_handler_failure_stops_the_poll_and_the_rest_is_handled_next_time_once(folder):
    _deliver(folder, _mail(1), _mail(2), _mail(3))
    source = MaildirSource(folder)
    failing = RecordingHandler(fail_on={"m2@client.example"})

    first = source.poll_once(failing)

    assert first == PollResult(fetched=2, processed=1, failed=1)
    assert failing.keys == ["m1@client.example"]
    assert len(_files(folder, "new")) == 2

    healthy = RecordingHandler()
    second = source.poll_once(healthy)

    assert second == PollResult(fetched=2, processed=2)
    assert healthy.keys == ["m2@client.example", "m3@client.example"]
    assert _files(folder, "new") == []


def test_message_without_message_id_is_keyed_by_a_hash_of_its_bytes(folder):
    raw = b"Subject: no id\r\n\r\nplease resend the invoice\r\n"
    _deliver(folder, raw)
    handler = RecordingHandler()

    MaildirSource(folder).poll_once(handler)

    assert handler.keys == ["sha256:" + hashlib.sha256(raw).hexdigest()]


def test_message_key_is_the_message_id_without_brackets_or_folding():
    raw = b"Message-ID:\r\n <abc.123@mail.example.com>\r\nSubject: x\r\n\r\nbody\r\n"

    assert message_key(raw) == "abc.123@mail.example.com"


@pytest.mark.parametrize(
    "raw",
    [
        b"Message-ID: <a1@client.example>\r\n\r\nbody\r\n",
        b"message-id: <a2@client.example> (via relay)\r\nMessage-ID: <other@x>\r\n\r\nb\r\n",
        b"Message-ID: bare-id@client.example\r\n\r\nbody\r\n",
        b"Subject: no id\r\n\r\nbody\r\n",
    ],
)
def test_message_key_equals_the_parsers_message_id(raw):
    assert message_key(raw) == parse_message(raw).message_id


def test_message_key_hash_differs_when_the_bytes_differ():
    raw = b"Subject: no id\r\n\r\nbody\r\n"

    assert message_key(raw) != message_key(raw + b"more\r\n")


def test_dot_files_and_tmp_files_are_never_handed_over(folder):
    MaildirSource(folder)
    (folder / "new" / ".hidden").write_bytes(_mail(1))
    (folder / "tmp" / "1700000000.M1P1.host").write_bytes(_mail(2))
    handler = RecordingHandler()

    result = MaildirSource(folder).poll_once(handler)

    assert result == PollResult()
    assert handler.handled == []


def test_watch_handles_mail_and_returns_once_stopped(folder):
    _deliver(folder, _mail(1))
    stop = threading.Event()
    handled = threading.Event()

    def handler(mail: RawMail) -> None:
        handled.set()
        stop.set()

    thread = threading.Thread(
        target=MaildirSource(folder).watch, args=(handler, stop), kwargs={"poll_interval": 0.01}
    )
    thread.start()
    thread.join(timeout=5)

    assert handled.is_set()
    assert not thread.is_alive()


def test_a_file_in_place_of_the_folder_is_a_config_error(tmp_path):
    blocker = tmp_path / "billing"
    blocker.write_text("not a folder", encoding="utf-8")

    with pytest.raises(InboxConfigError) as caught:
        MaildirSource(blocker)

    assert caught.value.code == "maildir_unusable"
