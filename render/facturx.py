"""EN 16931 e-invoices: Factur-X / ZUGFeRD (profile EN16931) XML embedded in a PDF/A-3.

:func:`invoice_xml` builds the CII XML with the factur-x package, validates it against the
Factur-X EN16931 XSD and checks the EN 16931 business rules (:mod:`render.en16931`);
:func:`render_facturx_pdf` renders the PDF/A-3b (:func:`render.pdf.render_pdf`) and embeds the
XML as ``factur-x.xml`` (``/AF``, XMP ``pdfaid:part=3``, ``fx:DocumentType=INVOICE``);
:func:`extract_xml` reads it back.

Mapping decisions (the EN 16931 terms in brackets):

- Credit notes are type 381 [BT-3] with positive amounts and the corrected invoice as the
  preceding invoice reference [BG-3: BT-25, BT-26].
- A line discount is a line allowance [BG-27] with reason code 95 "Discount"; the item net
  price [BT-146] stays the unit price, so BT-131 = quantity × price − allowance.
- 'Not subject to VAT' (O) carries no rate and, by BR-O-02, no seller or buyer VAT identifier:
  the seller is identified by its registration id [BT-30] instead (BR-CO-26).
- Exemption reasons [BT-120] are the legal notes of :mod:`render.i18n` in the client's
  language; the VATEX code [BT-121] comes from billing. Standard and zero-rated rows carry none.
- Intra-community supplies name the buyer's country as deliver-to country [BT-80] (BR-IC-12).
- The actual delivery date [BT-72] is always present (billing defaults it to the issue date);
  factur-x 7.8 would otherwise emit an empty delivery element that the XSD rejects.
- EN 16931 allows at most two decimals in amounts (BR-DEC): a currency with three (BHD, KWD)
  raises :class:`~render.errors.EInvoiceUnsupported` — the PDF still renders.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal
from typing import Any

from billing.invoice import DocumentKind, InvoiceDocument, Line, Party
from billing.money import minor_units
from billing.tax import TaxCategory, VatBreakdown
from render import i18n
from render.en16931 import check_en16931_rules
from render.errors import (
    EInvoiceInvalid,
    EInvoiceNotFound,
    EInvoiceRulesViolated,
    EInvoiceUnsupported,
    RenderError,
)
from render.pdf import render_pdf

FLAVOR = "factur-x"
LEVEL = "en16931"
XML_FILENAME = "factur-x.xml"
MAX_DECIMALS = 2
DISCOUNT_REASON_CODE = "95"  # UNTDID 5189: Discount
SEPA_CREDIT_TRANSFER = "58"  # UNTDID 4461
CREDIT_TRANSFER = "30"

# "10115 Berlin", "1015 CJ Amsterdam", "75002 Paris", "28014 Madrid", "1010 Wien".
_POSTCODE_CITY = re.compile(r"^(?P<postcode>\d{4,5}(?: ?[A-Z]{2})?)\s+(?P<city>\S.*)$")

_LOG = logging.getLogger(__name__)


def _facturx() -> Any:
    # Imported on first use: it pulls in pypdf and lxml (~0.3 s).
    import facturx

    return facturx


def _amount(value: Decimal, currency: str) -> str:
    return str(value.quantize(Decimal(1).scaleb(-minor_units(currency))))


def _plain(value: Decimal) -> str:
    """A quantity or price without exponent or trailing zeros (``2.5``, ``10``)."""
    text = format(value.normalize(), "f")
    return text


def _price(value: Decimal) -> str:
    """A unit price with at least two decimals (``95.00``, ``12.3456``)."""
    text = _plain(value)
    whole, _, decimals = text.partition(".")
    return f"{whole}.{decimals.ljust(2, '0')}"


def _percent(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


def _address(party: Party) -> dict[str, str]:
    lines = [line.strip() for line in party.address if line.strip()]
    out: dict[str, str] = {"country_code": party.country.upper()}
    if lines:
        match = _POSTCODE_CITY.match(lines[-1])
        if match:
            out["postcode"] = match["postcode"]
            out["city"] = match["city"]
            lines = lines[:-1]
    for key, line in zip(("addr_l1", "addr_l2", "addr_l3"), lines, strict=False):
        out[key] = line
    if len(lines) > 3:
        out["addr_l3"] = ", ".join(lines[2:])
    return out


def _party(party: Party, *, with_vat_id: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"name": party.name, **_address(party)}
    if with_vat_id and party.vat_id:
        out["vat_identifier"] = "".join(party.vat_id.split()).upper()
    if party.registration_id:
        out["legal_identifier"] = party.registration_id
    if party.email or party.contact_name:
        contact: dict[str, str] = {}
        if party.contact_name:
            contact["name"] = party.contact_name
        if party.email:
            contact["email"] = party.email
        out["contacts"] = [contact]
    return out


def _line(line: Line, currency: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "BT-126": str(line.position),
        "BT-153": line.description,
        "BT-129": _plain(line.quantity),
        "BT-130": line.unit_code,
        "BT-146": _price(line.unit_price),
        "BT-131": _amount(line.net_amount, currency),
        "BT-151": line.tax_category.code,
    }
    if line.tax_category is not TaxCategory.OUTSIDE_SCOPE:  # BR-O-05: no rate on 'O' lines
        out["BT-152"] = _percent(line.vat_rate)
    if line.discount_amount:
        allowance: dict[str, str] = {
            "amount": _amount(line.discount_amount, currency),
            "reason": "Discount",
            "reason_code": DISCOUNT_REASON_CODE,
        }
        if line.discount_percent:
            allowance["rate"] = _percent(line.discount_percent)
            allowance["base_amount"] = _amount(line.gross_amount, currency)
        out["BG-27"] = [allowance]
    return out


def _breakdown_row(row: VatBreakdown, document: InvoiceDocument) -> dict[str, str]:
    currency = document.currency
    out = {
        "BT-116": _amount(row.taxable_amount, currency),
        "BT-117": _amount(row.tax_amount, currency),
        "BT-118": row.code,
    }
    if row.category is not TaxCategory.OUTSIDE_SCOPE:  # BR-48 / BR-O: no rate for 'O'
        out["BT-119"] = _percent(row.rate)
    # BR-S-10 / BR-Z-10: standard and zero-rated rows carry no exemption reason.
    if row.code not in ("S", "Z"):
        reason = i18n.exemption_text(row.category, row.exemption_reason, document.language)
        if reason:
            out["BT-120"] = reason
        if row.exemption_code:
            out["BT-121"] = row.exemption_code
    return out


def _payment(document: InvoiceDocument) -> dict[str, str]:
    bank = document.bank
    if bank is None or document.kind is DocumentKind.CREDIT_NOTE:
        # The seller's account is where the buyer pays; a credit note asks for no payment.
        return {}
    account = bank.iban or bank.account_number
    if not account:
        return {}
    compact = "".join(account.split()).upper()
    sepa = bool(bank.iban) and document.currency == "EUR"
    out = {
        "BT-81": SEPA_CREDIT_TRANSFER if sepa else CREDIT_TRANSFER,
        "BT-84": compact,
        "BT-85": bank.account_name,
    }
    if bank.bic:
        out["BT-86"] = bank.bic.replace(" ", "").upper()
    return out


def _payment_terms(document: InvoiceDocument) -> str | None:
    """BT-20; present whenever there is no due date, as EN 16931 v1.3.10+ wants (BR-CO-25)."""
    if document.payment_terms:
        return document.payment_terms
    labels = i18n.labels(document.language)
    if document.kind is DocumentKind.CREDIT_NOTE:
        return labels["credit_settlement"]
    if document.due_date is None:
        return labels["due_on_receipt"]
    return None


def invoice_data(document: InvoiceDocument) -> dict[str, Any]:
    """The factur-x ``generate_xml`` dictionary (keyed by EN 16931 BT/BG codes)."""
    currency = document.currency
    if minor_units(currency) > MAX_DECIMALS:
        raise EInvoiceUnsupported(
            f"{document.number}: {currency} amounts have {minor_units(currency)} decimals, "
            f"but EN 16931 allows at most {MAX_DECIMALS} (BR-DEC); send the PDF without an "
            "e-invoice for this currency"
        )
    outside_scope = TaxCategory.OUTSIDE_SCOPE in document.categories
    totals = document.totals
    data: dict[str, Any] = {
        "BT-1": document.number,
        "BT-2": document.issue_date,
        "BT-3": document.kind.type_code,
        "BT-5": currency,
        "BT-72": document.delivery_date,
        "BG-4": _party(document.seller, with_vat_id=not outside_scope),
        "BG-7": _party(document.buyer, with_vat_id=not outside_scope),
        "BG-25": [_line(line, currency) for line in document.lines],
        "BG-23": [_breakdown_row(row, document) for row in document.breakdown],
        "BT-106": _amount(totals.lines_total, currency),
        "BT-109": _amount(totals.tax_exclusive, currency),
        "BT-110": _amount(totals.tax_total, currency),
        "BT-112": _amount(totals.grand_total, currency),
        "BT-115": _amount(totals.grand_total, currency),
        **_payment(document),
    }
    if document.due_date is not None:
        data["BT-9"] = document.due_date
    terms = _payment_terms(document)
    if terms:
        data["BT-20"] = terms
    if document.buyer_reference:
        data["BT-10"] = document.buyer_reference
    if document.payment_reference:
        data["BT-83"] = document.payment_reference
    if document.notes:
        data["BG-1"] = [{"BT-22": note} for note in document.notes]
    if document.refers_to is not None:
        data["BG-3"] = [
            {"BT-25": document.refers_to.number, "BT-26": document.refers_to.issue_date}
        ]
    if TaxCategory.INTRA_COMMUNITY in document.categories:
        buyer = document.buyer
        data["BG-13"] = {"name": buyer.name, **_address(buyer)}
    return data


def invoice_xml(document: InvoiceDocument, *, check_rules: bool = True) -> bytes:
    """The EN 16931 CII XML (Factur-X profile EN16931) of an invoice or credit note.

    Validated against the Factur-X EN16931 XSD; with ``check_rules`` (the default) also
    against the EN 16931 business rules. Raises :class:`EInvoiceUnsupported` (3-decimal
    currencies), :class:`EInvoiceInvalid` (XSD) or :class:`EInvoiceRulesViolated`.
    """
    data = invoice_data(document)
    generate_xml = _facturx().generate_xml
    try:
        xml: bytes = generate_xml(
            data, flavor=FLAVOR, level=LEVEL, check_xsd=True, check_schematron=False
        )
    except Exception as exc:
        # factur-x raises bare Exception/ValueError for XSD and input errors alike.
        raise EInvoiceInvalid(
            f"{document.number}: the Factur-X XML could not be built or is invalid: {exc}"
        ) from exc
    if check_rules:
        violations = check_en16931_rules(xml)
        if violations:
            raise EInvoiceRulesViolated(violations)
    return xml


def render_facturx_pdf(
    document: InvoiceDocument,
    *,
    company_logo: bytes | None = None,
    page_size: str = "A4",
    xml: bytes | None = None,
) -> bytes:
    """A PDF/A-3b invoice with its EN 16931 XML embedded as ``factur-x.xml``.

    The XML is built and checked first (XSD and business rules), so a document that breaks a
    rule raises :class:`EInvoiceRulesViolated` before anything is rendered. ``xml`` lets a
    caller embed XML it already built with :func:`invoice_xml` for this document; it is
    checked against the business rules again before embedding.
    """
    if xml is None:
        xml = invoice_xml(document)
    else:
        violations = check_en16931_rules(xml)
        if violations:
            raise EInvoiceRulesViolated(violations)
    pdf = render_pdf(document, company_logo=company_logo, page_size=page_size)
    labels = i18n.labels(document.language)
    is_credit_note = document.kind is DocumentKind.CREDIT_NOTE
    title = labels["credit_note"] if is_credit_note else labels["invoice"]
    metadata = {
        "author": document.seller.name,
        "keywords": "Factur-X, ZUGFeRD, EN 16931, " + title,
        "title": f"{document.seller.name}: {title} {document.number}",
        "subject": (
            f"{title} {document.number} dated {document.issue_date.isoformat()} "
            f"issued by {document.seller.name}"
        ),
    }
    try:
        result: bytes = _facturx().generate_from_binary(
            pdf,
            xml,
            flavor=FLAVOR,
            level=LEVEL,
            check_xsd=False,  # invoice_xml validated it a moment ago
            pdf_metadata=metadata,
            lang=i18n.language_of(document.language),
        )
    except RenderError:
        raise
    except Exception as exc:
        raise EInvoiceInvalid(
            f"{document.number}: the XML could not be embedded in the PDF: {exc}"
        ) from exc
    return result


def extract_xml(pdf: bytes) -> bytes:
    """The Factur-X XML embedded in a PDF (XSD-checked); raises :class:`EInvoiceNotFound`."""
    try:
        filename, xml = _facturx().get_xml_from_pdf(pdf, check_xsd=True)
    except Exception as exc:
        raise EInvoiceNotFound(f"cannot read the PDF's attachments: {exc}") from exc
    if not filename or not xml:
        raise EInvoiceNotFound("the PDF carries no valid Factur-X / ZUGFeRD XML")
    _LOG.debug("extracted %s (%d bytes)", filename, len(xml))
    return bytes(xml)
