"""The approved HTTP client and its transient-versus-permanent translation (no network)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from connectors.errors import (
    AuthenticationFailed,
    ConnectorError,
    ConnectorTimeout,
    ConnectorUnavailable,
    DeliveryDeferred,
    DeliveryRejected,
    InvalidConfiguration,
    InvalidMessage,
    NotFound,
    PermanentError,
    RateLimited,
    RequestRejected,
    SignatureError,
    TransientError,
)
from connectors.http import (
    DEFAULT_TIMEOUT,
    USER_AGENT,
    make_client,
    parse_retry_after,
    raise_for_vendor_status,
    send_vendor_request,
    translate_transport_errors,
)

NOW = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)


def client_answering(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.Client:
    return make_client(base_url="https://vendor.test/api", transport=httpx.MockTransport(handler))


def response(status: int, headers: dict[str, str] | None = None) -> httpx.Response:
    request = httpx.Request("POST", "https://vendor.test/api/things?token=SECRET-TOKEN")
    return httpx.Response(status, headers=headers, request=request)


# -- status codes ------------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 201, 204, 304])
def test_success_status_returns_the_response_unchanged(status: int) -> None:
    answer = response(status)

    assert raise_for_vendor_status(answer) is answer


def test_429_with_retry_after_seconds_is_rate_limited_with_that_delay() -> None:
    with pytest.raises(RateLimited) as caught:
        raise_for_vendor_status(response(429, {"Retry-After": "12"}), vendor="Xero")

    assert isinstance(caught.value, TransientError)
    assert caught.value.retry_after == 12.0
    assert caught.value.status_code == 429
    assert caught.value.code == "rate_limited"
    assert caught.value.maybe_delivered is False


def test_429_with_retry_after_http_date_waits_until_that_date() -> None:
    headers = {"Retry-After": "Thu, 26 Nov 2026 12:01:30 GMT"}

    with pytest.raises(RateLimited) as caught:
        raise_for_vendor_status(response(429, headers), now=NOW)

    assert caught.value.retry_after == 90.0


def test_429_without_retry_after_leaves_the_delay_to_the_backoff() -> None:
    with pytest.raises(RateLimited) as caught:
        raise_for_vendor_status(response(429))

    assert caught.value.retry_after is None


@pytest.mark.parametrize(
    ("status", "maybe_delivered"), [(500, True), (502, True), (503, False), (504, True)]
)
def test_5xx_is_transient_unavailable(status: int, maybe_delivered: bool) -> None:
    with pytest.raises(ConnectorUnavailable) as caught:
        raise_for_vendor_status(response(status))

    assert isinstance(caught.value, TransientError)
    assert caught.value.status_code == status
    assert caught.value.maybe_delivered is maybe_delivered


def test_503_keeps_its_retry_after() -> None:
    with pytest.raises(ConnectorUnavailable) as caught:
        raise_for_vendor_status(response(503, {"Retry-After": "30"}))

    assert caught.value.retry_after == 30.0


def test_408_request_timeout_is_transient() -> None:
    with pytest.raises(TransientError):
        raise_for_vendor_status(response(408))


@pytest.mark.parametrize(
    ("status", "error_type", "code"),
    [
        (401, AuthenticationFailed, "auth_failed"),
        (403, AuthenticationFailed, "auth_failed"),
        (404, NotFound, "not_found"),
        (400, RequestRejected, "rejected"),
        (409, RequestRejected, "rejected"),
        (422, RequestRejected, "rejected"),
        (302, RequestRejected, "rejected"),
    ],
)
def test_client_errors_are_permanent(
    status: int, error_type: type[PermanentError], code: str
) -> None:
    with pytest.raises(error_type) as caught:
        raise_for_vendor_status(response(status))

    assert isinstance(caught.value, PermanentError)
    assert not isinstance(caught.value, TransientError)
    assert caught.value.code == code
    assert caught.value.status_code == status


def test_error_message_names_vendor_path_and_status_but_not_the_query_string() -> None:
    with pytest.raises(AuthenticationFailed) as caught:
        raise_for_vendor_status(response(401), vendor="Xero")

    assert str(caught.value) == "Xero: POST /api/things → HTTP 401"
    assert "SECRET-TOKEN" not in str(caught.value)


# -- Retry-After parsing -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("0", 0.0),
        ("120", 120.0),
        (" 7 ", 7.0),
        ("-5", 0.0),
        ("Thu, 26 Nov 2026 11:00:00 GMT", 0.0),
        ("Thu, 26 Nov 2026 12:00:10 GMT", 10.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_is_read_as_seconds_or_http_date(
    header: str | None, seconds: float | None
) -> None:
    assert parse_retry_after(header, now=NOW) == seconds


# -- transport errors ----------------------------------------------------------------------


def raising(exc_type: type[httpx.TransportError]) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc_type("simulated", request=request)

    return handler


@pytest.mark.parametrize(
    ("exc_type", "error_type", "maybe_delivered"),
    [
        (httpx.ConnectTimeout, ConnectorTimeout, False),
        (httpx.PoolTimeout, ConnectorTimeout, False),
        (httpx.WriteTimeout, ConnectorTimeout, False),
        (httpx.ReadTimeout, ConnectorTimeout, True),
        (httpx.ConnectError, ConnectorUnavailable, False),
        (httpx.ReadError, ConnectorUnavailable, True),
        (httpx.RemoteProtocolError, ConnectorUnavailable, True),
    ],
)
def test_transport_failures_are_transient_and_say_whether_the_request_may_have_landed(
    exc_type: type[httpx.TransportError],
    error_type: type[TransientError],
    maybe_delivered: bool,
) -> None:
    with client_answering(raising(exc_type)) as client, pytest.raises(error_type) as caught:
        send_vendor_request(client, "POST", "/things", vendor="Asana")

    assert isinstance(caught.value, TransientError)
    assert caught.value.maybe_delivered is maybe_delivered
    assert str(caught.value).startswith("Asana: ")


def test_unsupported_url_scheme_is_a_configuration_error() -> None:
    with (
        make_client(base_url="ftp://vendor.test") as client,
        pytest.raises(InvalidConfiguration),
        translate_transport_errors("Vendor"),
    ):
        client.get("/x")


def test_send_vendor_request_returns_a_successful_response() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"id": "42", "path": request.url.path})

    with client_answering(handler) as client:
        answer = send_vendor_request(client, "GET", "/things/42")

    assert answer.json() == {"id": "42", "path": "/api/things/42"}


# -- the client factory --------------------------------------------------------------------


def test_client_has_explicit_timeouts_user_agent_headers_and_no_redirects() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(302, headers={"Location": "https://elsewhere.test/"})

    client = make_client(
        base_url="https://vendor.test/api",
        transport=httpx.MockTransport(handler),
        headers={"X-Api-Key": "k"},
    )
    with client, pytest.raises(RequestRejected):
        send_vendor_request(client, "GET", "/things")

    assert client.timeout == DEFAULT_TIMEOUT
    assert [str(r.url) for r in seen] == ["https://vendor.test/api/things"]
    assert seen[0].headers["User-Agent"] == USER_AGENT
    assert seen[0].headers["X-Api-Key"] == "k"


def test_one_number_sets_all_four_timeouts() -> None:
    with make_client(base_url="https://vendor.test", timeout=3.0) as client:
        assert client.timeout == httpx.Timeout(connect=3.0, read=3.0, write=3.0, pool=3.0)


# -- the tree ------------------------------------------------------------------------------


def test_every_error_has_a_distinct_code_and_one_side_of_the_split() -> None:
    errors: list[ConnectorError] = [
        ConnectorTimeout("t"),
        ConnectorUnavailable("u"),
        RateLimited("r", retry_after=1.0),
        DeliveryDeferred("d", smtp_code=451, smtp_response="4.3.0 later"),
        InvalidConfiguration("c"),
        InvalidMessage("m"),
        AuthenticationFailed("a"),
        RequestRejected("q"),
        NotFound("n"),
        DeliveryRejected("x", smtp_code=550, smtp_response="5.1.1 unknown"),
        SignatureError("s", reason="mismatch"),
    ]

    codes = [e.code for e in errors]
    assert codes == [
        "timeout",
        "unavailable",
        "rate_limited",
        "delivery_deferred",
        "invalid_config",
        "invalid_message",
        "auth_failed",
        "rejected",
        "not_found",
        "delivery_rejected",
        "bad_signature",
    ]
    assert [isinstance(e, TransientError) for e in errors] == [True] * 4 + [False] * 7
    assert [isinstance(e, PermanentError) for e in errors] == [False] * 4 + [True] * 7


def test_smtp_errors_carry_the_reply_as_evidence() -> None:
    error = DeliveryRejected(
        "SMTP all recipients refused",
        smtp_code=550,
        smtp_response="5.1.1 User unknown",
        recipients={"gone@client.test": (550, "5.1.1 User unknown")},
    )

    assert error.vendor_code == "550"
    assert error.refused == {"gone@client.test": (550, "5.1.1 User unknown")}
