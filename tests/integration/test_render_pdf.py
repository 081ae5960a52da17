"""Invoice and credit-note PDFs: read the text back and find what a client and an auditor need."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from typing import Any

import pytest
from pypdf import PdfReader

from billing.invoice import BankDetails, LineInput, build_document
from billing.tax import TaxCategory
from render import i18n
from render.environment import get_environment
from render.errors import RenderError
from render.pdf import render_pdf
from tests import render_samples as samples


def pdf_text(pdf: bytes) -> str:
    """All pages' text with whitespace collapsed (lines wrap wherever the layout puts them)."""
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


def page_count(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture(scope="module")
def standard_pdf_text() -> str:
    return pdf_text(render_pdf(samples.standard_invoice()))


def test_invoice_pdf_shows_number_dates_parties_and_vat_ids(standard_pdf_text: str) -> None:
    text = standard_pdf_text

    assert "Invoice INV-2026-0042" in text
    assert "Invoice number INV-2026-0042" in text
    assert "Issue date Nov 26, 2026" in text
    assert "Due date Dec 10, 2026" in text
    assert "Delivery date Nov 20, 2026" in text
    assert "Northwind Studio GmbH" in text
    assert "Kranich Logistik AG" in text
    assert "VAT ID DE123456789" in text
    assert "VAT ID DE987654321" in text
    assert "Your reference PO-7781" in text


def test_invoice_pdf_shows_lines_vat_breakdown_and_totals(standard_pdf_text: str) -> None:
    text = standard_pdf_text

    assert "Brand strategy workshop (2 days, on site) 2 €1,450.00 10% 19% €2,610.00" in text
    assert "Printed brand book (reduced rate) 3 €42.80 7% €128.40" in text
    assert "Standard rate 19% €11,433.50 €2,172.37" in text
    assert "Standard rate 7% €128.40 €8.99" in text
    assert "Total net €11,561.90" in text
    assert "Total VAT €2,181.36" in text
    assert "Amount due €13,743.26" in text


def test_invoice_pdf_carries_payment_instructions_reference_and_rounding_rule(
    standard_pdf_text: str,
) -> None:
    text = standard_pdf_text

    assert (
        "Please transfer €13,743.26 by Dec 10, 2026, quoting the reference INV-2026-0042." in text
    )
    assert "IBAN DE89 3704 0044 0532 0130 00" in text
    assert "BIC COBADEFFXXX" in text
    assert "Account holder Northwind Studio GmbH" in text
    assert "Payment reference INV-2026-0042" in text
    assert "Payment terms: Payable within 14 days without deduction." in text
    assert i18n.rounding_rule("en") in text


def test_local_bank_details_print_account_number_and_sort_code() -> None:
    document = samples.standard_invoice(bank=samples.UK_BANK, currency="GBP")

    text = pdf_text(render_pdf(document))

    assert "Account number 31926819" in text
    assert "Sort code 60-16-13" in text
    assert "IBAN" not in text
    assert "Amount due £13,743.26" in text


def test_invoice_without_bank_details_still_gives_the_payment_reference() -> None:
    document = samples.standard_invoice(bank=None)

    text = pdf_text(render_pdf(document))

    assert "Payment reference INV-2026-0042" in text
    assert "Account holder" not in text


@pytest.mark.parametrize(
    ("language", "note"),
    [
        (
            "en",
            "Reverse charge – VAT to be accounted for by the recipient "
            "(Article 196 Council Directive 2006/112/EC)",
        ),
        ("de", "Steuerschuldnerschaft des Leistungsempfängers"),
        ("nl", "Btw verlegd"),
        ("fr", "Autoliquidation"),
        ("es", "Inversión del sujeto pasivo"),
    ],
)
def test_reverse_charge_invoice_prints_the_legal_note_in_the_client_language(
    language: str, note: str
) -> None:
    document = samples.category_invoice(TaxCategory.REVERSE_CHARGE, language=language)

    text = pdf_text(render_pdf(document))

    assert note in text
    assert "NL123456789B01" in text
    assert "DE123456789" in text


@pytest.mark.parametrize(
    ("category", "note"),
    [
        (TaxCategory.EXEMPT, "Exempt from VAT"),
        (TaxCategory.OUTSIDE_SCOPE, "Not subject to VAT (outside the scope of VAT)"),
        (
            TaxCategory.INTRA_COMMUNITY,
            "Intra-community supply – exempt from VAT (Article 138 Council Directive 2006/112/EC)",
        ),
        (
            TaxCategory.EXPORT,
            "Export outside the EU – exempt from VAT (Article 146 Council Directive 2006/112/EC)",
        ),
    ],
)
def test_zero_rate_categories_print_their_legal_note(category: TaxCategory, note: str) -> None:
    text = pdf_text(render_pdf(samples.category_invoice(category)))

    assert note in text
    assert "Total VAT €0.00" in text


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "de",
            [
                "Rechnung INV-2026-0042",
                "Rechnungsdatum 26.11.2026",
                "Zahlbetrag 13.743,26 €",
                "Summe netto 11.561,90 €",
                "Seite 1 von 1",
                "USt-IdNr. DE987654321",
            ],
        ),
        (
            "nl",
            [
                "Factuur INV-2026-0042",
                "Factuurdatum 26 nov 2026",
                "Te betalen € 13.743,26",
                "Pagina 1 van 1",
                "Btw-nummer DE987654321",
            ],
        ),
        (
            "fr",
            [
                "Facture INV-2026-0042",
                "Date d'émission 26 nov. 2026",
                "Total HT",
                "Net à payer 13 743,26 €",
                "Page 1 sur 1",
            ],
        ),
        (
            "es",
            [
                "Factura INV-2026-0042",
                "Fecha de emisión 26 nov 2026",
                "Importe a pagar 13.743,26 €",
                "Página 1 de 1",
            ],
        ),
        ("en", ["Invoice INV-2026-0042", "Amount due €13,743.26", "Page 1 of 1"]),
    ],
)
def test_labels_dates_and_amounts_follow_the_client_language(
    language: str, expected: list[str]
) -> None:
    text = pdf_text(render_pdf(samples.standard_invoice(language=language)))

    for fragment in expected:
        assert " ".join(fragment.split()) in text.replace("\u202f", " ").replace("\xa0", " ")


