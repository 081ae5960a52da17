"""Every email closeloop sends, composed from Jinja templates in the client's language.

:func:`compose_email` turns (template name, language, context of system data) into a
:class:`ComposedEmail`: subject, plain text and HTML, with the same figures in both parts,
formatted by babel in the client's locale (``en_GB``, ``de_DE``, ``nl_NL``, ``fr_FR``,
``es_ES``; a ``locale`` in the context, or a region in the language tag such as ``de-AT``,
wins when it is of the same language).

Templates
---------
``templates/email/<lang>/<name>.txt`` and ``.html`` for ``lang`` in en, de, nl, fr, es and
every name in :data:`CLIENT_TEMPLATES`. The two internal emails to our own account owners
(:data:`INTERNAL_TEMPLATES`) are English only and live once in ``templates/email/internal/``;
the language argument is ignored for them (``fell_back`` stays False).

* **Subject:** every ``.txt`` extends ``email/_base.txt`` and defines ``{% block subject %}``
  and ``{% block body %}``. The subject block is rendered on its own and folded to one line
  (whitespace collapsed, so a value holding a line break can never reach another header), and
  cut at :data:`SUBJECT_MAX` characters. The ``.html`` never defines a subject; it receives the
  composed one as ``subject`` (for ``<title>``).
* **Fallback:** a language without the template (or an unknown language) renders the English
  template with an English locale; ``language_used`` says ``en`` and ``fell_back`` is True.
* **Escaping:** ``.html`` is autoescaped (a client called ``<script>`` prints as text); the
  ``.txt`` is plain text and is not.
* **Strictness:** a key a template needs and the context lacks raises
  :class:`EmailContextMissing` (a :class:`~render.errors.RenderError`) naming the template and
  the dotted key (``invoice.due_date``, ``invoices[1].number``). Keys marked *optional* below
  are filled with their default before rendering.
* **Helpers available to templates:** ``t`` (the invoice label catalogue of ``render.i18n`` in
  the language used), ``lang``, ``locale``, the filters of ``render.environment`` (``money``,
  ``date``, ``iban`` …) and ``re_subject`` (``"AW: Re: x"`` → ``"Re: x"``). These names are
  reserved: the composer sets them and overrides any context key of the same name
  (``locale`` is read first, see above).

Context keys
------------
Amounts are ``Decimal``, dates ``datetime.date``. ``tools.messages.base_context`` builds the
common part (company, client, contact, owner, invoice, invoices, today) from billing records —
the one place that turns records into email context.

================================  =============================================================
key                               meaning
================================  =============================================================
``company``                       ``{name, billing_email, bank, team_name}``; ``bank`` optional
                                  (None): ``{account_name, iban, bic, bank_name,
                                  account_number, sort_code, routing_number}`` (each optional);
                                  ``team_name`` optional (default: "Accounts team" in the
                                  language used)
``client``                        ``{name}``
``contact``                       optional, ``{name, email}`` (each optional); no name → a
                                  greeting without a name
``owner``                         optional (None): the account owner ``{name, email}``
``today``                         the business date the email is written on
``invoice``                       ``{number, issue_date, due_date, total, balance, currency,
                                  days_overdue, payment_reference, status, original_due_date,
                                  payment_pending}``; ``payment_reference`` defaults to the
                                  number, ``status`` to ``open``, ``original_due_date`` to None,
                                  ``payment_pending`` (the client says paid, no match yet) to
                                  False; ``due_date`` may be None (due on receipt)
``invoices``                      a list of invoices as above; defaults to ``[invoice]``, and
                                  ``invoice`` to ``invoices[0]``
``thread_subject``                optional: subject of the client's message a reply answers
``invoice_url``                   optional: the hosted invoice page
``history``                       what was sent so far: lines (``"2026-11-26: Invoice sent"``)
                                  or ``{date, summary}`` mappings
``promised_date``                 the date the client promised to pay by
``promised_amount``               optional: ``{amount, currency}`` the client promised
``new_due_date``                  the due date granted
``failure``                       ``{to, error, subject, code, diagnostic, kind}``: ``to`` a
                                  list of addresses, ``error`` the reason; the rest optional;
                                  ``kind`` ``bounced`` or ``refused``
================================  =============================================================

Which template needs which keys: see ``REQUIRED_KEYS``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache, wraps
from typing import Any

from jinja2 import (
    Environment,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    Undefined,
    UndefinedError,
)
from jinja2.utils import missing

from render import i18n
from render.environment import babel_locale, get_environment
from render.errors import TemplateFailed

CLIENT_TEMPLATES: tuple[str, ...] = (
    "invoice_issue",
    "reminder_before_due",
    "reminder_gentle",
    "reminder_firm",
    "escalation_client",
    "reply_copy",
    "reply_payment_status",
    "reply_promise_ack",
    "reply_due_date_granted",
    "reply_statement",
    "reply_payment_instructions",
    "reply_dispute_ack",
    "reply_handoff_ack",
)
INTERNAL_TEMPLATES: tuple[str, ...] = ("escalation_owner", "delivery_failed_owner")
EMAIL_TEMPLATES: tuple[str, ...] = CLIENT_TEMPLATES + INTERNAL_TEMPLATES
EMAIL_LANGUAGES: tuple[str, ...] = i18n.LANGUAGES
DEFAULT_LOCALES: Mapping[str, str] = {
    "en": "en_GB",
    "de": "de_DE",
    "nl": "nl_NL",
    "fr": "fr_FR",
    "es": "es_ES",
}
INTERNAL_FOLDER = "internal"
SUBJECT_MAX = 118

_COMMON = ("company", "client")
_ONE = (*_COMMON, "invoice")
_MANY = (*_COMMON, "invoices")
#: The top-level keys each template needs, present and not None (the optional ones are filled
#: by default; ``contact`` is read by every client email but optional).
REQUIRED_KEYS: Mapping[str, tuple[str, ...]] = {
    "invoice_issue": _ONE,
    "reminder_before_due": (*_ONE, "today"),
    "reminder_gentle": _ONE,
    "reminder_firm": _ONE,
    "escalation_client": _ONE,
    "reply_copy": _MANY,
    "reply_payment_status": _MANY,
    "reply_promise_ack": (*_MANY, "promised_date"),
    "reply_due_date_granted": (*_ONE, "new_due_date"),
    "reply_statement": (*_MANY, "today"),
    "reply_payment_instructions": _MANY,
    "reply_dispute_ack": _MANY,
    "reply_handoff_ack": ("company",),
    "escalation_owner": (*_ONE, "owner", "history"),
    "delivery_failed_owner": (*_ONE, "owner", "failure"),
}

_RESERVED = ("t", "lang", "locale", "subject")
_BANK_KEYS = (
    "account_name",
    "iban",
    "bic",
    "bank_name",
    "account_number",
    "sort_code",
    "routing_number",
)
_REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|aw|antw|sv|fw|fwd|wg|tr|rv|rif)\s*(?:\[\d+\])?\s*:\s*)+", re.I
)
_UNDEFINED_KEY = re.compile(r"^'(?P<key>.+)' is undefined$")


class EmailContextMissing(TemplateFailed):
    """The context lacks a key the template needs; ``template`` and ``key`` say which."""

    code = "email_context_missing"

    def __init__(self, template: str, key: str) -> None:
        self.template = template
        self.key = key
        super().__init__(f"email template {template} needs {key!r}, which the context lacks")


class UnknownEmailTemplate(TemplateFailed):
    """No email template has this name (see ``EMAIL_TEMPLATES``)."""

    code = "email_template_unknown"


@dataclass(frozen=True, slots=True)
class ComposedEmail:
    """A rendered email: one-line subject, plain text and HTML with the same content."""

    subject: str
    text: str
    html: str
    language_used: str
    locale: str
    fell_back: bool
    template: str


def compose_email(name: str, language: str | None, context: Mapping[str, Any]) -> ComposedEmail:
    """Render template ``name`` in ``language`` (falling back to English) with ``context``.

    Raises :class:`UnknownEmailTemplate` for a name not in ``EMAIL_TEMPLATES``,
    :class:`EmailContextMissing` when the context lacks a key, and
    :class:`~render.errors.TemplateFailed` for any other template failure.
    """
    if name not in EMAIL_TEMPLATES:
        raise UnknownEmailTemplate(
            f"no email template {name!r}; known: {', '.join(EMAIL_TEMPLATES)}"
        )
    for key in REQUIRED_KEYS[name]:
        if context.get(key) is None:
            raise EmailContextMissing(f"{name} (any language)", key)
    env = _email_environment()
    folder, used, fell_back = _resolve(env, name, language)
    locale = _locale_for(context.get("locale"), language, used)
    data = _prepare(context)
    data.update(t=i18n.labels(used), lang=used, locale=locale)

    text_name = f"email/{folder}/{name}.txt"
    html_name = f"email/{folder}/{name}.html"
    text_template = _load(env, text_name)
    if "subject" not in text_template.blocks:
        raise TemplateFailed(f"email template {text_name} has no subject block")
    subject = _render(
        text_name,
        lambda: "".join(text_template.blocks["subject"](text_template.new_context(data))),
    )
    subject = _one_line(subject)
    if not subject:
        raise TemplateFailed(f"email template {text_name} rendered an empty subject")
    text = _tidy_text(_render(text_name, lambda: text_template.render(data)))
    data["subject"] = subject
    html_template = _load(env, html_name)
    html = _render(html_name, lambda: html_template.render(data))
    return ComposedEmail(
        subject=subject,
        text=text,
        html=html,
        language_used=used,
        locale=locale,
        fell_back=fell_back,
        template=name,
    )


def reply_subject(subject: object) -> str:
    """``Re:`` once before a subject, after dropping the reply/forward prefixes it carries."""
    text = " ".join(str(subject).split())
    return "Re: " + _REPLY_PREFIX.sub("", text)


# --- rendering -----------------------------------------------------------------------------


class _KeyUndefined(StrictUndefined):
    """StrictUndefined whose error names the full key (``invoice.due_date``)."""

    __slots__ = ()

    @property
    def _undefined_message(self) -> str:
        name = self._undefined_name
        owner = self._undefined_obj
        if owner is missing:
            key = str(name)
        else:
            parent = getattr(owner, "_cl_path", None) or f"<{type(owner).__name__}>"
            key = f"{parent}[{name}]" if isinstance(name, int) else f"{parent}.{name}"
        return f"{key!r} is undefined"


class _Node(dict[str, Any]):
    """A context mapping that knows where it sits, so a missing key can be named in full."""

    __slots__ = ("_cl_path",)

    def __init__(self, path: str, items: Mapping[str, Any]) -> None:
        super().__init__(items)
        self._cl_path = path


@lru_cache(maxsize=1)
def _email_environment() -> Environment:
    base = get_environment()
    # An overlay shares loader, autoescape and filters with the document environment; only
    # the undefined type (for key names in errors) and one filter are added, and the filter
    # dict is copied so the shared environment stays as it is.
    env = base.overlay(undefined=_KeyUndefined, cache_size=400)
    env.filters = {
        **base.filters,
        **{name: _strict(base.filters[name]) for name in _OUR_FILTERS},
        "re_subject": reply_subject,
    }
    return env


_OUR_FILTERS = ("money", "price", "date", "quantity", "percent", "country", "iban")


def _strict(function: Callable[..., Any]) -> Callable[..., Any]:
    """The filter, failing on an undefined argument like StrictUndefined does on output.

    Jinja hands an undefined value to a filter as is; babel would then fail with a bare
    AssertionError instead of naming the missing key.
    """

    @wraps(function)
    def strict(*args: Any, **kwargs: Any) -> Any:
        for arg in (*args, *kwargs.values()):
            if isinstance(arg, Undefined):
                arg._fail_with_undefined_error()
        return function(*args, **kwargs)

    return strict


def _base_language(language: str | None) -> str:
    if not language:
        return i18n.DEFAULT_LANGUAGE
    return language.replace("_", "-").split("-", 1)[0].strip().lower()


def _exists(env: Environment, name: str) -> bool:
    assert env.loader is not None
    try:
        env.loader.get_source(env, name)
    except TemplateNotFound:
        return False
    return True


def _resolve(env: Environment, name: str, language: str | None) -> tuple[str, str, bool]:
    """(folder, language used, fell back?) for a template in a language."""
    if name in INTERNAL_TEMPLATES:
        return INTERNAL_FOLDER, "en", False
    wanted = _base_language(language)
    if wanted in EMAIL_LANGUAGES and all(
        _exists(env, f"email/{wanted}/{name}.{ext}") for ext in ("txt", "html")
    ):
        return wanted, wanted, False
    return "en", "en", wanted != "en"


def _locale_for(explicit: object, requested: str | None, used: str) -> str:
    """The context's locale or the tag's region when of the language used, else the default."""
    for candidate in (explicit, requested):
        if isinstance(candidate, str) and candidate:
            loc = babel_locale(candidate)
            if loc.language == used and loc.territory:
                return str(loc)
    return DEFAULT_LOCALES[used]


def _load(env: Environment, name: str) -> Template:
    try:
        return env.get_template(name)
    except TemplateNotFound as exc:
        raise TemplateFailed(f"email template {name} is missing ({exc.name})") from exc
    except TemplateSyntaxError as exc:
        raise TemplateFailed(
            f"email template {exc.name or name} line {exc.lineno}: {exc.message}"
        ) from exc


def _render(name: str, render: Any) -> str:
    try:
        return str(render())
    except UndefinedError as exc:
        match = _UNDEFINED_KEY.match(str(exc))
        raise EmailContextMissing(name, match["key"] if match else str(exc)) from exc
    except TemplateNotFound as exc:
        raise TemplateFailed(f"email template {name} includes a missing {exc.name}") from exc
    except TemplateError as exc:
        raise TemplateFailed(f"email template {name}: {exc}") from exc
    except (
        TypeError,
        ValueError,
        ArithmeticError,
        AttributeError,
        LookupError,
        AssertionError,
    ) as exc:
        # a filter got a value of the wrong kind (a float, a string date …)
        raise TemplateFailed(f"email template {name}: {type(exc).__name__}: {exc}") from exc


def _one_line(text: str) -> str:
    subject = " ".join(text.split())
    if len(subject) > SUBJECT_MAX:
        cut = subject[: SUBJECT_MAX - 1]
        # cut at a word boundary when one is near, so no number or date is left half-printed
        head, _, _ = cut.rpartition(" ")
        subject = (head if len(head) > SUBJECT_MAX // 2 else cut).rstrip(" ,;:–-") + "…"
    return subject


def _tidy_text(text: str) -> str:
    """Trailing spaces off, at most one blank line in a row, one final newline."""
    lines = [line.rstrip() for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n"


# --- context preparation -----------------------------------------------------------------


def _track(value: Any, path: str) -> Any:
    if isinstance(value, Mapping):
        return _Node(path, {str(k): _track(v, f"{path}.{k}") for k, v in value.items()})
    if isinstance(value, list | tuple):
        return [_track(v, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


def _fill(node: Any, defaults: Mapping[str, Any]) -> None:
    if isinstance(node, dict):
        for key, value in defaults.items():
            node.setdefault(key, value)


def _fill_invoice(node: Any) -> None:
    if isinstance(node, dict):
        if "number" in node:
            node.setdefault("payment_reference", node["number"])
        _fill(node, {"status": "open", "original_due_date": None, "payment_pending": False})


def _prepare(context: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the context with paths for error messages and the optional keys filled."""
    data: dict[str, Any] = {
        str(k): _track(v, str(k)) for k, v in context.items() if k not in _RESERVED
    }
    if "invoices" not in data and data.get("invoice") is not None:
        data["invoices"] = [data["invoice"]]
    if "invoice" not in data and data.get("invoices"):
        data["invoice"] = data["invoices"][0]
    _fill(
        data,
        {
            "contact": _Node("contact", {}),
            "owner": None,
            "thread_subject": None,
            "invoice_url": None,
            "promised_amount": None,
        },
    )
    _fill(data["contact"], {"name": None, "email": None})
    company = data.get("company")
    _fill(company, {"bank": None, "team_name": None})
    if isinstance(company, dict):
        _fill(company["bank"], dict.fromkeys(_BANK_KEYS))
    _fill_invoice(data.get("invoice"))
    for item in data.get("invoices") or ():
        _fill_invoice(item)
    _fill(data.get("failure"), dict.fromkeys(("subject", "code", "diagnostic", "kind")))
    return data


def template_files(languages: Sequence[str] = EMAIL_LANGUAGES) -> list[str]:
    """Every template file an install must carry (for packaging checks and tests)."""
    files = [
        f"email/{lang}/{name}.{ext}"
        for lang in languages
        for name in CLIENT_TEMPLATES
        for ext in ("txt", "html")
    ]
    files += [
        f"email/{INTERNAL_FOLDER}/{name}.{ext}"
        for name in INTERNAL_TEMPLATES
        for ext in ("txt", "html")
    ]
    return files
