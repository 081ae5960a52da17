"""Recognise machine mail before any model sees it: bounces, read receipts, auto-replies, lists.

The checks run in this order and the first that matches wins:

1. **Delivery reports** (``MachineKind.bounce``): RFC 3464 ``multipart/report;
   report-type=delivery-status`` (or any ``message/delivery-status`` part), ARF feedback reports
   (RFC 5965), ``X-Failed-Recipients``, and the non-standard bounces of real MTAs: a
   mailer-daemon/postmaster or null (``Return-Path: <>``) sender together with a bounce subject
   or a known MTA sentence (Postfix, Sendmail, Exim, qmail, Exchange, Gmail, Domino, ...).
   Many bounces also carry ``Auto-Submitted: auto-replied``, which is why this comes first.
   ``BounceInfo.action`` tells a failure (``failed``) from a delay warning (``delayed``: the
   sending server is still retrying; machine mail, not a failure), a success notice
   (``delivered``) and an ARF abuse report (``complaint``: the message *was* delivered and the
   recipient flagged it as spam; worth a person's look, but no delivery failure).
2. **Read receipts** (``read_receipt``): RFC 8098 ``message/disposition-notification``.
3. **Auto-replies** (``auto_reply``): ``Auto-Submitted: auto-replied``, ``X-Autoreply``,
   ``X-Autorespond`` and friends, ``Precedence: auto_reply``, and subjects such as "Out of
   office", "Automatic reply", "Abwesenheitsnotiz", "Automatisch antwoord", "Réponse
   automatique", "Respuesta automática". Weaker hints (``Auto-Submitted: auto-generated``,
   ``X-Auto-Response-Suppress``, ``Precedence: bulk/junk``) count only together with an
   out-of-office or acknowledgement sentence in the body: a client's accounts-payable system
   sends remittance advices and invoice rejections as auto-generated mail, and those must reach
   the classifier. The stated return date of an out-of-office (EN/DE/NL/FR/ES) becomes
   ``auto_reply_until``.
4. **Lists** (``mailing_list``): ``List-Id``, ``List-Unsubscribe`` or ``Precedence: bulk/list``
   on a message that is not a reply (a client's AP mailbox may be a group that adds list
   headers to real replies).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from billing.mail import BounceInfo, MachineKind


@dataclass(frozen=True, slots=True)
class MachineEvidence:
    """What the prefilter looks at, extracted from a message by the parser.

    ``headers`` maps lower-cased field names to decoded values (top of the message first).
    ``delivery_status``, ``feedback_reports`` and ``disposition_notifications`` hold the text of
    the corresponding report parts; ``returned_message_ids``/``returned_headers`` come from a
    returned ``message/rfc822`` or ``text/rfc822-headers`` part.
    """

    headers: Mapping[str, tuple[str, ...]]
    subject: str
    from_addr: str
    from_name: str = ""
    content_type: str = "text/plain"
    report_types: tuple[str, ...] = ()
    delivery_status: tuple[str, ...] = ()
    feedback_reports: tuple[str, ...] = ()
    disposition_notifications: tuple[str, ...] = ()
    returned_message_ids: tuple[str, ...] = ()
    returned_headers: tuple[str, ...] = ()
    text: str = ""
    sent_at: dt.datetime | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    has_attached_message: bool = False

    def header(self, name: str) -> str | None:
        """First value of a header field, or None."""
        values = self.headers.get(name.lower())
        return values[0] if values else None


@dataclass(frozen=True, slots=True)
class MachineVerdict:
    """The prefilter's answer: the kind of machine mail, why, and what it extracted."""

    kind: MachineKind
    reason: str
    bounce: BounceInfo | None = None
    auto_reply_until: dt.date | None = None


def classify_machine_mail(evidence: MachineEvidence) -> MachineVerdict:
    """Classify a message as bounce, read receipt, auto-reply, list mail or none (a person)."""
    for check in (_delivery_report, _read_receipt, _auto_reply, _mailing_list):
        verdict = check(evidence)
        if verdict is not None:
            return verdict
    auto_submitted = (evidence.header("auto-submitted") or "").strip().lower()
    if auto_submitted and auto_submitted != "no":
        return MachineVerdict(
            MachineKind.none,
            f"Auto-Submitted: {auto_submitted[:40]} without an auto-reply text; "
            "left to the classifier (e.g. an AP system's remittance advice)",
        )
    return MachineVerdict(MachineKind.none, "")


# --------------------------------------------------------------------------------------------
# Bounces
# --------------------------------------------------------------------------------------------

