"""Parse raw RFC 5322 bytes into an :class:`~billing.mail.InboundMessage`, never raising.

Real mail is messy: wrong or unknown charsets, broken MIME, HTML-only bodies, winmail.dat,
200 KB headers, thousands of nested parts. ``parse_message`` always returns a message; what went
wrong is listed in ``defects``. A message that is too large, has too many parts or is nested too
deeply gets ``oversize_reason`` and is only parsed as far as is safe (the agent hands it off).

Design notes (why, not what):

* The stdlib parser runs with ``policy=compat32``. With ``policy.default`` the feed parser
  re-parses every Content-Type through the RFC 5322 header parser on each line, which made a
  3 MB message with 3,000 parts take 1.4 s instead of 0.13 s. Headers are decoded here instead
  (RFC 2047 words, 8-bit bytes, unknown charsets), and address headers go through
  ``policy.default``'s header factory first, falling back to ``email.utils.getaddresses``.
* The structure is bounded *before* parsing: the raw size and a count of ``Content-Type``
  header lines are checked first, so a message-bomb is cut off in milliseconds.
* In ``multipart/alternative`` the HTML is preferred over the plain part: it is what the
  recipient sees, and converting it lets us drop what the recipient cannot see (comments,
  ``display:none``, white-on-white, zero-size text) into ``hidden_text``. A plain part that
  differs from the HTML is a place to hide instructions too, so it is not mixed in.
* Attachments (including ``application/ms-tnef`` winmail.dat and attached messages) are listed
  by name, type and size; their contents are never decoded beyond counting bytes.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import datetime as dt
import email.policy
import hashlib
import quopri
import re
import unicodedata
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from email.utils import getaddresses, parsedate_to_datetime

from bs4 import BeautifulSoup
from bs4.element import (
    CData,
    Comment,
    Declaration,
    Doctype,
    NavigableString,
    ProcessingInstruction,
    Tag,
)

from billing.mail import Attachment, InboundMessage
from inbox.prefilter import MachineEvidence, classify_machine_mail
from inbox.quotes import split_reply

DEFAULT_MAX_BYTES = 25 * 1024 * 1024
DEFAULT_MAX_DEPTH = 12
DEFAULT_MAX_PARTS = 300

# Beyond these a value is cut (and a defect recorded): nothing useful hides past them and the
# decoders below are not meant to chew megabytes.
_MAX_HEADER_CHARS = 32 * 1024
_MAX_TEXT_CHARS = 500_000
_MAX_HIDDEN_CHARS = 100_000
# beautifulsoup builds a Python object per node: ~1.7 s per MB of HTML on one core. Real
# mail HTML is 10-300 KB; past this budget (per message) the HTML is cut, never skipped, so
# hidden parts stay hidden.
_MAX_HTML_CHARS = 600_000
_MAX_DEFECTS = 50
_MAX_ADDRESSES = 200

_COMPAT = email.policy.compat32
_DEFAULT = email.policy.default


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------


def parse_message(
    raw: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_parts: int = DEFAULT_MAX_PARTS,
) -> InboundMessage:
    """Parse ``raw`` into an :class:`InboundMessage`; never raises on bad input.

    ``max_bytes`` bounds the raw size, ``max_parts`` the number of MIME parts and
    ``max_depth`` the nesting of multiparts and attached messages. Past a bound only the
    headers (and, for depth, the shallow parts) are read and ``oversize_reason`` says why.
    """
    if not isinstance(raw, bytes | bytearray | memoryview):
        raw = str(raw).encode("utf-8", "surrogateescape")
    raw = bytes(raw)
    try:
        return _Parser(raw, max_bytes=max_bytes, max_depth=max_depth, max_parts=max_parts).run()
    except Exception as exc:  # the last line of defence: bad mail never crashes the inbox
        return _minimal_message(raw, f"parser failure: {type(exc).__name__}")


def message_id_of(raw: bytes) -> str:
    """The ``message_id`` that :func:`parse_message` gives ``raw``, reading only the headers.

    The Message-ID without angle brackets, else ``sha256:<hex>`` of the raw bytes. A leading
    byte-order mark or blank lines are skipped the same way the full parse skips them.
    """
    data = _strip_leading_junk(bytes(raw))
    headers = BytesHeaderParser(policy=_COMPAT).parsebytes(data[:_HEADERS_ONLY_BYTES])
    value = next(
        (str(v) for name, v in headers.raw_items() if name.strip().lower() == "message-id"), None
    )
    return normalize_message_id(value) or "sha256:" + hashlib.sha256(raw).hexdigest()


def _strip_leading_junk(raw: bytes) -> bytes:
    data = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    return _LEADING_BLANK_LINES.sub(b"", data, count=1)


# --------------------------------------------------------------------------------------------
# Charset and header decoding
# --------------------------------------------------------------------------------------------

_CHARSET_ALIASES = {
    "unicode-1-1-utf-7": "utf-7",
    "utf7": "utf-7",
    "utf8": "utf-8",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "ksc5601": "cp949",
    "euc-kr": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cn-gb": "gb18030",
    "iso-8859-8-i": "iso-8859-8",
    "x-sjis": "cp932",
    "shift-jis": "cp932",
    "shift_jis": "cp932",
    "sjis": "cp932",
    "windows-31j": "cp932",
    "x-euc-jp": "euc_jp",
    "iso-2022-jp": "iso2022_jp_2",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "ascii",
    "ansi_x3.4-1968": "ascii",
    "big5": "big5hkscs",
    "tis-620": "cp874",
    "windows-874": "cp874",
}
_NO_CHARSET = {"", "x-unknown", "unknown-8bit", "unknown", "default", "x-user-defined", "none"}
# Codecs that are not character sets and would reinterpret the text (``\x41`` escapes etc.).
_FORBIDDEN_CODECS = {
    "unicode_escape",
    "raw_unicode_escape",
    "punycode",
    "idna",
    "undefined",
    "mbcs",
    "oem",
    "charmap",
}


def _codec_for(charset: str | None) -> str | None:
    if charset is None:
        return None
    name = charset.strip().strip("\"'").lower()
    if "*" in name:  # RFC 2231 language suffix: utf-8*en
        name = name.split("*", 1)[0]
    if name in _NO_CHARSET:
        return None
    name = _CHARSET_ALIASES.get(name, name)
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    if info.name.replace("-", "_") in _FORBIDDEN_CODECS or not getattr(
        info, "_is_text_encoding", True
    ):
        return None
    return info.name


def decode_bytes(data: bytes, charset: str | None) -> tuple[str, str | None]:
    """Decode ``data``: declared charset, then UTF-8, then cp1252, then Latin-1.

    Returns the text and a defect description when the declared charset could not be used.
    """
    codec = _codec_for(charset)
    if codec is not None:
        try:
            return data.decode(codec), None
        except (UnicodeDecodeError, LookupError, ValueError):
            pass
    if data.isascii():
        return data.decode("ascii"), None
    declared = charset or "none"
    if codec != "utf-8":
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            # Undeclared UTF-8 is normal (RFC 6532); a wrong declaration is worth noting.
            return text, (f"charset {declared!r} did not decode; used utf-8" if charset else None)
    if codec in {"cp932", "gb18030", "euc_jp", "cp949", "big5hkscs", "iso2022_jp_2"}:
        # A mostly right East-Asian text beats cp1252 mojibake of all of it.
        return data.decode(codec, "replace"), f"charset {declared!r} had invalid bytes"
    try:
        return data.decode("cp1252"), f"charset {declared!r} did not decode; used cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), f"charset {declared!r} did not decode; used latin-1"


_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,75})\?([bBqQ])\?([^?\s]*)\?=")
_SURROGATES = re.compile(r"[\udc80-\udcff]")
_FOLD = re.compile(r"\r?\n[ \t]*|\r[ \t]*")


def _surrogates_to_text(value: str) -> str:
    if not _SURROGATES.search(value):
        return value
    data = value.encode("utf-8", "surrogateescape")
    text, _ = decode_bytes(data, None)
    return text


def _decode_word(encoding: str, payload: str) -> bytes:
    if encoding in "bB":
        cleaned = re.sub(r"[^A-Za-z0-9+/]", "", payload)
        cleaned += "=" * (-len(cleaned) % 4)
        try:
            return base64.b64decode(cleaned)
        except (binascii.Error, ValueError):
            return payload.encode("ascii", "replace")
    return quopri.decodestring(payload.replace("_", " ").encode("ascii", "replace"), header=True)


def decode_header_text(value: str | None) -> str:
    """Unfold a raw header value and decode RFC 2047 words and raw 8-bit bytes to text."""
    if not value:
        return ""
    if not isinstance(value, str):
        value = str(value)
    if len(value) > _MAX_HEADER_CHARS:
        value = value[:_MAX_HEADER_CHARS]
    value = _surrogates_to_text(_FOLD.sub(" ", value))
    if "=?" not in value:
        return _clean_text(value).strip()
    out: list[str] = []
    pos = 0
    pending: list[bytes] = []
    pending_charset: str | None = None

    def flush() -> None:
        nonlocal pending, pending_charset
        if pending:
            text, _ = decode_bytes(b"".join(pending), pending_charset)
            out.append(text)
        pending = []
        pending_charset = None

    for match in _ENCODED_WORD.finditer(value):
        gap = value[pos : match.start()]
        charset = match.group(1)
        if gap and not (pending and gap.isspace()):
            flush()
            out.append(gap)
        if pending and charset.lower() != (pending_charset or "").lower():
            flush()
        pending.append(_decode_word(match.group(2), match.group(3)))
        pending_charset = charset
        pos = match.end()
    flush()
    out.append(value[pos:])
    return _clean_text("".join(out)).strip()


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Bidirectional overrides and isolates make "invoice\u202efdp.exe" read as "invoiceexe.pdf".
_BIDI = re.compile(r"[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _clean_text(text: str) -> str:
    return _BIDI.sub("", _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")))


def normalize_message_id(value: str | None) -> str | None:
    """``<abc@host>`` (or a list of them, or a bare id) → ``abc@host``; None when empty."""
    if not value:
        return None
    value = _FOLD.sub(" ", str(value)).strip()
    match = re.search(r"<([^<>\s]{1,990})>", value)
    if match:
        return match.group(1)
    token = value.split()[0].strip("<>") if value.split() else ""
    return token[:990] or None


def _message_id_list(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    ids = re.findall(r"<([^<>\s]{1,990})>", value)
    if not ids:
        single = normalize_message_id(value)
        ids = [single] if single else []
    seen: list[str] = []
    for mid in ids[:100]:
        if mid not in seen:
            seen.append(mid)
    return tuple(seen)


_ANGLE_ADDR = re.compile(r"<([^<>\s@]{1,64}@[^<>\s@]{1,255})>")
_ADDRESS_SCAN = re.compile(r"[\w.+'-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,10}")


@dataclass(frozen=True, slots=True)
class _Mailbox:
    name: str
    address: str


def _addresses(raw_values: Sequence[str], defects: list[str], header: str) -> list[_Mailbox]:
    """Parse address headers: ``policy.default`` first, ``getaddresses`` when that fails."""
    result: list[_Mailbox] = []
    for value in raw_values:
        if len(value) > _MAX_HEADER_CHARS:
            defects.append(f"{header} header truncated")
        unfolded = _surrogates_to_text(_FOLD.sub(" ", value[:_MAX_HEADER_CHARS]))
        parsed: list[_Mailbox] = []
        try:
            if len(unfolded) <= 4000:
                structured = _DEFAULT.header_factory(header, unfolded)
                for addr in getattr(structured, "addresses", ()):
                    address = f"{addr.username}@{addr.domain}" if addr.domain else addr.username
                    parsed.append(_Mailbox(_clean_text(addr.display_name or ""), address))
        except Exception:  # the structured parser chokes on some real headers
            parsed = []
        if not parsed:
            try:
                pairs = getaddresses([unfolded[:16_000]])
            except (RecursionError, ValueError, IndexError):
                # The legacy parser recurses per token; a pathological header gets a plain scan.
                defects.append(f"{header} header could not be parsed")
                pairs = [("", found) for found in _ADDRESS_SCAN.findall(unfolded)]
            for name, address in pairs:
                if name or address:
                    parsed.append(_Mailbox(decode_header_text(name), address))
        angle = _ANGLE_ADDR.findall(unfolded)
        display = unfolded[: unfolded.find("<" + angle[0])] if len(angle) == 1 else ""
        if len(angle) == 1 and (
            ("@" in display and "," not in display)
            or (len(parsed) == 1 and parsed[0].address.lower() != angle[0].lower())
        ):
            # "alice@example.com <bob@example.com>": the angle address is where the mail is
            # from (and where replies go); the rest is only a display name.
            parsed = [_Mailbox(decode_header_text(display.strip().strip('"').strip()), angle[0])]
        for box in parsed:
            address = _clean_text(box.address).strip().strip("<>").lower()
            result.append(_Mailbox(box.name.strip().strip('"').strip(), address))
            if len(result) >= _MAX_ADDRESSES:
                return result
    return result


def _parse_date(value: str | None, defects: list[str]) -> dt.datetime | None:
    if not value:
        return None
    text = decode_header_text(value)
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        defects.append("unparseable Date header")
        return None
    if parsed is None:
        defects.append("unparseable Date header")
        return None
    if parsed.tzinfo is None:
        defects.append("Date header without time zone (assumed UTC)")
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


# --------------------------------------------------------------------------------------------
# HTML to text
# --------------------------------------------------------------------------------------------

_BLOCK_TAGS = frozenset(
    [
        "address",
        "article",
        "aside",
        "center",
        "dd",
        "details",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "header",
        "li",
        "main",
        "nav",
        "ol",
        "section",
        "summary",
        "tr",
        "ul",
        "caption",
        "tbody",
        "thead",
        "tfoot",
    ]
)
_PARAGRAPH_TAGS = frozenset(["p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "pre", "blockquote"])
_INVISIBLE_TAGS = frozenset(
    ["script", "style", "head", "title", "template", "noscript", "object", "embed", "applet"]
)
_SKIP_TAGS = frozenset(
    [
        "meta",
        "link",
        "base",
        "img",
        "svg",
        "map",
        "area",
        "iframe",
        "frame",
        "frameset",
        "audio",
        "video",
    ]
)

_HIDDEN_STYLE = re.compile(
    r"display:none|visibility:(?:hidden|collapse)|mso-hide:all"
    r"|(?<![-\w])opacity:(?:0*\.?0+%?|0)(?:;|!|$)"
    r"|(?<![-\w])font-size:(?:0*\.?0+|0?\.[0-4]\d*)(?:px|pt|em|rem|%)?(?:;|!|$)"
    r"|(?<![-\w])font-size:1(?:px|pt)(?:;|!|$)"
    r"|transform:scale\(0\)|clip:rect\(0|clip-path:inset\((?:50|100)%"
    r"|text-indent:-\d{3,}"
    r"|(?:left|top):-\d{3,}(?:px|pt|em)"
)
_ZERO_BOX = re.compile(
    r"(?<![-\w])(?:max-height|height|max-width|width|line-height):0(?:px|pt|em|%)?(?:;|!|$)"
)
_OVERFLOW_HIDDEN = re.compile(r"overflow:hidden")
_COLOR = re.compile(r"(?<![-\w])color:([^;!]+)")
_BACKGROUND = re.compile(r"background(?:-color)?:([^;!]+)")
_BRACE = re.compile(r"[{}]")
_SIMPLE_SELECTOR = re.compile(r"^[a-z0-9]*([.#])([\w-]+)$", re.IGNORECASE)
_WS = re.compile(r"[ \t\n\r\f\v\u00a0\u2000-\u200b\u3000]+")
_ZERO_WIDTH = re.compile(r"[\u200b-\u200d\u2060\ufeff\u00ad]")

_NAMED_COLORS = {"white": (255, 255, 255), "snow": (255, 250, 250), "ivory": (255, 255, 240)}


def _rgb(value: str) -> tuple[int, int, int] | None:
    value = value.strip().lower()
    if value in _NAMED_COLORS:
        return _NAMED_COLORS[value]
    if value.startswith("#"):
        digits = value[1:]
        if len(digits) == 3:
            digits = "".join(ch * 2 for ch in digits)
        if len(digits) >= 6:
            try:
                return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)
            except ValueError:
                return None
        return None
    match = re.match(r"rgba?\((\d+),(\d+),(\d+)", value)
    if match:
        return int(match.group(1)), int(match.group(2)), int(match.group(3))
    return None


def _is_whiteish(value: str) -> bool:
    rgb = _rgb(value)
    return rgb is not None and min(rgb) >= 0xF0


def _background_of(tag: object) -> str | None:
    attrs = getattr(tag, "attrs", None) or {}
    style = str(attrs.get("style", "")).lower().replace(" ", "")
    match = _BACKGROUND.search(style)
    if match:
        value = match.group(1)
        # "background: #fff url(...) no-repeat" → first token
        return value.split()[0] if value.split() else value
    if attrs.get("bgcolor"):
        return str(attrs["bgcolor"])
    return None


@dataclass
class _TextWriter:
    lines: list[str] = field(default_factory=list)
    current: list[str] = field(default_factory=list)
    depth_at_start: int = 0
    chars: int = 0

    def text(self, value: str, quote_depth: int) -> None:
        if not value:
            return
        if not self.current:
            self.depth_at_start = quote_depth
            value = value.lstrip(" ")
            if not value:
                return
        self.current.append(value)
        self.chars += len(value)

    def end_line(self) -> None:
        line = "".join(self.current).rstrip()
        prefix = "> " * self.depth_at_start if line else ">" * self.depth_at_start
        self.lines.append(prefix + line if self.depth_at_start else line)
        self.current = []

    def block(self) -> None:
        if self.current:
            self.end_line()

    def paragraph(self, quote_depth: int = 0) -> None:
        self.block()
        if not self.lines:
            return
        last = self.lines[-1]
        if last.strip("> ") != "":
            self.lines.append(">" * quote_depth)
        elif len(last) > quote_depth:
            # leaving a quote: the blank line after it is no longer quoted
            self.lines[-1] = ">" * quote_depth

    def result(self) -> str:
        self.block()
        text = "\n".join(self.lines)
        return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def html_to_text(html: str) -> tuple[str, str]:
    """Convert HTML to (visible text, hidden text).

    Block elements become line breaks, ``<blockquote>`` lines get ``> `` (so quoted history is
    recognised like in plain mail), links keep their target. Scripts, styles, comments and
    elements a reader cannot see go to the hidden text, never to the visible text.
    """
    if len(html) > _MAX_HTML_CHARS:
        html = html[:_MAX_HTML_CHARS]
    try:
        return _html_to_text_bs4(html)
    except Exception:  # a pathological document falls back to a crude strip
        return _html_to_text_crude(html), ""


def _html_to_text_crude(html: str) -> str:
    html = re.sub(r"(?is)<!--.*?-->|<(script|style|head)\b.*?</\1\s*>", " ", html)
    html = re.sub(r"(?i)<br\s*/?>|</(p|div|tr|li|h\d)>", "\n", html)
    text = re.sub(r"<[^>]{0,2000}>", " ", html)
    import html as html_module

    text = html_module.unescape(text)
    return "\n".join(_WS.sub(" ", line).strip() for line in text.splitlines()).strip()


def _strip_css_comments(css: str) -> str:
    out: list[str] = []
    position = 0
    while True:
        start = css.find("/*", position)
        if start < 0:
            out.append(css[position:])
            return "".join(out)
        out.append(css[position:start])
        end = css.find("*/", start + 2)
        if end < 0:
            return "".join(out)
        position = end + 2


def _top_level_css_rules(css: str) -> list[tuple[str, str]]:
    """(selectors, declarations) of rules outside any @-block, in one linear scan.

    Rules inside ``@media`` are left out on purpose: responsive mails hide desktop or mobile
    variants there, and both are visible to somebody. (A regex for this backtracked
    quadratically on brace-less text.)
    """
    rules: list[tuple[str, str]] = []
    preludes: list[str] = []
    position = 0
    for brace in _BRACE.finditer(css):
        index = brace.start()
        if brace.group() == "{":
            preludes.append(css[position:index].strip())
        elif preludes:
            prelude = preludes.pop()
            if not prelude.startswith("@") and not any(p.startswith("@") for p in preludes):
                rules.append((prelude, css[position:index]))
        position = index + 1
    return rules


def _hidden_selectors(soup: object) -> tuple[set[str], set[str]]:
    classes: set[str] = set()
    ids: set[str] = set()
    for style in soup.find_all("style"):  # type: ignore[attr-defined]
        css = _strip_css_comments(style.get_text()[:200_000])
        for selectors, body in _top_level_css_rules(css):
            compact = body.lower().replace(" ", "").replace("\n", "").replace("\t", "")
            if not _HIDDEN_STYLE.search(compact):
                continue
            for selector in selectors.split(","):
                match = _SIMPLE_SELECTOR.match(selector.strip())
                if match:
                    (classes if match.group(1) == "." else ids).add(match.group(2).lower())
    return classes, ids


def _is_hidden(tag: object, hidden_classes: set[str], hidden_ids: set[str]) -> bool:
    attrs = getattr(tag, "attrs", None) or {}
    if "hidden" in attrs:
        return True
    name = getattr(tag, "name", "")
    if name == "input" and str(attrs.get("type", "")).lower() == "hidden":
        return True
    if hidden_classes and attrs.get("class"):
        classes = attrs["class"]
        values = classes if isinstance(classes, list) else str(classes).split()
        if any(str(c).lower() in hidden_classes for c in values):
            return True
    if hidden_ids and str(attrs.get("id", "")).lower() in hidden_ids:
        return True
    style = attrs.get("style")
    if not style:
        color_attr = attrs.get("color") if name == "font" else None
        return bool(color_attr) and _is_white_on_white(tag, str(color_attr))
    compact = str(style).lower().replace(" ", "").replace("\n", "").replace("\t", "")
    if _HIDDEN_STYLE.search(compact):
        return True
    if _ZERO_BOX.search(compact) and _OVERFLOW_HIDDEN.search(compact):
        return True
    color = _COLOR.search(compact)
    if color:
        background = _BACKGROUND.search(compact)
        if background and color.group(1).strip() == background.group(1).split()[0].strip():
            return True
        return _is_white_on_white(tag, color.group(1))
    return False


def _is_white_on_white(tag: object, color: str) -> bool:
    if not _is_whiteish(color):
        return False
    node: object | None = tag
    hops = 0
    while node is not None and hops < 60:
        background = _background_of(node)
        if background is not None:
            return _is_whiteish(background) or background.strip().lower() in {"transparent"}
        node = getattr(node, "parent", None)
        hops += 1
    return True  # white text on the default white page


def _html_to_text_bs4(html: str) -> tuple[str, str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            soup = BeautifulSoup(html, "lxml")
        except Exception:  # lxml missing or refusing the document: the stdlib parser will do
            soup = BeautifulSoup(html, "html.parser")

    hidden_classes, hidden_ids = _hidden_selectors(soup)
    writer = _TextWriter()
    hidden: list[str] = []
    hidden_len = 0

    def add_hidden(value: str) -> None:
        nonlocal hidden_len
        value = _WS.sub(" ", value).strip()
        if value and hidden_len < _MAX_HIDDEN_CHARS:
            hidden.append(value)
            hidden_len += len(value)

    # Iterative walk: (node, quote_depth, in_pre, is_exit) with "exit" markers so that
    # deeply nested documents cannot exhaust the Python stack.
    stack: list[tuple[object, int, bool, bool]] = [(soup, 0, False, False)]
    while stack:
        node, quote, in_pre, is_exit = stack.pop()
        if is_exit:
            tag_name = str(node)
            if tag_name in _PARAGRAPH_TAGS:
                writer.paragraph(quote)
            elif tag_name in _BLOCK_TAGS:
                writer.block()
            continue
        if isinstance(node, Comment):
            add_hidden(str(node))
            continue
        if isinstance(node, (Doctype, Declaration, ProcessingInstruction)):
            continue
        if isinstance(node, CData):
            add_hidden(str(node))
            continue
        if isinstance(node, NavigableString):
            value = _ZERO_WIDTH.sub("", str(node))
            if in_pre:
                parts = value.split("\n")
                for index, part in enumerate(parts):
                    if index:
                        writer.end_line()
                    writer.text(part.replace("\t", "    "), quote)
            else:
                writer.text(_WS.sub(" ", value), quote)
            continue
        if not isinstance(node, Tag):
            continue
        name = (node.name or "").lower()
        if name in _INVISIBLE_TAGS:
            if name != "head":
                add_hidden(node.get_text(" "))
            else:
                for element in node.find_all(["title", "script", "style"]):
                    add_hidden(element.get_text(" "))
            continue
        if name in _SKIP_TAGS:
            continue
        if node is not soup and _is_hidden(node, hidden_classes, hidden_ids):
            add_hidden(node.get_text(" "))
            continue
        if name == "br":
            writer.end_line()
            continue
        if name == "hr":
            writer.block()
            writer.text("_" * 32, quote)
            writer.end_line()
            continue
        child_quote = quote
        child_pre = in_pre
        if name in _PARAGRAPH_TAGS:
            writer.paragraph(quote)
        elif name in _BLOCK_TAGS:
            writer.block()
        if name == "blockquote":
            child_quote = quote + 1
        elif name == "pre":
            child_pre = True
        elif name in {"td", "th"} and writer.current:
            writer.text(" | ", quote)
        elif name == "li":
            writer.text("- ", quote)
        if name in _PARAGRAPH_TAGS or name in _BLOCK_TAGS:
            stack.append((name, quote, in_pre, True))
        if name == "a":
            href = str(node.get("href") or "").strip()
            label = node.get_text(" ").strip()
            if href.lower().startswith(("http://", "https://")) and href not in label:
                stack.append((NavigableString(f" <{href[:300]}>"), child_quote, child_pre, False))
        for child in reversed(node.contents):
            stack.append((child, child_quote, child_pre, False))
    text = writer.result()
    return text, "\n".join(hidden)


# --------------------------------------------------------------------------------------------
# MIME walk
# --------------------------------------------------------------------------------------------

_LEADING_BLANK_LINES = re.compile(rb"\A(?:[ \t]*(?:\r\n|\n|\r))+")


def _count_content_types(data: bytes) -> int:
    """Content-Type header lines in the raw bytes: an upper bound on the MIME parts.

    Plain byte counting on a lower-cased copy: a case-insensitive regex over 25 MB took a
    second, this takes milliseconds.
    """
    low = data.lower()
    # "\n" covers LF and CRLF files; "\r" directly before the name only occurs in CR-only ones
    return (
        low.count(b"\ncontent-type")
        + low.count(b"\rcontent-type")
        + int(low.startswith(b"content-type"))
    )


_HEADERS_ONLY_BYTES = 1024 * 1024
_DSN_TYPES = frozenset({"message/delivery-status", "message/global-delivery-status"})
_MDN_TYPES = frozenset(
    {"message/disposition-notification", "message/global-disposition-notification"}
)
_ARF_TYPES = frozenset({"message/feedback-report"})
_RETURNED_HEADER_TYPES = frozenset(
    {"text/rfc822-headers", "message/rfc822-headers", "message/global-headers"}
)
_ATTACHED_MESSAGE_TYPES = frozenset(
    {"message/rfc822", "message/global", "message/news", "message/partial"}
)
_TNEF_TYPES = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})


def _safe_filename(value: str | None) -> str | None:
    if not value:
        return None
    name = decode_header_text(value)
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip().strip('"').strip()
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    return name[:255] or None


def _block_text(block: Message) -> str:
    return "\n".join(f"{name}: {_FOLD.sub(' ', str(value))}" for name, value in block.raw_items())


def _report_text(part: Message) -> str:
    """The text of a delivery-status / MDN / ARF part, whatever shape the parser left it in."""
    payload = _payload(part)
    if isinstance(payload, list):
        return "\n\n".join(_block_text(block) for block in payload if isinstance(block, Message))
    raw = _decoded(part)
    if raw:
        text, _ = decode_bytes(raw[:200_000], None)
        return _clean_text(text)
    return _clean_text(str(payload))[:200_000]


def _flowed_to_fixed(text: str, delsp: bool) -> str:
    """RFC 3676 format=flowed: join soft-broken lines so quotes and sentences stay whole."""
    out: list[str] = []
    buffer = ""
    buffer_depth = -1
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]  # space-stuffing
        if buffer and depth != buffer_depth:
            out.append(("> " * buffer_depth if buffer_depth else "") + buffer)
            buffer = ""
        buffer_depth = depth
        if content.endswith(" ") and content != "-- ":
            buffer += content[:-1] if delsp else content
            continue
        buffer += content
        out.append(("> " * depth if depth else "") + buffer)
        buffer = ""
    if buffer:
        out.append(("> " * buffer_depth if buffer_depth > 0 else "") + buffer)
    return "\n".join(out)


_RAW_FILENAME = re.compile(r'(?i)\b(?:file)?name\s*=\s*(?:"([^"]*)"|([^;\s]+))')
_INLINE_MESSAGE_ID = re.compile(r"(?im)^[ \t]*Message-I[Dd][ \t]*:[ \t]*<([^<>\s]{1,990})>")


def _payload(part: Message) -> object:
    """The payload as parsed (str or list of parts), even when the stdlib's getter chokes."""
    try:
        return part.get_payload()
    except (ValueError, LookupError, TypeError):  # e.g. a NUL byte in the charset parameter
        return getattr(part, "_payload", "")


