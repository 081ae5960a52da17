"""The closeloop CLI as a user runs it: exit codes, one-line errors, JSON output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from entrypoints.cli import main
from tests.conftest import ROOT, SAMPLE_WORLD

LINES = [
    {"description": "Design sprint", "quantity": "3", "unit_price": "950.00", "vat_rate": "20"}
]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def dbarg(db_url: str) -> list[str]:
    return ["--db", db_url]


@pytest.fixture
def lines_file(tmp_path: Path) -> Path:
    path = tmp_path / "lines.json"
    path.write_text(json.dumps(LINES), encoding="utf-8")
    return path


def test_import_then_trigger_twice_prints_invoice_and_created_flag(
    capsys: pytest.CaptureFixture[str], dbarg: list[str], lines_file: Path
) -> None:
    assert run(capsys, *dbarg, "import", str(SAMPLE_WORLD))[0] == 0
    code, out, _ = run(
        capsys,
        *dbarg,
        "trigger",
        "asana",
        "--id",
        "t-1",
        "--client",
        "cl-kestrel",
        "--lines",
        str(lines_file),
        "--json",
    )
    assert code == 0
    assert json.loads(out.strip().splitlines()[-1]) == {"invoice": "LS-2026-0045", "created": True}
    code, out, _ = run(
        capsys,
        *dbarg,
        "trigger",
        "asana",
        "--id",
        "t-1",
        "--client",
        "cl-kestrel",
        "--lines",
        str(lines_file),
        "--json",
    )
    assert json.loads(out.strip().splitlines()[-1]) == {"invoice": "LS-2026-0045", "created": False}

    code, out, _ = run(capsys, *dbarg, "invoice", "show", "LS-2026-0045", "--json")
    shown = json.loads(out)
    assert shown["total"] == "3420.00" and shown["balance"] == "3420.00"
    assert [e["kind"] for e in shown["timeline"]] == [
        "trigger_received",
        "invoice_issued",
        "trigger_duplicate",
    ]

    code, out, _ = run(capsys, *dbarg, "invoices", "--status", "paid", "--json")
    assert [r["number"] for r in json.loads(out)] == ["LS-2026-0041"]


def test_reimport_reports_nothing_changed(
    capsys: pytest.CaptureFixture[str], dbarg: list[str]
) -> None:
    run(capsys, *dbarg, "import", str(SAMPLE_WORLD))
    code, out, _ = run(capsys, *dbarg, "import", str(SAMPLE_WORLD), "--json")
    assert code == 0 and json.loads(out)["changed"] == 0


@pytest.mark.parametrize(
    ("lines", "client", "expected"),
    [
        (LINES, "cl-ghost", "error[not_found]: unknown client 'cl-ghost'"),
        (
            [{"description": "x", "quantity": 1.5, "unit_price": "1"}],
            "cl-kestrel",
            "error[invalid_line]",
        ),
        (
            [{"description": "x", "quantity": "1", "unit_price": "-5", "vat_rate": "20"}],
            "cl-kestrel",
            "unit_price must not be negative",
        ),
        ("{not json", "cl-kestrel", "error[malformed_json]"),
        (
            [
                {
                    "description": "x",
                    "quantity": "1",
                    "unit_price": "5",
                    "vat_rate": "20",
                    "tax_category": "luxury",
                }
            ],
            "cl-kestrel",
            "unknown tax_category 'luxury'",
        ),
    ],
)
def test_user_errors_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
    dbarg: list[str],
    tmp_path: Path,
    lines: object,
    client: str,
    expected: str,
) -> None:
    run(capsys, *dbarg, "import", str(SAMPLE_WORLD))
    path = tmp_path / "l.json"
    path.write_text(lines if isinstance(lines, str) else json.dumps(lines), encoding="utf-8")
    code, out, err = run(
        capsys, *dbarg, "trigger", "manual", "--id", "m-1", "--client", client, "--lines", str(path)
    )
    assert code == 2
    assert expected in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err + out


def test_missing_currency_and_bad_vat_id_in_import_are_one_line_errors(
    capsys: pytest.CaptureFixture[str], dbarg: list[str], tmp_path: Path
) -> None:
    world = json.loads(SAMPLE_WORLD.read_text(encoding="utf-8"))
    del world["clients"][0]["currency"]
    path = tmp_path / "w.json"
    path.write_text(json.dumps(world), encoding="utf-8")
    code, _, err = run(capsys, *dbarg, "import", str(path))
    assert code == 2 and err.strip() == "error[invalid_import]: clients[0].currency: missing"

    world = json.loads(SAMPLE_WORLD.read_text(encoding="utf-8"))
    world["clients"][2]["vat_id"] = "NL12"
    path.write_text(json.dumps(world), encoding="utf-8")
    code, _, err = run(capsys, *dbarg, "import", str(path))
    assert code == 2 and "clients[2]: VAT id 'NL12' has a wrong format" in err


def test_console_script_exit_code_and_stderr_from_a_real_process(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "entrypoints.cli",
            "--db",
            f"sqlite:///{tmp_path}/x.db",
            "invoice",
            "show",
            "NOPE-1",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error[not_found]: unknown invoice 'NOPE-1'"
