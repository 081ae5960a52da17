"""assess_sender: contact on file, our server's authentication results, lookalikes, spoofing."""

from __future__ import annotations

import pytest

from billing.mail import InboundMessage, KnownContact, SenderTrust, TrustLevel
from inbox.parse import parse_message
from inbox.trust import assess_sender, lookalike_reason

OUR_SERVER = "mx.northwind-digital.example"
OWN = ("northwind-digital.example",)
JANE = KnownContact("ap@acme-widgets.example", "Jane Doe", "billing", "cl-acme")
MARK = KnownContact("mark.lin@acme-widgets.example", "Mark Lin", "primary", "cl-acme")
OWEN = KnownContact("owen@lumenbakery.example", "Owen Price", "billing", "cl-lumen")
CONTACTS = (JANE, MARK, OWEN)
PASS = f"Authentication-Results: {OUR_SERVER}; spf=pass smtp.mailfrom=acme-widgets.example; dkim=pass header.d=acme-widgets.example; dmarc=pass header.from=acme-widgets.example"  # noqa: E501


def message(from_header: str, *extra: str, auth: str | None = PASS) -> InboundMessage:
    headers = [f"From: {from_header}", "Subject: invoice", *extra]
    if auth is not None:
        headers.insert(0, auth)
    raw = ("\r\n".join(headers) + "\r\n\r\nHello\r\n").encode("utf-8")
    return parse_message(raw)


def assess(msg: InboundMessage, *, server: str | None = OUR_SERVER) -> SenderTrust:
    return assess_sender(msg, CONTACTS, trusted_authserv_id=server, own_domains=OWN)


def test_contact_on_file_with_passing_authentication_is_verified() -> None:
    trust = assess(message("Jane Doe <ap@acme-widgets.example>"))

    assert trust.level is TrustLevel.verified
    assert trust.contact == JANE
    assert trust.client_id == "cl-acme"
    assert trust.reasons == (
        "From address is Jane Doe (billing) on file for cl-acme",
        "DMARC passes at our server",
    )


def test_forged_pass_from_another_server_is_ignored_and_our_fail_counts() -> None:
    forged = "Authentication-Results: mx.acme-widgets.example; dmarc=pass; spf=pass; dkim=pass"
    ours = f"Authentication-Results: {OUR_SERVER}; spf=fail smtp.mailfrom=acme-widgets.example; dkim=none; dmarc=fail"  # noqa: E501

    trust = assess(message("Jane Doe <ap@acme-widgets.example>", forged, auth=ours))

    assert trust.level is TrustLevel.suspicious
    assert "DMARC fails at our server" in trust.reasons


def test_a_copy_of_our_header_below_the_top_one_is_ignored() -> None:
    top = f"Authentication-Results: {OUR_SERVER}; spf=softfail; dkim=none; dmarc=fail"
    planted = f"Authentication-Results: {OUR_SERVER}; spf=pass; dkim=pass; dmarc=pass"

    trust = assess(message("Jane Doe <ap@acme-widgets.example>", planted, auth=top))

    assert trust.level is TrustLevel.suspicious


def test_pass_written_inside_a_comment_is_not_a_result() -> None:
    header = f"Authentication-Results: {OUR_SERVER}; dmarc=fail (dmarc=pass says the sender)"

    trust = assess(message("Jane Doe <ap@acme-widgets.example>", auth=header))

    assert trust.level is TrustLevel.suspicious


def test_missing_header_from_our_server_leaves_a_contact_unverified() -> None:
    trust = assess(message("Jane Doe <ap@acme-widgets.example>", auth=None))

    assert trust.level is TrustLevel.unverified
    assert trust.contact == JANE
    assert f"no Authentication-Results from {OUR_SERVER}" in trust.reasons


def test_without_a_configured_server_a_contact_is_verified_and_the_reason_says_so() -> None:
    trust = assess(message("Jane Doe <ap@acme-widgets.example>", auth=None), server=None)

    assert trust.level is TrustLevel.verified
    assert "authentication not checked (no trusted server id configured)" in trust.reasons


def test_reply_to_another_address_on_the_same_domain_is_only_unverified() -> None:
    trust = assess(
        message(
            "Jane Doe <ap@acme-widgets.example>",
            "Reply-To: accounts@acme-widgets.example",
            auth=None,
        )
    )

    assert trust.level is TrustLevel.unverified
    assert (
        "Reply-To accounts@acme-widgets.example differs from From ap@acme-widgets.example"
        in trust.reasons
    )


def test_reply_to_on_another_domain_is_suspicious_without_authentication() -> None:
    trust = assess(
        message(
            "Jane Doe <ap@acme-widgets.example>",
            "Reply-To: Acme AP <acme.ap@inbound.payflow-ap.example>",
            auth=None,
        )
    )

    assert trust.level is TrustLevel.suspicious
    assert trust.contact == JANE
    assert trust.reasons[0] == (
        "Reply-To acme.ap@inbound.payflow-ap.example is on another domain than From "
        "ap@acme-widgets.example"
    )


