"""Outbound email: SMTP configured by URL, or a local Maildir when no server is configured.

Both mailers implement :class:`Mailer` — ``send(message) -> SendReceipt`` — and take a fully
built :class:`email.message.EmailMessage` that already carries its ``Message-ID`` (the outbox
sets it before the first attempt, so every retry sends the same id).

The envelope comes from the headers: the sender from ``Sender`` or ``From`` (or the URL's
``from`` parameter), the recipients from ``To``, ``Cc`` and ``Bcc``. ``Bcc`` is removed from
the bytes that leave. Failures raise the tree of :mod:`connectors.errors`: SMTP 4xx, timeouts
and connection failures are transient, SMTP 5xx and refused credentials permanent.

SMTP URLs (``CLOSELOOP_SMTP_URL``)::

    smtp://user:pass@host:25              plain (port 25 by default)
    smtp+starttls://user:pass@host:587    STARTTLS upgrade, required (port 587 by default)
    smtps://user:pass@host:465            implicit TLS (port 465 by default)

User and password are percent-decoded (``p%40ss`` is ``p@ss``). Query parameters:
``timeout`` (seconds, default 30), ``from`` (envelope sender, and ``From`` when the message has
none), ``helo`` (name sent in EHLO), ``cafile`` (extra CA bundle for a private relay).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import mailbox
import os
import secrets
import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from typing import Literal, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from connectors.errors import (
    AuthenticationFailed,
    ConnectorError,
    ConnectorTimeout,
    ConnectorUnavailable,
    DeliveryDeferred,
    DeliveryRejected,
    InvalidConfiguration,
    InvalidMessage,
)

Security = Literal["plain", "starttls", "tls"]

_SCHEMES: dict[str, tuple[Security, int]] = {
    "smtp": ("plain", 25),
    "smtp+starttls": ("starttls", 587),
    "smtps": ("tls", 465),
}
_QUERY_KEYS = frozenset({"timeout", "from", "helo", "cafile"})
DEFAULT_SMTP_TIMEOUT = 30.0


@dataclass(frozen=True)
class SendReceipt:
    """What the mail system accepted.

    ``accepted`` lists the envelope recipients the server took; ``refused`` maps each recipient
    it refused while accepting others to ``(smtp_code, response)`` — a 4xx there may succeed
    later, a 5xx never will. A fully refused message raises instead of returning a receipt.
    """

    message_id: str
    accepted: tuple[str, ...]
    refused: dict[str, tuple[int, str]] = field(default_factory=dict)


class Mailer(Protocol):
    """Port: something that delivers one email message and says to whom."""

    def send(self, message: EmailMessage) -> SendReceipt:
        """Deliver ``message`` (which carries its Message-ID); raise a ConnectorError."""
        ...


@dataclass(frozen=True)
class SmtpSettings:
    """A parsed SMTP URL. ``repr`` and :attr:`redacted_url` never show the password."""

    security: Security
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = DEFAULT_SMTP_TIMEOUT
    from_address: str | None = None
    helo: str | None = None
    cafile: str | None = None

    @property
    def redacted_url(self) -> str:
        """The URL with the password replaced by ``***``, for logs and ``closeloop doctor``."""
        scheme = {v[0]: k for k, v in _SCHEMES.items()}[self.security]
        auth = ""
        if self.username is not None:
            auth = self.username + (":***" if self.password is not None else "") + "@"
        return f"{scheme}://{auth}{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpSettings:
    """Parse an SMTP URL (see the module docstring) or raise :class:`InvalidConfiguration`.

    The error message never repeats the URL, since it may hold a password.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise InvalidConfiguration("SMTP URL: malformed (bad port or brackets)") from exc
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise InvalidConfiguration(
            f"SMTP URL: unknown scheme {scheme!r}; use one of {', '.join(sorted(_SCHEMES))}"
        )
    security, default_port = _SCHEMES[scheme]
    if not parts.hostname:
        raise InvalidConfiguration("SMTP URL: no host")
    if parts.path not in ("", "/"):
        raise InvalidConfiguration("SMTP URL: unexpected path; options go in the query string")
    query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=False)
    unknown = set(query) - _QUERY_KEYS
    if unknown:
        raise InvalidConfiguration(f"SMTP URL: unknown parameter(s) {', '.join(sorted(unknown))}")
    options = {key: values[-1] for key, values in query.items()}
    timeout = DEFAULT_SMTP_TIMEOUT
    if "timeout" in options:
        try:
            timeout = float(options["timeout"])
        except ValueError as exc:
            raise InvalidConfiguration("SMTP URL: timeout must be a number of seconds") from exc
        if not timeout > 0:
            raise InvalidConfiguration("SMTP URL: timeout must be positive")
    return SmtpSettings(
        security=security,
        host=parts.hostname,
        port=port if port is not None else default_port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        timeout=timeout,
        from_address=options.get("from") or None,
        helo=options.get("helo") or None,
        cafile=options.get("cafile") or None,
    )


