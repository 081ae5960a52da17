"""The default classifier: deterministic phrase rules for English, German, Dutch, French, Spanish.

It needs no key and no network, and gives the same answer for the same message every time.

How it reads a message:

* **Regions.** The subject, the newest reply (``new_text``) and the quoted history are read
  apart. The newest reply counts fully; a fresh subject fully, a ``Re:`` subject (usually our own
  words) at a third; quoted history only adds a *secondary* dispute (a complaint quoted from an
  earlier message must not be lost) and never decides the primary intent.
* **Clean-up.** Legal disclaimers and company-register footer lines are dropped: their words
  ("received in error", "Amtsgericht") are not the sender's intent.
* **Cues.** Each intent has families of phrase patterns in the five languages, each with a
  weight. Per intent the strongest hit of each cue is combined as a noisy OR, so several
  independent hints add up without one repeated phrase counting twice.
* **Negation and conditions.** Cues that a negation reverses ("we have NOT paid yet", "no
  complaints") are dropped when a negation sits in the same clause; cues that a condition
  suspends ("if you have already paid, …") are dropped inside an if-clause.
* **Data, not instructions.** A paragraph that addresses an AI/system or tells the reader to
  ignore instructions is flagged ``injection_suspected`` and ignored for every intent except
  dispute: injected text can add a reason to hand off, never remove one.
* **Disputes first.** A complaint about amount, quality, hours, scope, double billing, "we don't
  owe", cancellation, or legal language makes ``dispute`` the primary intent once its score is
  moderate; legal words also add ``legal_language``, insolvency words ``insolvency`` (with
  ``other`` as primary unless a dispute is present), so the gate hands the case to a person.

Dates ("by Friday", "end of the month", "15.12.", "am 15. Dezember", "le 15 décembre",
"el 15 de diciembre", ISO) are resolved against ``today``; amounts keep their currency and
European decimal commas are read as such.
"""

from __future__ import annotations

import calendar
import re
import re._constants as _sre
import re._parser as _sre_parse
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from agent.classifier import ClassifierInput
from agent.references import (
    MONTH_PATTERN,
    MONTHS,
    extract_invoice_refs,
    extract_month_refs,
)
from agent.schema import LOW_CONFIDENCE, Classification, Flag, Intent, IntentFinding

CLASSIFIER_NAME = "offline-rules/1"

MIN_SCORE = 0.35
"""An intent is reported when its combined cue score reaches this."""
DISPUTE_FIRST = 0.5
"""A dispute scoring at least this is the primary intent, whatever else the message says."""
SPAM_FIRST = 0.6
MAX_CONFIDENCE = 0.95
MAX_SUBJECT_CHARS = 1_000
MAX_TEXT_CHARS = 20_000
"""The rules read at most this much of the newest text and of the quoted history each."""
MAX_SENTENCES = 400
_LETTER = re.compile(r"[^\W\d_]")
_QUOTED_WEIGHT = 0.4
_QUOTED_CAP = 0.45
_EVIDENCE_MAX = 240

_IMPORTANCE = [
    Intent.dispute,
    Intent.spam_or_phishing,
    Intent.billing_details_change,
    Intent.tax_document_request,
    Intent.due_date_change,
    Intent.promise_to_pay,
    Intent.payment_confirmation,
    Intent.copy_request,
    Intent.statement_request,
    Intent.payment_info_request,
    Intent.acknowledgement,
    Intent.other,
]

# --------------------------------------------------------------------------------------------
# Cue tables. Patterns run on lower-cased text with typographic quotes and dashes folded to
# ASCII. "_" in a pattern is a short gap inside one sentence.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Cue:
    name: str
    intent: Intent
    pattern: re.Pattern[str]
    weight: float
    negatable: bool = False
    conditional: bool = False
    negated_weight: float = 0.0
    unless: re.Pattern[str] | None = None
    unless_near: re.Pattern[str] | None = None
    unless_match: re.Pattern[str] | None = None
    joinable: bool = True
    """A match in a sentence is also a match in the sentences joined by ``_JOIN``."""
    needles: frozenset[str] = frozenset()
    """Every match contains one of these literals (empty: not known)."""


_SPECS: list[tuple[Intent, str, float, str, dict[str, Any]]] = []

# Fragments a pattern names as %NAME%; ~N~ is a gap of up to N characters inside one sentence.
_FRAGMENTS = {
    "INV": r"(?:invoices?|inv\b|bill|pdf|attachment|file|rechnung\w*|factu\w*|fra\b)",
    "BILL": (
        r"(?:invoice|amount|hours|charge|charges|price|rate|total|line|fee|fees|billing|bill|"
        r"quantity|figure|cost|costs|expenses|vat)"
    ),
    "DUE": r"(?:due date|payment date|payment terms?|payment deadline|deadline|term|terms|due)",
    "BANK": (
        r"(?:sort code|account number|acct (?:no|number)|routing (?:number|no)|aba\b|swift|bic\b|"
        r"iban|bank details|banking details|(?:bank )?account details|payment details|"
        r"payment instructions|wire instructions|beneficiary|remittance address)"
    ),
    "NEG": (
        r"(?:never|not|didn'?t|haven'?t|hasn'?t|have not|has not|did not|wasn'?t|weren'?t|"
        r"still not|still haven'?t)"
    ),
}
_NOT_INVOICE_TOPIC = (
    r"\b(?:invoice|pdf|bill|e-?mail|statement|reminder|reply|response|message|attachment|link|"
    r"details|bank|iban|information|info|confirmation|answer|feedback|quote|copy|call|"
    r"rechnung|mahnung|erinnerung|antwort|factuur|herinnering|antwoord|facture|relance|"
    r"réponse|factura|recordatorio|respuesta)"
)
_ATTACHED = (
    r"\b(?:attached|attaching|enclosed|please find|herewith|beigefügt|anbei|anliegend|"
    r"bijgaand|bijgevoegd|in de bijlage|ci-jointe?|en pièce jointe|adjunto|adjuntamos|adjunta)\b"
)
_IBAN_VALUE = r"\b[a-z]{2}\d{2}(?: ?[a-z0-9]{4}){3,7}"


def _expand(pattern: str) -> str:
    # a gap may hold dots of numbers and dates ("am 18.11. überwiesen", "Nr. 42"), not a full stop
    gap = r"(?:[^.?!\n]|(?<=\d)\.|\.(?=\s?\d)|(?<=\bnr)\.|(?<=\bno)\.)"
    pattern = re.sub(r"~(\d+)~", lambda m: gap + "{0," + m.group(1) + "}", pattern)
    return re.sub(r"%([A-Z]+)%", lambda m: _FRAGMENTS[m.group(1)], pattern)


_Spec = tuple[str, float, str] | tuple[str, float, str, dict[str, Any]]


def _cues(intent: Intent, specs: list[_Spec], **defaults: Any) -> None:
    """Register the cues of one intent: (name, weight, pattern[, options])."""
    for spec in specs:
        options = {**defaults, **(spec[3] if len(spec) == 4 else {})}
        _SPECS.append((intent, spec[0], spec[1], spec[2], options))


# Sentences of one region joined by NUL: a cue that finds nothing in the joined text finds
# nothing in any of them, so most cues run once per region rather than once per sentence.
# That holds while a pattern has no anchor (NUL stands where the sentence had nothing, and
# neither is a word character for \b) and its negative look-arounds are plain words.
_JOIN = "\x00"
_ANCHOR = re.compile(r"(?<![\[\\])\^|\$|\\[AZB]")
_NEGATIVE_LOOK = re.compile(r"\(\?<?!")
_PLAIN_NEGATIVE_LOOK = re.compile(r"\(\?<?!([\w '|-]*)\)")


def _joinable(pattern: str) -> bool:
    if _ANCHOR.search(pattern):
        return False
    plain = _PLAIN_NEGATIVE_LOOK.findall(pattern)
    return len(plain) == len(_NEGATIVE_LOOK.findall(pattern))


def _needles(items: Any) -> frozenset[str] | None:
    """Literals one of which every match of the parsed ``items`` contains (None: unknown)."""
    best: frozenset[str] | None = None
    run: list[str] = []

    def consider(found: frozenset[str] | None) -> None:
        nonlocal best
        if found and (best is None or min(map(len, found)) > min(map(len, best))):
            best = found

    for op, av in items:
        if op is _sre.LITERAL:
            run.append(chr(av))
            continue
        if run:
            consider(frozenset({"".join(run)}))
            run = []
        if op is _sre.SUBPATTERN and not (av[1] & _sre.SRE_FLAG_IGNORECASE):
            consider(_needles(av[3]))
        elif op is _sre.BRANCH:
            sets = [_needles(branch) for branch in av[1]]
            if all(sets):
                consider(frozenset().union(*sets))  # type: ignore[arg-type]
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT) and av[0] >= 1:
            consider(_needles(av[2]))
    if run:
        consider(frozenset({"".join(run)}))
    return best


def _pattern_needles(pattern: str) -> frozenset[str]:
    # read from the parsed pattern so a table edit cannot leave a stale hand-written trigger
    return _needles(_sre_parse.parse(pattern)) or frozenset()


@cache
def _compiled_cues() -> tuple[_Cue, ...]:
    """The cues, compiled on first use (about 0.15 s) rather than at import."""

    def optional(pattern: str | None) -> re.Pattern[str] | None:
        return re.compile(pattern) if pattern else None

    return tuple(
        _Cue(
            name=f"{intent.value}:{name}",
            intent=intent,
            pattern=re.compile(_expand(pattern)),
            weight=weight,
            negatable=options.get("negatable", False),
            conditional=options.get("conditional", False),
            negated_weight=options.get("negated_weight", 0.0),
            unless=optional(options.get("unless")),
            unless_near=optional(options.get("unless_near")),
            unless_match=optional(options.get("unless_match")),
            joinable=_joinable(_expand(pattern)),
            needles=_pattern_needles(_expand(pattern)),
        )
        for intent, name, weight, pattern, options in _SPECS
    )


_NOT_ATTACHED = {"unless": _ATTACHED}
_NO_IBAN = {"unless": _IBAN_VALUE}
_NOT_INVOICE = {"unless_near": _NOT_INVOICE_TOPIC}
# "resend it to our new address" asks for a copy; it does not change the details on file
_NOT_A_RESEND = {
    "unless_near": r"\b(?:re-?send|send|forward|e-?mail|mail|versturen|sturen|toesturen|mailen|"
    r"senden|schicken|zusenden|envoyer|renvoyer|enviar|reenviar)\w*\b"
}
_NOT_FUTURE = {
    "unless_match": r"\b(?:will|shall|going to|make sure|to be|be paid|should|would|could|can|"
    r"must|need|needs|want|wants|plan|able)\b|'ll\b|'d\b"
}

# fmt: off
_cues(Intent.copy_request, [
    ("resend", 0.55, r"\bre-?send(?:ing)?\b|\bre-?issue (?:the|a|your) (?:invoice|pdf)"),
    ("send-again", 0.6,
     r"\b(?:send|e-?mail|forward|mail)\b~45~\b(?:again|once more|one more time)\b"),
    ("send-copy", 0.8,
     r"\b(?:re-?send(?:ing)?|send(?:ing)?|e-?mail(?:ing)?|forward(?:ing)?|need|want|like|get)\b"
     r"(?: me| us| over)?(?: a| an| another| the)? cop(?:y|ies)\b", _NOT_ATTACHED),
    ("missing", 0.5,
     r"\bmissing from (?:our|my) (?:records|system|files|books|ledger)\b"
     r"|\b(?:can'?t|cannot|couldn'?t|could not) (?:find|locate|trace)\b"),
    ("copy-of-invoice", 0.8,
     r"\b(?:cop(?:y|ies)|duplicate|reprint)\b(?: of)?~25~(?:invoices?|inv\b|bill|pdf)",
     _NOT_ATTACHED),
    ("invoice-copy", 0.75, r"\b(?:invoice|pdf) (?:cop(?:y|ies)|duplicate)\b"),
    ("version", 0.7,
     r"\b(?:send|provide|share|e-?mail)\b(?: us| me)?(?: a| an| the)? (?:pdf|digital|electronic|"
     r"paper|signed|scanned|original) (?:version|copy|format)\b"),
    ("cannot-find", 0.6,
     r"\b(?:can'?t|cannot|could ?not|couldn'?t|unable to|can not)\b(?: seem to)? "
     r"(?:find|locate|open|download|access|read)\b~40~%INV%"),
    ("wont-open", 0.6,
     r"%INV%~45~\b(?:won'?t|wont|doesn'?t|does not|did not|didn'?t|can'?t|cannot|could not|"
     r"couldn'?t|fails? to|failed to)\b(?: be)? "
     r"(?:open|opened|load|download|processed|process|read|display)"),
    ("damaged", 0.3, r"\b(?:damaged|corrupt(?:ed)?|unreadable|not readable|no readable)\b"),
    ("not-received-invoice", 0.6,
     r"\b%NEG%\b(?: yet| actually| even)? (?:received|got|gotten|seen)\b"
     r"(?: the| your| an?| this| that)? (?:invoice|pdf|bill)"),
    ("no-record", 0.6, r"\bno record of\b~15~\b(?:invoice|bill|it)\b"),
    ("send-invoice", 0.55, r"\bsend (?:me|us|over)\b~30~\b(?:invoices?|pdf|cop(?:y|ies))\b",
     {"unless_near": r"\b(?:updated|corrected|revised|amended|adjusted|new|credit)\b"}),
    ("them-over", 0.3,
     r"\b(?:e-?mail|send|forward)\b (?:them|it|those|these) (?:over|across|through)\b"),
    # German
    ("de-again", 0.6,
     r"\b(?:erneut|nochmals|noch ?mal|noch einmal|wieder)\b~45~"
     r"\b(?:senden|schicken|zusenden|zukommen|übermitteln|zuschicken|übersenden)"),
    ("de-again2", 0.6,
     r"\b(?:senden|schicken|zusenden|zuschicken|übermitteln|übersenden)\b~45~"
     r"\b(?:erneut|nochmals|noch einmal)\b"),
    ("de-copy", 0.75,
     r"\b(?:rechnungskopie|rechnungsduplikat|duplikat|zweitschrift|"
     r"kopie (?:der|unserer|ihrer|von der) rechnung)"),
    ("de-copy-send", 0.75,
     r"\bkopie\b~30~\b(?:senden|zusenden|schicken|zuschicken|übermitteln|zukommen)\b"
     r"|\b(?:senden|schicken|übermitteln)\b~30~\bkopie\b"),
    ("de-missing", 0.55,
     r"\bliegt uns\b~20~\bnicht vor\b|\bnicht (?:vorliegen|auffindbar)\b"
     r"|\b(?:finden|auffinden)\b~20~\bnicht\b"),
    ("de-not-open", 0.6,
     r"\b(?:rechnung|pdf|anhang|datei)\b~45~\b(?:nicht|kein\w*) "
     r"(?:erhalten|bekommen|öffnen|lesbar|geöffnet|verarbeitet|zugegangen)"),
    # Dutch
    ("nl-again", 0.6,
     r"\b(?:opnieuw|nogmaals|nog een keer|nog eens)\b~45~"
     r"\b(?:sturen|toesturen|versturen|zenden|mailen|toezenden)"),
    ("nl-again2", 0.6,
     r"\b(?:sturen|toesturen|versturen|zenden|mailen|toezenden)\b~30~\b(?:opnieuw|nogmaals)\b"),
    ("nl-copy", 0.75,
     r"\b(?:kopiefactuur|kopie van (?:de|uw|onze) factuur|duplicaat(?:factuur)?)\b"),
    ("nl-missing", 0.55,
     r"\bniet (?:vinden|terugvinden|traceren)\b|\bkopie\b~25~\b(?:sturen|toesturen|mailen|"
     r"zenden)\b|\b(?:sturen|mailen)\b~20~\bkopie\b"),
    ("nl-not-open", 0.6,
     r"\b(?:factuur|pdf|bijlage)\b~45~\b(?:niet|nooit) "
     r"(?:ontvangen|openen|geopend|te openen|leesbaar|verwerkt)"),
    # French
    ("fr-again", 0.6,
     r"\b(?:renvoyer|renvoyez|réenvoyer|réexpédier|retransmettre)\b"
     r"|\b(?:envoyer|transmettre|faire parvenir)\b~40~"
     r"\b(?:à nouveau|de nouveau|une nouvelle fois|encore une fois)"),
    ("fr-copy", 0.75, r"\b(?:copie|duplicata)\b~25~\bfacture"),
    ("fr-missing", 0.55,
     r"\bne (?:trouvons|trouve|retrouvons|retrouve)\b~15~\bpas\b|\bintrouvable\b"
     r"|\b(?:envoyer|transmettre|adresser)\b~20~\bcopie\b"),
    ("fr-not-open", 0.6,
     r"\b(?:pas|jamais) (?:reçu|réceptionné)\b~20~\bfacture"
     r"|\b(?:impossible d'ouvrir|n'arrive pas à ouvrir|ne s'ouvre pas|illisible)"),
    # Spanish
    ("es-again", 0.6,
     r"\b(?:reenviar(?:nos|me|la|lo)?|reenv[ií]e(?:n)?(?:nos|me|la|lo)?|volver a enviar|"
     r"enviar de nuevo|enviar nuevamente|mandar de nuevo|mandarnos de nuevo)\b"),
    ("es-copy", 0.75, r"\b(?:copia|duplicado)\b~25~\bfactura"),
    ("es-missing", 0.6,
     r"\bno (?:encontramos|encuentro|localizamos|tenemos|consta)\b~15~\bfactura"
     r"|\b(?:enviar|mandar|remitir|reenviar)\w*\b~15~\bcopia\b"),
    ("es-not-open", 0.6,
     r"\bno (?:hemos |he )?(?:recibido|recibimos)\b~20~\bfactura"
     r"|\bno (?:se )?(?:puede|podemos|consigo|logro) abrir"),
])