_DAEMON_LOCALPARTS = frozenset(
    {
        "mailer-daemon",
        "mailerdaemon",
        "mailer_daemon",
        "mail-daemon",
        "maildaemon",
        "postmaster",
        "mdaemon",
        "mail.delivery.system",
        "mail-delivery",
        "mailerdeamon",
        "bounce",
        "bounces",
        "majordomo",
    }
)
_DAEMON_NAME = re.compile(
    r"mail\s*delivery\s*(?:sub)?system|mail\s*delivery\s*service|mailer[-_ ]?daemon|postmaster"
    r"|mail\s*administrator|system\s*administrator|delivery\s*status\s*notification"
    r"|mail\s*system|e-?mail\s*delivery|mail\s*transport\s*system",
    re.IGNORECASE,
)
_SUBJECT_TAG = r"^\s*(?:\[[^\]]{0,60}\]\s*)?"
# A person replying to or forwarding a bounce ("FW: Undeliverable: ...") is not a bounce.
_REPLY_PREFIX = re.compile(
    r"^\s*(?:\[[^\]]{0,60}\]\s*)?(?:re|aw|fw|fwd|wg|tr|rv|sv|vs|ant|odp|antw|rif|r)\s*(?:\[\d+\])?\s*:",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver(?:ed|able)|non[- ]?deliver|not\s+deliver|nondeliverable|returned\s+mail"
    r"|return(?:ed)?\s+to\s+sender|mail\s+delivery\s+(?:failed|failure|problem|error|report|status)"
    r"|delivery\s+(?:status|failure|failed|notification|has\s+failed|problem|report|error"
    r"|final\s+failure|delayed|incomplete)|failure\s+notice|failed\s+mail|mail\s+failure"
    r"|message\s+(?:not\s+delivered|delivery\s+failed|status\s*-\s*undeliverable|you\s+sent\s+blocked"
    r"|could\s+not\s+be\s+delivered|delivery\s+failure)"
    r"|could\s+not\s+send\s+(?:message|mail)|warning\W+could\s+not\s+send|mail\s+system\s+error"
    r"|delayed\s+mail|message\s+\S+\s+delayed|unzustellbar|nicht\s+zustellbar|unzustellbare"
    r"|onbestelbaar|niet\s+afgeleverd|non\s+remis|non\s+distribuable|échec\s+de\s+(?:la\s+)?remise"
    r"|no\s+se\s+puede\s+entregar|no\s+entregado|imposible\s+entregar|non\s+recapitabile"
    r"|email\s+bounce|bounce(?:d)?\s+(?:mail|message|notification)|rejected\s+(?:mail|message)"
    r"|mail\s+could\s+not\s+be\s+delivered|error\s+sending\s+message|sending\s+failed"
    r"|undelivered\s+mail|returned\s+message|permanent\s+(?:delivery\s+)?(?:error|failure)"
    r"|notice\s+of\s+delivery\s+failure|nicht\s+zugestellt|mail\s+not\s+delivered"
    r"|unable\s+to\s+deliver|message\s+rejected|mensaje\s+no\s+entregado|loop\s+alert"
    r"|are\s+not\s+(?:a\s+)?member|メールエラー|配信エラー|送信エラー|配送エラー|不達|未達|エラー通知"
    r"|^\s*dsn\b|\bndr\b",
    re.IGNORECASE,
)
# Sentences only mail delivery software writes (Postfix, Sendmail, Exim, qmail, Exchange, Gmail,
# Domino, fml, Japanese carriers ...).
_MTA_TEXT = re.compile(
    r"this\s+is\s+the\s+mail\s+system\s+at\s+host"
    r"|could\s+not\s+be\s+delivered\s+to\s+one\s+or\s+more\s+(?:of\s+its\s+)?recipients"
    r"|(?:message|mail)\s+(?:that\s+)?you\s+sent\s+(?:could\s+not\s+be|was\s+not|has\s+not\s+been)"
    r"\s+(?:yet\s+)?delivered"
    r"|following\s+address(?:es|\(es\))?\s+(?:had\s+permanent\s+fatal\s+errors|failed"
    r"|had\s+(?:delivery\s+)?(?:errors|problems|fatal\s+errors))"
    r"|created\s+automatically\s+by\s+mail\s+delivery\s+(?:software|system)"
    r"|this\s+is\s+the\s+qmail-send\s+program|wasn'?t\s+able\s+to\s+deliver\s+your\s+message"
    r"|delivery\s+to\s+the\s+following\s+recipients?\s+(?:failed|was\s+aborted|has\s+been\s+delayed)"
    r"|delivery\s+has\s+failed\s+to\s+these\s+recipients"
    r"|did\s+not\s+reach\s+(?:some\s+or\s+all\s+of\s+)?the\s+(?:intended|following)\s+recipient"
    r"|not\s+a\s+valid\s+(?:user|recipient|address|mailbox)|recipient\s+name\s+is\s+not\s+recognized"
    r"|not\s+a\s+member\s+of\s+(?:this|the)\s+(?:mailing\s+)?list|non-?member\s+post"
    r"|duplicated\s+message-id|送信できませんでした|配信できませんでした|届きませんでした|宛先不明"
    r"|transcript\s+of\s+session\s+follows|smtp\s+error\s+from\s+remote"
    r"|remote\s+(?:server|host)\s+(?:replied|said)|said:\s*[45]\d\d|diagnostic-code:"
    r"|user\s+unknown|unknown\s+user|no\s+such\s+(?:user|mailbox|recipient)"
    r"|mailbox\s+(?:unavailable|not\s+found|is\s+full|does\s+not\s+exist|disabled)"
    r"|recipient\s+address\s+rejected|relay(?:ing)?\s+(?:access\s+)?denied"
    r"|email\s+account\s+that\s+you\s+tried\s+to\s+reach|quota\s+exceeded|over\s+quota"
    r"|unzustellbar|konnte\s+nicht\s+zugestellt|kon\s+niet\s+worden\s+bezorgd"
    r"|n'a\s+pas\s+pu\s+être\s+remis|no\s+se\s+ha\s+podido\s+entregar"
    r"|still\s+being\s+retried|delivery\s+attempts\s+will\s+continue"
    r"|(?:message|e-?mail)\s+(?:couldn'?t|could\s+not|cannot|can'?t)\s+be\s+delivered"
    r"|could\s+not\s+be\s+delivered\s+to|unable\s+to\s+deliver\s+(?:your\s+)?(?:message|mail)"
    r"|\b[45]\d\d[ -]#?[45]\.\d{1,3}\.\d{1,3}\b",
    re.IGNORECASE,
)
# Words a person may also write ("the invoice was rejected"); they count only together with a
# mailer-daemon or null sender.
_FAILURE_WORDS = re.compile(
    r"undeliverable|was\s+rejected|could\s+not\s+deliver|not\s+be\s+delivered|rejected\s+your"
    r"|delivery\s+(?:status\s+notification|failure|failed|problem)|permanent\s+(?:fatal\s+)?error"
    r"|mailbox\s+full|host\s+unknown|returned\s+to\s+sender|message\s+was\s+returned"
    r"|has\s+not\s+yet\s+been\s+delivered|will\s+(?:continue\s+to\s+)?retry|account\s+disabled"
    r"|invalid\s+(?:user|recipient|mailbox)|address\s+rejected|nicht\s+zugestellt|存在しません"
    r"|status:\s*[45]\.\d|(?<![\d.])5\.\d\.\d{1,3}(?![\d.])|(?<![\d.])55[0-4][ -]",
    re.IGNORECASE,
)
_DELAY = re.compile(
    r"delayed\s+mail|still\s+being\s+retried|delivery\s+(?:has\s+been\s+|is\s+)?delayed"
    r"|has\s+not\s+(?:yet\s+)?been\s+delivered|will\s+(?:continue\s+to\s+)?(?:retry|try)"
    r"|warning\W+(?:could\s+not\s+send|message\s+still\s+undelivered)"
    r"|this\s+is\s+a\s+warning\s+message\s+only|no\s+action\s+is\s+required\s+on\s+your\s+part"
    r"|delivery\s+status\s+notification\s+\(delay\)|you\s+do\s+not\s+need\s+to\s+resend"
    r"|verzögert|vertraagd|retardé|retrasad",
    re.IGNORECASE,
)
_EXPLICIT_DELAY = re.compile(
    r"warning\s+message\s+only|do\s+not\s+need\s+to\s+resend|no\s+action\s+is\s+required"
    r"|will\s+be\s+retried|still\s+being\s+retried|delivery\s+attempts\s+will\s+continue"
    r"|has\s+not\s+yet\s+been\s+delivered|\(delay\)|delivery\s+delayed|delayed\s+mail"
    r"|could\s+not\s+send\s+(?:mail|message)\s+for\s+(?:the\s+)?past",
    re.IGNORECASE,
)
_FINAL_FAILURE = re.compile(
    r"permanent(?:ly)?|fatal|gave\s+up|giving\s+up|could\s+not\s+be\s+delivered|undeliverable"
    r"|cannot\s+send\s+message\s+for|has\s+been\s+returned|will\s+not\s+be\s+delivered"
    r"|message\s+expired|retry\s+time(?:out)?\s+exceeded|returned\s+mail|failed",
    re.IGNORECASE,
)
_RETURNED_MARKER = re.compile(
    r"^[ \t]*(?:(?:-{2,}|\|-{2,}|={2,}|_{2,}|\*{2,})[ \t]*"
    r"(?:original|returned|undelivered|unsent|bounced)"
    r"|(?:-{2,}[ \t]*)?(?:this\s+is\s+a\s+copy\s+of\s+the\s+message"
    r"|below\s+this\s+line\s+is\s+a\s+copy"
    r"|original\s+message\s+(?:follows|headers|below)|unsent\s+message\s+follows"
    r"|message\s+headers?\s+follows?|copy\s+of\s+the\s+original|message\s+text\s+follows"
    r"|headers\s+of\s+the\s+(?:original|returned)|bounced\s+e-?mail\s*:)"
    r"|(?:the\s+)?(?:original|returned|undelivered)\s+message\s*:?[ \t-]*$)",
    re.IGNORECASE | re.MULTILINE,
)
_EMAIL = re.compile(
    r"[A-Za-z0-9._%+!#$&'*/=?^`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,250}[A-Za-z0-9])?\.[A-Za-z]{2,24}"
)
_ENHANCED_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.]*\d)")
_SMTP_REPLY = re.compile(r"(?<![\d.])([245])\d\d(?=[ -])")
_RECIPIENT_LINE = re.compile(r"^\s*<([^<>\s]+@[^<>\s]+)>\s*:?")
_RECIPIENT_INTRO = re.compile(
    r"following\s+(?:address(?:es|\(es\))?|recipients?)|addresses\s+had\s+permanent"
    r"|failed\s+recipient|could\s+not\s+be\s+delivered\s+to|delivery\s+to\s+the\s+following"
    r"|recipient(?:\(s\))?:|target\s+mail\s+address|was\s+not\s+delivered\s+to"
    r"|your\s+message\s+to|intended\s+recipients?|original-recipient|final-recipient"
    r"|error\s+delivering\s+your\s+(?:mail|message)\s+to|rcpt\s+to\s*:|delivery\s+to\s*:",
    re.IGNORECASE,
)


