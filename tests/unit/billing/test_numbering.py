"""Numbering patterns: format, series and parse, with exactly one way to write each number."""

from __future__ import annotations

import string
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.numbering import InvalidPattern, NumberPattern

ON = date(2026, 3, 5)


@pytest.mark.parametrize(
    ("pattern", "sequence", "expected"),
    [
        ("INV-{YYYY}-{####}", 7, "INV-2026-0007"),
        ("INV-{YY}{MM}-{###}", 7, "INV-2603-007"),
        ("{YYYY}/{MM}/{#}", 42, "2026/03/42"),
        ("CN{######}", 1, "CN000001"),
        ("INV-{YYYY}-{####}", 9999, "INV-2026-9999"),
        ("INV-{YYYY}-{####}", 10000, "INV-2026-10000"),
        ("INV-{#}", 10, "INV-10"),
    ],
)
def test_format_fills_date_tokens_and_pads_the_sequence(
    pattern: str, sequence: int, expected: str
) -> None:
    assert NumberPattern(pattern).format(ON, sequence) == expected


@pytest.mark.parametrize(("pattern", "width"), [("{#}", 1), ("A{####}", 4), ("{YY}{######}", 6)])
def test_width_is_the_number_of_hashes(pattern: str, width: int) -> None:
    assert NumberPattern(pattern).width == width


@pytest.mark.parametrize(
    ("pattern", "series"),
    [
        ("INV-{YYYY}-{####}", "INV-2026-{####}"),
        ("INV-{YY}{MM}-{###}", "INV-2603-{###}"),
        ("CN-{####}", "CN-{####}"),
    ],
)
def test_the_series_is_the_pattern_with_its_date_filled_in(pattern: str, series: str) -> None:
    assert NumberPattern(pattern).series(ON) == series


def test_a_new_year_starts_a_new_series_and_a_new_month_does_not_for_a_yearly_pattern() -> None:
    pattern = NumberPattern("INV-{YYYY}-{####}")

    assert pattern.series(date(2026, 1, 31)) == pattern.series(date(2026, 12, 1))
    assert pattern.series(date(2026, 12, 31)) != pattern.series(date(2027, 1, 1))


def test_sequence_numbers_start_at_one() -> None:
    with pytest.raises(InvalidPattern, match=r"^sequence numbers start at 1$"):
        NumberPattern("INV-{####}").format(ON, 0)


def test_consecutive_sequences_parse_back_to_consecutive_numbers_in_one_series() -> None:
    pattern = NumberPattern("INV-{YYYY}-{####}")
    numbers = [pattern.format(ON, n) for n in range(9998, 10003)]

    parsed = [pattern.parse(number) for number in numbers]

    assert numbers == [
        "INV-2026-9998",
        "INV-2026-9999",
        "INV-2026-10000",
        "INV-2026-10001",
        "INV-2026-10002",
    ]
    assert parsed == [("INV-2026-{####}", n) for n in range(9998, 10003)]


@pytest.mark.parametrize(
    ("pattern", "number", "expected"),
    [
        ("INV-{YYYY}-{####}", "INV-2026-0117", ("INV-2026-{####}", 117)),
        ("INV-{YY}{MM}-{###}", "INV-2611-042", ("INV-2611-{###}", 42)),
        ("{YYYY}{####}", "202610000", ("2026{####}", 10000)),
        ("{####}{YYYY}", "00122026", ("{####}2026", 12)),
        ("INV.(A)+{##}", "INV.(A)+07", ("INV.(A)+{##}", 7)),
    ],
)
def test_parse_gives_the_series_and_sequence(
    pattern: str, number: str, expected: tuple[str, int]
) -> None:
    assert NumberPattern(pattern).parse(number) == expected


def test_parse_reads_the_month_from_the_number_not_from_the_given_date() -> None:
    pattern = NumberPattern("INV-{MM}-{###}")

    assert pattern.parse("INV-03-001", date(2026, 5, 1)) == ("INV-03-{###}", 1)


@pytest.mark.parametrize(
    ("pattern", "number"),
    [
        ("INV-{YYYY}-{####}", "INV-2026-001"),
        ("INV-{YYYY}-{####}", "INV-2026-00001"),
        ("INV-{YYYY}-{####}", "INV-2026-0000"),
        ("INV-{YYYY}-{####}", "CN-2026-0001"),
        ("INV-{YYYY}-{####}", "INV-2026-0001-X"),
        ("INV-{YYYY}-{####}", "INV-26-0001"),
        ("INV-{YYYY}-{####}", "INV-0000-0001"),
        ("INV-{YYYY}-{####}", "INV-2026-٠٠٠١"),
        ("INV-{MM}-{####}", "INV-13-0001"),
        ("INV-{MM}-{####}", "INV-00-0001"),
        ("{YYYY}-{YY}-{####}", "2026-25-0001"),
        ("INV.{####}", "INVX0001"),
    ],
)
def test_a_string_this_pattern_never_writes_does_not_parse(pattern: str, number: str) -> None:
    assert NumberPattern(pattern).parse(number) is None


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        (
            "INV-{YYYY}",
            "numbering pattern 'INV-{YYYY}' needs exactly one sequence token like {####}",
        ),
        ("", "numbering pattern '' needs exactly one sequence token like {####}"),
        (
            "{###}-{###}",
            "numbering pattern '{###}-{###}' needs exactly one sequence token like {####}",
        ),
        ("INV-{DD}-{####}", "numbering pattern 'INV-{DD}-{####}' has an unknown token"),
        ("INV-{yyyy}-{####}", "numbering pattern 'INV-{yyyy}-{####}' has an unknown token"),
        ("INV-{-{####}", "numbering pattern 'INV-{-{####}' has an unknown token"),
        ("INV}-{####}", "numbering pattern 'INV}-{####}' has an unknown token"),
    ],
)
def test_an_invalid_pattern_is_refused_with_the_reason(pattern: str, message: str) -> None:
    with pytest.raises(InvalidPattern) as caught:
        NumberPattern(pattern)

    assert caught.value.code == "invalid_number_pattern"
    assert caught.value.message == message


LITERAL = st.text(alphabet=string.ascii_uppercase + string.digits + "-/._ ", max_size=6)


@st.composite
def patterns(draw: st.DrawFn) -> str:
    pieces = [draw(LITERAL), "{" + "#" * draw(st.integers(1, 6)) + "}"]
    for token in draw(st.lists(st.sampled_from(["{YYYY}", "{YY}", "{MM}"]), max_size=2)):
        pieces.insert(draw(st.integers(0, len(pieces))), token)
        pieces.insert(draw(st.integers(0, len(pieces))), draw(LITERAL))
    return "".join(pieces)


@settings(max_examples=400, deadline=None, database=None)
@given(
    pattern=patterns(),
    on=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    sequence=st.integers(1, 10**7),
)
def test_every_formatted_number_parses_back_to_its_series_and_sequence(
    pattern: str, on: date, sequence: int
) -> None:
    numbering = NumberPattern(pattern)

    number = numbering.format(on, sequence)

    assert numbering.parse(number) == (numbering.series(on), sequence)
