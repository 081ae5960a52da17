"""The ``closeloop`` command line.

Every error a user can cause prints one line (``error[code]: message``) on stderr and exits
with status 2; heavy libraries (WeasyPrint, LangGraph, OpenAI) load only in the commands that
use them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from billing.errors import BillingError

app = typer.Typer(
    name="closeloop",
    help="From work delivered to payment received: invoices, delivery, chasing, inbox agent.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
invoice_app = typer.Typer(
    help="One invoice: show it, get its PDF, credit it.", no_args_is_help=True
)
app.add_typer(invoice_app, name="invoice")

T = TypeVar("T")


class UserError(Exception):
    """A problem with what the user gave us: printed as one line, exit code 2."""

    def __init__(self, message: str, code: str = "usage") -> None:
        super().__init__(message)
        self.code = code


class State:
    """Global options, set by the callback before any command; apps opened, for cleanup."""

    db_url: str | None = None
    apps: list[Any] = []  # noqa: RUF012 - process-wide registry, emptied by main()


STATE = State()


@app.callback()
def _global(
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Database URL (default: $CLOSELOOP_DATABASE_URL, else ./closeloop.db)",
            envvar="CLOSELOOP_DATABASE_URL",
        ),
    ] = None,
) -> None:
    STATE.db_url = db


def _app(today: date | None = None, now: datetime | None = None) -> Any:
    from entrypoints.bootstrap import build_app, clock_for

    application = build_app(STATE.db_url)
    STATE.apps.append(application)
    if today is not None or now is not None:
        tz = "UTC"
        try:
            with application.ledgers() as ledger:
                tz = ledger.company().timezone
        except BillingError:
            pass
        application.clock = clock_for(now=now, today=today, tz=tz)
    return application


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: no such file", "file_not_found") from None
    except OSError as exc:
        raise UserError(f"{path}: {exc.strerror}", "file_error") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(
            f"{path}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
            "malformed_json",
        ) from None


def _console() -> Any:
    from rich.console import Console

    return Console()


def _emit_json(obj: Any) -> None:
    typer.echo(json.dumps(obj, default=_json_default, ensure_ascii=False))


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# --------------------------------------------------------------------------- import
@app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="World JSON file (format in the README)")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Load company, owners, clients, contacts, invoices and payments (idempotent)."""
    from tools.importing import import_world

    data = _read_json(file)
    application = _app()
    report = import_world(application.ledgers, data, clock=application.clock)
    from tools.recurring import import_subscriptions

    report.subscriptions = import_subscriptions(application.ledgers, data, clock=application.clock)
    summary = {
        "company": report.company,
        "owners": report.owners,
        "clients": report.clients,
        "invoices": report.invoices,
        "payments": report.payments,
        "changed": report.changed,
    }
    if as_json:
        _emit_json(summary)
    else:
        typer.echo(
            f"imported {file}: company {report.company}, owners {report.owners}, clients "
            f"{report.clients}, invoices {report.invoices}, payments {report.payments}"
            + (" (nothing changed)" if report.changed == 0 else "")
        )


# --------------------------------------------------------------------------- trigger
@app.command("trigger")
def trigger_cmd(
    source: Annotated[
        str,
        typer.Argument(
            help="manual, schedule, asana, clickup, linear, docusign, pandadoc, webhook …"
        ),
    ],
    external_id: Annotated[str, typer.Option("--id", help="The source's own event/object id")],
    client: Annotated[
        str | None, typer.Option("--client", help="Client id as imported, e.g. cl-acme")
    ] = None,
    lines: Annotated[
        Path | None, typer.Option("--lines", help="JSON list of lines (import format)")
    ] = None,
    payload: Annotated[
        Path | None,
        typer.Option(
            "--payload", help="JSON object: client, lines, currency, reference, issue_date"
        ),
    ] = None,
    today: Annotated[
        str | None, typer.Option("--today", help="Act as of this date (YYYY-MM-DD)")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print {invoice, created} as JSON")
    ] = False,
) -> None:
    """Issue the invoice a trigger asks for (or find the one it already made)."""
    from billing.records import TRIGGER_SOURCES, Trigger
    from tools.importing import parse_lines
    from tools.issuing import issue_invoice

    if source not in TRIGGER_SOURCES:
        raise UserError(
            f"unknown trigger source {source!r} (one of {', '.join(TRIGGER_SOURCES)})",
            "unknown_source",
        )
    if not external_id.strip():
        raise UserError("--id must not be empty", "invalid_trigger")
    body: dict[str, Any] = {}
    if payload is not None:
        loaded = _read_json(payload)
        if not isinstance(loaded, dict):
            raise UserError(f"{payload}: expected a JSON object", "invalid_trigger")
        body = loaded
    client_id = client or body.get("client")
    if not client_id:
        raise UserError('a trigger needs --client (or "client" in --payload)', "invalid_trigger")
    raw_lines = _read_json(lines) if lines is not None else body.get("lines")
    items = parse_lines(raw_lines, str(lines or "payload.lines")) if raw_lines is not None else ()
    issue_date = _parse_date(body["issue_date"], "issue_date") if body.get("issue_date") else None
    trigger = Trigger(
        source=source,
        external_id=external_id.strip(),
        client_id=str(client_id),
        lines=items,
        reference=body.get("reference"),
        issue_date=issue_date,
        currency=body.get("currency"),
        buyer_reference=body.get("buyer_reference"),
        payload=json.loads(json.dumps(body, default=_json_default)),
    )
    application = _app(today=_parse_date(today, "--today") if today else None)
    result = issue_invoice(application.ledgers, trigger, clock=application.clock)
    if as_json:
        _emit_json({"invoice": result.number, "created": result.created})
    else:
        verb = "issued" if result.created else "already issued (duplicate trigger recorded)"
        typer.echo(f"{result.number} {verb}")