def _decoded(part: Message) -> bytes:
    """The transfer-decoded payload bytes, or b"" when it cannot be decoded."""
    try:
        data = part.get_payload(decode=True)
    except Exception:  # a broken transfer encoding or parameter is a defect, not a crash
        return b""
    return data if isinstance(data, bytes) else b""


_BOUNDARY_LINE = re.compile(r"^--([^\s]{1,200}?)(?:--)?[ \t\r]*$", re.MULTILINE)


def _recover_multipart(part: Message) -> Message | None:
    """Re-parse a multipart whose boundary parameter was lost, using the first ``--x`` line."""
    payload = _payload(part)
    if not isinstance(payload, str):
        return None
    sample = payload[:200_000]
    match = _BOUNDARY_LINE.search(sample)
    if match is None:
        return None
    boundary = match.group(1)
    if boundary.endswith("--") and payload.count("--" + boundary[:-2]) > 1:
        boundary = boundary[:-2]
    head = f'Content-Type: {part.get_content_type()}; boundary="{boundary}"\n\n'
    try:
        rebuilt = BytesParser(policy=_COMPAT).parsebytes(
            head.encode("ascii", "replace") + payload.encode("utf-8", "surrogateescape")
        )
    except Exception:  # recovery is best effort
        return None
    return rebuilt if isinstance(_payload(rebuilt), list) else None


