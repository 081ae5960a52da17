"""The composition root: wires real adapters (or the embedded defaults) to the tools."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from entrypoints.settings import Settings
from storage.engine import Database
from storage.ledger import SqlLedgerFactory
from tools.clock import Clock, FixedClock, SystemClock
from tools.ports import LedgerFactory


@dataclass
class App:
    """Everything a command needs, built once per process."""

    settings: Settings
    db: Database
    ledgers: LedgerFactory
    clock: Clock

    @property
    def data_dir(self) -> Path:
        """The working data folder (created on demand)."""
        path = Path(self.settings.data_dir)
        path.mkdir(parents=True, exist_ok=True)
        return path


def clock_for(
    now: datetime | None = None,
    today: date | None = None,
    tz: str = "UTC",
    window_start: time = time(9, 0),
) -> Clock:
    """A fixed clock for ``--now``/``--today`` (today = that date at the send window's opening)."""
    if now is not None:
        return FixedClock(now if now.tzinfo else now.replace(tzinfo=UTC))
    if today is not None:
        return FixedClock(datetime.combine(today, window_start, tzinfo=ZoneInfo(tz)))
    return SystemClock()


def build_app(
    db_url: str | None = None, *, clock: Clock | None = None, settings: Settings | None = None
) -> App:
    """Open the database (migrating it) and wire the ledger factory."""
    settings = settings or Settings()
    db = Database.open(db_url or settings.database_url)
    return App(settings=settings, db=db, ledgers=SqlLedgerFactory(db), clock=clock or SystemClock())
