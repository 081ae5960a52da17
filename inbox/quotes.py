"""Separate the newest reply from quoted history, forwarded content and the signature.

Works on plain text (HTML is converted first, with ``<blockquote>`` rendered as ``> `` lines).
Recognised history markers:

* attribution lines: Gmail/Apple/Thunderbird "On ... wrote:", German "Am ... schrieb ...:",
  Dutch "Op ... schreef ...:" / "... het volgende geschreven:", French "Le ... a écrit :",
  Spanish "El ... escribió:", and the same shape in other languages ("... написал:");
* Outlook separators ("-----Original Message-----", "Ursprüngliche Nachricht", "Oorspronkelijk
  bericht", "Message d'origine", "Mensaje original") and forwards ("---------- Forwarded
  message ---------", "Begin forwarded message:");
* an Outlook header block (``From:``/``Von:``/``Van:``/``De:`` followed by ``Sent:``/``Date:``/
  ``To:``/``Subject:`` lines in the same language family), with or without a ``____`` line;
* ``>`` quoted lines.

Signatures: the ``-- `` delimiter, mobile footers ("Sent from my iPhone", "Von meinem iPhone
gesendet", "Verzonden vanaf mijn iPhone", "Envoyé de mon iPhone", "Enviado desde mi iPhone",
"Get Outlook for iOS"), and a closing line ("Kind regards", "Mit freundlichen Grüßen", "Met
vriendelijke groet", "Cordialement", "Saludos") followed by a name, or the sender's own name
followed by contact lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ReplyParts:
    """A message body split into the newest reply, the quoted history and the signature."""

    new_text: str
    quoted: str
    signature: str


# Attribution lines: "On <date>, <name> wrote:" and its translations. The verb sits right
# before the colon (EN/FR/ES/IT/PT/...), or is followed by the name (DE "schrieb", NL "schreef").
_VERB_AT_END = re.compile(
    r"\b(?:wrote|writes|a\s+[ée]crit|escribi[óo]|ha\s+scritto|escreveu|geschreven|kirjoitti|skrev"
    r"|napisał|napisal|написал[а]?|написа|yazdı)\s*:$"
)
_VERB_THEN_NAME = re.compile(r"\b(?:schrieb|schreef)\b[^:]{0,250}:$")
_ATTRIBUTION_OPENING = re.compile(r"(?:on|am|op|le|el|il|em|den|dne|w\s+dniu)\b")
_ATTRIBUTION_START = re.compile(r"^\s*(?:>\s*)*(?:on|am|op|le|el)\b", re.IGNORECASE)
_HAS_DATE_OR_ADDRESS = re.compile(r"\d|@")


def _attribution_text(line: str) -> bool:
    text = line.strip().lstrip(">").strip()
    while text.startswith(">"):
        text = text.lstrip(">").strip()
    if len(text) > 500 or not text.endswith(":"):
        return False
    low = text.lower()
    if not (_VERB_AT_END.search(low) or _VERB_THEN_NAME.search(low)):
        return False
    return bool(_ATTRIBUTION_OPENING.match(low) or _HAS_DATE_OR_ADDRESS.search(low))


_SEPARATOR = re.compile(
    r"^\s*(?:>\s*)*(?:"
    r"-{2,}\s*(?:original\s+message|ursprüngliche\s+nachricht|originalnachricht"
    r"|oorspronkelijk\s+bericht|origineel\s+bericht|message\s+d['’]origine|mensaje\s+original"
    r"|messaggio\s+originale|forwarded\s+message|weitergeleitete\s+nachricht"
    r"|doorgestuurd\s+bericht|message\s+transféré|message\s+transfere|mensaje\s+reenviado"
    r"|reply\s+message|original\s+e-?mail)\s*-{2,}"
    r"|begin\s+forwarded\s+message\s*:|anfang\s+der\s+weitergeleiteten\s+nachricht\s*:"
    r"|début\s+du\s+message\s+réexpédié\s*:|inicio\s+del\s+mensaje\s+reenviado\s*:"
    r"|-{5,}\s*(?:forwarded|weitergeleitet|doorgestuurd).{0,40}"
    r")\s*$",
    re.IGNORECASE,
)
_UNDERSCORES = re.compile(r"^\s*(?:>\s*)*[_—–-]{8,}\s*$")
_HEADER_FROM = re.compile(
    r"^\s*(?:>\s*)*\*?(?:from|von|van|de|da|od|från|fra|от)\s*\*?\s*:\s*\S", re.IGNORECASE
)
_HEADER_OTHER = re.compile(
    r"^\s*(?:>\s*)*\*?(?:sent|date|to|cc|subject|gesendet|datum|an|betreff|verzonden|aan|onderwerp"
    r"|envoyé|envoye|date|à|a|objet|enviado|fecha|para|asunto|inviato|oggetto|skickat|ämne"
    r"|sendt|emne|отправлено|кому|тема)\s*\*?\s*:",
    re.IGNORECASE,
)
_QUOTE_LINE = re.compile(r"^\s*>")
_SIG_DELIMITER = re.compile(r"^(?:-- ?|--|__)$")
_MOBILE = re.compile(
    r"^\s*(?:sent\s+(?:from|with|via)\s+(?:my\s+)?\S.{0,40}|get\s+outlook\s+for\s+\S+.{0,20}"
    r"|von\s+meinem\s+\S+.{0,30}\s+gesendet|gesendet\s+von\s+(?:meinem\s+)?\S.{0,40}"
    r"|verzonden\s+(?:vanaf|met|van)\s+(?:mijn\s+)?\S.{0,40}|envoyé\s+(?:de|depuis)\s+(?:mon\s+)?\S.{0,40}"
    r"|enviado\s+(?:desde|de)\s+(?:mi\s+)?\S.{0,40}|inviato\s+da\s+\S.{0,40}"
    r"|sent\s+from\s+(?:outlook|mail)\s+for\s+\S+.{0,20})\s*$",
    re.IGNORECASE,
)
_VALEDICTIONS = frozenset(
    v.strip()
    for v in """
    regards|kind regards|best regards|warm regards|warmest regards|best wishes|many thanks|thanks
    |thank you|thanks again|thanks in advance|thank you in advance|thanks and regards|thx|cheers
    |best|all the best|sincerely|yours sincerely|sincerely yours|yours faithfully|yours truly
    |respectfully|with thanks|with kind regards|with best regards|kr|br|rgds|regards and thanks
    |mit freundlichen grüßen|mit freundlichen grüssen|mit freundlichem gruß|mit freundlichem gruss
    |freundliche grüße|freundliche grüsse|viele grüße|viele grüsse|beste grüße|beste grüsse
    |liebe grüße|liebe grüsse|herzliche grüße|herzliche grüsse|schöne grüße|mfg|gruß|grüße|gruss
    |vielen dank|danke|besten dank
    |met vriendelijke groet|met vriendelijke groeten|vriendelijke groet|vriendelijke groeten
    |hartelijke groet|hartelijke groeten|groet|groeten|met groet|mvg|alvast bedankt|bedankt
    |cordialement|bien cordialement|très cordialement|bien à vous|salutations|meilleures salutations
    |sincères salutations|bonne journée|merci|merci beaucoup|merci d'avance
    |saludos|un saludo|saludos cordiales|cordiales saludos|un cordial saludo|atentamente|gracias
    |muchas gracias|cordialmente|distinti saluti|cordiali saluti|saluti|grazie
    """.replace("\n", "").split("|")
    if v.strip()
)
_CONTACTISH = re.compile(
    r"@|https?://|www\.|\+?\d[\d ()./-]{6,}\d|\b(?:tel|phone|mobile|fax|t|m|f|e)\s*[.:]"
    r"|\b(?:ltd|gmbh|b\.v\.|inc|llc|s\.a\.|sarl|ag|plc)\b",
    re.IGNORECASE,
)


def _is_attribution(lines: list[str], index: int) -> int:
    """Number of lines (1-3) forming an attribution starting at ``index``, or 0."""
    line = lines[index]
    if len(line) > 600:
        return 0
    if _attribution_text(line):
        return 1
    if _ATTRIBUTION_START.match(line):
        joined = line
        for extra in range(1, 3):
            if index + extra >= len(lines) or not lines[index + extra].strip():
                break
            joined = joined.rstrip() + " " + lines[index + extra].strip()
            if _attribution_text(joined):
                return extra + 1
    return 0


def _is_header_block(lines: list[str], index: int) -> bool:
    """A quoted message's header block: From plus Sent/Date/To/Subject, in any order."""
    first = lines[index]
    if not (_HEADER_FROM.match(first) or _HEADER_OTHER.match(first)):
        return False
    has_from = False
    count = 0
    for offset in range(7):
        if index + offset >= len(lines):
            break
        candidate = lines[index + offset]
        if not candidate.strip():
            if count:
                break
            continue
        if _HEADER_FROM.match(candidate):
            has_from = True
            count += 1
        elif _HEADER_OTHER.match(candidate):
            count += 1
        else:
            break
    return has_from and count >= 3


