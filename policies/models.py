"""Policy as data: the pydantic schema of ``policies/*.yaml`` and how layers resolve.

A :class:`Policy` is complete (every section present); it comes from ``defaults.yaml`` and
``agent.yaml``. Company and client files are :class:`PolicyOverrides`: every field optional,
unknown keys rejected. :func:`resolve` merges ``defaults < company < client``: mappings
(sections, the send window, ``agent.intents``) merge key by key, lists (chase steps, business
days, holidays) replace, a null value inherits, and ``chase: null`` turns chasing off.

Errors::

    PolicyError                   (code: "policy_error")
      codes: policy_file_not_found, policy_yaml_syntax, policy_duplicate_key,
             policy_not_a_mapping, policy_invalid
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from itertools import pairwise
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from billing.errors import BillingError
from billing.numbering import NumberPattern

Channel = Literal["email", "slack"]
IntentAction = Literal["auto_reply", "hand_off"]


@dataclass(frozen=True, slots=True)
class PolicyProblem:
    """One validation problem: where (dotted path, file line/column when known) and what."""

    location: str
    message: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}, column {self.column}: " if self.line is not None else ""
        return f"{where}{self.location or '(top level)'}: {self.message}"


class PolicyError(Exception):
    """Root of the policies layer's errors: a policy file or merge that cannot be used.

    ``code`` is stable; ``path`` names the YAML file (None for an in-memory merge);
    ``problems`` lists each invalid field with its location and pydantic's message.
    """

    code = "policy_error"

    def __init__(
        self,
        message: str,
        *,
        code: str,
        path: str | None = None,
        problems: tuple[PolicyProblem, ...] = (),
    ) -> None:
        self.code = code
        self.path = path
        self.problems = problems
        lines = [f"{path}: {message}" if path else message]
        lines += [f"  {problem}" for problem in problems]
        super().__init__("\n".join(lines))


def problems_from(exc: ValidationError) -> tuple[PolicyProblem, ...]:
    """The problems of a pydantic ValidationError, with dotted locations."""
    return tuple(
        PolicyProblem(".".join(str(part) for part in err["loc"]), err["msg"])
        for err in exc.errors(include_url=False)
    )


def _wall_clock(value: Any) -> Any:
    # YAML 1.1 reads an unquoted 9:00 as the integer 540, which pydantic would take as seconds.
    if isinstance(value, int | float):
        raise ValueError("write times as quoted 'HH:MM' strings, e.g. '09:00'")
    return value


def _no_zone(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("send window times are local to the client; leave out the zone")
    return value


def _known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {value!r}") from exc
    return value


def _number_pattern(value: str) -> str:
    try:
        NumberPattern(value)
    except BillingError as exc:
        raise ValueError(exc.message) from exc
    return value


def _real_date(value: Any) -> Any:
    if isinstance(value, int | float):
        raise ValueError("write dates as YYYY-MM-DD")
    return value


WallClock = Annotated[time, BeforeValidator(_wall_clock), AfterValidator(_no_zone)]
ZoneName = Annotated[str, AfterValidator(_known_zone)]
Weekday = Annotated[int, Field(ge=0, le=6)]
Holiday = Annotated[date, BeforeValidator(_real_date)]
Pattern = Annotated[str, AfterValidator(_number_pattern)]
Key = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$", max_length=40)]


def _email_only() -> list[Channel]:
    return ["email"]


def _default_intents() -> dict[str, IntentAction]:
    return {
        "copy_request": "auto_reply",
        "payment_confirmation": "auto_reply",
        "due_date_change": "auto_reply",
        "promise_to_pay": "auto_reply",
        "statement_request": "auto_reply",
        "payment_info_request": "auto_reply",
        "dispute": "hand_off",
        "other": "hand_off",
    }


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChaseStep(_Model):
    """One step of a chase schedule."""

    key: Key = Field(
        description=(
            "Stable identifier of the step, unique in the schedule; with the invoice it is the "
            "idempotency key of the send, so renaming a key makes the step new."
        )
    )
    kind: Literal["reminder", "escalate"] = Field(
        default="reminder",
        description=(
            "reminder: a message to the client; escalate: notifies the account owner and "
            "marks the invoice escalated."
        ),
    )
    offset_days: int = Field(
        ge=-365,
        le=365,
        description="Calendar days from the due date (negative = before it, 0 = on it).",
    )
    template: Key = Field(
        description="Email template (tone), e.g. reminder_gentle, reminder_firm, escalation."
    )
    channel: list[Channel] = Field(
        default_factory=_email_only,
        min_length=1,
        description="Where the step goes: email, slack, or both (Slack reaches the owner only).",
    )
    to: Literal["billing_contact", "account_owner"] = Field(
        default="billing_contact",
        description=(
            "Main recipient: the client's billing contact (falls back to the primary contact) "
            "or the account owner. Escalation steps default to the account owner."
        ),
    )
    cc_owner: bool = Field(
        default=False, description="Copy the account owner on the email to the client."
    )

    @model_validator(mode="before")
    @classmethod
    def _escalation_goes_to_owner(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("kind") == "escalate" and "to" not in data:
            return {**data, "to": "account_owner"}
        return data

    @model_validator(mode="after")
    def _slack_reaches_owner_only(self) -> ChaseStep:
        if len(set(self.channel)) != len(self.channel):
            raise ValueError(f"channel lists a channel twice: {self.channel}")
        if "slack" in self.channel and self.to != "account_owner" and not self.cc_owner:
            raise ValueError(
                "slack reaches the account owner only: set to: account_owner or cc_owner: true"
            )
        return self


def _check_steps(steps: list[ChaseStep]) -> list[ChaseStep]:
    keys = [step.key for step in steps]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise ValueError(f"step keys must be unique; repeated: {', '.join(duplicates)}")
    offsets = [step.offset_days for step in steps]
    if any(a >= b for a, b in pairwise(offsets)):
        raise ValueError(f"steps must be in order of strictly increasing offset_days: {offsets}")
    return steps


Steps = Annotated[list[ChaseStep], AfterValidator(_check_steps)]


def _check_days(days: list[int]) -> list[int]:
    if len(set(days)) != len(days):
        raise ValueError(f"business_days lists a day twice: {days}")
    return days


BusinessDays = Annotated[list[Weekday], Field(min_length=1), AfterValidator(_check_days)]


class SendWindow(_Model):
    """When chase messages may go out, in the client's local time."""

    start: WallClock = Field(
        default=time(9, 0), description="Local opening time ('HH:MM', quoted); steps go then."
    )
    end: WallClock = Field(
        default=time(17, 0), description="Local closing time ('HH:MM', quoted), exclusive."
    )
    business_days: BusinessDays = Field(
        default_factory=lambda: [0, 1, 2, 3, 4],
        description="Weekdays on which sends happen: 0 = Monday … 6 = Sunday.",
    )
    holidays: list[Holiday] = Field(
        default_factory=list, description="Dates (YYYY-MM-DD) on which nothing is sent."
    )

    @model_validator(mode="after")
    def _start_before_end(self) -> SendWindow:
        if not self.start < self.end:
            raise ValueError(f"start ({self.start}) must be before end ({self.end})")
        return self


