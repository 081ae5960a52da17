"""``closeloop demo``: a fresh workspace, the sample company, triggers → invoices → PDFs."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from billing.records import Trigger
from entrypoints.bootstrap import App, build_app
from entrypoints.settings import Settings
from tools.clock import FixedClock
from tools.importing import import_world, parse_lines
from tools.issuing import issue_invoice

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "sample"
MARKER = ".closeloop-demo"


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
        database_url=f"sqlite:///{workspace / 'closeloop.db'}", data_dir=str(workspace)
    )
    return build_app(settings.database_url, clock=FixedClock(now), settings=settings)


def run_demo(workspace: Path, *, console: Any) -> None:
    """Run the guided demo and print its summary."""
    from rich.table import Table

    from render.facturx import extract_xml, render_facturx_pdf

    workspace = fresh_workspace(workspace)
    world = json.loads((SAMPLE_DIR / "world.json").read_text(encoding="utf-8"))
    start = datetime.fromisoformat(world["today"]).replace(hour=9, tzinfo=UTC)
    app = demo_app(workspace, start)
    console.print(f"[bold]closeloop demo[/bold] — workspace {workspace}/ (SQLite, no keys needed)")
    report = import_world(app.ledgers, world, clock=app.clock)
    console.print(
        f"Loaded sample company {world['company']['name']}: {report.owners} owners, "
        f"{report.clients} clients, {report.invoices} invoices issued elsewhere."
    )

    triggers = json.loads((SAMPLE_DIR / "triggers.json").read_text(encoding="utf-8"))
    out_dir = workspace / "invoices"
    out_dir.mkdir()
    fired = Table(title="Triggers fired", title_justify="left")
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
        result = issue_invoice(app.ledgers, trigger, clock=app.clock)
        if result.created:
            issued.append(result.number)
        fired.add_row(
            spec["source"],
            spec["what"],
            f"{result.number} issued" if result.created else f"duplicate → still {result.number}",
        )
    console.print(fired)

    summary = Table(title="Invoices issued", title_justify="left")
    for col in ("Number", "Client", "Lang", "VAT", "Total", "Due", "PDF (Factur-X)"):
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
            str(pdf_path),
        )
    console.print(summary)
    console.print(
        f"{len(issued)} invoices issued from {len(triggers)} trigger deliveries "
        f"({len(triggers) - len(issued)} duplicate ignored). PDFs and EN 16931 XML in {out_dir}/.\n"
        f"Explore: closeloop --db sqlite:///{workspace}/closeloop.db invoices"
    )
