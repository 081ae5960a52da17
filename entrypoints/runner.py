"""One billing cycle, and the worker loop: recurring cycles → chase → deliveries (→ inbox).

Safe to run from cron every minute and from several machines at once: every step is keyed in
the database (trigger natural keys, one row per chase step, outbox idempotency keys, outbox
claims with SKIP LOCKED / BEGIN IMMEDIATE), so nothing happens twice.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from entrypoints.bootstrap import App
from tools.chase import ChaseReport, run_chase
from tools.delivery import DeliveryReport, Handler, deliver_outbox
from tools.ports import ComposedEmail, MailComposer
from tools.recurring import RecurringReport, run_subscriptions
from tools.sending import send_on_issue


def composer() -> MailComposer:
    """The email composer of render/ (Jinja2 templates in five languages)."""
    from render.emails import compose_email

    def compose(name: str, language: str, context: Mapping[str, Any]) -> ComposedEmail:
        out = compose_email(name, language, context)
        return ComposedEmail(subject=out.subject, text=out.text, html=out.html)

    return compose


@dataclass
class Services:
    """The adapters a cycle needs, built from settings (embedded defaults when unset)."""

    mailer: Any
    slack: Any | None
    slack_channel: str | None
    compose: MailComposer
    handlers: dict[str, Handler] = field(default_factory=dict)
    _agent: Any = None

    def agent(self, app: App) -> Any:
        """The inbox agent, built on first use (LangGraph loads only when mail is read)."""
        if self._agent is None:
            from entrypoints.agent_wiring import build_agent

            self._agent = build_agent(app, slack_channel=self.slack_channel)
        return self._agent


def build_services(app: App, *, mailer: Any | None = None, slack: Any | None = None) -> Services:
    """Mailer (SMTP URL or the local Maildir), Slack (if configured), handlers."""
    from connectors.smtp import mailer_from_url
    from entrypoints.handlers import accounting_handler, email_handler, slack_handler

    settings = app.settings
    if mailer is None:
        url = settings.smtp_url.get_secret_value() if settings.smtp_url else None
        mailer = mailer_from_url(url, Path(app.data_dir) / "mail" / "sent")
    channel = settings.slack_channel
    if slack is None and settings.slack_bot_token and channel:
        from connectors.slack import SlackClient

        slack = SlackClient(
            settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url
        )
    services = Services(
        mailer=mailer, slack=slack, slack_channel=channel if slack else None, compose=composer()
    )
    services.handlers["email"] = email_handler(app.ledgers, mailer, app.clock)
    if slack is not None:
        services.handlers["slack"] = slack_handler(slack)
    from connectors.accounting_local import LocalAccounting

    services.handlers["accounting"] = accounting_handler(
        app.ledgers, LocalAccounting(Path(app.data_dir) / "accounting")
    )
    return services


@dataclass
class CycleReport:
    """What one `closeloop run` did."""

    recurring: RecurringReport
    chase: ChaseReport
    delivery: DeliveryReport
    extra: dict[str, Any] = field(default_factory=dict)


def worker_id() -> str:
    """host:pid — recorded on every outbox claim."""
    return f"{socket.gethostname()}:{os.getpid()}"


def inbox_may_have_mail(app: App) -> bool:
    """False only when there is certainly nothing to read: no IMAP configured and the local
    inbox Maildir holds no message. Saves a cron-started ``run`` from loading the agent stack."""
    if app.settings.imap_url:
        return True
    box = Path(app.data_dir) / "mail" / "inbox"
    return any((box / sub).is_dir() and any((box / sub).iterdir()) for sub in ("new", "cur"))


def run_cycle(
    app: App, services: Services, *, deliver: bool = True, inbox: bool = True
) -> CycleReport:
    """Due recurring cycles, new mail in the billing inbox, due chase steps and escalations,
    then pending sends. The inbox goes before the chase so that a promise, a dispute or an
    out-of-office that just arrived pauses the step it concerns."""
    hooks = [send_on_issue(services.compose)]
    recurring = run_subscriptions(app.ledgers, app.clock, on_issued=hooks)
    extra: dict[str, Any] = {}
    if inbox and inbox_may_have_mail(app):
        from entrypoints.agent_wiring import poll_inbox

        extra["inbox"] = poll_inbox(app, lambda: services.agent(app))
    chase = run_chase(
        app.ledgers, app.clock, services.compose, slack_channel=services.slack_channel
    )
    delivery = DeliveryReport()
    if deliver:
        delivery = deliver_outbox(
            app.ledgers,
            services.handlers,
            app.clock,
            worker=worker_id(),
            composer=services.compose,
            slack_channel=services.slack_channel,
            lease=timedelta(minutes=10),
        )
    return CycleReport(recurring, chase, delivery, extra)


def run_worker(
    app: App,
    services: Services,
    *,
    interval: float = 60.0,
    stop: threading.Event | None = None,
    on_cycle: Any = None,
) -> int:
    """`closeloop run` in a loop until SIGTERM/SIGINT; finishes the current cycle first."""
    stop = stop or threading.Event()

    def _stop(signum: int, _frame: Any) -> None:
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
    cycles = 0
    while not stop.is_set():
        report = run_cycle(app, services)
        cycles += 1
        if on_cycle is not None:
            on_cycle(report)
        stop.wait(interval)
    return cycles