def test_reply_to_elsewhere_is_ignored_when_our_server_authenticated_the_contact() -> None:
    # We only ever answer the address on file, so an AP-automation Reply-To on a message whose
    # From domain passed DMARC at our own server does not lower trust; it is noted.
    trust = assess(
        message(
            "Jane Doe <ap@acme-widgets.example>",
            "Reply-To: Acme AP <acme.ap@inbound.payflow-ap.example>",
        )
    )

    assert trust.level is TrustLevel.verified
    assert trust.contact == JANE
    assert (
        "Reply-To acme.ap@inbound.payflow-ap.example is on another domain than From "
        "ap@acme-widgets.example (ignored: replies go only to the contact on file)" in trust.reasons
    )


@pytest.mark.parametrize(
    "domain",
    [
        "acme-widgets.example.net",
        "acme-widgets.com",
        "acmewidgets.example",
        "acme-wigdets.example",
        "acme-widgetss.example",
        "acrne-widgets.example",
        "acme-widgets-billing.example",
        "xn--cme-widgets-xij.example",
    ],
)
def test_lookalike_of_a_contact_domain_is_suspicious(domain: str) -> None:
    trust = assess(message(f"Jane Doe <ap@{domain}>"))

    assert trust.level is TrustLevel.suspicious
    assert trust.reasons[0].startswith("lookalike domain: ")


@pytest.mark.parametrize(
    "domain", ["mail.acme-widgets.example", "acme-widgets.example", "harbor-analytics.example"]
)
def test_real_domains_and_subdomains_are_not_lookalikes(domain: str) -> None:
    assert lookalike_reason(domain, "acme-widgets.example") is None


def test_colleague_on_the_clients_domain_is_unverified_but_tied_to_the_client() -> None:
    trust = assess(message("Ben Carter <ben.carter@acme-widgets.example>"))

    assert trust.level is TrustLevel.unverified
    assert trust.contact is None
    assert trust.client_id == "cl-acme"
    assert trust.reasons == (
        "ben.carter@acme-widgets.example is not a contact on file",
        "sender's domain acme-widgets.example belongs to client cl-acme",
        "DMARC passes at our server",
    )


def test_display_name_holding_another_address_is_suspicious() -> None:
    trust = assess(message('"ap@acme-widgets.example" <billing-desk@pay-portal.example>'))

    assert trust.level is TrustLevel.suspicious
    assert (
        "display name shows the address ap@acme-widgets.example but the mail is from "
        "billing-desk@pay-portal.example"
    ) in trust.reasons


def test_contacts_name_from_an_unknown_domain_is_suspicious() -> None:
    trust = assess(message("Owen Price <owen.price.bakery@freemail.example>"))

    assert trust.level is TrustLevel.suspicious
    assert (
        "display name impersonates Owen Price (owen@lumenbakery.example) from "
        "owen.price.bakery@freemail.example"
    ) in trust.reasons


def test_our_own_name_from_outside_is_suspicious() -> None:
    trust = assess(message("Northwind Digital Billing <billing@northwind-payments.example>"))

    assert trust.level is TrustLevel.suspicious


def test_stranger_on_a_free_mail_domain_is_unverified_with_reasons() -> None:
    trust = assess(message("Sarah Hughes <sarah.hughes.bookkeeping@gmail.example>"))

    assert trust.level is TrustLevel.unverified
    assert trust.client_id is None
    assert trust.reasons[:2] == (
        "sarah.hughes.bookkeeping@gmail.example is not a contact on file",
        "gmail.example is a free-mail domain",
    )


def test_failing_spf_without_dkim_from_our_server_is_suspicious() -> None:
    header = f"Authentication-Results: {OUR_SERVER}; spf=softfail smtp.mailfrom=x; dkim=none"

    trust = assess(message("Jane Doe <ap@acme-widgets.example>", auth=header))

    assert trust.level is TrustLevel.suspicious
    assert "SPF softfail and no DKIM pass" in trust.reasons


def test_address_on_file_for_two_clients_names_no_single_client() -> None:
    bookkeeper_a = KnownContact("books@ledger.example", "Ann Books", "billing", "cl-acme")
    bookkeeper_b = KnownContact("books@ledger.example", "Ann Books", "billing", "cl-lumen")
    auth = f"Authentication-Results: {OUR_SERVER}; dmarc=pass header.from=ledger.example"

    trust = assess_sender(
        message("Ann Books <books@ledger.example>", auth=auth),
        (bookkeeper_a, bookkeeper_b),
        trusted_authserv_id=OUR_SERVER,
        own_domains=OWN,
    )

    assert trust.level is TrustLevel.verified
    assert trust.contact == bookkeeper_a
    assert trust.client_id is None
    assert trust.reasons == (
        "From address is Ann Books (billing) on file for cl-acme, cl-lumen",
        "the address is on file for several clients",
        "DMARC passes at our server",
    )
