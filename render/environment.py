"""The one Jinja2 environment for documents and emails, built once per process.

Templates live in the ``templates`` package (``invoice/…``, ``email/…``). The environment
autoescapes HTML and XML templates (``.html``, ``.htm``, ``.xml`` and their ``.j2`` forms), so
a client called ``<script>`` prints as text; plain-text templates (``.txt``) are not escaped.
``StrictUndefined`` turns a misspelt variable into an error instead of an empty string.

Filters (all take the locale explicitly, e.g. ``{{ total|money(currency, locale) }}``):

``money(amount, currency, locale)``     ``1.234,50 €`` — rounded to the currency's minor unit
``price(amount, currency, locale)``     like money, but keeps up to 4 decimals of a unit price
``date(value, locale, format="medium")``  ``26.11.2026`` / ``Nov 26, 2026``
``quantity(value, locale)``             ``2,5`` — no trailing zeros, up to 4 decimals
``percent(rate, locale)``               ``19 %`` from ``Decimal("19")``
``country(code, locale)``               ``Deutschland`` from ``DE``
``iban(value)``                         ``DE89 3704 0044 0532 0130 00``
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
AUTOESCAPE_EXTENSIONS = ("html", "htm", "xml", "html.j2", "htm.j2", "xml.j2")


@lru_cache(maxsize=64)
def babel_locale(tag: str | None) -> Locale:
    """A babel Locale for a language tag (``de``, ``de-AT``, ``en_GB``); English if unknown."""
    if not tag:
        return Locale("en")
    try:
        return Locale.parse(tag.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        try:
            return Locale.parse(tag.replace("-", "_").split("_", 1)[0])
        except (ValueError, UnknownLocaleError):
            return Locale("en")


def money(amount: Decimal, currency: str, locale: str | None = None) -> str:
    """An amount with its currency in the locale's notation, at the currency's precision."""
    return format_currency(amount, currency, locale=babel_locale(locale))


def price(amount: Decimal, currency: str, locale: str | None = None) -> str:
    """A unit price: at least the currency's decimals, and every extra decimal it carries."""
    return format_currency(
        amount.normalize(),
        currency,
        locale=babel_locale(locale),
        decimal_quantization=False,
    )


def date_filter(value: date | datetime, locale: str | None = None, format: str = "medium") -> str:
    """A date in the locale's ``short``/``medium``/``long`` format."""
    day = value.date() if isinstance(value, datetime) else value
    return format_date(day, format=format, locale=babel_locale(locale))


def quantity(value: Decimal, locale: str | None = None) -> str:
    """A quantity without trailing zeros (``2.5``, ``10``), up to 4 decimals."""
    return format_decimal(value, format="#,##0.####", locale=babel_locale(locale))


def percent(rate: Decimal, locale: str | None = None) -> str:
    """A VAT rate given in percent (``Decimal("19")``) in the locale's notation (``19 %``)."""
    fraction = (Decimal(rate) / Decimal(100)).normalize()
    return format_percent(fraction, locale=babel_locale(locale), decimal_quantization=False)


def country(code: str, locale: str | None = None) -> str:
    """The country's name in the locale's language; the code itself when unknown."""
    return str(babel_locale(locale).territories.get(code.upper(), code))


def iban(value: str) -> str:
    """An IBAN in groups of four, as printed on paper."""
    compact = "".join(value.split()).upper()
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


@lru_cache(maxsize=1)
def get_environment() -> Environment:
    """The shared environment over ``templates/`` (built on first use, then reused)."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(
            enabled_extensions=AUTOESCAPE_EXTENSIONS,
            disabled_extensions=("txt", "txt.j2"),
            default_for_string=True,
            default=True,
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Templates ship with the code; re-reading them on every render only costs stat calls.
        auto_reload=False,
    )
    env.filters.update(
        money=money,
        price=price,
        date=date_filter,
        quantity=quantity,
        percent=percent,
        country=country,
        iban=iban,
    )
    return env
