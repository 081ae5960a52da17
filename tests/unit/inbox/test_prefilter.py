"""Machine mail is recognised before any model: bounces, receipts, auto-replies, lists."""

from __future__ import annotations

import datetime as dt

import pytest

from billing.mail import BounceInfo, MachineKind
from inbox.parse import parse_message
from inbox.prefilter import MachineEvidence, classify_machine_mail, extract_return_date

OUR_ID = "INV-2026-0117.reminder-1.3f9a2c@northwind-digital.example"


def mail(headers: str, body: str) -> bytes:
    return (headers.strip("\n") + "\n\n" + body).replace("\n", "\r\n").encode("utf-8")


RETURNED = f"""From: Northwind Digital Billing <billing@northwind-digital.example>
To: Jane Doe <ap@acme-widgets.example>
Subject: Payment reminder: invoice INV-2026-0117
Message-ID: <{OUR_ID}>

Dear Jane,
"""


def dsn(action: str, status: str, diagnostic: str, *, returned: str = RETURNED) -> bytes:
    return mail(
        """
From: Mail Delivery System <MAILER-DAEMON@mail.northwind-digital.example>
To: billing@northwind-digital.example
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
Message-ID: <bounce1@mail.northwind-digital.example>
Content-Type: multipart/report; report-type=delivery-status; boundary="r"
""",
        f"""--r
Content-Type: text/plain

This is the mail system at host mail.northwind-digital.example.

<ap@acme-widgets.example>: host mx.acme-widgets.example said: {diagnostic}

--r
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.northwind-digital.example

Final-Recipient: rfc822; ap@acme-widgets.example
Original-Recipient: rfc822;ap@acme-widgets.example
Action: {action}
Status: {status}
Diagnostic-Code: smtp; {diagnostic}

--r
Content-Type: message/rfc822

{returned}
--r--
""",
    )


def test_dsn_failure_of_our_reminder_is_a_permanent_bounce_tied_to_our_message() -> None:
    msg = parse_message(dsn("failed", "5.1.1", "550 5.1.1 <ap@acme-widgets.example>: unknown"))

    assert msg.machine is MachineKind.bounce
    assert msg.machine_reason == "RFC 3464 delivery-status report: delivery failure"
    assert msg.bounce == BounceInfo(
        recipients=("ap@acme-widgets.example",),
        status="5.1.1",
        diagnostic="550 5.1.1 <ap@acme-widgets.example>: unknown",
        original_message_id=OUR_ID,
        permanent=True,
        action="failed",
    )
    assert msg.is_delivery_failure


def test_bounce_that_also_says_auto_submitted_is_still_a_bounce_not_an_auto_reply() -> None:
    msg = parse_message(dsn("failed", "5.2.2", "552 5.2.2 Mailbox full"))

    assert msg.machine is MachineKind.bounce
    assert msg.auto_reply_until is None


def test_delay_warning_is_machine_mail_but_not_a_delivery_failure() -> None:
    msg = parse_message(dsn("delayed", "4.4.7", "451 4.4.7 timeout"))

    assert msg.machine is MachineKind.bounce
    assert msg.bounce is not None
    assert (msg.bounce.action, msg.bounce.permanent) == ("delayed", False)
    assert not msg.is_delivery_failure


def test_transient_failure_after_retries_is_a_failure_that_is_not_permanent() -> None:
    msg = parse_message(dsn("failed", "4.4.7", "retry timeout exceeded"))

    assert msg.bounce is not None
    assert (msg.bounce.action, msg.bounce.permanent) == ("failed", False)
    assert msg.is_delivery_failure


def test_original_message_id_comes_from_returned_headers_part() -> None:
    raw = dsn("failed", "5.1.1", "550 unknown").replace(
        b"Content-Type: message/rfc822", b"Content-Type: text/rfc822-headers"
    )

    assert parse_message(raw).bounce.original_message_id == OUR_ID  # type: ignore[union-attr]


