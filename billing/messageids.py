"""Message-IDs for the mail we send, so a reply or a bounce can be tied back.

Scheme: ``<{invoice number}.{step}.{random}@{domain}>``, e.g.
``<INV-2026-0117.reminder-1.9f2c4e1a@northwind-digital.example>``. The step is ``issue``,
``reminder-<key>``, ``escalation``, ``reply`` … The random part comes from the caller (no
randomness in the domain): the outbox derives it from the idempotency key, so a retried send
carries the same Message-ID.

Number and step are percent-encoded outside ``A-Z a-z 0-9 _ -`` (``FA/2026/7`` becomes
``FA%2F2026%2F7``; ``%`` is allowed in a Message-ID), so :func:`parse_message_id` gives back
exactly the number that was sent and the three dot-separated parts never run together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

_PLAIN = re.compile(r"[A-Za-z0-9_-]")
_ENCODED = re.compile(r"(?:[A-Za-z0-9_-]|%[0-9A-F]{2})+")
# numbers may also hold dots: ids written before number and step were encoded
_ENCODED_NUMBER = re.compile(r"(?:[A-Za-z0-9_.-]|%[0-9A-F]{2})+")
_TOKEN_UNSAFE = re.compile(r"[^A-Za-z0-9]")
_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")


@dataclass(frozen=True, slots=True)
class MessageIdParts:
    """The parts of one of our Message-IDs."""

    number: str
    step: str
    token: str
    domain: str


def _encode(text: str) -> str:
    return "".join(
        ch if _PLAIN.fullmatch(ch) else "".join(f"%{byte:02X}" for byte in ch.encode())
        for ch in text
    )


def make_message_id(number: str, step: str, token: str, domain: str) -> str:
    """Build ``<number.step.token@domain>``.

    Number and step are percent-encoded where needed; the token keeps its letters and digits
    only. Raises ValueError for an empty part or a domain that is not a host name.
    """
    safe_token = _TOKEN_UNSAFE.sub("", token)
    if not number or not step or not safe_token:
        raise ValueError("a Message-ID needs a number, a step and a token with letters or digits")
    if not _DOMAIN.fullmatch(domain):
        raise ValueError(f"{domain!r} is not a host name for a Message-ID")
    return f"<{_encode(number)}.{_encode(step)}.{safe_token}@{domain}>"


def parse_message_id(value: str, *, domain: str | None = None) -> MessageIdParts | None:
    """Parts of a Message-ID we made (optionally only for ``domain``), else None.

    Angle brackets are optional.
    """
    text = value.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    local, at, host = text.rpartition("@")
    if not at or not _DOMAIN.fullmatch(host):
        return None
    pieces = local.rsplit(".", 2)
    if len(pieces) != 3:
        return None
    number, step, token = pieces
    if not (
        _ENCODED_NUMBER.fullmatch(number)
        and _ENCODED.fullmatch(step)
        and token.isascii()
        and token.isalnum()
    ):
        return None
    if domain is not None and host.lower() != domain.lower():
        return None
    return MessageIdParts(number=unquote(number), step=unquote(step), token=token, domain=host)