# negation ("we have NOT paid yet") and if-clauses ("if you have already paid") switch these off
_cues(Intent.payment_confirmation, [
    ("we-paid", 0.7,
     r"(?:\b(?:we|i)\b|\bwe've\b|\bi've\b|^\s*(?:have|has)\b)~25~"
     r"\b(?:paid|settled|transferred|remitted|wired|"
     r"sent (?:the |over )?(?:payment|funds|money))\b", _NOT_FUTURE),
    ("been-paid", 0.7,
     r"\b(?:has|have|was|were)(?: now| already| just)? been (?:paid|settled|transferred|remitted|"
     r"wired|made|sent|processed|released|executed|initiated|completed)\b"
     r"|\b(?:it|this|invoice|balance|amount|payment|bill|they|these|both) (?:was|were)"
     r"(?: already)? (?:paid|settled|transferred|remitted|wired|cleared)\b", _NOT_FUTURE),
    ("payment-made", 0.7,
     r"\b(?:payment|transfer|remittance|bacs|wire|faster payment)s?\b~30~"
     r"\b(?:has|have|was|were|is)(?: now| already| just)?(?: been)? (?:made|sent|processed|"
     r"released|initiated|executed|completed|issued|done|gone out|paid)\b"),
    ("gone-out", 0.6,
     r"\b(?:has|have|had) gone out\b|\bwent out\b|\bis on (?:its|the) way\b"
     r"|\bleft (?:our|the|my) (?:account|bank)\b|\b(?:was|were|has been) debited\b"),
    ("paid-how", 0.55,
     r"\bpaid (?:it |this |them |the invoice )?(?:in full|by (?:bank transfer|bacs|wire|card|"
     r"cheque|check)|via|through|today|yesterday|this morning|last week|on \d)"),
    ("in-your-account", 0.6,
     r"\b(?:money|funds|payment|amount|it)\b~25~\b(?:in|into|reached|hit|on) (?:your|the) "
     r"(?:account|bank)\b~10~\b(?:already|now|by now)\b|\bwe sent it (?:on|yesterday|today|"
     r"last|this)\b"),
    ("remittance", 0.6,
     r"(?<!for )(?<!to )\bremittance(?: advice)?s?\b"
     r"(?! (?:contact|address|e-?mail|details|mailbox|to|team|department))"),
    ("proof", 0.6,
     r"\b(?:proof|confirmation|evidence) of (?:payment|transfer)\b"
     r"|\bpayment (?:confirmation|advice|notification|receipt)\b"),
    ("confirm-receipt", 0.85,
     r"\bconfirm\w*\b~45~\b(?:receipt|received|recieved|receiving|arrival)\b~35~"
     r"\b(?:payment|transfer|funds|remittance|money)"),
    ("did-you-receive", 0.8,
     r"\b(?:did|have|has) you (?:receive|recieve|received|recieved|got|get)\b~30~"
     r"\b(?:payment|transfer|funds|money)"),
    ("remit-lines", 0.45,
     r"^\s*(?:payment (?:date|amount|reference|number|method)|amount paid|date paid|paid on|"
     r"paid amount|betaaldatum|zahlungsdatum|date de paiement|fecha de pago)\s*[:=]"),
    # German
    ("de-paid", 0.7,
     r"\b(?:haben|habe|hat|wurde|wurden|ist|sind)\b~50~"
     r"\b(?:bezahlt|überwiesen|beglichen|angewiesen|ausgeglichen|gezahlt)\b",
     {"unless_match": r"zur zahlung|\bwird\b|\bwerden\b|\bsoll"}),
    ("de-gone", 0.65,
     r"\b(?:zahlung|überweisung|betrag|geld)\b~20~\b(?:rausgegangen|herausgegangen|"
     r"raus|unterwegs|abgebucht)\b"),
    ("de-advice", 0.7,
     r"\b(?:zahlungsavis|zahlungsbestätigung|überweisungsbestätigung|zahlungsnachweis|"
     r"zahlungsbeleg|überweisungsbeleg)\b"),
    ("de-payment-made", 0.7,
     r"\b(?:zahlung|überweisung)\b~30~\b(?:ist|wurde|wurden)\b~25~"
     r"\b(?:erfolgt|ausgeführt|veranlasst|getätigt|angewiesen)\b"),
    ("de-confirm", 0.85,
     r"\b(?:zahlungseingang|eingang (?:der|unserer) zahlung|erhalt (?:der|unserer) zahlung)\b"
     r"~40~\bbestätig|\bbestätig\w*\b~40~"
     r"\b(?:zahlungseingang|eingang (?:der|unserer) zahlung|erhalt (?:der|unserer) zahlung)"),
    # Dutch
    ("nl-paid", 0.7,
     r"\b(?:hebben|heb|heeft|is|zijn|werd|werden)\b~50~"
     r"\b(?:betaald|overgemaakt|voldaan|overgeboekt)\b"),
    ("nl-advice", 0.65,
     r"\b(?:betaaladvies|betalingsadvies|betalingsbewijs|betaalbewijs|betalingsbevestiging|"
     r"deelbetaling)\b"),
    ("nl-confirm", 0.85,
     r"\bontvangst\b~30~\b(?:betaling|overboeking|storting)\b~30~\bbevestig"
     r"|\bbevestig\w*\b~40~\bontvangst\b~30~\b(?:betaling|overboeking)"),
    ("nl-payment-made", 0.6,
     r"\b(?:betaling|overboeking)\b~30~\b(?:is|werd) (?:uitgevoerd|verricht|gedaan|verstuurd|"
     r"verzonden|voldaan)|\bonze betaling van (?:gisteren|vandaag|\d)"),
    # French
    ("fr-paid", 0.7,
     r"\b(?:avons|ai|a été|ont été)\b~40~\b(?:payée?s?|réglée?s?|virée?s?|versée?s?|"
     r"acquittée?s?|envoyée?s?|émise?s?|transférée?s?|"
     r"effectuée?s? (?:le|un|notre) (?:paiement|virement|règlement))\b"
     r"|\b(?:paiement|virement|règlement) (?:a été |est )?effectué"),
    ("fr-advice", 0.7,
     r"\b(?:avis de (?:paiement|virement|règlement)|preuve de (?:paiement|virement)|"
     r"justificatif de (?:paiement|virement)|confirmation de (?:paiement|virement))\b"),
    ("fr-confirm", 0.85,
     r"\bconfirm\w*\b~40~\b(?:réception|reçu|bonne réception)\b~30~"
     r"\b(?:paiement|virement|règlement)"),
    # Spanish
    ("es-paid", 0.7,
     r"\b(?:hemos|he|ha sido|han sido|fue|fueron)\b~30~"
     r"\b(?:pagad[oa]s?|abonad[oa]s?|transferid[oa]s?|saldad[oa]s?|liquidad[oa]s?)\b"
     r"|\b(?:hemos|he) (?:realizado|efectuado|hecho) (?:el|la|un|una) "
     r"(?:pago|transferencia|ingreso)"),
    ("es-already", 0.75,
     r"\bya (?:hemos |he )?(?:pagamos|pagado|abonamos|abonado|transferimos|transferido|"
     r"pagué|liquidamos)\b"),
    ("es-advice", 0.7,
     r"\b(?:justificante|comprobante|aviso|confirmación) de(?: la| el)? (?:pago|transferencia)\b"
     r"|\b(?:transferencia|pago|ingreso) (?:realizad[oa]|efectuad[oa]|hech[oa])\b"),
    ("es-confirm", 0.85,
     r"\bconfirm\w*\b~40~\b(?:recepción|recibido|recibo)\b~30~\b(?:pago|transferencia|abono)"),
], negatable=True, conditional=True)

_cues(Intent.promise_to_pay, [
    ("will-pay", 0.65,
     r"(?:\b(?:will|shall|going to|gonna|plan to|intend to|expect to|aim to|hope to)\b|'ll\b)"
     r"(?: be)?~25~\b(?:pay|paid|settle|settled|transfer|transferred|remit|remitted|wire|clear|"
     r"release|released|process|processed)\b"),
    ("payment-will", 0.65,
     r"\b(?:payment|transfer|remittance|funds|money|balance)\b~20~"
     r"(?:\b(?:will|shall|should)\b|'ll\b)(?: be)? (?:made|sent|released|processed|initiated|"
     r"executed|issued|done|arrive|reach|go out|leave)\b"),
    ("going-through", 0.6,
     r"\b(?:payment|transfer|it|remittance)\b~10~\b(?:is|are|'s)\b~5~\b(?:going (?:through|out)|"
     r"being (?:processed|made|sent|released|paid))\b"),
    ("scheduled", 0.6,
     r"\b(?:payment|transfer|invoice|it|this|funds|remittance|paid|pay)\b~40~"
     r"\b(?:scheduled|earmarked|queued|booked|set up) (?:for|in|on)\b"
     r"|\b(?:scheduled|earmarked|queued|booked) (?:for|in|on)\b~30~"
     r"\b(?:payment|pay|run|cycle|batch)\b"),
    ("next-run", 0.65,
     r"\b(?:next|upcoming|following|coming) (?:payment|pay|cheque|check|supplier|bacs) "
     r"(?:run|cycle|batch|date|day)\b"),
    ("payment-run", 0.35, r"\bpayment (?:run|cycle|batch)\b"),
    ("approved", 0.4,
     r"\b(?:approved|cleared|released|authori[sz]ed) for payment\b"
     r"|\b(?:has|have) (?:now )?been approved\b|\b(?:is )?now approved\b"),
    ("see-funds", 0.55,
     r"\byou(?: should| will|'ll) (?:see|receive|get|have) (?:the |our )?"
     r"(?:funds|payment|money|transfer|it)\b"),
    ("go-in-run", 0.6,
     r"\b(?:go|be included|be added|be put|go out)\b (?:in|into|with|on) (?:the|our|this|next)\b"
     r"~15~\b(?:run|batch|cycle|payment)"),
    ("present-pay", 0.55,
     r"\bwe(?:'re| are)? pay(?:ing)?\b~20~\b(?:on|by|next|this|tomorrow|before)\b"),
    ("pay-by", 0.35,
     r"\b(?:pay|settle|transfer)\b~25~\b(?:by|on|before|next|within|end of)\b"),
    ("committed", 0.45, r"\bcommitted to (?:pay|paying|settl)"),
    # German
    ("de-will-pay", 0.65,
     r"\b(?:werden|wird|werde)\b~50~\b(?:bezahlen|zahlen|überweisen|begleichen|anweisen|"
     r"bezahlt|überwiesen|beglichen|angewiesen|ausgeglichen|ausgeführt|veranlasst|getätigt|"
     r"erfolgen)\b"),
    ("de-run", 0.65,
     r"\b(?:nächsten|kommenden|nächster|kommender) zahlungs(?:lauf|termin)\b"
     r"|\bzur zahlung (?:freigegeben|angewiesen|vorgesehen)\b"),
    ("de-run-weak", 0.35, r"\bzahlungslauf\b|\b(?:eingeplant|vorgesehen|terminiert)\b"),
    ("de-follows", 0.6, r"\bzahlung (?:erfolgt|folgt)\b~30~\b(?:am|bis|zum|in|nächste)\b"),
    ("de-credited", 0.6, r"\b(?:sollte|wird|werden|dürfte)\b~30~\bgutgeschrieben\b"),
    ("de-present", 0.6,
     r"\b(?:wir|ich) (?:zahlen|bezahlen|überweisen|begleichen)\b~30~"
     r"\b(?:bis|am|nächste\w*|morgen|spätestens|innerhalb|diese)\b"),
    # Dutch
    ("nl-will-pay", 0.65,
     r"\b(?:wordt|worden|zal|zullen|gaan|ga)\b~50~\b(?:betaald|overgemaakt|voldaan|betalen|"
     r"overmaken|voldoen|overboeken|overgeboekt)\b"),
    ("nl-run", 0.6,
     r"\bmeegenomen in\b~20~\bbetaal|\b(?:volgende|eerstvolgende) betaal ?(?:run|ronde|moment)\b"
     r"|\bingepland\b"),
    ("nl-present", 0.6,
     r"\b(?:wij|we|ik) (?:betalen|voldoen|maken)\b~30~"
     r"\b(?:uiterlijk|voor|op|volgende|deze|morgen|binnen)\b"),
    ("nl-run-weak", 0.35, r"\bbetaal ?run\b|\bbetalingsrun\b|\bbetaalronde\b|\bgoedgekeurd\b"),
    # French
    ("fr-will-pay", 0.65,
     r"\b(?:sera|seront)\b~20~\b(?:payée?s?|réglée?s?|virée?s?|versée?s?)\b"
     r"|\b(?:allons|vais|pourrons)\b~20~\b(?:payer|régler|virer|"
     r"procéder au (?:paiement|règlement|virement))"
     r"|\b(?:paierons|réglerons|virerons|verserons|paierai|réglerai|procéderons|procéderai)\b"
     r"|\b(?:sera|seront) (?:effectuée?s?|réalisée?s?|faite?s?|envoyée?s?|émise?s?)\b"),
    ("fr-run", 0.6,
     r"\b(?:paiement|virement|règlement)\b~25~\b(?:prévu|programmé|planifié)"
     r"|\bprochaine? (?:campagne|échéance|cycle|lot|run) de (?:paiement|règlement|virement)s?"),
    # Spanish
    ("es-will-pay", 0.65,
     r"\b(?:pagaremos|abonaremos|transferiremos|liquidaremos|saldaremos|pagaré|abonaré)\b"
     r"|\b(?:vamos a|voy a|podremos)\b~15~"
     r"\b(?:pagar|abonar|transferir|liquidar|saldar|realizar el pago)"
     r"|\b(?:será|serán)\b~20~\b(?:pagad|abonad|transferid|liquidad)\w*"
     r"|\bse (?:realizará|efectuará|hará|abonará|pagará|transferirá|liquidará)\b"
     r"|\b(?:realizaremos|efectuaremos|haremos|enviaremos) (?:el|la) (?:pago|transferencia)\b"),
    ("es-run", 0.6,
     r"\b(?:pago|transferencia)\b~25~\b(?:programad|previst|planificad)\w*"
     r"|\b(?:próxima|siguiente) (?:remesa|tanda|ronda|ejecución) de pagos\b"),
], negatable=True, conditional=True)

