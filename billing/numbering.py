"""Invoice number patterns such as ``INV-{YYYY}-{####}``.

Tokens: ``{YYYY}`` year, ``{YY}`` two-digit year, ``{MM}`` month, and ``{#…#}`` the sequence
number zero-padded to the number of ``#``. The *series* is the pattern with the date tokens
filled in (``INV-2026-{####}``): numbers run 1, 2, 3 … per series with no gaps; the database
enforces it (unique series+sequence, allocated in the issuing transaction).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from billing.errors import BillingError

_TOKEN = re.compile(r"\{(YYYY|YY|MM|#+)\}")


class InvalidPattern(BillingError):
    """A numbering pattern without exactly one sequence token, or with unknown tokens."""

    code = "invalid_number_pattern"


@dataclass(frozen=True, slots=True)
class NumberPattern:
    """A validated numbering pattern."""

    pattern: str

    def __post_init__(self) -> None:
        seq = re.findall(r"\{#+\}", self.pattern)
        if len(seq) != 1:
            raise InvalidPattern(
                f"numbering pattern {self.pattern!r} needs exactly one sequence token like {{####}}"
            )
        leftover = _TOKEN.sub("", self.pattern)
        if "{" in leftover or "}" in leftover:
            raise InvalidPattern(f"numbering pattern {self.pattern!r} has an unknown token")

    @property
    def width(self) -> int:
        """Zero-padding width of the sequence number."""
        match = re.search(r"\{(#+)\}", self.pattern)
        assert match is not None
        return len(match.group(1))

    def series(self, on: date) -> str:
        """The series key for documents dated ``on`` (date tokens filled, sequence left)."""
        return (
            self.pattern.replace("{YYYY}", f"{on.year:04d}")
            .replace("{YY}", f"{on.year % 100:02d}")
            .replace("{MM}", f"{on.month:02d}")
        )

    def format(self, on: date, sequence: int) -> str:
        """The number for ``sequence`` in the series of ``on``."""
        if sequence < 1:
            raise InvalidPattern("sequence numbers start at 1")
        return re.sub(r"\{#+\}", f"{sequence:0{self.width}d}", self.series(on))

    def parse(self, number: str, on: date | None = None) -> tuple[str, int] | None:
        """(series, sequence) of a number written by this pattern, or None if it does not fit.

        A string parses only if :meth:`format` writes exactly it, so each number has one
        (series, sequence): ``INV-2026-00001`` (padded beyond the width), sequence 0 or month 13
        do not parse. The series is read from the number itself; ``on`` is not needed for that
        and is accepted for compatibility.
        """
        parts: list[str] = []
        last = 0
        for index, token in enumerate(_TOKEN.finditer(self.pattern)):
            parts.append(re.escape(self.pattern[last : token.start()]))
            parts.append(_token_regex(token.group(1), index))
            last = token.end()
        parts.append(re.escape(self.pattern[last:]))
        match = re.fullmatch("".join(parts), number)
        if not match:
            return None
        values = match.groupdict()
        sequence = int(values.pop("seq"))
        year, month = 2000, 1
        for name, text in values.items():
            if name.startswith("y4"):
                year = int(text)
            elif name.startswith("y2"):
                year = 2000 + int(text)
            else:
                month = int(text)
        if year < 1 or not 1 <= month <= 12 or sequence < 1:
            return None
        written_on = date(year, month, 1)
        # tokens repeated with different values ({YYYY}…{YY}) or padding beyond the width
        if self.format(written_on, sequence) != number:
            return None
        return self.series(written_on), sequence


def _token_regex(name: str, index: int) -> str:
    if name == "YYYY":
        return rf"(?P<y4_{index}>\d{{4}})"
    if name == "YY":
        return rf"(?P<y2_{index}>\d{{2}})"
    if name == "MM":
        return rf"(?P<mm_{index}>\d{{2}})"
    return rf"(?P<seq>\d{{{len(name)},}})"
