"""Time travel: the billing cycle run every three hours over weeks, on SQLite and PostgreSQL.

The runner (`run_cycle`, what `closeloop run` does) is driven by a fixed clock stepped in
three-hour strides from 02:30 UTC, which crosses every client's send window whatever its zone
(London 08:30/11:30/14:30, Berlin/Paris/Madrid 09:30/12:30/15:30, Los Angeles 09:30/12:30/15:30
local). Every delivered message is recorded with the
moment it left, so the tests pin the exact sequence per invoice — in the client's local dates —
and check that each chase message left inside the window of the client's policy.

Emails are composed by the real templates (render/); the email and Slack handlers record
instead of talking to a server (real SMTP and Slack are the subject of other tests).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from billing.invoice import LineInput
from billing.records import OutboxClaim, Trigger
from entrypoints.bootstrap import App
from entrypoints.runner import Services, composer, run_cycle
from entrypoints.settings import Settings
from storage.engine import Database
from storage.ledger import SqlLedgerFactory
from tools.chase import pause_chase, resume_chase
from tools.clock import FixedClock
from tools.importing import import_world
from tools.issuing import issue_invoice
from tools.payments import record_payment
from tools.sending import send_on_issue

ROOT = Path(__file__).resolve().parents[2]
STRICT_POLICY = ROOT / "policies" / "examples" / "client-strict.yaml"
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
STRIDE = timedelta(hours=3)
GRID = datetime(2026, 11, 1, 2, 30, tzinfo=UTC)  # the runner passes at 02:30, 05:30 … UTC

ZONES = {
    "cl-kestrel": "Europe/London",
    "cl-falke": "Europe/Berlin",
    "cl-tulp": "Europe/Amsterdam",
    "cl-mistral": "Europe/Paris",
    "cl-sol": "Europe/Madrid",
    "cl-pine": "America/Los_Angeles",
}
GB_LINE = {"description": "Sprint", "quantity": "1", "unit_price": "1000.00", "vat_rate": "20"}
EU_LINE = {**GB_LINE, "vat_rate": "0", "tax_category": "reverse_charge"}


@dataclass(frozen=True)
class Sent:
    """One message that left: when, what, for which invoice, to whom."""

    at: datetime
    kind: str  # email | slack
    invoice: str
    step: str  # issue, reminder-gentle, escalation-escalation … or "slack"
    to: tuple[str, ...]
    cc: tuple[str, ...]
    template: str


class Simulation:
    """A world, a fixed clock and a runner whose outbound handlers record what leaves."""

    def __init__(self, ledgers: SqlLedgerFactory, db: Database, world: Mapping[str, Any]) -> None:
        self.clock = FixedClock(START)
        self.ledgers = ledgers
        import_world(ledgers, world, clock=self.clock)
        self.app = App(settings=Settings(), db=db, ledgers=ledgers, clock=self.clock)
        self.sent: list[Sent] = []
        self.compose = composer()
        self.services = Services(
            mailer=None, slack=None, slack_channel="C0FINANCE", compose=self.compose
        )
        self.services.handlers["email"] = self._email
        self.services.handlers["slack"] = self._slack
        self.clients: dict[str, str] = {}

    def _email(self, claim: OutboxClaim) -> Mapping[str, Any]:
        p = claim.payload
        self.sent.append(
            Sent(
                self.clock.now(),
                "email",
                str(p["invoice"]),
                str(p["step"]),
                tuple(p["to"]),
                tuple(p["cc"]),
                str(p["template"]),
            )
        )
        return {"message_id": p["message_id"], "accepted": list(p["to"]), "refused": {}}

    def _slack(self, claim: OutboxClaim) -> Mapping[str, Any]:
        p = claim.payload
        self.sent.append(
            Sent(self.clock.now(), "slack", str(p["invoice"]), "slack", (p["channel"],), (), "")
        )
        return {"ts": f"{1_700_000_000 + len(self.sent)}.000100", "channel": p["channel"]}

    def issue(self, client: str, external_id: str) -> str:
        line = GB_LINE if client == "cl-kestrel" else EU_LINE
        trigger = Trigger("asana", external_id, client, (LineInput.from_mapping(line),))
        number = issue_invoice(
            self.ledgers, trigger, clock=self.clock, on_issued=[send_on_issue(self.compose)]
        ).number
        self.clients[number] = client
        return number

    def run_until(
        self,
        end: datetime,
        *,
        at: Mapping[datetime, Callable[[], object]] | None = None,
        down: tuple[datetime, datetime] | None = None,
    ) -> None:
        """Step the clock to ``end``: a cycle every stride, actions at their moments."""
        actions = dict(at or {})
        moment = GRID
        while moment < self.clock.now():
            moment += STRIDE
        while moment <= end:
            self.clock.set(moment)
            for when in sorted(w for w in actions if w <= moment):
                actions.pop(when)()
            if down is None or not down[0] <= moment < down[1]:
                run_cycle(self.app, self.services)
            moment += STRIDE

    def sequence(self, number: str) -> list[tuple[str, str]]:
        """(local date, step) of what left for an invoice, in order."""
        zone = ZoneInfo(ZONES[self.client_of(number)])
        return [
            (s.at.astimezone(zone).date().isoformat(), s.step)
            for s in self.sent
            if s.invoice == number
        ]

    def client_of(self, number: str) -> str:
        if number not in self.clients:
            with self.ledgers() as ledger:
                self.clients[number] = ledger.invoice(number).client_id
        return self.clients[number]

    def events(self, number: str) -> list[str]:
        with self.ledgers() as ledger:
            return [e.kind.value for e in ledger.events(number)]

    def skipped(self, number: str) -> list[str]:
        with self.ledgers() as ledger:
            return [e.summary for e in ledger.events(number) if e.kind.value == "reminder_skipped"]


def _window_problems(
    sim: Simulation,
    start: time,
    end: time,
    holidays: frozenset[date] = frozenset(),
    clients: frozenset[str] | None = None,
) -> list[str]:
    """Chase messages that left outside their client's window (local time, business day)."""
    problems = []
    for s in sim.sent:
        if s.step == "issue":
            continue
        client = sim.client_of(s.invoice)
        if clients is not None and client not in clients:
            continue
        local = s.at.astimezone(ZoneInfo(ZONES[client]))
        inside = start <= local.time() < end
        if not inside or local.weekday() >= 5 or local.date() in holidays:
            problems.append(f"{s.invoice} {s.step} at {local.isoformat()}")
    return problems