_cues(Intent.due_date_change, [
    ("move-due", 0.85,
     r"\b(?:move|push|extend|change|postpone|defer|delay|shift|amend|adjust|put back|"
     r"push back|bring forward)\b~30~\b%DUE%\b"),
    ("extension", 0.8,
     r"\b(?:extension|extend|postponement|deferral|deferment|more time|extra time|"
     r"additional time|grace period)\b~30~\b(?:due date|payment|pay|deadline|terms?|invoice)\b"),
    ("due-moved", 0.75,
     r"\b(?:due date|payment terms?|deadline)\b~25~"
     r"\b(?:extended|moved|changed|pushed|postponed|deferred)\b"),
    ("until", 0.55,
     r"\b(?:could|can|may|might) (?:we|i) (?:have|get|pay)\b~25~\b(?:until|till|til)\b"),
    ("pay-later", 0.4, r"\b(?:pay|settle)\b~30~\b(?:later|instead)\b"),
    ("instalments", 0.7,
     r"\b(?:instal(?:l)?ments?|payment plan|split (?:the |our )?payments?|pay in (?:two|three|\d) "
     r"(?:parts|instal\w*)|ratenzahlung|in raten|teilzahlungen|termijnen|betalingsregeling|"
     r"paiement en plusieurs fois|échelonn\w*|plazos|fraccionar\w*)\b"),
    ("flexibility", 0.7, r"\bflexib\w*\b~30~\b(?:payment|due|date|terms?|deadline|pay)\b"),
    ("need-more-time", 0.75,
     r"\b(?:need|needs|require|requires|ask for|request(?:ing)?)\b~15~\b(?:another|an extra|"
     r"extra|additional|more|a further|further)\b~15~\b(?:days?|weeks?|time|month)\b"),
    ("give-until", 0.75,
     r"\b(?:give|allow|grant|let) (?:us|me)\b~25~"
     r"\b(?:until|till|more time|extra time|an extra|another|additional|a few more)\b"),
    ("extra-time", 0.8,
     r"\b(?:can|could|may|might) (?:we|i) (?:have|get|take|ask for)\b~20~"
     r"\b(?:extra|additional|another|further|more)\b~15~\b(?:days?|weeks?|time|month)\b"),
    # German
    ("de-move", 0.85,
     r"\b(?:verlängerung|verlängern|verschieben|verschiebung|aufschub|prolongieren|"
     r"prolongation|hinausschieben|anpassen)\b~40~"
     r"\b(?:zahlungsziel\w*|zahlungsfrist\w*|fälligkeit\w*|frist|termin)\b"
     r"|\b(?:zahlungsziel\w*|zahlungsfrist\w*|fälligkeit\w*)\b~40~"
     r"\b(?:verlängern|verlängerung|verschieben|verschiebung|anpassen|hinausschieben)\b"),
    ("de-stundung", 0.85,
     r"\b(?:stundung|zahlungsaufschub|fristverlängerung|zahlungszielverlängerung|"
     r"stunden sie)\b"),
    ("de-only-then", 0.6,
     r"\berst\b~25~\b(?:bezahlen|zahlen|überweisen|begleichen)\b~40~\?|\b(?:bezahlen|zahlen|"
     r"überweisen|begleichen) wir erst\b"),
    ("like-to-pay", 0.55,
     r"\b(?:would|'d) (?:like|prefer) to pay\b~20~\b(?:in|on|by|at the end of|mid|early|late)\b"
     r"|\bwürden\b~30~\b(?:gerne|lieber)\b~30~\b(?:bezahlen|zahlen|überweisen)\b"),
    ("de-term", 0.4, r"\bzahlungsziel\b|\bspäter (?:be)?zahlen\b"),
    ("de-shift", 0.75,
     r"\b(?:zahlung|fälligkeit|zahlungstermin)\b~30~\b(?:verschieben|verlegen|aufschieben)\b"),
    # Dutch
    ("nl-move", 0.85,
     r"\b(?:uitstel|verlenging|verlengen|verschuiven|opschuiven|verzetten)\b~40~"
     r"\b(?:betaling|betalingstermijn|vervaldatum|termijn|factuur|betaaldatum|betaaltermijn)\b"
     r"|\b(?:betalingstermijn|vervaldatum|betaaltermijn|betaaldatum)\b~40~"
     r"\b(?:verleng\w*|verschuiv\w*|verschuif|verschoven|uitgesteld|aanpass\w*|aangepast|"
     r"uitstel|opschuiven|opgeschoven|wijzig\w*|gewijzigd)\b"
     r"|\buitstel van betaling\b"),
    ("nl-later", 0.4, r"\blater betalen\b"),
    # French
    ("fr-move", 0.85,
     r"\b(?:report|reporter|décaler|prolonger|prolongation|repousser|délai supplémentaire|"
     r"étendre|allonger|proroger)\b~40~"
     r"\b(?:échéance|date d'échéance|délai|paiement|date de paiement|règlement)\b"
     r"|\b(?:échéance|délai de paiement)\b~30~\b(?:reportée?|prolongée?|décalée?|repoussée?)"),
    ("fr-more-time", 0.75,
     r"\b(?:délai (?:de paiement )?supplémentaire|plus de temps pour (?:payer|régler))\b"
     r"|\b(?:accorder|donner|obtenir|avoir|consentir)\b~20~\bdélai\b|\bdélai de paiement jusqu"),
    # Spanish
    ("es-move", 0.85,
     r"\b(?:aplazar|aplazamiento|prórroga|prorrogar|ampliar|ampliación|extender|extensión|"
     r"posponer|retrasar)\b~40~\b(?:plazo|vencimiento|fecha de (?:pago|vencimiento)|pago)\b"
     r"|\b(?:mover|cambiar|modificar)\b~25~"
     r"\b(?:fecha de vencimiento|vencimiento|plazo de pago)\b"),
    ("es-more-time", 0.7, r"\bmás tiempo (?:para|de) pag"),
    ("days-instead", 0.6,
     r"\b\d+ (?:days|tage|tagen|dagen|jours|días)\b~25~\b(?:instead of|statt|anstatt|in plaats van|"
     r"au lieu de|en (?:lugar|vez) de)\b"),
])

