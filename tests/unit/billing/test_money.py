"""Money: Decimal + ISO currency, rounded half up by the currency's minor unit; never float."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.errors import InvalidMoney
from billing.money import Money, check_currency, minor_units, round_amount, sum_money, to_decimal

PROPERTY_SETTINGS = settings(max_examples=300, deadline=None, database=None)


def half_up(value: Decimal, decimals: int) -> Decimal:
    """Independent oracle: scale to integers, add a half away from zero, truncate."""
    scale = Decimal(10) ** decimals
    magnitude = int(abs(value) * scale + Decimal("0.5"))
    return (Decimal(magnitude) / scale).quantize(Decimal(1).scaleb(-decimals)) * (
        -1 if value < 0 and magnitude else 1
    )


# --- floats and other non-decimal input ---------------------------------------------------


@pytest.mark.parametrize("amount", [0.1, 1.0, 19.99, float("nan"), float("inf")])
def test_money_from_a_float_is_refused_with_a_clear_message(amount: float) -> None:
    with pytest.raises(InvalidMoney) as caught:
        Money(amount, "EUR")

    assert caught.value.code == "invalid_money"
    assert caught.value.message == f"amount must be a decimal string, not a float ({amount!r})"


def test_to_decimal_names_the_field_when_it_refuses_a_float() -> None:
    with pytest.raises(InvalidMoney, match=r"^unit_price must be a decimal string, not a float"):
        to_decimal(2.5, what="unit_price")


@pytest.mark.parametrize("value", [True, False])
def test_a_boolean_amount_is_refused_as_a_boolean(value: bool) -> None:
    with pytest.raises(InvalidMoney) as caught:
        Money(value, "EUR")

    assert caught.value.message == f"amount must be a decimal string, not a boolean ({value!r})"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "amount 'abc' is not a decimal number"),
        ("1,50", "amount '1,50' is not a decimal number"),
        ("", "amount '' is not a decimal number"),
        ("NaN", "amount 'NaN' is not a finite number"),
        ("-Infinity", "amount '-Infinity' is not a finite number"),
        (None, "amount must be a decimal string, got NoneType"),
        ([1], "amount must be a decimal string, got list"),
    ],
)
def test_garbage_amounts_are_refused_with_one_message(value: object, message: str) -> None:
    with pytest.raises(InvalidMoney) as caught:
        to_decimal(value)

    assert caught.value.message == message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12.30", "12.30"),
        ("  12.30 ", "12.30"),
        ("1_000.5", "1000.5"),
        (7, "7"),
        (Decimal("0.125"), "0.125"),
        ("1e3", "1000"),
        ("1.5E+2", "150"),
    ],
)
def test_decimal_strings_integers_and_decimals_are_read_exactly(
    value: object, expected: str
) -> None:
    result = to_decimal(value)

    assert str(result) == expected


def test_an_amount_too_large_to_represent_is_refused_not_crashed() -> None:
    with pytest.raises(InvalidMoney, match="too large"):
        Money("1e30", "EUR")


# --- rounding by the currency's minor unit ------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "decimals"),
    [("EUR", 2), ("USD", 2), ("GBP", 2), ("JPY", 0), ("BHD", 3), ("KWD", 3)],
)
def test_minor_units_come_from_the_currency(currency: str, decimals: int) -> None:
    assert minor_units(currency) == decimals


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("1234.5", "JPY", "1235"),
        ("2.5", "JPY", "3"),
        ("1234.4999", "JPY", "1234"),
        ("1.2345", "BHD", "1.235"),
        ("0.0025", "BHD", "0.003"),
        ("1.2344", "BHD", "1.234"),
        ("0.005", "EUR", "0.01"),
        ("0.025", "EUR", "0.03"),
        ("2.675", "EUR", "2.68"),
        ("-0.005", "EUR", "-0.01"),
        ("-2.345", "EUR", "-2.35"),
        ("10", "EUR", "10.00"),
        ("10", "BHD", "10.000"),
    ],
)
def test_amounts_round_half_up_to_the_minor_unit(amount: str, currency: str, expected: str) -> None:
    money = Money(amount, currency)

    assert str(money.amount) == expected


def test_a_tiny_negative_amount_rounds_to_an_unsigned_zero() -> None:
    money = Money("-0.004", "EUR")

    assert str(money) == "EUR 0.00"
    assert not round_amount(Decimal("-0.001"), "EUR").is_signed()


@PROPERTY_SETTINGS
@given(
    amount=st.decimals(min_value=-(10**9), max_value=10**9, places=6, allow_nan=False),
    currency=st.sampled_from(["EUR", "JPY", "BHD"]),
)
def test_rounding_matches_half_up_for_any_amount(amount: Decimal, currency: str) -> None:
    money = Money(amount, currency)

    assert money.amount == half_up(amount, minor_units(currency))
    assert money.amount.as_tuple().exponent == -minor_units(currency)


# --- currencies ---------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "expected"), [("eur", "EUR"), (" usd ", "USD"), ("JPY", "JPY")])
def test_currency_codes_are_normalised_to_upper_case(code: str, expected: str) -> None:
    assert check_currency(code) == expected
    assert Money("1", code).currency == expected


@pytest.mark.parametrize("code", ["", "   "])
def test_a_missing_currency_is_refused_as_required(code: str) -> None:
    with pytest.raises(InvalidMoney) as caught:
        Money("1", code)

    assert caught.value.message == "a currency is required (ISO 4217 code such as EUR)"


@pytest.mark.parametrize("code", ["EURO", "ABC", "€", "XXX", "XAU", "XTS"])
def test_an_unknown_or_non_money_currency_is_refused(code: str) -> None:
    with pytest.raises(InvalidMoney) as caught:
        Money("1", code)

    assert caught.value.message == (
        f"unknown currency {code!r} (expected an ISO 4217 code such as EUR)"
    )


def test_minor_units_of_an_unknown_currency_is_refused() -> None:
    with pytest.raises(InvalidMoney, match="unknown currency 'ABC'"):
        minor_units("ABC")


# --- arithmetic and comparison ------------------------------------------------------------


def test_adding_two_currencies_is_refused() -> None:
    with pytest.raises(InvalidMoney) as caught:
        Money("1", "EUR") + Money("1", "USD")

    assert caught.value.message == "currency mismatch: EUR and USD"


@pytest.mark.parametrize(
    "operation",
    [
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
    ],
)
def test_subtracting_or_comparing_two_currencies_is_refused(
    operation: Callable[[Money, Money], object],
) -> None:
    with pytest.raises(InvalidMoney, match="currency mismatch: EUR and GBP"):
        operation(Money("1", "EUR"), Money("1", "GBP"))


def test_combining_money_with_a_plain_number_is_refused() -> None:
    with pytest.raises(InvalidMoney, match="cannot combine Money with Decimal"):
        Money("1", "EUR") + Decimal(1)  # type: ignore[operator]


def test_arithmetic_stays_in_the_currency_and_its_minor_unit() -> None:
    total = Money("10.10", "EUR") + Money("0.205", "EUR") - Money("3", "EUR")

    assert total == Money("7.31", "EUR")
    assert repr(total) == "Money('7.31', 'EUR')"
    assert str(-total) == "EUR -7.31"


def test_equal_amounts_with_different_trailing_zeros_are_the_same_money() -> None:
    assert Money("1.5", "EUR") == Money(Decimal("1.50"), "EUR")
    assert hash(Money("1.5", "EUR")) == hash(Money("1.50", "EUR"))
    assert Money("1", "EUR") != Money("1", "USD")


def test_zero_sign_and_truthiness() -> None:
    zero = Money.zero("JPY")

    assert str(zero) == "JPY 0"
    assert not zero
    assert Money("0.01", "EUR").is_positive
    assert Money("-0.01", "EUR").is_negative
    assert not zero.is_positive and not zero.is_negative


def test_sum_of_nothing_is_zero_in_the_currency() -> None:
    assert sum_money([], "BHD") == Money("0.000", "BHD")


def test_sum_of_mixed_currencies_is_refused() -> None:
    with pytest.raises(InvalidMoney, match="currency mismatch: EUR and USD"):
        sum_money([Money("1", "EUR"), Money("2", "USD")], "EUR")


@PROPERTY_SETTINGS
@given(st.lists(st.decimals(min_value=-(10**7), max_value=10**7, places=2), max_size=20))
def test_sum_of_two_decimal_amounts_is_exact_in_any_order(amounts: list[Decimal]) -> None:
    items = [Money(a, "EUR") for a in amounts]

    forward = sum_money(items, "EUR")
    backward = sum_money(list(reversed(items)), "EUR")

    assert forward == backward == Money(sum(amounts, Decimal(0)), "EUR")
