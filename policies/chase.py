"""Adapter from the pydantic chase policy to the plain values ``billing.chase`` computes with.

billing must not import policies, so the runner converts once: ``plan_chase(to_specs(policy),
facts, now)``.
"""

from __future__ import annotations

from billing.chase import ChaseSpec, StepSpec, WindowSpec
from policies.models import ChasePolicy, ChaseStep, Policy, SendWindow


def step_spec(step: ChaseStep) -> StepSpec:
    """One policy step as a billing StepSpec."""
    return StepSpec(
        key=step.key,
        kind=step.kind,
        offset_days=step.offset_days,
        template=step.template,
        channels=tuple(step.channel),
        to=step.to,
        cc_owner=step.cc_owner,
    )


def window_spec(window: SendWindow) -> WindowSpec:
    """The policy send window as a billing WindowSpec."""
    return WindowSpec(
        start=window.start,
        end=window.end,
        business_days=frozenset(window.business_days),
        holidays=frozenset(window.holidays),
    )


def to_specs(policy: Policy | ChasePolicy) -> ChaseSpec:
    """The chase part of a resolved policy as a billing ChaseSpec."""
    chase = policy.chase if isinstance(policy, Policy) else policy
    return ChaseSpec(
        steps=tuple(step_spec(step) for step in chase.steps),
        window=window_spec(chase.send_window),
        catch_up=chase.catch_up,
        timezone=chase.timezone,
        enabled=chase.enabled,
    )
