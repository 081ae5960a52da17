"""Delivery failures through real servers: SMTP 4xx retried, 5xx dead-lettered with the owner
told, Slack errors retried until the post lands, a missing channel kept as a local hand-off.

SMTP is aiosmtpd (``FakeSmtpServer``) with scripted replies; Slack is ``FakeSlack`` over HTTP.
The clock is fixed and moved by hand, so every retry time is exact (RetryPolicy: 30 s × 2^n).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest

from billing.invoice import LineInput
from billing.records import OutboxClaim, OutboxItem, Trigger
from connectors.slack import SlackClient
from connectors.smtp import SmtpMailer
from entrypoints.bootstrap import App
from entrypoints.runner import Services, build_services, run_cycle, worker_id
from entrypoints.settings import Settings
from storage.engine import Database
from storage.ledger import SqlLedgerFactory
from tests.fakes.slack_server import FakeSlack
from tests.fakes.smtp_server import FakeSmtpServer
from tools.clock import FixedClock
from tools.delivery import deliver_outbox
from tools.issuing import issue_invoice
from tools.sending import send_on_issue

KESTREL = "finance@kestrel-outdoor.example"
ADA = "ada@lighthouse-studio.example"
ADA_ID = "own-ada"
PINE = "LS-2026-0044"  # imported, due 2026-11-04, Los Angeles; owner Ada
PINE_ESCALATION_DAY = datetime(2026, 11, 18, 18, 0, tzinfo=UTC)  # 10:00 in Los Angeles
LINE = {"description": "Brand work", "quantity": "1", "unit_price": "1200.00", "vat_rate": "20"}


@pytest.fixture
def smtp() -> Iterator[FakeSmtpServer]:
    with FakeSmtpServer() as server:
        yield server


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(token="xoxb-test", channels={"C0FINANCE"}) as server:
        yield server


def _app(db: Database, ledgers: SqlLedgerFactory, clock: FixedClock, tmp: Path, **kw: Any) -> App:
    return App(Settings(data_dir=str(tmp / "data"), **kw), db, ledgers, clock)


@pytest.fixture
def slack_client(slack: FakeSlack) -> Iterator[SlackClient]:
    with SlackClient("xoxb-test", base_url=slack.base_url) as client:
        yield client


def _services(app: App, smtp: FakeSmtpServer, slack: SlackClient | None = None) -> Services:
    return build_services(app, mailer=SmtpMailer(smtp.url()), slack=slack)


def _deliver(app: App, services: Services) -> Any:
    return deliver_outbox(
        app.ledgers,
        services.handlers,
        app.clock,
        worker=worker_id(),
        composer=services.compose,
        slack_channel=services.slack_channel,
    )


def _issue_kestrel(app: App, services: Services) -> str:
    trigger = Trigger("asana", "task-1", "cl-kestrel", (LineInput.from_mapping(LINE),))
    result = issue_invoice(
        app.ledgers, trigger, clock=app.clock, on_issued=[send_on_issue(services.compose)]
    )
    return result.number


def _events(app: App, number: str) -> list[str]:
    with app.ledgers() as ledger:
        return [e.kind.value for e in ledger.events(number)]


def _row(app: App, key: str) -> Any:
    with app.ledgers() as ledger:
        (row,) = [r for r in ledger.outbox_rows() if r.idempotency_key == key]
    return row


def test_smtp_450_then_421_are_retried_with_backoff_and_the_third_attempt_delivers_once(
    db: Database,
    ledgers: SqlLedgerFactory,
    world: dict[str, Any],
    clock: FixedClock,
    smtp: FakeSmtpServer,
    tmp_path: Path,
) -> None:
    app = _app(db, ledgers, clock, tmp_path)
    services = _services(app, smtp)
    number = _issue_kestrel(app, services)
    key = f"invoice:{number}:issue"
    smtp.reply("DATA", "421 4.3.0 Service busy, try later", times=1)
    smtp.reply("RCPT", "450 4.2.1 Mailbox busy", recipient=KESTREL, times=1)
    t0 = clock.now()

    first = _deliver(app, services)
    assert (first.sent, first.retried, first.dead) == (0, 1, 0)
    assert _row(app, key).next_attempt_at == t0 + timedelta(seconds=30)
    assert _deliver(app, services).handled == 0  # not due yet: nothing happens

    clock.set(t0 + timedelta(seconds=30))
    second = _deliver(app, services)
    assert (second.sent, second.retried) == (0, 1)
    assert _row(app, key).next_attempt_at == t0 + timedelta(seconds=90)

    clock.set(t0 + timedelta(seconds=90))
    third = _deliver(app, services)
    assert (third.sent, third.retried, third.dead) == (1, 0, 0)

    row = _row(app, key)
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)
    assert len(smtp.messages) == 1 and smtp.messages[0].rcpt_tos == (KESTREL,)
    assert [a.reply[:3] for a in smtp.attempts if a.stage == "DATA"] == ["421", "250"]
    assert _events(app, number)[-3:] == ["delivery_retried", "delivery_retried", "invoice_sent"]
    with app.ledgers() as ledger:
        retried = [e.summary for e in ledger.events(number) if e.kind.value == "delivery_retried"]
    assert "450 4.2.1" in retried[0] and "421 4.3.0" in retried[1]  # RCPT comes before DATA


def test_smtp_550_dead_letters_the_email_records_it_and_tells_the_owner(
    db: Database,
    ledgers: SqlLedgerFactory,
    world: dict[str, Any],
    clock: FixedClock,
    smtp: FakeSmtpServer,
    tmp_path: Path,
) -> None:
    app = _app(db, ledgers, clock, tmp_path)
    services = _services(app, smtp)
    number = _issue_kestrel(app, services)
    smtp.reply("RCPT", f"550 5.1.1 <{KESTREL}>: user unknown", recipient=KESTREL)

    report = _deliver(app, services)

    # the invoice email died; the owner's notice was queued and went out in the same pass
    assert (report.dead, report.sent, report.retried) == (1, 1, 0)
    issue_row = _row(app, f"invoice:{number}:issue")
    assert (issue_row.status, issue_row.attempts) == ("dead", 1)
    assert "550" in (issue_row.last_error or "")
    notice_row = _row(app, f"delivery-failed:invoice:{number}:issue")
    assert notice_row.status == "sent"
    assert [m.rcpt_tos for m in smtp.messages] == [(ADA,)]
    notice = message_from_bytes(smtp.messages[0].data)
    assert number in str(notice["Subject"])
    with app.ledgers() as ledger:
        (handoff,) = ledger.handoffs()
        failed = [e for e in ledger.events(number) if e.kind.value == "delivery_failed"]
    assert (handoff.kind, handoff.status, handoff.owner_id) == ("delivery_failed", "open", ADA_ID)
    assert handoff.invoices == (number,)
    assert len(failed) == 1 and failed[0].data["code"] == "550"
    assert _events(app, number)[-4:] == [
        "invoice_queued",
        "delivery_failed",
        "handed_off",
        "handed_off",  # the owner's notice was delivered
    ]
    assert _deliver(app, services).handled == 0  # nothing retried, nothing re-sent


def test_a_bouncing_owner_address_is_handed_off_once_not_emailed_about_itself(
    db: Database,
    ledgers: SqlLedgerFactory,
    world: dict[str, Any],
    clock: FixedClock,
    smtp: FakeSmtpServer,
    tmp_path: Path,
) -> None:
    app = _app(db, ledgers, clock, tmp_path)
    services = _services(app, smtp)
    clock.set(PINE_ESCALATION_DAY)
    smtp.reply("RCPT", "550 5.1.1 mailbox gone", recipient=ADA)

    report = run_cycle(app, services)

    # the escalation to Ada bounced: one hand-off, no notice mailed to the same dead address
    assert (report.chase.sent, report.delivery.dead, report.delivery.sent) == (1, 1, 0)
    assert smtp.messages == []
    with app.ledgers() as ledger:
        cases = [(h.kind, h.invoices) for h in ledger.handoffs()]
        rows = [(r.idempotency_key, r.status) for r in ledger.outbox_rows()]
        history = {r.step_key: r.status for r in ledger.chase_history(PINE)}
    assert cases == [("escalation", (PINE,)), ("delivery_failed", (PINE,))]
    assert rows == [(f"chase:{PINE}:escalation", "dead")]
    assert history == {"gentle": "skipped", "firm": "skipped", "escalation": "failed"}


def test_slack_fatal_error_429_and_500_are_retried_until_the_escalation_post_lands_once(
    db: Database,
    ledgers: SqlLedgerFactory,
    world: dict[str, Any],
    clock: FixedClock,
    smtp: FakeSmtpServer,
    slack: FakeSlack,
    slack_client: SlackClient,
    tmp_path: Path,
) -> None:
    app = _app(db, ledgers, clock, tmp_path, slack_channel="C0FINANCE")
    services = _services(app, smtp, slack_client)
    key = f"chase:{PINE}:escalation:slack"
    slack.fail_next(status=200, error="fatal_error")
    slack.fail_next(status=429, retry_after=120)
    slack.fail_next(status=500)
    t0 = PINE_ESCALATION_DAY
    clock.set(t0)

    first = run_cycle(app, services)
    assert (first.delivery.sent, first.delivery.retried) == (1, 1)  # email out, Slack retried
    assert _row(app, key).next_attempt_at == t0 + timedelta(seconds=30)

    clock.set(t0 + timedelta(seconds=30))
    assert run_cycle(app, services).delivery.retried == 1  # 429: Retry-After beats 60 s
    assert _row(app, key).next_attempt_at == t0 + timedelta(seconds=150)

    clock.set(t0 + timedelta(seconds=150))
    assert run_cycle(app, services).delivery.retried == 1  # 500
    assert _row(app, key).next_attempt_at == t0 + timedelta(seconds=270)

    clock.set(t0 + timedelta(seconds=270))
    last = run_cycle(app, services)
    assert (last.delivery.sent, last.delivery.retried, last.delivery.dead) == (1, 0, 0)

    assert [p.channel for p in slack.posts] == ["C0FINANCE"]
    assert PINE in (slack.posts[0].text or "")
    assert len(slack.requests) == 4
    row = _row(app, key)
    assert (row.status, row.attempts) == ("sent", 4)
    with app.ledgers() as ledger:
        (handoff,) = ledger.handoffs()
        retried = [e.summary for e in ledger.events(PINE) if e.kind.value == "delivery_retried"]
    assert handoff.slack_ts == slack.posts[0].ts
    assert [("fatal_error" in s, "HTTP 429" in s, "HTTP 500" in s) for s in retried] == [
        (True, False, False),
        (False, True, False),
        (False, False, True),
    ]
    assert len(smtp.messages) == 1  # the escalation email went once, on the first pass


def test_slack_channel_not_found_dead_letters_the_post_and_keeps_the_case_in_the_local_queue(
    db: Database,
    ledgers: SqlLedgerFactory,
    world: dict[str, Any],
    clock: FixedClock,
    smtp: FakeSmtpServer,
    slack: FakeSlack,
    slack_client: SlackClient,
    tmp_path: Path,
) -> None:
    app = _app(db, ledgers, clock, tmp_path, slack_channel="C0GONE")
    services = _services(app, smtp, slack_client)
    clock.set(PINE_ESCALATION_DAY)

    report = run_cycle(app, services)

    assert (report.delivery.sent, report.delivery.dead, report.delivery.retried) == (1, 1, 0)
    assert slack.posts == []
    row = _row(app, f"chase:{PINE}:escalation:slack")
    assert row.status == "dead" and "channel_not_found" in (row.last_error or "")
    with app.ledgers() as ledger:
        (case,) = ledger.handoffs(statuses=["open"])
        failed = [e.data for e in ledger.events(PINE) if e.kind.value == "delivery_failed"]
    assert (case.kind, case.invoices, case.slack_ts) == ("escalation", (PINE,), None)
    assert [d["code"] for d in failed] == ["channel_not_found"]
    clock.set(PINE_ESCALATION_DAY + timedelta(days=1))
    assert run_cycle(app, services).delivery.handled == 0  # not retried, not re-queued


def test_a_row_left_sending_by_a_dead_worker_is_reclaimed_after_the_lease(
    db: Database,
    ledgers: SqlLedgerFactory,
    world: dict[str, Any],
    clock: FixedClock,
    smtp: FakeSmtpServer,
    tmp_path: Path,
) -> None:
    app = _app(db, ledgers, clock, tmp_path)
    services = _services(app, smtp)
    number = _issue_kestrel(app, services)
    t0 = clock.now()
    with app.ledgers() as ledger:  # a worker claims the row, then dies before sending
        (claim,) = ledger.claim_outbox("dead-host:1", t0, lease=timedelta(minutes=10))
    assert claim.reclaimed is False

    clock.set(t0 + timedelta(minutes=9))
    assert _deliver(app, services).handled == 0  # the lease still holds

    clock.set(t0 + timedelta(minutes=10, seconds=1))
    report = _deliver(app, services)

    assert (report.reclaimed, report.sent) == (1, 1)
    row = _row(app, f"invoice:{number}:issue")
    assert (row.status, row.attempts) == ("sent", 2)
    assert len(smtp.messages) == 1


def test_an_unexpected_handler_error_is_retried_and_does_not_stop_the_other_rows(
    db: Database,
    ledgers: SqlLedgerFactory,
    world: dict[str, Any],
    clock: FixedClock,
    smtp: FakeSmtpServer,
    tmp_path: Path,
) -> None:
    app = _app(db, ledgers, clock, tmp_path)
    services = _services(app, smtp)
    first = _issue_kestrel(app, services)
    second = issue_invoice(
        app.ledgers,
        Trigger("asana", "task-2", "cl-kestrel", (LineInput.from_mapping(LINE),)),
        clock=clock,
        on_issued=[send_on_issue(services.compose)],
    ).number
    real = services.handlers["email"]

    def flaky(claim: OutboxClaim) -> Mapping[str, Any]:
        if claim.invoice_number == first:
            raise RuntimeError("template engine exploded")
        return real(claim)

    services.handlers["email"] = flaky

    report = _deliver(app, services)

    assert (report.retried, report.sent, report.dead) == (1, 1, 0)
    broken = _row(app, f"invoice:{first}:issue")
    assert (broken.status, broken.last_error) == (
        "pending",
        "handler_error: RuntimeError: template engine exploded",
    )
    assert _row(app, f"invoice:{second}:issue").status == "sent"
    services.handlers["email"] = real
    clock.set(clock.now() + timedelta(seconds=30))
    assert _deliver(app, services).sent == 1
    assert sorted(m.rcpt_tos for m in smtp.messages) == [(KESTREL,), (KESTREL,)]


class _RateLimitedAfterFirstPost:
    """The real Slack client; the fake server rate-limits the call after the first post."""

    def __init__(self, client: SlackClient, server: FakeSlack) -> None:
        self.client, self.server, self.calls = client, server, 0

    def post_message(self, *args: Any, **kwargs: Any) -> Any:
        result = self.client.post_message(*args, **kwargs)
        self.calls += 1
        if self.calls == 1:
            self.server.fail_next(status=429, retry_after=30)
        return result


def test_a_thread_reply_failing_after_the_message_was_posted_never_posts_the_message_twice(
    db: Database,
    ledgers: SqlLedgerFactory,
    world: dict[str, Any],
    clock: FixedClock,
    smtp: FakeSmtpServer,
    slack: FakeSlack,
    slack_client: SlackClient,
    tmp_path: Path,
) -> None:
    app = _app(db, ledgers, clock, tmp_path, slack_channel="C0FINANCE")
    services = build_services(
        app,
        mailer=SmtpMailer(smtp.url()),
        slack=_RateLimitedAfterFirstPost(slack_client, slack),
    )
    with app.ledgers() as ledger:
        ledger.enqueue(
            OutboxItem(
                idempotency_key="slack:handoff-case-1",
                kind="slack",
                invoice_number=PINE,
                payload={
                    "channel": "C0FINANCE",
                    "text": f"Dispute on {PINE}",
                    "thread": [{"text": "timeline"}, {"text": "the email"}],
                    "event": "handed_off",
                },
            ),
            clock.now(),
        )

    first = _deliver(app, services)
    clock.set(clock.now() + timedelta(minutes=5))
    second = _deliver(app, services)

    assert (first.sent, first.retried, second.handled) == (1, 0, 0)
    assert [p.text for p in slack.posts] == [f"Dispute on {PINE}"]
    with app.ledgers() as ledger:
        posted = [e for e in ledger.events(PINE) if e.kind.value == "handed_off"]
    assert posted[-1].data["ts"] == slack.posts[0].ts
    assert posted[-1].data["thread_failed"]["posted"] == 0
    assert posted[-1].data["thread_failed"]["missing"] == 2
