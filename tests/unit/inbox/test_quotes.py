"""split_reply: the newest reply without quoted history, forwards and signatures."""

from __future__ import annotations

import pytest

from inbox.quotes import split_reply

REPLY = "We will pay INV-2026-0117 on Thursday."


@pytest.mark.parametrize(
    "history",
    [
        pytest.param(
            "On Wed, Nov 11, 2026 at 9:00 AM Northwind Digital Billing "
            "<billing@northwind-digital.example> wrote:\n> Dear Jane,\n> Invoice overdue.",
            id="gmail",
        ),
        pytest.param(
            "On Wed, Nov 11, 2026 at 9:00 AM Northwind Digital Billing <\n"
            "billing@northwind-digital.example> wrote:\n\n> Invoice overdue.",
            id="gmail-wrapped",
        ),
        pytest.param(
            "-----Original Message-----\nFrom: Northwind Digital Billing\n"
            "Sent: Wednesday, November 11, 2026 9:00 AM\nSubject: Invoice overdue\n\nDear Jane,",
            id="outlook-separator",
        ),
        pytest.param(
            "________________________________\nFrom: Northwind Digital Billing "
            "<billing@northwind-digital.example>\nSent: 11 November 2026 09:00\n"
            "To: Jane Doe <ap@acme-widgets.example>\nSubject: Invoice overdue\n\nDear Jane,",
            id="outlook-header-block",
        ),
        pytest.param(
            "Am 11.11.2026 um 09:00 schrieb Northwind Digital Billing "
            "<billing@northwind-digital.example>:\n> Sehr geehrte Frau Krüger,",
            id="german-attribution",
        ),
        pytest.param(
            "Von: Northwind Digital Billing <billing@northwind-digital.example>\n"
            "Gesendet: Mittwoch, 11. November 2026 09:00\nAn: Buchhaltung\n"
            "Betreff: Zahlungserinnerung\n\nSehr geehrte Frau Krüger,",
            id="german-outlook",
        ),
        pytest.param(
            "Op wo 11 nov. 2026 om 09:00 schreef Northwind Digital Billing "
            "<billing@northwind-digital.example>:\n> Beste mevrouw De Jong,",
            id="dutch-attribution",
        ),
        pytest.param(
            "Van: Northwind Digital Billing <billing@northwind-digital.example>\n"
            "Verzonden: woensdag 11 november 2026 10:00\nAan: Crediteuren\n"
            "Onderwerp: Tweede herinnering\n\nBeste mevrouw De Jong,",
            id="dutch-outlook",
        ),
        pytest.param(
            "Le mer. 11 nov. 2026 à 09:00, Northwind Digital Billing "
            "<billing@northwind-digital.example> a écrit :\n> Madame,",
            id="french-attribution",
        ),
        pytest.param(
            "El mié, 11 nov 2026 a las 9:00, Northwind Digital Billing "
            "(<billing@northwind-digital.example>) escribió:\n> Estimada señora,",
            id="spanish-attribution",
        ),
        pytest.param(
            "---------- Forwarded message ---------\nFrom: Vendor Compliance "
            "<vc@harbor-analytics.example>\nDate: Wed, Nov 4, 2026 at 4:12 PM\n\nHi AP team,",
            id="gmail-forward",
        ),
        pytest.param("> Dear Jane,\n> Invoice INV-2026-0117 is overdue.", id="plain-quote"),
    ],
)
def test_top_posted_reply_is_separated_from_each_history_format(history: str) -> None:
    parts = split_reply(f"{REPLY}\n\n{history}")

    assert parts.new_text == REPLY
    assert parts.quoted.splitlines()[0] == history.splitlines()[0]


def test_bottom_posted_reply_keeps_the_text_after_the_quote() -> None:
    text = "On 04/02/2012 06:26 PM, Megan One wrote:\n> Hi\n> there\nHello back"

    parts = split_reply(text)

    assert parts.new_text == "Hello back"
    assert parts.quoted == "On 04/02/2012 06:26 PM, Megan One wrote:\n> Hi\n> there"


def test_interleaved_answers_keep_the_unquoted_lines() -> None:
    text = "> Can you pay by Friday?\nYes.\n> And send the PO?\nAttached."

    assert split_reply(text).new_text == "Yes.\nAttached."


def test_a_sentence_mentioning_wrote_is_not_an_attribution() -> None:
    text = "On Monday I wrote to you about invoice 117:\nit is still open.\nPlease check."

    assert split_reply(text).new_text == text


def test_pure_forward_without_a_note_has_no_new_text() -> None:
    text = "---------- Forwarded message ---------\nFrom: a@example.org\n\nPayment sent."

    assert split_reply(text).new_text == ""


@pytest.mark.parametrize(
    "signature",
    [
        "-- \nJane Doe\nAccounts Payable",
        "Sent from my iPhone",
        "Von meinem iPhone gesendet",
        "Verzonden vanaf mijn iPhone",
        "Envoyé de mon iPhone",
        "Enviado desde mi iPhone",
        "Get Outlook for iOS",
        "Kind regards,\nJane Doe\nAccounts Payable | Acme Widgets Ltd\nT: 0113 496 0123",
        "Mit freundlichen Grüßen / Best regards\n\nSabine Krüger\nBuchhaltung",
        "Met vriendelijke groet,\n\nFemke de Jong\nCrediteurenadministratie",
        "Cordialement,\nMarie Dupont",
        "Saludos cordiales,\nLucía García",
        "Thanks,\nJane\n\nJane Doe\nAccounts Payable\n\nCONFIDENTIALITY NOTICE: This e-mail "
        "message, including any attachments, is for the sole use of the intended recipient.",
    ],
)
def test_signature_is_removed_from_the_new_text(signature: str) -> None:
    parts = split_reply(f"{REPLY}\n\n{signature}")

    assert parts.new_text == REPLY
    assert parts.signature == signature.strip()


def test_thanks_followed_by_a_sentence_is_content_not_a_signature() -> None:
    text = "Hi,\n\nThanks.\n\nWe will pay on Friday, once the PO is approved."

    assert split_reply(text).new_text == text


def test_the_senders_own_name_above_contact_lines_starts_the_signature() -> None:
    text = f"{REPLY}\n\nGina Rossi\ngina@example.com\n(555) 346-9947\nwww.example.com"

    parts = split_reply(text, sender_name="Gina Rossi")

    assert parts.new_text == REPLY
    assert parts.signature == "Gina Rossi\ngina@example.com\n(555) 346-9947\nwww.example.com"


def test_signature_inside_a_delimited_block_is_cut_at_the_closing_line() -> None:
    text = f"{REPLY}\n\nGroeten,\nPieter\n\n--\nPieter Vos | Managing Partner"

    assert split_reply(text).new_text == REPLY


def test_message_that_is_only_a_signature_keeps_its_text() -> None:
    assert split_reply("Thanks,\nJane").new_text == "Thanks,\nJane"


def test_empty_text_gives_empty_parts() -> None:
    parts = split_reply("")

    assert (parts.new_text, parts.quoted, parts.signature) == ("", "", "")