def _null_sender(evidence: MachineEvidence) -> bool:
    return_path = (evidence.header("return-path") or "").strip()
    return return_path in {"<>", "", "<<>>"} and evidence.header("return-path") is not None


_LIST_MANAGER = re.compile(r"(?:-admin|-owner|-request|-bounces?)$|^owner-", re.IGNORECASE)


def _list_manager(evidence: MachineEvidence) -> bool:
    """A list manager's address (``neko-admin@``, ``owner-list@``); people use such names too."""
    return bool(_LIST_MANAGER.search(evidence.from_addr.split("@", 1)[0]))


def _daemon_sender(evidence: MachineEvidence) -> bool:
    local = evidence.from_addr.split("@", 1)[0].lower()
    squashed = local.replace("_", "").replace("-", "").replace(".", "")
    if (
        local in _DAEMON_LOCALPARTS
        or squashed in {"mailerdaemon", "postmaster", "maildaemon", "maildeliverysystem"}
        or local.startswith(("mailer-daemon", "postmaster"))
    ):
        return True
    raw_from = evidence.header("from") or ""
    if not evidence.from_addr and re.search(r"mailer-daemon|postmaster|<>", raw_from, re.I):
        return True
    return bool(_DAEMON_NAME.search(evidence.from_name or raw_from))


def _report_section(text: str) -> str:
    """The notification text before the copy of the returned message."""
    head = text[:20_000]
    match = _RETURNED_MARKER.search(head)
    return head[: match.start()] if match and match.start() > 40 else head


def _delivery_report(evidence: MachineEvidence) -> MachineVerdict | None:
    if "feedback-report" in evidence.report_types or evidence.feedback_reports:
        return _complaint(evidence)
    if "delivery-status" in evidence.report_types or evidence.delivery_status:
        verdict = _dsn(evidence)
        if verdict is not None:
            return verdict
    notification = _amazon_notification(evidence)
    if notification is not None:
        return notification
    if evidence.has_attached_message and _COMPLAINT_SUBJECT.search(evidence.subject):
        return _complaint(evidence)
    return _nonstandard_bounce(evidence)


_COMPLAINT_SUBJECT = re.compile(
    _SUBJECT_TAG + r"(?:complaint\s+about\s+message|e-?mail\s+feedback\s+report|abuse\s+report"
    r"|spam\s+(?:complaint|report))",
    re.IGNORECASE,
)
_SES_TYPE = re.compile(r'"notificationType"\s*:\s*"(Bounce|Complaint|Delivery|DeliveryDelay)"')


