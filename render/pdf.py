"""Invoice and credit-note PDFs (PDF/A-3b) from ``templates/invoice/`` with WeasyPrint.

Rendering loads nothing from the network: :class:`AssetFetcher` serves only files under
``templates/invoice/assets/`` and the company logo handed in as bytes, records every URL it is
asked for, and refuses the rest (http, https, ftp, data, files elsewhere). Every field is
autoescaped by the shared Jinja environment, so a client named ``<img src=http://…>`` prints
as that text and never becomes an element.

Speed: the template and the compiled stylesheet are built once per process and reused; the
font is DejaVu Sans from fontconfig in two faces (regular, bold). With ``libharfbuzz-subset0``
installed WeasyPrint subsets fonts with HarfBuzz, about 3× faster than with fontTools.
"""

from __future__ import annotations

import io
import mimetypes
import os
import re
import threading
import urllib.request
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from jinja2 import Template, TemplateError

from billing.invoice import DocumentKind, InvoiceDocument, Line
from billing.tax import TaxCategory, VatBreakdown
from render import i18n
from render.environment import (
    TEMPLATES_DIR,
    babel_locale,
    date_filter,
    get_environment,
    money,
    percent,
)
from render.errors import PdfFailed, RenderError, TemplateFailed

INVOICE_TEMPLATE = "invoice/invoice.html"
INVOICE_CSS = TEMPLATES_DIR / "invoice" / "invoice.css"
ASSETS_DIR = TEMPLATES_DIR / "invoice" / "assets"
MEMORY_SCHEME = "closeloop-asset"
LOGO_URL = f"{MEMORY_SCHEME}:logo"
PAGE_SIZES = {"a4": "A4", "letter": "letter"}
# Width of the page's content area (page width minus the 18 mm + 16 mm side margins of
# invoice.css) minus the 26 mm page-number box: what the footer's margin box may fill.
FOOTER_WIDTHS = {"A4": "150mm", "letter": "155.9mm"}
PDF_VARIANT = "pdf/a-3b"
OUTPUT_INTENT = "closeloop-srgb"


class URLRefused(ValueError):
    """A resource URL the renderer will not load (WeasyPrint skips the resource)."""


def _weasy() -> Any:
    # Imported on first render: WeasyPrint costs ~0.7 s to import, and CLI commands that never
    # render should not pay for it.
    import weasyprint

    return weasyprint


def _sniff_image_type(data: bytes) -> str:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    head = data[:512].lstrip().lower()
    if head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in head):
        return "image/svg+xml"
    return "application/octet-stream"


def asset_fetcher(memory: Mapping[str, bytes] | None = None, assets_dir: Path = ASSETS_DIR) -> Any:
    """A WeasyPrint URL fetcher that serves only local assets; see :class:`AssetFetcher`."""
    fetcher_class = _fetcher_class()
    return fetcher_class(memory=memory, assets_dir=assets_dir)


@lru_cache(maxsize=1)
def _fetcher_class() -> type:
    url_fetcher: type = _weasy().urls.URLFetcher
    urls = _weasy().urls

    class AssetFetcher(url_fetcher):  # type: ignore[misc]
        """Serves ``templates/invoice/assets/`` and in-memory assets; refuses everything else.

        ``requested`` lists every URL WeasyPrint asked for, ``refused`` those it did not get.
        An in-memory asset is addressed as ``closeloop-asset:NAME`` (the logo is ``…:logo``).
        """

        def __init__(self, memory: Mapping[str, bytes] | None, assets_dir: Path) -> None:
            # URLFetcher.__init__ would install urllib's HTTP, HTTPS, FTP and file handlers;
            # this fetcher never uses them, so it starts from a bare OpenerDirector instead and
            # sets only what WeasyPrint reads (``_fail_on_errors``).
            urllib.request.OpenerDirector.__init__(self)
            self._fail_on_errors = False
            self._allowed_protocols = ("file", MEMORY_SCHEME)
            self._timeout = 0
            self._http_headers: dict[str, str] = {}
            self._request = None
            self.memory = dict(memory or {})
            self.assets_dir = assets_dir.resolve()
            self.requested: list[str] = []
            self.refused: list[str] = []

        def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> Any:
            self.requested.append(url)
            scheme, _, rest = url.partition(":")
            scheme = scheme.lower()
            if scheme == MEMORY_SCHEME and rest in self.memory:
                data = self.memory[rest]
                return urls.URLFetcherResponse(
                    url, body=data, headers={"Content-Type": _sniff_image_type(data)}
                )
            if scheme == "file":
                path = self._asset_path(url)
                if path is not None:
                    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    return urls.URLFetcherResponse(
                        url, body=path.read_bytes(), headers={"Content-Type": content_type}
                    )
            self.refused.append(url)
            raise URLRefused(f"refused to load {url!r}: only bundled invoice assets are served")

        def open(self, url: Any, data: Any = None, timeout: Any = None) -> Any:
            target = url.full_url if hasattr(url, "full_url") else str(url)
            return self.fetch(target)

        def _asset_path(self, url: str) -> Path | None:
            parts = urlsplit(url)
            if parts.netloc not in ("", "localhost"):
                return None
            path = Path(url2pathname(unquote(parts.path))).resolve()
            if path.is_relative_to(self.assets_dir) and path.is_file():
                return path
            return None

    return AssetFetcher


