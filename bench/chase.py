"""Chase runner at scale: `closeloop chase --preview` and one `closeloop run` over many invoices.

A database holds N open invoices (generated with bulk inserts, not through the tools). 99 % are
already planned with their next action a month ahead — the state the runner leaves them in —
and 1 % fell due yesterday and have not been planned yet, so each of them gets its first
reminder now. The figures show that the work grows with the due invoices, not with all of
them: the same commands run on a 10,000-invoice database with the same number of due invoices
(the baseline) take about as long.

    .venv/bin/python bench/chase.py                          # SQLite: 100,000 and baselines
    .venv/bin/python bench/chase.py --count 20000            # a quicker look
    .venv/bin/python bench/chase.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/chase.py --postgres URL --million  # 1,000,000 invoices on PostgreSQL
    .venv/bin/python bench/chase.py --postgres URL --million --due 1000 --no-sqlite

With ``--postgres`` the URL names a server and a database to connect to; the bench creates
its own databases there and drops them afterwards. Timed, in-process (interpreter start-up
excluded): ``preview`` = ``tools.chase.preview_chase`` over 7 days (what ``chase --preview``
prints); ``run`` = ``entrypoints.runner.run_cycle`` without delivery (recurring cycles, chase
plan, every reminder rendered and queued in the outbox: what ``closeloop run`` does before it
sends); ``deliver`` = one outbox pass over those reminders with a recording handler (claim,
balance re-check, record), i.e. the outbox's own cost without SMTP and without the PDF
(``bench/render.py`` measures rendering). Wall and CPU seconds are both printed: on a loaded
machine CPU seconds are the steadier figure. Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 11, 10, 10, 0, tzinfo=UTC)  # a Tuesday, inside every European window
DUE_DATE = date(2026, 11, 9)  # due yesterday: the gentle reminder (day 1) is due now
LATER = NOW + timedelta(days=30)  # next action of the invoices that are not due
CLIENTS = ("cl-kestrel", "cl-falke", "cl-tulp", "cl-mistral", "cl-sol")
CHUNK = 5_000


@dataclass(frozen=True)
class Timing:
    """One timed call: wall and CPU seconds, and how many items it acted on."""

    wall: float
    cpu: float
    items: int


@dataclass(frozen=True)
class Figures:
    """The three timings of one database."""

    total: int
    due: int
    build: float
    preview: Timing
    run: Timing
    deliver: Timing


def timed(fn: Callable[[], int]) -> Timing:
    """Run ``fn`` once; ``fn`` returns how many items it handled."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    items = fn()
    return Timing(time.perf_counter() - wall0, time.process_time() - cpu0, items)


def _snapshots(ledgers: Any) -> dict[str, tuple[dict[str, Any], Any]]:
    """One issued document per client, as a snapshot to copy, with its totals."""
    from billing.invoice import LineInput
    from billing.snapshot import to_snapshot
    from tools.issuing import build_invoice_for

    out = {}
    with ledgers() as ledger:
        company = ledger.company()
        for client_id in CLIENTS:
            client = ledger.client(client_id)
            line: dict[str, str] = {
                "description": "Monthly retainer",
                "quantity": "1",
                "unit_price": "1000.00",
                "vat_rate": "20",
            }
            if client.country != company.country:
                line.update(vat_rate="0", tax_category="reverse_charge")
            doc = build_invoice_for(
                company,
                client,
                number="TEMPLATE",
                issue_date=DUE_DATE - timedelta(days=30),
                items=[LineInput.from_mapping(line)],
                due_date=DUE_DATE,
            )
            out[client_id] = (to_snapshot(doc), doc)
    return out


def populate(db: Any, ledgers: Any, total: int, due_every: int) -> int:
    """Bulk-insert ``total`` open invoices; every ``due_every``-th is due now. Returns due."""
    from sqlalchemy import insert

    from storage.models import InvoiceRow

    templates = _snapshots(ledgers)
    stamp = NOW - timedelta(days=31)
    due = 0
    with db.engine.begin() as conn:
        batch: list[dict[str, Any]] = []
        for i in range(total):
            client_id = CLIENTS[i % len(CLIENTS)]
            snapshot, doc = templates[client_id]
            is_due = i % due_every == 0
            due += is_due
            number = f"BN-{i:07d}"
            due_date = DUE_DATE if is_due else DUE_DATE + timedelta(days=25)
            batch.append(
                {
                    "number": number,
                    "series": "BN",
                    "sequence": i + 1,
                    "kind": "invoice",
                    "origin": "imported",
                    "client_id": client_id,
                    "currency": doc.currency,
                    "issue_date": due_date - timedelta(days=30),
                    "due_date": due_date,
                    "original_due_date": due_date,
                    "language": doc.language,
                    "net_total": doc.totals.tax_exclusive,
                    "tax_total": doc.totals.tax_total,
                    "grand_total": doc.totals.grand_total,
                    "amount_paid": 0,
                    "amount_credited": 0,
                    "status": "open",
                    "snapshot": {
                        **snapshot,
                        "number": number,
                        "payment_reference": number,
                        "issue_date": (due_date - timedelta(days=30)).isoformat(),
                        "delivery_date": (due_date - timedelta(days=30)).isoformat(),
                        "due_date": due_date.isoformat(),
                    },
                    "escalated": False,
                    "planned": not is_due,
                    "next_action_at": None if is_due else LATER,
                    "issued_at": stamp,
                    "updated_at": stamp,
                }
            )
            if len(batch) == CHUNK:
                conn.execute(insert(InvoiceRow), batch)
                batch = []
        if batch:
            conn.execute(insert(InvoiceRow), batch)
    if db.dialect == "postgresql":
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE invoices")
            conn.commit()
    else:
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    return due