def test_original_message_id_falls_back_to_in_reply_to() -> None:
    raw = mail(
        f"""
From: MAILER-DAEMON@mx.example.org
Subject: Mail delivery failed: returning message to sender
In-Reply-To: <{OUR_ID}>
""",
        "A message that you sent could not be delivered to one or more of its\n"
        "recipients. This is a permanent error. The following address(es) failed:\n\n"
        "  ap@acme-widgets.example\n    550 5.1.1 User unknown\n",
    )

    msg = parse_message(raw)

    assert msg.bounce == BounceInfo(
        recipients=("ap@acme-widgets.example",),
        status="5.1.1",
        diagnostic="550 5.1.1 User unknown",
        original_message_id=OUR_ID,
        permanent=True,
        action="failed",
    )


def test_exim_bounce_with_inline_copy_and_failed_recipients_header() -> None:
    raw = mail(
        """
From: Mail Delivery System <Mailer-Daemon@mx.example.org>
To: billing@northwind-digital.example
Subject: Mail delivery failed: returning message to sender
X-Failed-Recipients: owen@lumenbakery.example
Auto-Submitted: auto-replied
""",
        "This message was created automatically by mail delivery software.\n\n"
        "A message that you sent could not be delivered to one or more of its\n"
        "recipients. This is a permanent error. The following address(es) failed:\n\n"
        "  owen@lumenbakery.example\n"
        "    SMTP error from remote mail server after RCPT TO:<owen@lumenbakery.example>:\n"
        "    550 Recipient Rejected: No account by that name here\n\n"
        "------ This is a copy of the message, including all the headers. ------\n\n"
        f"Message-Id: <{OUR_ID}>\nFrom: billing@northwind-digital.example\n"
        "Subject: Payment reminder\n\nDear Owen,\n",
    )

    msg = parse_message(raw)

    assert msg.machine is MachineKind.bounce
    assert msg.machine_reason == (
        "non-standard bounce (X-Failed-Recipients header): delivery failure"
    )
    assert msg.bounce == BounceInfo(
        recipients=("owen@lumenbakery.example",),
        status="550",
        diagnostic="550 Recipient Rejected: No account by that name here",
        original_message_id=OUR_ID,
        permanent=True,
        action="failed",
    )


def test_qmail_bounce_from_mailer_daemon_is_recognised() -> None:
    raw = mail(
        "From: MAILER-DAEMON@mail1.example.net\nSubject: failure notice",
        "Hi. This is the qmail-send program at mail1.example.net.\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
        "<dana@harbor-analytics.example>:\nSorry, no mailbox here by that name. (#5.1.1)\n",
    )

    msg = parse_message(raw)

    assert msg.machine is MachineKind.bounce
    assert msg.bounce is not None
    assert msg.bounce.recipients == ("dana@harbor-analytics.example",)
    assert msg.bounce.status == "5.1.1"


def test_arf_abuse_report_is_a_complaint_not_a_delivery_failure() -> None:
    raw = mail(
        """
From: feedback@arf.mail.example.com
Subject: Email Feedback Report
Content-Type: multipart/report; report-type=feedback-report; boundary="f"
""",
        f"""--f
Content-Type: text/plain

This is an email abuse report.
--f
Content-Type: message/feedback-report

Feedback-Type: abuse
Original-Rcpt-To: <ap@acme-widgets.example>
--f
Content-Type: message/rfc822

{RETURNED}
--f--
""",
    )

    msg = parse_message(raw)

    assert msg.machine is MachineKind.bounce
    assert msg.bounce == BounceInfo(
        recipients=("ap@acme-widgets.example",),
        status=None,
        diagnostic="feedback-type: abuse",
        original_message_id=OUR_ID,
        permanent=False,
        action="complaint",
    )
    assert not msg.is_delivery_failure


def test_read_receipt_is_recognised_by_its_disposition_notification() -> None:
    raw = mail(
        """
From: Jane Doe <ap@acme-widgets.example>
Subject: Read: Payment reminder
Content-Type: multipart/report; report-type=disposition-notification; boundary="m"
""",
        """--m
Content-Type: text/plain

Your message was read on 12 Nov 2026.
--m
Content-Type: message/disposition-notification

Final-Recipient: rfc822; ap@acme-widgets.example
Disposition: manual-action/MDN-sent-manually; displayed
--m--
""",
    )

    msg = parse_message(raw)

    assert msg.machine is MachineKind.read_receipt
    assert msg.machine_reason == (
        "RFC 8098 message disposition notification (manual-action/MDN-sent-manually; displayed)"
    )