# never switched off by a negation: most complaints are negations ("we don't owe this")
_cues(Intent.dispute, [
    ("dispute-word", 0.85, r"\bdisput(?:e|es|ed|ing)\b",
     {"negatable": True, "negated_weight": 0.4}),
    ("dont-agree", 0.85,
     r"\b(?:don'?t|do not|doesn'?t|does not|didn'?t|did not|cannot|can'?t)\b(?: really)? "
     r"(?:agree|accept|owe|recogni[sz]e|approve)\b"),
    ("shouldnt-pay", 0.85,
     r"\b(?:don'?t|do not)\b(?: really)? (?:think|believe|feel)\b~25~"
     r"\b(?:should|owe|have to|need to|ought to)\b~15~\b(?:pay|paying|be charged|be billed)"
     r"|\b(?:shouldn'?t|should not)(?: have to)? (?:be )?(?:pay|paying|charged|billed)\b"),
    ("overcharged", 0.85,
     r"\bover-?(?:charged|billed|invoiced)\b"
     r"|\bdouble[- ]?(?:billed|charged|billing|invoiced|charge)\b"
     r"|\b(?:charged|billed|invoiced) (?:us |me )?(?:twice|double|too much|more than)\b"
     r"|\bduplicate (?:charge|invoice|billing|payment)\b"),
    ("wrong-amount", 0.75,
     r"\b(?:incorrect|wrong|inaccurate|erroneous|mistaken|not correct|isn'?t correct|not right|"
     r"errors?(?! message| code)|mistakes?)\b~30~\b%BILL%\b"
     r"|\b%BILL%\b~30~\b(?:incorrect|wrong|inaccurate|is an error|a mistake|not correct|"
     r"isn'?t correct|is too high|are too high|excessive|inflated)\b"),
    ("credit-note", 0.8, r"\bcredit (?:note|memo)\b|\bcredit\b~15~\bfor the difference\b"),
    ("corrected-invoice", 0.6,
     r"\b(?:corrected|revised|amended|updated|adjusted|correct) (?:invoice|bill)\b"
     r"|\b(?:amend|correct|adjust|revise|reissue|re-issue|fix)\b(?: the| this| your| our)? "
     r"(?:invoice|bill|amount|charge|hours)\b"),
    ("charged-but", 0.6,
     r"\b(?:charged|billed|invoiced)\b(?: us| me)? for\b~40~"
     r"\b(?:but|however|whereas|while|only)\b"),
    ("timesheets", 0.3, r"\b(?:timesheets?|time sheets?|hours (?:logged|recorded|worked))\b"),
    ("refund", 0.6, r"\b(?:refund\w*|reimburse\w*|chargeback|charge back|money back)\b"),
    ("complaint", 0.6,
     r"\b(?:complain\w*|unhappy|dissatisfied|unsatisfied|disappointed|"
     r"poor (?:quality|service|work)|substandard|unacceptable)\b", {"negatable": True}),
    ("not-happy", 0.8,
     r"\bnot (?:happy|satisfied|acceptable|what (?:we|was) (?:agreed|quoted|ordered|discussed|"
     r"asked for))\b|\bnot as (?:agreed|quoted|discussed|described)\b"),
    ("withhold", 0.7,
     r"\b(?:withhold\w*|holding back|hold back|put on hold|suspend\w*)\b~20~\bpayment\b"
     r"|\bpayment\b~25~\b(?:on hold|withheld|suspended)\b~30~\b(?:until|pending)\b"),
    ("refuse-pay", 0.75,
     r"\b(?:refuse|won'?t|will not|not going to|not prepared to|unwilling to)\b(?: to)? pay\b"),
    ("cannot-pay", 0.45, r"\b(?:cannot|can'?t|unable to)\b(?: to)? pay\b"),
    ("cancel", 0.3, r"\b(?:cancel\w*|terminat(?:e|ed|ing|ion))\b"),
    ("cancel-order", 0.7,
     r"\b(?:cancel\w*|terminat(?:e|ed|ing|ion))\b~30~\b(?:invoice|order|contract|subscription|"
     r"retainer|service|services|project|agreement|engagement|licen[cs]e)\b"),
    ("paused-service", 0.6,
     r"\b(?:paus(?:e|ed|ing)|suspend(?:ed|ing)?|stopp?(?:ed|ing)?|end(?:ed|ing)?|put on hold)\b"
     r"~25~\b(?:retainer|subscription|contract|service|services|project|engagement|"
     r"licen[cs]e)\b"),
    ("agreed-at", 0.6,
     r"\b(?:was|were|is|had been) (?:agreed|quoted|fixed|capped|estimated|priced) "
     r"(?:at|to|for|as)\b"),
    ("agreed-price", 0.5,
     r"\b(?:agreed|quoted|fixed|estimated|capped) (?:price|rate|fee|amount|budget|hours|scope|"
     r"day rate|cost|figure|total)\b"),
    ("thought-agreed", 0.55,
     r"\b(?:we|i) (?:thought|understood|believed|assumed|expected)\b~35~"
     r"\b(?:agreed|included|covered|part of|fixed|free|paused|cancel\w*|no charge|waived)"),
    ("understanding", 0.5,
     r"\b(?:my|our) (?:understanding|recollection|impression|assumption)\b"
     r"|\bunder the impression\b"),
    ("included-in", 0.5,
     r"\b(?:included|covered) (?:in|by|within) (?:the|our|your)\b~25~"
     r"\b(?:price|fee|rate|quote|contract|retainer|scope|package|budget|proposal)\b"),
    ("we-agreed", 0.35, r"(?<!as )(?<!as we )\bwe(?:'d| had)? agreed\b|\bagreed (?:that|on|an?)\b"),
    ("all-in", 0.3, r"\b(?:all-in|all in|all-inclusive|fixed[- ]price|flat[- ]fee)\b"),
    ("mix-up", 0.55, r"\b(?:mix-?up|misunderstanding|misunderstood|discrepanc(?:y|ies))\b"),
    ("confusion", 0.35, r"\b(?:confusion|confused|inconsisten(?:t|cy)|puzzled)\b"),
    ("doesnt-add-up", 0.6,
     r"\b(?:doesn'?t|does not|don'?t|do not)\b~10~"
     r"\b(?:add up|match|tally|reconcile|agree with)\b"),
    ("query", 0.3,
     r"\b(?:help me understand|explain|clarify|clarification|quer(?:y|ies|ying)|"
     r"question (?:about|on|regarding))\b"),
    ("might-be-wrong", 0.35,
     r"\b(?:got (?:that|it|this) wrong|i'?m wrong|i may be wrong|might be wrong|if i'?m right|"
     r"have i (?:got|understood)|am i (?:missing|wrong))\b"),
    ("why-charged", 0.6,
     r"\bwhy (?:have|has|were|was|is|are|did)\b~30~"
     r"\b(?:charged|billed|invoiced|included|higher|more|added)\b"),
    ("not-delivered", 0.55,
     r"\b%NEG%\b(?: yet| actually| really| even| been)?(?: \w+)? (?:received|got|gotten|"
     r"delivered|provided|done|completed|finished|performed|arrived|came|come through|"
     r"shown up|turned up)\b", _NOT_INVOICE),
    ("nothing-came", 0.4,
     r"\b(?:nothing|none of (?:it|them))\b(?: \w+)? (?:has|have)? ?"
     r"(?:come through|arrived|been delivered|turned up)\b"),
    ("already-paid", 0.3,
     r"\bpaid (?:it |this )?(?:twice|already|before)\b|\balready (?:been )?paid\b"),
    ("not-approved", 0.55,
     r"\b(?:not|never|none of \w+(?: \w+)?|wasn'?t|weren'?t|isn'?t|aren'?t|hasn'?t been|"
     r"haven'?t been)\b~12~\b(?:pre-?approved|approved|authori[sz]ed|agreed|ordered|requested|"
     r"signed off|accepted)\b(?! yet)"),
    ("contract-says", 0.45,
     r"\b(?:contract|agreement|quote|quotation|proposal|sow|statement of work|purchase order|"
     r"estimate|terms)\b~25~\b(?:says|said|states|stated|shows|specifies|specified|"
     r"stipulates|was for|is for)\b|\bas per (?:our|the) (?:agreement|contract|quote|proposal)\b"),
    ("contrast", 0.6,
     r"\b%BILL%\b~50~\b(?:but|however|whereas|while)\b~40~\b(?:contract|agreement|quote|"
     r"quotation|proposal|po|purchase order|estimate|agreed|quoted|budget)\b"),
    ("bill-query", 0.55,
     r"\b(?:query|queries|querying|question|questioning|challenge|challenging)\b~30~\b%BILL%"),
    ("returned", 0.55,
     r"\breturn(?:ed|ing)? (?:the |all |some )?(?:goods|items|products|order|equipment|"
     r"hardware|devices?|shipment)\b"),
    ("credit", 0.4, r"\b(?:a |full |partial |the )credit\b(?! card| check| limit)"),
    ("on-hold", 0.65,
     r"\b(?:put|place|keep|kept|placed|holding)\b~15~\b(?:invoice|payment|bill|it|this)\b~5~"
     r"\bon hold\b"),
    ("not-working", 0.45,
     r"\b(?:isn'?t|is not|aren'?t|are not|still not|doesn'?t|does not|don'?t|never)\b"
     r"(?: \w+)? (?:working|work|functional|fixed|resolved|live|finished|complete)\b"
     r"|\b(?:open|outstanding|unresolved) (?:issue|problem|defect|bug)s?\b"),
    ("come-off", 0.6,
     r"\b(?:line|charge|item|fee|cost|amount|hours)\b~20~\b(?:come off|be removed|removed|"
     r"deducted|taken off|written off|waived)\b|\b(?:remove|deduct|take off|knock off|waive)\b"
     r"~25~\b(?:line|charge|item|fee|cost|amount|hours)\b"),
    ("higher-than", 0.65,
     r"\b(?:higher|more|bigger|larger|steeper|greater) than (?:i|we) (?:expected|anticipated|"
     r"budgeted|agreed|thought|were told)\b|\b(?:higher|more) than (?:the|your|our) "
     r"(?:estimate|quote|quotation|proposal|budget|agreed)\b"),
    ("looks-wrong", 0.65,
     r"\b(?:doesn'?t|does not|don'?t|do not) (?:look|seem|appear) (?:right|correct)\b"
     r"|\b(?:looks|seems|appears) (?:wrong|incorrect|off|high|too high|excessive|steep)\b"),
    ("concerns", 0.6,
     r"\b(?:concerns?|issues?|problems?) (?:about|with|regarding|on)\b~20~"
     r"\b(?:invoice|bill|charge|charges|amount|fee|billing|pricing)\b"),
    ("not-in-position", 0.7,
     r"\bnot in a position to pay\b|\bunable to (?:approve|accept|process) (?:this|the|your) "
     r"(?:invoice|bill)\b"),
    ("never-mentioned", 0.55,
     r"\b(?:never|not) (?:been )?(?:mentioned|discussed|quoted|told|raised|flagged)\b"),
    ("what-happened", 0.35, r"\bwhat happened\b|\bhow come\b"),
    ("why-fee", 0.6,
     r"\bwhy\b~40~\b(?:fee|charge|charged|billed|invoiced|included|higher|more|extra|added|"
     r"increase|increased)\b"),
    ("number-contradiction", 0.55,
     r"\b(?:only|just) (?:had|used|ordered|received|got|booked|needed|worked|agreed|asked for) "
     r"\d+\b|\b\d+ \w+,? not \d+\b"),
    ("twice", 0.8,
     r"\b(?:charged|billed|invoiced|counted|included|added)\b~20~"
     r"\b(?:twice|double|two times|more than once)\b"),
    ("already-billed", 0.75,
     r"\balready (?:been )?(?:billed|invoiced|charged|included)\b"
     r"|\bbereits\b~30~\b(?:abgerechnet|berechnet|in rechnung gestellt|fakturiert)\b"
     r"|\bal (?:eerder )?(?:gefactureerd|in rekening gebracht|berekend)\b"
     r"|\bdéjà (?:été )?factur\w*|\bya (?:fue|fueron|ha sido|han sido|había sido) facturad\w*"),
    ("standard", 0.6,
     r"\bnot up to (?:the )?(?:standard|scratch|par|expectations?)\b|\bbelow (?:the )?"
     r"(?:standard|expectations?)\b|\bsub-?par\b|\bpoor (?:quality|service|work|workmanship|"
     r"results?|job|performance|delivery|deliverables?)\b"),
    ("reduction", 0.45,
     r"\b(?:reduction|reduce|discount|lower the (?:price|amount|fee|invoice)|price reduction|"
     r"partial refund|goodwill)\b"),
    ("only-pay", 0.6,
     r"\b(?:will |can |shall )?only (?:be )?pay(?:ing)?\b|\bzahlen (?:wir )?nur\b"
     r"|\bbetalen (?:wij |we )?alleen\b|\bne (?:paierons|réglerons|payerons) que\b"
     r"|\bsolo (?:pagaremos|vamos a pagar|abonaremos)\b"),
    ("correct-request", 0.55,
     r"\bplease correct\b|\bkorrigieren\b|\bberichtigen\b|\bcorrigeren\b|\bcorriger\b"
     r"|\brectifier\b|\bcorregir\b|\brectificar\b|\bcorrecci[oó]n\b|\brectificaci[oó]n\b"),
    ("above-reference", 0.7,
     r"\b(?:higher|more|greater|höher|hoger|supérieure?|superior|mayor|más alto)\b~25~"
     r"\b(?:than|dan|als|que|à|au)\b~25~\b(?:quote|quotation|estimate|offer|offerte|angebot|"
     r"devis|presupuesto|budget|agreed|afgesproken|vereinbart|convenu|acordado|expected)"),
    ("not-be-charged", 0.65,
     r"\b(?:not|n't) (?:be |been )?(?:charged|billed|invoiced)\b"
     r"|\bnot to be (?:charged|billed|invoiced)\b"),
    ("still-on-invoice", 0.55,
     r"\b(?:still|yet)\b~30~\b(?:on|in) (?:the|this|your) (?:invoice|bill)\b"),
    ("wrong-entity", 0.6,
     r"\b(?:addressed|issued|sent|made out) to\b~40~\bnot (?:to )?us\b"
     r"|\bwrong (?:company|entity|address|client|customer|recipient|department|po|legal entity)\b"),
    ("reissue", 0.5, r"\bre-?issue\b"),
    ("outage", 0.5,
     r"\b(?:was|were|been|went) (?:down|offline|unavailable|broken)\b|\boutages?\b|\bdowntime\b"),
    ("didnt-order", 0.65,
     r"\b(?:didn'?t|did not|never|haven'?t|have not) (?:order|request|ask for|approve|authori[sz]e|"
     r"agree to|sign off|book|commission|use|receive)\b"
     r"|\bque no (?:contratamos|pedimos|solicitamos|encargamos|recibimos|aprobamos)\b"),
    ("explain", 0.3,
     r"\b(?:toelichten|toelichting|uitleg|erläutern|erläuterung|erklären|nachvollziehen|"
     r"expliquer|explication|explicar|aclarar|explicación)\b"),
    ("free-promised", 0.6,
     r"\b(?:promised|supposed to be|agreed|offered|told)\b~30~\b(?:free|no charge|at no cost|"
     r"complimentary|waived)\b|\bfree of charge\b"),
    ("uneasy-paying", 0.65,
     r"\bnot (?:comfortable|happy|prepared|willing|able) (?:paying|to pay)\b"
     r"|\b(?:reluctant|hesitant) to pay\b"),
    ("still-waiting", 0.55,
     r"\bstill (?:waiting|waiting on|waiting for)\b~25~\b(?:files|deliverables?|work|goods|"
     r"delivery|items|fix|report|design|photos|documents|site|product|hardware|licen[cs]es?)\b"),
    ("stopped-service", 0.6,
     r"\b(?:retainer|subscription|contract|service|project|engagement|order)\b~25~"
     r"\b(?:paused|suspended|cancell?ed|put on hold|on hold|terminated|stopped|ended)\b"),
    ("lists-but", 0.6,
     r"\b(?:invoice|bill|it) (?:lists|shows|says|states|includes|has|charges)\b~60~\bbut\b"),
    ("unpaid-because", 0.6,
     r"\b(?:haven'?t|have not|not|won'?t|will not)\b(?: yet)? (?:paid|pay|be paying)\b~15~"
     r"\b(?:because|as|since|until|due to|given)\b"),
    ("still-bugs", 0.5,
     r"\bstill (?:has|have|contains?|shows?) (?:the |some |several |many )?(?:bugs?|defects?|"
     r"faults?|errors?|issues?|problems?)\b|\b(?:bugs?|defects?|faults?)\b~30~"
     r"\b(?:still|unresolved|not fixed|outstanding)\b"),
    ("out-of-scope", 0.6,
     r"\b(?:out of|outside (?:the |of the )?|not in (?:the )?)scope\b"
     r"|\bnot (?:part of|in) (?:the|our) (?:contract|agreement|order)\b"),
    # German
    ("de-object", 0.8,
     r"\b(?:widersprech\w*|widerspruch|einspruch|reklamation|reklamier\w*|beanstand\w*|"
     r"bemängel\w*|monier\w*|anfecht\w*)\b"),
    ("de-not-ok", 0.7,
     r"\bnicht (?:einverstanden|korrekt|richtig|nachvollziehbar|vereinbart|akzeptabel|"
     r"berechtigt|geliefert|erbracht|vollständig|bestellt|beauftragt)\b"),
    ("de-wrong", 0.75,
     r"\b(?:falsch|fehlerhaft|unrichtig|zu viel|zu hoch|doppelt|überhöht)\b~30~"
     r"\b(?:berechnet|abgerechnet|fakturiert|in rechnung gestellt|rechnung|betrag|stunden|"
     r"preis|position)|\b(?:rechnung|betrag|stunden|preis|abrechnung|position)\b~30~"
     r"\b(?:falsch|fehlerhaft|unrichtig|nicht korrekt|zu hoch|überhöht)\b"),
    ("de-credit", 0.8,
     r"\b(?:gutschrift|stornorechnung|korrigierte rechnung|rechnungskorrektur|"
     r"berichtigte rechnung|korrektur der rechnung|geänderte rechnung)\b"),
    ("de-withhold", 0.8,
     r"\b(?:halten|behalten)\b~30~\bzahlung\b~10~\bzurück\b"
     r"|\bzahlung\w*\b~30~\b(?:zurück(?:halten|behalten|gehalten)|einbehalten|aussetzen|"
     r"ausgesetzt)\b"),
    ("de-refuse", 0.75,
     r"\bnicht (?:freigeben|anerkennen|bezahlen|zahlen|akzeptieren|begleichen)\b"),
    ("de-agreed", 0.4,
     r"(?<!wie )\b(?:vereinbart|abgesprochen)\b"
     r"|\b(?:laut|gemäß) (?:ihrem|unserem|dem) (?:angebot|auftrag|vertrag)\b"),
    ("de-mismatch", 0.7,
     r"\bentspricht nicht\b|\bentsprechen nicht\b|\bnicht (?:unserer|der) vereinbarung\b"
     r"|\bnicht abgenommen\b|\b(?:zahlung|zahlen)\b~30~\berst (?:nach|wenn)\b"),
    ("de-reissue", 0.6, r"\brechnung\b~25~\bneu aus\b|\bneu (?:auszustellen|ausstellen)\b"),
    ("de-cancel", 0.55, r"\b(?:stornier\w*|storno|gekündigt|kündigung)\b"),
    ("de-defect", 0.55,
     r"\b(?:mangel|mängel|mangelhaft|unvollständig|nicht vollständig|unzufrieden)\b"),
    # Dutch
    ("nl-object", 0.75,
     r"\b(?:betwist\w*|bezwaar|oneens|niet akkoord|niet mee eens|klopt niet|klopt er niet|"
     r"klopt (?:iets|er iets) niet|onjuist\w*|foutief\w*|fout (?:in|op|bij)|een fout|"
     r"vergissing|niet eens)\b"
     r"|\bniet volgens (?:de )?(?:afspraak|afspraken|offerte|overeenkomst|contract)\b"),
    ("nl-double", 0.85,
     r"\b(?:te veel|dubbel|twee keer|tweemaal)\b~25~"
     r"\b(?:gefactureerd|berekend|in rekening|betaald|gerekend)"),
    ("nl-credit", 0.75,
     r"\b(?:creditnota|creditfactuur|credit nota|gecorrigeerde factuur|correctiefactuur|"
     r"aangepaste factuur)\b"),
    ("nl-complaint", 0.6,
     r"\b(?:klacht\w*|ontevreden|niet tevreden|teleurgesteld|slechte kwaliteit)\b",
     {"negatable": True}),
    ("nl-not-delivered", 0.5, r"\bniet (?:geleverd|ontvangen|uitgevoerd|afgerond|opgeleverd)\b",
     _NOT_INVOICE),
    ("nl-not-done", 0.6,
     r"\bniet (?:zijn |is |werden )?(?:gemaakt|gewerkt|besteld|gevraagd|goedgekeurd|"
     r"afgesproken|geleverd)\b"),
    ("nl-cancel", 0.5, r"\b(?:opzeggen|opgezegd|opzegging|stopzetten|stopgezet)\b"),
    ("nl-cancel-weak", 0.3, r"\b(?:annuleren|annulering|geannuleerd)\b"),
    ("nl-agreed", 0.4,
     r"(?<!zoals )\b(?:afgesproken|overeengekomen)\b|\bvolgens (?:de|uw|onze) offerte\b"),
    ("nl-withhold", 0.75,
     r"\b(?:betaling|betalen)\b~25~\b(?:opschorten|aanhouden|inhouden|tegenhouden|opgeschort)\b"
     r"|\bhouden\b~25~\bbetaling\b~15~\b(?:aan|tegen|in)\b"),
    # French
    ("fr-object", 0.8,
     r"\b(?:contest\w*|litige|désaccord|pas d'accord|réclamation)\b"
     r"|\bne correspond\w* pas\b|\brefus\w* de (?:payer|régler)\b"),
    ("fr-wrong", 0.75,
     r"\b(?:erreur|erroné\w*|incorrect\w*|inexact\w*)\b~30~"
     r"\b(?:facture|montant|heures|prix|tarif|ligne|total)"
     r"|\b(?:facture|montant|heures|prix|tarif|ligne|total)\b~30~"
     r"\b(?:erroné\w*|incorrect\w*|inexact\w*|faux|fausse|trop élevé\w*)"),
    ("fr-double", 0.85,
     r"\b(?:facturé\w*|payé\w*|compté\w*)\b~15~\b(?:deux fois|en double|à tort|en trop|de trop)\b"
     r"|\bdouble facturation\b|\btrop (?:facturé|perçu)\b|\bdouble emploi\b|\bdoublon\b"),
    ("fr-credit", 0.8,
     r"\b(?:un avoir|d'un avoir|note de crédit|facture rectificative|facture corrigée|"
     r"facture modifiée)\b"),
    ("fr-complaint", 0.6,
     r"\b(?:insatisfait\w*|mécontent\w*|pas satisfait\w*|déçu\w*|mauvaise qualité|plainte)\b",
     {"negatable": True}),
    ("fr-not-delivered", 0.5,
     r"\bpas (?:été )?(?:livré|reçu|effectué|réalisé|terminé|fourni)e?s?\b", _NOT_INVOICE),
    ("fr-not-ordered", 0.65,
     r"\bpas (?:été )?(?:commandée?s?|demandée?s?|validée?s?|approuvée?s?|autorisée?s?)\b"),
    ("fr-cancel", 0.55, r"\brésili\w*\b"),
    ("fr-cancel-weak", 0.3, r"\bannul\w*\b"),
    ("fr-agreed", 0.4,
     r"\b(?:convenu|selon (?:votre|le|notre) devis|d'après (?:votre|le) devis|prévu au devis)\b"),
    ("fr-withhold", 0.7,
     r"\b(?:suspend\w*|bloqu\w*|reten\w*|retien\w*)\b~20~\b(?:paiement|règlement)\b"),
    # Spanish
    ("es-object", 0.8,
     r"\b(?:disputa\w*|reclamaci[oó]n|reclamamos|impugn\w*|desacuerdo|no estamos de acuerdo|"
     r"no estoy de acuerdo|no conforme|disconform\w*)\b|\bno (?:estamos |estoy )?conformes?\b"
     r"|\bno se (?:prestó|realizó|entregó|completó|ha prestado)\b"
     r"|\bno reconoce\w*\b|\bno corresponde\w*\b"),
    ("es-wrong", 0.75,
     r"\b(?:error|errónea?|incorrect[oa]|equivocad[oa])\b~30~"
     r"\b(?:factura|importe|horas|precio|tarifa|línea|total|cantidad)"
     r"|\b(?:factura|importe|horas|precio|tarifa|línea|total|cantidad)\b~30~"
     r"\b(?:errónea?|incorrect[oa]|equivocad[oa]|demasiado alt[oa])\b"),
    ("es-double", 0.85,
     r"\b(?:cobrad[oa]s?|facturad[oa]s?)\b~15~\b(?:dos veces|de más|por duplicado|doble)\b"
     r"|\bdoble (?:cobro|factura|facturación)\b"),
    ("es-credit", 0.8,
     r"\b(?:nota de (?:crédito|abono)|factura (?:rectificativa|corregida|de abono)|"
     r"abono de la diferencia)\b"),
    ("es-complaint", 0.6, r"\b(?:queja\w*|insatisfech\w*|descontent\w*|mala calidad)\b",
     {"negatable": True}),
    ("es-not-delivered", 0.55,
     r"\bno (?:hemos |he )?(?:recibido|recibimos)\b~20~\b(?:el|los|la|las) (?:servicio|trabajo|"
     r"producto|mercancía|pedido|entrega|fotos|material)"
     r"|\bno se ha (?:entregado|realizado|completado|prestado)\b"),
    ("es-not-ordered", 0.65,
     r"\bno (?:fueron|fue|han sido|ha sido|hemos) (?:aprobad|autorizad|solicitad|pedid|"
     r"encargad|contratad)\w*"),
    ("es-cancel", 0.55, r"\b(?:rescind\w*|dar de baja|dimos de baja|resoluci[oó]n del contrato)\b"),
    ("es-cancel-weak", 0.3, r"\b(?:anul\w*|cancelación)\b|\bcancel(?:ar|amos|ado)\b"),
    ("es-agreed", 0.4,
     r"\b(?:acordad[oa]|pactad[oa]|según (?:su|el|nuestro) presupuesto|presupuestad[oa])\b"),
    ("es-withhold", 0.7,
     r"\b(?:retener|retenemos|suspender|suspendemos|bloquear|bloqueamos)\b~20~\b(?:el )?pago\b"
     r"|\bno (?:vamos a|podemos) pagar\b"),
])

