"""Label catalogue for invoices and credit notes in English, German, Dutch, French and Spanish.

The document is printed in the client's language (``InvoiceDocument.language``); an unknown
language falls back to English. Legal notes follow the wording tax authorities and accounting
software use in each language, with the article of Council Directive 2006/112/EC they rest on.
The same texts go into the e-invoice as VAT exemption reasons (BT-120), which EN 16931 accepts
"or the equivalent standard text in another language".
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from billing.tax import TaxCategory

LANGUAGES = ("en", "de", "nl", "fr", "es")
DEFAULT_LANGUAGE = "en"

_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "invoice": "Invoice",
        "credit_note": "Credit note",
        "invoice_number": "Invoice number",
        "credit_note_number": "Credit note number",
        "issue_date": "Issue date",
        "credit_note_date": "Issue date",
        "due_date": "Due date",
        "delivery_date": "Delivery date",
        "your_reference": "Your reference",
        "original_invoice": "Original invoice",
        "refers_to": "This credit note corrects invoice {number} of {date}.",
        "bill_to": "Bill to",
        "customer": "Customer",
        "vat_id": "VAT ID",
        "registration_id": "Company reg. no.",
        "email": "Email",
        "position": "#",
        "description": "Description",
        "qty": "Qty",
        "unit_price": "Unit price",
        "discount": "Discount",
        "vat": "VAT",
        "vat_rate": "VAT rate",
        "net": "Net amount",
        "subtotal": "Total net",
        "vat_total": "Total VAT",
        "total": "Total",
        "amount_due": "Amount due",
        "amount_credited": "Amount credited",
        "vat_breakdown": "VAT breakdown",
        "taxable_amount": "Taxable amount",
        "payment_instructions": "Payment instructions",
        "reference": "Payment reference",
        "account_holder": "Account holder",
        "iban": "IBAN",
        "bic": "BIC",
        "bank": "Bank",
        "account_number": "Account number",
        "sort_code": "Sort code",
        "routing_number": "Routing number",
        "pay_by": "Please transfer {amount} by {date}, quoting the reference {reference}.",
        "pay_now": "Please transfer {amount}, quoting the reference {reference}.",
        "credit_settlement": (
            "The amount credited will be refunded or offset against open invoices."
        ),
        "payment_terms": "Payment terms",
        "due_on_receipt": "Payable on receipt.",
        "notes": "Notes",
        "legal_notes": "Tax notes",
        "page": "Page {page} of {pages}",
        "thanks": "Thank you for your business.",
    },
    "de": {
        "invoice": "Rechnung",
        "credit_note": "Rechnungskorrektur",
        "invoice_number": "Rechnungsnummer",
        "credit_note_number": "Korrekturnummer",
        "issue_date": "Rechnungsdatum",
        "credit_note_date": "Datum",
        "due_date": "Fällig am",
        "delivery_date": "Leistungsdatum",
        "your_reference": "Ihre Referenz",
        "original_invoice": "Ursprüngliche Rechnung",
        "refers_to": "Diese Rechnungskorrektur bezieht sich auf die Rechnung {number} vom {date}.",
        "bill_to": "Rechnungsempfänger",
        "customer": "Kunde",
        "vat_id": "USt-IdNr.",
        "registration_id": "Registernummer",
        "email": "E-Mail",
        "position": "Pos.",
        "description": "Beschreibung",
        "qty": "Menge",
        "unit_price": "Einzelpreis",
        "discount": "Rabatt",
        "vat": "USt.",
        "vat_rate": "USt.-Satz",
        "net": "Nettobetrag",
        "subtotal": "Summe netto",
        "vat_total": "Summe USt.",
        "total": "Gesamtbetrag",
        "amount_due": "Zahlbetrag",
        "amount_credited": "Gutschriftsbetrag",
        "vat_breakdown": "USt.-Aufstellung",
        "taxable_amount": "Bemessungsgrundlage",
        "payment_instructions": "Zahlungsinformationen",
        "reference": "Verwendungszweck",
        "account_holder": "Kontoinhaber",
        "iban": "IBAN",
        "bic": "BIC",
        "bank": "Bank",
        "account_number": "Kontonummer",
        "sort_code": "Sort Code",
        "routing_number": "Routing-Nummer",
        "pay_by": (
            "Bitte überweisen Sie {amount} bis zum {date} unter Angabe des "
            "Verwendungszwecks {reference}."
        ),
        "pay_now": "Bitte überweisen Sie {amount} unter Angabe des Verwendungszwecks {reference}.",
        "credit_settlement": (
            "Der Betrag wird Ihnen erstattet oder mit offenen Rechnungen verrechnet."
        ),
        "payment_terms": "Zahlungsbedingungen",
        "due_on_receipt": "Zahlbar sofort nach Erhalt.",
        "notes": "Hinweise",
        "legal_notes": "Steuerliche Hinweise",
        "page": "Seite {page} von {pages}",
        "thanks": "Vielen Dank für Ihren Auftrag.",
    },
    "nl": {
        "invoice": "Factuur",
        "credit_note": "Creditnota",
        "invoice_number": "Factuurnummer",
        "credit_note_number": "Creditnotanummer",
        "issue_date": "Factuurdatum",
        "credit_note_date": "Datum",
        "due_date": "Vervaldatum",
        "delivery_date": "Leverdatum",
        "your_reference": "Uw referentie",
        "original_invoice": "Oorspronkelijke factuur",
        "refers_to": "Deze creditnota corrigeert factuur {number} van {date}.",
        "bill_to": "Factuur aan",
        "customer": "Klant",
        "vat_id": "Btw-nummer",
        "registration_id": "KvK-/registratienummer",
        "email": "E-mail",
        "position": "Nr.",
        "description": "Omschrijving",
        "qty": "Aantal",
        "unit_price": "Prijs per eenheid",
        "discount": "Korting",
        "vat": "Btw",
        "vat_rate": "Btw-tarief",
        "net": "Nettobedrag",
        "subtotal": "Totaal excl. btw",
        "vat_total": "Totaal btw",
        "total": "Totaal incl. btw",
        "amount_due": "Te betalen",
        "amount_credited": "Gecrediteerd bedrag",
        "vat_breakdown": "Btw-specificatie",
        "taxable_amount": "Grondslag",
        "payment_instructions": "Betalingsinstructies",
        "reference": "Betalingskenmerk",
        "account_holder": "Rekeninghouder",
        "iban": "IBAN",
        "bic": "BIC",
        "bank": "Bank",
        "account_number": "Rekeningnummer",
        "sort_code": "Sort code",
        "routing_number": "Routingnummer",
        "pay_by": (
            "Gelieve {amount} uiterlijk {date} over te maken onder vermelding van "
            "het kenmerk {reference}."
        ),
        "pay_now": "Gelieve {amount} over te maken onder vermelding van het kenmerk {reference}.",
        "credit_settlement": (
            "Het bedrag wordt terugbetaald of verrekend met openstaande facturen."
        ),
        "payment_terms": "Betalingsvoorwaarden",
        "due_on_receipt": "Direct betaalbaar na ontvangst.",
        "notes": "Opmerkingen",
        "legal_notes": "Btw-vermeldingen",
        "page": "Pagina {page} van {pages}",
        "thanks": "Hartelijk dank voor uw opdracht.",
    },
    "fr": {
        "invoice": "Facture",
        "credit_note": "Avoir",
        "invoice_number": "Numéro de facture",
        "credit_note_number": "Numéro d'avoir",
        "issue_date": "Date d'émission",
        "credit_note_date": "Date d'émission",
        "due_date": "Date d'échéance",
        "delivery_date": "Date de livraison",
        "your_reference": "Votre référence",
        "original_invoice": "Facture d'origine",
        "refers_to": "Cet avoir porte sur la facture {number} du {date}.",
        "bill_to": "Facturé à",
        "customer": "Client",
        "vat_id": "N° TVA intracom.",
        "registration_id": "N° d'immatriculation",
        "email": "E-mail",
        "position": "N°",
        "description": "Désignation",
        "qty": "Qté",
        "unit_price": "Prix unitaire HT",
        "discount": "Remise",
        "vat": "TVA",
        "vat_rate": "Taux de TVA",
        "net": "Montant HT",
        "subtotal": "Total HT",
        "vat_total": "Total TVA",
        "total": "Total TTC",
        "amount_due": "Net à payer",
        "amount_credited": "Montant de l'avoir",
        "vat_breakdown": "Récapitulatif TVA",
        "taxable_amount": "Base HT",
        "payment_instructions": "Modalités de paiement",
        "reference": "Référence de paiement",
        "account_holder": "Titulaire du compte",
        "iban": "IBAN",
        "bic": "BIC",
        "bank": "Banque",
        "account_number": "Numéro de compte",
        "sort_code": "Sort code",
        "routing_number": "Numéro de routage",
        "pay_by": (
            "Merci de virer {amount} au plus tard le {date} en indiquant la référence {reference}."
        ),
        "pay_now": "Merci de virer {amount} en indiquant la référence {reference}.",
        "credit_settlement": (
            "Le montant de l'avoir sera remboursé ou imputé sur vos factures en cours."
        ),
        "payment_terms": "Conditions de paiement",
        "due_on_receipt": "Payable à réception.",
        "notes": "Remarques",
        "legal_notes": "Mentions fiscales",
        "page": "Page {page} sur {pages}",
        "thanks": "Merci pour votre confiance.",
    },
    "es": {
        "invoice": "Factura",
        "credit_note": "Factura rectificativa",
        "invoice_number": "Número de factura",
        "credit_note_number": "Número de rectificativa",
        "issue_date": "Fecha de emisión",
        "credit_note_date": "Fecha de emisión",
        "due_date": "Fecha de vencimiento",
        "delivery_date": "Fecha de entrega",
        "your_reference": "Su referencia",
        "original_invoice": "Factura original",
        "refers_to": "Esta factura rectificativa corrige la factura {number} de {date}.",
        "bill_to": "Facturar a",
        "customer": "Cliente",
        "vat_id": "NIF-IVA",
        "registration_id": "N.º de registro",
        "email": "Correo electrónico",
        "position": "N.º",
        "description": "Descripción",
        "qty": "Cant.",
        "unit_price": "Precio unitario",
        "discount": "Descuento",
        "vat": "IVA",
        "vat_rate": "Tipo de IVA",
        "net": "Importe neto",
        "subtotal": "Base imponible",
        "vat_total": "Total IVA",
        "total": "Total",
        "amount_due": "Importe a pagar",
        "amount_credited": "Importe a abonar",
        "vat_breakdown": "Desglose de IVA",
        "taxable_amount": "Base imponible",
        "payment_instructions": "Instrucciones de pago",
        "reference": "Referencia de pago",
        "account_holder": "Titular de la cuenta",
        "iban": "IBAN",
        "bic": "BIC/SWIFT",
        "bank": "Banco",
        "account_number": "Número de cuenta",
        "sort_code": "Sort code",
        "routing_number": "Número de ruta",
        "pay_by": (
            "Por favor, transfiera {amount} antes del {date} indicando la referencia {reference}."
        ),
        "pay_now": "Por favor, transfiera {amount} indicando la referencia {reference}.",
        "credit_settlement": (
            "El importe se le reembolsará o se compensará con facturas pendientes."
        ),
        "payment_terms": "Condiciones de pago",
        "due_on_receipt": "Pagadero a la recepción.",
        "notes": "Observaciones",
        "legal_notes": "Menciones fiscales",
        "page": "Página {page} de {pages}",
        "thanks": "Gracias por su confianza.",
    },
}

_CATEGORY_LABELS: dict[str, dict[TaxCategory, str]] = {
    "en": {
        TaxCategory.STANDARD: "Standard rate",
        TaxCategory.REDUCED: "Reduced rate",
        TaxCategory.ZERO: "Zero rate",
        TaxCategory.EXEMPT: "Exempt",
        TaxCategory.REVERSE_CHARGE: "Reverse charge",
        TaxCategory.INTRA_COMMUNITY: "Intra-community supply",
        TaxCategory.EXPORT: "Export",
        TaxCategory.OUTSIDE_SCOPE: "Not subject to VAT",
    },
    "de": {
        TaxCategory.STANDARD: "Regelsteuersatz",
        TaxCategory.REDUCED: "Ermäßigter Steuersatz",
        TaxCategory.ZERO: "Nullsatz",
        TaxCategory.EXEMPT: "Steuerfrei",
        TaxCategory.REVERSE_CHARGE: "Reverse Charge",
        TaxCategory.INTRA_COMMUNITY: "Innergemeinschaftliche Lieferung",
        TaxCategory.EXPORT: "Ausfuhr",
        TaxCategory.OUTSIDE_SCOPE: "Nicht steuerbar",
    },
    "nl": {
        TaxCategory.STANDARD: "Standaardtarief",
        TaxCategory.REDUCED: "Verlaagd tarief",
        TaxCategory.ZERO: "Nultarief",
        TaxCategory.EXEMPT: "Vrijgesteld",
        TaxCategory.REVERSE_CHARGE: "Btw verlegd",
        TaxCategory.INTRA_COMMUNITY: "Intracommunautaire levering",
        TaxCategory.EXPORT: "Uitvoer",
        TaxCategory.OUTSIDE_SCOPE: "Niet onderworpen aan btw",
    },
    "fr": {
        TaxCategory.STANDARD: "Taux normal",
        TaxCategory.REDUCED: "Taux réduit",
        TaxCategory.ZERO: "Taux zéro",
        TaxCategory.EXEMPT: "Exonéré",
        TaxCategory.REVERSE_CHARGE: "Autoliquidation",
        TaxCategory.INTRA_COMMUNITY: "Livraison intracommunautaire",
        TaxCategory.EXPORT: "Exportation",
        TaxCategory.OUTSIDE_SCOPE: "Hors champ de la TVA",
    },
    "es": {
        TaxCategory.STANDARD: "Tipo general",
        TaxCategory.REDUCED: "Tipo reducido",
        TaxCategory.ZERO: "Tipo cero",
        TaxCategory.EXEMPT: "Exento",
        TaxCategory.REVERSE_CHARGE: "Inversión del sujeto pasivo",
        TaxCategory.INTRA_COMMUNITY: "Entrega intracomunitaria",
        TaxCategory.EXPORT: "Exportación",
        TaxCategory.OUTSIDE_SCOPE: "No sujeto a IVA",
    },
}

# The notes a category needs on the document (Art. 226 (11)-(11a) Directive 2006/112/EC:
# the exemption or the reverse charge must be stated). Standard and zero rate need none.
_LEGAL_NOTES: dict[str, dict[TaxCategory, str]] = {
    "en": {
        TaxCategory.REVERSE_CHARGE: (
            "Reverse charge – VAT to be accounted for by the recipient "
            "(Article 196 Council Directive 2006/112/EC)"
        ),
        TaxCategory.EXEMPT: "Exempt from VAT",
        TaxCategory.OUTSIDE_SCOPE: "Not subject to VAT (outside the scope of VAT)",
        TaxCategory.INTRA_COMMUNITY: (
            "Intra-community supply – exempt from VAT (Article 138 Council Directive 2006/112/EC)"
        ),
        TaxCategory.EXPORT: (
            "Export outside the EU – exempt from VAT (Article 146 Council Directive 2006/112/EC)"
        ),
    },
    "de": {
        TaxCategory.REVERSE_CHARGE: (
            "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge) – "
            "Artikel 196 MwSt-Systemrichtlinie 2006/112/EG"
        ),
        TaxCategory.EXEMPT: "Steuerfreie Leistung",
        TaxCategory.OUTSIDE_SCOPE: "Nicht steuerbarer Umsatz",
        TaxCategory.INTRA_COMMUNITY: (
            "Steuerfreie innergemeinschaftliche Lieferung "
            "(Artikel 138 MwSt-Systemrichtlinie 2006/112/EG)"
        ),
        TaxCategory.EXPORT: (
            "Steuerfreie Ausfuhrlieferung (Artikel 146 MwSt-Systemrichtlinie 2006/112/EG)"
        ),
    },
    "nl": {
        TaxCategory.REVERSE_CHARGE: (
            "Btw verlegd – de btw wordt verlegd naar de afnemer "
            "(artikel 196 Btw-richtlijn 2006/112/EG)"
        ),
        TaxCategory.EXEMPT: "Vrijgesteld van btw",
        TaxCategory.OUTSIDE_SCOPE: "Niet onderworpen aan btw (buiten de reikwijdte van de btw)",
        TaxCategory.INTRA_COMMUNITY: (
            "Intracommunautaire levering – vrijgesteld van btw "
            "(artikel 138 Btw-richtlijn 2006/112/EG)"
        ),
        TaxCategory.EXPORT: (
            "Uitvoer buiten de EU – vrijgesteld van btw (artikel 146 Btw-richtlijn 2006/112/EG)"
        ),
    },
    "fr": {
        TaxCategory.REVERSE_CHARGE: (
            "Autoliquidation – TVA due par le preneur (article 196 de la directive 2006/112/CE)"
        ),
        TaxCategory.EXEMPT: "Exonération de TVA",
        TaxCategory.OUTSIDE_SCOPE: "Opération non soumise à la TVA (hors champ d'application)",
        TaxCategory.INTRA_COMMUNITY: (
            "Livraison intracommunautaire exonérée de TVA (article 138 de la directive 2006/112/CE)"
        ),
        TaxCategory.EXPORT: (
            "Exportation hors UE exonérée de TVA (article 146 de la directive 2006/112/CE)"
        ),
    },
    "es": {
        TaxCategory.REVERSE_CHARGE: (
            "Inversión del sujeto pasivo – IVA a cargo del destinatario "
            "(artículo 196 de la Directiva 2006/112/CE)"
        ),
        TaxCategory.EXEMPT: "Operación exenta de IVA",
        TaxCategory.OUTSIDE_SCOPE: "Operación no sujeta a IVA",
        TaxCategory.INTRA_COMMUNITY: (
            "Entrega intracomunitaria exenta de IVA (artículo 138 de la Directiva 2006/112/CE)"
        ),
        TaxCategory.EXPORT: (
            "Exportación fuera de la UE exenta de IVA (artículo 146 de la Directiva 2006/112/CE)"
        ),
    },
}

# billing.tax.ROUNDING_RULE in each language.
_ROUNDING_RULE = {
    "en": (
        "VAT is calculated per VAT category and rate on the sum of the line net amounts, "
        "rounded half-up to the currency's smallest unit."
    ),
    "de": (
        "Die Umsatzsteuer wird je Steuerkategorie und Steuersatz auf die Summe der "
        "Nettobeträge der Positionen berechnet und kaufmännisch auf die kleinste "
        "Währungseinheit gerundet."
    ),
    "nl": (
        "De btw wordt per btw-categorie en -tarief berekend over de som van de "
        "nettoregelbedragen en rekenkundig afgerond op de kleinste munteenheid."
    ),
    "fr": (
        "La TVA est calculée par catégorie et par taux sur la somme des montants HT des "
        "lignes, arrondie au plus proche à la plus petite unité de la devise."
    ),
    "es": (
        "El IVA se calcula por categoría y tipo sobre la suma de los importes netos de las "
        "líneas, con redondeo comercial a la unidad monetaria más pequeña."
    ),
}


def language_of(language: str | None) -> str:
    """The catalogue language for a client language tag (``de-AT`` → ``de``, unknown → ``en``)."""
    if not language:
        return DEFAULT_LANGUAGE
    base = language.replace("_", "-").split("-", 1)[0].strip().lower()
    return base if base in _LABELS else DEFAULT_LANGUAGE


def labels(language: str | None) -> Mapping[str, str]:
    """All labels in the client's language (read-only)."""
    return _FROZEN_LABELS[language_of(language)]


