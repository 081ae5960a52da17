"""``closeloop demo``: a month of billing for a sample studio, on the embedded defaults.

A fresh workspace (SQLite, local mail folders, the offline classifier — no keys, no servers):
the sample company and clients are loaded, triggers of different kinds fire and issue invoices
(PDF + Factur-X), the invoices are emailed to the billing contacts (as .eml files), then 30
days are simulated: reminders go out on policy, a payment arrives through the accounting sync,
and clients write to the billing inbox — a copy request, a payment confirmation, an extension
request, a promise to pay, a dispute, an out-of-office and a bounce — which the agent handles.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime, time, timedelta
from email.utils import format_datetime
from pathlib import Path
from string import Template
from typing import Any
from zoneinfo import ZoneInfo

from billing.records import Trigger
from entrypoints.bootstrap import App, build_app
from entrypoints.settings import Settings
from tools.clock import FixedClock
from tools.importing import import_world, parse_lines
from tools.issuing import issue_invoice

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "sample"
MARKER = ".closeloop-demo"
DAYS = 30


def fresh_workspace(path: Path) -> Path:
    """Create ``path`` empty; refuse to wipe a folder the demo did not create."""
    if path.exists():
        if not (path / MARKER).exists() and any(path.iterdir()):
            raise SystemExit(f"{path} exists and is not a closeloop demo workspace; choose another")
        shutil.rmtree(path)
    path.mkdir(parents=True)
    (path / MARKER).write_text("created by `closeloop demo`; safe to delete\n", encoding="utf-8")
    return path


def demo_app(workspace: Path, now: datetime) -> App:
    """The app wired on the workspace's own SQLite file and folders."""
    settings = Settings(
        database_url=f"sqlite:///{workspace / 'closeloop.db'}",
        data_dir=str(workspace),
        smtp_url=None,
        imap_url=None,
        slack_bot_token=None,
        openai_api_key=None,
    )
    return build_app(settings.database_url, clock=FixedClock(now), settings=settings)


def _maildir_count(path: Path) -> int:
    return sum(1 for sub in ("new", "cur") if (path / sub).exists() for _ in (path / sub).iterdir())