def message_id_of(message: EmailMessage) -> str:
    """The message's Message-ID, stripped; :class:`InvalidMessage` when there is none."""
    value = message.get("Message-ID")
    message_id = str(value).strip() if value is not None else ""
    if not message_id:
        raise InvalidMessage("the message has no Message-ID; the outbox must set one")
    return message_id


def envelope_recipients(message: EmailMessage) -> tuple[str, ...]:
    """Addresses from To, Cc and Bcc, in that order, without duplicates (case-insensitive)."""
    values: list[str] = []
    for header in ("To", "Cc", "Bcc"):
        values.extend(str(v) for v in message.get_all(header, []))
    seen: set[str] = set()
    recipients: list[str] = []
    for _, address in getaddresses(values):
        if address and "@" in address and address.lower() not in seen:
            seen.add(address.lower())
            recipients.append(address)
    return tuple(recipients)


def envelope_sender(message: EmailMessage, default: str | None = None) -> str:
    """The MAIL FROM address: ``default`` if given, else ``Sender``, else ``From``."""
    if default:
        return default
    header = message.get("Sender") or message.get("From")
    addresses = [a for _, a in getaddresses([str(header)]) if a] if header is not None else []
    if not addresses:
        raise InvalidMessage("the message has no From (and the mailer no default sender)")
    return addresses[0]


def _without_bcc(message: EmailMessage) -> EmailMessage:
    # A shallow copy with its own header list (as smtplib.send_message does): the caller's
    # message keeps its Bcc for the outbox record, the payload is shared, not copied.
    outgoing = copy.copy(message)
    outgoing._headers = list(message._headers)  # type: ignore[attr-defined]
    del outgoing["Bcc"]
    del outgoing["Resent-Bcc"]
    return outgoing


def _text(response: bytes | str) -> str:
    if isinstance(response, bytes):
        return response.decode("utf-8", "replace")
    return response


def _reply_error(
    what: str, code: int, response: bytes | str, recipients: dict[str, tuple[int, str]] | None
) -> ConnectorError:
    """An SMTP reply code as a connector error: 4xx transient, anything else permanent."""
    text = _text(response)
    message = f"SMTP {what}: {code} {text}"
    if 400 <= code < 500:
        return DeliveryDeferred(message, smtp_code=code, smtp_response=text, recipients=recipients)
    return DeliveryRejected(message, smtp_code=code, smtp_response=text, recipients=recipients)


class _SMTP(smtplib.SMTP):
    """smtplib.SMTP that remembers whether DATA began: a line lost after it may have delivered."""

    data_started = False

    def data(self, msg: bytes | str) -> tuple[int, bytes]:  # type: ignore[override]
        self.data_started = True
        return super().data(msg)


class _SMTPSSL(smtplib.SMTP_SSL, _SMTP):
    """Implicit TLS with the same DATA tracking."""


