"""VAT categories and the EN 16931 VAT breakdown.

Each line carries a tax category and a rate. The categories map to the EN 16931 VAT category
codes (UNTDID 5305) used in the e-invoice:

=================  ====  ==========================================================
category           code  rule
=================  ====  ==========================================================
standard           S     rate > 0
reduced            S     rate > 0 (a lower standard-category rate)
zero               Z     rate 0, zero-rated goods/services
exempt             E     rate 0, exemption reason required (BR-E-10)
reverse_charge     AE    rate 0, seller and buyer VAT ids required (BR-AE-02..04)
intra_community    K     rate 0, seller and buyer VAT ids required (BR-IC-02..04)
export             G     rate 0, export outside the EU (BR-G-02)
outside_scope      O     rate 0, not subject to VAT; no other category on the invoice
                         (BR-O-11..14) and no VAT ids in the e-invoice (BR-O-02)
=================  ====  ==========================================================

Rounding rule (printed on every invoice): VAT is computed once per (category, rate) on the sum
of the line net amounts in that group, then rounded half-up to the currency's minor unit —
never per line. This is how EN 16931 defines BT-117 (VAT category tax amount), and it makes
the invoice total equal the sum of lines plus VAT per category exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from billing.money import round_amount

ROUNDING_RULE = (
    "VAT is calculated per VAT category and rate on the sum of the line net amounts, "
    "rounded half-up to the currency's smallest unit."
)


class TaxCategory(StrEnum):
    """How a line is taxed; see the module docstring for the EN 16931 codes."""

    STANDARD = "standard"
    REDUCED = "reduced"
    ZERO = "zero"
    EXEMPT = "exempt"
    REVERSE_CHARGE = "reverse_charge"
    INTRA_COMMUNITY = "intra_community"
    EXPORT = "export"
    OUTSIDE_SCOPE = "outside_scope"

    @property
    def code(self) -> str:
        """The EN 16931 VAT category code (BT-118 / BT-151)."""
        return _CODES[self]

    @property
    def needs_positive_rate(self) -> bool:
        """Standard and reduced lines carry a rate above zero; all others carry zero."""
        return self in (TaxCategory.STANDARD, TaxCategory.REDUCED)

    @property
    def exemption_code(self) -> str | None:
        """The VATEX code (BT-121) for the zero-rate categories that need a reason."""
        return _VATEX.get(self)

    @property
    def default_exemption_reason(self) -> str | None:
        """The English legal note used when a line gives no reason of its own (BT-120)."""
        return _REASONS.get(self)


_CODES = {
    TaxCategory.STANDARD: "S",
    TaxCategory.REDUCED: "S",
    TaxCategory.ZERO: "Z",
    TaxCategory.EXEMPT: "E",
    TaxCategory.REVERSE_CHARGE: "AE",
    TaxCategory.INTRA_COMMUNITY: "K",
    TaxCategory.EXPORT: "G",
    TaxCategory.OUTSIDE_SCOPE: "O",
}

_VATEX = {
    TaxCategory.REVERSE_CHARGE: "VATEX-EU-AE",
    TaxCategory.INTRA_COMMUNITY: "VATEX-EU-IC",
    TaxCategory.EXPORT: "VATEX-EU-G",
    TaxCategory.OUTSIDE_SCOPE: "VATEX-EU-O",
}

_REASONS = {
    TaxCategory.EXEMPT: "Exempt from VAT",
    TaxCategory.REVERSE_CHARGE: "Reverse charge: VAT to be accounted for by the recipient",
    TaxCategory.INTRA_COMMUNITY: "Intra-community supply exempt from VAT",
    TaxCategory.EXPORT: "Export outside the EU, exempt from VAT",
    TaxCategory.OUTSIDE_SCOPE: "Not subject to VAT (outside the scope of VAT)",
}


def parse_category(value: str | None, rate: Decimal) -> TaxCategory:
    """Read a category name; without one, a positive rate means standard, zero means zero-rated."""
    if value is None or value == "":
        return TaxCategory.STANDARD if rate > 0 else TaxCategory.ZERO
    normalized = value.strip().lower().replace("-", "_").replace(" ", "_")
    aliases = {
        "ae": "reverse_charge",
        "reverse": "reverse_charge",
        "s": "standard",
        "z": "zero",
        "e": "exempt",
        "o": "outside_scope",
        "k": "intra_community",
        "g": "export",
        "zero_rated": "zero",
        "not_subject": "outside_scope",
    }
    normalized = aliases.get(normalized, normalized)
    return TaxCategory(normalized)


@dataclass(frozen=True, slots=True)
class VatBreakdown:
    """One row of the VAT breakdown (BG-23): a category and rate with its base and tax."""

    category: TaxCategory
    rate: Decimal
    taxable_amount: Decimal
    tax_amount: Decimal
    exemption_reason: str | None
    exemption_code: str | None

    @property
    def code(self) -> str:
        """EN 16931 VAT category code."""
        return self.category.code


@dataclass(frozen=True, slots=True)
class TaxableLine:
    """The part of a line the VAT breakdown needs."""

    net_amount: Decimal
    category: TaxCategory
    rate: Decimal
    exemption_reason: str | None = None


def canonical_rate(rate: Decimal) -> Decimal:
    """The rate without trailing zeros or exponent: ``20.00`` → ``20``, ``5.50`` → ``5.5``."""
    if rate == 0:
        return Decimal(0)
    normalized = rate.normalize()
    exponent = normalized.as_tuple().exponent
    # normalize() writes 20 as 2E+1, which would be printed and stored as "2E+1"
    return (
        normalized.quantize(Decimal(1))
        if isinstance(exponent, int) and exponent > 0
        else normalized
    )


def vat_breakdown(lines: list[TaxableLine], currency: str) -> tuple[VatBreakdown, ...]:
    """Group lines by (category code, rate) and compute VAT once per group (BR-CO-17).

    Standard and reduced share the code S and are grouped by rate. The first exemption reason
    given by a line of a group wins; otherwise the category's default legal note is used.
    Standard and zero-rated rows never carry a reason (BR-S-10, BR-Z-10).
    """
    groups: dict[tuple[str, Decimal], list[TaxableLine]] = {}
    for line in lines:
        groups.setdefault((line.category.code, canonical_rate(line.rate)), []).append(line)
    rows: list[VatBreakdown] = []
    for (code, rate), members in groups.items():
        category = TaxCategory.STANDARD if code == "S" else members[0].category
        base = round_amount(sum((m.net_amount for m in members), Decimal(0)), currency)
        tax = round_amount(base * rate / Decimal(100), currency)
        reason: str | None = None
        if category.default_exemption_reason is not None:
            reason = next((m.exemption_reason for m in members if m.exemption_reason), None)
            reason = reason or category.default_exemption_reason
        rows.append(
            VatBreakdown(
                category=category,
                rate=rate,
                taxable_amount=base,
                tax_amount=tax,
                exemption_reason=reason,
                exemption_code=category.exemption_code,
            )
        )
    rows.sort(key=lambda r: (-r.rate, r.code))
    return tuple(rows)