_cues(Intent.statement_request, [
    ("statement", 0.7,
     r"(?<!bank )(?<!bank account )\b(?:statement|statment|statemnt)s?"
     r"(?: of (?:account|accounts|open items))?\b"),
    ("open-items", 0.45,
     r"\b(?:open|outstanding|unpaid|overdue) (?:items|balance|amounts?|positions)\b"),
    ("open-invoices", 0.35, r"\b(?:all )?(?:open|outstanding|unpaid) invoices\b"),
    ("what-owe", 0.5,
     r"\b(?:what|how much) (?:do )?(?:we|i) (?:currently |still )?owe\b"
     r"|\beverything (?:we|i) (?:currently |still )?owe\b"
     r"|\bwhatever is (?:still )?(?:outstanding|open|owed)\b"
     r"|\b(?:current|outstanding|account) balance\b"),
    ("aged", 0.7,
     r"\baged (?:debt|debtors?|receivables?|payables?|balance)\b"
     r"|\b(?:debtor|creditor|customer|supplier|account) (?:report|ledger|history)\b"),
    ("reconcile", 0.7,
     r"\breconcil\w*\b~20~\b(?:our|the|your|this) accounts?\b|\bledger shows\b"),
    ("balance-confirm", 0.75,
     r"\bbalance confirmation\b|\bconfirm (?:the|our|your) (?:account )?balance\b"
     r"|\b(?:account|balance|ledger) reconciliation\b|\baudit confirmation\b"),
    ("list-open", 0.7,
     r"\b(?:list|overview|summary|breakdown|ledger) of (?:all )?(?:the )?(?:our |your )?"
     r"(?:open|outstanding|unpaid|invoices|transactions)"),
    ("de", 0.8,
     r"\b(?:kontoauszug|saldenbestätigung|saldenabstimmung|saldenmitteilung|saldobestätigung|"
     r"kontenabstimmung|offenen? posten|op-liste|offene-posten-liste|kontoblatt|kontenblatt)\b"),
    ("de-balance", 0.8, r"\bsaldos?\b~30~\bbestätig|\bbestätig\w*\b~30~\bsaldos?\b"),
    ("nl", 0.8,
     r"\b(?:rekeningoverzicht|saldobevestiging|saldo ?bevestiging|saldo-?overzicht|saldolijst|"
     r"openstaande posten|"
     r"debiteurenoverzicht|openstaand saldo)\b"
     r"|\boverzicht van (?:de |alle )?(?:openstaande|open) (?:facturen|posten)\b"),
    ("fr", 0.75,
     r"\b(?:relevé de compte|relevé des factures|relevé de (?:nos |vos )?factures|"
     r"état (?:de compte|des factures|des sommes dues)|confirmation de solde|"
     r"solde (?:du|de notre|de votre) compte|"
     r"factures (?:en attente|impayées|non réglées|ouvertes))\b"),
    ("es", 0.75,
     r"\b(?:estado de cuenta|extracto de cuenta|confirmación de saldo|conciliación de saldos|"
     r"partidas (?:abiertas|pendientes)|facturas pendientes|saldos? pendientes?|extracto)\b"),
])

_cues(Intent.payment_info_request, [
    ("details", 0.55,
     r"\b(?:bank|banking|payment|wire|remittance|beneficiary|account) "
     r"(?:details|information|info|instructions|data|coordinates)\b", _NO_IBAN),
    ("codes", 0.45,
     r"\b(?:sort code|account number|acct (?:no|number)|routing (?:number|no)|"
     r"aba (?:number|routing)|swift|bic|iban)\b", _NO_IBAN),
    ("ask", 0.75,
     r"\b(?:send|confirm|provide|share|give|let (?:me|us) know|what is|what's|what are|need|"
     r"needs|require|requires|want|wants|ask(?:s|ing)? for|forward)\b~40~\b%BANK%", _NO_IBAN),
    ("beneficiary", 0.45, r"\bbeneficiary (?:name|bank|details|address)\b"),
    ("which-account", 0.65,
     r"\bwhich (?:account|bank account|iban|bank)\b|\bwhat (?:reference|account)\b~30~"
     r"\b(?:pay|paying|payment|use)\b"),
    ("methods", 0.6,
     r"\b(?:accept|take)\b~15~\b(?:cards?|card payments?|credit cards?|paypal|cheques?|checks?|"
     r"direct debit|bank transfers?)\b"),
    ("how-pay", 0.6,
     r"\bhow (?:do|can|should|could) (?:we|i) pay\b"
     r"|\bwhere (?:do|should|can) (?:we|i) (?:send|pay|transfer)\b"),
    ("de", 0.55,
     r"\b(?:bankverbindung|bankdaten|kontodaten|kontoverbindung|zahlungsinformationen|"
     r"kontonummer|bankleitzahl)\b", _NO_IBAN),
    ("nl", 0.55, r"\b(?:bankgegevens|rekeningnummer|betaalgegevens|bankrekeningnummer)\b",
     _NO_IBAN),
    ("fr", 0.55, r"\b(?:coordonnées bancaires|rib|relevé d'identité bancaire|numéro de compte)\b",
     _NO_IBAN),
    ("es", 0.55,
     r"\b(?:datos bancarios|número de cuenta|cuenta bancaria|certificado de titularidad|"
     r"datos de pago)\b", _NO_IBAN),
])

_cues(Intent.billing_details_change, [
    ("update-contact", 0.8,
     r"\b(?:update|change|amend|correct|replace|switch)\b~40~"
     r"\b(?:(?:billing|invoice|invoicing|postal|registered|company|payable|ap|accounts|"
     r"remittance|supplier|finance|our|contact) (?:address|contact|contacts|"
     r"e-?mail(?: address)?|mailbox|name|vat (?:number|id)|recipient)"
     r"|(?:our|billing|company|contact|invoicing) details)\b"),
    ("new-address", 0.7,
     r"\b(?:new|different|updated|changed) (?:billing |invoice |invoicing |postal |registered |"
     r"company |office |accounts payable |ap |head office )?(?:address|e-?mail address|mailbox|"
     r"contact (?:person|details)|company name|legal name|vat (?:number|id))\b", _NOT_A_RESEND),
    ("send-invoices-to", 0.8,
     r"\b(?:send|address|direct|forward|route)\b~30~"
     r"\b(?:all |future |any )?(?:invoices|invoicing|reminders|statements|correspondence)\b~40~"
     r"\b(?:to|at) (?:this|the new|our new|the following|[\w.+-]+@[\w.-]+)"),
    ("effective", 0.25,
     r"\b(?:with (?:immediate )?effect|effective (?:from|immediately|as of)|from now on|"
     r"going forward)\b"),
    ("po-required", 0.6,
     r"\b(?:purchase order|po)(?: number)?\b~40~"
     r"\b(?:required|must|mandatory|need|needs|include|quote|quoted)\b"),
    ("add-po", 0.6,
     r"\b(?:add|include|quote|show|put|reference|state)\b~20~"
     r"\b(?:po|purchase order|order number|cost cent(?:re|er))\b~40~\binvoices?\b"),
    ("future-invoices", 0.45, r"\b(?:all |any )?future invoices\b"),
    ("migrated", 0.35,
     r"\b(?:moved|migrated|migrating|moving|switched|switching)\b~30~"
     r"\b(?:platform|system|premises|office|provider|portal|address)\b"),
    ("decommissioned", 0.5,
     r"\b(?:mailbox|address|e-?mail|account|inbox|po box)\b~20~\b(?:will be|has been|is being) "
     r"(?:discontinued|closed|retired|deactivated|shut down)\b|\bdecommission\w*"
     r"|\bno longer (?:in use|monitored|valid|active)\b"),
    ("renamed", 0.7,
     r"\b(?:company|business) (?:has )?(?:been )?(?:renamed|rebranded|acquired|merged)\b"
     r"|\bchange of (?:name|address|ownership)\b"),
    # German
    ("de-new", 0.8,
     r"\b(?:neue|geänderte|neuen|geänderten)\b~15~\b(?:rechnungsanschrift|rechnungsadresse|"
     r"anschrift|adresse|e-mail-adresse|firmierung|ust-idnr|ansprechpartner\w*)\b",
     _NOT_A_RESEND),
    ("de-change", 0.8,
     r"\b(?:adressänderung|umfirmierung|änderung (?:der|unserer) (?:rechnungs)?"
     r"(?:anschrift|adresse|firmierung|kontaktdaten|stammdaten))\b"),
    ("de-master-data", 0.75,
     r"\b(?:lautet|heißt) (?:unsere|die|unser) (?:firmierung|firma|anschrift|adresse|name)\b"
     r"|\bstammdaten\b~20~\b(?:anpassen|ändern|aktualisieren)\b"
     r"|\b(?:passen|ändern|aktualisieren) sie\b~30~\bstammdaten\b"),
    ("de-send", 0.75,
     r"\brechnungen\b~40~\b(?:künftig|zukünftig|ab sofort|nur noch|ausschließlich)\b"),
    ("de-po", 0.6,
     r"\b(?:bestellnummer|bestell-nr|po-nummer)\b~40~"
     r"\b(?:angeben|anzugeben|erforderlich|zwingend|pflicht)"),
    # Dutch
    ("nl-new", 0.8,
     r"\b(?:nieuwe?|gewijzigde?)\b~15~\b(?:factuuradres|bezoekadres|postadres|adres|"
     r"e-?mailadres|contactpersoon|bedrijfsnaam|btw-nummer)\b", _NOT_A_RESEND),
    ("nl-change", 0.8,
     r"\b(?:adreswijziging|wijziging (?:van )?(?:onze |de )?(?:factuurgegevens|adresgegevens|"
     r"gegevens|bedrijfsgegevens|factuuradres))\b"),
    ("nl-send", 0.75, r"\bfacturen\b~40~\b(?:voortaan|vanaf|uitsluitend|alleen nog)\b"),
    ("nl-po", 0.45, r"\b(?:inkoopordernummer|po-nummer|ordernummer|bestelnummer)\b"),
    ("nl-admin", 0.6,
     r"\bin uw (?:administratie|systeem) (?:verwerken|aanpassen|wijzigen|bijwerken)\b"),
    # French
    ("fr-new", 0.8,
     r"\b(?:nouvelle|nouvel|nouveau|nouvelles)\b~15~\b(?:adresse|contact|interlocut\w*|"
     r"raison sociale|dénomination|numéro de tva)\b", _NOT_A_RESEND),
    ("fr-change", 0.8,
     r"\b(?:changement|modification) (?:d'adresse|de (?:nos |vos )?coordonnées|"
     r"de raison sociale|de dénomination|d'interlocuteur)\b"),
    ("fr-send", 0.7,
     r"\b(?:envoy\w*|adress\w*|transmett\w*) (?:désormais |dorénavant )?(?:vos |les |toutes les )?"
     r"factures\b~30~\b(?:à|au|uniquement|exclusivement)\b"),
    # Spanish
    ("es-new", 0.8,
     r"\b(?:nueva|nuevo|nuevas)\b~15~\b(?:dirección|domicilio|razón social|contacto|correo|"
     r"cif|nif)\b", _NOT_A_RESEND),
    ("es-change", 0.8,
     r"\bcambio de (?:dirección|domicilio|razón social|"
     r"datos (?:fiscales|de facturación)|contacto)\b"),
    ("es-send", 0.7,
     r"\b(?:env[ií]\w*|remit\w*|mand\w*|dirig\w*) (?:las |sus |todas las )?facturas\b~30~"
     r"\b(?:a partir de|únicamente|solo|solamente|exclusivamente|a la)\b"),
])

_cues(Intent.tax_document_request, [
    ("us-forms", 0.8, r"\bw-?8\s?ben(?:-?e)?\b|\bw-?9\b|\bform 1099\b|\b1099-?(?:nec|misc)\b"),
    ("tax-form", 0.5,
     r"\b(?:tax|vat) (?:form|forms|certificate|document|documents|documentation|residency|"
     r"residence|exemption|registration certificate|status letter)\b"
     r"|\bcertificate of (?:tax )?residen(?:ce|cy)\b"
     r"|\bwithholding (?:tax )?(?:form|certificate|statement)\b"),
    ("vat-number", 0.5,
     r"\b(?:confirm|send|provide)\b~30~\b(?:vat|tax) (?:number|id|registration)\b"),
    ("de", 0.8,
     r"\b(?:freistellungsbescheinigung|ansässigkeitsbescheinigung|"
     r"unbedenklichkeitsbescheinigung|steuerbescheinigung|bescheinigung in steuersachen|"
     r"steuerformular)\b"),
    ("nl", 0.8,
     r"\b(?:verklaring (?:van )?(?:fiscale woonplaats|betalingsgedrag|omzetbelasting)|"
     r"fiscale verklaring|belastingformulier|btw-verklaring|g-rekening)\b"),
    ("fr", 0.8,
     r"\b(?:attestation (?:de )?(?:régularité fiscale|vigilance|fiscale|"
     r"de résidence(?: fiscale)?)|certificat de résidence(?: fiscale)?|formulaire fiscal|kbis)\b"),
    ("es", 0.8,
     r"\b(?:certificado de (?:residencia fiscal|estar al corriente|retenciones|"
     r"situación censal)|formulario fiscal)\b"),
])