class SmtpMailer:
    """Sends through an SMTP server (plain, STARTTLS or implicit TLS, optional AUTH).

    One connection per message: the outbox sends few messages, and a fresh connection never
    inherits a half-broken session. ``ssl_context`` overrides the default verifying context
    (tests pass one that trusts their self-signed certificate).
    """

    def __init__(self, url: str | SmtpSettings, *, ssl_context: ssl.SSLContext | None = None):
        self.settings = parse_smtp_url(url) if isinstance(url, str) else url
        self._ssl_context = ssl_context

    def __repr__(self) -> str:
        return f"SmtpMailer({self.settings.redacted_url!r})"

    def _context(self) -> ssl.SSLContext:
        if self._ssl_context is not None:
            return self._ssl_context
        try:
            return ssl.create_default_context(cafile=self.settings.cafile)
        except OSError as exc:
            raise InvalidConfiguration(f"SMTP: cannot load cafile: {exc.strerror}") from exc

    def send(self, message: EmailMessage) -> SendReceipt:
        """Deliver ``message``; return the receipt or raise a :class:`ConnectorError`.

        Raises :class:`DeliveryDeferred` (4xx) / :class:`DeliveryRejected` (5xx) with the SMTP
        code and the per-recipient replies when every recipient is refused,
        :class:`AuthenticationFailed` for refused credentials, :class:`ConnectorTimeout` /
        :class:`ConnectorUnavailable` when the server cannot be reached or drops the line
        (``maybe_delivered`` is set when that happened after DATA began).
        """
        message_id = message_id_of(message)
        recipients = envelope_recipients(message)
        if not recipients:
            raise InvalidMessage("the message has no recipient in To, Cc or Bcc")
        sender = envelope_sender(message, self.settings.from_address)
        outgoing = _without_bcc(message)
        if "From" not in outgoing and self.settings.from_address:
            outgoing["From"] = self.settings.from_address

        smtp = self._connect()
        try:
            refused = self._transfer(smtp, outgoing, sender, recipients)
        finally:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                smtp.quit()
            smtp.close()
        refused_text = {rcpt: (code, _text(resp)) for rcpt, (code, resp) in refused.items()}
        accepted = tuple(r for r in recipients if r not in refused_text)
        return SendReceipt(message_id=message_id, accepted=accepted, refused=refused_text)

    def _connect(self) -> _SMTP:
        s = self.settings
        context = self._context() if s.security != "plain" else None
        smtp: _SMTP | None = None
        try:
            if s.security == "tls":
                smtp = _SMTPSSL(s.host, s.port, s.helo, timeout=s.timeout, context=context)
            else:
                smtp = _SMTP(s.host, s.port, s.helo, timeout=s.timeout)
            if s.security == "starttls":
                smtp.ehlo()
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.username is not None:
                smtp.login(s.username, s.password or "")
        except (smtplib.SMTPException, OSError) as exc:
            if smtp is not None:
                smtp.close()
            raise _connect_error(exc, f"{s.host}:{s.port}") from exc
        except BaseException:
            if smtp is not None:
                smtp.close()
            raise
        return smtp

    def _transfer(
        self, smtp: _SMTP, outgoing: EmailMessage, sender: str, recipients: tuple[str, ...]
    ) -> dict[str, tuple[int, bytes]]:
        try:
            return smtp.send_message(outgoing, from_addr=sender, to_addrs=list(recipients))
        except smtplib.SMTPRecipientsRefused as exc:
            replies = {r: (code, _text(resp)) for r, (code, resp) in exc.recipients.items()}
            # Every recipient refused: worth a retry if at least one refusal was temporary.
            code, text = next(
                (reply for reply in replies.values() if 400 <= reply[0] < 500),
                next(iter(replies.values()), (554, "")),
            )
            raise _reply_error(
                f"all recipients refused ({', '.join(replies)})", code, text, replies
            ) from exc
        except smtplib.SMTPSenderRefused as exc:
            raise _reply_error(
                f"sender {sender} refused", exc.smtp_code, exc.smtp_error, None
            ) from exc
        except smtplib.SMTPDataError as exc:
            raise _reply_error("message refused", exc.smtp_code, exc.smtp_error, None) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise InvalidMessage(f"SMTP: {exc}") from exc
        except smtplib.SMTPResponseException as exc:
            raise _reply_error("transfer", exc.smtp_code, exc.smtp_error, None) from exc
        except smtplib.SMTPServerDisconnected as exc:
            error_type = ConnectorTimeout if _timed_out(exc) else ConnectorUnavailable
            raise error_type(
                f"SMTP: connection lost during the transfer ({exc})",
                maybe_delivered=smtp.data_started,
            ) from exc
        except smtplib.SMTPException as exc:
            raise ConnectorUnavailable(
                f"SMTP: connection lost during the transfer ({exc})",
                maybe_delivered=smtp.data_started,
            ) from exc
        except TimeoutError as exc:
            raise ConnectorTimeout(
                "SMTP: timed out during the transfer", maybe_delivered=smtp.data_started
            ) from exc
        except OSError as exc:
            raise ConnectorUnavailable(
                f"SMTP: connection failed during the transfer ({exc.strerror or exc})",
                maybe_delivered=smtp.data_started,
            ) from exc


def _timed_out(exc: BaseException) -> bool:
    # smtplib reports a read timeout as SMTPServerDisconnected raised while handling it.
    return isinstance(exc.__context__, TimeoutError)


