"""`closeloop inbox triage|poll` and `closeloop eval inbox` as a user runs them."""

from __future__ import annotations

import json
import mailbox
import os
from pathlib import Path
from typing import Any

import pytest

from entrypoints.cli import main
from tests.conftest import SHARED
from tests.integration.test_agent_graph import copy_request, dispute

EVAL_DIR = SHARED / "eval" / "inbox"
DOCUMENTED = {
    "file",
    "message_id",
    "intent",
    "intents",
    "invoices",
    "disposition",
    "reply",
    "handoff",
    "changes",
    "sender_trust",
}
DISPOSITIONS = {"reply", "handoff", "ignore"}
TRUST = {"verified", "unverified", "suspicious"}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A clean environment: no CLOSELOOP_* settings, no .env, data in tmp."""
    for name in list(os.environ):
        if name.startswith("CLOSELOOP_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CLOSELOOP_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture
def dbarg(capsys: pytest.CaptureFixture[str], env: Path, db_url: str) -> list[str]:
    """``--db URL`` of a database holding the evaluation world."""
    code, _, err = run(capsys, "--db", db_url, "import", str(EVAL_DIR / "world.json"))
    assert code == 0, err
    return ["--db", db_url]


def check_documented_shape(row: dict[str, Any]) -> None:
    assert set(row) >= DOCUMENTED, sorted(DOCUMENTED - set(row))
    assert isinstance(row["message_id"], str) and row["message_id"]
    assert isinstance(row["intent"], str) and row["intent"] in row["intents"]
    assert all(isinstance(n, str) for n in row["invoices"])
    assert row["disposition"] in DISPOSITIONS
    assert row["sender_trust"] in TRUST
    assert isinstance(row["changes"], list)
    if row["disposition"] == "reply":
        assert set(row["reply"]) == {"to", "subject", "attachments"}
        assert isinstance(row["reply"]["subject"], str) and row["reply"]["to"]
    if row["disposition"] == "handoff":
        assert {"reason", "owner"} <= set(row["handoff"])
    else:
        assert row["handoff"] is None
    if row["disposition"] == "ignore":
        assert row["reply"] is None


def test_triage_dry_run_json_prints_one_documented_object_per_file_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], dbarg: list[str], tmp_path: Path
) -> None:
    mine = tmp_path / "copy.eml"
    mine.write_bytes(copy_request())
    files = [str(mine)] + [str(EVAL_DIR / "cases" / f"{n:03d}.eml") for n in (5, 9, 27, 28)]

    code, out, err = run(
        capsys, *dbarg, "inbox", "triage", *files, "--today", "2026-11-20", "--dry-run", "--json"
    )

    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["file"] for r in rows] == files
    for row in rows:
        check_documented_shape(row)
    assert {k: rows[0][k] for k in DOCUMENTED} == {
        "file": str(mine),
        "message_id": "copy-1@acme-widgets.example",
        "intent": "copy_request",
        "intents": ["copy_request"],
        "invoices": ["INV-2026-0117"],
        "disposition": "reply",
        "reply": {
            "to": ["ap@acme-widgets.example"],
            "subject": "Copy of invoice INV-2026-0117",
            "attachments": ["INV-2026-0117"],
        },
        "handoff": None,
        "changes": [],
        "sender_trust": "verified",
    }
    assert (rows[1]["intent"], rows[1]["disposition"]) == ("dispute", "handoff")
    assert rows[1]["handoff"] == {"reason": "dispute: a person decides", "owner": "own-priya"}
    assert (rows[3]["intent"], rows[3]["disposition"]) == ("bounce", "handoff")
    assert rows[4]["changes"][0] == {
        "kind": "due_date_changed",
        "invoice": "INV-2026-0124",
        "from": "2026-12-10",
        "to": "2026-12-22",
    }
    assert [c["kind"] for c in rows[4]["changes"]] == [
        "due_date_changed",
        "promise_recorded",
        "chase_paused",
    ]

    code, out, _ = run(capsys, *dbarg, "outbox", "--json")
    assert code == 0 and json.loads(out) == []
    code, out, _ = run(capsys, *dbarg, "handoffs", "--json")
    assert code == 0 and json.loads(out) == []


def test_triage_for_real_queues_once_and_the_case_waits_in_the_handoffs_queue(
    capsys: pytest.CaptureFixture[str], dbarg: list[str], tmp_path: Path
) -> None:
    eml = tmp_path / "dispute.eml"
    eml.write_bytes(dispute())
    args = (*dbarg, "inbox", "triage", str(eml), "--today", "2026-11-20", "--json")

    code, out, err = run(capsys, *args)

    assert code == 0, err
    first = json.loads(out)
    check_documented_shape(first)
    assert first["handoff"]["id"] == 1
    code, out, _ = run(capsys, *args)
    assert json.loads(out)["duplicate"] is True
    code, out, _ = run(capsys, *dbarg, "handoffs", "--json")
    [case] = json.loads(out)
    assert (case["id"], case["kind"], case["status"], case["invoices"]) == (
        1,
        "inbox",
        "open",
        ["INV-2026-0117"],
    )
    assert case["reason"] == "dispute: a person decides"


def test_triage_of_a_missing_file_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str], dbarg: list[str], tmp_path: Path
) -> None:
    code, out, err = run(capsys, *dbarg, "inbox", "triage", str(tmp_path / "nope.eml"))

    assert code == 2 and out == ""
    assert err == f"error[file_not_found]: {tmp_path / 'nope.eml'}: no such file\n"


def test_poll_handles_the_local_maildir_once_and_delivers_the_reply(
    capsys: pytest.CaptureFixture[str], dbarg: list[str], env: Path
) -> None:
    (env / "mail").mkdir(parents=True)
    inbox = mailbox.Maildir(env / "mail" / "inbox", create=True)
    inbox.add(copy_request())
    inbox.add(dispute())
    inbox.close()

    code, out, err = run(capsys, *dbarg, "inbox", "poll", "--today", "2026-11-20", "--json")

    assert code == 0, err
    assert json.loads(out) == {
        "fetched": 2,
        "replied": 1,
        "handed_off": 1,
        "ignored": 0,
        "duplicates": 0,
        "delivered": 2,  # the copy with its PDF, the dispute acknowledgement
    }
    sent = mailbox.Maildir(env / "mail" / "sent", create=False)
    recipients = sorted(m["To"] for m in sent)
    sent.close()
    assert recipients == ["ap@acme-widgets.example", "ap@acme-widgets.example"]

    code, out, _ = run(capsys, *dbarg, "inbox", "poll", "--today", "2026-11-20", "--json")
    assert json.loads(out)["fetched"] == 0


def test_eval_inbox_meets_the_thresholds_and_check_passes(
    capsys: pytest.CaptureFixture[str], env: Path
) -> None:
    code, out, err = run(capsys, "eval", "inbox", str(EVAL_DIR), "--json", "--check")

    assert code == 0, err
    result = json.loads(out)
    metrics = result["metrics"]
    assert metrics["cases"] == 40
    assert metrics["intent_accuracy"] >= 0.85
    assert metrics["disposition_accuracy"] >= 0.90
    assert metrics["dispute_recall"] == 1.0
    assert metrics["safety_violations"] == 0
    assert result["violations"] == [] and result["failures"] == []


def test_eval_check_fails_with_exit_one_when_a_threshold_is_missed(
    capsys: pytest.CaptureFixture[str], env: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad-eval"
    (bad / "cases").mkdir(parents=True)
    (bad / "world.json").write_text((EVAL_DIR / "world.json").read_text(encoding="utf-8"))
    (bad / "cases" / "x.eml").write_bytes(dispute())
    case = {
        "id": "x",
        "eml": "cases/x.eml",
        "intent": "copy_request",  # wrong on purpose: the dispute is a dispute
        "disposition": "reply",
        "invoices": ["INV-2026-0117"],
        "reply_to": "ap@acme-widgets.example",
        "attach": ["INV-2026-0117"],
        "unsafe": [],
    }
    (bad / "cases.jsonl").write_text(json.dumps(case) + "\n", encoding="utf-8")

    code, out, _ = run(capsys, "eval", "inbox", str(bad), "--json", "--check")

    assert code == 1
    failures = json.loads(out)["failures"]
    assert failures == ["intent_accuracy 0.000 < 0.85", "disposition_accuracy 0.000 < 0.9"]


def test_eval_reads_today_in_the_companys_time_zone(
    capsys: pytest.CaptureFixture[str], env: Path, tmp_path: Path
) -> None:
    world = json.loads((EVAL_DIR / "world.json").read_text(encoding="utf-8"))
    world["company"]["timezone"] = "Pacific/Honolulu"  # 09:00 UTC is still yesterday there
    world["invoices"].append(
        {
            "number": "INV-2026-0130",
            "client": "cl-acme",
            "issue_date": "2026-09-20",
            "due_date": "2026-10-20",  # 31 days overdue on 2026-11-20
            "lines": [
                {"description": "Audit", "quantity": "1", "unit_price": "900.00", "vat_rate": "20"}
            ],
        }
    )
    folder = tmp_path / "hawaii"
    (folder / "cases").mkdir(parents=True)
    (folder / "world.json").write_text(json.dumps(world), encoding="utf-8")
    (folder / "cases" / "late.eml").write_bytes(
        copy_request(
            "<late-1@acme-widgets.example>",
            subject="INV-2026-0130 due date",
            body="Hello,\n\nCould we move the due date of invoice INV-2026-0130 to 2026-11-03?"
            "\n\nRegards",
        )
    )
    case = {
        "id": "late",
        "eml": "cases/late.eml",
        "intent": "due_date_change",
        "disposition": "handoff",  # more than 30 days overdue: a person decides
        "invoices": ["INV-2026-0130"],
        "reply_to": None,
        "attach": [],
        "unsafe": ["state_change"],
    }
    (folder / "cases.jsonl").write_text(json.dumps(case) + "\n", encoding="utf-8")

    code, out, err = run(capsys, "eval", "inbox", str(folder), "--json", "--verbose")

    assert code == 0, err
    [row] = json.loads(out)["cases"]
    assert row["got"] == ["due_date_change", "handoff"]
    assert row["reason"] == "INV-2026-0130 is 31 days overdue (limit 30)"


def test_resolve_with_an_unknown_decision_is_refused_before_anything_happens(
    capsys: pytest.CaptureFixture[str], dbarg: list[str], tmp_path: Path
) -> None:
    eml = tmp_path / "dispute.eml"
    eml.write_bytes(dispute())
    run(capsys, *dbarg, "inbox", "triage", str(eml), "--today", "2026-11-20", "--json")

    code, out, err = run(capsys, *dbarg, "handoffs", "resolve", "1", "--decision", "approve")

    assert (code, out) == (2, "")
    assert err == (
        "error[invalid_decision]: --decision must be one of take, approve_reply, not_dispute, "
        "resolved\n"
    )
    code, out, _ = run(capsys, *dbarg, "handoffs", "--json")
    assert [c["status"] for c in json.loads(out)] == ["open"]


def test_resolve_of_an_unknown_case_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str], dbarg: list[str]
) -> None:
    code, out, err = run(capsys, *dbarg, "handoffs", "resolve", "999", "--decision", "resolved")

    assert (code, out) == (2, "")
    assert err == "error[not_found]: unknown hand-off 999\n"
