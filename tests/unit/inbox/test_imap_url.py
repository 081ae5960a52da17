"""The mailbox URL: TLS by default, decoded credentials, a password that never shows."""

from __future__ import annotations

import pytest

from inbox.sources import InboxConfigError
from inbox.url import ImapUrl, parse_imap_url


def test_imaps_url_gives_implicit_tls_on_port_993_and_defaults():
    url = parse_imap_url("imaps://billing:secret@mail.example.com")

    assert url == ImapUrl(
        host="mail.example.com",
        port=993,
        username="billing",
        password="secret",
        folder="INBOX",
        tls="implicit",
        processed="flag",
        move_to="Processed",
        idle="auto",
    )
    assert url.password == "secret"


def test_imap_url_with_starttls_uses_port_143_and_starttls():
    url = parse_imap_url("imap://billing:secret@mail.example.com/INBOX?starttls=1")

    assert (url.tls, url.port) == ("starttls", 143)


def test_credentials_and_folder_are_percent_decoded():
    url = parse_imap_url(
        "imaps://ar%40acme.example:p%40ss%3Aw%2Frd%25@mail.example.com:1993/Billing%20In"
    )

    assert (url.username, url.password, url.folder, url.port) == (
        "ar@acme.example",
        "p@ss:w/rd%",
        "Billing In",
        1993,
    )


def test_options_select_move_mode_its_folder_and_polling():
    url = parse_imap_url(
        "imaps://u:p@mail.example.com/Billing?processed=move&move_to=Billing%2FDone&idle=off"
    )

    assert (url.folder, url.processed, url.move_to, url.idle) == (
        "Billing",
        "move",
        "Billing/Done",
        "off",
    )


@pytest.mark.parametrize("host", ["127.0.0.1", "127.3.4.5", "localhost", "[::1]"])
def test_plain_imap_is_allowed_to_a_loopback_host(host):
    url = parse_imap_url(f"imap://u:p@{host}:10143/INBOX")

    assert (url.tls, url.port) == ("none", 10143)


def test_plain_imap_to_a_remote_host_is_refused():
    with pytest.raises(InboxConfigError) as caught:
        parse_imap_url("imap://u:p@mail.example.com/INBOX")

    assert caught.value.code == "imap_url_insecure"


def test_plain_imap_to_a_remote_host_is_allowed_with_explicit_insecure():
    url = parse_imap_url("imap://u:p@10.0.0.5/INBOX?insecure=1")

    assert url.tls == "none"


@pytest.mark.parametrize(
    "raw",
    [
        "pop3://u:p@mail.example.com/",
        "imaps://mail.example.com/INBOX",
        "imaps://u@mail.example.com/INBOX",
        "imaps://:p@mail.example.com/INBOX",
        "imaps://u:p@/INBOX",
        "imaps://u:p@mail.example.com:99999/INBOX",
        "imaps://u:p@mail.example.com/INBOX?processed=delete",
        "imaps://u:p@mail.example.com/INBOX?idle=always",
        "imaps://u:p@mail.example.com/INBOX?starttls=1",
        "imap://u:p@mail.example.com/INBOX?starttls=maybe",
        "imaps://u:p@mail.example.com/INBOX?procesed=move",
        "imaps://u:p@mail.example.com/INBOX?processed=move&move_to=INBOX",
    ],
)
def test_unusable_urls_are_rejected_with_a_stable_code(raw):
    with pytest.raises(InboxConfigError) as caught:
        parse_imap_url(raw)

    assert caught.value.code == "imap_url_invalid"


def test_repr_str_and_redacted_form_never_show_the_password():
    url = parse_imap_url("imaps://ar%40acme.example:hunter2%40x@mail.example.com/Billing")

    for text in (repr(url), str(url), url.redacted(), url.account):
        assert "hunter2" not in text
    assert url.redacted() == (
        "imaps://ar%40acme.example:***@mail.example.com:993/Billing?processed=flag&idle=auto"
    )
    assert url.account == "ar@acme.example@mail.example.com:993"


def test_error_for_a_bad_url_does_not_quote_the_password():
    with pytest.raises(InboxConfigError) as caught:
        parse_imap_url("imap://u:hunter2@mail.example.com/INBOX")

    assert "hunter2" not in str(caught.value)


def test_urls_differing_only_in_password_compare_equal():
    assert parse_imap_url("imaps://u:old@h/INBOX") == parse_imap_url("imaps://u:new@h/INBOX")