@lru_cache(maxsize=1)
def _srgb_icc() -> bytes:
    """WeasyPrint's bundled sRGB profile, read once (and closed, unlike WeasyPrint's own read)."""
    from importlib.resources import files

    return (files("weasyprint.pdf") / "sRGB2014.icc").read_bytes()


def _output_intent() -> dict[str, Any]:
    """PDF/A output intent options: sRGB from memory, a fresh profile object per render.

    WeasyPrint's own ``output_intent="srgb"`` opens the ICC file on every render and never
    closes it (a ResourceWarning each time); naming our own profile skips that code path and
    gives the same /OutputIntents entry.
    """
    from weasyprint.css import ColorProfile

    profile = ColorProfile(
        io.BytesIO(_srgb_icc()), "sRGB2014.icc", "relative-colorimetric", (["r"], ["g"], ["b"])
    )
    return {"output_intent": OUTPUT_INTENT, "color_profiles": {OUTPUT_INTENT: profile}}


_PER_THREAD = threading.local()


def _font_config() -> Any:
    """One WeasyPrint FontConfiguration per process and thread, reused by every render.

    A fresh one per render (WeasyPrint's default) loads the fontconfig configuration again
    each time and leaks about 0.2 MiB per document, so a worker rendering thousands of
    invoices grows steadily. Pango font maps are not thread-safe, hence one per thread, and
    one per process id so a forked worker never uses its parent's.
    """
    key = os.getpid()
    cached = getattr(_PER_THREAD, "font_config", None)
    if cached is None or cached[0] != key:
        from weasyprint.text.fonts import FontConfiguration

        cached = (key, FontConfiguration())
        _PER_THREAD.font_config = cached
    return cached[1]


def _page_size(page_size: str) -> str:
    size = PAGE_SIZES.get(page_size.strip().lower())
    if size is None:
        raise RenderError(
            f"unknown page size {page_size!r} (use A4 or Letter)", code="bad_page_size"
        )
    return size


def _css_string(text: str) -> str:
    """A CSS string literal (the labels are ours, but quote them properly anyway)."""
    escaped = "".join(ch if ch.isalnum() or ch in " .,-" else f"\\{ord(ch):x} " for ch in text)
    return f'"{escaped}"'


@lru_cache(maxsize=1)
def _base_stylesheet() -> Any:
    """The invoice stylesheet, parsed once per process."""
    try:
        css_text = INVOICE_CSS.read_text(encoding="utf-8")
    except OSError as exc:
        raise TemplateFailed(f"cannot read {INVOICE_CSS.name}: {exc}") from exc
    return _weasy().CSS(
        string=css_text, base_url=ASSETS_DIR.as_uri() + "/", url_fetcher=asset_fetcher()
    )


@lru_cache(maxsize=32)
def _page_stylesheet(page_size: str, language: str) -> Any:
    """Page size and the localised "Page x of y" margin box, parsed once per size/language."""
    before, middle, after = _page_label(i18n.labels(language)["page"])
    content = " ".join(
        part
        for part in (
            _css_string(before) if before else "",
            "counter(page)",
            _css_string(middle) if middle else "",
            "counter(pages)",
            _css_string(after) if after else "",
        )
        if part
    )
    css = (
        f"@page {{ size: {page_size}; "
        f"@bottom-left {{ width: {FOOTER_WIDTHS[page_size]}; }} "
        f"@bottom-right {{ content: {content}; }} }}"
    )
    return _weasy().CSS(string=css, url_fetcher=asset_fetcher())


@lru_cache(maxsize=1)
def _invoice_template() -> Template:
    try:
        return get_environment().get_template(INVOICE_TEMPLATE)
    except TemplateError as exc:
        raise TemplateFailed(f"cannot load {INVOICE_TEMPLATE}: {exc}") from exc


def _page_label(text: str) -> tuple[str, str, str]:
    """Split "Page {page} of {pages}" around its two counters."""
    before, _, rest = text.partition("{page}")
    middle, _, after = rest.partition("{pages}")
    return before, middle, after


def _footer_parts(document: InvoiceDocument, labels: Mapping[str, str]) -> list[str]:
    seller = document.seller
    parts = [seller.name, *seller.address]
    if seller.vat_id:
        parts.append(f"{labels['vat_id']} {seller.vat_id}")
    if seller.registration_id:
        parts.append(f"{labels['registration_id']} {seller.registration_id}")
    return parts


