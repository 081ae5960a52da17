"""The embedded mailer: one .eml per Message-ID in a local Maildir, whatever the retries."""

from __future__ import annotations

import mailbox
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from connectors.errors import InvalidMessage
from connectors.smtp import MaildirMailer, SendReceipt, SmtpMailer, mailer_from_url

MESSAGE_ID = "<inv-2026-0001.issue.1@closeloop.test>"


def invoice_email(message_id: str | None = MESSAGE_ID, *, bcc: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Acme Billing <billing@acme.test>"
    message["To"] = "Client AP <ap@client.test>"
    message["Cc"] = "owner@client.test"
    if bcc is not None:
        message["Bcc"] = bcc
    message["Subject"] = "Invoice INV-2026-0001"
    if message_id is not None:
        message["Message-ID"] = message_id
    message.set_content("Please find invoice INV-2026-0001 attached.\n")
    message.add_attachment(
        b"%PDF-1.7 fake", maintype="application", subtype="pdf", filename="INV-2026-0001.pdf"
    )
    return message


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_send_writes_one_eml_in_new_named_after_the_message_id(tmp_path: Path) -> None:
    mailer = MaildirMailer(tmp_path / "outbox")

    receipt = mailer.send(invoice_email())

    assert receipt == SendReceipt(
        message_id=MESSAGE_ID, accepted=("ap@client.test", "owner@client.test"), refused={}
    )
    name = MaildirMailer.file_name(MESSAGE_ID)
    assert name.endswith(".eml")
    assert files_in(tmp_path / "outbox" / "new") == [name]
    assert files_in(tmp_path / "outbox" / "tmp") == []
    written = message_from_bytes(
        (tmp_path / "outbox" / "new" / name).read_bytes(), policy=policy.default
    )
    assert written["Message-ID"] == MESSAGE_ID
    assert written["Subject"] == "Invoice INV-2026-0001"
    assert [part.get_filename() for part in written.iter_attachments()] == ["INV-2026-0001.pdf"]


def test_second_send_of_the_same_message_id_leaves_one_file_and_returns_the_same_receipt(
    tmp_path: Path,
) -> None:
    mailer = MaildirMailer(tmp_path)
    first = mailer.send(invoice_email())
    before = (tmp_path / "new" / MaildirMailer.file_name(MESSAGE_ID)).read_bytes()

    second = mailer.send(invoice_email())

    assert second == first
    assert files_in(tmp_path / "new") == [MaildirMailer.file_name(MESSAGE_ID)]
    assert (tmp_path / "new" / MaildirMailer.file_name(MESSAGE_ID)).read_bytes() == before


def test_a_new_mailer_on_the_same_folder_after_a_restart_still_writes_nothing(
    tmp_path: Path,
) -> None:
    MaildirMailer(tmp_path).send(invoice_email())

    MaildirMailer(tmp_path).send(invoice_email())

    assert len(files_in(tmp_path / "new")) == 1


def test_a_message_a_mail_client_moved_to_cur_is_not_written_again(tmp_path: Path) -> None:
    mailer = MaildirMailer(tmp_path)
    mailer.send(invoice_email())
    name = MaildirMailer.file_name(MESSAGE_ID)
    (tmp_path / "new" / name).rename(tmp_path / "cur" / f"{name}:2,S")

    mailer.send(invoice_email())

    assert files_in(tmp_path / "new") == []
    assert files_in(tmp_path / "cur") == [f"{name}:2,S"]


def test_different_message_ids_make_different_files(tmp_path: Path) -> None:
    mailer = MaildirMailer(tmp_path)

    mailer.send(invoice_email("<inv-2026-0001.issue.1@closeloop.test>"))
    mailer.send(invoice_email("<inv-2026-0001.reminder.1@closeloop.test>"))

    assert len(files_in(tmp_path / "new")) == 2


def test_angle_brackets_and_spaces_around_the_message_id_do_not_change_the_file() -> None:
    assert MaildirMailer.file_name(" <a.1@closeloop.test> ") == MaildirMailer.file_name(
        "a.1@closeloop.test"
    )
    assert MaildirMailer.file_name("<a.1@closeloop.test>") != MaildirMailer.file_name(
        "<a.2@closeloop.test>"
    )


def test_concurrent_sends_of_the_same_message_leave_one_file(tmp_path: Path) -> None:
    mailer = MaildirMailer(tmp_path)
    receipts: list[SendReceipt] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(10):
            receipt = mailer.send(invoice_email())
            with lock:
                receipts.append(receipt)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(receipts) == 40
    assert {r.message_id for r in receipts} == {MESSAGE_ID}
    assert files_in(tmp_path / "new") == [MaildirMailer.file_name(MESSAGE_ID)]
    assert files_in(tmp_path / "tmp") == []


def test_bcc_is_an_envelope_recipient_but_not_written_and_the_callers_message_keeps_it(
    tmp_path: Path,
) -> None:
    message = invoice_email(bcc="audit@acme.test")

    receipt = MaildirMailer(tmp_path).send(message)

    assert receipt.accepted == ("ap@client.test", "owner@client.test", "audit@acme.test")
    data = (tmp_path / "new" / MaildirMailer.file_name(MESSAGE_ID)).read_bytes()
    assert b"audit@acme.test" not in data
    assert b"Bcc" not in data
    assert message["Bcc"] == "audit@acme.test"


def test_the_folder_is_a_maildir_that_stdlib_mailbox_reads(tmp_path: Path) -> None:
    mailer = MaildirMailer(tmp_path / "mail")
    mailer.send(invoice_email())

    box = mailbox.Maildir(tmp_path / "mail", create=False)

    assert [m["Message-ID"] for m in box] == [MESSAGE_ID]
    assert [m["Subject"] for m in mailer.delivered()] == ["Invoice INV-2026-0001"]


def test_an_existing_empty_directory_becomes_a_maildir(tmp_path: Path) -> None:
    MaildirMailer(tmp_path).send(invoice_email())

    assert files_in(tmp_path) == ["cur", "new", "tmp"]


def test_a_message_without_message_id_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    with pytest.raises(InvalidMessage) as caught:
        MaildirMailer(tmp_path).send(invoice_email(message_id=None))

    assert caught.value.code == "invalid_message"
    assert files_in(tmp_path / "new") == []


def test_a_message_without_recipients_is_refused(tmp_path: Path) -> None:
    message = invoice_email()
    del message["To"]
    del message["Cc"]

    with pytest.raises(InvalidMessage):
        MaildirMailer(tmp_path).send(message)

    assert files_in(tmp_path / "new") == []


@pytest.mark.parametrize("url", [None, "", "  "])
def test_without_an_smtp_url_the_default_mailer_is_the_local_maildir(
    tmp_path: Path, url: str | None
) -> None:
    mailer = mailer_from_url(url, tmp_path / "mail")

    assert isinstance(mailer, MaildirMailer)
    assert mailer.path == tmp_path / "mail"


def test_with_an_smtp_url_the_mailer_is_smtp(tmp_path: Path) -> None:
    mailer = mailer_from_url("smtp+starttls://u:p@mail.acme.test", tmp_path / "mail")

    assert isinstance(mailer, SmtpMailer)
    assert mailer.settings.port == 587
    assert not (tmp_path / "mail").exists()
