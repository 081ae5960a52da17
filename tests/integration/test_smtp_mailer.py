"""SmtpMailer against a real SMTP server (aiosmtpd, in-process on 127.0.0.1)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from connectors.errors import (
    AuthenticationFailed,
    ConnectorTimeout,
    ConnectorUnavailable,
    DeliveryDeferred,
    DeliveryRejected,
    InvalidConfiguration,
    InvalidMessage,
    PermanentError,
    TransientError,
)
from connectors.smtp import SendReceipt, SmtpMailer, SmtpSettings, parse_smtp_url
from tests.fakes.smtp_server import FakeSmtpServer, free_port, self_signed_tls

MESSAGE_ID = "<inv-2026-0001.issue.1@closeloop.test>"
LOGIN = "billing@acme.test"
PASSWORD = "p@ss:w/rd%1"


def invoice_email(
    *, to: str = "Client AP <ap@client.test>", cc: str | None = None, bcc: str | None = None
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Acme Billing <billing@acme.test>"
    message["To"] = to
    if cc is not None:
        message["Cc"] = cc
    if bcc is not None:
        message["Bcc"] = bcc
    message["Subject"] = "Invoice INV-2026-0001"
    message["Message-ID"] = MESSAGE_ID
    message.set_content("Please find invoice INV-2026-0001 attached.\n")
    message.add_attachment(
        b"%PDF-1.7 " + bytes(range(256)) * 40,
        maintype="application",
        subtype="pdf",
        filename="INV-2026-0001.pdf",
    )
    return message


@pytest.fixture
def smtp_server() -> Iterator[FakeSmtpServer]:
    with FakeSmtpServer() as server:
        yield server


@pytest.fixture
def auth_server() -> Iterator[FakeSmtpServer]:
    with FakeSmtpServer(users={LOGIN: PASSWORD}, require_auth=True) as server:
        yield server


def parsed(data: bytes) -> EmailMessage:
    message = message_from_bytes(data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


# -- delivery ------------------------------------------------------------------------------


def test_plain_smtp_delivers_the_message_with_its_message_id_and_envelope_from_headers(
    smtp_server: FakeSmtpServer,
) -> None:
    mailer = SmtpMailer(smtp_server.url())

    receipt = mailer.send(invoice_email(cc="owner@client.test"))

    assert receipt == SendReceipt(
        message_id=MESSAGE_ID, accepted=("ap@client.test", "owner@client.test"), refused={}
    )
    [received] = smtp_server.messages
    assert received.mail_from == "billing@acme.test"
    assert received.rcpt_tos == ("ap@client.test", "owner@client.test")
    assert received.tls is False
    delivered = parsed(received.data)
    assert delivered["Message-ID"] == MESSAGE_ID
    assert delivered["Subject"] == "Invoice INV-2026-0001"
    [attachment] = delivered.iter_attachments()
    assert attachment.get_content() == b"%PDF-1.7 " + bytes(range(256)) * 40


def test_bcc_recipient_is_in_the_envelope_but_not_in_the_delivered_bytes(
    smtp_server: FakeSmtpServer,
) -> None:
    message = invoice_email(bcc="Audit <audit@acme.test>")

    receipt = SmtpMailer(smtp_server.url()).send(message)

    assert receipt.accepted == ("ap@client.test", "audit@acme.test")
    [received] = smtp_server.messages
    assert received.rcpt_tos == ("ap@client.test", "audit@acme.test")
    assert b"audit@acme.test" not in received.data
    assert b"Bcc" not in received.data
    assert message["Bcc"] == "Audit <audit@acme.test>"


def test_from_parameter_sets_the_envelope_sender_and_keeps_the_from_header(
    smtp_server: FakeSmtpServer,
) -> None:
    url = smtp_server.url(query="timeout=5&from=bounces%40acme.test")

    SmtpMailer(url).send(invoice_email())

    [received] = smtp_server.messages
    assert received.mail_from == "bounces@acme.test"
    assert parsed(received.data)["From"] == "Acme Billing <billing@acme.test>"


def test_login_with_the_right_credentials_delivers_as_that_user(
    auth_server: FakeSmtpServer,
) -> None:
    url = auth_server.url(username=LOGIN, password=PASSWORD)

    receipt = SmtpMailer(url).send(invoice_email())

    assert receipt.accepted == ("ap@client.test",)
    assert [m.authenticated_as for m in auth_server.messages] == [LOGIN]


def test_wrong_password_is_permanent_auth_failure_and_nothing_is_sent(
    auth_server: FakeSmtpServer,
) -> None:
    url = auth_server.url(username=LOGIN, password="wrong")

    with pytest.raises(AuthenticationFailed) as caught:
        SmtpMailer(url).send(invoice_email())

    assert isinstance(caught.value, PermanentError)
    assert caught.value.code == "auth_failed"
    assert caught.value.vendor_code == "535"
    assert "wrong" not in str(caught.value)
    assert auth_server.failed_logins == [LOGIN, LOGIN]  # smtplib tries AUTH PLAIN, then LOGIN
    assert auth_server.messages == []


def test_server_requiring_auth_refuses_an_anonymous_sender_permanently(
    auth_server: FakeSmtpServer,
) -> None:
    with pytest.raises(DeliveryRejected) as caught:
        SmtpMailer(auth_server.url()).send(invoice_email())

    assert caught.value.smtp_code == 530
    assert auth_server.messages == []


# -- transient failures --------------------------------------------------------------------


def test_421_at_data_is_transient_and_the_retry_delivers_once(
    smtp_server: FakeSmtpServer,
) -> None:
    smtp_server.reply("DATA", "421 4.3.2 Service shutting down", times=1)
    mailer = SmtpMailer(smtp_server.url())

    with pytest.raises(DeliveryDeferred) as caught:
        mailer.send(invoice_email())
    receipt = mailer.send(invoice_email())

    assert isinstance(caught.value, TransientError)
    assert caught.value.smtp_code == 421
    assert caught.value.smtp_response == "4.3.2 Service shutting down"
    assert caught.value.maybe_delivered is False
    assert receipt.accepted == ("ap@client.test",)
    assert len(smtp_server.messages) == 1


def test_450_for_the_only_recipient_is_transient_and_names_the_recipient(
    smtp_server: FakeSmtpServer,
) -> None:
    smtp_server.reply("RCPT", "450 4.2.1 Mailbox busy", recipient="ap@client.test", times=2)
    mailer = SmtpMailer(smtp_server.url())

    for _ in range(2):
        with pytest.raises(DeliveryDeferred) as caught:
            mailer.send(invoice_email())
        assert caught.value.smtp_code == 450
        assert caught.value.recipients == {"ap@client.test": (450, "4.2.1 Mailbox busy")}
    mailer.send(invoice_email())

    assert [a.reply for a in smtp_server.attempts if a.stage == "RCPT"] == [
        "450 4.2.1 Mailbox busy",
        "450 4.2.1 Mailbox busy",
        "250 OK",
    ]
    assert len(smtp_server.messages) == 1


def test_connection_refused_is_transient_and_nothing_was_delivered() -> None:
    mailer = SmtpMailer(f"smtp://127.0.0.1:{free_port()}?timeout=2")

    with pytest.raises(ConnectorUnavailable) as caught:
        mailer.send(invoice_email())

    assert isinstance(caught.value, TransientError)
    assert caught.value.maybe_delivered is False


def test_a_server_that_never_greets_times_out_as_transient() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        mailer = SmtpMailer(f"smtp://127.0.0.1:{port}?timeout=0.3")

        with pytest.raises(ConnectorTimeout) as caught:
            mailer.send(invoice_email())

    assert isinstance(caught.value, TransientError)
    assert caught.value.code == "timeout"


def test_a_timeout_after_the_message_data_was_sent_says_it_may_have_been_delivered(
    smtp_server: FakeSmtpServer,
) -> None:
    smtp_server.reply("DATA", "250 OK queued late", times=1, delay=1.0)
    mailer = SmtpMailer(smtp_server.url(query="timeout=0.3"))

    with pytest.raises(ConnectorTimeout) as caught:
        mailer.send(invoice_email())

    assert caught.value.maybe_delivered is True
    assert len(smtp_server.messages) == 1


def test_a_timeout_before_data_says_nothing_was_delivered(smtp_server: FakeSmtpServer) -> None:
    smtp_server.reply("RCPT", "250 OK", times=1, delay=1.0)
    mailer = SmtpMailer(smtp_server.url(query="timeout=0.3"))

    with pytest.raises(ConnectorTimeout) as caught:
        mailer.send(invoice_email())

    assert caught.value.maybe_delivered is False
    assert smtp_server.messages == []


# -- permanent failures --------------------------------------------------------------------


def test_550_user_unknown_is_permanent_with_the_code_and_the_refused_recipient(
    smtp_server: FakeSmtpServer,
) -> None:
    smtp_server.reply("RCPT", "550 5.1.1 User unknown", recipient="gone@client.test")

    with pytest.raises(DeliveryRejected) as caught:
        SmtpMailer(smtp_server.url()).send(invoice_email(to="gone@client.test"))

    assert isinstance(caught.value, PermanentError)
    assert caught.value.code == "delivery_rejected"
    assert caught.value.smtp_code == 550
    assert caught.value.vendor_code == "550"
    assert caught.value.refused == {"gone@client.test": (550, "5.1.1 User unknown")}
    assert smtp_server.messages == []


def test_550_for_one_of_two_recipients_delivers_to_the_other_and_reports_the_refusal(
    smtp_server: FakeSmtpServer,
) -> None:
    smtp_server.reply("RCPT", "550 5.1.1 User unknown", recipient="gone@client.test")

    receipt = SmtpMailer(smtp_server.url()).send(invoice_email(cc="gone@client.test"))

    assert receipt == SendReceipt(
        message_id=MESSAGE_ID,
        accepted=("ap@client.test",),
        refused={"gone@client.test": (550, "5.1.1 User unknown")},
    )
    assert [m.rcpt_tos for m in smtp_server.messages] == [("ap@client.test",)]


def test_mixed_refusals_of_every_recipient_are_retried_when_one_was_temporary(
    smtp_server: FakeSmtpServer,
) -> None:
    smtp_server.reply("RCPT", "550 5.1.1 User unknown", recipient="gone@client.test")
    smtp_server.reply("RCPT", "452 4.2.2 Mailbox full", recipient="ap@client.test")

    with pytest.raises(DeliveryDeferred) as caught:
        SmtpMailer(smtp_server.url()).send(invoice_email(cc="gone@client.test"))

    assert caught.value.smtp_code == 452
    assert caught.value.recipients == {
        "ap@client.test": (452, "4.2.2 Mailbox full"),
        "gone@client.test": (550, "5.1.1 User unknown"),
    }


def test_554_at_data_is_permanent(smtp_server: FakeSmtpServer) -> None:
    smtp_server.reply("DATA", "554 5.7.1 Message rejected as spam")

    with pytest.raises(DeliveryRejected) as caught:
        SmtpMailer(smtp_server.url()).send(invoice_email())

    assert caught.value.smtp_code == 554
    assert caught.value.smtp_response == "5.7.1 Message rejected as spam"
    assert caught.value.refused == {}


def test_a_message_without_message_id_is_refused_before_connecting(
    smtp_server: FakeSmtpServer,
) -> None:
    message = invoice_email()
    del message["Message-ID"]

    with pytest.raises(InvalidMessage):
        SmtpMailer(smtp_server.url()).send(message)

    assert smtp_server.attempts == []


def test_starttls_against_a_server_that_does_not_offer_it_is_a_configuration_error(
    smtp_server: FakeSmtpServer,
) -> None:
    with pytest.raises(InvalidConfiguration):
        SmtpMailer(smtp_server.url("smtp+starttls")).send(invoice_email())

    assert smtp_server.messages == []


# -- TLS (needs the cryptography package to make a certificate) ----------------------------


def test_starttls_upgrades_before_login_and_delivers(tmp_path: Path) -> None:
    pytest.importorskip("cryptography")
    server_ctx, client_ctx = self_signed_tls(tmp_path)
    server = FakeSmtpServer(users={LOGIN: PASSWORD}, starttls_context=server_ctx)

    with server:
        url = server.url("smtp+starttls", username=LOGIN, password=PASSWORD)
        SmtpMailer(url, ssl_context=client_ctx).send(invoice_email())

    assert [(m.tls, m.authenticated_as) for m in server.messages] == [(True, LOGIN)]


def test_implicit_tls_delivers(tmp_path: Path) -> None:
    pytest.importorskip("cryptography")
    server_ctx, client_ctx = self_signed_tls(tmp_path)
    server = FakeSmtpServer(implicit_tls_context=server_ctx)

    with server:
        SmtpMailer(server.url("smtps"), ssl_context=client_ctx).send(invoice_email())

    assert [m.tls for m in server.messages] == [True]


def test_an_untrusted_certificate_is_a_configuration_error_not_a_retry(tmp_path: Path) -> None:
    pytest.importorskip("cryptography")
    server_ctx, _ = self_signed_tls(tmp_path)
    server = FakeSmtpServer(implicit_tls_context=server_ctx)

    with server, pytest.raises(InvalidConfiguration):
        SmtpMailer(server.url("smtps")).send(invoice_email())

    assert server.messages == []


# -- URL parsing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "security", "port"),
    [
        ("smtp://mail.acme.test", "plain", 25),
        ("smtp+starttls://mail.acme.test", "starttls", 587),
        ("smtps://mail.acme.test", "tls", 465),
        ("SMTPS://mail.acme.test:2465", "tls", 2465),
    ],
)
def test_scheme_chooses_security_and_default_port(url: str, security: str, port: int) -> None:
    settings = parse_smtp_url(url)

    assert (settings.security, settings.host, settings.port) == (security, "mail.acme.test", port)


def test_credentials_are_percent_decoded_and_options_read_from_the_query() -> None:
    settings = parse_smtp_url(
        "smtp+starttls://billing%40acme.test:p%40ss%3Aw%2Frd%251@mail.acme.test:587"
        "?timeout=10&from=bounces%40acme.test&helo=worker1.acme.test"
    )

    assert settings == SmtpSettings(
        security="starttls",
        host="mail.acme.test",
        port=587,
        username="billing@acme.test",
        password="p@ss:w/rd%1",
        timeout=10.0,
        from_address="bounces@acme.test",
        helo="worker1.acme.test",
    )


def test_repr_and_redacted_url_never_show_the_password() -> None:
    mailer = SmtpMailer("smtps://billing:hunter2@mail.acme.test")

    assert "hunter2" not in repr(mailer.settings)
    assert "hunter2" not in repr(mailer)
    assert mailer.settings.redacted_url == "smtps://billing:***@mail.acme.test:465"


@pytest.mark.parametrize(
    "url",
    [
        "http://mail.acme.test",
        "smtp://",
        "smtp://mail.acme.test:notaport",
        "smtp://mail.acme.test/inbox",
        "smtp://mail.acme.test?timout=5",
        "smtp://mail.acme.test?timeout=soon",
        "smtp://mail.acme.test?timeout=0",
    ],
)
def test_malformed_urls_are_configuration_errors(url: str) -> None:
    with pytest.raises(InvalidConfiguration):
        parse_smtp_url(url)


def test_configuration_errors_do_not_echo_the_password() -> None:
    with pytest.raises(InvalidConfiguration) as caught:
        parse_smtp_url("smtpx://billing:hunter2@mail.acme.test")

    assert "hunter2" not in str(caught.value)