def _history_start(lines: list[str]) -> tuple[int, str] | None:
    """Index of the first line of quoted/forwarded history and its kind."""
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        if _SEPARATOR.match(line):
            return index, "separator"
        if _is_attribution(lines, index):
            return index, "attribution"
        if _is_header_block(lines, index):
            start = index
            # An Outlook "____" rule (or a blank line and a rule) right above belongs to it.
            back = index - 1
            while back >= 0 and not lines[back].strip():
                back -= 1
            if back >= 0 and _UNDERSCORES.match(lines[back]):
                start = back
            return start, "header"
    return None


def _strip_blank(lines: list[str]) -> list[str]:
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def _normalise_valediction(line: str) -> str:
    text = line.strip().lower().rstrip(",.!;:-– ")
    return re.sub(r"\s+", " ", text)


def _is_valediction(line: str) -> bool:
    text = _normalise_valediction(line)
    if not text or len(text) > 70:
        return False
    if text in _VALEDICTIONS:
        return True
    # "Mit freundlichen Grüßen / Best regards", "Thanks, Jane", "Best regards - Jane"
    parts = [p.strip() for p in re.split(r"\s*/\s*|\s*\|\s*", text) if p.strip()]
    if len(parts) > 1 and all(p.rstrip(",.!") in _VALEDICTIONS for p in parts):
        return True
    head, _, tail = text.partition(",")
    if tail and head in _VALEDICTIONS and 0 < len(tail.split()) <= 3:
        return True
    # "Thanks so much", "Thanks a lot", "Many thanks again", "Best wishes from Leeds"
    words = text.split()
    return len(words) <= 4 and words[0] in {"thanks", "regards", "cheers", "best", "greetings"}


