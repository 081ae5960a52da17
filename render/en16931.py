"""EN 16931 business rules, checked on a CII (Factur-X) XML without a Schematron engine.

The official rules are Schematron with XPath 2.0 (``cii/schematron`` in the
ConnectingEurope validation artefacts); no XSLT 2.0 engine runs offline here, so this module
re-states the rules the renderer can break, from their text:

- the VAT category rules for standard (BR-S-*), zero-rated (BR-Z-*), exempt (BR-E-*),
  reverse charge (BR-AE-*), intra-community (BR-IC-*), export (BR-G-*) and not subject to VAT
  (BR-O-*): breakdown present, party VAT identifiers, line rates, taxable amounts, tax
  amounts, exemption reasons, and BR-O-11..14 (no other category next to 'O');
- the arithmetic BR-CO-10, -13, -14, -15, -16, -17;
- the decimals BR-DEC-09..20 and -23..25 (at most two decimals in amounts);
- the structural rules the e-invoice relies on: BR-16, BR-27, BR-45..48, BR-55, BR-61,
  BR-CO-04, BR-CO-09, BR-CO-18, BR-CO-26.

Amounts are compared exactly, as the rules' text states them ("shall equal", "rounded to two
decimals"); the official Schematron allows ±1 on some of them, so anything passing here passes
there. :func:`check_en16931_rules` is pure: bytes in, one line per violation out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from lxml import etree

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
}

RULES: dict[str, str] = {
    "BR-16": "An Invoice shall have at least one Invoice line (BG-25).",
    "BR-27": "The Item net price (BT-146) shall NOT be negative.",
    "BR-45": "Each VAT breakdown (BG-23) shall have a VAT category taxable amount (BT-116).",
    "BR-46": "Each VAT breakdown (BG-23) shall have a VAT category tax amount (BT-117).",
    "BR-47": "Each VAT breakdown (BG-23) shall be defined through a VAT category code (BT-118).",
    "BR-48": (
        "Each VAT breakdown (BG-23) shall have a VAT category rate (BT-119), except if the "
        "Invoice is not subject to VAT."
    ),
    "BR-55": "Each Preceding Invoice reference (BG-3) shall contain a Preceding Invoice "
    "reference (BT-25).",
    "BR-61": (
        "If the Payment means type code (BT-81) means SEPA credit transfer, Local credit "
        "transfer or Non-SEPA international credit transfer, the Payment account identifier "
        "(BT-84) shall be present."
    ),
    "BR-CO-04": "Each Invoice line (BG-25) shall be categorized with an Invoiced item VAT "
    "category code (BT-151).",
    "BR-CO-09": (
        "The Seller VAT identifier (BT-31), the Seller tax representative VAT identifier "
        "(BT-63) and the Buyer VAT identifier (BT-48) shall have a prefix in accordance with "
        "ISO code ISO 3166-1 alpha-2 by which the country of issue may be identified. "
        "Nevertheless, Greece may use the prefix 'EL'."
    ),
    "BR-CO-10": "Sum of Invoice line net amount (BT-106) = Σ Invoice line net amount (BT-131).",
    "BR-CO-13": (
        "Invoice total amount without VAT (BT-109) = Σ Invoice line net amount (BT-131) - Sum "
        "of allowances on document level (BT-107) + Sum of charges on document level (BT-108)."
    ),
    "BR-CO-14": "Invoice total VAT amount (BT-110) = Σ VAT category tax amount (BT-117).",
    "BR-CO-15": (
        "Invoice total amount with VAT (BT-112) = Invoice total amount without VAT (BT-109) "
        "+ Invoice total VAT amount (BT-110)."
    ),
    "BR-CO-16": (
        "Amount due for payment (BT-115) = Invoice total amount with VAT (BT-112) - Paid "
        "amount (BT-113) + Rounding amount (BT-114)."
    ),
    "BR-CO-17": (
        "VAT category tax amount (BT-117) = VAT category taxable amount (BT-116) x (VAT "
        "category rate (BT-119) / 100), rounded to two decimals."
    ),
    "BR-CO-18": "An Invoice shall at least have one VAT breakdown group (BG-23).",
    "BR-CO-26": (
        "In order for the buyer to automatically identify a supplier, the Seller identifier "
        "(BT-29), the Seller legal registration identifier (BT-30) and/or the Seller VAT "
        "identifier (BT-31) shall be present."
    ),
    "BR-O-11": (
        "An Invoice that contains a VAT breakdown group (BG-23) with a VAT category code "
        "(BT-118) 'Not subject to VAT' shall not contain other VAT breakdown groups (BG-23)."
    ),
    "BR-O-12": (
        "An Invoice that contains a VAT breakdown group (BG-23) with a VAT category code "
        "(BT-118) 'Not subject to VAT' shall not contain an Invoice line (BG-25) where the "
        "Invoiced item VAT category code (BT-151) is not 'Not subject to VAT'."
    ),
    "BR-O-13": (
        "An Invoice that contains a VAT breakdown group (BG-23) with a VAT category code "
        "(BT-118) 'Not subject to VAT' shall not contain Document level allowances (BG-20) "
        "where Document level allowance VAT category code (BT-95) is not 'Not subject to VAT'."
    ),
    "BR-O-14": (
        "An Invoice that contains a VAT breakdown group (BG-23) with a VAT category code "
        "(BT-118) 'Not subject to VAT' shall not contain Document level charges (BG-21) where "
        "Document level charge VAT category code (BT-102) is not 'Not subject to VAT'."
    ),
    "BR-IC-11": (
        "In an Invoice with a VAT breakdown (BG-23) where the VAT category code (BT-118) is "
        "'Intra-community supply' the Actual delivery date (BT-72) or the Invoicing period "
        "(BG-14) shall not be blank."
    ),
    "BR-IC-12": (
        "In an Invoice with a VAT breakdown (BG-23) where the VAT category code (BT-118) is "
        "'Intra-community supply' the Deliver to country code (BT-80) shall not be blank."
    ),
}

# BR-DEC rules: (rule, business term, where the amount sits).
_DECIMAL_RULES = (
    ("BR-DEC-09", "Sum of Invoice line net amount (BT-106)", "LineTotalAmount"),
    ("BR-DEC-10", "Sum of allowances on document level (BT-107)", "AllowanceTotalAmount"),
    ("BR-DEC-11", "Sum of charges on document level (BT-108)", "ChargeTotalAmount"),
    ("BR-DEC-12", "Invoice total amount without VAT (BT-109)", "TaxBasisTotalAmount"),
    ("BR-DEC-13", "Invoice total VAT amount (BT-110)", "TaxTotalAmount"),
    ("BR-DEC-14", "Invoice total amount with VAT (BT-112)", "GrandTotalAmount"),
    ("BR-DEC-16", "Paid amount (BT-113)", "TotalPrepaidAmount"),
    ("BR-DEC-17", "Rounding amount (BT-114)", "RoundingAmount"),
    ("BR-DEC-18", "Amount due for payment (BT-115)", "DuePayableAmount"),
)
for _rule, _term, _ in _DECIMAL_RULES:
    RULES[_rule] = f"The allowed maximum number of decimals for the {_term} is 2."
RULES["BR-DEC-19"] = (
    "The allowed maximum number of decimals for the VAT category taxable amount (BT-116) is 2."
)
RULES["BR-DEC-20"] = (
    "The allowed maximum number of decimals for the VAT category tax amount (BT-117) is 2."
)
RULES["BR-DEC-23"] = (
    "The allowed maximum number of decimals for the Invoice line net amount (BT-131) is 2."
)
RULES["BR-DEC-24"] = (
    "The allowed maximum number of decimals for the Invoice line allowance amount (BT-136) is 2."
)
RULES["BR-DEC-25"] = (
    "The allowed maximum number of decimals for the Invoice line allowance base amount "
    "(BT-137) is 2."
)


@dataclass(frozen=True)
class _Category:
    """How the rules of one VAT category code read (BR-S, BR-Z, BR-E, BR-AE, BR-IC, BR-G, BR-O)."""

    prefix: str
    name: str
    seller_fc_counts: bool  # BT-32 (schemeID FC) satisfies the seller-identifier rule
    needs_buyer_vat: bool
    buyer_legal_id_counts: bool
    forbids_vat_ids: bool = False
    exactly_one_breakdown: bool = True
    rate: str = "zero"  # "positive", "zero" or "absent"
    needs_reason: bool = True


_CATEGORIES = {
    "S": _Category(
        "BR-S",
        "Standard rated",
        True,
        False,
        False,
        exactly_one_breakdown=False,
        rate="positive",
        needs_reason=False,
    ),
    "Z": _Category("BR-Z", "Zero rated", True, False, False, needs_reason=False),
    "E": _Category("BR-E", "Exempt from VAT", True, False, False),
    "AE": _Category("BR-AE", "Reverse charge", True, True, True),
    "K": _Category("BR-IC", "Intra-community supply", False, True, False),
    "G": _Category("BR-G", "Export outside the EU", False, False, False),
    "O": _Category(
        "BR-O", "Not subject to VAT", False, False, False, forbids_vat_ids=True, rate="absent"
    ),
}


def _category_rule_texts() -> None:
    """Fill RULES with the text of each category rule, phrased as in the standard."""
    for code, cat in _CATEGORIES.items():
        n, p = cat.name, cat.prefix
        if cat.exactly_one_breakdown:
            RULES[f"{p}-01"] = (
                f"An Invoice that contains an Invoice line (BG-25), a Document level allowance "
                f"(BG-20) or a Document level charge (BG-21) where the VAT category code "
                f"(BT-151, BT-95 or BT-102) is '{n}' shall contain exactly one VAT breakdown "
                f"(BG-23) with the VAT category code (BT-118) equal to '{n}'."
            )
        else:
            RULES[f"{p}-01"] = (
                f"An Invoice that contains an Invoice line (BG-25), a Document level allowance "
                f"(BG-20) or a Document level charge (BG-21) where the VAT category code "
                f"(BT-151, BT-95 or BT-102) is '{n}' shall contain in the VAT breakdown (BG-23) "
                f"at least one VAT category code (BT-118) equal with '{n}'."
            )
        if cat.forbids_vat_ids:
            parties = (
                "shall not contain the Seller VAT identifier (BT-31), the Seller tax "
                "representative VAT identifier (BT-63) or the Buyer VAT identifier (BT-48)"
            )
        else:
            seller = (
                "the Seller VAT Identifier (BT-31), the Seller tax registration identifier "
                "(BT-32) and/or the Seller tax representative VAT identifier (BT-63)"
                if cat.seller_fc_counts
                else "the Seller VAT Identifier (BT-31) or the Seller tax representative VAT "
                "identifier (BT-63)"
            )
            buyer = ""
            if cat.needs_buyer_vat:
                buyer = (
                    " and the Buyer VAT identifier (BT-48) and/or the Buyer legal registration "
                    "identifier (BT-47)"
                    if cat.buyer_legal_id_counts
                    else " and the Buyer VAT identifier (BT-48)"
                )
            parties = f"shall contain {seller}{buyer}"
        for number, what in (
            ("02", "an Invoice line (BG-25) where the Invoiced item VAT category code (BT-151)"),
            (
                "03",
                "a Document level allowance (BG-20) where the Document level allowance VAT "
                "category code (BT-95)",
            ),
            (
                "04",
                "a Document level charge (BG-21) where the Document level charge VAT "
                "category code (BT-102)",
            ),
        ):
            RULES[f"{p}-{number}"] = f"An Invoice that contains {what} is '{n}' {parties}."
        rate_text = {
            "positive": "shall be greater than zero",
            "zero": "shall be 0 (zero)",
            "absent": "shall not be present",
        }[cat.rate]
        RULES[f"{p}-05"] = (
            f"In an Invoice line (BG-25) where the Invoiced item VAT category code (BT-151) is "
            f"'{n}' the Invoiced item VAT rate (BT-152) {rate_text}."
        )
        RULES[f"{p}-06"] = (
            f"In a Document level allowance (BG-20) where the Document level allowance VAT "
            f"category code (BT-95) is '{n}' the Document level allowance VAT rate (BT-96) "
            f"{rate_text}."
        )
        RULES[f"{p}-07"] = (
            f"In a Document level charge (BG-21) where the Document level charge VAT category "
            f"code (BT-102) is '{n}' the Document level charge VAT rate (BT-103) {rate_text}."
        )
        per_rate = " for each different value of VAT category rate (BT-119)" if code == "S" else ""
        RULES[f"{p}-08"] = (
            f"In a VAT breakdown (BG-23) where the VAT category code (BT-118) is '{n}'"
            f"{per_rate} the VAT category taxable amount (BT-116) shall equal the sum of "
            f"Invoice line net amounts (BT-131) minus the sum of Document level allowance "
            f"amounts (BT-92) plus the sum of Document level charge amounts (BT-99) where the "
            f"VAT category codes (BT-151, BT-95, BT-102) are '{n}'."
        )
        RULES[f"{p}-09"] = (
            f"The VAT category tax amount (BT-117) in a VAT breakdown (BG-23) where the VAT "
            f"category code (BT-118) is '{n}' shall "
            + (
                "equal the VAT category taxable amount (BT-116) multiplied by the VAT category "
                "rate (BT-119)."
                if code == "S"
                else "be 0 (zero)."
            )
        )
        RULES[f"{p}-10"] = (
            f"A VAT Breakdown (BG-23) with VAT Category code (BT-118) '{n}' shall "
            + (
                "have a VAT exemption reason code (BT-121) or a VAT exemption reason text (BT-120)."
                if cat.needs_reason
                else "not have a VAT exemption reason code (BT-121) or VAT exemption reason "
                "text (BT-120)."
            )
        )


_category_rule_texts()

CENT = Decimal("0.01")


def _round2(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _decimals(text: str) -> int:
    """Digits after the decimal point, as BR-DEC counts them (``substring-after(., '.')``)."""
    return len(text.strip().partition(".")[2])


@dataclass
class _Amount:
    text: str
    value: Decimal | None


def _amount(node: etree._Element | None) -> _Amount | None:
    if node is None or node.text is None:
        return None
    text = node.text.strip()
    try:
        return _Amount(text, Decimal(text))
    except InvalidOperation:
        return _Amount(text, None)


def _value(amount: _Amount | None) -> Decimal:
    return amount.value if amount is not None and amount.value is not None else Decimal(0)


@dataclass
class _Tax:
    """A category and rate as they appear on a line, an allowance/charge or a breakdown."""

    code: str
    rate: _Amount | None
    reason: str | None = None
    reason_code: str | None = None


@dataclass
class _Line:
    line_id: str
    net: _Amount | None
    price: _Amount | None
    tax: _Tax | None
    allowances: list[tuple[_Amount | None, _Amount | None]] = field(default_factory=list)


@dataclass
class _AllowanceCharge:
    is_charge: bool
    amount: _Amount | None
    tax: _Tax | None


@dataclass
class _Breakdown:
    basis: _Amount | None
    tax_amount: _Amount | None
    tax: _Tax


def _text(node: etree._Element, path: str) -> str | None:
    found = node.find(path, NS)
    if found is None or found.text is None:
        return None
    return found.text.strip()


def _tax(node: etree._Element | None) -> _Tax | None:
    if node is None:
        return None
    code = _text(node, "ram:CategoryCode")
    if code is None:
        return None
    return _Tax(
        code=code,
        rate=_amount(node.find("ram:RateApplicablePercent", NS)),
        reason=_text(node, "ram:ExemptionReason"),
        reason_code=_text(node, "ram:ExemptionReasonCode"),
    )


# BR-CO-09: ISO 3166-1 alpha-2 codes as listed by the official Schematron, with EL (Greece),
# XI (Northern Ireland) and 1A (Kosovo).
# fmt: off
VAT_PREFIXES = frozenset([
    "1A", "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AN", "AO", "AQ", "AR", "AS", "AT", "AU", "AW",
    "AX", "AZ", "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BL", "BJ", "BM", "BN", "BO", "BQ",
    "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL",
    "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ",
    "EC", "EE", "EG", "EH", "EL", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB",
    "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW",
    "GY", "HK", "HM", "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS",
    "IT", "JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ",
    "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF",
    "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX",
    "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA",
    "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO",
    "RS", "RU", "RW", "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN",
    "SO", "SR", "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM",
    "TN", "TO", "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE",
    "VG", "VI", "VN", "VU", "WF", "WS", "XI", "YE", "YT", "ZA", "ZM", "ZW",
])
# fmt: on


def _parser() -> etree.XMLParser:
    # No DTDs, no entities, no network: the XML may come from elsewhere (extract_xml).
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


class _Checker:
    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self.violations: list[str] = []
        tx = root.find("rsm:SupplyChainTradeTransaction", NS)
        self.tx = tx if tx is not None else etree.Element("empty")
        agreement = self.tx.find("ram:ApplicableHeaderTradeAgreement", NS)
        self.agreement = agreement if agreement is not None else etree.Element("empty")
        settlement = self.tx.find("ram:ApplicableHeaderTradeSettlement", NS)
        self.settlement = settlement if settlement is not None else etree.Element("empty")
        self.currency = _text(self.settlement, "ram:InvoiceCurrencyCode")
        self.lines = [
            self._line(node) for node in self.tx.findall("ram:IncludedSupplyChainTradeLineItem", NS)
        ]
        self.doc_allowances_charges = [
            _AllowanceCharge(
                is_charge=_text(node, "ram:ChargeIndicator/udt:Indicator") == "true",
                amount=_amount(node.find("ram:ActualAmount", NS)),
                tax=_tax(node.find("ram:CategoryTradeTax", NS)),
            )
            for node in self.settlement.findall("ram:SpecifiedTradeAllowanceCharge", NS)
        ]
        self.breakdown = []
        for node in self.settlement.findall("ram:ApplicableTradeTax", NS):
            tax = _tax(node) or _Tax(code="", rate=None)
            self.breakdown.append(
                _Breakdown(
                    basis=_amount(node.find("ram:BasisAmount", NS)),
                    tax_amount=_amount(node.find("ram:CalculatedAmount", NS)),
                    tax=tax,
                )
            )

    def _line(self, node: etree._Element) -> _Line:
        settlement = node.find("ram:SpecifiedLineTradeSettlement", NS)
        allowances = []
        tax = None
        net = None
        if settlement is not None:
            tax = _tax(settlement.find("ram:ApplicableTradeTax", NS))
            net = _amount(
                settlement.find(
                    "ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount", NS
                )
            )
            for ac in settlement.findall("ram:SpecifiedTradeAllowanceCharge", NS):
                if _text(ac, "ram:ChargeIndicator/udt:Indicator") == "false":
                    allowances.append(
                        (
                            _amount(ac.find("ram:ActualAmount", NS)),
                            _amount(ac.find("ram:BasisAmount", NS)),
                        )
                    )
        return _Line(
            line_id=_text(node, "ram:AssociatedDocumentLineDocument/ram:LineID") or "?",
            net=net,
            price=_amount(
                node.find(
                    "ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice/ram:ChargeAmount",
                    NS,
                )
            ),
            tax=tax,
            allowances=allowances,
        )

    # -- helpers ---------------------------------------------------------------------------

    def fail(self, rule: str, detail: str | None = None) -> None:
        message = f"{rule}: {RULES[rule]}"
        if detail:
            message += f" ({detail})"
        if message not in self.violations:
            self.violations.append(message)

    def _tax_ids(self, party: str, scheme: str) -> list[str]:
        return [
            (node.text or "").strip()
            for node in self.agreement.findall(
                f"ram:{party}/ram:SpecifiedTaxRegistration/ram:ID", NS
            )
            if node.get("schemeID") == scheme
        ]

    def _has(self, path: str) -> bool:
        node = self.agreement.find(path, NS)
        return node is not None and bool((node.text or "").strip())

    # -- the rules ---------------------------------------------------------------------------

    def run(self) -> list[str]:
        self.structure()
        self.decimals()
        self.arithmetic()
        self.parties()
        for code, category in _CATEGORIES.items():
            self.category(code, category)
        self.outside_scope_alone()
        self.intra_community_delivery()
        return self.violations

    def structure(self) -> None:
        if not self.lines:
            self.fail("BR-16")
        if not self.breakdown:
            self.fail("BR-CO-18")
        for line in self.lines:
            if line.tax is None:
                self.fail("BR-CO-04", f"line {line.line_id}")
            if line.price is not None and _value(line.price) < 0:
                self.fail("BR-27", f"line {line.line_id}")
        for row in self.breakdown:
            if row.basis is None:
                self.fail("BR-45")
            if row.tax_amount is None:
                self.fail("BR-46")
            if not row.tax.code:
                self.fail("BR-47")
            if row.tax.rate is None and row.tax.code != "O":
                self.fail("BR-48", f"category {row.tax.code}")
        for ref in self.settlement.findall("ram:InvoiceReferencedDocument", NS):
            if not _text(ref, "ram:IssuerAssignedID"):
                self.fail("BR-55")
        for means in self.settlement.findall("ram:SpecifiedTradeSettlementPaymentMeans", NS):
            if _text(means, "ram:TypeCode") in ("30", "58"):
                account = means.find("ram:PayeePartyCreditorFinancialAccount", NS)
                if account is None or not (
                    _text(account, "ram:IBANID") or _text(account, "ram:ProprietaryID")
                ):
                    self.fail("BR-61")

    def _summation(self) -> etree._Element:
        node = self.settlement.find("ram:SpecifiedTradeSettlementHeaderMonetarySummation", NS)
        return node if node is not None else etree.Element("empty")

    def decimals(self) -> None:
        summation = self._summation()
        for rule, _term, tag in _DECIMAL_RULES:
            for node in summation.findall(f"ram:{tag}", NS):
                if tag == "TaxTotalAmount" and node.get("currencyID") != self.currency:
                    continue  # BT-111 (accounting currency) is BR-DEC-15, not used here
                if node.text and _decimals(node.text) > 2:
                    self.fail(rule, f"{tag} {node.text.strip()}")
        for row in self.breakdown:
            if row.basis and _decimals(row.basis.text) > 2:
                self.fail("BR-DEC-19", row.basis.text)
            if row.tax_amount and _decimals(row.tax_amount.text) > 2:
                self.fail("BR-DEC-20", row.tax_amount.text)
        for line in self.lines:
            if line.net and _decimals(line.net.text) > 2:
                self.fail("BR-DEC-23", f"line {line.line_id}: {line.net.text}")
            for amount, base in line.allowances:
                if amount and _decimals(amount.text) > 2:
                    self.fail("BR-DEC-24", f"line {line.line_id}: {amount.text}")
                if base and _decimals(base.text) > 2:
                    self.fail("BR-DEC-25", f"line {line.line_id}: {base.text}")

    def arithmetic(self) -> None:
        s = self._summation()

        def total(tag: str) -> _Amount | None:
            return _amount(s.find(f"ram:{tag}", NS))

        # BT-110 is the TaxTotalAmount in the invoice currency; BT-111 (accounting currency)
        # may sit beside it. BR-CO-15 wants exactly one in the invoice currency.
        tax_totals = [
            node
            for node in s.findall("ram:TaxTotalAmount", NS)
            if node.get("currencyID") == self.currency
        ]

        line_total = total("LineTotalAmount")
        allowances = total("AllowanceTotalAmount")
        charges = total("ChargeTotalAmount")
        basis = total("TaxBasisTotalAmount")
        tax = _amount(tax_totals[0]) if tax_totals else None
        grand = total("GrandTotalAmount")
        prepaid = total("TotalPrepaidAmount")
        rounding = total("RoundingAmount")
        due = total("DuePayableAmount")

        lines_sum = _round2(sum((_value(line.net) for line in self.lines), Decimal(0)))
        if _value(line_total) != lines_sum:
            self.fail("BR-CO-10", f"BT-106 {_value(line_total)} ≠ Σ BT-131 {lines_sum}")
        expected_basis = _round2(_value(line_total) - _value(allowances) + _value(charges))
        if _value(basis) != expected_basis:
            self.fail("BR-CO-13", f"BT-109 {_value(basis)} ≠ {expected_basis}")
        tax_sum = _round2(sum((_value(row.tax_amount) for row in self.breakdown), Decimal(0)))
        if tax_totals and _value(tax) != tax_sum:
            self.fail("BR-CO-14", f"BT-110 {_value(tax)} ≠ Σ BT-117 {tax_sum}")
        # An invoice without VAT may omit BT-110; then BT-112 equals BT-109.
        if _value(grand) != _value(basis):
            if len(tax_totals) != 1:
                self.fail(
                    "BR-CO-15",
                    f"{len(tax_totals)} invoice total VAT amounts (BT-110) in {self.currency}",
                )
            elif _value(grand) != _value(basis) + _value(tax):
                self.fail("BR-CO-15", f"BT-112 {_value(grand)} ≠ {_value(basis)} + {_value(tax)}")
        expected_due = _value(grand) - _value(prepaid) + _value(rounding)
        if _value(due) != expected_due:
            self.fail("BR-CO-16", f"BT-115 {_value(due)} ≠ {expected_due}")
        for row in self.breakdown:
            if row.tax.rate is None or row.tax.rate.value is None:
                continue
            expected = _round2(_value(row.basis) * row.tax.rate.value / Decimal(100))
            if _value(row.tax_amount) != expected:
                self.fail(
                    "BR-CO-17",
                    f"category {row.tax.code} {row.tax.rate.text} %: BT-117 "
                    f"{_value(row.tax_amount)} ≠ {expected}",
                )

    def parties(self) -> None:
        seller_ids = (
            self._has("ram:SellerTradeParty/ram:ID")
            or self._has("ram:SellerTradeParty/ram:GlobalID")
            or self._has("ram:SellerTradeParty/ram:SpecifiedLegalOrganization/ram:ID")
            or bool(self._tax_ids("SellerTradeParty", "VA"))
        )
        if not seller_ids:
            self.fail("BR-CO-26")
        for party in ("SellerTradeParty", "SellerTaxRepresentativeTradeParty", "BuyerTradeParty"):
            for vat_id in self._tax_ids(party, "VA"):
                if vat_id[:2] not in VAT_PREFIXES:
                    self.fail("BR-CO-09", vat_id)

    def _uses(self, code: str) -> tuple[list[_Line], list[_AllowanceCharge], list[_Breakdown]]:
        lines = [line for line in self.lines if line.tax is not None and line.tax.code == code]
        acs = [
            ac for ac in self.doc_allowances_charges if ac.tax is not None and ac.tax.code == code
        ]
        rows = [row for row in self.breakdown if row.tax.code == code]
        return lines, acs, rows

    def _party_rule_holds(self, category: _Category) -> bool:
        seller_vat = bool(self._tax_ids("SellerTradeParty", "VA"))
        seller_fc = bool(self._tax_ids("SellerTradeParty", "FC"))
        rep_vat = bool(self._tax_ids("SellerTaxRepresentativeTradeParty", "VA"))
        buyer_vat = bool(self._tax_ids("BuyerTradeParty", "VA"))
        if category.forbids_vat_ids:
            return not (seller_vat or rep_vat or buyer_vat)
        seller_ok = seller_vat or rep_vat or (category.seller_fc_counts and seller_fc)
        if not category.needs_buyer_vat:
            return seller_ok
        buyer_ok = buyer_vat or (
            category.buyer_legal_id_counts
            and self._has("ram:BuyerTradeParty/ram:SpecifiedLegalOrganization/ram:ID")
        )
        return seller_ok and buyer_ok

    def _rate_ok(self, category: _Category, rate: _Amount | None) -> bool:
        if category.rate == "absent":
            return rate is None
        if rate is None or rate.value is None:
            return False
        return rate.value > 0 if category.rate == "positive" else rate.value == 0

    def category(self, code: str, category: _Category) -> None:
        p = category.prefix
        lines, acs, rows = self._uses(code)
        if lines or acs:
            if category.exactly_one_breakdown and len(rows) != 1:
                self.fail(f"{p}-01", f"{len(rows)} breakdown(s) with code {code}")
            if not category.exactly_one_breakdown and not rows:
                self.fail(f"{p}-01")
        elif rows and category.exactly_one_breakdown:
            self.fail(f"{p}-01", f"a breakdown with code {code} but no line uses it")
        if not self._party_rule_holds(category):
            if lines:
                self.fail(f"{p}-02")
            if any(not ac.is_charge for ac in acs):
                self.fail(f"{p}-03")
            if any(ac.is_charge for ac in acs):
                self.fail(f"{p}-04")
        for line in lines:
            assert line.tax is not None
            if not self._rate_ok(category, line.tax.rate):
                self.fail(f"{p}-05", f"line {line.line_id}")
        for ac in acs:
            assert ac.tax is not None
            if not self._rate_ok(category, ac.tax.rate):
                self.fail(f"{p}-07" if ac.is_charge else f"{p}-06")
        for row in rows:
            rate = row.tax.rate.value if row.tax.rate is not None else None
            # BR-S-08 groups by rate; a standard row without a rate is BR-48's to report.
            if code != "S" or rate is not None:
                expected = self._taxable(code, rate if code == "S" else None)
                if _value(row.basis) != expected:
                    self.fail(f"{p}-08", f"BT-116 {_value(row.basis)} ≠ {expected}")
            if code == "S":
                expected_tax = _round2(_value(row.basis) * (rate or Decimal(0)) / Decimal(100))
                if _value(row.tax_amount) != expected_tax:
                    self.fail(f"{p}-09", f"BT-117 {_value(row.tax_amount)} ≠ {expected_tax}")
            elif _value(row.tax_amount) != 0:
                self.fail(f"{p}-09", f"BT-117 {_value(row.tax_amount)}")
            has_reason = bool(row.tax.reason or row.tax.reason_code)
            if has_reason != category.needs_reason:
                self.fail(f"{p}-10")

    def _taxable(self, code: str, rate: Decimal | None) -> Decimal:
        def matches(tax: _Tax | None) -> bool:
            if tax is None or tax.code != code:
                return False
            if rate is None:
                return True
            return tax.rate is not None and tax.rate.value == rate

        lines = sum((_value(ln.net) for ln in self.lines if matches(ln.tax)), Decimal(0))
        charges = sum(
            (
                _value(ac.amount)
                for ac in self.doc_allowances_charges
                if ac.is_charge and matches(ac.tax)
            ),
            Decimal(0),
        )
        allowances = sum(
            (
                _value(ac.amount)
                for ac in self.doc_allowances_charges
                if not ac.is_charge and matches(ac.tax)
            ),
            Decimal(0),
        )
        return _round2(lines) + _round2(charges) - _round2(allowances)

    def outside_scope_alone(self) -> None:
        if not any(row.tax.code == "O" for row in self.breakdown):
            return
        if any(row.tax.code != "O" for row in self.breakdown):
            self.fail("BR-O-11")
        if any(line.tax is not None and line.tax.code != "O" for line in self.lines):
            self.fail("BR-O-12")
        for ac in self.doc_allowances_charges:
            if ac.tax is not None and ac.tax.code != "O":
                self.fail("BR-O-14" if ac.is_charge else "BR-O-13")

    def intra_community_delivery(self) -> None:
        if not any(row.tax.code == "K" for row in self.breakdown):
            return
        delivery = self.tx.find("ram:ApplicableHeaderTradeDelivery", NS)
        delivery = delivery if delivery is not None else etree.Element("empty")
        has_date = _text(
            delivery, "ram:ActualDeliverySupplyChainEvent/ram:OccurrenceDateTime/udt:DateTimeString"
        )
        has_period = self.settlement.find("ram:BillingSpecifiedPeriod", NS) is not None
        if not (has_date or has_period):
            self.fail("BR-IC-11")
        if not _text(delivery, "ram:ShipToTradeParty/ram:PostalTradeAddress/ram:CountryID"):
            self.fail("BR-IC-12")


def check_en16931_rules(xml: bytes) -> list[str]:
    """Check a CII e-invoice against the EN 16931 rules listed in the module docstring.

    Returns one line per broken rule, ``"BR-AE-02: <rule text> (<detail>)"``, in a stable
    order; an empty list means every checked rule holds. Malformed XML yields one ``XML``
    entry instead of an exception.
    """
    try:
        root = etree.fromstring(xml, _parser())
    except etree.XMLSyntaxError as exc:
        return [f"XML: the document is not well-formed XML ({exc})"]
    return _Checker(root).run()


def rule_ids(violations: Iterable[str]) -> list[str]:
    """The rule identifiers of :func:`check_en16931_rules` output (``["BR-CO-15", …]``)."""
    return [violation.split(":", 1)[0] for violation in violations]