def _amazon_notification(evidence: MachineEvidence) -> MachineVerdict | None:
    """Amazon SES event notifications delivered by SNS e-mail (a JSON document as the body)."""
    match = _SES_TYPE.search(evidence.text[:100_000])
    if match is None or not re.search(r"amazon(?:aws|ses)\.com$", evidence.from_addr):
        return None
    kind = match.group(1)
    start, end = evidence.text.find("{"), evidence.text.rfind("}")
    data: dict[str, Any] = {}
    if 0 <= start < end:
        try:
            loaded = json.loads(evidence.text[start : end + 1])
        except ValueError:
            loaded = {}
        data = loaded if isinstance(loaded, dict) else {}

    def section(name: str) -> dict[str, Any]:
        value = data.get(name)
        return value if isinstance(value, dict) else {}

    def items(value: object) -> list[Any]:
        return value if isinstance(value, list) else []

    mail = section("mail")
    message_id = None
    for header in items(mail.get("headers")):
        if isinstance(header, dict) and str(header.get("name", "")).lower() == "message-id":
            message_id = re.sub(r"^<|>$", "", str(header.get("value", "")).strip()) or None
    recipients: list[str] = []
    status: str | None = None
    diagnostic: str | None = None
    permanent = False
    action = {"Bounce": "failed", "Complaint": "complaint", "Delivery": "delivered"}.get(
        kind, "delayed"
    )
    if kind == "Bounce":
        bounce = section("bounce")
        permanent = str(bounce.get("bounceType", "")).lower() == "permanent"
        for entry in items(bounce.get("bouncedRecipients")):
            if isinstance(entry, dict):
                recipients.append(str(entry.get("emailAddress", "")).lower())
                status = status or (str(entry["status"]) if entry.get("status") else None)
                diagnostic = diagnostic or (
                    str(entry["diagnosticCode"]) if entry.get("diagnosticCode") else None
                )
    elif kind == "Complaint":
        for entry in items(section("complaint").get("complainedRecipients")):
            if isinstance(entry, dict):
                recipients.append(str(entry.get("emailAddress", "")).lower())
    else:
        key = "delivery" if kind == "Delivery" else "deliveryDelay"
        entries = items(section(key).get("recipients")) or items(
            section(key).get("delayedRecipients")
        )
        for entry in entries:
            address = entry.get("emailAddress", "") if isinstance(entry, dict) else entry
            recipients.append(str(address).lower())
    info = BounceInfo(
        recipients=_unique(recipients),
        status=status,
        diagnostic=diagnostic,
        original_message_id=message_id or _original_message_id(evidence),
        permanent=permanent,
        action=action,
    )
    return MachineVerdict(
        MachineKind.bounce, f"Amazon SES {kind.lower()} notification ({action})", info
    )


def _complaint(evidence: MachineEvidence) -> MachineVerdict:
    fields = _fields("\n\n".join(evidence.feedback_reports))
    recipients = [
        _strip_address_type(v)
        for key in ("original-rcpt-to", "removal-recipient")
        for v in fields.get(key, [])
    ]
    feedback_type = (fields.get("feedback-type") or ["abuse"])[0]
    original = _original_message_id(evidence, fields.get("original-message-id", []))
    bounce = BounceInfo(
        recipients=_unique(r for r in recipients if r),
        status=None,
        diagnostic=f"feedback-type: {feedback_type}",
        original_message_id=original,
        permanent=False,
        action="complaint",
    )
    return MachineVerdict(
        MachineKind.bounce,
        f"ARF feedback report ({feedback_type}): the message was delivered and reported as "
        "spam; not a delivery failure",
        bounce,
    )


def _fields(text: str) -> dict[str, list[str]]:
    """Parse ``Name: value`` lines (with folded continuations) into lower-cased lists."""
    result: dict[str, list[str]] = {}
    last: str | None = None
    for line in text.splitlines():
        if line[:1] in {" ", "\t"} and last is not None:
            result[last][-1] += " " + line.strip()
            continue
        match = re.match(r"^([A-Za-z][A-Za-z0-9-]{0,60})\s*:\s*(.*)$", line)
        if match:
            last = match.group(1).lower()
            result.setdefault(last, []).append(match.group(2).strip())
        else:
            last = None
    return result


def _strip_address_type(value: str) -> str:
    value = value.split(";", 1)[1] if ";" in value else value
    value = value.strip().strip("<>").strip()
    match = _EMAIL.search(value)
    return match.group(0).lower() if match else value.lower()


@dataclass
class _Recipient:
    address: str = ""
    action: str = ""
    status: str = ""
    diagnostic: str = ""


def _dsn_recipients(text: str) -> list[_Recipient]:
    records: list[_Recipient] = []
    current: _Recipient | None = None
    pending_original = ""
    last: str | None = None
    for line in text.splitlines():
        if line[:1] in {" ", "\t"} and current is not None and last == "diagnostic-code":
            current.diagnostic += " " + line.strip()
            continue
        match = re.match(r"^\s*([A-Za-z][A-Za-z0-9-]{0,60})\s*:\s*(.*)$", line)
        if not match:
            last = None
            continue
        name, value = match.group(1).lower(), match.group(2).strip()
        last = name
        if name == "original-recipient":
            pending_original = value
        elif name == "final-recipient" or (name == "x-actual-recipient" and current is None):
            current = _Recipient(address=_strip_address_type(value or pending_original))
            records.append(current)
            pending_original = ""
        elif (
            current is None and pending_original and name in {"action", "status", "diagnostic-code"}
        ):
            current = _Recipient(address=_strip_address_type(pending_original))
            records.append(current)
            pending_original = ""
        if current is None or name in {"original-recipient", "final-recipient"}:
            continue
        if name == "action":
            current.action = value.lower().split()[0] if value else ""
        elif name == "status":
            found = _ENHANCED_STATUS.search(value)
            current.status = ".".join(found.groups()) if found else value[:20]
        elif name == "diagnostic-code":
            current.diagnostic = value
    return records


