"""The LangGraph checkpointer on closeloop's own database (SQLite file or PostgreSQL)."""

from __future__ import annotations

import sqlite3
import threading
import time
import weakref
from typing import Any

from sqlalchemy import event

from storage.engine import Database

# One saver (one connection) per open Database: every agent built in a process — one per
# Slack click or CLI resume — shares it instead of leaking a connection each time. It is
# closed when the Database is disposed or garbage-collected.
_SAVERS: dict[int, Any] = {}
_LOCK = threading.Lock()


def checkpointer_for(db: Database) -> Any:
    """A saver writing LangGraph checkpoints next to closeloop's tables (shared per ``db``)."""
    key = id(db)
    with _LOCK:
        saver = _SAVERS.get(key)
        if saver is not None:
            return saver
        saver, conn = _open(db)
        _SAVERS[key] = saver

        def close(*_: Any) -> None:
            with _LOCK:
                if _SAVERS.get(key) is saver:
                    del _SAVERS[key]
            conn.close()

        weakref.finalize(db, close)
        event.listen(db.engine, "engine_disposed", close)
        return saver


def _open(db: Database) -> tuple[Any, Any]:
    url = db.engine.url
    if db.dialect == "sqlite":
        from langgraph.checkpoint.sqlite import SqliteSaver

        path = url.database or ":memory:"
        conn = sqlite3.connect(path, check_same_thread=False, timeout=60)
        conn.execute("PRAGMA journal_mode=WAL")
        saver = SqliteSaver(conn)
        saver.setup()
        return saver, conn
    import psycopg
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row

    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    conn_pg = psycopg.connect(dsn, autocommit=True, prepare_threshold=0, row_factory=dict_row)
    saver_pg = PostgresSaver(conn_pg)
    # Several workers may start at once: serialise the saver's own migrations (concurrent
    # CREATE TABLE IF NOT EXISTS collide in PostgreSQL's catalogue). A try-lock loop, not a
    # blocking lock: the saver builds an index CONCURRENTLY, which waits for every open
    # transaction — including a blocked pg_advisory_lock call, which would deadlock.
    lock = "SELECT pg_try_advisory_lock(hashtext('closeloop:checkpoint-setup')) AS ok"
    for _ in range(600):
        row = conn_pg.execute(lock).fetchone()
        if row and row["ok"]:
            break
        time.sleep(0.1)
    try:
        saver_pg.setup()
    finally:
        conn_pg.execute("SELECT pg_advisory_unlock(hashtext('closeloop:checkpoint-setup'))")
    return saver_pg, conn_pg
