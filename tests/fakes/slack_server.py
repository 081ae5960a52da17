"""A local fake of the Slack Web API (chat.postMessage, chat.update) and signed interactivity.

It follows Slack's documented behaviour (slack_web_openapi_v2.json in shared/specs/slack):
HTTP 200 with ``{"ok": false, "error": ...}`` for API errors, HTTP 429 with ``Retry-After`` and
``{"ok": false, "error": "ratelimited"}`` when rate limited, form-encoded or JSON bodies, the
token as ``Authorization: Bearer`` (or a ``token`` form field). It runs stdlib ``http.server``
in a daemon thread on a free loopback port and records every accepted post::

    with FakeSlack(token="xoxb-test", channels={"C0FINANCE"}) as slack:
        client = SlackClient("xoxb-test", base_url=slack.base_url)
        slack.fail_next(status=429, retry_after=7)
        ...
        assert slack.posts[0].channel == "C0FINANCE"

:func:`signed_interactivity_request` builds a button click as Slack sends it (form body
``payload=<json>``, ``X-Slack-Request-Timestamp``, ``X-Slack-Signature``), signed here
independently of ``connectors.slack`` so tests cross-check the verifier.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode

MAX_TEXT_LENGTH = 40_000
FIRST_TS_SECONDS = 1_700_000_000


@dataclass(frozen=True)
class RecordedPost:
    """A message the fake accepted (chat.postMessage) or its latest state after chat.update."""

    channel: str
    ts: str
    text: str | None
    blocks: list[dict[str, Any]] | None
    thread_ts: str | None


@dataclass(frozen=True)
class RecordedUpdate:
    """A chat.update the fake accepted."""

    channel: str
    ts: str
    text: str | None
    blocks: list[dict[str, Any]] | None


@dataclass
class _ScriptedFailure:
    status: int
    error: str | None
    retry_after: str | None
    body: bytes | None


@dataclass
class _State:
    token: str
    channels: set[str]
    not_in_channel: set[str]
    archived: set[str]
    lock: threading.Lock = field(default_factory=threading.Lock)
    failures: deque[_ScriptedFailure] = field(default_factory=deque)
    posts: list[RecordedPost] = field(default_factory=list)
    updates: list[RecordedUpdate] = field(default_factory=list)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    counter: int = 0


class FakeSlack:
    """The fake server. ``base_url`` is what ``SlackClient(base_url=...)`` takes."""

    def __init__(
        self,
        *,
        token: str = "xoxb-fake-token",
        channels: Iterable[str] = ("C0FINANCE",),
        not_in_channel: Iterable[str] = (),
        archived: Iterable[str] = (),
    ) -> None:
        all_channels = set(channels) | set(not_in_channel) | set(archived)
        self._state = _State(
            token=token,
            channels=all_channels,
            not_in_channel=set(not_in_channel),
            archived=set(archived),
        )
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        """Bind a free port on 127.0.0.1 and serve in a daemon thread."""
        state = self._state

        class Handler(_SlackHandler):
            pass

        Handler.state = state
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},  # shutdown() waits for one poll
            name="fake-slack",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/api``, the Web API root."""
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/api"

    # -- scripting -------------------------------------------------------------------------

    def fail_next(
        self,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: float | str | None = None,
        times: int = 1,
        body: bytes | None = None,
    ) -> None:
        """Answer the next ``times`` API calls with a failure instead of processing them.

        ``status=429`` answers ``{"ok": false, "error": "ratelimited"}`` with ``Retry-After``;
        ``status=200, error="fatal_error"`` an ``ok: false`` error; ``status=500`` a plain-text
        server error (as Slack's edge does) unless ``body``/``error`` say otherwise.
        """
        if status == 429 and error is None:
            error = "ratelimited"
        failure = _ScriptedFailure(
            status=status,
            error=error,
            retry_after=None if retry_after is None else str(retry_after),
            body=body,
        )
        with self._state.lock:
            self._state.failures.extend([failure] * times)

    # -- what happened ---------------------------------------------------------------------

    @property
    def posts(self) -> list[RecordedPost]:
        """Accepted chat.postMessage calls, in order (with their latest text after updates)."""
        with self._state.lock:
            return list(self._state.posts)

    @property
    def updates(self) -> list[RecordedUpdate]:
        """Accepted chat.update calls, in order."""
        with self._state.lock:
            return list(self._state.updates)

    @property
    def requests(self) -> list[tuple[str, dict[str, str]]]:
        """Every API call received, failed or not: ``(method, headers)``."""
        with self._state.lock:
            return list(self._state.requests)


