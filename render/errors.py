"""Errors raised by the render adapter (PDF, e-invoice), each with a stable ``code``.

The adapter translates Jinja2, WeasyPrint, lxml and factur-x exceptions at its edge into this
tree, so callers handle one root. The tree::

    RenderError                    (code: "render_error")     root
    ├── TemplateFailed             (code: "template_failed")  a template is missing or broken
    ├── PdfFailed                  (code: "pdf_failed")       WeasyPrint could not lay out/write
    └── EInvoiceError              (code: "einvoice_error")   the e-invoice cannot be produced
        ├── EInvoiceUnsupported    (code: "einvoice_unsupported") the document cannot be
        │                                                     expressed in EN 16931 (e.g. a
        │                                                     currency with 3 decimals)
        ├── EInvoiceInvalid        (code: "einvoice_invalid")  the XML fails the Factur-X XSD
        ├── EInvoiceRulesViolated  (code: "einvoice_rules")    EN 16931 business rules broken;
        │                                                     ``violations`` lists them
        └── EInvoiceNotFound       (code: "einvoice_not_found") no Factur-X XML in a PDF
"""

from __future__ import annotations

from collections.abc import Sequence


class RenderError(Exception):
    """Root of the render adapter's errors; ``code`` is stable and safe to show."""

    code = "render_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        """The human-readable message."""
        return str(self.args[0]) if self.args else self.code


class TemplateFailed(RenderError):
    """A template is missing, has a syntax error, or refers to an undefined value."""

    code = "template_failed"


class PdfFailed(RenderError):
    """WeasyPrint could not render or write the PDF."""

    code = "pdf_failed"


class EInvoiceError(RenderError):
    """The EN 16931 e-invoice (Factur-X) cannot be produced or read."""

    code = "einvoice_error"


class EInvoiceUnsupported(EInvoiceError):
    """The document cannot be expressed as an EN 16931 e-invoice (the PDF still renders)."""

    code = "einvoice_unsupported"


class EInvoiceInvalid(EInvoiceError):
    """The generated XML does not validate against the Factur-X EN16931 XSD."""

    code = "einvoice_invalid"


class EInvoiceRulesViolated(EInvoiceError):
    """The XML breaks EN 16931 business rules; ``violations`` holds one line per rule."""

    code = "einvoice_rules"

    def __init__(self, violations: Sequence[str]) -> None:
        self.violations: tuple[str, ...] = tuple(violations)
        rules = ", ".join(sorted({v.split(":", 1)[0] for v in self.violations}))
        super().__init__(
            f"the e-invoice breaks EN 16931 business rule(s) {rules}: " + "; ".join(self.violations)
        )


class EInvoiceNotFound(EInvoiceError):
    """A PDF carries no (valid) Factur-X XML attachment."""

    code = "einvoice_not_found"