_cues(Intent.acknowledgement, [
    ("got-it", 0.6,
     r"\bgot it\b|\b(?:well |safely )?received,? thanks?\b|\backnowledge receipt\b"
     r"|\bthanks?(?: you)?,? (?:well |safely )?received\b|\breceived with thanks\b"),
    ("thanks-for", 0.35,
     r"\bthanks?(?: you)? (?:for (?:this|the invoice|sending|that|the email|the update|"
     r"the reminder))\b"),
    ("noted", 0.35, r"\b(?:noted|will do|all good|perfect,? thanks?)\b"),
    ("filed", 0.5,
     r"\b(?:saved|filed|forwarded|passed|sent|put|uploaded)\b(?: it| this| them)?(?: on)? "
     r"(?:into|to|in|on|with)\b~30~"
     r"\b(?:folder|ap|accounts|team|colleague|system|finance|queue)\b"),
    ("have-it", 0.3, r"\b(?:they|we|i) (?:should |will |now )?have it\b"),
    ("received-invoice", 0.55,
     r"\b(?:have|has) (?:been )?received (?:the|your) invoice\b"
     r"|\binvoice (?:has been |was )?received\b"),
    ("pass-on", 0.5, r"(?:\bwill\b|'ll) (?:pass|forward) (?:it|this|them)(?: on)?\b"),
    ("de", 0.55,
     r"\b(?:dankend erhalten|(?:habe|haben) (?:die|ihre) rechnung erhalten|"
     r"rechnung\b~25~\b(?:eingegangen|angekommen)|zur kenntnis genommen|"
     r"vielen dank für (?:die|ihre) rechnung|weitergeleitet)\b"),
    ("nl", 0.6,
     r"\b(?:in goede orde ontvangen|goed ontvangen|bedankt voor de factuur|"
     r"dank voor de factuur|doorgestuurd naar|doorgezet naar)\b"),
    ("fr", 0.6,
     r"\b(?:bien reçu|bonne réception de (?:la|votre) facture|merci pour (?:la|votre) facture|"
     r"c'est noté|bien noté|transmis (?:à|au)|(?:je |nous )?(?:transmets|transmettons|transférons)"
     r" (?:à|au))\b"),
    ("es", 0.6,
     r"\b(?:recibido,? gracias|acusamos recibo|gracias por la factura|tomamos nota|"
     r"lo he reenviado|recibid[oa]s? correctamente|(?:la|lo|las|los) hemos recibido)\b"),
], negatable=True, conditional=True)

_cues(Intent.spam_or_phishing, [
    ("dear-customer", 0.3, r"\bdear (?:customer|client|user|valued customer|account holder)\b"),
    ("final-notice", 0.35,
     r"\bfinal (?:notice|warning)\b|\blast warning\b|\bletzte mahnung\b"
     r"|\blaatste (?:aanmaning|waarschuwing)\b|\bdernier (?:avis|rappel)\b|\búltimo aviso\b"),
    ("collections", 0.35,
     r"\b(?:collections? agency|debt collect\w*|referral to (?:a |our )?collections?)\b"),
    ("hours", 0.35,
     r"\bwithin (?:24|48|12) hours\b|\binnerhalb von (?:24|48) stunden\b"
     r"|\bbinnen (?:24|48) uur\b|\b(?:sous|dans les) (?:24|48) heures\b"
     r"|\ben (?:las próximas )?(?:24|48) horas\b"),
    ("link", 0.45,
     r"\b(?:secure|following|below) link\b"
     r"|\bclick (?:here|the link|below|on the link|the button)\b|\bklicken sie\b"
     r"|\bklik (?:hier|op)\b|\bcliquez\b|\bhaga clic\b|\bpulse aquí\b|\bhaz clic\b"),
    ("view-pay", 0.5, r"\b(?:view|download|open) (?:&|and) pay\b|\bpay now\b|\bpay online now\b"),
    ("credentials", 0.6,
     r"\b(?:verify|confirm|update|validate) your (?:account|password|login|credentials|mailbox|"
     r"identity)\b|\bunusual (?:sign-?in )?activity\b|\bpassword (?:expires|expired|reset)\b"),
    ("on-hold", 0.35,
     r"\b(?:account|mailbox|service) (?:is |will be |has been )?"
     r"(?:suspended|on hold|deactivated|locked|blocked)\b"
     r"|\bkonto (?:wird )?gesperrt\b|\bcompte (?:sera )?suspendu\b"
     r"|\bcuenta (?:será )?suspendida\b"),
    ("lures", 0.6,
     r"\b(?:gift ?cards?|bitcoin|crypto(?:currency)?|wallet address|lottery|"
     r"you(?:'ve| have) won|inheritance|beneficiary of (?:a|the) fund)\b"),
    ("fees", 0.35,
     r"\b(?:avoid|prevent) (?:additional |late |further )?"
     r"(?:fees|charges|suspension|penalties|legal action)\b"),
])
# fmt: on

# ---- legal / insolvency (flags; legal adds a dispute) --------------------------------------
_LEGAL = re.compile(
    r"\b(?:lawyer|solicitor|attorney|legal (?:action|proceedings|advice|department|team|steps)|"
    r"small claims|county court|court (?:action|claim|proceedings)|take (?:you|this) to court|"
    r"litigation|ombudsman|trading standards|letter before action|"
    r"rechtsanwalt\w*|anwalt\w*|anwältin|anwaltlich\w*|rechtliche schritte|gerichtlich\w*|klage|"
    r"mahnbescheid|inkasso\w*|advocaat|jurist|rechtbank|rechter|gerechtelijk\w*|incasso\w*|"
    r"deurwaarder|juridische stappen|sommatie|ingebrekestelling|avocat\w*|tribunal|"
    r"juridiction\w*|mise en demeure|huissier|procédure judiciaire|action en justice|"
    r"contentieux|abogad\w*|juzgado|demanda judicial|acciones legales|vía judicial|burofax|"
    r"procedimiento judicial|monitorio)\b"
)
_INSOLVENCY = re.compile(
    r"\b(?:insolven\w*|bankrupt\w*|liquidat(?:ion|or|ors|ed)|receivership|receiver appointed|"
    r"(?:joint )?administrators? (?:have|has) been appointed|entered (?:into )?administration|"
    r"gone into administration|chapter (?:7|11)|winding[- ]up|creditors'? (?:meeting|voluntary)|"
    r"zahlungsunfähig\w*|konkurs|gläubigerversammlung|faillissement|failliet|surseance|"
    r"curator|bewindvoerder|schuldsanering|redressement judiciaire|liquidation judiciaire|"
    r"procédure (?:collective|de sauvegarde)|mandataire judiciaire|administrateur judiciaire|"
    r"faillite|cessation des paiements|concurso de acreedores|quiebra|administrador concursal|"
    r"preconcurso)\b"
)

# ---- injection markers ----------------------------------------------------------------------
_INJECTION_STRONG = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass)\b[^\n]{0,30}\b(?:previous|prior|above|earlier|"
    r"all|any|your|system|the)\b[^\n]{0,20}\b(?:instructions?|prompts?|rules|directives|"
    r"guidelines|policies)\b"
    r"|\b(?:system|developer|admin(?:istrator)?|assistant) (?:note|prompt|message|instruction|"
    r"override|command)s?\b"
    r"|\b(?:ai|automated|billing|virtual|e-?mail|inbox) (?:assistant|agent|bot)s?\b"
    r"|\b(?:language model|llm|chatgpt|gpt-?\d)\b|\byou are an? (?:ai|assistant|language)\b"
    r"|\b(?:new|updated) instructions?\b|\byou are now\b|\bact as (?:an?|the)\b"
    r"|\bdo not (?:mention|reveal|tell|disclose)\b[^\n]{0,30}"
    r"\b(?:this|note|instructions?|message)\b"
    r"|\bignorier\w* (?:alle )?(?:vorherigen|bisherigen|obigen) (?:anweisungen|instruktionen)\b"
    r"|\bnegeer (?:alle )?(?:vorige|eerdere|voorgaande) (?:instructies|opdrachten)\b"
    r"|\bignore[zr]? (?:toutes )?les instructions\b"
    r"|\bignora(?:r)? (?:todas )?las instrucciones\b"
)
_INJECTION_WEAK = re.compile(
    r"\b(?:mark|set|update|change|flag|record)\b[^\n]{0,40}\b(?:as|to) (?:status )?(?:paid|settled|"
    r"void|voided|cancell?ed|closed|written off)\b"
    r"|\bals (?:bezahlt|beglichen) (?:markieren|kennzeichnen|verbuchen)\b"
    r"|\bmarkeer\w* (?:als )?betaald\b|\bmarque[rz]? (?:la facture )?comme payée\b"
    r"|\bmarca(?:r)? (?:la factura )?como pagada\b"
)

# ---- text clean-up ---------------------------------------------------------------------------
_DISCLAIMER_A = re.compile(
    r"confidential|vertraulich|vertrouwelijk|confidentiel|confidencial|privileged|"
    r"uitsluitend bestemd|exclusivamente|ausschließlich für|strictly private"
)
_DISCLAIMER_B = re.compile(
    r"recipient|addressee|adressat|empfänger|geadresseerde|destinataire|destinatario|in error|"
    r"irrtümlich|abusievelijk|par erreur|por error"
)
_FOOTER_LINE = re.compile(
    r"registered in (?:england|scotland|wales|ireland|northern)|registered office:|"
    r"(?:company|registration|vat|reg\.?) (?:no|number|reg\w*)\.?:?\s*[a-z]{0,2}\s?\d|"
    r"registergericht|handelsregister|\bhr[ab] ?\d|geschäftsführer\w*:|sitz der gesellschaft|"
    r"ust-?id\w*\.?:? ?[a-z]{2}\d|\bkvk\b:? ?\d|btw-?nr|siret|\brcs \w|capital social|"
    r"\bcif:? ?[a-z]?\d|registro mercantil|consider the environment|umwelt vor dem ausdrucken"
)
_FOLD_TABLE = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u00b4": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u00a0": " ",
        "\u202f": " ",
        "\u2009": " ",
    }
)
_NEGATION = re.compile(
    r"(?:\b(?:not|never|no|nor|nothing|nicht|kein\w*|nie|niemals|niet|geen|nooit|ne|pas|jamais|"
    r"aucun\w*|nunca|ni)\b|n't\b|\bn')"
)
_CONDITION = re.compile(
    r"\b(?:if|whether|unless|in case|should you|falls|wenn|sofern|sollten|indien|mocht|si|"
    r"en caso de|por si)\b|\bs'il\b"
)
_CLAUSE_BREAK = re.compile(
    r"[,;:()\-]|\b(?:but|however|although|though|aber|jedoch|allerdings|maar|echter|mais|"
    r"cependant|pero|sin embargo)\b"
)
_SUBJECT_PREFIX = re.compile(
    r"^\s*(?:\[[^\]]{0,40}\]\s*)*(?:(?P<kind>re|aw|antw|antwort|sv|vs|r|rv|odp|wg|fw|fwd|tr|"
    r"doorst|rif)\s*(?:\[\d+\])?\s*:\s*(?:\[[^\]]{0,40}\]\s*)*)+",
    re.IGNORECASE,
)
_FORWARD_PREFIXES = {"wg", "fw", "fwd", "tr", "doorst", "rif"}
# bounded and anchored at a token start, so a long run of word characters stays linear
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")
_SEND_VERB = re.compile(
    r"\b(?:send|forward|e-?mail|cc|copy|address|schicken|senden|sturen|envoyer|enviar|mailen|"
    r"contact)\b"
)
_SHORT_PAYMENT = re.compile(
    r"\b(?:deduct\w*|deduction|short[- ]?paid|short payment|bank (?:charges?|fees?|chg)|"
    r"abzug|abgezogen|einbehalt\w*|ingehouden|inhouding|aftrek|déduction|déduit|retenue|"
    r"deducción|deducid[oa]|retención)\b"
)
# last resort for complaints no cue knows: the bill named next to a word of mismatch
_BILL_NOUN = re.compile(
    r"\b(?:invoice|bill|charges?|charged|fees?|amount|price|costs?|hours|rate|line item|billed|"
    r"invoiced|rechnung|betrag|kosten|preis|stunden|position|berechnet|factuur|bedrag|uren|"
    r"gefactureerd|facture|montant|prix|coût|heures|facturée?|factura|importe|cargo|precio|"
    r"horas|facturad[oa]|cobrad[oa]|cobro)\b"
)
_MISMATCH = re.compile(
    r"\b(?:not|never|no|only|but|yet|still|however|instead|promised|wrong|nicht|kein\w*|nur|"
    r"aber|niet|geen|alleen|maar|pas|seulement|mais|solo|pero|todavía|aún|ningún|ninguna)\b|n't\b"
)
_CONDITIONAL_PAYMENT = re.compile(
    r"\b(?:pay|paying|settle|zahlen|bezahlen|betalen|payer|régler|pagar)\w*\b[^.?!\n]{0,30}"
    r"\b(?:once|as soon as|when|after|sobald|wenn|nachdem|zodra|wanneer|dès que|lorsque|quand|"
    r"une fois que|en cuanto|cuando|una vez que)\b"
)
_ABBREVIATIONS = {
    "nr", "no", "inv", "ca", "bzw", "etc", "vs", "approx", "incl", "excl", "st", "mr", "mrs",
    "ms", "dr", "hr", "fr", "std", "tel", "ref", "z", "b", "e", "g", "i", "u", "a", "n°", "nº",
    "str", "co", "ltd", "inc", "corp", "jan", "feb", "aug", "sept", "oct", "nov", "dec", "dez",
    "okt", "mrt", "art", "abs", "ggf", "evtl", "usw", "mfg", "sig", "sr", "sra", "dhr", "mevr",
}  # fmt: skip


def suspects_injection(text: str) -> bool:
    """True when ``text`` carries instruction-like content aimed at an AI or the system
    ("ignore previous instructions", "SYSTEM NOTE", "mark as paid"), in any of the five
    languages. Meant also for text a reader cannot see (hidden HTML, attachment names)."""
    low = fold(text or "")
    return bool(low.strip()) and bool(_INJECTION_STRONG.search(low) or _INJECTION_WEAK.search(low))


def fold(text: str) -> str:
    """Lower-case ``text`` and fold typographic quotes/dashes, keeping every offset."""
    folded = text.translate(_FOLD_TABLE)
    low = folded.lower()
    if len(low) != len(folded):
        low = "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in folded)
    return low


# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------
_WEEKDAYS: dict[str, int] = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6, "montag": 0, "dienstag": 1, "mittwoch": 2, "donnerstag": 3, "freitag": 4,
    "samstag": 5, "sonntag": 6, "maandag": 0, "dinsdag": 1, "woensdag": 2, "donderdag": 3,
    "vrijdag": 4, "zaterdag": 5, "zondag": 6, "lundi": 0, "mardi": 1, "mercredi": 2,
    "jeudi": 3, "vendredi": 4, "samedi": 5, "dimanche": 6, "lunes": 0, "martes": 1,
    "miércoles": 2, "miercoles": 2, "jueves": 3, "viernes": 4, "sábado": 5, "sabado": 5,
    "domingo": 6,
}  # fmt: skip
_NUMBER_WORDS: dict[str, int] = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "fourteen": 14, "a couple of": 2, "a few": 3, "ein": 1, "einer": 1,
    "eine": 1, "zwei": 2, "drei": 3, "vier": 4, "fünf": 5, "sechs": 6, "sieben": 7, "acht": 8,
    "zehn": 10, "vierzehn": 14, "een": 1, "twee": 2, "drie": 3, "vijf": 5, "zes": 6,
    "zeven": 7, "tien": 10, "veertien": 14, "un": 1, "une": 1, "deux": 2, "trois": 3,
    "quatre": 4, "cinq": 5, "huit": 8, "dix": 10, "quinze": 15, "uno": 1, "una": 1, "dos": 2,
    "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8, "diez": 10,
    "quince": 15,
}  # fmt: skip
_WEEKDAY_PATTERN = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))
_NUMBER_PATTERN = "|".join(sorted((re.escape(w) for w in _NUMBER_WORDS), key=len, reverse=True))