def _looks_like_name(line: str) -> bool:
    text = line.strip()
    if not text or len(text) > 40 or (text.endswith(("?", ".", ":")) and not text.endswith(".")):
        return False
    words = text.split()
    if len(words) > 5:
        return False
    return not text.endswith(".") or len(words) <= 3


def _signature_start(lines: list[str], sender_name: str | None) -> int | None:
    """First line of the signature block, or None.

    A ``-- `` delimiter or a mobile footer bounds the search; above that bound a closing line
    ("Kind regards") followed by a name, or the sender's own name followed by contact lines,
    starts the signature earlier.
    """
    bound = len(lines)
    for index, line in enumerate(lines):
        if index > 0 and _SIG_DELIMITER.match(line.rstrip("\r")):
            bound = index
            break
        if _MOBILE.match(line) and len([x for x in lines[index + 1 :] if x.strip()]) <= 3:
            bound = index
            break
    head = lines[:bound]
    tail_limit = max(0, len(head) - 40)
    for index in range(len(head) - 1, tail_limit - 1, -1):
        if not head[index].strip():
            continue
        if not _is_valediction(head[index]):
            continue
        following = [x for x in head[index + 1 :] if x.strip()]
        if not following or _looks_like_name(following[0]):
            return index
        break
    if sender_name:
        name = sender_name.strip().lower()
        first = name.split()[0] if name.split() else ""
        for index in range(len(head) - 1, tail_limit - 1, -1):
            candidate = head[index].strip().lower()
            if candidate and (candidate == name or (len(first) > 2 and candidate == first)):
                following = [x for x in head[index + 1 :] if x.strip()]
                if len(following) <= 12 and all(
                    len(x) <= 80 or _CONTACTISH.search(x) for x in following
                ):
                    return index
                break
    return bound if bound < len(lines) else None


def split_reply(text: str, *, sender_name: str | None = None) -> ReplyParts:
    """Split ``text`` into the newest reply, the quoted history and the signature.

    Top-posted replies keep the text above the first history marker. A bottom-posted reply
    (the message starts with the quote) keeps the unquoted lines after it. Interleaved ``>``
    lines are dropped from the new text. When nothing would be left, the new text is the whole
    text without quote lines rather than empty.
    """
    if not text:
        return ReplyParts("", "", "")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    history = _history_start(lines)
    quoted: list[str] = []
    if history is None:
        body = lines
    else:
        index, kind = history
        before = lines[:index]
        if any(line.strip() and not _QUOTE_LINE.match(line) for line in before):
            body, quoted = before, lines[index:]
        elif kind == "attribution":
            skip = _is_attribution(lines, index) or 1
            after = lines[index + skip :]
            body = [line for line in after if not _QUOTE_LINE.match(line)]
            quoted = lines[: index + skip] + [line for line in after if _QUOTE_LINE.match(line)]
            # A second history marker inside the bottom-posted part ends it.
            nested = _history_start(body)
            if nested is not None:
                quoted += body[nested[0] :]
                body = body[: nested[0]]
        else:
            body, quoted = [], lines[index:]
    kept = [line for line in body if not _QUOTE_LINE.match(line)]
    quoted = [line for line in body if _QUOTE_LINE.match(line)] + quoted
    kept = _strip_blank(kept)
    signature: list[str] = []
    start = _signature_start(kept, sender_name)
    if start is not None and any(line.strip() for line in kept[:start]):
        kept, signature = _strip_blank(kept[:start]), _strip_blank(kept[start:])
    new_text = "\n".join(kept).strip()
    if not new_text:
        fallback = [line for line in lines if not _QUOTE_LINE.match(line)]
        new_text = "\n".join(_strip_blank(fallback)).strip() if history is None else ""
    return ReplyParts(new_text, "\n".join(_strip_blank(quoted)), "\n".join(signature))