def _dsn(evidence: MachineEvidence) -> MachineVerdict | None:
    records = [r for text in evidence.delivery_status for r in _dsn_recipients(text)]
    actions = {r.action for r in records if r.action}
    if "failed" in actions:
        action = "failed"
    elif "delayed" in actions:
        action = "delayed"
    elif actions & {"delivered", "relayed", "expanded"}:
        action = "delivered"
    else:
        statuses = {r.status[:1] for r in records if r.status}
        report = _report_section(evidence.text)
        if "5" in statuses:
            action = "failed"
        elif "4" in statuses or _DELAY.search(evidence.subject + "\n" + report):
            action = (
                "failed"
                if _FINAL_FAILURE.search(evidence.subject) and "4" not in statuses
                else "delayed"
            )
        elif "2" in statuses:
            action = "delivered"
        elif (
            records
            or _BOUNCE_SUBJECT.search(evidence.subject)
            or _MTA_TEXT.search(report)
            or _FAILURE_WORDS.search(report)
        ):
            action = "failed"
        else:
            return None
    chosen = [r for r in records if r.action == action] or records
    if not chosen:
        fallback = _nonstandard_bounce(evidence, force=True)
        if fallback is not None and fallback.bounce is not None and action != "failed":
            info = fallback.bounce
            return MachineVerdict(
                MachineKind.bounce,
                f"delivery-status report ({action})",
                BounceInfo(
                    info.recipients,
                    info.status,
                    info.diagnostic,
                    info.original_message_id,
                    permanent=False,
                    action=action,
                ),
            )
        return fallback
    status = next((r.status for r in chosen if r.status), None)
    diagnostic = next((r.diagnostic for r in chosen if r.diagnostic), None)
    if diagnostic:
        diagnostic = re.sub(
            r"^\s*(?:smtp|x-[\w-]+|x-unix|x-postfix)\s*;\s*", "", diagnostic, flags=re.I
        )
        diagnostic = diagnostic[:500]
    report = _report_section(evidence.text)
    if diagnostic is None:
        diagnostic = _diagnostic_from(report)
    if status is None:
        status = _status_from(diagnostic or "") or _status_from(report) or _reply_code(diagnostic)
    recipients = _unique(r.address for r in chosen if r.address)
    if not recipients:
        recipients = _recipients_from_text(report, evidence)
    bounce = BounceInfo(
        recipients=recipients,
        status=status,
        diagnostic=diagnostic,
        original_message_id=_original_message_id(evidence),
        permanent=action == "failed" and _is_permanent(status, diagnostic, report),
        action=action,
    )
    label = {
        "failed": "delivery failure",
        "delayed": "delivery delayed (warning only, the server is still retrying)",
        "delivered": "delivery success notification",
    }[action]
    return MachineVerdict(MachineKind.bounce, f"RFC 3464 delivery-status report: {label}", bounce)


def _status_from(text: str) -> str | None:
    match = _ENHANCED_STATUS.search(text)
    if match:
        return ".".join(match.groups())
    return None


def _reply_code(diagnostic: str | None) -> str | None:
    """The SMTP reply code (``550``) of a diagnostic line, when it has no enhanced status."""
    match = re.search(r"(?<![\d.])([45]\d\d)(?=[ -])", diagnostic or "")
    return match.group(1) if match else None


def _diagnostic_from(report: str) -> str | None:
    for line in report.splitlines():
        stripped = line.strip()
        if len(stripped) < 6:
            continue
        if _ENHANCED_STATUS.search(stripped) or _SMTP_REPLY.search(stripped):
            return stripped[:500]
    for line in report.splitlines():
        stripped = line.strip()
        if re.search(
            r"user\s+unknown|no\s+such|does\s+not\s+exist|mailbox|quota|rejected|denied|"
            r"not\s+found|unknown|invalid|full|reason",
            stripped,
            re.I,
        ):
            return stripped[:500]
    return None


def _is_permanent(status: str | None, diagnostic: str | None, report: str) -> bool:
    if status:
        return status.startswith("5")
    code = _SMTP_REPLY.search(diagnostic or "") or _SMTP_REPLY.search(report)
    if code:
        return code.group(1) == "5"
    return not re.search(
        r"temporar(?:y|ily)|try\s+again\s+later|transient|will\s+retry", report, re.IGNORECASE
    )


def _recipients_from_text(report: str, evidence: MachineEvidence) -> tuple[str, ...]:
    excluded = {evidence.from_addr.lower()}
    for name in ("to", "cc", "delivered-to"):
        for value in evidence.headers.get(name, ()):
            excluded.update(m.lower() for m in _EMAIL.findall(value))

    def usable(address: str) -> bool:
        address = address.lower()
        local = address.split("@", 1)[0]
        return address not in excluded and local not in _DAEMON_LOCALPARTS

    lines = report.splitlines()
    found: list[str] = []
    for line in lines:
        match = _RECIPIENT_LINE.match(line)
        if match and usable(match.group(1)):
            found.append(match.group(1).lower())
    if found:
        return _unique(found)
    for index, line in enumerate(lines):
        if _RECIPIENT_INTRO.search(line):
            window = "\n".join(lines[index : index + 8])
            found.extend(m.lower() for m in _EMAIL.findall(window) if usable(m))
            if found:
                return _unique(found)[:20]
    found = [m.lower() for m in _EMAIL.findall(report[:6000]) if usable(m)]
    if found:
        return _unique(found)[:5]
    # Last resort: the To of the returned message.
    returned = (
        "\n".join(evidence.returned_headers) or evidence.text[len(report) : len(report) + 20_000]
    )
    match = re.search(r"(?im)^[ \t]*to[ \t]*:(.{1,2000})$", returned)
    if match:
        found = [m.lower() for m in _EMAIL.findall(match.group(1)) if usable(m)]
    return _unique(found)[:5]


_INLINE_MESSAGE_ID = re.compile(r"(?im)^\s*Message-I[Dd]\s*:\s*<([^<>\s]{1,990})>")


def _original_message_id(evidence: MachineEvidence, extra: Sequence[str] = ()) -> str | None:
    if evidence.returned_message_ids:
        return evidence.returned_message_ids[0]
    for value in extra:
        match = re.search(r"<([^<>\s]+)>", value)
        if match:
            return match.group(1)
    match = _INLINE_MESSAGE_ID.search(evidence.text[:200_000])
    if match:
        return match.group(1)
    if evidence.in_reply_to:
        return evidence.in_reply_to
    if evidence.references:
        return evidence.references[-1]
    return None