@contextmanager
def database(kind: str, pg_url: str | None, workdir: Path) -> Iterator[str]:
    """A fresh database URL (a SQLite file, or a new PostgreSQL database dropped afterwards)."""
    if kind == "sqlite":
        path = workdir / f"chase-{uuid.uuid4().hex[:6]}.db"
        yield f"sqlite:///{path}"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    from sqlalchemy import create_engine

    assert pg_url is not None
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    name = f"closeloop_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield pg_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def measure(url: str, total: int, due_every: int, workdir: Path) -> Figures:
    """Build the database, then time preview, run and one outbox pass."""
    from billing.records import OutboxClaim
    from entrypoints.bootstrap import App
    from entrypoints.runner import Services, composer, run_cycle
    from entrypoints.settings import Settings
    from storage.engine import Database
    from storage.ledger import SqlLedgerFactory
    from tools.chase import preview_chase
    from tools.clock import FixedClock
    from tools.delivery import deliver_outbox
    from tools.importing import import_world

    db = Database.open(url)
    ledgers = SqlLedgerFactory(db)
    clock = FixedClock(NOW - timedelta(days=40))
    world = json.loads((ROOT / "sample" / "world.json").read_text(encoding="utf-8"))
    world["invoices"] = []
    import_world(ledgers, world, clock=clock)
    started = time.perf_counter()
    due = populate(db, ledgers, total, due_every)
    build = time.perf_counter() - started
    clock.set(NOW)
    app = App(Settings(data_dir=str(workdir / "data")), db, ledgers, clock)
    services = Services(mailer=None, slack=None, slack_channel=None, compose=composer())

    def record(claim: OutboxClaim) -> Mapping[str, Any]:
        return {"message_id": claim.payload["message_id"], "accepted": claim.payload["to"]}

    services.handlers["email"] = record
    preview = timed(lambda: len(preview_chase(ledgers, clock, days=7)))
    run = timed(lambda: run_cycle(app, services, deliver=False).chase.sent)
    deliver = timed(
        lambda: deliver_outbox(ledgers, services.handlers, clock, worker="bench:1", limit=50).sent
    )
    db.dispose()
    return Figures(total, due, build, preview, run, deliver)


def report(label: str, f: Figures) -> None:
    """Print one database's figures."""
    print(f"\n{label}: {f.total:,} open invoices, {f.due:,} due (built in {f.build:.1f} s)")
    for name, t in (("preview", f.preview), ("run", f.run), ("deliver", f.deliver)):
        rate = f.due / t.wall if t.wall else float("inf")
        print(
            f"  {name:<8} {t.wall:7.2f} s wall {t.cpu:7.2f} s CPU  {t.items:>6,} actions"
            f"  {rate:8,.0f} due invoices/s  {f.total / t.wall:10,.0f} invoices/s"
        )


def ratios(big: Figures, base: Figures, what: str) -> None:
    """Print big/base time ratios for each command."""
    parts = []
    for name in ("preview", "run", "deliver"):
        b, s = getattr(big, name), getattr(base, name)
        parts.append(f"{name} {b.wall / s.wall:.2f}× wall, {b.cpu / s.cpu:.2f}× CPU")
    print(f"  ratio vs {what}: " + "; ".join(parts))


def suite(
    kind: str, pg_url: str | None, total: int, baseline: int, due: int | None, workdir: Path
) -> None:
    """The big database, then two baselines: same due count, and same due share."""
    due_every = max(1, total // due) if due else 100
    same_due_every = max(1, baseline // max(1, total // due_every))
    share = f"{100 / due_every:g}%"
    runs = [
        (f"{kind} {total:,}", total, due_every),
        (f"{kind} baseline {baseline:,}, same due count", baseline, same_due_every),
        (f"{kind} baseline {baseline:,}, {share} due", baseline, due_every),
    ]
    figures = []
    for label, count, every in runs:
        with database(kind, pg_url, workdir) as url:
            figures.append((label, measure(url, count, every, workdir)))
        report(*figures[-1])
    big, same_due, same_share = (f for _, f in figures)
    print(f"\n{kind}: {total:,} vs {baseline:,} invoices")
    ratios(big, same_due, f"{baseline:,} with the same {same_due.due:,} due (≈1 expected)")
    expected = big.due / same_share.due
    ratios(big, same_share, f"{baseline:,} with {share} due (≈{expected:.0f} expected: due grew)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="open invoices on SQLite")
    parser.add_argument("--baseline", type=int, default=10_000, help="invoices in the baseline")
    parser.add_argument("--postgres", metavar="URL", help="also run on this PostgreSQL server")
    parser.add_argument(
        "--million", action="store_true", help="1,000,000 invoices on PostgreSQL (with --postgres)"
    )
    parser.add_argument(
        "--due", type=int, default=None, help="due invoices in the big database (default: 1%%)"
    )
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="closeloop-bench-") as tmp:
        workdir = Path(tmp)
        if not args.no_sqlite:
            suite("sqlite", None, args.count, args.baseline, args.due, workdir)
        if args.postgres:
            pg_total = 1_000_000 if args.million else args.count
            suite("postgresql", args.postgres, pg_total, args.baseline, args.due, workdir)


if __name__ == "__main__":
    main()