OOO_HEADERS = """
From: Sabine Krüger <buchhaltung@brandt-maschinenbau.example>
Subject: Automatische Antwort: 2. Zahlungserinnerung
Date: Tue, 10 Nov 2026 09:00:41 +0100
Auto-Submitted: auto-replied
X-Auto-Response-Suppress: All
"""


def test_out_of_office_is_an_auto_reply_with_its_return_date() -> None:
    raw = mail(
        OOO_HEADERS,
        "Ich bin bis einschließlich Freitag, 13.11.2026, nicht im Büro.\n",
    )

    msg = parse_message(raw)

    assert msg.machine is MachineKind.auto_reply
    assert msg.auto_reply_until == dt.date(2026, 11, 13)
    assert msg.machine_reason == (
        "auto-reply (Auto-Submitted: auto-replied); away until 2026-11-13"
    )


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Automatic reply: Invoice", "I am away."),
        ("Out of Office: Invoice", "Away."),
        ("Abwesenheitsnotiz: Rechnung", "Nicht im Büro."),
        ("Automatisch antwoord: factuur", "Afwezig."),
        ("Réponse automatique : facture", "Absente."),
        ("Respuesta automática: factura", "Fuera de la oficina."),
        ("[Automatyczna odpowiedź] test", "..."),
        ("AUTO: Smith, John is out of the office (returning 05/01/2010)", "..."),
    ],
)
def test_auto_reply_subjects_are_recognised_without_headers(subject: str, body: str) -> None:
    msg = parse_message(mail(f"From: someone@example.org\nSubject: {subject}", body))

    assert msg.machine is MachineKind.auto_reply


def test_a_person_replying_to_an_auto_reply_is_not_machine_mail() -> None:
    raw = mail(
        "From: Jane Doe <ap@acme-widgets.example>\nSubject: RE: Automatic reply: Invoice\n"
        "In-Reply-To: <ooo@acme-widgets.example>",
        "Sorry about that, I'm back now. We will pay on Friday.",
    )

    msg = parse_message(raw)

    assert msg.machine is MachineKind.none


def test_a_person_forwarding_a_bounce_is_not_a_bounce() -> None:
    raw = mail(
        "From: Jane Doe <ap@acme-widgets.example>\nSubject: FW: Undeliverable: Invoice",
        "Your invoice email could not be delivered to our old mailbox, please use this one.",
    )

    assert parse_message(raw).machine is MachineKind.none


@pytest.mark.parametrize(
    "sender",
    ["mail@lumenbakery.example", "finance-admin@acme-widgets.example", "root@acme.example"],
)
def test_a_person_with_a_technical_looking_address_is_not_a_bounce(sender: str) -> None:
    raw = mail(
        f"From: {sender}\nSubject: Invoice 0115",
        "Your invoice was rejected by our system because the goods have not yet been "
        "delivered. We will retry the payment once they are here.",
    )

    assert parse_message(raw).machine is MachineKind.none


def test_auto_response_suppress_alone_does_not_make_a_person_an_auto_reply() -> None:
    raw = mail(
        "From: Jane Doe <ap@acme-widgets.example>\nSubject: Invoice question\n"
        "X-Auto-Response-Suppress: All",
        "Could you resend invoice 117?",
    )

    assert parse_message(raw).machine is MachineKind.none


def test_auto_generated_remittance_advice_is_left_to_the_classifier() -> None:
    raw = mail(
        "From: ap-system@harbor-analytics.example\nSubject: Remittance advice 0004471829\n"
        "Auto-Submitted: auto-generated",
        "Payment amount: USD 17,964.00 for INV-2026-0098.",
    )

    msg = parse_message(raw)

    assert msg.machine is MachineKind.none
    assert msg.machine_reason == (
        "Auto-Submitted: auto-generated without an auto-reply text; left to the classifier "
        "(e.g. an AP system's remittance advice)"
    )


def test_auto_generated_acknowledgement_with_ticket_text_is_an_auto_reply() -> None:
    raw = mail(
        "From: ap@harbor-analytics.example\nSubject: [AP-48213] Invoice INV-2026-0119\n"
        "Auto-Submitted: auto-generated",
        "Your message has been received and a ticket has been created.",
    )

    assert parse_message(raw).machine is MachineKind.auto_reply