class _Parser:
    def __init__(self, raw: bytes, *, max_bytes: int, max_depth: int, max_parts: int) -> None:
        self.raw = raw
        self.max_bytes = max(1, max_bytes)
        self.max_depth = max(1, min(max_depth, 100))
        self.max_parts = max(1, max_parts)
        self.defects: list[str] = []
        self.body: list[str] = []
        self.hidden: list[str] = []
        self.attachments: list[Attachment] = []
        self.report_types: list[str] = []
        self.delivery_status: list[str] = []
        self.feedback_reports: list[str] = []
        self.dispositions: list[str] = []
        self.returned_ids: list[str] = []
        self.inline_ids: list[str] = []
        self.returned_headers: list[str] = []
        self.has_attached_message = False
        self.parts_seen = 0
        self.too_deep = False
        self.text_chars = 0
        self.html_chars = 0
        self.fallback_text = ""

    # ---------------------------------------------------------------------------- driver
    def run(self) -> InboundMessage:
        raw = self.raw
        digest = hashlib.sha256(raw).hexdigest()
        data = _strip_leading_junk(raw)
        if len(data) != len(raw):
            self.defects.append("junk before the headers (byte-order mark or blank lines)")
        oversize: str | None = None
        root: Message | None = None
        if len(raw) > self.max_bytes:
            oversize = f"message is {len(raw)} bytes, over the limit of {self.max_bytes}"
        else:
            declared_parts = _count_content_types(data)
            if declared_parts > self.max_parts:
                oversize = (
                    f"message declares {declared_parts} MIME parts, over the limit of "
                    f"{self.max_parts}"
                )
        if oversize is None:
            try:
                root = BytesParser(policy=_COMPAT).parsebytes(data)
            except RecursionError:
                oversize = "MIME structure nested too deeply to parse"
            except Exception as exc:  # fall back to the headers alone
                self.defects.append(f"MIME parse failed: {type(exc).__name__}")
        if root is None:
            root = BytesHeaderParser(policy=_COMPAT).parsebytes(data[:_HEADERS_ONLY_BYTES])
            root.set_payload("")
        else:
            depth = self._max_depth(root)
            if depth > self.max_depth:
                oversize = (
                    f"MIME parts nested {depth} levels deep, over the limit of {self.max_depth}"
                )
            self._visit(root, 0, body_allowed=True)
            if self.parts_seen > self.max_parts:
                oversize = oversize or (f"message has more than {self.max_parts} MIME parts")
        return self._build(root, digest, oversize)

    def _max_depth(self, root: Message) -> int:
        deepest = 0
        stack: list[tuple[Message, int]] = [(root, 0)]
        visited = 0
        while stack and visited <= self.max_parts * 4:
            part, depth = stack.pop()
            visited += 1
            deepest = max(deepest, depth)
            payload = _payload(part)
            if isinstance(payload, list):
                stack.extend((child, depth + 1) for child in payload if isinstance(child, Message))
        return deepest

    # ---------------------------------------------------------------------------- walking
    def _note_defects(self, part: Message) -> None:
        for defect in getattr(part, "defects", ())[:10]:
            self.defects.append(type(defect).__name__)

    def _visit(self, part: Message, depth: int, *, body_allowed: bool) -> None:
        self.parts_seen += 1
        if self.parts_seen > self.max_parts:
            return
        if depth > self.max_depth:
            self.too_deep = True
            return
        self._note_defects(part)
        ctype = part.get_content_type()
        if ctype.startswith("message/"):
            # attached messages and reports are listed and read for evidence, never shown as
            # the body (message/external-body, message/partial included)
            self._leaf(part, ctype, body_allowed=False)
            return
        payload = _payload(part)
        if not isinstance(payload, list) and ctype.startswith("multipart/"):
            recovered = _recover_multipart(part)
            if recovered is not None:
                self.defects.append("recovered a multipart without a usable boundary")
                part, payload = recovered, _payload(recovered)
            else:
                # "false multipart": no boundary anywhere, so the payload is the text
                self._leaf(part, "text/plain", body_allowed=body_allowed)
                return
        if not isinstance(payload, list):
            self._leaf(part, ctype, body_allowed=body_allowed)
            return
        children = [child for child in payload if isinstance(child, Message)]
        if ctype == "multipart/alternative":
            self._alternative(children, depth, body_allowed=body_allowed)
        elif ctype == "multipart/related":
            root_index = self._related_root(part, children)
            for index, child in enumerate(children):
                self._visit(child, depth + 1, body_allowed=body_allowed and index == root_index)
        elif ctype == "multipart/report":
            report_type = str(part.get_param("report-type") or "").strip().lower()
            self.report_types.append(report_type)
            for index, child in enumerate(children):
                self._visit(child, depth + 1, body_allowed=body_allowed and index == 0)
        elif ctype in {"multipart/signed"}:
            for index, child in enumerate(children):
                self._visit(child, depth + 1, body_allowed=body_allowed and index == 0)
        elif ctype in {"multipart/encrypted"}:
            for child in children:
                self._visit(child, depth + 1, body_allowed=False)
        else:
            for child in children:
                self._visit(child, depth + 1, body_allowed=body_allowed)

    def _related_root(self, part: Message, children: list[Message]) -> int:
        start = part.get_param("start")
        if isinstance(start, str) and start:
            wanted = start.strip().strip("<>")
            for index, child in enumerate(children):
                if str(child.get("Content-ID", "")).strip().strip("<>") == wanted:
                    return index
        return 0

    def _alternative(self, children: list[Message], depth: int, *, body_allowed: bool) -> None:
        rich: Message | None = None
        plain: Message | None = None
        for child in children:
            ctype = child.get_content_type()
            if child.get_content_disposition() == "attachment":
                self._visit(child, depth + 1, body_allowed=False)
            elif ctype == "text/html" or (
                isinstance(_payload(child), list) and ctype.startswith("multipart/")
            ):
                rich = child  # the last rich alternative is the preferred one (RFC 2046)
            elif ctype == "text/plain":
                plain = plain or child
            elif ctype.startswith("text/") or not ctype.startswith("multipart/"):
                # text/calendar, text/enriched, application/...: list it, never render it
                self._attachment(child, ctype)
        if rich is None and plain is None:
            return
        before = len(self.body)
        if rich is not None:
            self._visit(rich, depth + 1, body_allowed=body_allowed)
        added = "".join(self.body[before:]).strip()
        if not added and plain is not None:
            del self.body[before:]
            self._visit(plain, depth + 1, body_allowed=body_allowed)

    def _leaf(self, part: Message, ctype: str, *, body_allowed: bool) -> None:
        disposition = part.get_content_disposition()
        filename = self._filename(part)
        if ctype in _DSN_TYPES:
            report = _report_text(part)
            self.delivery_status.append(report)
            self._scan_inline_ids(report)
        elif ctype in _MDN_TYPES:
            self.dispositions.append(_report_text(part))
        elif ctype in _ARF_TYPES:
            self.feedback_reports.append(_report_text(part))
        elif ctype in _RETURNED_HEADER_TYPES:
            self._returned_headers(part)
        elif ctype in _ATTACHED_MESSAGE_TYPES:
            self.has_attached_message = True
            inner = _payload(part)
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                self._returned_message(inner[0])
        if (
            body_allowed
            and ctype in {"text/plain", "text/html"}
            and disposition != "attachment"
            and (filename is None or not self.body)
        ):
            self._body(part, ctype)
            return
        self._attachment(part, ctype, filename)

    def _returned_message(self, inner: Message) -> None:
        if not inner.keys():
            # A blank line before the returned headers makes them look like a body.
            body = _payload(inner)
            if isinstance(body, str):
                inner = BytesHeaderParser(policy=_COMPAT).parsebytes(
                    _LEADING_BLANK_LINES.sub(b"", body[:200_000].encode("utf-8", "surrogateescape"))
                )
        mid = normalize_message_id(inner.get("Message-ID"))
        if mid:
            self.returned_ids.append(mid)
        self.returned_headers.append(_block_text(inner)[:20_000])

    def _scan_inline_ids(self, text: str) -> None:
        for match in _INLINE_MESSAGE_ID.finditer(text[:200_000]):
            self.inline_ids.append(match.group(1))

    def _returned_headers(self, part: Message) -> None:
        raw = _decoded(part)
        if not raw:
            return
        headers = BytesHeaderParser(policy=_COMPAT).parsebytes(
            _LEADING_BLANK_LINES.sub(b"", raw[:200_000])
        )
        mid = normalize_message_id(headers.get("Message-ID"))
        if mid:
            self.returned_ids.append(mid)
        self.returned_headers.append(_block_text(headers)[:20_000])

    def _filename(self, part: Message) -> str | None:
        try:
            raw_name = part.get_filename()
        except Exception:  # broken RFC 2231 parameters
            self.defects.append("unreadable attachment filename")
            raw_name = None
        if isinstance(raw_name, str) and "\ufffd" not in raw_name:
            return _safe_filename(raw_name)
        # Raw 8-bit bytes in the parameter: the stdlib turned them into U+FFFD; read the
        # raw header instead and decode it like any other 8-bit header.
        for name, value in part.raw_items():
            if name.lower() in {"content-disposition", "content-type"}:
                match = _RAW_FILENAME.search(str(value))
                if match:
                    return _safe_filename(match.group(1) or match.group(2))
        return _safe_filename(raw_name if isinstance(raw_name, str) else None)

    def _attachment(self, part: Message, ctype: str, filename: str | None = None) -> None:
        filename = filename if filename is not None else self._filename(part)
        if filename and filename.lower() == "winmail.dat":
            ctype = "application/ms-tnef"
        size = self._size(part)
        if (ctype.startswith("text/") or ctype == "message/partial") and size <= 200_000:
            text = self._part_text(part)
            self._scan_inline_ids(text)
            if ctype == "text/plain" and not self.fallback_text and size <= 65_536:
                # Some MTAs attach the notification itself ("deliveryproblems.txt"); the
                # prefilter may read it, the visible text does not include it.
                self.fallback_text = text
        self.attachments.append(Attachment(filename, ctype, size))

    def _size(self, part: Message) -> int:
        payload = _payload(part)
        if isinstance(payload, list):
            total = 0
            stack: list[Message] = [p for p in payload if isinstance(p, Message)]
            guard = 0
            while stack and guard < 10_000:
                guard += 1
                sub = stack.pop()
                total += sum(len(k) + len(str(v)) + 4 for k, v in sub.raw_items())
                inner = _payload(sub)
                if isinstance(inner, list):
                    stack.extend(p for p in inner if isinstance(p, Message))
                else:
                    total += len(inner) if isinstance(inner, str) else 0
            return total
        try:
            data = part.get_payload(decode=True)
        except Exception:  # undecodable payload: count what is there
            return len(payload) if isinstance(payload, str) else 0
        return len(data) if isinstance(data, bytes) else 0

    def _part_text(self, part: Message) -> str:
        try:
            data = part.get_payload(decode=True)
        except Exception:  # a broken transfer encoding is a defect, not a crash
            self.defects.append("undecodable body part")
            payload = _payload(part)
            data = payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""
        if not isinstance(data, bytes):
            data = b""
        if len(data) > _MAX_TEXT_CHARS * 4:
            self.defects.append("body part truncated")
            data = data[: _MAX_TEXT_CHARS * 4]
        try:
            charset = part.get_content_charset()
        except Exception:  # e.g. an RFC 2231 charset parameter that will not parse
            charset = None
        text, problem = decode_bytes(data, charset)
        if problem:
            self.defects.append(problem)
        return _clean_text(text)

    def _body(self, part: Message, ctype: str) -> None:
        if self.text_chars >= _MAX_TEXT_CHARS:
            self.defects.append("text truncated")
            return
        if ctype == "text/html" and self.html_chars >= _MAX_HTML_CHARS:
            self.defects.append("HTML over the size budget; not converted")
            return
        text = self._part_text(part)
        if ctype == "text/html":
            budget = _MAX_HTML_CHARS - self.html_chars
            if budget <= 0:
                self.defects.append("HTML over the size budget; not converted")
                return
            if len(text) > budget:
                self.defects.append("HTML over the size budget; truncated")
                text = text[:budget]
            self.html_chars += len(text)
            visible, hidden = html_to_text(text)
            if hidden:
                self.hidden.append(hidden)
            text = visible
        else:
            if str(part.get_param("format") or "").lower() == "flowed":
                text = _flowed_to_fixed(text, str(part.get_param("delsp") or "").lower() == "yes")
            cleaned = _ZERO_WIDTH.sub("", text)
            text = "\n".join(line.rstrip() for line in cleaned.split("\n"))
        text = text.strip("\n")
        if len(text) > _MAX_TEXT_CHARS - self.text_chars:
            self.defects.append("text truncated")
            text = text[: _MAX_TEXT_CHARS - self.text_chars]
        self.text_chars += len(text)
        self.body.append(text)

    # ---------------------------------------------------------------------------- assembly
    def _build(self, root: Message, digest: str, oversize: str | None) -> InboundMessage:
        headers = _header_map(root, self.defects)

        def first(name: str) -> str | None:
            values = headers.get(name)
            return values[0] if values else None

        from_boxes = _addresses(headers.get("from", ())[:1], self.defects, "from")
        if not from_boxes and headers.get("sender"):
            from_boxes = _addresses(headers["sender"][:1], self.defects, "sender")
        if not from_boxes:
            self.defects.append("no From address")
        elif len(from_boxes) > 1:
            self.defects.append("more than one From address")
        sender = from_boxes[0] if from_boxes else _Mailbox("", "")
        subject = decode_header_text(first("subject"))
        date = _parse_date(first("date"), self.defects)
        message_id = normalize_message_id(first("message-id")) or f"sha256:{digest}"
        in_reply_to = normalize_message_id(first("in-reply-to"))
        references = _message_id_list(first("references"))
        text = "\n\n".join(chunk for chunk in self.body if chunk.strip())
        hidden = "\n".join(self.hidden)[:_MAX_HIDDEN_CHARS]
        decoded = {
            name: tuple(decode_header_text(value) for value in values[:50])
            for name, values in headers.items()
        }
        evidence = MachineEvidence(
            headers=decoded,
            subject=subject,
            from_addr=sender.address,
            from_name=sender.name,
            content_type=root.get_content_type(),
            report_types=tuple(self.report_types),
            delivery_status=tuple(self.delivery_status),
            feedback_reports=tuple(self.feedback_reports),
            disposition_notifications=tuple(self.dispositions),
            returned_message_ids=tuple(self.returned_ids + self.inline_ids),
            returned_headers=tuple(self.returned_headers),
            text=text if text.strip() else self.fallback_text,
            sent_at=date,
            in_reply_to=in_reply_to,
            references=references,
            has_attached_message=self.has_attached_message,
        )
        verdict = classify_machine_mail(evidence)
        split = split_reply(text, sender_name=sender.name)
        if self.too_deep and oversize is None:
            oversize = f"MIME parts nested deeper than {self.max_depth} levels"
        return InboundMessage(
            message_id=message_id,
            raw_sha256=digest,
            from_addr=sender.address,
            from_name=sender.name,
            reply_to=tuple(
                b.address
                for b in _addresses(headers.get("reply-to", ()), self.defects, "reply-to")
                if b.address
            ),
            to=tuple(
                b.address
                for b in _addresses(headers.get("to", ()), self.defects, "to")
                if b.address
            ),
            cc=tuple(
                b.address
                for b in _addresses(headers.get("cc", ()), self.defects, "cc")
                if b.address
            ),
            subject=subject,
            date=date,
            in_reply_to=in_reply_to,
            references=references,
            text=text,
            new_text=split.new_text,
            hidden_text=hidden,
            attachments=tuple(self.attachments),
            auth_results=decoded.get("authentication-results", ()),
            machine=verdict.kind,
            machine_reason=verdict.reason,
            bounce=verdict.bounce,
            auto_reply_until=verdict.auto_reply_until,
            defects=_dedupe(self.defects),
            oversize_reason=oversize,
        )