def test_full_credit_note_says_credit_note_and_refers_to_the_original_invoice() -> None:
    text = pdf_text(render_pdf(samples.credit_note()))

    assert "Credit note CN-2026-0007" in text
    assert "Credit note number CN-2026-0007" in text
    assert "Original invoice INV-2026-0042 (Nov 26, 2026)" in text
    assert "This credit note corrects invoice INV-2026-0042 of Nov 26, 2026." in text
    assert "Amount credited €13,743.26" in text
    assert "Credited at the client's request (ticket 5531)." in text
    assert "Amount due" not in text
    assert "IBAN" not in text


@pytest.mark.parametrize(
    ("language", "title", "reference"),
    [
        ("de", "Rechnungskorrektur CN-2026-0007", "Ursprüngliche Rechnung INV-2026-0042"),
        ("fr", "Avoir CN-2026-0007", "Facture d'origine INV-2026-0042"),
        ("es", "Factura rectificativa CN-2026-0007", "Factura original INV-2026-0042"),
        ("nl", "Creditnota CN-2026-0007", "Oorspronkelijke factuur INV-2026-0042"),
    ],
)
def test_partial_credit_note_is_titled_and_referenced_in_the_client_language(
    language: str, title: str, reference: str
) -> None:
    text = pdf_text(render_pdf(samples.credit_note(language=language, partial=True)))

    assert title in text
    assert reference in text


def test_pdf_is_pdf_a_3b_with_an_srgb_output_intent() -> None:
    reader = PdfReader(io.BytesIO(render_pdf(samples.standard_invoice())))

    root: Any = reader.root_object
    xmp = root["/Metadata"].get_object().get_data().decode("utf-8")
    intents = root["/OutputIntents"]
    assert re.search(r"pdfaid:part(=\"|>)3", xmp)
    assert re.search(r"pdfaid:conformance(=\"|>)B", xmp)
    assert len(intents) == 1
    assert intents[0]["/S"] == "/GTS_PDFA1"
    assert "sRGB" in intents[0]["/OutputConditionIdentifier"]
    assert reader.pdf_header == "%PDF-1.7"


