"""Inbox throughput: parse + prefilter + resolve + offline classify + gate (dry run).

Runs over every message of the shared corpora and the eval set, against the eval world in a
temporary SQLite database, on one core; then streams a generated 10,000-message Maildir through
the same pipeline and samples the peak RSS every 1,000 messages to show memory stays flat.

    .venv/bin/python bench/inbox.py [--mailbox 10000] [--corpus-limit N]

Figures are printed with a baseline measured in the same run (parse only), so the ratio is
meaningful on a noisy machine. Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import json
import mailbox
import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from datetime import time as dtime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT))

CORPORA = [
    "sisimai-set-of-emails",
    "bounceparser-corpus",
    "flanker-fixtures",
    "mail-parser-fixtures",
    "ruby-mail-fixtures",
    "enmime-testdata",
    "mimekit-testdata",
    "talon-fixtures",
]
SKIP_SUFFIXES = {".tsv", ".md", ".list", ".tnef", ".txt~", ".json", ".py"}


def corpus_files(limit: int | None) -> list[Path]:
    files = []
    for name in CORPORA:
        for path in sorted((SHARED / "corpora" / name).rglob("*")):
            if (
                path.is_file()
                and path.suffix.lower() not in SKIP_SUFFIXES
                and path.name not in ("LICENSE", "NOTICE", "INDEX.tsv", "README")
            ):
                files.append(path)
    files += sorted((SHARED / "eval" / "inbox" / "cases").glob("*.eml"))
    return files[:limit] if limit else files


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mailbox", type=int, default=10_000)
    parser.add_argument("--corpus-limit", type=int, default=None)
    args = parser.parse_args()

    from agent.nodes import classify, gate, message_state, resolve
    from entrypoints.agent_wiring import build_agent, make_classifier, process_raw
    from entrypoints.bootstrap import build_app
    from inbox.parse import parse_message
    from tools.clock import FixedClock
    from tools.importing import import_world

    files = corpus_files(args.corpus_limit)
    raws = [p.read_bytes() for p in files]
    total_bytes = sum(len(r) for r in raws)
    world = json.loads((SHARED / "eval" / "inbox" / "world.json").read_text())
    today = date.fromisoformat(world["today"])
    with tempfile.TemporaryDirectory() as tmp:
        app = build_app(
            f"sqlite:///{tmp}/bench.db",
            clock=FixedClock(datetime.combine(today, dtime(9), tzinfo=UTC)),
        )
        import_world(app.ledgers, world, clock=app.clock)
        agent = build_agent(app, classifier=make_classifier(app, "offline"), durable=False)
        process_raw(app, agent, raws[-1], dry_run=True)  # warm up imports and caches

        t0 = time.perf_counter()
        for raw in raws:
            parse_message(raw)
        parse_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        outcomes: dict[str, int] = {}
        for raw in raws:
            out = process_raw(app, agent, raw, dry_run=True)
            outcomes[out["disposition"]] = outcomes.get(out["disposition"], 0) + 1
        full_s = time.perf_counter() - t0
        n = len(raws)
        print(f"corpus: {n} messages, {total_bytes / 1e6:.1f} MB (shared corpora + eval set)")
        print(f"  parse only (baseline):        {n / parse_s:8.1f} msg/s  ({parse_s:.2f} s)")
        print(
            f"  parse→prefilter→resolve→classify→gate (dry run): {n / full_s:8.1f} msg/s "
            f"({full_s:.2f} s, {full_s / n * 1000:.1f} ms/msg, "
            f"{full_s / parse_s:.1f}x the parse-only time)"
        )
        print(f"  dispositions: {outcomes}")

        # The same pipeline without LangGraph: the node functions called directly, per stage.
        stages = {"parse": 0.0, "resolve": 0.0, "classify": 0.0, "gate": 0.0}
        deps = agent.deps
        for raw in raws:
            t = time.perf_counter()
            msg = parse_message(raw)
            state = {"key": msg.message_id, "dry_run": True, "message": message_state(msg)}
            t1 = time.perf_counter()
            deps.memo.clear()
            state.update(resolve(deps, state, msg))
            t2 = time.perf_counter()
            hint = None
            if state.get("client_id"):
                with deps.ledgers() as ledger:
                    hint = ledger.client(str(state["client_id"])).language
            state.update(classify(deps, state, hint))
            t3 = time.perf_counter()
            state.update(gate(deps, state))
            t4 = time.perf_counter()
            for name, spent in zip(stages, (t1 - t, t2 - t1, t3 - t2, t4 - t3), strict=True):
                stages[name] += spent
        deps.memo.clear()
        stage_s = sum(stages.values())
        print(
            f"  stages called directly (no graph):              {n / stage_s:8.1f} msg/s "
            f"({stage_s / n * 1000:.1f} ms/msg, {stage_s / parse_s:.1f}x the parse-only time: "
            + ", ".join(f"{k} {v / n * 1000:.1f} ms" for k, v in stages.items())
            + ")"
        )

        # A 10,000-message mailbox, streamed: memory must not grow with the mailbox size.
        box_dir = Path(tmp) / "mailbox"
        box = mailbox.Maildir(str(box_dir), create=True)
        human = [r for r in raws[-40:]]
        for i in range(args.mailbox):
            raw = human[i % len(human)]
            raw = raw.replace(b"Message-ID: <", f"Message-ID: <bench{i}.".encode(), 1)
            box.add(raw)
        box.close()
        samples = []
        t0 = time.perf_counter()
        for i, path in enumerate(sorted((box_dir / "new").iterdir()), start=1):
            process_raw(app, agent, path.read_bytes(), dry_run=True)
            if i % 1000 == 0:
                samples.append((i, rss_mib()))
        box_s = time.perf_counter() - t0
        print(
            f"mailbox: {args.mailbox} messages streamed in {box_s:.1f} s "
            f"({args.mailbox / box_s:.1f} msg/s)"
        )
        print(
            "  peak RSS (MiB) after N messages: " + ", ".join(f"{i}: {m:.0f}" for i, m in samples)
        )
        if len(samples) >= 2:
            first, last = samples[0][1], samples[-1][1]
            print(
                f"  growth from {samples[0][0]} to {samples[-1][0]} messages: "
                f"{last - first:+.1f} MiB ({(last / first - 1) * 100:+.1f}%)"
            )
        app.db.dispose()


if __name__ == "__main__":
    main()
