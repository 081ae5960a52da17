"""Who bills whom: the company profile, account owners, clients and their contacts.

These are the live records (they change); an issued invoice copies what it needs into its own
:class:`~billing.invoice.Party` snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from billing.invoice import BankDetails, Party


class ContactRole(StrEnum):
    """A contact's role at the client: invoices go to ``billing``, else ``primary``."""

    BILLING = "billing"
    PRIMARY = "primary"
    OTHER = "other"


class DeliveryMethod(StrEnum):
    """How a client receives invoices."""

    EMAIL_PDF = "email_pdf"
    EMAIL_LINK = "email_link"
    ACCOUNTING_PORTAL = "accounting_portal"


SUPPORTED_LANGUAGES = ("en", "de", "nl", "fr", "es")


@dataclass(frozen=True, slots=True)
class Company:
    """The business that issues invoices (the seller)."""

    name: str
    address: tuple[str, ...]
    country: str
    currency: str
    billing_email: str
    vat_id: str | None = None
    registration_id: str | None = None
    bank: BankDetails | None = None
    timezone: str = "UTC"
    language: str = "en"
    numbering_pattern: str = "INV-{YYYY}-{####}"
    credit_note_pattern: str = "CN-{YYYY}-{####}"
    payment_terms_days: int = 30
    policy: Mapping[str, Any] = field(default_factory=dict)

    @property
    def email_domain(self) -> str:
        """Domain of the billing address (used in our Message-IDs)."""
        return self.billing_email.rsplit("@", 1)[-1].lower()

    def as_party(self) -> Party:
        """Snapshot for the seller block of a document."""
        return Party(
            name=self.name,
            address=self.address,
            country=self.country,
            vat_id=self.vat_id,
            email=self.billing_email,
            registration_id=self.registration_id,
        )


@dataclass(frozen=True, slots=True)
class Owner:
    """An account owner: the person who answers for a client (hand-offs, escalations)."""

    id: str
    name: str
    email: str
    slack_user_id: str | None = None


@dataclass(frozen=True, slots=True)
class Contact:
    """A person at a client; ``source`` says where we learned the address."""

    client_id: str
    name: str
    email: str
    role: ContactRole
    source: str = "import"


@dataclass(frozen=True, slots=True)
class Client:
    """A customer we bill."""

    id: str
    name: str
    country: str
    currency: str
    address: tuple[str, ...]
    account_owner_id: str | None
    language: str = "en"
    vat_id: str | None = None
    payment_terms_days: int | None = None
    timezone: str | None = None
    delivery_method: DeliveryMethod = DeliveryMethod.EMAIL_PDF
    contacts: tuple[Contact, ...] = ()
    policy: Mapping[str, Any] = field(default_factory=dict)

    def billing_contact(self) -> Contact | None:
        """Where invoices go: the billing contact, else the primary one, else none."""
        for role in (ContactRole.BILLING, ContactRole.PRIMARY):
            for contact in self.contacts:
                if contact.role is role:
                    return contact
        return None

    def contact_for(self, email: str) -> Contact | None:
        """The contact on file with this address (case-insensitive), if any."""
        wanted = email.strip().lower()
        return next((c for c in self.contacts if c.email.lower() == wanted), None)

    def as_party(self, contacts: Sequence[Contact] | None = None) -> Party:
        """Snapshot for the buyer block of a document."""
        to = self.billing_contact()
        return Party(
            name=self.name,
            address=self.address,
            country=self.country,
            vat_id=self.vat_id,
            email=to.email if to else None,
            contact_name=to.name if to else None,
        )
