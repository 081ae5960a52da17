"""SlackClient against the local fake of the Web API, and Slack signature verification."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest

from connectors.errors import (
    AuthenticationFailed,
    ConnectorUnavailable,
    InvalidConfiguration,
    PermanentError,
    RateLimited,
    RequestRejected,
    SignatureError,
    TransientError,
)
from connectors.slack import SlackClient, SlackPostResult, verify_slack_signature
from tests.fakes.slack_server import (
    FakeSlack,
    RecordedPost,
    RecordedUpdate,
    block_actions_payload,
    signed_interactivity_request,
)
from tests.fakes.smtp_server import free_port

TOKEN = "xoxb-1111-2222-fake"
CHANNEL = "C0FINANCE"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
CLICKED_AT = 1_795_000_000
HANDOFF_BLOCKS: list[dict[str, Any]] = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "*Dispute* on INV-2026-0001"}},
    {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": "take",
                "value": "case-17",
                "text": {"type": "plain_text", "text": "Take"},
            }
        ],
    },
]


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(
        token=TOKEN, channels={CHANNEL}, not_in_channel={"C0PRIVATE"}, archived={"C0OLD"}
    ) as fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> Iterator[SlackClient]:
    with SlackClient(TOKEN, base_url=slack.base_url) as slack_client:
        yield slack_client


# -- posting -------------------------------------------------------------------------------


def test_post_message_posts_text_and_blocks_and_returns_channel_and_ts(
    slack: FakeSlack, client: SlackClient
) -> None:
    result = client.post_message(CHANNEL, "Dispute on INV-2026-0001", HANDOFF_BLOCKS)

    assert result == SlackPostResult(channel=CHANNEL, ts="1700000001.000001")
    assert slack.posts == [
        RecordedPost(
            channel=CHANNEL,
            ts="1700000001.000001",
            text="Dispute on INV-2026-0001",
            blocks=HANDOFF_BLOCKS,
            thread_ts=None,
        )
    ]
    [(method, headers)] = slack.requests
    assert method == "chat.postMessage"
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["content-type"] == "application/json; charset=utf-8"


def test_thread_reply_is_posted_under_the_parent_message(
    slack: FakeSlack, client: SlackClient
) -> None:
    parent = client.post_message(CHANNEL, "Dispute on INV-2026-0001", HANDOFF_BLOCKS)

    reply = client.post_message(CHANNEL, "Timeline: issued, sent, reminder 1", [], parent.ts)

    assert reply.ts != parent.ts
    assert [(p.text, p.thread_ts) for p in slack.posts] == [
        ("Dispute on INV-2026-0001", None),
        ("Timeline: issued, sent, reminder 1", parent.ts),
    ]
    assert slack.posts[1].blocks is None


def test_update_message_replaces_text_and_blocks_of_that_message(
    slack: FakeSlack, client: SlackClient
) -> None:
    posted = client.post_message(CHANNEL, "Dispute on INV-2026-0001", HANDOFF_BLOCKS)
    taken = [{"type": "section", "text": {"type": "mrkdwn", "text": "Taken by <@U0OWNER>"}}]

    result = client.update_message(CHANNEL, posted.ts, "Taken", taken)

    assert result == posted
    assert slack.updates == [RecordedUpdate(CHANNEL, posted.ts, "Taken", taken)]
    assert [(p.text, p.blocks) for p in slack.posts] == [("Taken", taken)]


def test_updating_an_unknown_message_is_permanent(client: SlackClient) -> None:
    with pytest.raises(RequestRejected) as caught:
        client.update_message(CHANNEL, "1700000099.000099", "Taken", [])

    assert caught.value.vendor_code == "message_not_found"


# -- transient failures: the post is delayed, not lost -------------------------------------


def test_rate_limit_429_is_transient_with_retry_after_and_the_retry_posts_once(
    slack: FakeSlack, client: SlackClient
) -> None:
    slack.fail_next(status=429, retry_after=7)

    with pytest.raises(RateLimited) as caught:
        client.post_message(CHANNEL, "Dispute on INV-2026-0001", HANDOFF_BLOCKS)
    assert slack.posts == []
    result = client.post_message(CHANNEL, "Dispute on INV-2026-0001", HANDOFF_BLOCKS)

    assert isinstance(caught.value, TransientError)
    assert caught.value.retry_after == 7.0
    assert caught.value.status_code == 429
    assert result.ts == "1700000001.000001"
    assert len(slack.posts) == 1
    assert len(slack.requests) == 2


def test_server_error_500_is_transient(slack: FakeSlack, client: SlackClient) -> None:
    slack.fail_next(status=500)

    with pytest.raises(ConnectorUnavailable) as caught:
        client.post_message(CHANNEL, "Dispute on INV-2026-0001", HANDOFF_BLOCKS)

    assert isinstance(caught.value, TransientError)
    assert caught.value.status_code == 500
    assert slack.posts == []


@pytest.mark.parametrize(
    ("error", "maybe_delivered"),
    [
        ("fatal_error", True),
        ("internal_error", False),
        ("service_unavailable", False),
        ("request_timeout", False),
    ],
)
def test_slack_side_ok_false_errors_are_transient(
    slack: FakeSlack, client: SlackClient, error: str, maybe_delivered: bool
) -> None:
    slack.fail_next(status=200, error=error)

    with pytest.raises(ConnectorUnavailable) as caught:
        client.post_message(CHANNEL, "Dispute", HANDOFF_BLOCKS)

    assert caught.value.vendor_code == error
    assert caught.value.maybe_delivered is maybe_delivered


def test_ratelimited_in_an_ok_false_body_is_rate_limited(
    slack: FakeSlack, client: SlackClient
) -> None:
    slack.fail_next(status=200, error="ratelimited", retry_after=3)

    with pytest.raises(RateLimited) as caught:
        client.post_message(CHANNEL, "Dispute", HANDOFF_BLOCKS)

    assert caught.value.retry_after == 3.0
    assert caught.value.vendor_code == "ratelimited"


def test_slack_unreachable_is_transient_and_nothing_was_posted() -> None:
    client = SlackClient(TOKEN, base_url=f"http://127.0.0.1:{free_port()}/api")

    with client, pytest.raises(ConnectorUnavailable) as caught:
        client.post_message(CHANNEL, "Dispute", HANDOFF_BLOCKS)

    assert caught.value.maybe_delivered is False


# -- permanent failures --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "error"),
    [
        ("C0NOSUCH", "channel_not_found"),
        ("C0PRIVATE", "not_in_channel"),
        ("C0OLD", "is_archived"),
    ],
)
def test_channel_problems_are_permanent_with_the_slack_error(
    slack: FakeSlack, client: SlackClient, channel: str, error: str
) -> None:
    with pytest.raises(RequestRejected) as caught:
        client.post_message(channel, "Dispute", HANDOFF_BLOCKS)

    assert isinstance(caught.value, PermanentError)
    assert caught.value.code == "rejected"
    assert caught.value.vendor_code == error
    assert str(caught.value) == f"Slack chat.postMessage: {error}"
    assert slack.posts == []


def test_a_wrong_token_is_auth_failed_and_the_token_is_never_shown(slack: FakeSlack) -> None:
    with SlackClient("xoxb-wrong-secret", base_url=slack.base_url) as client:
        with pytest.raises(AuthenticationFailed) as caught:
            client.post_message(CHANNEL, "Dispute", HANDOFF_BLOCKS)

        assert "xoxb-wrong-secret" not in repr(client)
    assert caught.value.vendor_code == "invalid_auth"
    assert "xoxb-wrong-secret" not in str(caught.value)
    assert slack.posts == []


@pytest.mark.parametrize("error", ["token_revoked", "account_inactive", "not_authed"])
def test_revoked_or_inactive_credentials_are_auth_failed(
    slack: FakeSlack, client: SlackClient, error: str
) -> None:
    slack.fail_next(status=200, error=error)

    with pytest.raises(AuthenticationFailed) as caught:
        client.post_message(CHANNEL, "Dispute", HANDOFF_BLOCKS)

    assert caught.value.vendor_code == error


@pytest.mark.parametrize(
    ("blocks", "text", "error"),
    [
        ([{"type": "section", "text": "x"}, "not-a-block"], "Dispute", "invalid_blocks"),
        ([], "x" * 40_001, "msg_too_long"),
        ([], "", "no_text"),
    ],
)
def test_malformed_messages_are_permanent(
    client: SlackClient, blocks: list[object], text: str, error: str
) -> None:
    with pytest.raises(RequestRejected) as caught:
        client.post_message(CHANNEL, text, blocks)  # type: ignore[arg-type]

    assert caught.value.vendor_code == error


def test_an_empty_token_is_a_configuration_error() -> None:
    with pytest.raises(InvalidConfiguration):
        SlackClient("")


# -- the fake also speaks Slack's form encoding --------------------------------------------


def test_fake_accepts_form_encoded_posts_with_a_token_field(slack: FakeSlack) -> None:
    import httpx

    answer = httpx.post(
        f"{slack.base_url}/chat.postMessage",
        data={"token": TOKEN, "channel": CHANNEL, "text": "hi", "blocks": "[]"},
    )

    assert answer.json()["ok"] is True
    assert [(p.text, p.blocks) for p in slack.posts] == [("hi", [])]


# -- signature verification ----------------------------------------------------------------


def clicked(seconds_later: float) -> datetime:
    return datetime.fromtimestamp(CLICKED_AT, UTC) + timedelta(seconds=seconds_later)


def signed_click() -> tuple[bytes, dict[str, str]]:
    payload = block_actions_payload(action_id="take", value="case-17")
    return signed_interactivity_request(SIGNING_SECRET, payload, timestamp=CLICKED_AT)


def test_a_correctly_signed_button_click_is_accepted() -> None:
    body, headers = signed_click()

    verify_slack_signature(
        SIGNING_SECRET,
        headers["X-Slack-Request-Timestamp"],
        body,
        headers["X-Slack-Signature"],
        now=clicked(2),
    )

    assert parse_qs(body.decode())["payload"][0].startswith('{"type":"block_actions"')


def test_slacks_documented_example_signature_verifies() -> None:
    # The worked example from Slack's "Verifying requests from Slack" guide.
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&"
        b"channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&"
        b"command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2F"
        b"commands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&"
        b"trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    signature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"

    verify_slack_signature(
        SIGNING_SECRET,
        "1531420618",
        body,
        signature,
        now=datetime.fromtimestamp(1531420618 + 60, UTC),
    )


def test_a_tampered_body_is_rejected_as_mismatch() -> None:
    body, headers = signed_click()

    with pytest.raises(SignatureError) as caught:
        verify_slack_signature(
            SIGNING_SECRET,
            headers["X-Slack-Request-Timestamp"],
            body.replace(b"take", b"resolved"),
            headers["X-Slack-Signature"],
            now=clicked(2),
        )

    assert isinstance(caught.value, PermanentError)
    assert caught.value.code == "bad_signature"
    assert caught.value.reason == "mismatch"


def test_a_request_signed_with_another_secret_is_rejected() -> None:
    body, headers = signed_interactivity_request(
        "another-secret",
        block_actions_payload(action_id="take", value="case-17"),
        timestamp=CLICKED_AT,
    )

    with pytest.raises(SignatureError) as caught:
        verify_slack_signature(
            SIGNING_SECRET,
            headers["X-Slack-Request-Timestamp"],
            body,
            headers["X-Slack-Signature"],
            now=clicked(2),
        )

    assert caught.value.reason == "mismatch"


@pytest.mark.parametrize("seconds_later", [300.0, -300.0, 0.0])
def test_a_request_within_five_minutes_either_way_is_accepted(seconds_later: float) -> None:
    body, headers = signed_click()

    verify_slack_signature(
        SIGNING_SECRET,
        headers["X-Slack-Request-Timestamp"],
        body,
        headers["X-Slack-Signature"],
        now=clicked(seconds_later),
    )


@pytest.mark.parametrize("seconds_later", [301.0, -301.0, 3600.0])
def test_a_replayed_or_future_request_is_rejected_as_stale(seconds_later: float) -> None:
    body, headers = signed_click()

    with pytest.raises(SignatureError) as caught:
        verify_slack_signature(
            SIGNING_SECRET,
            headers["X-Slack-Request-Timestamp"],
            body,
            headers["X-Slack-Signature"],
            now=clicked(seconds_later),
        )

    assert caught.value.reason == "stale"


@pytest.mark.parametrize(
    ("timestamp", "signature", "reason"),
    [
        (None, "v0=abc", "missing"),
        (str(CLICKED_AT), None, "missing"),
        (str(CLICKED_AT), "", "missing"),
        ("yesterday", "v0=abc", "malformed"),
        ("-1", "v0=abc", "malformed"),
    ],
)
def test_missing_or_malformed_headers_are_rejected(
    timestamp: str | None, signature: str | None, reason: str
) -> None:
    body, _ = signed_click()

    with pytest.raises(SignatureError) as caught:
        verify_slack_signature(SIGNING_SECRET, timestamp, body, signature, now=clicked(2))

    assert caught.value.reason == reason


def test_verification_needs_an_aware_clock_and_a_configured_secret() -> None:
    body, headers = signed_click()
    args = (headers["X-Slack-Request-Timestamp"], body, headers["X-Slack-Signature"])

    with pytest.raises(ValueError, match="timezone-aware"):
        verify_slack_signature(SIGNING_SECRET, *args, now=datetime(2026, 11, 26, 12, 0))
    with pytest.raises(InvalidConfiguration):
        verify_slack_signature("", *args, now=clicked(2))
