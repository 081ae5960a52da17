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
