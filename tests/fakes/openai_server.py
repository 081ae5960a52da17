"""A local fake of the OpenAI Chat Completions API, scripted response by response.

It serves ``POST /v1/chat/completions`` from stdlib ``http.server`` in a daemon thread on a free
loopback port and records every request. Responses come from a queue the test fills::

    with FakeOpenAI() as server:
        server.enqueue(json_reply({"intents": [...], "language": "en", "flags": []}))
        client = openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=0)
        ...
        assert server.requests[0].json["response_format"]["type"] == "json_schema"

Scripted replies: :func:`json_reply` (structured JSON content), :func:`text_reply`,
:func:`tool_call_reply`, :func:`refusal_reply`, :func:`invalid_json_reply`,
:func:`empty_choices_reply`, :func:`error_reply` (any status, e.g. 500),
:func:`rate_limited_reply` (429 with Retry-After), and :func:`delayed` around any of them
(to outlast a client timeout). With the queue empty the fake answers 500 with an error that
says so, and when constructed with ``echo_schema=True`` it answers a ``json_schema`` request
with :attr:`FakeOpenAI.default_json` instead.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CREATED = 1_700_000_000


@dataclass(frozen=True)
class Scripted:
    """One scripted HTTP answer: status, JSON body (or raw text), headers, delay in seconds."""

    status: int = 200
    body: Mapping[str, Any] | str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class RecordedRequest:
    """A request the fake received: path, headers (lower-cased names) and the decoded JSON."""

    path: str
    headers: dict[str, str]
    json: dict[str, Any]


def _completion(
    message: dict[str, Any], *, finish_reason: str = "stop", model: str = "fake-model"
) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "choices": [
            {"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}
        ],
        "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
    }


def text_reply(content: str, *, finish_reason: str = "stop") -> Scripted:
    """A plain assistant message with ``content``."""
    message = {"role": "assistant", "content": content, "refusal": None}
    return Scripted(body=_completion(message, finish_reason=finish_reason))


def json_reply(payload: Mapping[str, Any], *, finish_reason: str = "stop") -> Scripted:
    """Structured output: ``payload`` serialised as the message content."""
    return text_reply(json.dumps(payload), finish_reason=finish_reason)


def invalid_json_reply(content: str = '{"intents": [{"intent": "dispute",') -> Scripted:
    """Content that is not valid JSON (a truncated object by default)."""
    return text_reply(content)


def refusal_reply(refusal: str = "I'm sorry, I can't help with that.") -> Scripted:
    """A refusal: no content, ``message.refusal`` set."""
    message = {"role": "assistant", "content": None, "refusal": refusal}
    return Scripted(body=_completion(message))


def tool_call_reply(name: str, arguments: Mapping[str, Any]) -> Scripted:
    """An assistant message that calls tool ``name`` with JSON ``arguments``."""
    message = {
        "role": "assistant",
        "content": None,
        "refusal": None,
        "tool_calls": [
            {
                "id": "call_fake_1",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(arguments)},
            }
        ],
    }
    return Scripted(body=_completion(message, finish_reason="tool_calls"))


def empty_choices_reply() -> Scripted:
    """A well-formed completion with no choices at all."""
    body = _completion({"role": "assistant", "content": "{}"})
    return Scripted(body={**body, "choices": []})


def error_reply(
    status: int,
    message: str = "The server had an error while processing your request.",
    *,
    error_type: str = "server_error",
    headers: Mapping[str, str] | None = None,
) -> Scripted:
    """An API error in OpenAI's shape: ``{"error": {"message", "type", "code"}}``."""
    body = {"error": {"message": message, "type": error_type, "param": None, "code": None}}
    return Scripted(status=status, body=body, headers=dict(headers or {}))


def rate_limited_reply(retry_after: float = 1) -> Scripted:
    """HTTP 429 with ``Retry-After`` (seconds) and ``retry-after-ms``."""
    headers = {"Retry-After": str(int(retry_after)), "retry-after-ms": str(int(retry_after * 1000))}
    return error_reply(
        429, "Rate limit reached for requests", error_type="requests", headers=headers
    )


def delayed(seconds: float, scripted: Scripted) -> Scripted:
    """``scripted``, answered only after ``seconds`` (cut short when the fake stops)."""
    return replace(scripted, delay=seconds)


class FakeOpenAI:
    """Scripted OpenAI-compatible server on 127.0.0.1 that records requests; a context manager."""

    def __init__(self, *, echo_schema: bool = False) -> None:
        self.echo_schema = echo_schema
        self.default_json: dict[str, Any] = {}
        self._queue: deque[Scripted] = deque()
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> FakeOpenAI:
        """Bind a free loopback port and serve in a daemon thread."""
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="fake-openai",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake delayed answers and release the port."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/v1``, what an OpenAI client takes as ``base_url``."""
        assert self._server is not None, "start the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def enqueue(self, *scripted: Scripted) -> None:
        """Answer the next requests with ``scripted``, in order."""
        with self._lock:
            self._queue.extend(scripted)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in order."""
        with self._lock:
            return list(self._requests)

    @property
    def pending(self) -> int:
        """Scripted answers not yet used."""
        with self._lock:
            return len(self._queue)

    def _answer(self, path: str, headers: dict[str, str], payload: dict[str, Any]) -> Scripted:
        with self._lock:
            self._requests.append(RecordedRequest(path, headers, payload))
            if self._queue:
                return self._queue.popleft()
        response_format = payload.get("response_format") or {}
        if self.echo_schema and response_format.get("type") == "json_schema":
            return json_reply(self.default_json)
        return error_reply(500, "fake OpenAI server: no scripted response left")


class _Handler(BaseHTTPRequestHandler):
    owner: FakeOpenAI

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        return

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            payload = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            payload = {"_raw": raw.decode("utf-8", "replace")}
        headers = {k.lower(): v for k, v in self.headers.items()}
        if self.path.rstrip("/") not in {"/v1/chat/completions", "/chat/completions"}:
            self._send(error_reply(404, f"unknown path {self.path}", error_type="invalid_request"))
            return
        scripted = self.owner._answer(self.path, headers, payload)
        if scripted.delay:
            self.owner._stopping.wait(scripted.delay)
        self._send(scripted)

    def _send(self, scripted: Scripted) -> None:
        if isinstance(scripted.body, str):
            data, kind = scripted.body.encode(), "text/plain; charset=utf-8"
        else:
            data, kind = json.dumps(scripted.body or {}).encode(), "application/json"
        try:
            self.send_response(scripted.status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            for name, value in scripted.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test); nothing left to tell it