def _nonstandard_bounce(evidence: MachineEvidence, *, force: bool = False) -> MachineVerdict | None:
    failed_header = evidence.header("x-failed-recipients")
    daemon = _daemon_sender(evidence)
    null_sender = _null_sender(evidence)
    auto = (evidence.header("auto-submitted") or "no").strip().lower() not in {"no", ""}
    if not (
        failed_header
        or force
        or daemon
        or null_sender
        or auto
        or evidence.has_attached_message
        or _list_manager(evidence)
    ):
        return None  # a person's mail: skip the expensive text checks
    report = _report_section(evidence.text)
    subject_hit = bool(
        _BOUNCE_SUBJECT.search(evidence.subject) and not _REPLY_PREFIX.match(evidence.subject)
    )
    mta_text = bool(_MTA_TEXT.search(report))
    failure_words = mta_text or bool(_FAILURE_WORDS.search(report))
    if failed_header:
        why = "X-Failed-Recipients header"
    elif force:
        why = "delivery-status report"
    elif (daemon or null_sender) and (subject_hit or failure_words):
        who = "mailer-daemon/postmaster sender" if daemon else "null return path"
        what = "bounce subject" if subject_hit else "MTA failure text"
        why = f"{who} with {what}"
    elif _list_manager(evidence) and (subject_hit or mta_text):
        why = "mailing-list manager rejecting the message"
    elif subject_hit and failure_words and (auto or evidence.has_attached_message):
        why = "bounce subject and MTA failure text"
    else:
        return None
    recipients: tuple[str, ...] = ()
    if failed_header:
        recipients = _unique(m.lower() for m in _EMAIL.findall(failed_header))
    if not recipients:
        recipients = _recipients_from_text(report, evidence)
    diagnostic = _diagnostic_from(report)
    status = _status_from(diagnostic or "") or _status_from(report) or _reply_code(diagnostic)
    head = evidence.subject + "\n" + report[:3000]
    delayed = not failed_header and (
        bool(_EXPLICIT_DELAY.search(head))
        or (
            bool(_DELAY.search(head))
            and not _FINAL_FAILURE.search(evidence.subject)
            and not re.search(r"permanent|fatal", report[:3000], re.I)
        )
    )
    action = "delayed" if delayed else "failed"
    bounce = BounceInfo(
        recipients=recipients,
        status=status,
        diagnostic=diagnostic,
        original_message_id=_original_message_id(evidence),
        permanent=action == "failed" and _is_permanent(status, diagnostic, report),
        action=action,
    )
    label = "delivery delayed (warning only)" if delayed else "delivery failure"
    return MachineVerdict(MachineKind.bounce, f"non-standard bounce ({why}): {label}", bounce)


def _unique(items: object) -> tuple[str, ...]:
    seen: list[str] = []
    for item in items:  # type: ignore[attr-defined]
        if item and item not in seen:
            seen.append(item)
    return tuple(seen)


# --------------------------------------------------------------------------------------------
# Read receipts
# --------------------------------------------------------------------------------------------


def _read_receipt(evidence: MachineEvidence) -> MachineVerdict | None:
    if "disposition-notification" in evidence.report_types or evidence.disposition_notifications:
        fields = _fields("\n\n".join(evidence.disposition_notifications))
        disposition = (fields.get("disposition") or [""])[0]
        detail = f" ({disposition})" if disposition else ""
        return MachineVerdict(
            MachineKind.read_receipt, f"RFC 8098 message disposition notification{detail}"
        )
    return None


# --------------------------------------------------------------------------------------------
# Auto-replies
# --------------------------------------------------------------------------------------------

_AUTO_HEADERS = (
    "x-autoreply",
    "x-autorespond",
    "x-autoresponder",
    "x-autoresponse",
    "x-auto-reply",
    "x-mail-autoreply",
    "x-autoreply-from",
    "x-vacation",
    "x-autogenerated",
    "x-fc-machinegenerated",
    "x-ms-exchange-generated-message-source",
)
_AUTO_SUBJECT = re.compile(
    _SUBJECT_TAG + r"(?:\[\s*)?(?:"
    r"out\s+of\s+(?:the\s+)?office|ooo\b|auto(?:matic|mated)?[\s_-]*(?:reply|response|respon[sd]er|antwort|answer)"
    r"|auto(?:matic|mated)?\s+acknowledge?ment|autorespons|autoreply|auto\s*:"
    r"|away\s+from\s+(?:the|my)\s+(?:office|desk)|(?:on\s+)?vacation\b|on\s+(?:annual\s+)?leave"
    r"|abwesenheits(?:notiz|meldung|nachricht)|automatische\s+antwort|abwesend|nicht\s+im\s+büro"
    r"|automatisch\s+antwoord|afwezig|afwezigheidsmelding|niet\s+aanwezig|buiten\s+kantoor"
    r"|réponse\s+automatique|reponse\s+automatique|absence\s+du\s+bureau|absent(?:e)?\b"
    r"|message\s+d'absence|respuesta\s+automática|respuesta\s+automatica|fuera\s+de\s+la\s+oficina"
    r"|ausente\b|risposta\s+automatica|fuori\s+(?:sede|ufficio)|automatyczna\s+odpowied"
    r"|resposta\s+automática|autosvar|automaattinen\s+vastaus"
    r")"
    r"|(?:\(|\[)\s*auto(?:matic)?\s*(?:reply|response)\s*(?:\)|\])",
    re.IGNORECASE,
)
# Auto-reply sentences; they count only together with a weak machine header, so they are kept
# to what people rarely write in a real reply ("we will pay as soon as possible" must not match).
_AUTO_BODY = re.compile(
    r"out\s+of\s+(?:the\s+)?office|away\s+from\s+(?:the|my)\s+(?:office|desk)"
    r"|(?:i\s+am|i'm|i\s+will\s+be)\s+(?:currently\s+)?(?:away|on\s+(?:annual\s+|parental\s+|sick\s+)?"
    r"leave|on\s+vacation|on\s+holiday|out\s+of\s+(?:the\s+)?office)"
    r"|(?:limited|no)\s+access\s+to\s+(?:my\s+)?e-?mails?|upon\s+my\s+return"
    r"|automatic(?:ally)?\s+(?:generated\s+)?(?:reply|response)|automated\s+(?:reply|response)"
    r"|this\s+is\s+an\s+auto(?:mated|matic)?[\s-]*(?:reply|response|message)|auto-?reply"
    r"|(?:please\s+)?do\s+not\s+reply\s+to\s+this\s+(?:e-?mail|message)"
    r"|ticket\s+(?:has\s+been\s+)?(?:created|opened)|your\s+ticket\s+(?:number|id)"
    r"|(?:i|we)\s+will\s+(?:endeavou?r\s+to\s+)?(?:reply|respond|get\s+back\s+to\s+you)\s+"
    r"(?:to\s+your\s+(?:e-?mail|message)\s+)?(?:as\s+soon\s+as\s+possible|upon|on\s+my\s+return)"
    r"|thank\s+you\s+for\s+(?:your|you)\s+e-?mail\.\s+i\s+will"
    r"|no\s+longer\s+in\s+use|is\s+no\s+longer\s+(?:with|at|monitored)"
    r"|nicht\s+im\s+büro|abwesenheit|bin\s+(?:im\s+)?urlaub|eingeschränkt(?:en)?\s+zugriff"
    r"|afwezig|niet\s+op\s+kantoor|met\s+vakantie|beperkt\s+toegang"
    r"|absent(?:e)?\s+du\s+bureau|je\s+suis\s+absent|accès\s+limité"
    r"|fuera\s+de\s+la\s+oficina|de\s+vacaciones|estaré\s+ausente|acceso\s+limitado",
    re.IGNORECASE,
)


