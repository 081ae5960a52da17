"""Documents out of the domain: invoice and credit-note PDFs, EN 16931 e-invoices, templates.

Public API::

    render_pdf(document, company_logo=None, page_size="A4") -> bytes      PDF/A-3b
    render_facturx_pdf(document, ...) -> bytes        PDF/A-3b with factur-x.xml embedded
    invoice_xml(document) -> bytes                    EN 16931 CII XML, XSD- and rule-checked
    extract_xml(pdf) -> bytes                         the XML back out of a Factur-X PDF
    check_en16931_rules(xml) -> list[str]             EN 16931 business rules, one line each
    get_environment() -> jinja2.Environment           shared, autoescaping (emails too)

WeasyPrint and factur-x are imported on first use, so importing this package stays cheap.
Errors derive from :class:`render.errors.RenderError` and carry a stable ``code``.
"""

from render.en16931 import check_en16931_rules
from render.environment import get_environment
from render.errors import RenderError
from render.facturx import extract_xml, invoice_xml, render_facturx_pdf
from render.pdf import render_pdf

__all__ = [
    "RenderError",
    "check_en16931_rules",
    "extract_xml",
    "get_environment",
    "invoice_xml",
    "render_facturx_pdf",
    "render_pdf",
]
