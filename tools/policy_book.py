"""Resolve the policy for a client once: defaults < company < client."""

from __future__ import annotations

from dataclasses import replace

from billing.chase import ChaseSpec
from billing.directory import Client, Company
from policies.chase import to_specs
from policies.loader import default_policy, overrides_from_mapping
from policies.models import Policy, resolve


class PolicyBook:
    """Caches each client's resolved policy for one run (policy is data, read once)."""

    def __init__(self, company: Company, base: Policy | None = None) -> None:
        self.company = company
        self._base = base or default_policy()
        self._company_over = overrides_from_mapping(company.policy or None, source="company.policy")
        self._company = resolve(self._base, self._company_over)
        self._cache: dict[str, Policy] = {}

    def for_client(self, client: Client) -> Policy:
        """The resolved policy of ``client``."""
        if client.id not in self._cache:
            over = overrides_from_mapping(client.policy or None, source=f"client {client.id}")
            self._cache[client.id] = resolve(self._base, self._company_over, over)
        return self._cache[client.id]

    def chase_spec(self, client: Client) -> ChaseSpec:
        """The chase schedule of ``client`` as plain values for billing.chase."""
        spec = to_specs(self.for_client(client))
        if spec.timezone == "UTC" and self.company.timezone != "UTC":
            # The default policy says UTC; a company's own zone is the better default.
            spec = replace(spec, timezone=self.company.timezone)
        return spec

    @property
    def company_policy(self) -> Policy:
        """The company-level policy (for settings that are not per client)."""
        return self._company
