"""The offline classifier over the development half of the billing-inbox evaluation set.

Only human mail is scored here (auto-replies and bounces are recognised before any classifier).
The messages are read with a deliberately minimal stdlib parse: subject, the text/plain body (or
the HTML body reduced to text), and the newest reply cut at the first quote marker. The rules are
general phrase families; nothing in them names these messages, and a held-out set with other
messages is what the project's figures are measured on.
"""

from __future__ import annotations

import email
import json
import re
from collections import Counter, defaultdict
from datetime import date
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from agent.classifier import ClassifierInput
from agent.offline import OfflineClassifier
from agent.schema import Intent

EVAL_DIR = Path(__file__).resolve().parents[3] / ".." / "shared" / "eval" / "inbox"
MACHINE_INTENTS = {"auto_reply", "bounce"}

_QUOTE_START = re.compile(
    r"^(?:>|-{2,}\s*(?:original message|ursprüngliche nachricht|oorspronkelijk bericht|"
    r"message d'origine|mensaje original|forwarded message|weitergeleitete nachricht)|_{10,}|"
    r"(?:on|am|op|le|el) .{0,120}(?:wrote|schrieb|schreef|a écrit|escribió):\s*$|"
    r"(?:from|von|van|de):\s.+@)",
    re.IGNORECASE,
)

pytestmark = pytest.mark.skipif(not EVAL_DIR.is_dir(), reason="evaluation set not present")


def _body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = part.get_content()
    if part.get_content_type() == "text/html":
        soup = BeautifulSoup(content, "html.parser")
        for tag in soup(["style", "script", "head"]):
            tag.decompose()
        for tag in soup.find_all(["p", "div", "br", "tr", "li", "blockquote"]):
            tag.insert_after("\n")
        content = soup.get_text()
    return re.sub(r"\n{3,}", "\n\n", content.replace("\r\n", "\n")).strip()


def _newest(text: str) -> str:
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if _QUOTE_START.match(line.strip()):
            return "\n".join(lines[:index]).strip()
    return text


def load_case(eml: Path) -> ClassifierInput:
    """A ClassifierInput from raw bytes with nothing but the standard library (and bs4)."""
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    text = _body_text(message)
    return ClassifierInput(
        subject=str(message.get("Subject", "")),
        new_text=_newest(text),
        text=text,
        from_name=str(message.get("From", "")),
    )


def _cases() -> list[dict[str, object]]:
    lines = (EVAL_DIR / "cases.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _run() -> list[tuple[str, str, str]]:
    world = json.loads((EVAL_DIR / "world.json").read_text(encoding="utf-8"))
    today = date.fromisoformat(world["today"])
    classifier = OfflineClassifier()
    results = []
    for case in _cases():
        expected = str(case["intent"])
        if expected in MACHINE_INTENTS:
            continue
        message = load_case(EVAL_DIR / str(case["eml"]))
        got = classifier.classify(message, today=today).primary.intent.value
        results.append((str(case["id"]), expected, got))
    return results


def _report(results: list[tuple[str, str, str]]) -> str:
    per_intent: dict[str, Counter[str]] = defaultdict(Counter)
    for _case_id, expected, got in results:
        per_intent[expected][got] += 1
    lines = ["expected -> predicted (count)"]
    for expected in sorted(per_intent):
        row = per_intent[expected]
        hits = row[expected]
        total = sum(row.values())
        shown = ", ".join(f"{k}:{v}" for k, v in row.most_common())
        lines.append(f"  {expected:24} {hits}/{total}  [{shown}]")
    misses = [f"{c}: {e} -> {g}" for c, e, g in results if e != g]
    lines.append("misses: " + ("; ".join(misses) if misses else "none"))
    return "\n".join(lines)


def test_offline_classifier_reads_the_dev_set_human_mail_with_high_accuracy() -> None:
    results = _run()
    print()
    print(_report(results))
    correct = sum(1 for _c, expected, got in results if expected == got)
    accuracy = correct / len(results)
    print(f"intent accuracy {correct}/{len(results)} = {accuracy:.2f}")
    assert accuracy >= 0.85


def test_offline_classifier_misses_no_dispute_in_the_dev_set() -> None:
    results = _run()
    disputes = [(c, got) for c, expected, got in results if expected == Intent.dispute.value]
    recalled = [c for c, got in disputes if got == Intent.dispute.value]
    print(f"\ndispute recall {len(recalled)}/{len(disputes)}")
    assert disputes
    assert recalled == [c for c, _got in disputes]