def _auto_reply(evidence: MachineEvidence) -> MachineVerdict | None:
    auto_submitted = (evidence.header("auto-submitted") or "").strip().lower()
    precedence = (evidence.header("precedence") or "").strip().lower()
    suppress = (evidence.header("x-auto-response-suppress") or "").strip().lower()
    strong: str | None = None
    if auto_submitted.startswith("auto-replied"):
        strong = f"Auto-Submitted: {auto_submitted}"
    elif precedence.startswith("auto_reply") or precedence.startswith("auto-reply"):
        strong = f"Precedence: {precedence}"
    else:
        for name in _AUTO_HEADERS:
            value = evidence.header(name)
            if value is not None and value.strip().lower() not in {"no", "false", "0"}:
                if name == "x-autogenerated" and "reply" not in value.lower():
                    continue
                if name == "x-ms-exchange-generated-message-source" and not re.search(
                    r"mailbox\s+rules|auto", value, re.I
                ):
                    continue
                strong = f"{name}: {value.strip()[:40]}"
                break
    subject_hit = _AUTO_SUBJECT.search(evidence.subject)
    if strong is None and subject_hit:
        strong = f"auto-reply subject ({subject_hit.group(0).strip()[:40]!r})"
    if strong is None:
        weak = None
        if auto_submitted and auto_submitted != "no":
            weak = f"Auto-Submitted: {auto_submitted}"
        elif suppress and re.search(r"\b(?:all|oof|autoreply)\b", suppress):
            weak = f"X-Auto-Response-Suppress: {suppress[:40]}"
        elif precedence in {"bulk", "junk"}:
            weak = f"Precedence: {precedence}"
        elif _null_sender(evidence):
            weak = "null return path"
        body = evidence.text[:2000]
        if weak is None or not _AUTO_BODY.search(body):
            return None
        strong = f"{weak} with an automatic-reply text"
    until = extract_return_date(evidence.subject + "\n" + evidence.text[:4000], evidence.sent_at)
    reason = f"auto-reply ({strong})"
    if until is not None:
        reason += f"; away until {until.isoformat()}"
    return MachineVerdict(MachineKind.auto_reply, reason, auto_reply_until=until)


# --------------------------------------------------------------------------------------------
# Lists
# --------------------------------------------------------------------------------------------


def _mailing_list(evidence: MachineEvidence) -> MachineVerdict | None:
    list_id = evidence.header("list-id")
    unsubscribe = evidence.header("list-unsubscribe")
    precedence = (evidence.header("precedence") or "").strip().lower()
    if not (list_id or unsubscribe or precedence in {"bulk", "list", "junk"}):
        return None
    if evidence.in_reply_to:
        # A reply that came through a group mailbox (ap@client as a Google Group) is a
        # person's answer to us, whatever list headers the group added.
        return None
    if list_id:
        why = f"List-Id: {list_id[:80]}"
    elif unsubscribe:
        why = "List-Unsubscribe header"
    else:
        why = f"Precedence: {precedence}"
    return MachineVerdict(MachineKind.mailing_list, f"list or bulk mail ({why})")


# --------------------------------------------------------------------------------------------
# Return dates of out-of-office replies
# --------------------------------------------------------------------------------------------

_MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    [
        "january jan januar jänner jaenner januari janvier janv enero ene",
        "february feb februar februari février fevrier févr fevr febrero",
        "march mar märz maerz mär maart mrt mars marzo",
        "april apr avril avr abril abr",
        "may mai mei mayo",
        "june jun juni juin junio",
        "july jul juli juillet juil julio",
        "august aug augustus août aout agosto ago",
        "september sep sept septembre septiembre setiembre set",
        "october oct okt oktober octobre octubre",
        "november nov novembre noviembre",
        "december dec dez dezember décembre decembre déc diciembre dic",
    ],
    start=1,
):
    for _name in _names.split():
        _MONTHS[_name] = _number

_WEEKDAYS: dict[str, int] = {}
for _number, _names in enumerate(
    [
        "monday mon montag mo maandag ma lundi lun lunes",
        "tuesday tue tues dienstag di dinsdag mardi mar martes",
        "wednesday wed mittwoch mi woensdag wo mercredi mer miércoles miercoles",
        "thursday thu thur thurs donnerstag do donderdag jeudi jeu jueves",
        "friday fri freitag fr vrijdag vr vendredi ven viernes vie",
        "saturday sat samstag sa zaterdag za samedi sam sábado sabado",
        "sunday sun sonntag so zondag zo dimanche dim domingo dom",
    ]
):
    for _name in _names.split():
        _WEEKDAYS.setdefault(_name, _number)

_MONTH_RE = "|".join(sorted((re.escape(m) for m in _MONTHS), key=len, reverse=True))
_LONG_WEEKDAYS = sorted((w for w in _WEEKDAYS if len(w) > 3), key=len, reverse=True)
_WEEKDAY_RE = "|".join(re.escape(w) for w in _LONG_WEEKDAYS)

