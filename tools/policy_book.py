"""Resolve the policy for a client once: defaults < company < client."""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from billing.chase import ChaseSpec
from billing.directory import Client, Company
from policies.chase import to_specs
from policies.loader import default_policy, overrides_from_mapping
from policies.models import Policy, resolve


class PolicyBook:
    """Caches each client's resolved policy (policy is data, read once).

    ``PolicyBook(company)`` is a fresh book (a run builds one); ``PolicyBook.for_company``
    shares one per company profile across calls — a changed profile is a different key.
    """

    _shared: ClassVar[dict[tuple[str, str, str], PolicyBook]] = {}

    @classmethod
    def for_company(cls, company: Company) -> PolicyBook:
        """The shared book of this company profile (bounded cache)."""
        key = (company.name, company.timezone, repr(sorted(company.policy.items())))
        book = cls._shared.get(key)
        if book is None:
            if len(cls._shared) >= 16:
                cls._shared.clear()
            book = cls._shared[key] = cls(company)
        return book

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
