"""Our Message-IDs: built from invoice number, step and token, and read back exactly."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.messageids import MessageIdParts, make_message_id, parse_message_id

DOMAIN = "northwind-digital.example"


def test_a_message_id_names_the_invoice_the_step_and_the_token() -> None:
    value = make_message_id("INV-2026-0117", "reminder-1", "9f2c4e1a", DOMAIN)

    assert value == "<INV-2026-0117.reminder-1.9f2c4e1a@northwind-digital.example>"


def test_a_message_id_parses_back_into_its_parts() -> None:
    value = make_message_id("INV-2026-0117", "reminder-1", "9f2c4e1a", DOMAIN)

    assert parse_message_id(value) == MessageIdParts(
        number="INV-2026-0117", step="reminder-1", token="9f2c4e1a", domain=DOMAIN
    )


def test_a_message_id_without_angle_brackets_parses() -> None:
    parts = parse_message_id(" INV-2026-0117.issue.abc123@northwind-digital.example ")

    assert parts == MessageIdParts("INV-2026-0117", "issue", "abc123", DOMAIN)


def test_a_number_with_slashes_round_trips_exactly() -> None:
    value = make_message_id("FA/2026/0007", "issue", "abc", DOMAIN)

    assert value == "<FA%2F2026%2F0007.issue.abc@northwind-digital.example>"
    parts = parse_message_id(value)
    assert parts is not None and parts.number == "FA/2026/0007"


def test_a_step_with_a_dot_round_trips_exactly() -> None:
    parts = parse_message_id(make_message_id("INV.2026.7", "reminder.2", "abc", DOMAIN))

    assert parts == MessageIdParts("INV.2026.7", "reminder.2", "abc", DOMAIN)


def test_an_id_whose_number_holds_plain_dots_still_parses() -> None:
    parts = parse_message_id("<2026.0117.issue.abc@northwind-digital.example>")

    assert parts == MessageIdParts("2026.0117", "issue", "abc", DOMAIN)


def test_the_token_keeps_only_letters_and_digits() -> None:
    assert make_message_id("INV-1", "issue", "ab-c/d:1", DOMAIN) == (
        "<INV-1.issue.abcd1@northwind-digital.example>"
    )


def test_parsing_for_our_domain_ignores_case_and_refuses_other_domains() -> None:
    value = make_message_id("INV-1", "issue", "abc", DOMAIN)

    assert parse_message_id(value, domain="Northwind-Digital.EXAMPLE") is not None
    assert parse_message_id(value, domain="example.com") is None


@pytest.mark.parametrize(
    "value",
    [
        "<CAF=1234abcd@mail.gmail.com>",
        "<issue.abc@northwind-digital.example>",
        "<INV-1.issue.@northwind-digital.example>",
        "<INV-1.iss ue.abc@northwind-digital.example>",
        "<INV-1.issue.ab-c@northwind-digital.example>",
        "<INV-1.issue.abc@>",
        "<INV-1.issue.abc>",
        "",
    ],
)
def test_a_message_id_we_did_not_make_does_not_parse(value: str) -> None:
    assert parse_message_id(value) is None


@pytest.mark.parametrize(
    ("number", "step", "token", "domain"),
    [
        ("", "issue", "abc", DOMAIN),
        ("INV-1", "", "abc", DOMAIN),
        ("INV-1", "issue", "--", DOMAIN),
        ("INV-1", "issue", "abc", ""),
        ("INV-1", "issue", "abc", "bad domain>"),
    ],
)
def test_a_message_id_with_an_empty_part_or_a_bad_domain_is_refused(
    number: str, step: str, token: str, domain: str
) -> None:
    with pytest.raises(ValueError):
        make_message_id(number, step, token, domain)


@settings(max_examples=300, deadline=None, database=None)
@given(
    number=st.text(min_size=1, max_size=30),
    step=st.text(min_size=1, max_size=15),
    token=st.text(alphabet="0123456789abcdef", min_size=1, max_size=16),
)
def test_any_number_and_step_round_trip(number: str, step: str, token: str) -> None:
    value = make_message_id(number, step, token, DOMAIN)

    assert value.isascii() and " " not in value
    assert parse_message_id(value, domain=DOMAIN) == MessageIdParts(number, step, token, DOMAIN)