@pytest.fixture
def sim(ledgers: SqlLedgerFactory, db: Database) -> Callable[[dict[str, Any]], Simulation]:
    """Builds the simulation over a given world, on the test's database."""

    def make(world: dict[str, Any]) -> Simulation:
        return Simulation(ledgers, db, world)

    return make


def _strict_policy() -> dict[str, Any]:
    data = yaml.safe_load(STRICT_POLICY.read_text(encoding="utf-8"))
    # As an import file carries it: JSON, holidays as ISO strings.
    stored: dict[str, Any] = json.loads(json.dumps(data, default=str))
    return stored


PINE = "LS-2026-0044"  # imported, open, due 2026-11-04, Los Angeles
PAID_BEFORE = "LS-2026-0041"  # imported, paid in October


@pytest.mark.slow
def test_sixty_days_on_the_default_policy_send_the_exact_schedule_per_invoice(
    sim: Callable[[dict[str, Any]], Simulation], sample_world: dict[str, Any]
) -> None:
    s = sim(sample_world)
    kestrel = s.issue("cl-kestrel", "k1")  # due 2026-12-02
    falke = s.issue("cl-falke", "f1")  # 14 days: due 2026-11-16
    tulp = s.issue("cl-tulp", "t1")  # paid before it falls due
    mistral = s.issue("cl-mistral", "m1")  # promise to pay covers the firm reminder
    sol = s.issue("cl-sol", "s1")  # client-wide manual hold, resumed later
    assert [kestrel, falke, tulp, mistral, sol] == [f"LS-2026-00{n}" for n in range(45, 50)]

    def pay_tulp() -> None:
        record_payment(
            s.ledgers,
            invoice_number=tulp,
            amount="1000.00",
            received_date=date(2026, 11, 20),
            reference="TULP 1120",
            clock=s.clock,
        )

    def promise() -> None:
        pause_chase(
            s.ledgers,
            s.clock,
            target=mistral,
            until=date(2026, 12, 14),
            reason="promise_to_pay",
            actor="agent",
        )

    def hold() -> None:
        pause_chase(
            s.ledgers, s.clock, target="cl-sol", until=None, reason="manual_hold", actor="ada"
        )

    def release() -> None:
        resume_chase(s.ledgers, s.clock, target="cl-sol", actor="ada")

    s.run_until(
        START + timedelta(days=60),
        at={
            datetime(2026, 11, 20, 12, 0, tzinfo=UTC): pay_tulp,
            datetime(2026, 11, 30, 6, 0, tzinfo=UTC): hold,
            datetime(2026, 12, 7, 6, 0, tzinfo=UTC): promise,
            datetime(2026, 12, 21, 6, 0, tzinfo=UTC): release,
        },
    )

    escalation = "escalation-escalation"
    assert s.sequence(PINE) == [
        ("2026-11-05", "reminder-gentle"),
        ("2026-11-11", "reminder-firm"),
        ("2026-11-18", escalation),
        ("2026-11-18", "slack"),
    ]
    assert s.sequence(kestrel) == [
        ("2026-11-02", "issue"),
        ("2026-12-03", "reminder-gentle"),
        ("2026-12-09", "reminder-firm"),
        ("2026-12-16", escalation),
        ("2026-12-16", "slack"),
    ]
    assert s.sequence(falke) == [
        ("2026-11-02", "issue"),
        ("2026-11-17", "reminder-gentle"),
        ("2026-11-23", "reminder-firm"),
        ("2026-11-30", escalation),
        ("2026-11-30", "slack"),
    ]
    assert s.sequence(tulp) == [("2026-11-02", "issue")]
    assert s.sequence(mistral) == [
        ("2026-11-02", "issue"),
        ("2026-12-03", "reminder-gentle"),
        ("2026-12-15", "reminder-firm"),  # held by the promise until 2026-12-14
        ("2026-12-16", escalation),
        ("2026-12-16", "slack"),
    ]
    # The hold blocked all three steps; on release they fell on one day: the firmest goes.
    assert s.sequence(sol) == [
        ("2026-11-02", "issue"),
        ("2026-12-21", escalation),
        ("2026-12-21", "slack"),
    ]
    assert s.skipped(sol) == [
        "Step 'gentle' (reminder_gentle) not sent: superseded by escalation after a pause: "
        "both fell on 2026-12-21",
        "Step 'firm' (reminder_firm) not sent: superseded by escalation after a pause: "
        "both fell on 2026-12-21",
    ]
    assert s.sequence(PAID_BEFORE) == []
    assert "reminder_sent" not in s.events(tulp)
    assert _window_problems(s, time(9, 0), time(17, 0)) == []

    kestrel_mail = [m for m in s.sent if m.invoice == kestrel and m.kind == "email"]
    assert [(m.template, m.to, m.cc) for m in kestrel_mail] == [
        ("invoice_issue", ("finance@kestrel-outdoor.example",), ()),
        ("reminder_gentle", ("finance@kestrel-outdoor.example",), ()),
        ("reminder_firm", ("finance@kestrel-outdoor.example",), ("ada@lighthouse-studio.example",)),
        ("escalation_owner", ("ada@lighthouse-studio.example",), ()),
    ]
    assert s.events(mistral).count("chase_paused") == 1
    assert s.events(sol).count("chase_resumed") == 1


