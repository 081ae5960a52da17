"""The billing inbox as one URL (`CLOSELOOP_IMAP_URL`).

    imaps://USER:PASSWORD@HOST[:PORT]/FOLDER?processed=flag|move&move_to=Processed&idle=auto|off
    imap://USER:PASSWORD@HOST[:PORT]/FOLDER?starttls=1

Transport security is the default: `imaps://` is TLS from the first byte (port 993), `imap://`
needs `?starttls=1` (port 143). Plain `imap://` without TLS is accepted only for a loopback
host (a local test server) or with an explicit `?insecure=1`.

User and password are percent-decoded (`%40` for `@`, `%2F` for `/`…); the folder too
(default `INBOX`). The password appears in no repr, str or error: `ImapUrl.redacted()` is what
logs show.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from inbox.sources import InboxConfigError

__all__ = ["ImapUrl", "parse_imap_url"]

TlsMode = Literal["implicit", "starttls", "none"]
ProcessedMode = Literal["flag", "move"]
IdleMode = Literal["auto", "off"]

_DEFAULT_PORTS = {"imaps": 993, "imap": 143}
_KNOWN_PARAMS = {"processed", "move_to", "idle", "starttls", "insecure"}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class ImapUrl:
    """A parsed, validated mailbox URL. `password` is excluded from repr and comparisons."""

    host: str
    port: int
    username: str
    password: str = field(repr=False, compare=False)
    folder: str = "INBOX"
    tls: TlsMode = "implicit"
    processed: ProcessedMode = "flag"
    move_to: str = "Processed"
    idle: IdleMode = "auto"

    @property
    def account(self) -> str:
        """Identifies the mailbox for stored state: `user@host:port` (no password)."""
        return f"{self.username}@{self.host}:{self.port}"

    def redacted(self) -> str:
        """The URL with the password replaced by `***`, safe for logs and errors."""
        scheme = "imaps" if self.tls == "implicit" else "imap"
        host = f"[{self.host}]" if ":" in self.host else self.host
        params: dict[str, str] = {}
        if self.tls == "starttls":
            params["starttls"] = "1"
        elif self.tls == "none" and not _is_loopback(self.host):
            params["insecure"] = "1"
        params["processed"] = self.processed
        if self.processed == "move":
            params["move_to"] = self.move_to
        params["idle"] = self.idle
        return (
            f"{scheme}://{quote(self.username, safe='')}:***@{host}:{self.port}"
            f"/{quote(self.folder)}?{urlencode(params)}"
        )

    def __repr__(self) -> str:
        return f"ImapUrl({self.redacted()!r})"

    __str__ = __repr__


def parse_imap_url(url: str) -> ImapUrl:
    """Parse and validate an `imap://` / `imaps://` URL; raise `InboxConfigError` if unusable.

    Error messages quote the URL only in redacted form.
    """
    try:
        parts = urlsplit(url.strip())
        port_in_url = parts.port
    except ValueError as exc:
        raise InboxConfigError(f"invalid IMAP URL ({exc})", code="imap_url_invalid") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise InboxConfigError(
            f"IMAP URL must start with imap:// or imaps://, not {scheme or '(none)'}://",
            code="imap_url_invalid",
        )
    host = parts.hostname
    if not host:
        raise InboxConfigError("IMAP URL has no host", code="imap_url_invalid")
    if parts.username is None or parts.password is None:
        raise InboxConfigError(
            "IMAP URL needs user and password: imaps://USER:PASSWORD@HOST/FOLDER",
            code="imap_url_invalid",
        )
    username = unquote(parts.username)
    password = unquote(parts.password)
    if not username:
        raise InboxConfigError("IMAP URL has an empty user", code="imap_url_invalid")

    params = _query(parts.query)
    starttls = _flag(params, "starttls")
    insecure = _flag(params, "insecure")
    tls: TlsMode
    if scheme == "imaps":
        if starttls:
            raise InboxConfigError(
                "imaps:// is already TLS; starttls=1 applies to imap:// only",
                code="imap_url_invalid",
            )
        tls = "implicit"
    elif starttls:
        tls = "starttls"
    elif insecure or _is_loopback(host):
        tls = "none"
    else:
        raise InboxConfigError(
            f"refusing plain IMAP to {host}: use imaps://, or imap://…?starttls=1; "
            "?insecure=1 allows an unencrypted connection explicitly",
            code="imap_url_insecure",
        )

    processed = params.get("processed", "flag")
    if processed not in ("flag", "move"):
        raise InboxConfigError(
            f"processed must be flag or move, not {processed!r}", code="imap_url_invalid"
        )
    idle = params.get("idle", "auto")
    if idle not in ("auto", "off"):
        raise InboxConfigError(f"idle must be auto or off, not {idle!r}", code="imap_url_invalid")
    move_to = params.get("move_to", "Processed")
    if not move_to:
        raise InboxConfigError("move_to must name a folder", code="imap_url_invalid")

    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    if move_to == folder and processed == "move":
        raise InboxConfigError(
            "move_to must differ from the folder that is read", code="imap_url_invalid"
        )

    return ImapUrl(
        host=host,
        port=port_in_url or _DEFAULT_PORTS[scheme],
        username=username,
        password=password,
        folder=folder,
        tls=tls,
        processed="move" if processed == "move" else "flag",
        move_to=move_to,
        idle="off" if idle == "off" else "auto",
    )


def _query(query: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name not in _KNOWN_PARAMS:
            raise InboxConfigError(
                f"unknown IMAP URL parameter {name!r} (known: {', '.join(sorted(_KNOWN_PARAMS))})",
                code="imap_url_invalid",
            )
        params[name] = value
    return params


def _flag(params: dict[str, str], name: str) -> bool:
    value = params.get(name, "0").lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InboxConfigError(f"{name} must be 1 or 0, not {value!r}", code="imap_url_invalid")


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