_D_ISO = re.compile(r"(?<![\d-])(\d{4})-(\d{2})-(\d{2})(?![\d-])")
_D_NUMERIC = re.compile(r"(?<![\d./-])(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})(?!\d|[./-]\d)")
_D_DAY_MONTH = re.compile(
    rf"(?<![\d.,])(\d{{1,2}})(?:st|nd|rd|th|er|e|º|\.)?\s*(?:of\s+|de\s+)?({MONTH_PATTERN})\b\.?"
    rf"(?:,?\s*(?:de\s+)?(\d{{4}})\b)?"
)
_D_MONTH_DAY = re.compile(
    rf"\b({MONTH_PATTERN})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?![.:/]\d)(?:,?\s+(\d{{4}})\b)?"
)
_D_DAY_DOT = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.(?!\d)")
_D_DAY_SLASH = re.compile(r"(?<![\d/.])(\d{1,2})/(\d{1,2})(?![\d/])")
_D_END_OF_MONTHNAME = re.compile(
    rf"\b(?:(?:the )?end of|(?:bis )?ende|eind(?:e)?(?: van)?|fin(?: de| d')?|à la fin de|"
    rf"a? ?finales de|final de|late|mid-?|middle of|mitte|half|mi-|mediados de)\s*"
    rf"({MONTH_PATTERN})\b"
)
_D_END_OF_MONTH = re.compile(
    r"\b(?:(?:the )?end of (?:the |this )?month|month[- ]end|monatsende|ende (?:des|dieses) monats|"
    r"eind(?:e)? (?:van )?(?:de|deze) maand|fin (?:du|de ce) mois|fin de mois|"
    r"(?:a )?final(?:es)? de(?:l| este)? mes|fin de mes)\b"
)
_D_END_NEXT_MONTH = re.compile(
    r"\b(?:end of next month|ende (?:des )?nächsten monats|eind(?:e)? (?:van )?volgende maand|"
    r"fin du mois prochain|final(?:es)? del (?:mes que viene|próximo mes))\b"
)
_D_NEXT_WEEK = re.compile(
    r"\b(?:next week|(?:nächste|kommende|nächsten|kommenden|nächster|kommender) woche|"
    r"volgende week|"
    r"(?:la )?semaine prochaine|(?:la )?semana que viene|(?:la )?próxima semana)\b"
)
_D_THIS_WEEK = re.compile(
    r"\b(?:this week|end of (?:the|this) week|diese woche|dieser woche|deze week|cette semaine|"
    r"esta semana)\b"
)
_D_IN_N = re.compile(
    rf"\b(?:in|within|within the next|innerhalb(?: von)?|in den nächsten|binnen|over|dans|sous|"
    rf"d'ici|dentro de|en)\s+(\d{{1,2}}|{_NUMBER_PATTERN})\s+(?:business |working )?"
    rf"(days?|weeks?|tagen|tage|werktagen|wochen|dagen|werkdagen|weken|jours(?: ouvrés)?|"
    rf"semaines|días|dias|semanas)\b"
)
_D_RELATIVE_DAY = re.compile(
    r"\b(today|tomorrow|yesterday|heute|morgen|gestern|vandaag|gisteren|aujourd'hui|demain|hoy|"
    r"mañana|ayer)\b"
)
_D_WEEKDAY = re.compile(rf"\b({_WEEKDAY_PATTERN})\b")
_D_THE_NTH = re.compile(r"\b(?:the|am|le|el|op de|den)\s+(\d{1,2})(?:st|nd|rd|th|\.|e|er)(?!\s*\d)")
_PAST_MARK = re.compile(
    r"(?:since|last|seit|letzten|vorigen|sinds|vorige|afgelopen|depuis|dernier|desde|pasado)\s*$"
)
_OFFSETS = {
    "today": 0, "heute": 0, "vandaag": 0, "aujourd'hui": 0, "hoy": 0, "tomorrow": 1,
    "morgen": 1, "demain": 1, "mañana": 1, "yesterday": -1, "gestern": -1, "gisteren": -1,
    "ayer": -1,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class FoundDate:
    """A date found in text: where, which day, and whether it was written as a full date."""

    start: int
    end: int
    value: date
    explicit: bool


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _closest(month: int, day: int, today: date) -> date | None:
    """The date with this month and day nearest to ``today`` (ties go forward)."""
    options = [
        d for y in (today.year - 1, today.year, today.year + 1) if (d := _valid(y, month, day))
    ]
    if not options:
        return None
    return min(options, key=lambda d: (abs((d - today).days), d < today))


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _year(text: str | None) -> int | None:
    if not text:
        return None
    value = int(text)
    return value + 2000 if value < 100 else value


def _friday(of: date) -> date:
    return of + timedelta(days=(4 - of.weekday()) % 7)


def extract_dates(text: str, today: date) -> list[FoundDate]:
    """Dates in ``text`` (any of the five languages), resolved against ``today``.

    Explicit dates without a year take the year that puts them nearest to ``today``;
    "next week" is that week's Friday, "end of the month" its last day, a weekday the next
    such day (the previous one after "since"/"last"). Numeric dates are day-first unless the
    first number cannot be a month day (``11/18/2026`` is read as 18 November).
    """
    low = fold(text)
    found: list[FoundDate] = []
    taken: list[tuple[int, int]] = []

    def add(start: int, end: int, value: date | None, explicit: bool) -> None:
        if value is None or any(start < e and s < end for s, e in taken):
            return
        taken.append((start, end))
        found.append(FoundDate(start, end, value, explicit))

    for m in _D_ISO.finditer(low):
        add(*m.span(), _valid(int(m.group(1)), int(m.group(2)), int(m.group(3))), True)
    for m in _D_NUMERIC.finditer(low):
        day, month, year = int(m.group(1)), int(m.group(3)), _year(m.group(4)) or today.year
        if month > 12 >= day:
            day, month = month, day
        add(*m.span(), _valid(year, month, day), True)
    for m in _D_DAY_MONTH.finditer(low):
        month, day, given = MONTHS[m.group(2)], int(m.group(1)), _year(m.group(3))
        add(*m.span(), _valid(given, month, day) if given else _closest(month, day, today), True)
    for m in _D_MONTH_DAY.finditer(low):
        word = m.group(1)
        if word in {"may", "mar", "sept", "ago"} and not text[m.start()].isupper():
            continue
        month, day, given = MONTHS[word], int(m.group(2)), _year(m.group(3))
        add(*m.span(), _valid(given, month, day) if given else _closest(month, day, today), True)
    for m in _D_DAY_DOT.finditer(low):
        add(*m.span(), _closest(int(m.group(2)), int(m.group(1)), today), True)
    for m in _D_DAY_SLASH.finditer(low):
        day, month = int(m.group(1)), int(m.group(2))
        if month > 12 >= day:
            day, month = month, day
        add(*m.span(), _closest(month, day, today), True)
    for m in _D_END_OF_MONTHNAME.finditer(low):
        month = MONTHS[m.group(1)]
        middle = re.match(r"mid|middle|mitte|half|mi-|mediados", m.group(0))
        anchor = _closest(month, 15, today)
        if anchor is not None:
            value = anchor if middle else _last_day(anchor.year, month)
            add(*m.span(), value, True)
    for m in _D_END_NEXT_MONTH.finditer(low):
        nxt = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
        add(*m.span(), _last_day(nxt.year, nxt.month), False)
    for m in _D_END_OF_MONTH.finditer(low):
        add(*m.span(), _last_day(today.year, today.month), False)
    for m in _D_NEXT_WEEK.finditer(low):
        add(*m.span(), _friday(today + timedelta(days=7 - today.weekday())), False)
    for m in _D_THIS_WEEK.finditer(low):
        add(*m.span(), max(today, _friday(today - timedelta(days=today.weekday()))), False)
    for m in _D_IN_N.finditer(low):
        raw = m.group(1)
        count = int(raw) if raw.isdigit() else _NUMBER_WORDS[raw]
        unit = 7 if re.match(r"week|woche|wochen|weken|semaine|semana", m.group(2)) else 1
        add(*m.span(), today + timedelta(days=count * unit), False)
    for m in _D_RELATIVE_DAY.finditer(low):
        word = m.group(1)
        before = low[max(0, m.start() - 8) : m.start()]
        if word == "morgen" and re.search(r"(?:guten|goede|am|jeden|heute)\s*$", before):
            continue
        if word == "mañana" and re.search(r"(?:esta|la|por la|de la)\s*$", before):
            continue
        add(*m.span(), today + timedelta(days=_OFFSETS[word]), False)
    for m in _D_WEEKDAY.finditer(low):
        after = low[m.end() : m.end() + 4]
        if re.match(r",?\s*\d", after):
            continue  # "Thursday 26th Nov", "Freitag, 13.11.": the full date follows
        target = _WEEKDAYS[m.group(1)]
        if _PAST_MARK.search(low[max(0, m.start() - 12) : m.start()]):
            back = (today.weekday() - target) % 7 or 7
            add(*m.span(), today - timedelta(days=back), False)
        else:
            ahead = (target - today.weekday()) % 7 or 7
            add(*m.span(), today + timedelta(days=ahead), False)
    for m in _D_THE_NTH.finditer(low):
        day = int(m.group(1))
        this_month = _valid(today.year, today.month, day)
        if this_month is None or this_month < today:
            nxt = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
            this_month = _valid(nxt.year, nxt.month, day)
        add(*m.span(), this_month, False)
    found.sort(key=lambda f: f.start)
    return found


# --------------------------------------------------------------------------------------------
# Amounts
# --------------------------------------------------------------------------------------------
_NUM = r"\d{1,3}(?:[.,' \u00a0\u202f]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_CUR_BEFORE = r"us\$|£|€|\$|usd|eur|gbp|chf|cad|aud|sek|nok|dkk|pln|czk|jpy"
_CUR_AFTER = r"£|€|\$|usd|eur|gbp|chf|cad|aud|sek|nok|dkk|pln|czk|jpy|euros?|dollars?|pounds?"
_AMOUNT_BEFORE = re.compile(rf"(?<![\w.,])({_CUR_BEFORE})\s?({_NUM})(?![\d])")
_AMOUNT_AFTER = re.compile(rf"(?<![\w.,])({_NUM})\s?({_CUR_AFTER})(?![\w])")
_CURRENCY_CODES = {
    "£": "GBP", "€": "EUR", "$": "USD", "us$": "USD", "euro": "EUR", "euros": "EUR",
    "dollar": "USD", "dollars": "USD", "pound": "GBP", "pounds": "GBP",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class FoundAmount:
    """A money amount found in text, as a Decimal with its ISO currency."""

    start: int
    end: int
    amount: Decimal
    currency: str


def parse_number(raw: str) -> Decimal | None:
    """Read '4,344.00', '1.210,40', '4.400', '310,40', '1 500,00' as a Decimal."""
    text = re.sub(r"[' \u00a0\u202f]", "", raw)
    if "," in text and "." in text:
        decimal_sep = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if decimal_sep == "," else ","
        text = text.replace(thousands, "").replace(decimal_sep, ".")
    elif "," in text:
        text = (
            text.replace(",", "")
            if re.fullmatch(r"\d{1,3}(?:,\d{3})+", text)
            else text.replace(",", ".")
        )
    elif "." in text and re.fullmatch(r"\d{1,3}(?:\.\d{3})+", text):
        text = text.replace(".", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def format_amount(value: Decimal) -> str:
    """A plain decimal string with at least two decimals: Decimal('4344') -> '4344.00'."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        value = value.quantize(Decimal("0.01"))
    return format(value, "f")


def extract_amounts(text: str) -> list[FoundAmount]:
    """Money amounts with a currency symbol, code or word, in order of appearance."""
    low = fold(text)
    found: list[FoundAmount] = []
    taken: list[tuple[int, int]] = []
    for pattern, num_group, cur_group in ((_AMOUNT_BEFORE, 2, 1), (_AMOUNT_AFTER, 1, 2)):
        for m in pattern.finditer(low):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            value = parse_number(m.group(num_group))
            if value is None:
                continue
            symbol = m.group(cur_group)
            taken.append(m.span())
            found.append(FoundAmount(*m.span(), value, _CURRENCY_CODES.get(symbol, symbol.upper())))
    found.sort(key=lambda a: a.start)
    return found


# --------------------------------------------------------------------------------------------
# Language
# --------------------------------------------------------------------------------------------
# fmt: off
_STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset((
        "the", "and", "to", "of", "is", "we", "you", "for", "please", "could", "thanks", "thank",
        "invoice", "our", "your", "it", "this", "have", "be", "on", "with", "would", "can", "i",
        "are", "was", "will", "as", "at", "from", "hi", "hello", "regards", "kind", "any", "us",
        "my", "me", "not", "but", "received", "just", "that", "been", "has", "there", "so",
        "which", "should", "many", "cheers", "best",
    )),
    "de": frozenset((
        "der", "die", "das", "und", "ist", "wir", "sie", "ihr", "ihre", "ihnen", "bitte",
        "rechnung", "nicht", "mit", "für", "den", "dem", "zu", "auf", "vielen", "dank", "haben",
        "eine", "ein", "uns", "von", "im", "sehr", "geehrte", "damen", "herren", "grüßen",
        "freundlichen", "wird", "werden", "noch", "ich", "aber", "auch", "bei", "können",
        "könnten", "sich", "diese", "über", "danke", "erhalten", "unsere", "unser", "gerne",
    )),
    "nl": frozenset((
        "de", "het", "een", "en", "van", "is", "wij", "we", "u", "uw", "graag", "factuur", "niet",
        "met", "voor", "op", "te", "ons", "onze", "zijn", "dat", "bedankt", "groet",
        "vriendelijke", "geachte", "heer", "mevrouw", "wordt", "worden", "nog", "deze", "ik",
        "maar", "kunt", "zou", "bij", "naar", "ook", "dank", "goede", "orde", "ontvangen", "wilt",
        "heeft", "hebben", "beste", "groeten", "tot", "mogelijk", "kan", "er", "wat", "hoe",
        "om", "nieuwe", "vanaf", "graag",
    )),
    "fr": frozenset((
        "le", "la", "les", "et", "des", "est", "nous", "vous", "votre", "vos", "merci", "facture",
        "pas", "pour", "avec", "une", "sur", "du", "au", "ce", "bonjour", "madame", "monsieur",
        "cordialement", "nos", "sont", "être", "avons", "de", "je", "il", "ne", "à", "en", "mais",
        "pouvez", "pourriez", "veuillez", "bien", "reçu", "notre", "cette", "ces", "dans", "qui",
        "sera", "semaine", "paiement", "prochaine", "avez", "par", "été", "hier", "virement",
    )),
    "es": frozenset((
        "el", "la", "los", "las", "y", "que", "es", "nosotros", "usted", "su", "por", "favor",
        "gracias", "factura", "para", "con", "una", "del", "hola", "saludos", "estimados",
        "atentamente", "hemos", "nuestra", "nuestro", "pago", "de", "en", "lo", "le", "les", "se",
        "al", "nos", "este", "esta", "muy", "pero", "sus", "más", "como", "podrían", "buenos",
        "días", "recibido", "a",
    )),
}
# fmt: on
_WORD = re.compile(r"[a-zà-öø-ÿ']+")


def detect_language(text: str, hint: str | None = None) -> str:
    """The language of ``text`` among en/de/nl/fr/es by stop words; ``hint`` breaks ties."""
    words = _WORD.findall(fold(text))[:120]
    # a word shared by several languages counts for each of them in equal parts
    scores = dict.fromkeys(_STOPWORDS, 0.0)
    for word in words:
        owners = [lang for lang, stop in _STOPWORDS.items() if word in stop]
        for lang in owners:
            scores[lang] += 1 / len(owners)
    ranked = sorted(scores.values(), reverse=True)
    best, second = ranked[0], ranked[1]
    if best < 2 and not (best >= 1 and best - second >= 1):
        return hint or "und"
    leaders = [lang for lang, score in scores.items() if abs(score - best) < 1e-9]
    if hint in leaders:
        return str(hint)
    return leaders[0] if len(leaders) == 1 else (hint or leaders[0])


# --------------------------------------------------------------------------------------------
# The classifier
# --------------------------------------------------------------------------------------------
@dataclass(slots=True)
class _Sentence:
    text: str
    low: str
    weight: float
    region: str
    injected: bool
    paragraph: str


@dataclass(slots=True)
class _Hit:
    cue: _Cue
    score: float
    sentence: _Sentence
    start: int
    end: int


@dataclass(slots=True)
class _Reading:
    hits: dict[Intent, dict[str, _Hit]] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    negated_payment: bool = False

    def flag(self, value: Flag) -> None:
        if value.value not in self.flags:
            self.flags.append(value.value)


def _paragraphs(text: str) -> Iterator[str]:
    for block in re.split(r"\n[ \t]*\n", text):
        if len(block) > 600 and block.count("\n") >= 2:
            yield from block.split("\n")
        else:
            yield block


def _is_abbreviation(low: str, dot: int) -> bool:
    word = re.search(r"([\w°º]+)$", low[max(0, dot - 24) : dot])
    if word is None:
        return False
    token = word.group(1)
    return token in _ABBREVIATIONS or (token.isdigit() and len(token) <= 2)


def _split_sentences(paragraph: str) -> Iterator[str]:
    low = fold(paragraph)
    start = 0
    for m in re.finditer(r"[.!?]+(?=\s)|\n", low):
        if m.group().startswith(".") and len(m.group()) == 1 and _is_abbreviation(low, m.start()):
            continue
        piece = paragraph[start : m.end()]
        if piece.strip():
            yield piece
        start = m.end()
    if paragraph[start:].strip():
        yield paragraph[start:]


def _clean_paragraph(paragraph: str) -> str:
    low = fold(paragraph)
    if _DISCLAIMER_A.search(low) and _DISCLAIMER_B.search(low):
        return ""
    lines = [line for line in paragraph.split("\n") if not _FOOTER_LINE.search(fold(line))]
    return "\n".join(lines)


def _sentences(text: str, weight: float, region: str, reading: _Reading) -> list[_Sentence]:
    result: list[_Sentence] = []
    for raw in _paragraphs(text):
        paragraph = _clean_paragraph(raw)
        if not paragraph.strip():
            continue
        low = fold(paragraph)
        if _INJECTION_STRONG.search(low) or _INJECTION_WEAK.search(low):
            reading.flag(Flag.injection_suspected)
        # text after an injection marker is the attacker's, up to the end of its paragraph
        injected = False
        for sentence in _split_sentences(paragraph):
            if not _LETTER.search(sentence):
                continue
            folded = fold(sentence)
            injected = injected or bool(_INJECTION_STRONG.search(folded))
            result.append(_Sentence(sentence, folded, weight, region, injected, paragraph))
            if len(result) >= MAX_SENTENCES:
                return result
    return result


def _clause_prefix(low: str, start: int) -> str:
    prefix = low[:start]
    breaks = list(_CLAUSE_BREAK.finditer(prefix))
    if breaks:
        prefix = prefix[breaks[-1].end() :]
    words = prefix.split()
    return " ".join(words[-6:])


def _region_cues(sentences: list[_Sentence], *, quoted: bool) -> tuple[_Cue, ...]:
    """The cues that may match some sentence of one region, in table order."""
    joined = _JOIN.join(s.low for s in sentences)
    return tuple(
        cue
        for cue in _compiled_cues()
        if not (quoted and (cue.intent is not Intent.dispute or cue.weight < 0.6))
        and (not cue.needles or any(needle in joined for needle in cue.needles))
        and (not cue.joinable or cue.pattern.search(joined))
    )


def _score_sentence(
    sentence: _Sentence, reading: _Reading, *, quoted: bool, cues: tuple[_Cue, ...]
) -> None:
    for cue in cues:
        if quoted and (cue.intent is not Intent.dispute or cue.weight < 0.6):
            continue
        if sentence.injected and cue.intent is not Intent.dispute:
            continue
        if cue.unless is not None and cue.unless.search(sentence.low):
            continue
        for m in cue.pattern.finditer(sentence.low):
            weight = cue.weight
            if cue.unless_near is not None:
                near = sentence.low[max(0, m.start() - 20) : m.end() + 20]
                if cue.unless_near.search(near):
                    continue
            if cue.unless_match is not None and cue.unless_match.search(m.group(0)):
                continue
            if cue.conditional and _CONDITION.search(sentence.low[: m.start()]):
                continue
            if quoted and _CONDITION.search(sentence.low[: m.start()]):
                continue
            if cue.negatable:
                window = _clause_prefix(sentence.low, m.start()) + " " + m.group(0)
                if _NEGATION.search(window):
                    if cue.intent is Intent.payment_confirmation:
                        reading.negated_payment = True
                    if not cue.negated_weight:
                        continue
                    weight = cue.negated_weight
            score = weight * sentence.weight
            by_cue = reading.hits.setdefault(cue.intent, {})
            best = by_cue.get(cue.name)
            if best is None or score > best.score:
                by_cue[cue.name] = _Hit(cue, score, sentence, m.start(), m.end())


def _combine(hits: Iterable[_Hit]) -> float:
    remaining = 1.0
    for hit in hits:
        remaining *= 1.0 - hit.score
    return 1.0 - remaining


def _evidence(hit: _Hit) -> str:
    text = hit.sentence.text.strip()
    if hit.sentence.region == "quoted":
        text = re.sub(r"(?m)^\s*(?:>\s?)+", "", text).strip()
    if len(text) <= _EVIDENCE_MAX:
        return text
    offset = len(hit.sentence.text) - len(hit.sentence.text.lstrip())
    centre = (hit.start + hit.end) // 2 - offset
    left = max(0, min(centre - _EVIDENCE_MAX // 2, len(text) - _EVIDENCE_MAX))
    window = text[left : left + _EVIDENCE_MAX]
    if left > 0 and " " in window:
        window = window[window.index(" ") + 1 :]
    if left + _EVIDENCE_MAX < len(text) and " " in window:
        window = window[: window.rindex(" ")]
    return window.strip()


def _split_subject(subject: str) -> tuple[str, float]:
    m = _SUBJECT_PREFIX.match(subject)
    if not m:
        return subject.strip(), 1.0
    kinds = {k.lower() for k in re.findall(r"(\w+)\s*(?:\[\d+\])?\s*:", m.group(0))}
    weight = 0.7 if kinds & _FORWARD_PREFIXES else 0.35
    return subject[m.end() :].strip(), weight


def _quoted_part(text: str, new_text: str) -> str:
    if not new_text.strip() or not text.strip():
        return ""
    core = new_text.strip()
    index = text.find(core)
    if index < 0:
        return ""
    return text[:index] + text[index + len(core) :]


_TO_DATE = re.compile(
    r"\b(?:to|until|till|til|by|bis|zum|auf den|auf|tot|naar|op|jusqu'au|jusqu'à|au|hasta|al|"
    r"para el)\s*(?:the\s+)?$"
)


@dataclass(slots=True)
class _Message:
    """A message cut into the regions the rules read, with everything found in them."""

    subject: str
    new_text: str
    quoted: str
    main: list[_Sentence]
    reading: _Reading
    quoted_reading: _Reading
    scores: dict[Intent, float]
    evidence: dict[Intent, list[str]] = field(default_factory=dict)


class OfflineClassifier:
    """Deterministic multilingual rules (EN/DE/NL/FR/ES); needs no key and no network."""

    name = CLASSIFIER_NAME

    def classify(self, message: ClassifierInput, *, today: date) -> Classification:
        """Classify ``message``; relative dates are resolved against ``today``."""
        read = self._read(message)
        self._flag(read)
        self._weigh_dispute(read)
        order = self._order([i for i, s in read.scores.items() if s >= MIN_SCORE], read.scores)
        insolvency = [s for s in read.main if _INSOLVENCY.search(s.low)]
        if insolvency and Intent.dispute not in order[:1]:
            # an insolvency notice goes to a person whatever else it says
            read.scores[Intent.other] = 0.7
            read.evidence[Intent.other] = [insolvency[0].text.strip()[:_EVIDENCE_MAX]]
            order = [Intent.other, *[i for i in order if i is not Intent.other]]

        refs = self._refs(read.subject, read.new_text, read.quoted)
        amounts = extract_amounts(read.subject + "\n" + read.new_text)
        common = {
            "invoice_refs": refs,
            "amounts": list(dict.fromkeys(format_amount(a.amount) for a in amounts)),
            "currency": amounts[0].currency if amounts else None,
        }
        findings = [self._finding(intent, read, today, common) for intent in order]
        if not findings:
            findings = [self._fallback(read, common)]

        primary = findings[0]
        runner_up = findings[1].confidence if len(findings) > 1 else 0.0
        if primary.confidence < LOW_CONFIDENCE or (
            primary.confidence < 0.7 and primary.confidence - runner_up < 0.05
        ):
            read.reading.flag(Flag.low_confidence)
        return Classification(
            intents=findings,
            language=detect_language(read.new_text or read.subject, message.language_hint),
            flags=read.reading.flags,
            classifier=self.name,
        )

    @staticmethod
    def _read(message: ClassifierInput) -> _Message:
        reading = _Reading()
        subject, subject_weight = _split_subject(message.subject[:MAX_SUBJECT_CHARS])
        new_text = message.new_text if message.new_text.strip() else message.text
        quoted = _quoted_part(message.text, message.new_text)[:MAX_TEXT_CHARS]
        new_text = new_text[:MAX_TEXT_CHARS]

        main = _sentences(subject, subject_weight, "subject", reading)
        main += _sentences(new_text, 1.0, "new", reading)
        cues = _region_cues(main, quoted=False)
        for sentence in main:
            _score_sentence(sentence, reading, quoted=False, cues=cues)
        quoted_reading = _Reading()
        history = _sentences(quoted, _QUOTED_WEIGHT, "quoted", reading)
        cues = _region_cues(history, quoted=True)
        for sentence in history:
            _score_sentence(sentence, quoted_reading, quoted=True, cues=cues)
        scores = {intent: _combine(h.values()) for intent, h in reading.hits.items()}
        return _Message(subject, new_text, quoted, main, reading, quoted_reading, scores)

    @staticmethod
    def _flag(read: _Message) -> None:
        reading, main = read.reading, read.main
        main_low = fold("\n".join(s.text for s in main))
        if any(_LEGAL.search(s.low) for s in main):
            reading.flag(Flag.legal_language)
        if any(_INSOLVENCY.search(s.low) for s in main):
            reading.flag(Flag.insolvency)
        if reading.negated_payment:
            reading.flag(Flag.negated_payment)
        if _SHORT_PAYMENT.search(main_low) and read.scores.get(Intent.payment_confirmation, 0):
            reading.flag(Flag.short_payment)
        if _CONDITIONAL_PAYMENT.search(main_low):
            reading.flag(Flag.conditional_payment)
        paragraphs = dict.fromkeys(s.paragraph for s in main)
        if any(_EMAIL.search(p) and _SEND_VERB.search(fold(p)) for p in paragraphs):
            reading.flag(Flag.email_address_in_body)

    @staticmethod
    def _weigh_dispute(read: _Message) -> None:
        """Legal words make a dispute; a complaint in quoted history adds a secondary one."""
        score = read.scores.get(Intent.dispute, 0.0)
        legal = [s for s in read.main if _LEGAL.search(s.low)]
        if legal:
            score = max(score, 0.6)
            read.evidence[Intent.dispute] = [legal[0].text.strip()[:_EVIDENCE_MAX]]
        quoted_hits = read.quoted_reading.hits.get(Intent.dispute, {})
        quoted_score = min(_combine(quoted_hits.values()), _QUOTED_CAP)
        if score < MIN_SCORE and quoted_score >= 0.2:
            score = max(score, quoted_score, MIN_SCORE)
            read.reading.flag(Flag.dispute_in_quoted_text)
            read.reading.hits.setdefault(Intent.dispute, {}).update(quoted_hits)
        if score:
            read.scores[Intent.dispute] = score

    def _finding(
        self, intent: Intent, read: _Message, today: date, common: dict[str, Any]
    ) -> IntentFinding:
        hits = sorted(read.reading.hits.get(intent, {}).values(), key=lambda h: -h.score)
        evidence = list(read.evidence.get(intent, []))
        sentences: list[_Sentence] = []
        for hit in hits:
            quote = _evidence(hit)
            if quote and quote not in evidence and len(evidence) < 3:
                evidence.append(quote)
            if hit.sentence not in sentences:
                sentences.append(hit.sentence)
        cache: dict[int, list[FoundDate]] = {}

        def dates_of(sentence: _Sentence) -> list[FoundDate]:
            if id(sentence) not in cache:
                cache[id(sentence)] = extract_dates(sentence.text, today)
            return cache[id(sentence)]

        promised = requested = None
        if intent is Intent.promise_to_pay:
            promised = self._promised_date(sentences, read.main, dates_of, today)
        if intent is Intent.due_date_change:
            requested = self._requested_date(hits, dates_of, today)
        return IntentFinding(
            intent=intent,
            confidence=round(min(read.scores[intent], MAX_CONFIDENCE), 3),
            evidence=evidence,
            dates=sorted({d.value for s in sentences for d in dates_of(s)}),
            promised_date=promised,
            requested_due_date=requested,
            **common,
        )

    def _fallback(self, read: _Message, common: dict[str, Any]) -> IntentFinding:
        """No cue fired: a sentence naming the bill with a word of mismatch is a weak dispute,
        anything else is ``other``."""
        complaint = next(
            (
                s
                for s in read.main
                if not s.injected and _BILL_NOUN.search(s.low) and _MISMATCH.search(s.low)
            ),
            None,
        )
        if complaint is not None:
            read.reading.flag(Flag.low_confidence)
            evidence = [complaint.text.strip()[:_EVIDENCE_MAX]]
            return IntentFinding(intent=Intent.dispute, confidence=0.4, evidence=evidence, **common)
        strongest = max(read.scores.values(), default=0.0)
        return IntentFinding(
            intent=Intent.other,
            confidence=0.6 if strongest < 0.2 else 0.4,
            evidence=[self._first_line(read.new_text or read.subject)],
            **common,
        )

    @staticmethod
    def _order(present: list[Intent], scores: dict[Intent, float]) -> list[Intent]:
        def key(intent: Intent) -> tuple[float, int]:
            return (-round(scores[intent], 2), _IMPORTANCE.index(intent))

        ordered = sorted(present, key=key)
        head: list[Intent] = []
        if Intent.dispute in ordered and scores[Intent.dispute] >= DISPUTE_FIRST:
            head.append(Intent.dispute)
        if Intent.spam_or_phishing in ordered and scores[Intent.spam_or_phishing] >= SPAM_FIRST:
            head.append(Intent.spam_or_phishing)
        rest = [i for i in ordered if i not in head and i is not Intent.acknowledgement]
        tail = [Intent.acknowledgement] if Intent.acknowledgement in ordered else []
        return head + rest + tail

    @staticmethod
    def _refs(subject: str, new_text: str, quoted: str) -> list[str]:
        main = subject + "\n" + new_text
        refs = [r.text for r in extract_invoice_refs(main)]
        refs += [m.text for m in extract_month_refs(main)]
        if not refs:
            refs = [r.text for r in extract_invoice_refs(quoted)]
        return list(dict.fromkeys(refs))

    @staticmethod
    def _promised_date(
        sentences: list[_Sentence],
        main: list[_Sentence],
        dates_of: Callable[[_Sentence], list[FoundDate]],
        today: date,
    ) -> date | None:
        candidates: list[_Sentence] = []
        for sentence in sentences:
            candidates.append(sentence)
            if sentence in main:
                index = main.index(sentence)
                if index + 1 < len(main) and main[index + 1].region == sentence.region:
                    candidates.append(main[index + 1])
        for sentence in candidates:
            found = dates_of(sentence)
            future = [d.value for d in found if d.value >= today]
            if future:
                return future[0]
        return None

    @staticmethod
    def _requested_date(
        hits: list[_Hit], dates_of: Callable[[_Sentence], list[FoundDate]], today: date
    ) -> date | None:
        fallback: date | None = None
        for hit in hits:
            for d in dates_of(hit.sentence):
                if d.value < today:
                    continue
                if d.start >= hit.start and _TO_DATE.search(hit.sentence.low[: d.start]):
                    return d.value
                if fallback is None:
                    fallback = d.value
        return fallback

    @staticmethod
    def _first_line(text: str) -> str:
        for line in text.splitlines():
            if len(line.strip()) > 3:
                return line.strip()[:_EVIDENCE_MAX]
        return text.strip()[:_EVIDENCE_MAX]