@pytest.mark.slow
def test_sixty_days_on_a_custom_client_policy_follow_its_steps_window_and_holidays(
    sim: Callable[[dict[str, Any]], Simulation], sample_world: dict[str, Any]
) -> None:
    world = copy.deepcopy(sample_world)
    strict = _strict_policy()
    for client in world["clients"]:
        if client["id"] in ("cl-kestrel", "cl-falke"):
            client["policy"] = strict
    s = sim(world)
    kestrel = s.issue("cl-kestrel", "k1")  # due Wed 2026-12-02
    falke = s.issue("cl-falke", "f1")  # due Mon 2026-11-16
    mistral = s.issue("cl-mistral", "m1")  # default policy, for contrast

    s.run_until(START + timedelta(days=60))

    assert s.sequence(kestrel) == [
        ("2026-11-02", "issue"),
        ("2026-11-30", "reminder-upcoming"),  # due − 3 is a Sunday: next business day
        ("2026-12-02", "reminder-due_today"),
        ("2026-12-07", "reminder-overdue"),  # due + 3 is a Saturday
        ("2026-12-14", "escalation-escalation"),  # due + 10 is a Saturday
        ("2026-12-14", "slack"),
    ]
    assert s.sequence(falke) == [
        ("2026-11-02", "issue"),
        ("2026-11-13", "reminder-upcoming"),
        ("2026-11-16", "reminder-due_today"),
        ("2026-11-19", "reminder-overdue"),
        ("2026-11-27", "escalation-escalation"),  # 2026-11-26 is a holiday in this policy
        ("2026-11-27", "slack"),
    ]
    assert s.sequence(mistral) == [
        ("2026-11-02", "issue"),
        ("2026-12-03", "reminder-gentle"),
        ("2026-12-09", "reminder-firm"),
        ("2026-12-16", "escalation-escalation"),
        ("2026-12-16", "slack"),
    ]
    strict_clients = frozenset({"cl-kestrel", "cl-falke"})
    holidays = frozenset({date(2026, 11, 26), date(2026, 12, 25)})
    assert _window_problems(s, time(8, 0), time(18, 0), holidays, strict_clients) == []
    assert _window_problems(s, time(9, 0), time(17, 0), clients=frozenset({"cl-mistral"})) == []
    # The runner passes London at 08:30: the strict window (08:00) lets Kestrel's mail go then.
    london = ZoneInfo("Europe/London")
    kestrel_times = {
        m.at.astimezone(london).time() for m in s.sent if m.invoice == kestrel and m.step != "issue"
    }
    assert kestrel_times == {time(8, 30)}


