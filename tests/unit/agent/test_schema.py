"""Classification objects and the code check of evidence quotes."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from agent.schema import (
    Classification,
    Flag,
    Intent,
    IntentFinding,
    normalise_for_match,
    verify_evidence,
)

MESSAGE = (
    "Subject: Re: Payment reminder INV-2026-0117\n"
    "Hi,\n\nThe invoice includes £120 for \u201cHosting (October)\u201d. I was under the\n"
    "impression hosting was included in the phase 2 price.\n\n"
    "> On 15 Nov you wrote:\n> Please arrange payment within 7 days.\n"
)


def _classification(*findings: IntentFinding, flags: list[str] | None = None) -> Classification:
    return Classification(
        intents=list(findings), language="en", flags=flags or [], classifier="test"
    )


def _finding(intent: Intent, confidence: float, *evidence: str) -> IntentFinding:
    return IntentFinding(intent=intent, confidence=confidence, evidence=list(evidence))


def test_quote_found_despite_case_whitespace_and_line_breaks_is_kept_at_full_confidence() -> None:
    result = verify_evidence(
        _classification(
            _finding(Intent.dispute, 0.9, "I was under the impression hosting was INCLUDED")
        ),
        MESSAGE,
    )

    assert result.primary.evidence == ["I was under the impression hosting was INCLUDED"]
    assert result.primary.confidence == 0.9
    assert result.flags == []


def test_quote_with_straight_quotes_matches_typographic_quotes_in_the_message() -> None:
    result = verify_evidence(
        _classification(_finding(Intent.dispute, 0.8, 'includes £120 for "Hosting (October)"')),
        MESSAGE,
    )

    assert result.primary.evidence == ['includes £120 for "Hosting (October)"']


def test_quote_wrapped_in_quote_marks_and_ellipsis_by_a_model_still_counts() -> None:
    result = verify_evidence(
        _classification(
            _finding(Intent.dispute, 0.8, "\u201c…hosting was included in the phase 2 price…\u201d")
        ),
        MESSAGE,
    )

    assert len(result.primary.evidence) == 1
    assert result.primary.confidence == 0.8


def test_quote_spanning_reply_markers_of_quoted_text_is_found() -> None:
    result = verify_evidence(
        _classification(
            _finding(Intent.other, 0.7, "On 15 Nov you wrote: Please arrange payment within 7 days")
        ),
        MESSAGE,
    )

    assert result.primary.evidence == ["On 15 Nov you wrote: Please arrange payment within 7 days"]


def test_invented_quote_is_dropped_and_confidence_scaled_by_the_share_kept() -> None:
    result = verify_evidence(
        _classification(
            _finding(
                Intent.dispute,
                0.8,
                "hosting was included in the phase 2 price",
                "we refuse to pay this invoice",
            )
        ),
        MESSAGE,
    )

    assert result.primary.evidence == ["hosting was included in the phase 2 price"]
    assert result.primary.confidence == 0.6
    assert result.flags == [Flag.evidence_unverified.value]


def test_finding_left_without_any_quote_is_capped_and_marked_low_confidence() -> None:
    result = verify_evidence(
        _classification(
            _finding(Intent.payment_confirmation, 0.9, "we paid this yesterday"),
        ),
        MESSAGE,
    )

    assert result.primary.intent is Intent.payment_confirmation
    assert result.primary.evidence == []
    assert result.primary.confidence == 0.3
    assert result.flags == [Flag.evidence_unverified.value, Flag.low_confidence.value]


def test_finding_that_never_had_evidence_counts_as_unverified() -> None:
    result = verify_evidence(_classification(_finding(Intent.copy_request, 0.6)), MESSAGE)

    assert result.primary.confidence == 0.3
    assert Flag.low_confidence.value in result.flags


def test_checking_a_checked_classification_again_changes_nothing() -> None:
    once = verify_evidence(
        _classification(
            _finding(Intent.dispute, 0.9, "not in the email"),
            _finding(Intent.copy_request, 0.8, "Payment reminder INV-2026-0117", "invented"),
            _finding(Intent.other, 0.7),
        ),
        MESSAGE,
    )

    assert verify_evidence(once, MESSAGE) == once


def test_a_dispute_with_a_bad_quote_is_kept_as_a_dispute_only_less_certain() -> None:
    result = verify_evidence(
        _classification(
            _finding(Intent.dispute, 0.9, "this quote is not in the email"),
            _finding(Intent.copy_request, 0.7, "Payment reminder INV-2026-0117"),
        ),
        MESSAGE,
    )

    assert [f.intent for f in result.intents] == [Intent.dispute, Intent.copy_request]
    assert result.intents[0].confidence == 0.3
    assert result.intents[1].confidence == 0.7


def test_empty_quote_is_never_evidence() -> None:
    result = verify_evidence(_classification(_finding(Intent.other, 0.9, "   ", "")), MESSAGE)

    assert result.primary.evidence == []


def test_existing_flags_are_kept_and_not_repeated() -> None:
    result = verify_evidence(
        _classification(
            _finding(Intent.dispute, 0.9, "not in the email"),
            flags=[Flag.injection_suspected.value, Flag.evidence_unverified.value],
        ),
        MESSAGE,
    )

    assert result.flags == [
        Flag.injection_suspected.value,
        Flag.evidence_unverified.value,
        Flag.low_confidence.value,
    ]


def test_normalise_for_match_folds_case_quotes_dashes_and_spaces() -> None:
    assert normalise_for_match("  Don\u2019t\u00a0 \u2013 PAY\n\n>  now ") == "don't - pay now"


def test_classification_requires_at_least_one_intent() -> None:
    with pytest.raises(ValidationError):
        Classification(intents=[], language="en", classifier="test")


def test_primary_is_the_first_intent_and_lookup_finds_the_others() -> None:
    classification = _classification(
        _finding(Intent.dispute, 0.9), _finding(Intent.promise_to_pay, 0.5)
    )

    assert classification.primary.intent is Intent.dispute
    assert classification.has(Intent.promise_to_pay)
    assert classification.finding(Intent.copy_request) is None


@pytest.mark.parametrize("amount", ["£4,344", "4,344.00", "abc", "NaN"])
def test_amounts_must_be_plain_decimal_strings(amount: str) -> None:
    with pytest.raises(ValidationError):
        IntentFinding(intent=Intent.dispute, confidence=0.5, amounts=[amount])


def test_currency_is_upper_cased_and_must_look_like_an_iso_code() -> None:
    finding = IntentFinding(
        intent=Intent.promise_to_pay,
        confidence=0.5,
        amounts=["1210.40"],
        currency="eur",
        promised_date=date(2026, 11, 27),
    )

    assert finding.currency == "EUR"
    with pytest.raises(ValidationError):
        IntentFinding(intent=Intent.dispute, confidence=0.5, currency="€")


@pytest.mark.parametrize("confidence", [-0.1, 1.01])
def test_confidence_outside_zero_to_one_is_refused(confidence: float) -> None:
    with pytest.raises(ValidationError):
        IntentFinding(intent=Intent.dispute, confidence=confidence)