def invoice_context(document: InvoiceDocument, *, logo_url: str | None = None) -> dict[str, Any]:
    """Everything the invoice template needs, in the document's language."""
    labels = i18n.labels(document.language)
    locale = str(babel_locale(document.language))
    currency = document.currency
    is_credit_note = document.kind is DocumentKind.CREDIT_NOTE
    total = money(document.totals.grand_total, currency, locale)

    if is_credit_note:
        pay_text = labels["credit_settlement"]
    elif document.due_date is not None:
        pay_text = labels["pay_by"].format(
            amount=total,
            date=date_filter(document.due_date, locale),
            reference=document.payment_reference,
        )
    else:
        pay_text = labels["pay_now"].format(amount=total, reference=document.payment_reference)

    refers_to_text = None
    if document.refers_to is not None:
        refers_to_text = labels["refers_to"].format(
            number=document.refers_to.number,
            date=date_filter(document.refers_to.issue_date, locale),
        )

    legal_notes: list[str] = []
    for row in document.breakdown:
        note = i18n.exemption_text(row.category, row.exemption_reason, document.language)
        if note and note not in legal_notes:
            legal_notes.append(note)

    def line_rate(line: Line) -> str:
        if line.tax_category is TaxCategory.OUTSIDE_SCOPE:
            return "–"
        return percent(line.vat_rate, locale)

    def breakdown_label(row: VatBreakdown) -> str:
        name = i18n.category_label(row.category, document.language)
        if row.category.needs_positive_rate or row.category is TaxCategory.ZERO:
            return f"{name} {percent(row.rate, locale)}"
        return name

    context: dict[str, Any] = {
        "doc": document,
        "l": labels,
        "lang": i18n.language_of(document.language),
        "locale": locale,
        "cur": currency,
        "title": labels["credit_note"] if is_credit_note else labels["invoice"],
        "is_credit_note": is_credit_note,
        "has_discount": any(line.discount_amount for line in document.lines),
        "pay_text": pay_text,
        "refers_to_text": refers_to_text,
        "legal_notes": legal_notes,
        "rounding_rule": i18n.rounding_rule(document.language),
        "footer_text": "  ·  ".join(_footer_parts(document, labels)),
        "logo_url": logo_url,
        "line_rate": line_rate,
        "breakdown_label": breakdown_label,
    }
    return context


# Whitespace between two tags: the template's indentation. Client text cannot match, because
# autoescaping turns its "<" and ">" into entities.
_BETWEEN_TAGS = re.compile(r">\s+<")


def invoice_html(document: InvoiceDocument, *, logo_url: str | None = None) -> str:
    """The invoice as HTML (autoescaped), before layout.

    Indentation between tags is dropped: WeasyPrint parses and then discards every such
    whitespace node, which costs a few percent of a one-page render.
    """
    try:
        html = _invoice_template().render(invoice_context(document, logo_url=logo_url))
    except TemplateError as exc:
        raise TemplateFailed(f"cannot render {INVOICE_TEMPLATE}: {exc}") from exc
    return _BETWEEN_TAGS.sub("><", html)


def render_pdf(
    document: InvoiceDocument,
    *,
    company_logo: bytes | None = None,
    page_size: str = "A4",
    fetcher: Any | None = None,
) -> bytes:
    """Render an invoice or credit note as a PDF/A-3b document.

    ``company_logo`` (PNG, JPEG, GIF, WebP or SVG bytes) replaces the seller's name in the
    masthead. ``page_size`` is ``"A4"`` or ``"Letter"``. ``fetcher`` lets a caller pass its own
    :func:`asset_fetcher` to inspect what was requested; by default a fresh one is used.
    Raises :class:`RenderError` (``template_failed``, ``pdf_failed``, ``bad_page_size``).
    """
    size = _page_size(page_size)
    memory = {"logo": company_logo} if company_logo else {}
    if fetcher is None:
        fetcher = asset_fetcher(memory)
    else:
        fetcher.memory.update(memory)
    html = invoice_html(document, logo_url=LOGO_URL if company_logo else None)
    stylesheets = (_base_stylesheet(), _page_stylesheet(size, i18n.language_of(document.language)))
    weasy = _weasy()
    try:
        pdf: bytes = weasy.HTML(
            string=html, base_url=ASSETS_DIR.as_uri() + "/", url_fetcher=fetcher
        ).write_pdf(
            stylesheets=list(stylesheets),
            font_config=_font_config(),
            pdf_variant=PDF_VARIANT,
            **_output_intent(),
        )
    except RenderError:
        raise
    except Exception as exc:
        raise PdfFailed(f"WeasyPrint could not render {document.number}: {exc}") from exc
    return pdf


def warm_up(page_size: str = "A4") -> None:
    """Import WeasyPrint and parse the template and stylesheet now (e.g. in a worker's init)."""
    _invoice_template()
    _base_stylesheet()
    for language in i18n.LANGUAGES:
        _page_stylesheet(_page_size(page_size), language)