_DATE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("iso", re.compile(r"(?<!\d)(20\d\d)-(\d{1,2})-(\d{1,2})(?!\d)")),
    ("numeric", re.compile(r"(?<![\d./-])(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})(?![\d])")),
    (
        "day_month_name",
        re.compile(
            r"(?<![\w])(\d{1,2})(?:st|nd|rd|th|er|e|º|\.)?\s*(?:de\s+|of\s+)?("
            + _MONTH_RE
            + r")\.?"
            r"(?:\s*,?\s*(?:de\s+)?(\d{4}))?(?![\w])",
            re.IGNORECASE,
        ),
    ),
    (
        "month_name_day",
        re.compile(
            r"(?<![\w])("
            + _MONTH_RE
            + r")\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:\s*,?\s*(\d{4}))?(?![\w])",
            re.IGNORECASE,
        ),
    ),
    ("numeric_no_year", re.compile(r"(?<![\d./])(\d{1,2})\.(\d{1,2})\.(?!\d)")),
)
_CUE = re.compile(
    r"(?:until|till|til|through|thru|returning(?:\s+to\s+the\s+office)?(?:\s+on)?|return(?:ing)?\s+on"
    r"|back(?:\s+in\s+(?:the\s+)?office)?(?:\s+on)?|available\s+(?:again\s+)?(?:on|from)"
    r"|in\s+the\s+office\s+(?:again\s+)?on|return\s+to\s+(?:the\s+)?office\s+on"
    r"|bis(?:\s+(?:einschließlich|einschliesslich|einschl\.|inkl\.|inklusive|zum|am))?"
    r"|wieder(?:\s+(?:im\s+büro|erreichbar|da|zurück|verfügbar))?\s+(?:am|ab)|zurück\s+(?:am|ab)|ab"
    r"|tot\s+en\s+met|t/m|tot|terug\s+op|weer\s+(?:aanwezig|op\s+kantoor|bereikbaar)\s+(?:op|vanaf)"
    r"|vanaf|jusqu['’]\s*(?:au|à|a)|de\s+retour\s+(?:le|à\s+partir\s+du)|retour\s+le"
    r"|à\s+partir\s+du|hasta(?:\s+el)?|de\s+vuelta\s+el|regreso\s+el|regresaré\s+el"
    r"|volveré\s+el|a\s+partir\s+del|to|au|al|-|–)"
    r"[\s,:]*(?:(?:on|the|den|dem|der|le|el|de|del|op|am)\s+)*"
    r"(?:(?:" + _WEEKDAY_RE + r")[\s,]*(?:the|den|le|el|de)?[\s,]*)?$",
    re.IGNORECASE,
)
_RANGE_ONLY_CUES = frozenset({"to", "au", "al", "-", "–"})


@dataclass(frozen=True, slots=True)
class _FoundDate:
    start: int
    end: int
    candidates: tuple[dt.date, ...]


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _year_options(year: str | None, reference: dt.date | None) -> list[int]:
    if year:
        value = int(year)
        return [value + 2000 if value < 100 else value]
    if reference is None:
        return []
    return [reference.year, reference.year + 1]


def _find_dates(text: str, reference: dt.date | None) -> list[_FoundDate]:
    found: list[_FoundDate] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            if any(s < match.end() and match.start() < e for s, e in taken):
                continue
            candidates: list[dt.date] = []
            groups = match.groups()
            if kind == "iso":
                candidate = _safe_date(int(groups[0]), int(groups[1]), int(groups[2]))
                candidates = [candidate] if candidate else []
            elif kind == "numeric":
                first, separator, second, year = groups
                for y in _year_options(year, reference):
                    day_first = _safe_date(y, int(second), int(first))
                    if day_first:
                        candidates.append(day_first)
                    if separator == "/":
                        month_first = _safe_date(y, int(first), int(second))
                        if month_first and month_first not in candidates:
                            candidates.append(month_first)
            elif kind == "day_month_name":
                day, month_name, year = groups
                month = _MONTHS.get(month_name.lower())
                if month:
                    candidates = [
                        d
                        for y in _year_options(year, reference)
                        if (d := _safe_date(y, month, int(day)))
                    ]
            elif kind == "month_name_day":
                month_name, day, year = groups
                month = _MONTHS.get(month_name.lower())
                if month:
                    candidates = [
                        d
                        for y in _year_options(year, reference)
                        if (d := _safe_date(y, month, int(day)))
                    ]
            else:
                day, month_number = groups
                candidates = [
                    d
                    for y in _year_options(None, reference)
                    if (d := _safe_date(y, int(month_number), int(day)))
                ]
            if candidates:
                found.append(_FoundDate(match.start(), match.end(), tuple(candidates)))
                taken.append((match.start(), match.end()))
    found.sort(key=lambda f: f.start)
    return found


def _pick(candidates: Sequence[dt.date], reference: dt.date | None) -> dt.date | None:
    if reference is None:
        return candidates[0] if candidates else None
    plausible = [
        d
        for d in candidates
        if reference - dt.timedelta(days=1) <= d <= reference + dt.timedelta(days=400)
    ]
    return min(plausible, key=lambda d: d - reference) if plausible else None


def extract_return_date(text: str, sent_at: dt.datetime | None) -> dt.date | None:
    """The date an out-of-office says the sender is away until (or back on), if any.

    Understands English, German, Dutch, French and Spanish cues ("until", "back on", "bis
    einschließlich", "tot en met", "jusqu'au", "hasta el", ...) before numeric or named dates.
    Dates without a year are placed on or after the message date; day/month order that is
    ambiguous (05/01/2010) resolves to the reading nearest after the message date. Dates in
    the past or more than ~13 months ahead are ignored.
    """
    reference = sent_at.date() if sent_at is not None else None
    sample = text[:6000]
    dates = _find_dates(sample, reference)
    previous_end = -100
    for found in dates:
        window = sample[max(0, found.start - 60) : found.start]
        cue = _CUE.search(window)
        if cue is not None:
            word = cue.group(0).strip().split()[0].lower() if cue.group(0).strip() else ""
            is_range_cue = word in _RANGE_ONLY_CUES
            if not is_range_cue or found.start - previous_end < 12:
                picked = _pick(found.candidates, reference)
                if picked is not None:
                    return picked
        previous_end = found.end
    if reference is not None:
        weekday = re.search(
            r"(?:until|till|back\s+on|returning\s+on|bis|zurück\s+am|wieder\s+am|tot|terug\s+op"
            r"|jusqu['’]\s*au|de\s+retour|hasta\s+el|regreso\s+el)\s+(?:(?:the|den|le|el)\s+)?("
            + _WEEKDAY_RE
            + r")\b",
            sample,
            re.IGNORECASE,
        )
        if weekday:
            target = _WEEKDAYS[weekday.group(1).lower()]
            ahead = (target - reference.weekday()) % 7 or 7
            return reference + dt.timedelta(days=ahead)
    return None
