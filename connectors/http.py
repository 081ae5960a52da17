"""The one approved HTTP client for vendor calls, and the translation of its failures.

Every connector builds its client with :func:`make_client` (explicit timeouts, no redirects,
an injectable transport for tests) and turns what comes back into the tree of
:mod:`connectors.errors`:

- :func:`translate_transport_errors` — a context manager around the call: httpx timeouts and
  transport failures become :class:`~connectors.errors.TransientError`;
- :func:`raise_for_vendor_status` — the response: 429 and 5xx are transient (with
  ``retry_after`` from ``Retry-After``), 401/403/404/other 4xx are permanent.

:func:`send_vendor_request` does both.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from connectors.errors import (
    AuthenticationFailed,
    ConnectorTimeout,
    ConnectorUnavailable,
    InvalidConfiguration,
    NotFound,
    RateLimited,
    RequestRejected,
)

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=15.0, write=15.0, pool=5.0)
"""Timeouts used when a connector does not choose its own (seconds)."""

USER_AGENT = "closeloop/0.1"

# A request that got no definitive answer after it was sent may have been acted on.
_AMBIGUOUS_STATUSES = frozenset({500, 502, 504})


def make_client(
    *,
    base_url: str,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
    transport: httpx.BaseTransport | None = None,
    headers: Mapping[str, str] | None = None,
) -> httpx.Client:
    """Build the httpx client every connector uses.

    ``timeout`` is an :class:`httpx.Timeout` (connect/read/write/pool) or one number for all
    four; there is no "no timeout". ``transport`` is the test seam (``httpx.MockTransport``
    or a respx mock); ``headers`` are sent on every request (put the auth header here or pass
    it per request). Redirects are not followed: a vendor API that redirects is misconfigured.
    """
    if timeout is None:  # typed out, but a caller passing None must not get "wait forever"
        raise InvalidConfiguration("an HTTP client needs a timeout")
    all_headers = {"User-Agent": USER_AGENT}
    all_headers.update(headers or {})
    return httpx.Client(
        base_url=base_url,
        timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
        transport=transport,
        headers=all_headers,
        follow_redirects=False,
    )


@contextmanager
def translate_transport_errors(vendor: str) -> Iterator[None]:
    """Turn httpx's request failures raised inside the block into connector errors.

    ``vendor`` names the system in the message ("Slack", "Xero"). Connect failures and pool
    timeouts mean the request never left; read timeouts and dropped connections may mean it
    was acted on, so they set ``maybe_delivered``.
    """
    try:
        yield
    except (httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise ConnectorTimeout(f"{vendor}: {type(exc).__name__}") from exc
    except httpx.ReadTimeout as exc:
        raise ConnectorTimeout(f"{vendor}: read timeout", maybe_delivered=True) from exc
    except httpx.TimeoutException as exc:  # WriteTimeout: the request was not complete
        raise ConnectorTimeout(f"{vendor}: {type(exc).__name__}") from exc
    except httpx.UnsupportedProtocol as exc:
        raise InvalidConfiguration(f"{vendor}: unsupported URL scheme") from exc
    except (httpx.ReadError, httpx.RemoteProtocolError) as exc:
        raise ConnectorUnavailable(
            f"{vendor}: connection lost while waiting for the answer ({type(exc).__name__})",
            maybe_delivered=True,
        ) from exc
    except httpx.TransportError as exc:
        raise ConnectorUnavailable(f"{vendor}: {type(exc).__name__}: {exc}") from exc
    except (httpx.DecodingError, httpx.TooManyRedirects) as exc:
        raise ConnectorUnavailable(
            f"{vendor}: unusable answer ({type(exc).__name__})", maybe_delivered=True
        ) from exc


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP-date.

    Returns ``None`` when the header is absent or unreadable, ``0.0`` for a date in the past.
    ``now`` (aware) is the clock for HTTP-dates; it defaults to the current UTC time.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; parsedate gives naive for "-0000"
        when = when.replace(tzinfo=UTC)
    reference = now if now is not None else datetime.now(UTC)
    return max(0.0, (when - reference).total_seconds())


def raise_for_vendor_status(
    response: httpx.Response, *, vendor: str = "vendor", now: datetime | None = None
) -> httpx.Response:
    """Return ``response`` if its status is 1xx, 2xx or 304, else raise a connector error.

    - 3xx (redirects are not followed) → :class:`RequestRejected`: the base URL is wrong;
    - 429 → :class:`RateLimited` with ``retry_after`` (Retry-After seconds or HTTP-date);
    - 408, 5xx → :class:`ConnectorUnavailable` (503 keeps its Retry-After);
    - 401, 403 → :class:`AuthenticationFailed`; 404 → :class:`NotFound`;
    - other 4xx → :class:`RequestRejected`.

    The message names the vendor, method, path and status, never headers or the query string
    (tokens travel in both).
    """
    status = response.status_code
    if status < 300 or status == 304:
        return response
    where = f"{vendor}: {response.request.method} {response.request.url.path} → HTTP {status}"
    if status < 400:
        raise RequestRejected(f"{where} (unexpected redirect)", status_code=status)
    retry_after = parse_retry_after(response.headers.get("Retry-After"), now=now)
    if status == 429:
        raise RateLimited(f"{where} (rate limited)", retry_after=retry_after, status_code=status)
    if status == 408 or status >= 500:
        raise ConnectorUnavailable(
            where,
            retry_after=retry_after,
            maybe_delivered=status in _AMBIGUOUS_STATUSES,
            status_code=status,
        )
    if status in (401, 403):
        raise AuthenticationFailed(where, status_code=status)
    if status == 404:
        raise NotFound(where, status_code=status)
    raise RequestRejected(where, status_code=status)


def send_vendor_request(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    vendor: str = "vendor",
    **kwargs: Any,
) -> httpx.Response:
    """``client.request(method, url, **kwargs)`` with both translations applied."""
    with translate_transport_errors(vendor):
        response = client.request(method, url, **kwargs)
    return raise_for_vendor_status(response, vendor=vendor)