def _parse_date(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{what}: {value!r} is not a date (YYYY-MM-DD)", "invalid_date") from None


# --------------------------------------------------------------------------- queries
def _invoice_summary(record: Any, on: date) -> dict[str, Any]:
    from billing.terms import days_overdue

    return {
        "number": record.number,
        "kind": record.kind.value,
        "client": record.client_id,
        "buyer": record.document.buyer.name,
        "status": record.status.value,
        "origin": record.origin,
        "currency": record.currency,
        "issue_date": record.document.issue_date.isoformat(),
        "due_date": record.due_date.isoformat() if record.due_date else None,
        "total": str(record.total),
        "paid": str(record.amount_paid),
        "credited": str(record.amount_credited),
        "balance": str(record.balance),
        "days_overdue": days_overdue(record.due_date, on) if record.status.is_collectible else 0,
    }


@app.command("invoices")
def invoices_cmd(
    status: Annotated[
        list[str] | None,
        typer.Option(
            "--status",
            help="Filter: open, partially_paid, paid, void, uncollectible, credited, overdue",
        ),
    ] = None,
    client: Annotated[str | None, typer.Option("--client", help="Only this client")] = None,
    credit_notes: Annotated[
        bool, typer.Option("--credit-notes", help="List credit notes instead")
    ] = False,
    today: Annotated[
        str | None, typer.Option("--today", help="Compute lateness as of this date")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List invoices with status, balance and days overdue."""
    from billing.status import InvoiceStatus
    from tools.clock import business_date

    application = _app(today=_parse_date(today, "--today") if today else None)
    wanted = set(status or [])
    overdue_only = "overdue" in wanted
    wanted.discard("overdue")
    try:
        statuses = [InvoiceStatus(s) for s in sorted(wanted)]
    except ValueError as exc:
        raise UserError(str(exc), "invalid_status") from None
    if overdue_only and not statuses:
        statuses = [InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID]
    with application.ledgers() as ledger:
        try:
            tz = ledger.company().timezone
        except BillingError:
            tz = "UTC"
        on = business_date(application.clock.now(), tz)
        rows = [
            _invoice_summary(r, on)
            for r in ledger.invoices(
                statuses=statuses or None,
                client_id=client,
                kind="credit_note" if credit_notes else "invoice",
            )
        ]
    if overdue_only:
        rows = [r for r in rows if r["days_overdue"] > 0]
    if as_json:
        _emit_json(rows)
        return
    from rich.table import Table

    table = Table(title=f"Invoices ({len(rows)})", title_justify="left")
    for col in ("Number", "Client", "Status", "Issued", "Due", "Total", "Balance", "Late"):
        table.add_column(col, justify="right" if col in ("Total", "Balance", "Late") else "left")
    for r in rows:
        table.add_row(
            r["number"],
            r["buyer"],
            r["status"],
            r["issue_date"],
            r["due_date"] or "",
            f"{r['currency']} {r['total']}",
            f"{r['currency']} {r['balance']}",
            f"{r['days_overdue']}d" if r["days_overdue"] else "",
        )
    _console().print(table)


@invoice_app.command("show")
def invoice_show(
    number: Annotated[str, typer.Argument(help="Invoice or credit-note number")],
    today: Annotated[str | None, typer.Option("--today")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Lines, totals, balance and the timeline of events of one invoice."""
    from tools.clock import business_date

    application = _app(today=_parse_date(today, "--today") if today else None)
    with application.ledgers() as ledger:
        record = ledger.invoice(number)
        events = ledger.events(number)
        payments = ledger.payments(number)
        tz = ledger.company().timezone
    on = business_date(application.clock.now(), tz)
    doc = record.document
    data = _invoice_summary(record, on)
    data.update(
        {
            "seller": {"name": doc.seller.name, "vat_id": doc.seller.vat_id},
            "buyer_vat_id": doc.buyer.vat_id,
            "lines": [
                {
                    "position": ln.position,
                    "description": ln.description,
                    "quantity": str(ln.quantity),
                    "unit_price": str(ln.unit_price),
                    "discount": str(ln.discount_amount),
                    "net": str(ln.net_amount),
                    "tax_category": ln.tax_category.value,
                    "vat_rate": str(ln.vat_rate),
                }
                for ln in doc.lines
            ],
            "vat": [
                {
                    "category": row.code,
                    "rate": str(row.rate),
                    "base": str(row.taxable_amount),
                    "tax": str(row.tax_amount),
                    "exemption_reason": row.exemption_reason,
                }
                for row in doc.breakdown
            ],
            "net_total": str(doc.totals.tax_exclusive),
            "tax_total": str(doc.totals.tax_total),
            "refers_to": doc.refers_to.number if doc.refers_to else None,
            "payments": [
                {
                    "date": p.received_date.isoformat(),
                    "amount": str(p.amount),
                    "reference": p.reference,
                    "source": p.source,
                }
                for p in payments
            ],
            "timeline": [
                {
                    "at": e.at.isoformat(),
                    "kind": e.kind.value,
                    "actor": e.actor,
                    "summary": e.summary,
                    "data": dict(e.data),
                }
                for e in events
            ],
        }
    )
    if as_json:
        _emit_json(data)
        return
    from rich.table import Table

    console = _console()
    console.print(
        f"[bold]{doc.kind.value.replace('_', ' ').title()} {record.number}[/bold]  "
        f"{doc.buyer.name}  status [bold]{record.status.value}[/bold]"
    )
    console.print(
        f"issued {doc.issue_date}  due {record.due_date or '-'}  "
        f"balance {record.currency} {record.balance}"
        + (f"  ({data['days_overdue']} days overdue)" if data["days_overdue"] else "")
    )
    lines = Table(show_header=True)
    for col in ("#", "Description", "Qty", "Unit price", "VAT", "Net"):
        lines.add_column(col)
    for ln in doc.lines:
        lines.add_row(
            str(ln.position),
            ln.description,
            str(ln.quantity),
            str(ln.unit_price),
            f"{ln.tax_category.code} {ln.vat_rate}%",
            str(ln.net_amount),
        )
    console.print(lines)
    console.print(
        f"net {doc.totals.tax_exclusive}  VAT {doc.totals.tax_total}  "
        f"total {record.currency} {doc.totals.grand_total}"
    )
    timeline = Table(title="Timeline", title_justify="left")
    for col in ("When (UTC)", "Event", "By", "What"):
        timeline.add_column(col)
    for e in events:
        timeline.add_row(e.at.strftime("%Y-%m-%d %H:%M"), e.kind.value, e.actor, e.summary)
    console.print(timeline)


@invoice_app.command("pdf")
def invoice_pdf(
    number: Annotated[str, typer.Argument(help="Invoice or credit-note number")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the PDF")],
    plain: Annotated[
        bool, typer.Option("--plain", help="Plain PDF without the Factur-X XML")
    ] = False,
) -> None:
    """Write the invoice PDF (Factur-X PDF/A-3 with the EN 16931 XML embedded)."""
    from render.facturx import render_facturx_pdf
    from render.pdf import render_pdf

    application = _app()
    with application.ledgers() as ledger:
        record = ledger.invoice(number)
    pdf = render_pdf(record.document) if plain else render_facturx_pdf(record.document)
    try:
        output.write_bytes(pdf)
    except OSError as exc:
        raise UserError(f"{output}: {exc.strerror}", "file_error") from None
    typer.echo(f"{output} ({len(pdf)} bytes{'' if plain else ', Factur-X EN 16931'})")


@invoice_app.command("credit")
def invoice_credit(
    number: Annotated[str, typer.Argument(help="Invoice to correct")],
    reason: Annotated[str, typer.Option("--reason", help="Why (printed on the credit note)")],
    lines: Annotated[
        Path | None, typer.Option("--lines", help="Partial credit: JSON list of lines")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Issue a credit note for an invoice (in full, or for the given lines)."""
    from tools.importing import parse_lines
    from tools.issuing import issue_credit_note

    items = parse_lines(_read_json(lines), str(lines)) if lines else None
    application = _app()
    credit = issue_credit_note(
        application.ledgers, number, clock=application.clock, reason=reason, items=items
    )
    if as_json:
        _emit_json({"credit_note": credit, "invoice": number})
    else:
        typer.echo(f"{credit} issued, crediting {number}")


# --------------------------------------------------------------------------- billing cycle
def _today_now(today: str | None, now: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if today:
        out["today"] = _parse_date(today, "--today")
    if now:
        try:
            out["now"] = datetime.fromisoformat(now)
        except ValueError:
            raise UserError(f"--now: {now!r} is not an ISO datetime", "invalid_date") from None
    return out


TodayOpt = Annotated[
    str | None,
    typer.Option(
        "--today", help="Act as of this date (YYYY-MM-DD), at the opening of the send window"
    ),
]
NowOpt = Annotated[
    str | None, typer.Option("--now", help="Act as of this instant (ISO 8601; UTC if no offset)")
]


def _services(application: Any) -> Any:
    from entrypoints.runner import build_services

    return build_services(application)


def _action_row(a: Any) -> dict[str, Any]:
    return {
        "invoice": a.invoice,
        "client": a.client,
        "step": a.step,
        "action": a.kind,
        "when": a.when.isoformat() if a.when else None,
        "to": list(a.to),
        "cc": list(a.cc),
        "template": a.template,
        "why": a.reason,
    }


@app.command("chase")
def chase_cmd(
    preview: Annotated[
        bool, typer.Option("--preview", help="Show what would go out; change nothing")
    ] = False,
    days: Annotated[int, typer.Option("--days", help="Preview horizon in days")] = 7,
    today: TodayOpt = None,
    now: NowOpt = None,
    no_send: Annotated[
        bool, typer.Option("--no-send", help="Queue the steps but do not deliver")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Run the due chase steps (reminders, escalations), or preview the next days."""
    from tools.chase import preview_chase, run_chase
    from tools.delivery import deliver_outbox

    application = _app(**_today_now(today, now))
    if preview:
        actions = preview_chase(application.ledgers, application.clock, days=days)
        rows = [_action_row(a) for a in actions]
        if as_json:
            _emit_json(rows)
            return
        _print_actions(rows, f"Chase preview: next {days} days ({len(rows)} actions, nothing sent)")
        return
    services = _services(application)
    report = run_chase(
        application.ledgers,
        application.clock,
        services.compose,
        slack_channel=services.slack_channel,
    )
    delivery = None
    if not no_send:
        from entrypoints.runner import worker_id

        delivery = deliver_outbox(
            application.ledgers,
            services.handlers,
            application.clock,
            worker=worker_id(),
            composer=services.compose,
            slack_channel=services.slack_channel,
        )
    rows = [_action_row(a) for a in report.actions]
    if as_json:
        _emit_json(
            {
                "examined": report.examined,
                "queued": report.sent,
                "skipped": report.skipped,
                "actions": rows,
                "delivered": delivery.sent if delivery else 0,
            }
        )
        return
    _print_actions(
        rows,
        f"Chase: {report.sent} queued, {report.skipped} skipped "
        f"({report.examined} invoices due for a look)",
    )
    if delivery:
        typer.echo(
            f"delivered {delivery.sent}, retrying {delivery.retried}, "
            f"failed {delivery.dead}, cancelled {delivery.cancelled}"
        )


def _print_actions(rows: list[dict[str, Any]], title: str) -> None:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for col in ("When", "Invoice", "Action", "To", "Why"):
        table.add_column(col, no_wrap=col in ("Invoice",))
    for r in rows:
        table.add_row(
            (r["when"] or "")[:16].replace("T", " "),
            r["invoice"],
            f"{r['action']} {r['step']}",
            ", ".join(r["to"] + [f"cc {c}" for c in r["cc"]]),
            r["why"],
        )
    _console().print(table)


PAUSE_REASONS = ("dispute", "promise_to_pay", "payment_in_flight", "manual_hold", "out_of_office")


@app.command("pause")
def pause_cmd(
    target: Annotated[str, typer.Argument(help="Invoice number or client id")],
    until: Annotated[
        str | None,
        typer.Option("--until", help="Last paused day (YYYY-MM-DD); omit for 'until resumed'"),
    ] = None,
    reason: Annotated[
        str,
        typer.Option(
            "--reason",
            help="dispute, promise_to_pay, payment_in_flight, manual_hold, out_of_office",
        ),
    ] = "manual_hold",
    note: Annotated[str, typer.Option("--note", help="Free text kept with the pause")] = "",
    actor: Annotated[
        str, typer.Option("--by", help="Who pauses (kept in the audit trail)")
    ] = "cli",
    today: TodayOpt = None,
) -> None:
    """Pause chasing of an invoice or of all of a client's invoices."""
    from tools.chase import pause_chase

    if reason not in PAUSE_REASONS:
        raise UserError(f"--reason must be one of {', '.join(PAUSE_REASONS)}", "invalid_pause")
    application = _app(**_today_now(today, None))
    client, count = pause_chase(
        application.ledgers,
        application.clock,
        target=target,
        until=_parse_date(until, "--until") if until else None,
        reason=reason,
        actor=actor,
        note=note,
    )
    typer.echo(f"paused {count} invoice(s) of {client} ({reason}) until {until or 'resumed'}")


@app.command("resume")
def resume_cmd(
    target: Annotated[str, typer.Argument(help="Invoice number or client id")],
    actor: Annotated[str, typer.Option("--by")] = "cli",
    today: TodayOpt = None,
) -> None:
    """Lift the pauses of an invoice or client; the chase plan is recomputed."""
    from tools.chase import resume_chase

    application = _app(**_today_now(today, None))
    lifted = resume_chase(application.ledgers, application.clock, target=target, actor=actor)
    typer.echo(f"resumed {target}: {lifted} pause(s) lifted")


handoffs_app = typer.Typer(
    help="Cases waiting for a person (escalations, failed deliveries, inbox).",
    invoke_without_command=True,
)
app.add_typer(handoffs_app, name="handoffs")


@handoffs_app.callback()
def handoffs_list(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include resolved cases")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List open hand-offs (the local queue; mirrored to Slack when configured)."""
    if ctx.invoked_subcommand is not None:
        return
    application = _app()
    with application.ledgers() as ledger:
        cases = ledger.handoffs(statuses=None if all_ else ["open", "taken"])
    rows = [
        {
            "id": h.id,
            "kind": h.kind,
            "status": h.status,
            "client": h.client_id,
            "owner": h.owner_id,
            "invoices": list(h.invoices),
            "reason": h.reason,
            "summary": h.summary,
            "created_at": h.created_at.isoformat(),
            "slack_ts": h.slack_ts,
            "resolution": h.resolution,
        }
        for h in cases
    ]
    if as_json:
        _emit_json(rows)
        return
    from rich.table import Table

    table = Table(title=f"Hand-offs ({len(rows)})", title_justify="left")
    for col in ("#", "Kind", "Status", "Client", "Owner", "Invoices", "Why"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["kind"],
            r["status"],
            r["client"] or "",
            r["owner"] or "",
            ", ".join(r["invoices"]),
            r["reason"],
        )
    _console().print(table)


@handoffs_app.command("resolve")
def handoffs_resolve(
    handoff_id: Annotated[int, typer.Argument(help="Hand-off id")],
    decision: Annotated[
        str, typer.Option("--decision", help="resolved, take, approve_reply, not_dispute")
    ] = "resolved",
    note: Annotated[str, typer.Option("--note")] = "",
    actor: Annotated[str, typer.Option("--by")] = "cli",
) -> None:
    """Record a person's decision on a case (resumes the agent's thread for inbox cases)."""
    from entrypoints.decisions import apply_decision

    application = _app()
    outcome = apply_decision(application, handoff_id, decision=decision, actor=actor, note=note)
    typer.echo(outcome)


payment_app = typer.Typer(help="Record a payment by hand.", no_args_is_help=True)
app.add_typer(payment_app, name="payment")
payments_app = typer.Typer(
    help="Import payments from a bank/accounting export.", no_args_is_help=True
)
app.add_typer(payments_app, name="payments")


@payment_app.command("record")
def payment_record(
    invoice: Annotated[str, typer.Argument(help="Invoice number")],
    amount: Annotated[str, typer.Argument(help="Amount received, e.g. 1210.40")],
    on: Annotated[str, typer.Option("--date", help="Date received (YYYY-MM-DD)")],
    reference: Annotated[
        str, typer.Option("--reference", help="Bank/accounting reference (idempotency key)")
    ],
    currency: Annotated[
        str | None, typer.Option("--currency", help="Defaults to the invoice's")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Record money received; the same reference twice records it once."""
    from tools.payments import record_payment

    application = _app()
    result = record_payment(
        application.ledgers,
        invoice_number=invoice,
        amount=amount,
        received_date=_parse_date(on, "--date"),
        reference=reference,
        currency=currency,
        clock=application.clock,
    )
    data = {
        "invoice": result.invoice_number,
        "recorded": result.recorded,
        "status": result.status.value,
        "balance": str(result.balance),
        "applied": str(result.applied),
        "client_credit": str(result.overpaid),
    }
    if as_json:
        _emit_json(data)
    elif not result.recorded:
        typer.echo(f"payment {reference!r} was already recorded; nothing changed")
    else:
        typer.echo(
            f"{invoice}: {result.status.value}, balance {result.balance}"
            + (f", {result.overpaid} kept as client credit" if result.overpaid else "")
        )


@payments_app.command("import")
def payments_import(
    file: Annotated[
        Path, typer.Argument(help="CSV: invoice,amount,currency,date,reference[,external_id]")
    ],
    source: Annotated[
        str, typer.Option("--source", help="Name of the export's origin (bank, xero …)")
    ] = "csv",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Import a payments CSV; each row is idempotent by its reference."""
    from tools.sync import import_payments_csv

    try:
        text = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError(f"{file}: no such file", "file_not_found") from None
    application = _app()
    report = import_payments_csv(application.ledgers, text, clock=application.clock, source=source)
    data = {
        "recorded": len(report.recorded),
        "duplicates": report.duplicates,
        "errors": [{"line": ln, "error": msg} for ln, msg in report.errors],
    }
    if as_json:
        _emit_json(data)
    else:
        typer.echo(
            f"recorded {data['recorded']}, already known {report.duplicates}, "
            f"errors {len(report.errors)}"
        )
        for ln, msg in report.errors:
            typer.echo(f"  line {ln}: {msg}", err=True)
    if report.errors and not report.recorded and not report.duplicates:
        raise SystemExit(2)


@app.command("sync")
def sync_cmd(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Pull new payments from the accounting system (the local one by default)."""
    from connectors.accounting_local import LocalAccounting
    from tools.sync import sync_payments

    application = _app()
    report = sync_payments(
        application.ledgers,
        LocalAccounting(application.data_dir / "accounting"),
        clock=application.clock,
    )
    if as_json:
        _emit_json(
            {
                "recorded": len(report.recorded),
                "duplicates": report.duplicates,
                "errors": report.errors,
            }
        )
    else:
        typer.echo(f"synced: {len(report.recorded)} new payments, {len(report.errors)} errors")


@app.command("run")
def run_cmd(
    today: TodayOpt = None,
    now: NowOpt = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """One complete cycle: recurring invoices, chase steps, escalations, pending sends."""
    from entrypoints.runner import run_cycle

    application = _app(**_today_now(today, now))
    report = run_cycle(application, _services(application))
    data = {
        "issued": report.recurring.issued,
        "chase_queued": report.chase.sent,
        "chase_skipped": report.chase.skipped,
        "delivered": report.delivery.sent,
        "retrying": report.delivery.retried,
        "failed": report.delivery.dead,
        "cancelled": report.delivery.cancelled,
        **report.extra,
    }
    errors = [*getattr(report.recurring, "errors", []), *getattr(report.chase, "errors", [])]
    data["errors"] = [str(e) for e in errors]
    if as_json:
        _emit_json(data)
    else:
        typer.echo(" ".join(f"{k}={len(v) if isinstance(v, list) else v}" for k, v in data.items()))
        for error in data["errors"]:
            typer.echo(f"  not done: {error}", err=True)


@app.command("worker")
def worker_cmd(
    interval: Annotated[float, typer.Option("--interval", help="Seconds between cycles")] = 60.0,
) -> None:
    """`run` in a loop until SIGTERM/SIGINT (the current cycle finishes first)."""
    from entrypoints.runner import run_worker

    application = _app()
    services = _services(application)
    cycles = run_worker(
        application,
        services,
        interval=interval,
        on_cycle=lambda r: typer.echo(
            f"cycle: issued {len(r.recurring.issued)}, queued {r.chase.sent}, "
            f"delivered {r.delivery.sent}, failed {r.delivery.dead}"
        ),
    )
    typer.echo(f"worker stopped after {cycles} cycle(s)")


@app.command("outbox")
def outbox_cmd(
    status: Annotated[
        list[str] | None, typer.Option("--status", help="pending, sending, sent, dead, cancelled")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Inspect the outbox (every external side effect and its state)."""
    application = _app()
    with application.ledgers() as ledger:
        rows = ledger.outbox_rows(statuses=status)
    data = [
        {
            "id": r.id,
            "key": r.idempotency_key,
            "kind": r.kind,
            "status": r.status,
            "attempts": r.attempts,
            "invoice": r.invoice_number,
            "next_attempt_at": r.next_attempt_at.isoformat(),
            "error": r.last_error,
        }
        for r in rows
    ]
    if as_json:
        _emit_json(data)
        return
    for r in data:
        typer.echo(
            f"{r['id']:>5} {r['status']:<9} {r['kind']:<10} {r['key']}"
            + (f"  [{r['error']}]" if r["error"] else "")
        )


@invoice_app.command("send")
def invoice_send(
    number: Annotated[str, typer.Argument(help="Invoice number")],
    again: Annotated[
        bool, typer.Option("--again", help="Send once more even if it was sent")
    ] = False,
) -> None:
    """Queue and deliver the invoice email to the billing contact on file."""
    from entrypoints.runner import worker_id
    from tools.delivery import deliver_outbox
    from tools.sending import queue_invoice_email

    application = _app()
    services = _services(application)
    with application.ledgers() as ledger:
        record = ledger.invoice(number)
        resend = 0
        if again:
            resend = 1 + sum(
                1
                for r in ledger.outbox_rows(kinds=["email"])
                if r.idempotency_key.startswith(f"invoice:{number}:issue:resend-")
            )
        key = queue_invoice_email(
            ledger, record, services.compose, application.clock.now(), resend=resend, actor="cli"
        )
    if key is None:
        typer.echo(f"{number} was already queued; use --again to send once more")
        return
    report = deliver_outbox(
        application.ledgers,
        services.handlers,
        application.clock,
        worker=worker_id(),
        composer=services.compose,
    )
    typer.echo(
        f"{number}: delivered {report.sent}, retrying {report.retried}, failed {report.dead}"
    )


# --------------------------------------------------------------------------- inbox agent
inbox_app = typer.Typer(help="The billing inbox: poll, watch, triage.", no_args_is_help=True)
app.add_typer(inbox_app, name="inbox")
eval_app = typer.Typer(help="Measure the agent on a labelled inbox.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")


def _agent_for(application: Any, *, durable: bool = True, classifier: str | None = None) -> Any:
    from entrypoints.agent_wiring import build_agent, make_classifier

    channel = application.settings.slack_channel if application.settings.slack_bot_token else None
    return build_agent(
        application,
        classifier=make_classifier(application, classifier),
        slack_channel=channel,
        durable=durable,
    )


@inbox_app.command("triage")
def inbox_triage(
    files: Annotated[list[Path], typer.Argument(help=".eml files")],
    today: TodayOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Decide only: send and change nothing")
    ] = False,
    classifier: Annotated[
        str | None,
        typer.Option("--classifier", help="offline or openai (default: openai when a key is set)"),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per message and line")
    ] = False,
) -> None:
    """Triage messages: intent, invoices, disposition, reply, hand-off, changes, sender trust."""
    from entrypoints.agent_wiring import process_raw

    for f in files:
        if not f.is_file():
            raise UserError(f"{f}: no such file", "file_not_found")
    application = _app(**_today_now(today, None))
    agent = _agent_for(application, durable=not dry_run, classifier=classifier)
    for f in files:
        out = process_raw(application, agent, f.read_bytes(), dry_run=dry_run, file=str(f))
        if as_json:
            _emit_json(out)
        else:
            typer.echo(
                f"{f}: {out.get('intent')} → {out.get('disposition')} "
                f"[{', '.join(out.get('invoices') or [])}] ({out.get('reason')})"
            )


@inbox_app.command("poll")
def inbox_poll(
    today: TodayOpt = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Fetch new mail once (IMAP when configured, else the local Maildir) and handle it."""
    from entrypoints.agent_wiring import poll_inbox
    from entrypoints.runner import worker_id
    from tools.delivery import deliver_outbox

    application = _app(**_today_now(today, None))
    counts = poll_inbox(application, _agent_for(application))
    services = _services(application)
    report = deliver_outbox(
        application.ledgers,
        services.handlers,
        application.clock,
        worker=worker_id(),
        composer=services.compose,
        slack_channel=services.slack_channel,
    )
    counts["delivered"] = report.sent
    if as_json:
        _emit_json(counts)
    else:
        typer.echo(" ".join(f"{k}={v}" for k, v in counts.items()))


@inbox_app.command("watch")
def inbox_watch(
    interval: Annotated[
        float, typer.Option("--interval", help="Poll interval without IDLE")
    ] = 30.0,
) -> None:
    """Wait for new mail (IMAP IDLE when the server has it) and handle it as it arrives."""
    import threading

    from entrypoints.agent_wiring import mail_source, process_raw

    application = _app()
    agent = _agent_for(application)
    source = mail_source(application)
    stop = threading.Event()
    import signal

    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        source.watch(
            lambda mail: typer.echo(
                json.dumps(process_raw(application, agent, mail.raw), default=_json_default)
            ),
            stop,
        )
    except KeyboardInterrupt:
        stop.set()


@eval_app.command("inbox")
def eval_inbox(
    directory: Annotated[Path, typer.Argument(help="Folder with world.json, cases.jsonl, cases/")],
    classifier: Annotated[
        str | None, typer.Option("--classifier", help="offline or openai")
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 when a threshold is not met")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show every case")] = False,
) -> None:
    """Intent/disposition accuracy, reference recall, reply correctness, dispute recall,
    automation rate and safety violations, per intent and overall."""
    from entrypoints.evaluate import THRESHOLDS, run_eval

    if not (directory / "cases.jsonl").is_file() or not (directory / "world.json").is_file():
        raise UserError(f"{directory}: needs world.json and cases.jsonl", "file_not_found")
    result = run_eval(directory, classifier=classifier)
    failures = result.failures()
    if as_json:
        _emit_json(
            {
                "metrics": result.metrics,
                "per_intent": result.per_intent,
                "violations": result.violations,
                "failures": failures,
                "cases": result.rows if verbose else None,
            }
        )
    else:
        from rich.table import Table

        console = _console()
        m = result.metrics
        console.print(
            f"[bold]Inbox eval[/bold] {directory} — {m['cases']} messages, "
            f"{m['messages_per_second']} msg/s"
        )
        for name in (
            "intent_accuracy",
            "disposition_accuracy",
            "invoice_reference_recall",
            "reply_correctness",
            "dispute_recall",
            "automation_rate",
        ):
            bar = f" (min {THRESHOLDS[name]})" if name in THRESHOLDS else ""
            console.print(f"  {name:<26} {m[name]:.3f}{bar}")
        console.print(f"  {'safety_violations':<26} {m['safety_violations']} (max 0)")
        table = Table(title="Per intent", title_justify="left")
        for col in ("Intent", "n", "intent acc.", "disposition acc."):
            table.add_column(col)
        for k, v in result.per_intent.items():
            table.add_row(
                k, str(v["n"]), f"{v['intent_accuracy']:.2f}", f"{v['disposition_accuracy']:.2f}"
            )
        console.print(table)
        for violation in result.violations:
            console.print(f"  [red]violation[/red] {violation}")
        if verbose:
            for r in result.rows:
                mark = "ok " if r["intent_ok"] and r["disposition_ok"] else "BAD"
                console.print(
                    f"  {mark} {r['id']} expected {r['expected']} got {r['got']} "
                    f"missing {r['refs_missing']} trust {r['sender_trust']} — {r['reason']}"
                )
        for f in failures:
            console.print(f"  [red]below threshold[/red] {f}")
    if check and failures:
        raise SystemExit(1)


@app.command("serve")
def serve_cmd(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8080,
) -> None:
    """HTTP endpoints: Slack interactivity (signed button clicks), health."""
    from entrypoints.web import serve

    serve(_app(), host=host, port=port)


# --------------------------------------------------------------------------- demo
@app.command("demo")
def demo_cmd(
    workspace: Annotated[
        Path, typer.Option("--workspace", help="Fresh folder for the demo's database and files")
    ] = Path("demo-workspace"),
) -> None:
    """A guided run on the embedded defaults: sample company, triggers, invoices, PDFs."""
    from entrypoints.demo import run_demo

    run_demo(workspace, console=_console())


def _run_guarded(fn: Callable[[], T]) -> T:
    try:
        return fn()
    except UserError as exc:
        typer.echo(f"error[{exc.code}]: {exc}", err=True)
        raise SystemExit(2) from None
    except BillingError as exc:
        typer.echo(f"error[{exc.code}]: {exc.message}", err=True)
        raise SystemExit(2) from None
    except Exception as exc:
        code = getattr(exc, "code", None)
        if not isinstance(code, str) or type(exc).__module__.split(".")[0] not in _OUR_PACKAGES:
            raise
        typer.echo(f"error[{code}]: {exc}", err=True)
        raise SystemExit(2) from None


_OUR_PACKAGES = ("render", "connectors", "inbox", "agent", "policies", "storage", "tools")


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""

    def run() -> None:
        app(args=list(argv) if argv is not None else None, standalone_mode=True)

    try:
        _run_guarded(run)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise SystemExit(130) from None
    finally:
        while STATE.apps:
            STATE.apps.pop().db.dispose()


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