class _SlackHandler(BaseHTTPRequestHandler):
    state: _State
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        return

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if not self.path.startswith("/api/"):
            self._send(HTTPStatus.NOT_FOUND, b"Not Found", "text/plain")
            return
        method = self.path[len("/api/") :].split("?", 1)[0]
        state = self.state
        with state.lock:
            state.requests.append((method, {k.lower(): v for k, v in self.headers.items()}))
            failure = state.failures.popleft() if state.failures else None
        if failure is not None:
            self._send_failure(failure)
            return
        handler = {"chat.postMessage": self._post_message, "chat.update": self._update}.get(method)
        if handler is None:
            self._send_json({"ok": False, "error": "unknown_method"}, HTTPStatus.NOT_FOUND)
            return
        args = self._parse_body(raw)
        if isinstance(args, str):
            self._send_json({"ok": False, "error": args})
            return
        auth_error = self._check_auth(args)
        if auth_error is not None:
            self._send_json({"ok": False, "error": auth_error})
            return
        self._send_json(handler(args))

    def do_GET(self) -> None:
        self._send(HTTPStatus.METHOD_NOT_ALLOWED, b"POST only", "text/plain")

    # -- request parsing -------------------------------------------------------------------

    def _parse_body(self, raw: bytes) -> dict[str, Any] | str:
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type == "application/json":
            try:
                body = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                return "invalid_json"
            if not isinstance(body, dict):
                return "json_not_object"
            return body
        if content_type in ("application/x-www-form-urlencoded", ""):
            form = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8"), True).items()}
            args: dict[str, Any] = dict(form)
            if "blocks" in form:
                try:
                    args["blocks"] = json.loads(form["blocks"])
                except ValueError:
                    return "invalid_blocks"
            return args
        return "invalid_post_type"

    def _check_auth(self, args: Mapping[str, Any]) -> str | None:
        header = self.headers.get("Authorization") or ""
        token = header[len("Bearer ") :] if header.startswith("Bearer ") else args.get("token")
        if not token:
            return "not_authed"
        if not hmac.compare_digest(str(token), self.state.token):
            return "invalid_auth"
        return None

    def _check_channel(self, channel: Any) -> str | None:
        if not channel or channel not in self.state.channels:
            return "channel_not_found"
        if channel in self.state.archived:
            return "is_archived"
        if channel in self.state.not_in_channel:
            return "not_in_channel"
        return None

    @staticmethod
    def _check_content(args: Mapping[str, Any]) -> str | None:
        text, blocks = args.get("text"), args.get("blocks")
        if blocks is not None and (
            not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks)
        ):
            return "invalid_blocks"
        if not text and not blocks:
            return "no_text"
        if text is not None and len(str(text)) > MAX_TEXT_LENGTH:
            return "msg_too_long"
        return None

    # -- methods ---------------------------------------------------------------------------

    def _post_message(self, args: Mapping[str, Any]) -> dict[str, Any]:
        channel = args.get("channel")
        error = self._check_channel(channel) or self._check_content(args)
        if error is not None:
            return {"ok": False, "error": error}
        state = self.state
        with state.lock:
            state.counter += 1
            ts = f"{FIRST_TS_SECONDS + state.counter}.{state.counter:06d}"
            post = RecordedPost(
                channel=str(channel),
                ts=ts,
                text=args.get("text"),
                blocks=args.get("blocks"),
                thread_ts=args.get("thread_ts"),
            )
            state.posts.append(post)
        message: dict[str, Any] = {
            "type": "message",
            "subtype": "bot_message",
            "bot_id": "B0FAKEBOT",
            "text": post.text or "",
            "ts": ts,
        }
        if post.blocks:
            message["blocks"] = post.blocks
        if post.thread_ts:
            message["thread_ts"] = post.thread_ts
        return {"ok": True, "channel": post.channel, "ts": ts, "message": message}

    def _update(self, args: Mapping[str, Any]) -> dict[str, Any]:
        channel = args.get("channel")
        error = self._check_channel(channel)
        if error is not None:
            return {"ok": False, "error": error}
        ts = args.get("ts")
        state = self.state
        with state.lock:
            index = next(
                (i for i, p in enumerate(state.posts) if p.channel == channel and p.ts == ts),
                None,
            )
            if index is None:
                return {"ok": False, "error": "message_not_found"}
            old = state.posts[index]
            blocks = args.get("blocks", old.blocks)
            text = args.get("text", old.text)
            state.posts[index] = RecordedPost(old.channel, old.ts, text, blocks, old.thread_ts)
            state.updates.append(RecordedUpdate(old.channel, old.ts, text, blocks))
        return {
            "ok": True,
            "channel": old.channel,
            "ts": old.ts,
            "text": text or "",
            "message": {"text": text or "", "blocks": blocks or []},
        }

    # -- responses -------------------------------------------------------------------------

    def _send_failure(self, failure: _ScriptedFailure) -> None:
        headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
        if failure.body is not None:
            self._send(failure.status, failure.body, "text/plain", headers)
        elif failure.error is not None:
            self._send_json({"ok": False, "error": failure.error}, failure.status, headers)
        else:
            phrase = HTTPStatus(failure.status).phrase.encode()
            self._send(failure.status, phrase, "text/plain", headers)

    def _send_json(
        self, body: Mapping[str, Any], status: int = 200, headers: Mapping[str, str] | None = None
    ) -> None:
        data = json.dumps(body).encode("utf-8")
        self._send(status, data, "application/json; charset=utf-8", headers)

    def _send(
        self,
        status: int,
        data: bytes,
        content_type: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


# -- interactivity -------------------------------------------------------------------------


def block_actions_payload(
    *,
    action_id: str,
    value: str,
    channel_id: str = "C0FINANCE",
    message_ts: str = "1700000001.000001",
    user_id: str = "U0OWNER",
    user_name: str = "owner",
    block_id: str = "actions",
    team_id: str = "T0FAKE",
    response_url: str = "http://127.0.0.1:9/response",
    trigger_id: str = "1337.42.abcdef",
) -> dict[str, Any]:
    """A ``block_actions`` payload for a click on a button, shaped as Slack sends it."""
    return {
        "type": "block_actions",
        "team": {"id": team_id, "domain": "fake"},
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id},
        "api_app_id": "A0FAKEAPP",
        "token": "deprecated-verification-token",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        },
        "trigger_id": trigger_id,
        "channel": {"id": channel_id, "name": "finance"},
        "message": {"type": "message", "ts": message_ts, "text": "", "blocks": []},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "text": {"type": "plain_text", "text": action_id, "emoji": True},
                "action_ts": message_ts,
            }
        ],
    }


def signed_interactivity_request(
    signing_secret: str,
    payload: Mapping[str, Any],
    *,
    timestamp: int,
) -> tuple[bytes, dict[str, str]]:
    """The raw body and headers of an interactivity POST signed with ``signing_secret``.

    The body is ``payload=<url-encoded JSON>`` (form encoded); the headers carry
    ``Content-Type``, ``X-Slack-Request-Timestamp`` and ``X-Slack-Signature``.
    """
    body = urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode("ascii")
    base = f"v0:{timestamp}:".encode("ascii") + body
    digest = hmac.new(signing_secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": f"v0={digest}",
    }
    return body, headers
