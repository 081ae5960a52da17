"""``closeloop import``: load company, owners, clients, contacts, invoices and payments.

The format is documented in the README (it is the one of the evaluation world). The whole
file is one transaction: either everything is loaded or nothing, and an error names the
place in the file (``clients[2].contacts[0].email``). Importing the same file again changes
nothing: records are matched by id/number/external payment id and only real changes apply.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from billing.directory import (
    SUPPORTED_LANGUAGES,
    Client,
    Company,
    Contact,
    ContactRole,
    DeliveryMethod,
    Owner,
)
from billing.errors import BillingError
from billing.events import DomainEvent, EventKind
from billing.invoice import BankDetails, LineInput
from billing.money import check_currency, to_decimal
from billing.numbering import NumberPattern
from billing.records import Payment
from billing.status import InvoiceStatus
from billing.vat_ids import check_vat_id
from tools.clock import Clock
from tools.errors import ImportFormatError
from tools.issuing import build_invoice_for
from tools.payments import apply_payment
from tools.ports import Ledger, LedgerFactory

#: Default time zone by country when the file names none (business dates are local).
COUNTRY_TIMEZONES = {
    "GB": "Europe/London",
    "IE": "Europe/Dublin",
    "DE": "Europe/Berlin",
    "NL": "Europe/Amsterdam",
    "BE": "Europe/Brussels",
    "FR": "Europe/Paris",
    "ES": "Europe/Madrid",
    "IT": "Europe/Rome",
    "AT": "Europe/Vienna",
    "CH": "Europe/Zurich",
    "PT": "Europe/Lisbon",
    "LU": "Europe/Luxembourg",
    "DK": "Europe/Copenhagen",
    "SE": "Europe/Stockholm",
    "NO": "Europe/Oslo",
    "FI": "Europe/Helsinki",
    "PL": "Europe/Warsaw",
    "US": "America/New_York",
    "CA": "America/Toronto",
    "AU": "Australia/Sydney",
    "JP": "Asia/Tokyo",
}


@dataclass
class ImportReport:
    """Counts of what an import created or changed (all zero on a re-import)."""

    company: int = 0
    owners: int = 0
    clients: int = 0
    invoices: int = 0
    payments: int = 0
    subscriptions: int = 0
    skipped: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        """Total number of records created or changed."""
        return (
            self.company
            + self.owners
            + self.clients
            + self.invoices
            + self.payments
            + self.subscriptions
        )


def _req(obj: Mapping[str, Any], key: str, where: str) -> Any:
    if not isinstance(obj, Mapping):
        raise ImportFormatError(f"{where}: expected an object")
    if key not in obj or obj[key] in (None, ""):
        raise ImportFormatError(f"{where}.{key}: missing")
    return obj[key]


def _date(value: Any, where: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ImportFormatError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from None


def _list(obj: Mapping[str, Any], key: str, where: str) -> Sequence[Any]:
    value = obj.get(key, [])
    if not isinstance(value, list):
        raise ImportFormatError(f"{where}.{key}: expected a list")
    return value


def _wrap(where: str, exc: BillingError) -> ImportFormatError:
    return ImportFormatError(f"{where}: {exc.message}", code=exc.code)


def parse_company(data: Mapping[str, Any]) -> Company:
    """The ``company`` object."""
    where = "company"
    bank_data = data.get("bank") or None
    bank = None
    if bank_data is not None:
        bank = BankDetails(
            account_name=str(bank_data.get("account_name") or _req(data, "name", where)),
            iban=bank_data.get("iban"),
            bic=bank_data.get("bic"),
            bank_name=bank_data.get("bank_name"),
            account_number=bank_data.get("account_number"),
            sort_code=bank_data.get("sort_code"),
            routing_number=bank_data.get("routing_number"),
        )
    country = str(_req(data, "country", where)).upper()
    raw_currency = str(_req(data, "currency", where))
    try:
        currency = check_currency(raw_currency)
        vat_id = check_vat_id(data["vat_id"], country) if data.get("vat_id") else None
    except BillingError as exc:
        raise _wrap(where, exc) from None
    address = _list(data, "address", where)
    return Company(
        name=str(_req(data, "name", where)),
        address=tuple(str(a) for a in address),
        country=country,
        currency=currency,
        billing_email=str(_req(data, "billing_email", where)).lower(),
        vat_id=vat_id,
        registration_id=data.get("registration_id"),
        bank=bank,
        timezone=str(data.get("timezone") or COUNTRY_TIMEZONES.get(country, "UTC")),
        language=str(data.get("language", "en")),
        numbering_pattern=str(data.get("numbering_pattern", "INV-{YYYY}-{####}")),
        credit_note_pattern=str(data.get("credit_note_pattern", "CN-{YYYY}-{####}")),
        payment_terms_days=int(data.get("payment_terms_days", 30)),
        policy=dict(data.get("policy") or {}),
    )


def parse_client(data: Mapping[str, Any], index: int, owners: set[str]) -> Client:
    """One entry of ``clients``."""
    where = f"clients[{index}]"
    client_id = str(_req(data, "id", where))
    country = str(_req(data, "country", where)).upper()
    raw_currency = str(_req(data, "currency", where))
    try:
        currency = check_currency(raw_currency)
        vat_id = check_vat_id(data["vat_id"], country) if data.get("vat_id") else None
    except BillingError as exc:
        raise _wrap(where, exc) from None
    owner = data.get("account_owner")
    if owner is not None and owner not in owners:
        raise ImportFormatError(f"{where}.account_owner: unknown owner {owner!r}")
    language = str(data.get("language", "en")).lower()
    if language not in SUPPORTED_LANGUAGES:
        raise ImportFormatError(
            f"{where}.language: {language!r} is not supported ({', '.join(SUPPORTED_LANGUAGES)})"
        )
    contacts = []
    for j, c in enumerate(_list(data, "contacts", where)):
        cwhere = f"{where}.contacts[{j}]"
        email = str(_req(c, "email", cwhere)).strip().lower()
        if "@" not in email or " " in email:
            raise ImportFormatError(f"{cwhere}.email: {email!r} is not an email address")
        try:
            role = ContactRole(str(c.get("role", "other")))
        except ValueError:
            raise ImportFormatError(
                f"{cwhere}.role: must be billing, primary or other (got {c.get('role')!r})"
            ) from None
        contacts.append(
            Contact(
                client_id=client_id,
                name=str(c.get("name") or email),
                email=email,
                role=role,
                source=str(c.get("source", "import")),
            )
        )
    terms = data.get("payment_terms_days")
    try:
        delivery = DeliveryMethod(str(data.get("delivery_method", "email_pdf")))
    except ValueError:
        raise ImportFormatError(f"{where}.delivery_method: unknown method") from None
    return Client(
        id=client_id,
        name=str(_req(data, "name", where)),
        country=country,
        currency=currency,
        address=tuple(str(a) for a in _list(data, "address", where)),
        account_owner_id=owner,
        language=language,
        vat_id=vat_id,
        payment_terms_days=int(terms) if terms is not None else None,
        timezone=str(data.get("timezone") or COUNTRY_TIMEZONES.get(country, "UTC")),
        delivery_method=delivery,
        contacts=tuple(contacts),
        policy=dict(data.get("policy") or {}),
    )


def parse_lines(items: Any, where: str) -> tuple[LineInput, ...]:
    """A JSON list of lines in the import format."""
    if not isinstance(items, list) or not items:
        raise ImportFormatError(f"{where}: expected a non-empty list of lines")
    out = []
    for i, item in enumerate(items, start=1):
        try:
            out.append(LineInput.from_mapping(item, position=i))
        except BillingError as exc:
            raise _wrap(where, exc) from None
    return tuple(out)


def import_world(ledgers: LedgerFactory, data: Mapping[str, Any], *, clock: Clock) -> ImportReport:
    """Load a world file (already parsed JSON) in one transaction."""
    if not isinstance(data, Mapping):
        raise ImportFormatError("the import file must hold a JSON object")
    now = clock.now()
    report = ImportReport()
    company = parse_company(_req(data, "company", "file"))
    owners = []
    for i, o in enumerate(_list(data, "owners", "file")):
        where = f"owners[{i}]"
        owners.append(
            Owner(
                id=str(_req(o, "id", where)),
                name=str(_req(o, "name", where)),
                email=str(_req(o, "email", where)).lower(),
                slack_user_id=o.get("slack_user_id"),
            )
        )
    owner_ids = {o.id for o in owners}
    clients = [parse_client(c, i, owner_ids) for i, c in enumerate(_list(data, "clients", "file"))]
    client_ids = {c.id for c in clients}
    with ledgers() as ledger:
        report.company += int(ledger.save_company(company, now))
        for owner in owners:
            report.owners += int(ledger.save_owner(owner))
        for client in clients:
            report.clients += int(ledger.save_client(client, now))
        for i, inv in enumerate(_list(data, "invoices", "file")):
            _import_invoice(ledger, inv, i, client_ids, company, report, clock)
    return report


def _import_invoice(
    ledger: Ledger,
    inv: Mapping[str, Any],
    index: int,
    client_ids: set[str],
    company: Company,
    report: ImportReport,
    clock: Clock,
) -> None:
    where = f"invoices[{index}]"
    now = clock.now()
    number = str(_req(inv, "number", where))
    client_id = str(_req(inv, "client", where))
    if client_id not in client_ids:
        try:
            ledger.client(client_id)
        except BillingError:
            raise ImportFormatError(f"{where}.client: unknown client {client_id!r}") from None
    if not ledger.has_document(number):
        client = ledger.client(client_id)
        issue_date = _date(_req(inv, "issue_date", where), f"{where}.issue_date")
        due = _date(inv["due_date"], f"{where}.due_date") if inv.get("due_date") else None
        items = parse_lines(_req(inv, "lines", where), f"{where}.lines")
        try:
            document = build_invoice_for(
                company,
                client,
                number=number,
                issue_date=issue_date,
                items=items,
                currency=inv.get("currency"),
                due_date=due,
            )
        except BillingError as exc:
            raise _wrap(where, exc) from None
        pattern = NumberPattern(company.numbering_pattern)
        parsed = pattern.parse(number)
        series, sequence = parsed if parsed else (None, None)
        if series is not None and sequence is not None:
            ledger.bump_series(series, sequence)
        ledger.add_document(
            document,
            client_id=client_id,
            origin="imported",
            status=InvoiceStatus.OPEN,
            now=now,
            series=series,
            sequence=sequence,
        )
        ledger.append_event(
            number,
            DomainEvent(
                EventKind.INVOICE_IMPORTED,
                now,
                "import",
                f"Imported as issued elsewhere on {issue_date}: {document.currency} "
                f"{document.totals.grand_total}, due {document.due_date}",
                {"total": str(document.totals.grand_total), "issue_date": issue_date.isoformat()},
            ),
        )
        report.invoices += 1
    for j, p in enumerate(_list(inv, "payments", where)):
        pwhere = f"{where}.payments[{j}]"
        received = _date(_req(p, "date", pwhere), f"{pwhere}.date")
        try:
            amount = to_decimal(_req(p, "amount", pwhere), what=f"{pwhere}.amount")
        except BillingError as exc:
            raise _wrap(pwhere, exc) from None
        reference = p.get("reference")
        external_id = str(
            p.get("external_id")
            or (
                f"import:{number}:{reference}"
                if reference
                else f"import:{number}:{received}:{amount}"
            )
        )
        payment = Payment(
            external_id=external_id,
            invoice_number=number,
            amount=Decimal(amount),
            currency=str(p.get("currency") or ledger.invoice(number).currency),
            received_date=received,
            reference=reference,
            source="import",
        )
        try:
            result = apply_payment(ledger, payment, now_actor="import", clock=clock)
        except BillingError as exc:
            raise _wrap(pwhere, exc) from None
        report.payments += int(result.recorded)
