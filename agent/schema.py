"""What a classifier makes of a human email: intents with evidence, references, dates, amounts.

Both classifiers (the offline rules and the OpenAI one) return a :class:`Classification`; the
policy gate reads it and decides. Nothing here acts: a classification is an opinion about a
message, checked in code (:func:`verify_evidence`) before anyone relies on it.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Intent(StrEnum):
    """What the sender wants, or what the message is (the billing-inbox taxonomy)."""

    copy_request = "copy_request"
    payment_confirmation = "payment_confirmation"
    promise_to_pay = "promise_to_pay"
    due_date_change = "due_date_change"
    dispute = "dispute"
    statement_request = "statement_request"
    payment_info_request = "payment_info_request"
    billing_details_change = "billing_details_change"
    tax_document_request = "tax_document_request"
    auto_reply = "auto_reply"
    bounce = "bounce"
    acknowledgement = "acknowledgement"
    spam_or_phishing = "spam_or_phishing"
    other = "other"


class Flag(StrEnum):
    """Warnings a classifier attaches for the gate; any of them may route a case to a person."""

    legal_language = "legal_language"
    insolvency = "insolvency"
    injection_suspected = "injection_suspected"
    low_confidence = "low_confidence"
    evidence_unverified = "evidence_unverified"
    dispute_in_quoted_text = "dispute_in_quoted_text"
    short_payment = "short_payment"
    conditional_payment = "conditional_payment"
    negated_payment = "negated_payment"
    email_address_in_body = "email_address_in_body"
    dispute_from_rules = "dispute_from_rules"


LOW_CONFIDENCE = 0.5
"""Below this, the primary intent is marked ``low_confidence``."""
UNVERIFIED_CAP = 0.3
"""The most confidence a finding keeps when none of its evidence is found in the message."""

_CURRENCY = re.compile(r"^[A-Z]{3}$")


class IntentFinding(BaseModel):
    """One intent found in a message, with the quotes and data that support it."""

    model_config = ConfigDict(frozen=True)

    intent: Intent = Field(description="The intent, from the billing-inbox taxonomy.")
    confidence: float = Field(
        ge=0.0, le=1.0, description="How sure the classifier is, from 0 (guess) to 1 (certain)."
    )
    evidence: list[str] = Field(
        default_factory=list,
        description="Verbatim quotes from the message that support this intent.",
    )
    invoice_refs: list[str] = Field(
        default_factory=list,
        description=(
            "Invoice references as the sender wrote them ('inv 117', 'INV2026-0101', "
            "'invoice from October'); resolved to invoice numbers later, in code."
        ),
    )
    dates: list[date] = Field(
        default_factory=list, description="Calendar dates mentioned in the supporting text."
    )
    amounts: list[str] = Field(
        default_factory=list,
        description="Money amounts mentioned, as plain decimal strings ('4344.00'), no symbols.",
    )
    currency: str | None = Field(
        default=None, description="ISO 4217 code of the amounts ('EUR'), when stated."
    )
    promised_date: date | None = Field(
        default=None, description="For a promise to pay: the date the sender says they will pay."
    )
    requested_due_date: date | None = Field(
        default=None, description="For a due-date change: the new due date the sender asks for."
    )

    @field_validator("amounts")
    @classmethod
    def _amounts_are_decimals(cls, value: list[str]) -> list[str]:
        for amount in value:
            try:
                number = Decimal(amount)
            except InvalidOperation:
                raise ValueError(f"amount {amount!r} is not a decimal string") from None
            if not number.is_finite():
                raise ValueError(f"amount {amount!r} is not a finite number")
        return value

    @field_validator("currency")
    @classmethod
    def _currency_is_iso(cls, value: str | None) -> str | None:
        if value is None:
            return None
        upper = value.strip().upper()
        if not _CURRENCY.match(upper):
            raise ValueError(f"currency {value!r} is not an ISO 4217 code")
        return upper


class Classification(BaseModel):
    """A classifier's reading of one message: intents by importance, language and flags."""

    model_config = ConfigDict(frozen=True)

    intents: list[IntentFinding] = Field(
        min_length=1, description="Intents found, the most important first."
    )
    language: str = Field(
        description="ISO 639-1 code of the newest text ('en', 'de', 'nl', 'fr', 'es'), 'und' "
        "when unknown."
    )
    flags: list[str] = Field(
        default_factory=list,
        description="Warnings for the gate, e.g. 'legal_language', 'injection_suspected'.",
    )
    classifier: str = Field(description="Which classifier produced this, e.g. 'offline-rules'.")

    @property
    def primary(self) -> IntentFinding:
        """The most important intent."""
        return self.intents[0]

    def finding(self, intent: Intent) -> IntentFinding | None:
        """The finding for ``intent``, if the message has it."""
        return next((f for f in self.intents if f.intent is intent), None)

    def has(self, intent: Intent) -> bool:
        """True when ``intent`` is among the intents."""
        return self.finding(intent) is not None


_QUOTE_MARKS = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u00b4": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u00a0": " ",
        "\u202f": " ",
        "\u2009": " ",
    }
)
_LINE_QUOTE = re.compile(r"(?m)^[ \t]*(?:>[ \t]?)+")
_SPACE = re.compile(r"\s+")
_EDGE = " \t\r\n\"'.…,;:-"


def normalise_for_match(text: str) -> str:
    """Fold text for quote checks: NFKC, case, quote marks, dashes, reply markers, whitespace."""
    folded = unicodedata.normalize("NFKC", text).translate(_QUOTE_MARKS)
    folded = _LINE_QUOTE.sub(" ", folded)
    return _SPACE.sub(" ", folded.casefold()).strip()


def _normalise_quote(quote: str) -> str:
    # models like to wrap quotes in quote marks or trim them with an ellipsis
    folded = normalise_for_match(quote)
    while folded and (folded[0] in _EDGE or folded[-1] in _EDGE):
        folded = folded.strip(_EDGE).strip()
    return folded


def verify_evidence(classification: Classification, text: str) -> Classification:
    """Keep only evidence quotes that occur in ``text``; lower confidence where quotes fail.

    A finding that keeps none of its quotes (or never had any) is capped at
    :data:`UNVERIFIED_CAP`; one that loses some is scaled by the share it keeps. Either way the
    classification is flagged ``evidence_unverified``, and ``low_confidence`` when the primary
    intent ends below :data:`LOW_CONFIDENCE` or any finding is left without evidence. Findings are
    never removed: a dispute with a bad quote is still a dispute, only a less certain one.
    Checking a checked classification again changes nothing.
    """
    haystack = normalise_for_match(text)
    findings: list[IntentFinding] = []
    flags = list(classification.flags)
    unverified = False
    orphaned = False
    for finding in classification.intents:
        kept = [q for q in finding.evidence if (n := _normalise_quote(q)) and n in haystack]
        total = len(finding.evidence)
        confidence = finding.confidence
        if not kept:
            confidence = min(confidence, UNVERIFIED_CAP)
            orphaned = True
            unverified = True
        elif len(kept) < total:
            confidence = round(confidence * (0.5 + 0.5 * len(kept) / total), 4)
            unverified = True
        findings.append(finding.model_copy(update={"evidence": kept, "confidence": confidence}))
    if unverified and Flag.evidence_unverified not in flags:
        flags.append(Flag.evidence_unverified.value)
    low = orphaned or findings[0].confidence < LOW_CONFIDENCE
    if low and Flag.low_confidence not in flags:
        flags.append(Flag.low_confidence.value)
    return classification.model_copy(update={"intents": findings, "flags": flags})