def _connect_error(exc: smtplib.SMTPException | OSError, where: str) -> ConnectorError:
    """Translate a failure while connecting, upgrading to TLS or logging in."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        if 400 <= exc.smtp_code < 500:  # 454: temporary authentication failure
            return _reply_error("authentication", exc.smtp_code, exc.smtp_error, None)
        return AuthenticationFailed(
            f"SMTP {where}: credentials refused ({exc.smtp_code} {_text(exc.smtp_error)})",
            vendor_code=str(exc.smtp_code),
        )
    if isinstance(exc, smtplib.SMTPResponseException):  # greeting 421/554, EHLO, STARTTLS
        return _reply_error(f"{where} refused the session", exc.smtp_code, exc.smtp_error, None)
    if isinstance(exc, smtplib.SMTPNotSupportedError):  # no STARTTLS or no AUTH offered
        return InvalidConfiguration(f"SMTP {where}: {exc}")
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        if _timed_out(exc):
            return ConnectorTimeout(f"SMTP {where}: timed out waiting for the server")
        return ConnectorUnavailable(f"SMTP {where}: server closed the connection ({exc})")
    if isinstance(exc, smtplib.SMTPException):  # "No suitable authentication method found."
        return InvalidConfiguration(f"SMTP {where}: {exc}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return InvalidConfiguration(f"SMTP {where}: TLS certificate not trusted ({exc.reason})")
    if isinstance(exc, TimeoutError):
        return ConnectorTimeout(f"SMTP {where}: timed out")
    if isinstance(exc, socket.gaierror):
        return ConnectorUnavailable(f"SMTP {where}: cannot resolve host ({exc.strerror})")
    return ConnectorUnavailable(f"SMTP {where}: {exc.strerror or exc}")


class MaildirMailer:
    """Writes each message as a ``.eml`` file into ``<path>/new/`` of a Maildir.

    The embedded default: no mail server needed, any mail client can open the folder. The file
    name is a hash of the Message-ID, and the file is written in ``tmp/`` then hard-linked into
    ``new/`` (the Maildir delivery protocol), so a second send of the same message — after a
    crash between sending and recording — finds it there and writes nothing, and two workers
    racing on one message leave one file. A file a mail client moved to ``cur/`` still counts.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        # mailbox.Maildir only creates the subfolders along with a missing top folder.
        for sub in ("tmp", "new", "cur"):
            (self.path / sub).mkdir(parents=True, exist_ok=True)
        self.maildir = mailbox.Maildir(self.path, create=False)

    def __repr__(self) -> str:
        return f"MaildirMailer({str(self.path)!r})"

    @staticmethod
    def file_name(message_id: str) -> str:
        """The file name used for a Message-ID (angle brackets and spaces ignored)."""
        key = message_id.strip().strip("<>").strip()
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:40] + ".eml"

    def _already_delivered(self, name: str) -> bool:
        if (self.path / "new" / name).exists():
            return True
        cur = self.path / "cur"
        return (cur / name).exists() or any(cur.glob(f"{name}:*"))

    def send(self, message: EmailMessage) -> SendReceipt:
        """Write ``message`` once; a second call with the same Message-ID is a no-op.

        Returns the same receipt each time: every envelope recipient accepted.
        """
        message_id = message_id_of(message)
        recipients = envelope_recipients(message)
        if not recipients:
            raise InvalidMessage("the message has no recipient in To, Cc or Bcc")
        receipt = SendReceipt(message_id=message_id, accepted=recipients)
        name = self.file_name(message_id)
        if self._already_delivered(name):
            return receipt
        outgoing = _without_bcc(message)
        data = outgoing.as_bytes(policy=outgoing.policy.clone(linesep="\n"))
        try:
            self._deliver(name, data)
        except FileExistsError:
            pass  # another worker delivered the same message first
        except OSError as exc:
            raise ConnectorUnavailable(
                f"Maildir {self.path}: cannot write ({exc.strerror or exc})"
            ) from exc
        return receipt

    def _deliver(self, name: str, data: bytes) -> None:
        tmp = self.path / "tmp" / f"{name}.{os.getpid()}.{secrets.token_hex(4)}"
        try:
            with open(tmp, "xb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.link(tmp, self.path / "new" / name)  # fails if present: no overwrite, no twin
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        _fsync_dir(self.path / "new")

    def delivered(self) -> list[EmailMessage]:
        """The messages in the folder (new and cur), parsed; for the demo and tests."""
        result: list[EmailMessage] = []
        for key in sorted(self.maildir.keys()):
            raw = self.maildir.get_bytes(key)
            parsed = message_from_bytes(raw, policy=policy.default)
            assert isinstance(parsed, EmailMessage)
            result.append(parsed)
        return result


def _fsync_dir(path: Path) -> None:
    # Makes the new directory entry durable, so a crash right after "sent" cannot lose the file.
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def mailer_from_url(url: str | None, default_maildir: str | os.PathLike[str]) -> Mailer:
    """``SmtpMailer(url)`` when an SMTP URL is configured, else ``MaildirMailer(default)``.

    An empty string counts as unset, so ``CLOSELOOP_SMTP_URL=`` in a ``.env`` falls back too.
    """
    if url is not None and url.strip():
        return SmtpMailer(url)
    return MaildirMailer(default_maildir)


__all__ = [
    "MaildirMailer",
    "Mailer",
    "SendReceipt",
    "SmtpMailer",
    "SmtpSettings",
    "envelope_recipients",
    "envelope_sender",
    "mailer_from_url",
    "message_id_of",
    "parse_smtp_url",
]