def category_label(category: TaxCategory, language: str | None) -> str:
    """The short name of a tax category, as printed in the VAT breakdown."""
    return _CATEGORY_LABELS[language_of(language)][category]


def legal_note(category: TaxCategory, language: str | None) -> str | None:
    """The legal note a tax category needs on the invoice, or None (standard, zero rate)."""
    return _LEGAL_NOTES[language_of(language)].get(category)


def rounding_rule(language: str | None) -> str:
    """How VAT was rounded (billing.tax.ROUNDING_RULE), printed on every document."""
    return _ROUNDING_RULE[language_of(language)]


def catalogue_gaps() -> list[str]:
    """Keys missing in a language compared with English (empty when the catalogue is complete)."""
    gaps: list[str] = []
    for table_name, table in (
        ("labels", _LABELS),
        ("categories", _CATEGORY_LABELS),
        ("legal notes", _LEGAL_NOTES),
        ("rounding rule", {k: {"rule": v} for k, v in _ROUNDING_RULE.items()}),
    ):
        reference = set(table["en"])
        for lang in LANGUAGES:
            missing = reference - set(table.get(lang, {}))
            gaps.extend(f"{table_name}[{lang}]: {key}" for key in sorted(map(str, missing)))
    return gaps


_FROZEN_LABELS = {lang: MappingProxyType(table) for lang, table in _LABELS.items()}


def exemption_text(category: TaxCategory, reason: str | None, language: str | None) -> str | None:
    """The note printed (and sent as BT-120) for a VAT breakdown row.

    The category's legal note in the client's language, followed by the line's own reason when
    it gave one (e.g. the national article an exemption rests on). Billing's English default
    reason is replaced by the translated note.
    """
    note = legal_note(category, language)
    custom = reason if reason and reason != category.default_exemption_reason else None
    if note and custom:
        return f"{note} – {custom}"
    return note or custom