class ChasePolicy(_Model):
    """The chase schedule: steps, catch-up rule, send window and default zone."""

    enabled: bool = Field(default=True, description="False: invoices are never chased.")
    steps: Steps = Field(
        description="Ordered steps (strictly increasing offset_days); a client's list replaces."
    )
    catch_up: Literal["latest", "all", "none"] = Field(
        default="latest",
        description=(
            "After downtime, for steps whose send date passed unsent: latest = send only the "
            "latest and log the others as skipped; all = send every missed step in order; "
            "none = skip them all and send only a step whose date is today."
        ),
    )
    send_window: SendWindow = Field(
        default_factory=SendWindow, description="Local hours and business days for sends."
    )
    timezone: ZoneName = Field(
        default="UTC",
        description="IANA zone used when a client has none (normally the company's).",
    )


class DueDateChangePolicy(_Model):
    """Limits within which the agent grants a due-date change on its own."""

    enabled: bool = Field(default=True, description="False: every request goes to a person.")
    require_contact_on_file: bool = Field(
        default=True, description="Only a contact on file for the client may ask."
    )
    max_extension_days: int = Field(
        default=14, ge=0, le=365, description="At most this many days after the current due date."
    )
    max_changes_per_invoice: int = Field(
        default=1, ge=0, description="How many automatic changes one invoice may get."
    )
    allow_when_disputed: bool = Field(
        default=False, description="Grant even while the invoice is disputed."
    )
    max_days_overdue: int = Field(
        default=30, ge=0, description="Refuse (hand off) when the invoice is more overdue."
    )


class PromiseToPayPolicy(_Model):
    """How the agent treats a promise to pay by a date."""

    max_days_ahead: int = Field(
        default=60, ge=0, le=365, description="A promised date further ahead goes to a person."
    )
    pause_chase: bool = Field(
        default=True, description="Pause chasing until the promised date (inclusive)."
    )


class PaymentConfirmationPolicy(_Model):
    """How the agent treats "we have paid" when the ledger does not show it yet."""

    checking_pause_days: int = Field(
        default=5,
        ge=0,
        le=60,
        description="Pause chasing this many days while the payment is being checked.",
    )


def _dispute_hands_off(intents: dict[str, IntentAction]) -> dict[str, IntentAction]:
    if intents.get("dispute") == "auto_reply":
        raise ValueError("disputes always go to a person: dispute must be hand_off")
    return intents


class AgentPolicy(_Model):
    """What the inbox agent may do on its own and what goes to a person."""

    min_confidence: float = Field(
        default=0.6, ge=0, le=1, description="Below this classifier confidence, hand off."
    )
    due_date_change: DueDateChangePolicy = Field(
        default_factory=DueDateChangePolicy, description="Limits for due-date changes."
    )
    promise_to_pay: PromiseToPayPolicy = Field(
        default_factory=PromiseToPayPolicy, description="Limits for promises to pay."
    )
    payment_confirmation: PaymentConfirmationPolicy = Field(
        default_factory=PaymentConfirmationPolicy,
        description="Handling of payment confirmations not yet in the ledger.",
    )
    intents: Annotated[dict[Key, IntentAction], AfterValidator(_dispute_hands_off)] = Field(
        default_factory=_default_intents,
        description="Per intent: auto_reply (answered from system data) or hand_off (a person).",
    )
    default_action: IntentAction = Field(
        default="hand_off", description="Action for an intent not listed in intents."
    )

    def action_for(self, intent: str) -> IntentAction:
        """auto_reply or hand_off for ``intent`` (unknown intents take ``default_action``)."""
        return self.intents.get(intent, self.default_action)


class NumberingPolicy(_Model):
    """Document number patterns (tokens {YYYY}, {YY}, {MM} and one {#…#} counter)."""

    pattern: Pattern = Field(default="INV-{YYYY}-{####}", description="Invoice numbers.")
    credit_note_pattern: Pattern = Field(
        default="CN-{YYYY}-{####}", description="Credit-note numbers."
    )


class PaymentTermsPolicy(_Model):
    """Payment terms used when a client has none of its own."""

    days: int = Field(default=30, ge=0, le=365, description="Due date = issue date + days.")


class Policy(_Model):
    """A complete, resolved policy."""

    chase: ChasePolicy = Field(description="The chase schedule.")
    agent: AgentPolicy = Field(default_factory=AgentPolicy, description="The inbox agent's limits.")
    numbering: NumberingPolicy = Field(
        default_factory=NumberingPolicy, description="Document numbering."
    )
    payment_terms: PaymentTermsPolicy = Field(
        default_factory=PaymentTermsPolicy, description="Default payment terms."
    )


# Overrides: the same shapes, every field optional; None means "inherit".


class SendWindowOverrides(_Model):
    """Partial send window; unset fields inherit."""

    start: WallClock | None = Field(default=None, description="Overrides send_window.start.")
    end: WallClock | None = Field(default=None, description="Overrides send_window.end.")
    business_days: BusinessDays | None = Field(
        default=None, description="Replaces send_window.business_days."
    )
    holidays: list[Holiday] | None = Field(
        default=None, description="Replaces send_window.holidays."
    )


class ChasePolicyOverrides(_Model):
    """Partial chase policy; ``steps`` replaces the whole list."""

    enabled: bool | None = Field(default=None, description="Overrides chase.enabled.")
    steps: Steps | None = Field(
        default=None, description="Replaces the schedule (a client's own schedule)."
    )
    catch_up: Literal["latest", "all", "none"] | None = Field(
        default=None, description="Overrides chase.catch_up."
    )
    send_window: SendWindowOverrides | None = Field(
        default=None, description="Merges into chase.send_window."
    )
    timezone: ZoneName | None = Field(default=None, description="Overrides chase.timezone.")


class DueDateChangeOverrides(_Model):
    """Partial due-date change limits."""

    enabled: bool | None = Field(default=None, description="Overrides the same field.")
    require_contact_on_file: bool | None = Field(
        default=None, description="Overrides the same field."
    )
    max_extension_days: int | None = Field(
        default=None, ge=0, le=365, description="Overrides the same field."
    )
    max_changes_per_invoice: int | None = Field(
        default=None, ge=0, description="Overrides the same field."
    )
    allow_when_disputed: bool | None = Field(default=None, description="Overrides the same field.")
    max_days_overdue: int | None = Field(
        default=None, ge=0, description="Overrides the same field."
    )


class PromiseToPayOverrides(_Model):
    """Partial promise-to-pay limits."""

    max_days_ahead: int | None = Field(
        default=None, ge=0, le=365, description="Overrides the same field."
    )
    pause_chase: bool | None = Field(default=None, description="Overrides the same field.")


class PaymentConfirmationOverrides(_Model):
    """Partial payment-confirmation handling."""

    checking_pause_days: int | None = Field(
        default=None, ge=0, le=60, description="Overrides the same field."
    )


class AgentPolicyOverrides(_Model):
    """Partial agent policy; ``intents`` merges by intent."""

    min_confidence: float | None = Field(
        default=None, ge=0, le=1, description="Overrides agent.min_confidence."
    )
    due_date_change: DueDateChangeOverrides | None = Field(
        default=None, description="Merges into agent.due_date_change."
    )
    promise_to_pay: PromiseToPayOverrides | None = Field(
        default=None, description="Merges into agent.promise_to_pay."
    )
    payment_confirmation: PaymentConfirmationOverrides | None = Field(
        default=None, description="Merges into agent.payment_confirmation."
    )
    intents: Annotated[dict[Key, IntentAction], AfterValidator(_dispute_hands_off)] | None = Field(
        default=None, description="Merges into agent.intents, intent by intent."
    )
    default_action: IntentAction | None = Field(
        default=None, description="Overrides agent.default_action."
    )


class NumberingOverrides(_Model):
    """Partial numbering policy."""

    pattern: Pattern | None = Field(default=None, description="Overrides numbering.pattern.")
    credit_note_pattern: Pattern | None = Field(
        default=None, description="Overrides numbering.credit_note_pattern."
    )


class PaymentTermsOverrides(_Model):
    """Partial payment terms."""

    days: int | None = Field(
        default=None, ge=0, le=365, description="Overrides payment_terms.days."
    )


class PolicyOverrides(_Model):
    """A company or client policy file: any subset of :class:`Policy`.

    ``chase: null`` (explicitly) means "no chasing" for whoever the file applies to.
    """

    chase: ChasePolicyOverrides | None = Field(
        default=None, description="Chase overrides; an explicit null turns chasing off."
    )
    agent: AgentPolicyOverrides | None = Field(default=None, description="Agent overrides.")
    numbering: NumberingOverrides | None = Field(
        default=None, description="Numbering overrides (company level)."
    )
    payment_terms: PaymentTermsOverrides | None = Field(
        default=None, description="Payment-term overrides."
    )

    def as_layer(self) -> dict[str, Any]:
        """The explicitly set values as a nested dict (null-means-inherit already applied)."""
        layer = _drop_none(self.model_dump(exclude_unset=True))
        if "chase" in self.model_fields_set and self.chase is None:
            layer["chase"] = {"enabled": False}
        return layer


def _drop_none(value: dict[str, Any]) -> dict[str, Any]:
    return {
        k: _drop_none(v) if isinstance(v, dict) else v for k, v in value.items() if v is not None
    }


def merge_layers(base: dict[str, Any], layer: dict[str, Any]) -> dict[str, Any]:
    """Deep merge: mappings merge key by key, everything else (lists too) replaces."""
    merged = dict(base)
    for key, value in layer.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_layers(merged[key], value)
        else:
            merged[key] = value
    return merged


def resolve(
    defaults: Policy,
    company_overrides: PolicyOverrides | None = None,
    client_overrides: PolicyOverrides | None = None,
) -> Policy:
    """The effective policy: defaults < company < client.

    Raises PolicyError (code ``policy_invalid``) when the layers are valid alone but not
    together (e.g. a client's window end before the company's start).
    """
    data: dict[str, Any] = defaults.model_dump()
    for layer in (company_overrides, client_overrides):
        if layer is not None:
            data = merge_layers(data, layer.as_layer())
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(
            "the merged policy is invalid", code="policy_invalid", problems=problems_from(exc)
        ) from exc