def run_demo(workspace: Path, *, console: Any) -> None:
    """Run the guided demo and print its summary."""
    from rich.table import Table

    from entrypoints.agent_wiring import build_agent, poll_inbox
    from entrypoints.runner import build_services, run_cycle
    from render.facturx import extract_xml, render_facturx_pdf
    from tools.sending import send_on_issue

    workspace = fresh_workspace(workspace).resolve()
    world = json.loads((SAMPLE_DIR / "world.json").read_text(encoding="utf-8"))
    start_day = date.fromisoformat(world["today"])
    london = ZoneInfo(world["company"].get("timezone", "Europe/London"))
    start = datetime.combine(start_day, time(10, 0), tzinfo=london)
    app = demo_app(workspace, start)
    clock = app.clock
    assert isinstance(clock, FixedClock)
    console.print(
        f"[bold]closeloop demo[/bold] — workspace {workspace}/ "
        "(SQLite, local mail folders, offline classifier: no keys, no servers)"
    )
    import_world(app.ledgers, world, clock=clock)
    console.print(
        f"Loaded {world['company']['name']}: {len(world['owners'])} account owners, "
        f"{len(world['clients'])} clients, {len(world['invoices'])} invoices issued "
        "elsewhere (those are chased, never re-sent)."
    )

    services = build_services(app)
    hooks = [send_on_issue(services.compose)]
    triggers = json.loads((SAMPLE_DIR / "triggers.json").read_text(encoding="utf-8"))
    fired = Table(title="1. Triggers fired", title_justify="left")
    for col in ("Source", "Event", "Result"):
        fired.add_column(col)
    issued: list[str] = []
    for spec in triggers:
        trigger = Trigger(
            source=spec["source"],
            external_id=spec["id"],
            client_id=spec["client"],
            lines=parse_lines(spec["lines"], f"trigger {spec['id']}"),
            payload={"what": spec["what"]},
        )
        result = issue_invoice(app.ledgers, trigger, clock=clock, on_issued=hooks)
        if result.created:
            issued.append(result.number)
        fired.add_row(
            spec["source"],
            spec["what"],
            f"{result.number} issued" if result.created else f"duplicate → still {result.number}",
        )
    console.print(fired)

    out_dir = workspace / "invoices"
    out_dir.mkdir()
    summary = Table(title="2. Invoices issued (PDF/A-3 with EN 16931 XML)", title_justify="left")
    for col in ("Number", "Client", "Lang", "VAT", "Total", "Due", "PDF"):
        summary.add_column(col, no_wrap=col in ("Number", "Total", "Due"))
    with app.ledgers() as ledger:
        records = [ledger.invoice(n) for n in issued]
    for rec in records:
        pdf = render_facturx_pdf(rec.document)
        pdf_path = out_dir / f"{rec.number}.pdf"
        pdf_path.write_bytes(pdf)
        (out_dir / f"{rec.number}.xml").write_bytes(extract_xml(pdf))
        vat = ", ".join(f"{row.code} {row.rate}%" for row in rec.document.breakdown)
        summary.add_row(
            rec.number,
            rec.document.buyer.name,
            rec.document.language,
            vat,
            f"{rec.currency} {rec.total:,}",
            str(rec.due_date),
            str(pdf_path.relative_to(workspace.parent)),
        )
    console.print(summary)

    agent = build_agent(app, slack_channel=None)
    schedule = json.loads((SAMPLE_DIR / "inbox" / "schedule.json").read_text(encoding="utf-8"))
    inbox = workspace / "mail" / "inbox"
    for sub in ("new", "cur", "tmp"):
        (inbox / sub).mkdir(parents=True, exist_ok=True)
    agent_rows: list[tuple[str, str, str]] = []
    la = ZoneInfo("America/Los_Angeles")
    console.print(
        f"3. Simulating {DAYS} days from {start_day} (two runs a day: London and "
        "Los Angeles business hours)…"
    )
    for day in range(DAYS + 1):
        on = start_day + timedelta(days=day)
        for tick, zone in enumerate((london, la)):
            clock.set(datetime.combine(on, time(10, 0), tzinfo=zone))
            if tick == 0:
                for item in schedule:
                    if item["day"] == day:
                        _deliver_sample(app, inbox, item, on, day)
                if day == 19:
                    _bank_payment(app, workspace, "cl-kestrel", on)
            run_cycle(app, services, inbox=False)
            counts = poll_inbox(app, agent)
            if counts["fetched"]:
                run_cycle(app, services, inbox=False)
    with app.ledgers() as ledger:
        for number in ledger.invoices():
            for e in ledger.events(number.number):
                if e.kind.value == "email_received":
                    agent_rows.append(
                        (e.at.astimezone(london).strftime("%d %b"), number.number, e.summary)
                    )
        cases = ledger.handoffs()
        all_invoices = ledger.invoices()
        timelines = {r.number: ledger.events(r.number) for r in all_invoices}

    agent_table = Table(title="4. What the inbox agent did", title_justify="left")
    for col in ("Day", "Invoice", "Message → decision"):
        agent_table.add_column(col)
    for row in sorted(agent_rows):
        agent_table.add_row(*row)
    console.print(agent_table)
    _print_handoffs(console, cases)
    status = Table(title=f"5. After {DAYS} days", title_justify="left")
    for col in ("Invoice", "Client", "Status", "Balance", "Timeline (oldest first)"):
        status.add_column(col, no_wrap=col == "Invoice")
    for rec in all_invoices:
        story = " → ".join(_short(e.kind.value) for e in timelines[rec.number])
        status.add_row(
            rec.number,
            rec.document.buyer.name,
            rec.status.value,
            f"{rec.currency} {rec.balance:,}",
            story,
        )
    console.print(status)
    sent = _maildir_count(workspace / "mail" / "sent")
    console.print(
        f"{len(issued)} invoices issued from {len(triggers)} trigger deliveries (1 duplicate "
        f"ignored); {sent} emails written to {workspace / 'mail' / 'sent'}/ (open them with any "
        f"mail client); {len(cases)} hand-offs waiting in `closeloop handoffs`.\n"
        f"Explore: .venv/bin/closeloop --db sqlite:///{workspace}/closeloop.db "
        f"invoice show {issued[0]}"
    )