def test_pdf_uses_only_the_pinned_dejavu_sans_faces() -> None:
    reader = PdfReader(io.BytesIO(render_pdf(samples.standard_invoice())))

    fonts = set()
    for page in reader.pages:
        resources: Any = page["/Resources"]
        for font in resources["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]).split("+", 1)[-1])
    assert fonts == {"DejaVu-Sans", "DejaVu-Sans-Bold"}


def test_a_long_invoice_runs_over_pages_with_page_x_of_y_and_repeated_headers() -> None:
    pdf = render_pdf(samples.standard_invoice(line_count=80))

    reader = PdfReader(io.BytesIO(pdf))
    pages = [" ".join((page.extract_text() or "").split()) for page in reader.pages]
    assert len(pages) == 3
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
        assert "Northwind Studio GmbH · Torstraße 140" in page.replace("  ", " ")
    for page in pages[:-1]:
        assert "DESCRIPTION QTY UNIT PRICE" in page
    assert "Amount due €163,805.83" in " ".join(pages)


def test_letter_page_size_gives_a_us_letter_page() -> None:
    reader = PdfReader(io.BytesIO(render_pdf(samples.standard_invoice(), page_size="Letter")))

    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)


def test_a4_is_the_default_page_size() -> None:
    reader = PdfReader(io.BytesIO(render_pdf(samples.standard_invoice())))

    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)


def test_unknown_page_size_is_refused_with_a_stable_code() -> None:
    with pytest.raises(RenderError) as caught:
        render_pdf(samples.standard_invoice(), page_size="A3")

    assert caught.value.code == "bad_page_size"


def test_three_decimal_currency_renders_in_the_pdf() -> None:
    text = pdf_text(render_pdf(samples.bhd_invoice()))

    assert "Amount due BHD1,250.125" in text.replace("\xa0", "")
    assert "Not subject to VAT" in text


def test_unit_prices_keep_their_extra_decimals() -> None:
    document = build_document(
        number="INV-2026-0100",
        currency="EUR",
        issue_date=samples.ISSUE_DATE,
        due_date=samples.DUE_DATE,
        seller=samples.SELLER,
        buyer=samples.BUYER_DE,
        items=[
            LineInput(
                description="Transactional e-mails (per message)",
                quantity=Decimal("12000"),
                unit_price=Decimal("0.0125"),
                vat_rate=Decimal("19"),
                tax_category=TaxCategory.STANDARD,
            )
        ],
    )

    text = pdf_text(render_pdf(document))

    assert "Transactional e-mails (per message) 12,000 €0.0125 19% €150.00" in text


def test_label_catalogue_is_complete_in_every_language() -> None:
    assert i18n.catalogue_gaps() == []
    assert set(i18n.LANGUAGES) == {"en", "de", "nl", "fr", "es"}


def test_unknown_language_falls_back_to_english() -> None:
    text = pdf_text(render_pdf(samples.standard_invoice(language="pt-BR")))

    assert "Invoice INV-2026-0042" in text


def test_environment_is_shared_strict_and_escapes_html_but_not_text_templates() -> None:
    env = get_environment()

    assert env is get_environment()
    html = env.from_string("{{ name }}").render(name="<b>")
    assert html == "&lt;b&gt;"
    assert env.autoescape("email/reminder.txt") is False  # type: ignore[operator]
    assert env.autoescape("email/reminder.html") is True  # type: ignore[operator]
    assert env.autoescape("email/reminder.html.j2") is True  # type: ignore[operator]
    with pytest.raises(Exception, match="undefined"):
        env.from_string("{{ missing }}").render()


def test_money_and_date_filters_format_by_locale() -> None:
    env = get_environment()
    template = env.from_string(
        "{{ amount|money('EUR', 'de') }} | {{ amount|money('EUR', 'en') }} | "
        "{{ price|price('EUR', 'fr') }} | {{ qty|quantity('nl') }} | {{ rate|percent('de') }}"
    )

    out = template.render(
        amount=Decimal("1234.5"), price=Decimal("12.3450"), qty=Decimal("2.50"), rate=Decimal("19")
    )

    assert out.replace("\xa0", " ").replace("\u202f", " ") == (
        "1.234,50 € | €1,234.50 | 12,345 € | 2,5 | 19 %"
    )


def test_bank_details_with_routing_number_are_printed() -> None:
    bank = BankDetails(
        account_name="Northwind Studio LLC",
        account_number="000123456789",
        routing_number="026009593",
        bank_name="Bank of America",
    )
    document = samples.standard_invoice(bank=bank, currency="USD", buyer=samples.BUYER_US)

    text = pdf_text(render_pdf(document))

    assert "Routing number 026009593" in text
    assert "Account number 000123456789" in text
    assert "Amount due $" in text
