"""Errors raised by the outbound adapters, split by what the caller should do next.

Every adapter in ``connectors/`` translates its library's exceptions (smtplib, ssl, httpx,
a vendor's ``ok: false``) at its edge into this tree, so the outbox worker needs one rule:
retry a :class:`TransientError` with backoff (honouring ``retry_after`` when it is set),
dead-letter a :class:`PermanentError`. ``code`` is stable and safe to show; the vendor's own
error (``"550"``, ``"channel_not_found"``) is kept in ``vendor_code``. The tree::

    ConnectorError                 (code: "connector_error")  root; never raised directly
    ├── TransientError             (code: "transient")        retry later, with backoff
    │   ├── ConnectorTimeout       (code: "timeout")          connect/read/write/pool timeout
    │   ├── ConnectorUnavailable   (code: "unavailable")      refused, reset, DNS, TLS blip,
    │   │                                                     HTTP 5xx, Slack fatal_error
    │   ├── RateLimited            (code: "rate_limited")     HTTP 429, Slack ratelimited;
    │   │                                                     ``retry_after`` from Retry-After
    │   └── DeliveryDeferred       (code: "delivery_deferred") SMTP 4xx (421, 450, 451, 452)
    └── PermanentError             (code: "permanent")        dead-letter; retrying cannot help
        ├── InvalidConfiguration   (code: "invalid_config")   bad URL, unknown scheme, TLS
        │                                                     verification, no STARTTLS
        ├── InvalidMessage         (code: "invalid_message")  no Message-ID, no recipient
        ├── AuthenticationFailed   (code: "auth_failed")      SMTP 535, HTTP 401/403,
        │                                                     invalid_auth, token_revoked
        ├── RequestRejected        (code: "rejected")         any other 4xx / ok:false error
        │   └── NotFound           (code: "not_found")        HTTP 404
        ├── DeliveryRejected       (code: "delivery_rejected") SMTP 5xx (550 user unknown)
        └── SignatureError         (code: "bad_signature")    an inbound request whose
                                                              signature does not verify

``maybe_delivered`` on a transient error says the request may have reached the vendor and been
acted on although no answer came back (a read timeout, a connection dropped after the SMTP
DATA, Slack's ``fatal_error``): a blind retry can then duplicate a side effect that has no
idempotency key of its own.
"""

from __future__ import annotations

from collections.abc import Mapping


class ConnectorError(Exception):
    """Root of the adapters' errors; ``code`` is stable, ``vendor_code`` is the vendor's own."""

    code = "connector_error"

    def __init__(
        self,
        message: str,
        *,
        vendor_code: str | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.vendor_code = vendor_code
        self.status_code = status_code

    @property
    def message(self) -> str:
        """The human-readable message (never contains a secret)."""
        return str(self.args[0]) if self.args else self.code


class TransientError(ConnectorError):
    """A failure that may go away: retry with backoff, not before ``retry_after`` seconds."""

    code = "transient"

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        maybe_delivered: bool = False,
        vendor_code: str | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message, vendor_code=vendor_code, status_code=status_code)
        self.retry_after = retry_after
        self.maybe_delivered = maybe_delivered


class ConnectorTimeout(TransientError):
    """The vendor did not answer in time."""

    code = "timeout"


class ConnectorUnavailable(TransientError):
    """The vendor could not be reached or failed on its side (refused, reset, 5xx)."""

    code = "unavailable"


class RateLimited(TransientError):
    """The vendor asked us to slow down (HTTP 429); ``retry_after`` says for how long."""

    code = "rate_limited"


class _SmtpReplyMixin:
    """SMTP evidence: the reply code and text, and the per-recipient replies."""

    smtp_code: int
    smtp_response: str
    recipients: dict[str, tuple[int, str]]

    def _set_smtp(
        self,
        smtp_code: int,
        smtp_response: str,
        recipients: Mapping[str, tuple[int, str]] | None,
    ) -> None:
        self.smtp_code = smtp_code
        self.smtp_response = smtp_response
        self.recipients = dict(recipients or {})


class DeliveryDeferred(_SmtpReplyMixin, TransientError):
    """The mail server answered 4xx: try again later.

    ``recipients`` maps each deferred recipient to its ``(code, response)`` when the deferral
    came at RCPT time; it is empty when the whole transaction was deferred (421, 451 at DATA).
    """

    code = "delivery_deferred"

    def __init__(
        self,
        message: str,
        *,
        smtp_code: int,
        smtp_response: str,
        recipients: Mapping[str, tuple[int, str]] | None = None,
        maybe_delivered: bool = False,
    ) -> None:
        super().__init__(message, vendor_code=str(smtp_code), maybe_delivered=maybe_delivered)
        self._set_smtp(smtp_code, smtp_response, recipients)


class PermanentError(ConnectorError):
    """A failure that retrying cannot fix: dead-letter it and tell a person."""

    code = "permanent"


class InvalidConfiguration(PermanentError):
    """The adapter is configured wrongly (bad URL, unknown scheme, TLS that cannot verify)."""

    code = "invalid_config"


class InvalidMessage(PermanentError):
    """The message handed to the adapter cannot be sent (no Message-ID, no recipient)."""

    code = "invalid_message"


class AuthenticationFailed(PermanentError):
    """The credentials were refused (SMTP 535, HTTP 401/403, Slack invalid_auth)."""

    code = "auth_failed"


class RequestRejected(PermanentError):
    """The vendor refused the request itself (HTTP 4xx, Slack ``ok: false``)."""

    code = "rejected"


class NotFound(RequestRejected):
    """The vendor does not know the resource (HTTP 404)."""

    code = "not_found"


class DeliveryRejected(_SmtpReplyMixin, PermanentError):
    """The mail server answered 5xx: the message will never be accepted as it is.

    ``smtp_code``/``smtp_response`` hold the reply that ended the transaction; ``recipients``
    maps each refused recipient to its ``(code, response)`` when the refusal came at RCPT time.
    """

    code = "delivery_rejected"

    def __init__(
        self,
        message: str,
        *,
        smtp_code: int,
        smtp_response: str,
        recipients: Mapping[str, tuple[int, str]] | None = None,
    ) -> None:
        super().__init__(message, vendor_code=str(smtp_code))
        self._set_smtp(smtp_code, smtp_response, recipients)

    @property
    def refused(self) -> dict[str, tuple[int, str]]:
        """The refused recipients and their replies (alias of ``recipients``)."""
        return self.recipients


class SignatureError(PermanentError):
    """An inbound request's signature is missing, malformed, stale or wrong.

    ``reason`` is one of ``"missing"``, ``"malformed"``, ``"stale"``, ``"mismatch"``.
    """

    code = "bad_signature"

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason
