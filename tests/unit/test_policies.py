"""Policy as data: the packaged defaults, overrides merging, and errors that point at the line."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest
from pydantic import BaseModel

from billing.chase import ChaseSpec, StepSpec, WindowSpec
from policies import models
from policies.chase import to_specs
from policies.loader import (
    default_policy,
    load_policy,
    load_policy_file,
    overrides_from_mapping,
    parse_policy_text,
)
from policies.models import AgentPolicy, PolicyError, PolicyOverrides, resolve

POLICIES_DIR = Path(__file__).resolve().parents[2] / "policies"
STRICT_EXAMPLE = POLICIES_DIR / "examples" / "client-strict.yaml"


def overrides(text: str) -> PolicyOverrides:
    return parse_policy_text(text, source="test.yaml")


def steps_of(policy: models.Policy) -> list[tuple[str, str, int, str, list[str], str, bool]]:
    return [
        (s.key, s.kind, s.offset_days, s.template, list(s.channel), s.to, s.cc_owner)
        for s in policy.chase.steps
    ]


# --- defaults -------------------------------------------------------------------------------


def test_default_policy_chases_at_day_1_gentle_day_7_firm_day_14_escalation_to_owner() -> None:
    policy = default_policy()

    assert steps_of(policy) == [
        ("gentle", "reminder", 1, "reminder_gentle", ["email"], "billing_contact", False),
        ("firm", "reminder", 7, "reminder_firm", ["email"], "billing_contact", True),
        ("escalation", "escalate", 14, "escalation", ["email", "slack"], "account_owner", False),
    ]
    assert policy.chase.enabled is True
    assert policy.chase.catch_up == "latest"
    assert policy.chase.timezone == "UTC"
    assert policy.chase.send_window == models.SendWindow(
        start=time(9, 0), end=time(17, 0), business_days=[0, 1, 2, 3, 4], holidays=[]
    )


def test_default_policy_numbers_and_terms_come_from_defaults_yaml() -> None:
    policy = default_policy()

    assert policy.numbering.pattern == "INV-{YYYY}-{####}"
    assert policy.numbering.credit_note_pattern == "CN-{YYYY}-{####}"
    assert policy.payment_terms.days == 30


def test_default_agent_policy_comes_from_agent_yaml_with_the_issue_limits() -> None:
    agent = default_policy().agent

    assert agent.min_confidence == 0.6
    assert agent.due_date_change == models.DueDateChangePolicy(
        enabled=True,
        require_contact_on_file=True,
        max_extension_days=14,
        max_changes_per_invoice=1,
        allow_when_disputed=False,
        max_days_overdue=30,
    )
    assert agent.promise_to_pay.max_days_ahead == 60
    assert agent.promise_to_pay.pause_chase is True
    assert agent.payment_confirmation.checking_pause_days == 5
    assert agent.action_for("copy_request") == "auto_reply"
    assert agent.action_for("dispute") == "hand_off"
    assert agent.action_for("something_new") == "hand_off"


def test_every_policy_field_has_a_description() -> None:
    undocumented = [
        f"{name}.{field}"
        for name, model in vars(models).items()
        if isinstance(model, type)
        and issubclass(model, BaseModel)
        and model.__module__ == models.__name__
        for field, info in model.model_fields.items()
        if not info.description
    ]

    assert undocumented == []


def test_default_policy_converts_to_the_billing_chase_spec() -> None:
    spec = to_specs(default_policy())

    assert spec == ChaseSpec(
        steps=(
            StepSpec("gentle", "reminder", 1, "reminder_gentle", ("email",), "billing_contact"),
            StepSpec(
                "firm", "reminder", 7, "reminder_firm", ("email",), "billing_contact", cc_owner=True
            ),
            StepSpec(
                "escalation", "escalate", 14, "escalation", ("email", "slack"), "account_owner"
            ),
        ),
        window=WindowSpec(time(9, 0), time(17, 0), frozenset({0, 1, 2, 3, 4}), frozenset()),
        catch_up="latest",
        timezone="UTC",
        enabled=True,
    )


# --- merging --------------------------------------------------------------------------------


def test_company_override_changes_scalars_and_keeps_the_default_steps() -> None:
    company = overrides(
        """
chase:
  timezone: Europe/Berlin
  catch_up: all
  send_window:
    end: "16:30"
payment_terms:
  days: 14
"""
    )

    policy = resolve(default_policy(), company)

    assert policy.chase.timezone == "Europe/Berlin"
    assert policy.chase.catch_up == "all"
    assert policy.chase.send_window.start == time(9, 0)
    assert policy.chase.send_window.end == time(16, 30)
    assert [s.key for s in policy.chase.steps] == ["gentle", "firm", "escalation"]
    assert policy.payment_terms.days == 14
    assert policy.numbering.pattern == "INV-{YYYY}-{####}"


def test_client_override_wins_over_company_and_its_steps_replace_the_list() -> None:
    company = overrides("chase:\n  catch_up: all\n  timezone: Europe/Berlin\n")
    client = load_policy_file(STRICT_EXAMPLE)

    policy = resolve(default_policy(), company, client)

    assert steps_of(policy) == [
        ("upcoming", "reminder", -3, "reminder_gentle", ["email"], "billing_contact", False),
        ("due_today", "reminder", 0, "reminder_gentle", ["email"], "billing_contact", False),
        ("overdue", "reminder", 3, "reminder_firm", ["email"], "billing_contact", True),
        ("escalation", "escalate", 10, "escalation", ["email", "slack"], "account_owner", False),
    ]
    assert policy.chase.timezone == "America/New_York"
    assert policy.chase.send_window.start == time(8, 0)
    assert policy.chase.send_window.business_days == [0, 1, 2, 3, 4]
    assert policy.chase.send_window.holidays == [
        date(2026, 7, 3),
        date(2026, 11, 26),
        date(2026, 12, 25),
    ]
    assert policy.payment_terms.days == 14


def test_client_with_chase_null_is_never_chased() -> None:
    policy = resolve(default_policy(), None, overrides("chase: null\n"))

    assert policy.chase.enabled is False
    assert to_specs(policy).enabled is False
    assert [s.key for s in policy.chase.steps] == ["gentle", "firm", "escalation"]


def test_client_with_chase_enabled_false_is_never_chased() -> None:
    policy = resolve(default_policy(), None, overrides("chase:\n  enabled: false\n"))

    assert policy.chase.enabled is False


def test_client_may_turn_chasing_back_on_after_the_company_turned_it_off() -> None:
    policy = resolve(
        default_policy(), overrides("chase: null\n"), overrides("chase:\n  enabled: true\n")
    )

    assert policy.chase.enabled is True


def test_null_setting_inherits_instead_of_clearing() -> None:
    policy = resolve(
        default_policy(),
        overrides("chase:\n  timezone: Europe/Paris\n"),
        overrides("chase:\n  timezone: null\n"),
    )

    assert policy.chase.timezone == "Europe/Paris"


def test_agent_intents_merge_by_intent_and_other_limits_inherit() -> None:
    company = overrides(
        """
agent:
  min_confidence: 0.8
  due_date_change:
    max_extension_days: 7
  intents:
    statement_request: hand_off
    remittance_advice: auto_reply
