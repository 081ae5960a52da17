"""Invoice references as people write them, and their resolution to invoice numbers.

Clients rarely copy an invoice number exactly: ``inv 117``, ``INV2026-0101``, ``2026/0117``,
``invoice #98``, ``invoice no. 2026-0121``, ``(0101)``, ``the £4,344 one``, ``your invoice from
October``. :func:`extract_invoice_refs` finds the number-like ones, :func:`extract_month_refs`
the month-like ones, and :func:`resolve_refs` matches them against the invoices of the sender's
client only (the caller passes those in), so a loose reference can never reach another client's
invoice. When a reference fits several invoices, all of them are returned: the gate decides.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

MONTHS: dict[str, int] = {
    # English
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "nov": 11, "dec": 12,
    # German
    "januar": 1, "jänner": 1, "februar": 2, "märz": 3, "maerz": 3, "mai": 5, "juni": 6,
    "juli": 7, "oktober": 10, "dezember": 12, "okt": 10, "dez": 12, "mär": 3,
    # Dutch
    "januari": 1, "februari": 2, "maart": 3, "mei": 5, "augustus": 8, "mrt": 3,
    # French
    "janvier": 1, "février": 2, "fevrier": 2, "mars": 3, "avril": 4, "juin": 6,
    "juillet": 7, "août": 8, "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11,
    "décembre": 12, "decembre": 12, "janv": 1, "févr": 2, "fév": 2, "avr": 4, "juil": 7,
    "déc": 12,
    # Spanish
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7,
    "agosto": 8, "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11,
    "diciembre": 12, "ene": 1, "abr": 4, "ago": 8, "dic": 12,
}  # fmt: skip
"""Month names and common abbreviations in English, German, Dutch, French and Spanish."""

# English words that are also month names; only a capitalised form counts as the month
_AMBIGUOUS_MONTHS = {"may", "march", "mar", "jan", "ago", "dec", "sept"}

MONTH_PATTERN = "|".join(sorted((re.escape(m) for m in MONTHS), key=len, reverse=True))

_INVOICE_WORDS = (
    r"invoices?|inv|bill|rechnung(?:en)?|rechnungsnummer|rechnungsnr|rg|factuur|facturen|"
    r"factuurnummer|facture|factures|factura|facturas|fact|fac|fra"
)
# prefixes that mean "invoice" when someone retypes our number with their own abbreviation
_INVOICE_PREFIXES = {"INV", "IN", "RE", "RG", "RN", "FA", "FAC", "FACT", "F", "FV", "FRA", "NR"}

_PREFIX_YEAR_SEQ = re.compile(
    r"(?<![\w-])([A-Za-z]{1,5})[-_/]?((?:19|20)\d{2})[-_/]?(\d{1,6})(?![\w-]|[./]\d)"
)
_YEAR_SEQ = re.compile(r"(?<![\w/.-])((?:19|20)\d{2})[-/](\d{3,6})(?![\w/-]|\.\d)")
_PREFIX_SEQ = re.compile(r"(?<![\w-])([A-Za-z]{2,5})-(\d{2,8})(?![\w-]|[./]\d)")
_KEYWORD_SEQ = re.compile(
    rf"\b(?:{_INVOICE_WORDS})\b\.?[ \t]*(?:no\.?|nr\.?|n[°º]\.?|number|nummer|num\.?|#)?[ \t]*"
    rf"[:#]?[ \t]*\(?#?(\d{{1,8}})\)?"
    rf"(?![\d,/-]|\.\d|\s*(?:st|nd|rd|th)\b|\s+(?:{MONTH_PATTERN})\b)",
    re.IGNORECASE,
)
_HASH_SEQ = re.compile(r"(?<![\w&#])#\s?(\d{2,8})\b")
_HASH_NOT_INVOICE = re.compile(
    r"(vendor|supplier|customer|client|account|acct|ticket|case|po|order|kreditor|lieferant|"
    r"kunde|klant|leverancier|fournisseur|proveedor|pedido|bestellung)\W{0,3}$",
    re.IGNORECASE,
)
_MONTH_AFTER_WORD = re.compile(
    rf"\b(?:{_INVOICE_WORDS})\b[^.\n?!]{{0,20}}?\b(?:from|for|of|dated|vom|von|für|aus|van|voor|"
    rf"uit|du|de|del|en)\s+(?:the\s+|la\s+|el\s+|month\s+of\s+|mois\s+d'|mes\s+de\s+)?"
    rf"({MONTH_PATTERN})\b"
    rf"|\b(?:{_INVOICE_WORDS})\s+d'\s?({MONTH_PATTERN})\b",
    re.IGNORECASE,
)
_MONTH_BEFORE_WORD = re.compile(
    rf"\b({MONTH_PATTERN})(?:-?rechnung\b|(?:\s+[\w-]+){{0,3}}?\s+(?:{_INVOICE_WORDS})\b)",
    re.IGNORECASE,
)
_NOT_BETWEEN = re.compile(
    r"\s(?:to|for|we|i|you|pay|paid|until|till|by|before|after|on|in|at|the|your|our|und|and)\s",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True, slots=True)
class RawRef:
    """An invoice reference as written: the text, its sequence digits and year if any."""

    text: str
    seq: int
    year: int | None = None
    prefix: str | None = None
    start: int = 0
    end: int = 0


@dataclass(frozen=True, slots=True)
class MonthRef:
    """A reference to an invoice by month of issue ('the October invoice')."""

    text: str
    month: int
    start: int = 0
    end: int = 0


@dataclass(frozen=True, slots=True)
class InvoiceCandidate:
    """One of the sender's client's invoices, as resolution needs it."""

    number: str
    client_id: str
    issue_date: date
    due_date: date
    total: Decimal
    balance: Decimal
    currency: str


def _overlaps(start: int, end: int, taken: list[tuple[int, int]]) -> bool:
    return any(start < t_end and t_start < end for t_start, t_end in taken)


def extract_invoice_refs(text: str) -> list[RawRef]:
    """Number-like invoice references in ``text``, in order of appearance.

    Recognised: a prefix, a year and a sequence (``INV-2026-0117``, ``INV2026-0101``,
    ``RE 2026/117`` is not: the prefix must touch the number); a year and a sequence
    (``2026/0117``, ``2026-0121``); an invoice prefix and a number (``INV-88213``); an invoice
    word and a number (``inv 117``, ``invoice #98``, ``Rechnung Nr. 117``, ``invoice (0101)``);
    and a bare ``#98`` unless it follows a word like vendor, ticket or order.
    """
    found: list[RawRef] = []
    taken: list[tuple[int, int]] = []

    def add(ref: RawRef) -> None:
        if not _overlaps(ref.start, ref.end, taken):
            taken.append((ref.start, ref.end))
            found.append(ref)

    for m in _PREFIX_YEAR_SEQ.finditer(text):
        prefix = m.group(1)
        if prefix.lower() in MONTHS:
            continue
        if len(m.group(3)) > 4 and text[m.end(2) : m.start(3)] == "":
            continue  # a run of digits such as a VAT id (DE201234567), not year + sequence
        add(RawRef(m.group(0), int(m.group(3)), int(m.group(2)), prefix.upper(), *m.span()))
    for m in _YEAR_SEQ.finditer(text):
        add(RawRef(m.group(0), int(m.group(2)), int(m.group(1)), None, *m.span()))
    for m in _PREFIX_SEQ.finditer(text):
        prefix = m.group(1).upper()
        if prefix in _INVOICE_PREFIXES:
            add(RawRef(m.group(0), int(m.group(2)), None, prefix, *m.span()))
    for m in _KEYWORD_SEQ.finditer(text):
        add(RawRef(m.group(0).strip(), int(m.group(1)), None, None, *m.span()))
    for m in _HASH_SEQ.finditer(text):
        if _HASH_NOT_INVOICE.search(text[max(0, m.start() - 20) : m.start()]):
            continue
        add(RawRef(m.group(0), int(m.group(1)), None, None, *m.span()))
    found.sort(key=lambda r: r.start)
    return found


def _month_counts(word: str, text: str, start: int) -> bool:
    # "may", "march" … are ordinary English words unless capitalised
    return word.lower() not in _AMBIGUOUS_MONTHS or text[start].isupper()


def extract_month_refs(text: str) -> list[MonthRef]:
    """References to an invoice by its month: 'invoice from October', 'the October invoice',
    'Rechnung vom Oktober', 'factuur van oktober', "facture d'octobre", 'factura de octubre'."""
    found: list[MonthRef] = []
    taken: list[tuple[int, int]] = []
    for pattern in (_MONTH_AFTER_WORD, _MONTH_BEFORE_WORD):
        for m in pattern.finditer(text):
            group = 1 if m.group(1) else 2
            word = m.group(group)
            if not _month_counts(word, text, m.start(group)) or _overlaps(*m.span(), taken):
                continue
            if pattern is _MONTH_BEFORE_WORD and _NOT_BETWEEN.search(m.group(0)):
                continue  # "January to pay invoice": the month belongs to something else
            if re.search(
                r"\d\.?\s*(?:de\s+|of\s+)?$", text[max(0, m.start(group) - 8) : m.start(group)]
            ):
                continue  # "factura el 10 de noviembre": a date, not the invoice's month
            taken.append(m.span())
            found.append(MonthRef(m.group(0), MONTHS[word.lower()], *m.span()))
    found.sort(key=lambda r: r.start)
    return found


def _number_parts(number: str) -> tuple[str | None, int | None, int | None]:
    """(prefix, year, sequence) of an invoice number such as INV-2026-0117."""
    groups = _DIGITS.findall(number)
    if not groups:
        return None, None, None
    seq = int(groups[-1])
    year = None
    for group in groups[:-1]:
        if len(group) == 4 and 1900 <= int(group) <= 2100:
            year = int(group)
    lead = re.match(r"\s*([A-Za-z]+)", number)
    return (lead.group(1).upper() if lead else None), year, seq


def _compact(value: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", value).upper()


def _matches(ref: RawRef, candidate: InvoiceCandidate) -> bool:
    if _compact(ref.text) == _compact(candidate.number):
        return True
    prefix, year, seq = _number_parts(candidate.number)
    if seq is None or ref.seq != seq:
        return False
    if ref.prefix and prefix and ref.prefix != prefix and ref.prefix not in _INVOICE_PREFIXES:
        return False
    return ref.year is None or year is None or ref.year == year


def _as_decimal(value: str | Decimal) -> Decimal | None:
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() and number > 0 else None


def _month_number(value: str | int) -> int | None:
    if isinstance(value, int):
        return value if 1 <= value <= 12 else None
    word = value.strip().lower()
    if word in MONTHS:
        return MONTHS[word]
    refs = extract_month_refs(value)
    return refs[0].month if refs else None


def _add(result: list[str], numbers: Iterable[str]) -> None:
    for number in numbers:
        if number not in result:
            result.append(number)


def resolve_refs(
    raw_refs: Sequence[RawRef | str],
    amounts: Sequence[str | Decimal] = (),
    month_words: Sequence[str | int] = (),
    candidates: Sequence[InvoiceCandidate] = (),
    *,
    thread_invoice_numbers: Sequence[str] = (),
) -> list[str]:
    """Invoice numbers among ``candidates`` that the references point to, first mention first.

    ``raw_refs`` may be :class:`RawRef` values or the strings a classifier reported (they are
    parsed again; a string such as 'invoice from October' counts as a month reference).
    Matching, in order: invoices the thread already ties the message to
    (``thread_invoice_numbers``, from the Message-IDs it answers); number references (exact,
    year + sequence, or sequence alone: 'inv 117' is INV-2026-0117 when the client has it);
    amounts equal to an invoice's total or open balance. Months of issue count only when
    nothing else matched. Every match is returned, so an ambiguous reference yields several
    numbers and the gate decides. Nothing outside ``candidates`` is ever returned.
    """
    result: list[str] = []
    by_number = {c.number: c for c in candidates}
    _add(result, (n for n in thread_invoice_numbers if n in by_number))

    refs: list[RawRef] = []
    months: list[int] = []
    for raw in raw_refs:
        if isinstance(raw, RawRef):
            refs.append(raw)
            continue
        parsed = extract_invoice_refs(raw)
        refs.extend(parsed)
        if not parsed:
            months.extend(m.month for m in extract_month_refs(raw))
    for ref in refs:
        _add(result, (c.number for c in candidates if _matches(ref, c)))

    for amount in amounts:
        value = _as_decimal(amount)
        if value is None:
            continue
        _add(result, (c.number for c in candidates if value in (c.total, c.balance)))

    for word in month_words:
        number = _month_number(word)
        if number is not None:
            months.append(number)
    if not result and months:
        for month in months:
            in_month = [c for c in candidates if c.issue_date.month == month]
            if in_month:
                latest = max(c.issue_date.year for c in in_month)
                _add(result, (c.number for c in in_month if c.issue_date.year == latest))
    return result