_SHORT = {
    "trigger_received": "trigger",
    "invoice_issued": "issued",
    "invoice_imported": "imported",
    "invoice_queued": "queued",
    "invoice_sent": "sent",
    "reminder_sent": "reminder",
    "reminder_skipped": "skip",
    "chase_paused": "paused",
    "chase_resumed": "resumed",
    "escalated": "ESCALATED",
    "email_received": "email in",
    "reply_sent": "reply",
    "handed_off": "hand-off",
    "payment_recorded": "payment",
    "invoice_paid": "PAID",
    "due_date_changed": "due date moved",
    "promise_recorded": "promise",
    "delivery_failed": "BOUNCED",
    "trigger_duplicate": "duplicate",
}


def _short(kind: str) -> str:
    return _SHORT.get(kind, kind)


def _print_handoffs(console: Any, cases: list[Any]) -> None:
    from rich.table import Table

    table = Table(
        title="Hand-offs for a person (no Slack configured: local queue)", title_justify="left"
    )
    for col in ("#", "Kind", "Client", "Invoices", "Why"):
        table.add_column(col)
    for h in cases:
        table.add_row(str(h.id), h.kind, h.client_id or "", ", ".join(h.invoices), h.reason)
    console.print(table)


def _deliver_sample(app: App, inbox: Path, item: dict[str, Any], on: date, day: int) -> None:
    about = item["about"]
    with app.ledgers() as ledger:
        invoices = [r for r in ledger.invoices(client_id=about["client"])]
        record = (
            next((r for r in invoices if r.number == about.get("number")), None) or invoices[-1]
        )
        step = about["step"]
        key = (
            f"invoice:{record.number}:issue"
            if step == "issue"
            else f"chase:{record.number}:{step.removeprefix('reminder-')}"
        )
        payload = ledger.outbox_payload(key) or {}
    sent_at = datetime.combine(on, time(8, 30), tzinfo=UTC)
    due = record.due_date or on
    values = {
        "number": record.number,
        "in_reply_to": payload.get("message_id", f"<{record.number}@unknown.example>"),
        "date": format_datetime(sent_at),
        "msgid": f"demo-{day}-{item['file'].split('.')[0]}",
        "promise_date": (on + timedelta(days=15)).strftime("%-d %B %Y"),
        "new_due": (due + timedelta(days=10))
        .strftime("%-d %B %Y")
        .replace("December", "december")
        .replace("November", "november"),
        "ooo_until_de": (on + timedelta(days=4)).strftime("%d.%m.%Y"),
        "ooo_back_de": (on + timedelta(days=5)).strftime("%d.%m.%Y"),
    }
    text = Template((SAMPLE_DIR / "inbox" / item["file"]).read_text(encoding="utf-8"))
    raw = text.substitute(values).replace("\n", "\r\n").encode("utf-8")
    (inbox / "new" / f"{day:02d}-{item['file']}").write_bytes(raw)


def _bank_payment(app: App, workspace: Path, client_id: str, on: date) -> None:
    from connectors.accounting_local import LocalAccounting
    from tools.sync import sync_payments

    with app.ledgers() as ledger:
        record = [r for r in ledger.invoices(client_id=client_id)][-1]
    folder = workspace / "accounting"
    folder.mkdir(exist_ok=True)
    (folder / "payments.csv").write_text(
        "invoice,amount,currency,date,reference\n"
        f"{record.number},{record.total},{record.currency},{on.isoformat()},KESTREL BACS 9921\n",
        encoding="utf-8",
    )
    sync_payments(app.ledgers, LocalAccounting(folder), clock=app.clock)
