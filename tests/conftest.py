"""Shared fixtures: real databases (SQLite always; PostgreSQL when reachable, required in CI).

Every test that takes ``db`` runs once per backend. PostgreSQL tests get their own database,
cloned from a migrated template (``CREATE DATABASE … TEMPLATE``), so they are isolated and fast.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from storage.engine import Database, migrate
from storage.ledger import SqlLedgerFactory
from tools.clock import FixedClock

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SAMPLE_WORLD = ROOT / "sample" / "world.json"
IN_CI = os.environ.get("CI") == "true"
PG_ADMIN_URL = os.environ.get(
    "CLOSELOOP_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _pg_reachable() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any driver/connection error means "not reachable"
        return f"{type(exc).__name__}: {exc}".splitlines()[0]


class PgFactory:
    """Creates isolated PostgreSQL databases from a migrated template."""

    def __init__(self) -> None:
        self.admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        self.template = f"closeloop_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.created: list[str] = []
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.template}"'))
        engine = create_engine(self._url(self.template))
        migrate(engine)
        engine.dispose()

    def _url(self, name: str) -> str:
        return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name

    def new_url(self) -> str:
        name = f"closeloop_t_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        self.created.append(name)
        return self._url(name)

    def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def pg_factory() -> Iterator[PgFactory]:
    problem = _pg_reachable()
    if problem is not None:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required under CI=true but not reachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    factory = PgFactory()
    yield factory
    factory.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'closeloop.db'}"
        return
    factory: PgFactory = request.getfixturevalue("pg_factory")
    url = factory.new_url()
    yield url
    factory.drop(url)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database.open(db_url)
    yield database
    database.dispose()


@pytest.fixture
def ledgers(db: Database) -> SqlLedgerFactory:
    return SqlLedgerFactory(db)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def sample_world() -> dict[str, Any]:
    return json.loads(SAMPLE_WORLD.read_text(encoding="utf-8"))


@pytest.fixture
def world(
    ledgers: SqlLedgerFactory, clock: FixedClock, sample_world: dict[str, Any]
) -> dict[str, Any]:
    """The sample company, owners, clients and two imported invoices, loaded."""
    from tools.importing import import_world

    import_world(ledgers, sample_world, clock=clock)
    return sample_world
