"""Slack: post and update messages through the Web API, verify signed interactivity requests.

The client posts what it is given (text plus Block Kit blocks built by the caller) and turns
every answer into either a :class:`SlackPostResult` or an error of :mod:`connectors.errors`:

- HTTP 429 / ``ratelimited`` → :class:`~connectors.errors.RateLimited` with ``retry_after``;
- HTTP 5xx, timeouts, ``fatal_error``, ``internal_error``, ``service_unavailable``,
  ``request_timeout`` → transient;
- ``invalid_auth``, ``not_authed``, ``account_inactive``, ``token_revoked`` … →
  :class:`~connectors.errors.AuthenticationFailed`;
- any other ``ok: false`` (``channel_not_found``, ``not_in_channel``, ``is_archived``,
  ``invalid_blocks``, ``msg_too_long`` …) → :class:`~connectors.errors.RequestRejected` with the
  Slack error in ``vendor_code``.

Slack answers HTTP 200 with ``{"ok": false, "error": "..."}`` for most failures, so the status
code alone says little. The bot token is sent only in the Authorization header and never
appears in a message, a repr or a log line.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

import httpx

from connectors.errors import (
    AuthenticationFailed,
    ConnectorUnavailable,
    InvalidConfiguration,
    RateLimited,
    RequestRejected,
    SignatureError,
)
from connectors.http import (
    make_client,
    parse_retry_after,
    raise_for_vendor_status,
    translate_transport_errors,
)

DEFAULT_BASE_URL = "https://slack.com/api"
SIGNATURE_MAX_AGE_SECONDS = 300
"""Slack's replay window: a request signed more than 5 minutes from now is refused."""

_RATE_LIMITED = frozenset({"ratelimited", "rate_limited"})
_TRANSIENT = frozenset({"fatal_error", "internal_error", "service_unavailable", "request_timeout"})
_AUTH = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "not_allowed_token_type",
        "ekm_access_denied",
    }
)

Block = Mapping[str, Any]


@dataclass(frozen=True)
class SlackPostResult:
    """Where the message landed: the channel id and the message ``ts`` (its id in Slack).

    Keep ``ts`` to thread replies under the message (``thread_ts``) or to update it.
    """

    channel: str
    ts: str


class SlackClient:
    """A minimal Slack Web API client for one bot token.

    ``client`` is an :class:`httpx.Client` from :func:`connectors.http.make_client` (tests pass
    one with a mock transport, or point ``base_url`` at the fake server); when omitted, the
    client builds and owns one. Requests go to absolute URLs under ``base_url``.
    """

    def __init__(
        self,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        client: httpx.Client | None = None,
    ) -> None:
        if not token:
            raise InvalidConfiguration("Slack: no bot token")
        self._token = token
        self.base_url = base_url.rstrip("/")
        self._owns_client = client is None
        self._client = client if client is not None else make_client(base_url=self.base_url)

    def __repr__(self) -> str:
        return f"SlackClient(base_url={self.base_url!r}, token='***')"

    def close(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> SlackClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def post_message(
        self,
        channel: str,
        text: str,
        blocks: Sequence[Block] | None = None,
        thread_ts: str | None = None,
    ) -> SlackPostResult:
        """``chat.postMessage``: post ``text`` (the notification fallback) and ``blocks``.

        With ``thread_ts`` (the parent message's ``ts``) the message is a thread reply.
        """
        body: dict[str, Any] = {"channel": channel, "text": text}
        if blocks:
            body["blocks"] = list(blocks)
        if thread_ts is not None:
            body["thread_ts"] = thread_ts
        data = self._call("chat.postMessage", body)
        return SlackPostResult(channel=str(data["channel"]), ts=str(data["ts"]))

    def update_message(
        self,
        channel: str,
        ts: str,
        text: str,
        blocks: Sequence[Block] | None = None,
    ) -> SlackPostResult:
        """``chat.update``: replace the text and blocks of the message ``ts`` in ``channel``.

        ``blocks=None`` keeps the message's blocks; an empty sequence removes them.
        """
        body: dict[str, Any] = {"channel": channel, "ts": ts, "text": text}
        if blocks is not None:
            body["blocks"] = list(blocks)
        data = self._call("chat.update", body)
        return SlackPostResult(channel=str(data["channel"]), ts=str(data["ts"]))

    def _call(self, method: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST a JSON body to ``method``; return the decoded ``ok: true`` answer."""
        vendor = f"Slack {method}"
        with translate_transport_errors(vendor):
            response = self._client.post(
                f"{self.base_url}/{method}",
                content=json.dumps(body).encode("utf-8"),
                headers={
                    "Authorization": f"Bearer {self._token}",
                    "Content-Type": "application/json; charset=utf-8",
                },
            )
        raise_for_vendor_status(response, vendor=vendor)
        try:
            data = response.json()
        except ValueError as exc:
            raise ConnectorUnavailable(
                f"{vendor}: answer is not JSON (HTTP {response.status_code})",
                maybe_delivered=True,
                status_code=response.status_code,
            ) from exc
        if not isinstance(data, dict):
            raise ConnectorUnavailable(
                f"{vendor}: answer is not a JSON object", maybe_delivered=True
            )
        if data.get("ok") is True:
            return data
        _raise_slack_error(vendor, data, response)


def _raise_slack_error(vendor: str, data: Mapping[str, Any], response: httpx.Response) -> NoReturn:
    error = str(data.get("error") or "unknown_error")
    message = f"{vendor}: {error}"
    status = response.status_code
    if error in _RATE_LIMITED:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        raise RateLimited(message, retry_after=retry_after, vendor_code=error, status_code=status)
    if error in _TRANSIENT:
        # fatal_error: "it's possible some aspect of the operation succeeded" (Slack docs).
        raise ConnectorUnavailable(
            message,
            maybe_delivered=error == "fatal_error",
            vendor_code=error,
            status_code=status,
        )
    if error in _AUTH:
        raise AuthenticationFailed(message, vendor_code=error, status_code=status)
    raise RequestRejected(message, vendor_code=error, status_code=status)


def slack_signature(signing_secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Slack-Signature`` value Slack computes: ``v0=`` + hex HMAC-SHA256."""
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    digest = hmac.new(signing_secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
    return "v0=" + digest


def verify_slack_signature(
    signing_secret: str,
    timestamp: str | None,
    body: bytes,
    signature: str | None,
    now: datetime,
) -> None:
    """Accept a request signed by Slack, or raise :class:`SignatureError`.

    ``timestamp`` and ``signature`` are the ``X-Slack-Request-Timestamp`` and
    ``X-Slack-Signature`` headers, ``body`` the raw request body (before any form parsing),
    ``now`` an aware datetime. A timestamp more than five minutes away from ``now`` either way
    is refused (replay), and the comparison is constant-time.
    """
    if not signing_secret:
        raise InvalidConfiguration("Slack: no signing secret configured")
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if not timestamp or not signature:
        raise SignatureError("Slack request without timestamp or signature", reason="missing")
    timestamp = timestamp.strip()
    if not (timestamp.isascii() and timestamp.isdigit()):
        raise SignatureError("Slack request timestamp is not a number", reason="malformed")
    sent_at = int(timestamp)
    if abs(now.timestamp() - sent_at) > SIGNATURE_MAX_AGE_SECONDS:
        raise SignatureError("Slack request timestamp is too old or in the future", reason="stale")
    expected = slack_signature(signing_secret, timestamp, body)
    if not hmac.compare_digest(expected.encode("ascii"), signature.strip().encode("utf-8")):
        raise SignatureError("Slack request signature does not match", reason="mismatch")
