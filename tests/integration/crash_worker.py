"""A delivery worker for the crash test: drains the outbox through SMTP with a short lease.

Run as ``python -m tests.integration.crash_worker <database-url> <lease-seconds>`` with
``CLOSELOOP_SMTP_URL`` and ``CLOSELOOP_DATA_DIR`` set. It wires the real services (the same
``build_services`` as ``closeloop run``), prints ``ready`` (the test times its SIGKILL from
there), then delivers until no email row is pending or sending, and exits 0.
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta

from entrypoints.bootstrap import build_app
from entrypoints.runner import build_services, worker_id
from tools.delivery import deliver_outbox

BATCH = 10


def main(argv: list[str]) -> int:
    """Deliver until the outbox is drained; rows a killed worker left are reclaimed by lease."""
    url, lease = argv[0], timedelta(seconds=float(argv[1]))
    app = build_app(url)
    services = build_services(app)
    print("ready", flush=True)
    try:
        while True:
            deliver_outbox(
                app.ledgers,
                services.handlers,
                app.clock,
                worker=worker_id(),
                composer=services.compose,
                lease=lease,
                limit=BATCH,
            )
            with app.ledgers() as ledger:
                unfinished = ledger.outbox_rows(statuses=["pending", "sending"], kinds=["email"])
            if not unfinished:
                return 0
            time.sleep(0.05)  # rows of a killed worker wait for their lease to expire
    finally:
        app.db.dispose()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
