"""Every email template in every language, rendered from the real files under templates/email/."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from bs4 import BeautifulSoup
from jinja2 import DictLoader, Environment

from billing.directory import Client, Company, Contact, ContactRole, Owner
from billing.invoice import BankDetails, LineInput, Party, build_document
from billing.records import InvoiceRecord
from billing.status import InvoiceStatus
from billing.tax import TaxCategory
from render.emails import (
    CLIENT_TEMPLATES,
    EMAIL_LANGUAGES,
    EMAIL_TEMPLATES,
    INTERNAL_TEMPLATES,
    SUBJECT_MAX,
    EmailContextMissing,
    UnknownEmailTemplate,
    _resolve,
    compose_email,
    reply_subject,
    template_files,
)
from render.environment import TEMPLATES_DIR
from render.errors import RenderError
from tools.messages import base_context

TODAY = date(2026, 12, 17)
DUE = date(2026, 12, 10)
NEW_DUE = date(2026, 12, 24)

# The main invoice: 1,210.40 EUR, 7 days overdue on TODAY, formatted as each locale writes it.
MAIN_AMOUNT = {
    "en": "€1,210.40",
    "de": "1.210,40\xa0€",
    "nl": "€\xa01.210,40",
    "fr": "1\u202f210,40\xa0€",
    "es": "1.210,40\xa0€",
}
MAIN_DUE_DATE = {
    "en": "10 December 2026",
    "de": "10. Dezember 2026",
    "nl": "10 december 2026",
    "fr": "10 décembre 2026",
    "es": "10 de diciembre de 2026",
}
SEVEN_DAYS = {"en": "7 days", "de": "7 Tagen", "nl": "7 dagen", "fr": "7 jours", "es": "7 días"}
# Every amount of the sample context, per locale, to compare the figures of text and HTML.
ALL_AMOUNTS = {
    "en": ["€1,210.40", "€2,500.00", "€1,000.00", "£980.00", "€500.00", "€2,210.40"],
    "de": ["1.210,40\xa0€", "2.500,00\xa0€", "1.000,00\xa0€", "980,00\xa0£", "500,00\xa0€"],
    "nl": ["€\xa01.210,40", "€\xa02.500,00", "€\xa01.000,00", "£\xa0980,00", "€\xa0500,00"],
    "fr": ["1\u202f210,40\xa0€", "2\u202f500,00\xa0€", "1\u202f000,00\xa0€", "980,00\xa0£GB"],
    "es": ["1.210,40\xa0€", "2.500,00\xa0€", "1.000,00\xa0€", "980,00\xa0GBP", "500,00\xa0€"],
}
# Templates that print no money at all.
WITHOUT_FIGURES = {"reply_dispute_ack", "reply_handoff_ack", "delivery_failed_owner"}
# Templates that print the main invoice's (original) due date in the long format.
WITH_LONG_DUE_DATE = {
    "invoice_issue",
    "reminder_before_due",
    "reminder_gentle",
    "reminder_firm",
    "escalation_client",
    "reply_copy",
    "reply_payment_status",
    "reply_promise_ack",
    "reply_due_date_granted",
    "reply_payment_instructions",
    "escalation_owner",
}
ALL_CASES = [(name, lang) for name in EMAIL_TEMPLATES for lang in EMAIL_LANGUAGES]
SCRIPT_NAME = "<script>alert(1)</script>"
IMG_NAME = "<img src=http://evil.example/x>"


def _invoice(number: str, total: str, balance: str, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "number": number,
        "issue_date": date(2026, 11, 26),
        "due_date": DUE,
        "original_due_date": None,
        "currency": "EUR",
        "total": Decimal(total),
        "balance": Decimal(balance),
        "days_overdue": 7,
        "status": "open",
        "payment_reference": f"RF18 {number[-4:]}",
        "payment_pending": False,
    }
    data.update(extra)
    return data


def full_context() -> dict[str, Any]:
    """Every key any template reads, in the shape tools.messages.base_context builds."""
    main = _invoice("INV-2026-0107", "1210.40", "1210.40")
    return {
        "company": {
            "name": "Northwind Studio GmbH",
            "billing_email": "billing@northwind.example",
            "team_name": None,
            "bank": {
                "account_name": "Northwind Studio GmbH",
                "iban": "DE89370400440532013000",
                "bic": "COBADEFFXXX",
                "bank_name": "Commerzbank",
                "account_number": None,
                "sort_code": None,
                "routing_number": None,
            },
        },
        "client": {"id": "cl-kranich", "name": "Kranich Logistik AG", "language": "de"},
        "contact": {"name": "Jana Kranich", "email": "ap@kranich.example"},
        "owner": {"name": "Priya Shah", "email": "priya.shah@northwind.example"},
        "today": TODAY,
        "invoice": main,
        "invoices": [
            main,
            _invoice(
                "INV-2026-0099",
                "2500.00",
                "1000.00",
                due_date=date(2026, 12, 20),
                days_overdue=0,
                status="partially_paid",
            ),
            _invoice("INV-2026-0090", "980.00", "980.00", currency="GBP", payment_pending=True),
        ],
        "invoice_url": "https://invoices.northwind.example/i/3f9a",
        "thread_subject": None,
        "history": [
            "2026-11-26: Invoice sent to ap@kranich.example",
            {"date": date(2026, 12, 11), "summary": "Reminder 'gentle' sent to ap@kranich.example"},
        ],
        "promised_date": NEW_DUE,
        "promised_amount": {"amount": Decimal("1210.40"), "currency": "EUR"},
        "new_due_date": NEW_DUE,
        "failure": {
            "to": ["ap@kranich.example"],
            "error": "550 5.1.1 <ap@kranich.example>: Recipient address rejected",
            "subject": "Invoice INV-2026-0107 from Northwind Studio GmbH",
            "code": "5.1.1",
            "diagnostic": "smtp; 550 5.1.1 user unknown",
            "kind": "bounced",
        },
    }


def _expected_language(name: str, lang: str) -> str:
    return "en" if name in INTERNAL_TEMPLATES else lang


def _visible_text(html: str) -> str:
    return BeautifulSoup(html, "html.parser").get_text(" ")


@pytest.mark.parametrize(("name", "lang"), ALL_CASES)
def test_every_template_renders_in_every_language_without_leftovers(name: str, lang: str) -> None:
    email = compose_email(name, lang, full_context())

    assert email.language_used == _expected_language(name, lang)
    assert email.fell_back is False
    assert 0 < len(email.subject) < 120
    assert "\n" not in email.subject
    for part in (email.subject, email.text, email.html):
        assert "{{" not in part
        assert "{%" not in part
        assert "}}" not in part
        assert "None" not in part
        assert "Undefined" not in part
    assert email.text.endswith("\n")
    assert "\n\n\n" not in email.text
    assert f'<html lang="{email.language_used}">' in email.html
    title = BeautifulSoup(email.html, "html.parser").title
    assert title is not None
    assert title.get_text() == email.subject


@pytest.mark.parametrize(
    ("name", "lang"), [(n, lang) for n, lang in ALL_CASES if n not in WITHOUT_FIGURES]
)
def test_the_main_amount_appears_in_text_and_html_formatted_for_the_locale(
    name: str, lang: str
) -> None:
    email = compose_email(name, lang, full_context())
    expected = MAIN_AMOUNT[_expected_language(name, lang)]

    assert expected in email.text
    assert expected in email.html


@pytest.mark.parametrize(
    ("name", "lang"), [(n, lang) for n, lang in ALL_CASES if n in WITH_LONG_DUE_DATE]
)
def test_the_due_date_appears_in_text_and_html_in_the_locale_long_format(
    name: str, lang: str
) -> None:
    email = compose_email(name, lang, full_context())
    expected = MAIN_DUE_DATE[_expected_language(name, lang)]

    assert expected in email.text
    assert expected in email.html


@pytest.mark.parametrize(("name", "lang"), ALL_CASES)
def test_text_and_html_carry_the_same_figures(name: str, lang: str) -> None:
    email = compose_email(name, lang, full_context())
    amounts = ALL_AMOUNTS[_expected_language(name, lang)]

    in_text = {a for a in amounts if a in email.text}
    in_html = {a for a in amounts if a in email.html}

    assert in_text == in_html
    assert (name in WITHOUT_FIGURES) == (not in_text)


@pytest.mark.parametrize(("name", "lang"), ALL_CASES)
def test_html_prints_hostile_names_as_text_never_as_tags(name: str, lang: str) -> None:
    context = full_context()
    context["contact"]["name"] = SCRIPT_NAME
    context["client"]["name"] = IMG_NAME
    context["owner"]["name"] = SCRIPT_NAME

    email = compose_email(name, lang, context)
    soup = BeautifulSoup(email.html, "html.parser")

    assert soup.find_all("script") == []
    assert soup.find_all("img") == []
    assert "<script" not in email.html
    assert "<img" not in email.html
    visible = soup.get_text(" ")
    assert SCRIPT_NAME in visible or IMG_NAME in visible


def test_a_line_break_in_a_value_never_leaves_the_subject_line() -> None:
    context = full_context()
    context["thread_subject"] = "Invoice copy\r\nBcc: everyone@evil.example"

    email = compose_email("reply_copy", "en", context)

    assert email.subject == "Re: Invoice copy Bcc: everyone@evil.example"


def test_a_reply_subject_keeps_one_re_prefix() -> None:
    assert reply_subject("AW: Re: RE: Rechnung INV-2026-0107") == "Re: Rechnung INV-2026-0107"
    assert reply_subject("Rechnung INV-2026-0107") == "Re: Rechnung INV-2026-0107"


def test_a_reply_answers_in_the_clients_thread() -> None:
    context = full_context()
    context["thread_subject"] = "Re: Kopie der Rechnung INV-2026-0107?"

    email = compose_email("reply_copy", "de", context)

    assert email.subject == "Re: Kopie der Rechnung INV-2026-0107?"


def test_an_unknown_language_falls_back_to_english_and_says_so() -> None:
    email = compose_email("reminder_gentle", "it", full_context())

    assert email.language_used == "en"
    assert email.fell_back is True
    assert email.locale == "en_GB"
    assert email.subject == "Payment reminder: invoice INV-2026-0107"
    assert "€1,210.40" in email.text


def test_a_language_without_the_template_falls_back_to_english() -> None:
    loader = DictLoader(
        {
            "email/en/reminder_firm.txt": "",
            "email/en/reminder_firm.html": "",
            "email/de/reminder_firm.txt": "",
            # the German HTML part is missing: both parts must come from one language
        }
    )

    assert _resolve(Environment(loader=loader), "reminder_firm", "de") == ("en", "en", True)
    assert _resolve(Environment(loader=loader), "reminder_firm", "en") == ("en", "en", False)


def test_a_regional_tag_or_a_context_locale_of_the_same_language_sets_the_format() -> None:
    austrian = compose_email("reminder_firm", "de-AT", full_context())
    context = full_context()
    context["locale"] = "en_US"
    american = compose_email("reminder_firm", "en", context)
    context["locale"] = "fr_FR"
    mismatched = compose_email("reminder_firm", "en", context)

    assert austrian.language_used == "de"
    assert austrian.locale == "de_AT"
    assert american.locale == "en_US"
    assert "December 10, 2026" in american.text
    # a locale of another language would mix French dates into English sentences
    assert mismatched.locale == "en_GB"
    assert "10 December 2026" in mismatched.text


def test_internal_emails_are_english_whatever_the_language_asked() -> None:
    email = compose_email("escalation_owner", "de", full_context())

    assert email.language_used == "en"
    assert email.fell_back is False
    assert email.subject == (
        "Escalation: Kranich Logistik AG – invoice INV-2026-0107, 7 days overdue"
    )


def test_a_missing_nested_key_is_a_render_error_naming_template_and_key() -> None:
    context = full_context()
    del context["invoice"]["due_date"]

    with pytest.raises(EmailContextMissing) as caught:
        compose_email("reminder_gentle", "en", context)

    assert isinstance(caught.value, RenderError)
    assert caught.value.code == "email_context_missing"
    assert caught.value.template == "email/en/reminder_gentle.txt"
    assert caught.value.key == "invoice.due_date"
    assert "invoice.due_date" in str(caught.value)


def test_a_missing_key_inside_a_list_is_named_with_its_position() -> None:
    context = full_context()
    del context["invoices"][1]["number"]

    with pytest.raises(EmailContextMissing) as caught:
        compose_email("reply_copy", "fr", context)

    assert caught.value.key == "invoices[1].number"
    assert caught.value.template == "email/fr/reply_copy.txt"


def test_a_missing_top_level_key_is_named_before_rendering() -> None:
    context = full_context()
    del context["new_due_date"]

    with pytest.raises(EmailContextMissing) as caught:
        compose_email("reply_due_date_granted", "nl", context)

    assert caught.value.key == "new_due_date"


def test_an_unknown_template_name_is_refused() -> None:
    with pytest.raises(UnknownEmailTemplate) as caught:
        compose_email("reminder_threatening", "en", full_context())

    assert isinstance(caught.value, RenderError)
    assert caught.value.code == "email_template_unknown"


@pytest.mark.parametrize("lang", EMAIL_LANGUAGES)
def test_the_firm_reminder_states_the_days_overdue(lang: str) -> None:
    email = compose_email("reminder_firm", lang, full_context())

    assert SEVEN_DAYS[lang] in email.subject
    assert SEVEN_DAYS[lang] in email.text
    assert SEVEN_DAYS[lang] in _visible_text(email.html)


# Words that would turn an acknowledgement into a commitment (credit, refund, waiver, pause …).
COMMITMENT_WORDS = {
    "en": ["credit", "refund", "waive", "discount", "cancel", "pause", "agree", "correct"],
    "de": ["gutschrift", "erstatt", "storn", "rabatt", "verzicht", "pausiert", "korrigier"],
    "nl": ["creditnota", "terugbeta", "kwijtschel", "korting", "annuler", "gepauzeerd"],
    "fr": [" un avoir", "rembours", "annul", "remise", "suspend", "corrig"],
    "es": ["rectificativa", "reembols", "anula", "descuento", "pausado", "corregi"],
}
MONEY_PATTERN = re.compile(r"\d[.,\u202f\xa0]?\d*[.,]\d{2}\b|[€£$]|\b(?:EUR|GBP|USD)\b")


@pytest.mark.parametrize("lang", EMAIL_LANGUAGES)
def test_the_dispute_acknowledgement_states_no_amount_no_date_and_no_promise(lang: str) -> None:
    email = compose_email("reply_dispute_ack", lang, full_context())
    visible_html = _visible_text(email.html)

    for part in (email.subject, email.text, visible_html):
        assert MONEY_PATTERN.search(part) is None, part
        assert MAIN_DUE_DATE[lang] not in part
        assert "2026" not in part.replace("INV-2026", "")
        lowered = part.lower()
        assert [w for w in COMMITMENT_WORDS[lang] if w in lowered] == []
    assert "Priya Shah" in email.text
    assert "INV-2026-0107" in email.text


@pytest.mark.parametrize("lang", EMAIL_LANGUAGES)
def test_the_handoff_acknowledgement_discloses_no_invoice_data(lang: str) -> None:
    email = compose_email("reply_handoff_ack", lang, full_context())

    for part in (email.subject, email.text, _visible_text(email.html)):
        assert "INV-" not in part
        assert MONEY_PATTERN.search(part) is None


def test_the_statement_lists_open_items_and_totals_per_currency() -> None:
    email = compose_email("reply_statement", "en", full_context())

    assert "Total outstanding (EUR): €2,210.40" in email.text
    assert "Total outstanding (GBP): £980.00" in email.text
    soup = BeautifulSoup(email.html, "html.parser")
    rows = [[c.get_text() for c in tr.find_all("td")] for tr in soup.select("tbody tr")]
    assert rows == [
        ["INV-2026-0107", "26 Nov 2026", "10 Dec 2026", "€1,210.40", "€1,210.40", "7"],
        ["INV-2026-0099", "26 Nov 2026", "20 Dec 2026", "€2,500.00", "€1,000.00", "–"],
        ["INV-2026-0090", "26 Nov 2026", "10 Dec 2026", "£980.00", "£980.00", "7"],
    ]
    totals = [[c.get_text() for c in tr.find_all("td")][:2] for tr in soup.select("tfoot tr")]
    assert totals == [
        ["Total outstanding (EUR)", "€2,210.40"],
        ["Total outstanding (GBP)", "£980.00"],
    ]


def test_a_statement_without_open_items_says_so() -> None:
    context = full_context()
    context["invoices"] = [_invoice("INV-2026-0080", "500.00", "0.00", status="paid")]

    email = compose_email("reply_statement", "de", context)

    assert "zum 17. Dezember 2026 sind auf Ihrem Kundenkonto keine Rechnungen offen" in email.text
    assert "INV-2026-0080" not in email.text


def test_the_payment_status_reply_reports_each_invoice_from_the_ledger() -> None:
    text = compose_email("reply_payment_status", "en", full_context()).text

    assert (
        "  - INV-2026-0107 (€1,210.40): open; €1,210.40 is outstanding, due 10 December 2026 "
        "(7 days overdue).\n"
    ) in text
    assert (
        "  - INV-2026-0099 (€2,500.00): part-paid; €1,000.00 is still outstanding, "
        "due 20 December 2026.\n"
    ) in text
    assert (
        "  - INV-2026-0090 (£980.00): we have not yet been able to match your payment to this "
        "invoice. We are checking, and we have paused reminders for this invoice in the "
        "meantime.\n"
    ) in text


def test_the_promise_acknowledgement_names_amount_date_and_pause() -> None:
    context = full_context()
    context["invoices"] = [context["invoice"]]

    email = compose_email("reply_promise_ack", "en", context)

    assert email.subject == "Payment of invoice INV-2026-0107 by 24 December 2026"
    assert (
        "We have noted that you will pay €1,210.40 by 24 December 2026, and we have paused "
        "payment reminders for this invoice until then."
    ) in email.text


def test_the_due_date_reply_names_old_and_new_date() -> None:
    text = compose_email("reply_due_date_granted", "fr", full_context()).text

    assert (
        "Nous avons reporté l'échéance de la facture INV-2026-0107 du 10 décembre 2026 "
        "au 24 décembre 2026"
    ) in text


def test_the_escalation_to_the_owner_lists_what_was_sent() -> None:
    text = compose_email("escalation_owner", "en", full_context()).text

    assert "Sent so far:\n" in text
    assert "  - 2026-11-26: Invoice sent to ap@kranich.example\n" in text
    assert "  - 11 Dec 2026: Reminder 'gentle' sent to ap@kranich.example\n" in text
    assert "  Billing contact: Jana Kranich <ap@kranich.example>\n" in text


def test_the_delivery_failure_tells_the_owner_code_and_diagnostic() -> None:
    email = compose_email("delivery_failed_owner", "en", full_context())

    assert (
        email.subject == "Not delivered: email about invoice INV-2026-0107 to Kranich Logistik AG"
    )
    assert "  Status code: 5.1.1\n" in email.text
    assert "  Diagnostic: smtp; 550 5.1.1 user unknown\n" in email.text
    assert "&lt;ap@kranich.example&gt;: Recipient address rejected" in email.html


def test_an_invoice_email_is_composed_from_billing_records() -> None:
    seller = Party(name="Northwind Studio B.V.", address=("Keizersgracht 1",), country="NL")
    document = build_document(
        number="INV-2026-0201",
        currency="EUR",
        issue_date=date(2026, 11, 26),
        due_date=DUE,
        seller=Party(
            name=seller.name, address=seller.address, country="NL", vat_id="NL859048487B01"
        ),
        buyer=Party(name="Molen Media B.V.", address=("Damrak 5",), country="NL"),
        items=[
            LineInput(
                description="Campaign design",
                quantity=Decimal("1"),
                unit_price=Decimal("1000.33"),
                vat_rate=Decimal("21"),
                tax_category=TaxCategory.STANDARD,
            )
        ],
        language="nl",
        payment_reference="RF71 0201",
    )
    record = InvoiceRecord(
        number=document.number,
        kind=document.kind,
        origin="manual",
        client_id="cl-molen",
        status=InvoiceStatus.OPEN,
        document=document,
        due_date=DUE,
        amount_paid=Decimal(0),
        amount_credited=Decimal(0),
    )
    company = Company(
        name="Northwind Studio B.V.",
        address=("Keizersgracht 1", "1015 CJ Amsterdam"),
        country="NL",
        currency="EUR",
        billing_email="billing@northwind.example",
        bank=BankDetails(account_name="Northwind Studio B.V.", iban="NL91ABNA0417164300"),
    )
    contact = Contact("cl-molen", "Sanne de Vries", "ap@molen.example", ContactRole.BILLING)
    owner = Owner("own-tom", "Tom Okafor", "tom@northwind.example")

    client = Client(
        id="cl-molen",
        name="Molen Media B.V.",
        country="NL",
        currency="EUR",
        address=(),
        account_owner_id="own-tom",
        language="nl",
        contacts=(contact,),
    )
    # The context the application sends: tools.messages builds it from the records.
    context = base_context(
        company, client, contact=contact, owner=owner, on=date(2026, 11, 26), records=[record]
    )
    email = compose_email("invoice_issue", "nl", context)

    assert email.subject == "Factuur INV-2026-0201 van Northwind Studio B.V."
    assert (
        "In de bijlage vindt u factuur INV-2026-0201 van € 1.210,40, te betalen uiterlijk op "
        "10 december 2026."
    ).replace(" 1.210", "\xa01.210") in email.text
    assert "  IBAN: NL91 ABNA 0417 1643 00\n" in email.text
    assert "  Betalingskenmerk: RF71 0201\n" in email.text


def test_a_client_without_bank_details_on_file_is_pointed_to_the_invoice() -> None:
    context = full_context()
    context["company"]["bank"] = None

    text = compose_email("reminder_gentle", "en", context).text

    assert (
        "Please quote the payment reference RF18 0107 with your payment; our bank details are "
        "on the invoice."
    ) in text
    assert "IBAN" not in text


def test_a_contact_without_a_name_gets_a_greeting_without_one() -> None:
    context = full_context()
    del context["contact"]

    email = compose_email("invoice_issue", "es", context)

    assert email.text.startswith("Buenos días:\n\nLe adjuntamos la factura INV-2026-0107")


def test_a_very_long_subject_is_cut_at_a_word_boundary() -> None:
    context = full_context()
    context["thread_subject"] = "Question " + "about the invoices we received last month " * 5

    subject = compose_email("reply_handoff_ack", "en", context).subject

    assert len(subject) <= SUBJECT_MAX
    assert subject == (
        "Re: Question about the invoices we received last month about the invoices we received "
        "last month about the invoices…"
    )


def test_every_template_file_is_on_disk() -> None:
    missing = [f for f in template_files() if not (TEMPLATES_DIR / f).is_file()]

    assert missing == []
    assert len(template_files()) == len(CLIENT_TEMPLATES) * len(EMAIL_LANGUAGES) * 2 + 4