"""
    )

    agent = resolve(default_policy(), company).agent

    assert agent.min_confidence == 0.8
    assert agent.due_date_change.max_extension_days == 7
    assert agent.due_date_change.max_days_overdue == 30
    assert agent.action_for("statement_request") == "hand_off"
    assert agent.action_for("remittance_advice") == "auto_reply"
    assert agent.action_for("copy_request") == "auto_reply"


def test_empty_policy_file_overrides_nothing(tmp_path: Path) -> None:
    path = tmp_path / "client.yaml"
    path.write_text("# nothing special for this client\n", encoding="utf-8")

    assert resolve(default_policy(), None, load_policy_file(path)) == default_policy()


def test_load_policy_resolves_company_and_client_files(tmp_path: Path) -> None:
    company = tmp_path / "company.yaml"
    company.write_text("chase:\n  timezone: Europe/Berlin\n", encoding="utf-8")

    policy = load_policy(company, STRICT_EXAMPLE)

    assert policy.chase.timezone == "America/New_York"
    assert policy.chase.catch_up == "all"


def test_overrides_stored_as_a_mapping_validate_like_a_file() -> None:
    stored = {"chase": {"catch_up": "none"}, "payment_terms": {"days": 45}}

    policy = resolve(default_policy(), overrides_from_mapping(stored, source="client acme"))

    assert policy.chase.catch_up == "none"
    assert policy.payment_terms.days == 45


def test_layers_valid_alone_but_not_together_raise_policy_invalid() -> None:
    client = overrides('chase:\n  send_window:\n    end: "08:00"\n')

    with pytest.raises(PolicyError) as caught:
        resolve(default_policy(), None, client)

    assert caught.value.code == "policy_invalid"
    assert [p.location for p in caught.value.problems] == ["chase.send_window"]
    assert "start (09:00:00) must be before end (08:00:00)" in caught.value.problems[0].message


# --- errors ---------------------------------------------------------------------------------


def test_invalid_field_in_a_file_names_path_field_line_and_pydantic_message(
    tmp_path: Path,
) -> None:
    path = tmp_path / "acme.yaml"
    path.write_text(
        "chase:\n"
        "  steps:\n"
        "    - key: first\n"
        "      offset_days: 1\n"
        "      template: reminder_gentle\n"
        "    - key: second\n"
        "      offset_days: soon\n"
        "      template: reminder_firm\n",
        encoding="utf-8",
    )

    with pytest.raises(PolicyError) as caught:
        load_policy_file(path)

    error = caught.value
    assert error.code == "policy_invalid"
    assert error.path == str(path)
    assert [(p.location, p.line, p.column) for p in error.problems] == [
        ("chase.steps.1.offset_days", 7, 7)
    ]
    assert error.problems[0].message == (
        "Input should be a valid integer, unable to parse string as an integer"
    )
    assert str(error).splitlines() == [
        f"{path}: 1 invalid setting(s)",
        "  line 7, column 7: chase.steps.1.offset_days: Input should be a valid integer, "
        "unable to parse string as an integer",
    ]


def test_unknown_key_is_rejected_with_its_location() -> None:
    with pytest.raises(PolicyError) as caught:
        overrides("chase:\n  send_window:\n    opens: '09:00'\n")

    assert [(p.location, p.message, p.line) for p in caught.value.problems] == [
        ("chase.send_window.opens", "Extra inputs are not permitted", 3)
    ]


def test_yaml_syntax_error_is_policy_yaml_syntax_with_path_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("chase:\n  steps: [\n", encoding="utf-8")

    with pytest.raises(PolicyError) as caught:
        load_policy_file(path)

    assert caught.value.code == "policy_yaml_syntax"
    assert caught.value.path == str(path)
    assert [p.line for p in caught.value.problems] == [3]


def test_duplicate_key_is_refused_instead_of_silently_keeping_the_last() -> None:
    with pytest.raises(PolicyError) as caught:
        overrides("chase:\n  enabled: true\n  enabled: false\n")

    assert caught.value.code == "policy_duplicate_key"
    assert [(p.location, p.line) for p in caught.value.problems] == [("enabled", 3)]


def test_missing_file_is_policy_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy_file(tmp_path / "nope.yaml")

    assert caught.value.code == "policy_file_not_found"
    assert caught.value.path == str(tmp_path / "nope.yaml")


def test_file_that_is_a_list_is_policy_not_a_mapping() -> None:
    with pytest.raises(PolicyError) as caught:
        overrides("- chase\n")

    assert caught.value.code == "policy_not_a_mapping"


def test_unquoted_time_that_yaml_reads_as_minutes_is_refused() -> None:
    # YAML 1.1 turns 9:00 into the integer 540; pydantic would read that as 00:09.
    with pytest.raises(PolicyError) as caught:
        overrides("chase:\n  send_window:\n    start: 9:00\n")

    assert [(p.location, p.message) for p in caught.value.problems] == [
        (
            "chase.send_window.start",
            "Value error, write times as quoted 'HH:MM' strings, e.g. '09:00'",
        )
    ]


@pytest.mark.parametrize(
    ("text", "location", "fragment"),
    [
        (
            "chase:\n  steps:\n"
            "    - {key: a, offset_days: 1, template: t}\n"
            "    - {key: a, offset_days: 2, template: t}\n",
            "chase.steps",
            "step keys must be unique; repeated: a",
        ),
        (
            "chase:\n  steps:\n"
            "    - {key: a, offset_days: 7, template: t}\n"
            "    - {key: b, offset_days: 1, template: t}\n",
            "chase.steps",
            "strictly increasing offset_days: [7, 1]",
        ),
        (
            "chase:\n  steps:\n    - {key: a, offset_days: 1, template: t, channel: [slack]}\n",
            "chase.steps.0",
            "slack reaches the account owner only",
        ),
        (
            "chase:\n  steps:\n    - {key: a, offset_days: 1, template: t, channel: []}\n",
            "chase.steps.0.channel",
            "List should have at least 1 item",
        ),
        ("chase:\n  timezone: Mars/Olympus\n", "chase.timezone", "unknown IANA time zone"),
        (
            "chase:\n  send_window:\n    business_days: [0, 7]\n",
            "chase.send_window.business_days.1",
            "less than or equal to 6",
        ),
        (
            'chase:\n  send_window:\n    start: "09:00+02:00"\n',
            "chase.send_window.start",
            "leave out the zone",
        ),
        ("agent:\n  intents:\n    dispute: auto_reply\n", "agent.intents", "disputes always go"),
        ("agent:\n  min_confidence: 1.5\n", "agent.min_confidence", "less than or equal to 1"),
        ('numbering:\n  pattern: "INV-{YYYY}"\n', "numbering.pattern", "exactly one sequence"),
        ("payment_terms:\n  days: -1\n", "payment_terms.days", "greater than or equal to 0"),
    ],
)
def test_invalid_setting_is_refused_with_its_location(
    text: str, location: str, fragment: str
) -> None:
    with pytest.raises(PolicyError) as caught:
        overrides(text)

    assert caught.value.code == "policy_invalid"
    assert [p.location for p in caught.value.problems] == [location]
    assert fragment in caught.value.problems[0].message


def test_escalation_step_goes_to_the_account_owner_unless_told_otherwise() -> None:
    step = models.ChaseStep(key="final", kind="escalate", offset_days=30, template="escalation")
    notice = models.ChaseStep(
        key="notice", kind="escalate", offset_days=31, template="final_notice", to="billing_contact"
    )

    assert step.to == "account_owner"
    assert notice.to == "billing_contact"


def test_agent_policy_in_code_matches_the_shipped_agent_yaml() -> None:
    assert default_policy().agent == AgentPolicy()