_MAX_HEADERS = 2000


def _header_map(root: Message, defects: list[str]) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for count, (name, value) in enumerate(root.raw_items()):
        if count >= _MAX_HEADERS:
            defects.append("too many header fields; the rest were ignored")
            break
        key = str(name).strip().lower()
        raw_value = value if isinstance(value, str) else str(value)
        if len(raw_value) > _MAX_HEADER_CHARS:
            defects.append(f"{key} header truncated")
            raw_value = raw_value[:_MAX_HEADER_CHARS]
        headers.setdefault(key, []).append(raw_value)
    return headers


def _dedupe(items: Sequence[str]) -> tuple[str, ...]:
    seen: list[str] = []
    for item in items:
        if item not in seen:
            seen.append(item)
        if len(seen) >= _MAX_DEFECTS:
            break
    return tuple(seen)


def _minimal_message(raw: bytes, reason: str) -> InboundMessage:
    from billing.mail import MachineKind

    digest = hashlib.sha256(raw).hexdigest()
    return InboundMessage(
        message_id=f"sha256:{digest}",
        raw_sha256=digest,
        from_addr="",
        from_name="",
        reply_to=(),
        to=(),
        cc=(),
        subject="",
        date=None,
        in_reply_to=None,
        references=(),
        text="",
        new_text="",
        hidden_text="",
        attachments=(),
        auth_results=(),
        machine=MachineKind.none,
        machine_reason="",
        bounce=None,
        auto_reply_until=None,
        defects=(reason,),
        oversize_reason=f"could not be parsed ({reason})",
    )
