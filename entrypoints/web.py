"""`closeloop serve`: the HTTP side — Slack interactivity (signed), health.

A Slack button click is verified (``X-Slack-Signature`` over the raw body, 5-minute replay
window) before anything is read from it; the decision then goes through the same path as
``closeloop handoffs resolve`` — for inbox cases that resumes the agent's LangGraph thread, and
a repeated click finds the case decided and does nothing.
"""

# No ``from __future__ import annotations`` here: FastAPI reads the endpoint's annotations at
# run time, and ``Request`` is imported inside create_web_app (kept out of CLI start-up); as a
# string it would not resolve and FastAPI would take ``request`` for a required query parameter.
import json
from typing import Any
from urllib.parse import parse_qs

from entrypoints.bootstrap import App

ACTIONS = {
    "take": "take",
    "approve_reply": "approve_reply",
    "not_dispute": "not_dispute",
    "resolved": "resolved",
}


def create_web_app(app: App) -> Any:
    """The FastAPI application over ``app``."""
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, PlainTextResponse
    from starlette.concurrency import run_in_threadpool

    from connectors.errors import SignatureError
    from connectors.slack import verify_slack_signature
    from entrypoints.decisions import apply_decision

    web = FastAPI(title="closeloop", docs_url=None, redoc_url=None)

    @web.get("/healthz")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @web.post("/slack/actions")
    async def slack_actions(request: Request) -> Any:
        secret = app.settings.slack_signing_secret
        if secret is None:
            return JSONResponse({"error": "slack is not configured"}, status_code=503)
        body = await request.body()
        try:
            verify_slack_signature(
                secret.get_secret_value(),
                request.headers.get("x-slack-request-timestamp"),
                body,
                request.headers.get("x-slack-signature"),
                app.clock.now(),
            )
        except SignatureError as exc:
            return JSONResponse({"error": "bad signature", "reason": exc.reason}, status_code=401)
        try:
            payload = json.loads(parse_qs(body.decode("utf-8"))["payload"][0])
            action = payload["actions"][0]
            decision = ACTIONS[action["action_id"]]
            handoff_id = int(action["value"])
            user = payload.get("user", {})
            actor = f"slack:{user.get('id') or user.get('username') or 'unknown'}"
        except (KeyError, IndexError, ValueError, json.JSONDecodeError):
            return JSONResponse(
                {"error": "not a block action closeloop understands"}, status_code=400
            )
        try:
            # The decision touches the database and may resume the agent: off the event loop.
            outcome = await run_in_threadpool(
                apply_decision, app, handoff_id, decision=decision, actor=actor
            )
        except Exception as exc:  # answer Slack within its 3 s, with the reason, never a 500
            code = getattr(exc, "code", type(exc).__name__)
            return JSONResponse({"error": str(code), "detail": str(exc)[:200]}, status_code=200)
        return PlainTextResponse(outcome)

    return web


def serve(app: App, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Run the web app with uvicorn."""
    import uvicorn

    uvicorn.run(create_web_app(app), host=host, port=port, log_level="info")