def test_newsletter_with_list_id_is_mailing_list_mail() -> None:
    raw = mail(
        "From: news@vendor.example\nSubject: November news\nList-Id: <news.vendor.example>\n"
        "List-Unsubscribe: <mailto:unsub@vendor.example>\nPrecedence: bulk",
        "Our news.",
    )

    msg = parse_message(raw)

    assert msg.machine is MachineKind.mailing_list
    assert msg.machine_reason == "list or bulk mail (List-Id: <news.vendor.example>)"


def test_a_reply_through_a_group_mailbox_with_list_headers_is_a_person() -> None:
    raw = mail(
        "From: ap@harbor-analytics.example\nSubject: Re: Invoice\nList-Id: <ap.harbor>\n"
        f"In-Reply-To: <{OUR_ID}>",
        "Paid today.",
    )

    assert parse_message(raw).machine is MachineKind.none


def test_a_person_writing_about_undelivered_mail_is_not_a_bounce() -> None:
    raw = mail(
        "From: Jane Doe <ap@acme-widgets.example>\nSubject: Undeliverable invoice?",
        "Your last email could not be delivered to Mark, his mailbox is full.",
    )

    assert parse_message(raw).machine is MachineKind.none


def test_amazon_ses_bounce_notification_is_read_from_its_json() -> None:
    body = (
        '{"notificationType":"Bounce","bounce":{"bounceType":"Permanent",'
        '"bouncedRecipients":[{"emailAddress":"ap@acme-widgets.example","status":"5.1.1",'
        '"diagnosticCode":"smtp; 550 5.1.1 user unknown"}]},"mail":{"headers":'
        f'[{{"name":"Message-ID","value":"<{OUR_ID}>"}}]}}}}'
    )
    evidence = MachineEvidence(
        headers={},
        subject="AWS Notification Message",
        from_addr="no-reply@sns.amazonaws.com",
        text=body,
    )

    verdict = classify_machine_mail(evidence)

    assert verdict.kind is MachineKind.bounce
    assert verdict.bounce == BounceInfo(
        recipients=("ap@acme-widgets.example",),
        status="5.1.1",
        diagnostic="smtp; 550 5.1.1 user unknown",
        original_message_id=OUR_ID,
        permanent=True,
        action="failed",
    )


SENT = dt.datetime(2026, 11, 10, 9, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I am out of the office until 13 November 2026.", dt.date(2026, 11, 13)),
        ("I'm away, back on Monday 16th November.", dt.date(2026, 11, 16)),
        ("Away until Nov 20", dt.date(2026, 11, 20)),
        ("I will be returning on 2026-11-18.", dt.date(2026, 11, 18)),
        ("Ich bin bis einschließlich Freitag, 13.11.2026, nicht im Büro.", dt.date(2026, 11, 13)),
        ("Ab dem 16.11. bin ich wieder im Büro.", dt.date(2026, 11, 16)),
        ("Ich bin vom 2. bis 20. November im Urlaub.", dt.date(2026, 11, 20)),
        ("Ik ben afwezig tot en met 17 november.", dt.date(2026, 11, 17)),
        ("Ik ben weer aanwezig op maandag 23 november 2026.", dt.date(2026, 11, 23)),
        ("Je suis absente jusqu'au 19 novembre 2026.", dt.date(2026, 11, 19)),
        ("De retour le 24/11/2026.", dt.date(2026, 11, 24)),
        ("Estaré fuera de la oficina hasta el 25 de noviembre.", dt.date(2026, 11, 25)),
        ("Back in January: until 04/01/2027", dt.date(2027, 1, 4)),
        ("Out of office until Friday.", dt.date(2026, 11, 13)),
        ("I am out of the office with limited access to email.", None),
        ("Your invoice of 01.10.2026 was received.", None),
    ],
)
def test_return_date_of_an_out_of_office(text: str, expected: dt.date | None) -> None:
    assert extract_return_date(text, SENT) == expected


def test_ambiguous_day_month_order_resolves_to_the_nearest_date_after_sending() -> None:
    sent = dt.datetime(2010, 1, 4, 16, 2, tzinfo=dt.UTC)

    assert extract_return_date("I am out of the office until 05/01/2010.", sent) == dt.date(
        2010, 1, 5
    )
