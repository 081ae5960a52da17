"""Money: a Decimal amount with an ISO 4217 currency, rounded by the currency's minor unit.

Floats are refused everywhere: ``Money(0.1, "EUR")`` raises :class:`InvalidMoney`. The minor
unit comes from babel's CLDR data (JPY 0, EUR 2, BHD 3). Rounding is ROUND_HALF_UP, the
commercial rounding EN 16931 and most tax authorities expect.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache

from babel.numbers import get_currency_precision, list_currencies

from billing.errors import InvalidMoney

ROUNDING = ROUND_HALF_UP

# ISO 4217 codes whose minor unit is "N.A.": precious metals, IMF/bond units, the testing code
# and "no currency". babel lists them, but nothing can be invoiced in them.
_NOT_MONEY = frozenset(
    {"XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU", "XTS", "XUA", "XXX"}
)


@cache
def _known_currencies() -> frozenset[str]:
    return frozenset(list_currencies()) - _NOT_MONEY


def check_currency(code: str) -> str:
    """Return the upper-cased ISO 4217 code, or raise :class:`InvalidMoney`."""
    if not isinstance(code, str) or not code.strip():
        raise InvalidMoney("a currency is required (ISO 4217 code such as EUR)")
    upper = code.strip().upper()
    if upper not in _known_currencies():
        raise InvalidMoney(f"unknown currency {code!r} (expected an ISO 4217 code such as EUR)")
    return upper


@cache
def minor_units(currency: str) -> int:
    """Number of decimals of the currency's minor unit (JPY 0, EUR 2, BHD 3)."""
    return int(get_currency_precision(check_currency(currency)))


@cache
def _quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def to_decimal(value: object, *, what: str = "amount") -> Decimal:
    """Convert str/int/Decimal to Decimal; refuse floats, booleans and garbage."""
    if isinstance(value, bool):
        raise InvalidMoney(f"{what} must be a decimal string, not a boolean ({value!r})")
    if isinstance(value, float):
        raise InvalidMoney(f"{what} must be a decimal string, not a float ({value!r})")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip().replace("_", ""))
        except InvalidOperation:
            raise InvalidMoney(f"{what} {value!r} is not a decimal number") from None
    else:
        raise InvalidMoney(f"{what} must be a decimal string, got {type(value).__name__}")
    if not result.is_finite():
        raise InvalidMoney(f"{what} {value!r} is not a finite number")
    exponent = result.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0:
        # "1e3" parses as 1E+3, which would be printed and stored in that form
        try:
            result = result.quantize(Decimal(1))
        except InvalidOperation:
            raise InvalidMoney(f"{what} {value!r} is too large") from None
    return result


def round_amount(amount: Decimal, currency: str) -> Decimal:
    """Round an amount to the currency's minor unit, half up (never a negative zero)."""
    try:
        result = amount.quantize(_quantum(currency), rounding=ROUNDING)
    except InvalidOperation:
        # quantize signals when the result needs more digits than the context's precision
        raise InvalidMoney(f"amount {amount} is too large") from None
    # -0.004 rounds to -0.00, which would print as "-0.00" on an invoice
    return result.copy_abs() if result == 0 else result


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in one currency, always rounded to the currency's minor unit."""

    amount: Decimal
    currency: str

    def __init__(self, amount: object, currency: str) -> None:
        cur = check_currency(currency)
        object.__setattr__(self, "currency", cur)
        object.__setattr__(self, "amount", round_amount(to_decimal(amount), cur))

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Zero in the given currency."""
        return cls(0, currency)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise InvalidMoney(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise InvalidMoney(f"currency mismatch: {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    def __bool__(self) -> bool:
        return self.amount != 0

    @property
    def is_positive(self) -> bool:
        """True when the amount is above zero."""
        return self.amount > 0

    @property
    def is_negative(self) -> bool:
        """True when the amount is below zero."""
        return self.amount < 0

    def __str__(self) -> str:
        return f"{self.currency} {self.amount}"

    def __repr__(self) -> str:
        return f"Money('{self.amount}', '{self.currency}')"


def sum_money(items: list[Money] | tuple[Money, ...], currency: str) -> Money:
    """Sum amounts of one currency (an empty list sums to zero)."""
    total = Money.zero(currency)
    for item in items:
        total = total + item
    return total