CATCH_UP_EXPECTED = {
    "latest": (
        [("2026-11-26", "reminder-firm"), ("2026-11-30", "escalation-escalation")],
        ["gentle"],
        [("2026-11-26", "escalation-escalation")],
    ),
    "all": (
        [
            ("2026-11-26", "reminder-gentle"),
            ("2026-11-26", "reminder-firm"),
            ("2026-11-30", "escalation-escalation"),
        ],
        [],
        [("2026-11-26", "escalation-escalation")],
    ),
    "none": (
        [("2026-11-30", "escalation-escalation")],
        ["gentle", "firm"],
        [],
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("rule", ["latest", "all", "none"])
def test_after_a_ten_day_outage_the_catch_up_rule_decides_what_missed_steps_go(
    sim: Callable[[dict[str, Any]], Simulation], sample_world: dict[str, Any], rule: str
) -> None:
    world = copy.deepcopy(sample_world)
    world["company"]["policy"] = {"chase": {"catch_up": rule}}
    s = sim(world)
    falke = s.issue("cl-falke", "f1")  # gentle 11-17, firm 11-23, escalation 11-30

    s.run_until(
        datetime(2026, 12, 1, 0, 0, tzinfo=UTC),
        down=(datetime(2026, 11, 16, tzinfo=UTC), datetime(2026, 11, 26, tzinfo=UTC)),
    )

    falke_after, falke_skipped, pine_after = CATCH_UP_EXPECTED[rule]
    tail = [(d, step) for d, step in s.sequence(falke) if d >= "2026-11-16" and step != "slack"]
    assert tail == falke_after
    assert [
        summary.split("'")[1] for summary in s.skipped(falke) if "catch-up" in summary
    ] == falke_skipped
    # Pinecrest (Los Angeles): gentle and firm went before the outage; the escalation of
    # 11-18 was missed; the runner is back after the window of 11-25 closed (18:30 local).
    pine = s.sequence(PINE)
    assert pine[:2] == [("2026-11-05", "reminder-gentle"), ("2026-11-11", "reminder-firm")]
    assert [x for x in pine[2:] if x[1] != "slack"] == pine_after
    assert _window_problems(s, time(9, 0), time(17, 0)) == []


def test_imported_invoices_are_chased_like_issued_ones_but_their_issue_email_is_not_sent(
    sim: Callable[[dict[str, Any]], Simulation], sample_world: dict[str, Any]
) -> None:
    world = copy.deepcopy(sample_world)
    world["invoices"].append(
        {
            "number": "LS-2026-0043",
            "client": "cl-falke",
            "issue_date": "2026-10-20",
            "due_date": "2026-11-03",
            "lines": [EU_LINE],
        }
    )
    s = sim(world)
    issued = s.issue("cl-falke", "f1")  # for contrast: due 2026-11-16

    s.run_until(datetime(2026, 11, 20, tzinfo=UTC))

    assert s.sequence("LS-2026-0043") == [
        ("2026-11-04", "reminder-gentle"),
        ("2026-11-10", "reminder-firm"),
        ("2026-11-17", "escalation-escalation"),
        ("2026-11-17", "slack"),
    ]
    assert s.sequence(PINE)[:3] == [
        ("2026-11-05", "reminder-gentle"),
        ("2026-11-11", "reminder-firm"),
        ("2026-11-18", "escalation-escalation"),
    ]
    assert s.sequence(issued)[:2] == [("2026-11-02", "issue"), ("2026-11-17", "reminder-gentle")]
    with s.ledgers() as ledger:
        keys = [r.idempotency_key for r in ledger.outbox_rows()]
        origins = {n: ledger.invoice(n).origin for n in ("LS-2026-0043", PINE, issued)}
    assert [k for k in keys if k.endswith(":issue")] == [f"invoice:{issued}:issue"]
    assert origins == {"LS-2026-0043": "imported", PINE: "imported", issued: "issued"}


def test_a_client_policy_naming_a_missing_template_does_not_stop_the_chase_of_the_others(
    sim: Callable[[dict[str, Any]], Simulation], sample_world: dict[str, Any]
) -> None:
    world = copy.deepcopy(sample_world)
    for client in world["clients"]:
        if client["id"] == "cl-kestrel":
            client["policy"] = {
                "chase": {
                    "steps": [
                        {"key": "nudge", "offset_days": 1, "template": "reminder_typo"},
                    ]
                }
            }
    s = sim(world)
    kestrel = s.issue("cl-kestrel", "k1")  # due 2026-12-02: 'nudge' on 12-03
    mistral = s.issue("cl-mistral", "m1")  # due 2026-12-02: gentle on 12-03
    s.run_until(datetime(2026, 12, 3, 8, 0, tzinfo=UTC))  # the issue emails are out

    s.clock.set(datetime(2026, 12, 3, 11, 30, tzinfo=UTC))
    report = run_cycle(s.app, s.services)

    assert [(a.invoice, a.step) for a in report.chase.actions] == [(mistral, "gentle")]
    assert len(report.chase.errors) == 1
    assert report.chase.errors[0].startswith(f"{kestrel}: ")
    assert "reminder_typo" in report.chase.errors[0]
    assert s.sequence(mistral)[-1] == ("2026-12-03", "reminder-gentle")
    with s.ledgers() as ledger:
        assert ledger.chase_history(kestrel) == []  # nothing recorded: tried again next run
        assert ledger.chase_candidates(s.clock.now()) == [kestrel]
