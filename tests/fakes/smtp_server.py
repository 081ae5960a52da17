"""A real SMTP server in-process (aiosmtpd), scriptable and recording, for mailer tests.

::

    with FakeSmtpServer(users={"billing": "s3cret"}) as smtp:
        smtp.reply("RCPT", "550 5.1.1 User unknown", recipient="gone@client.test")
        smtp.reply("DATA", "451 4.3.0 Try again later", times=2)
        ...  # send with SmtpMailer(smtp.url(username="billing", password="s3cret"))
        assert smtp.messages[0].rcpt_tos == ("ap@client.test",)

Notes from STACK-NOTES §3: ``Controller(port=0)`` fails (it probes its own port), so a free
port is found first; a refused login returns ``AuthResult(success=False, handled=False)`` so the
client gets ``535`` instead of hanging. AUTH is offered on the plain connection too (loopback
test server only). TLS: pass ``starttls_context`` (STARTTLS) or ``implicit_tls_context`` (SMTPS);
:func:`self_signed_tls` builds both sides from a certificate generated with ``cryptography``.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

Stage = Literal["MAIL", "RCPT", "DATA"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (right now)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@dataclass(frozen=True)
class ReceivedMessage:
    """A message the server accepted: the envelope and the bytes as received."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    authenticated_as: str | None
    tls: bool


@dataclass(frozen=True)
class Attempt:
    """One MAIL, RCPT or DATA command seen, with the reply the server gave."""

    stage: Stage
    argument: str
    reply: str


@dataclass
class _Rule:
    stage: Stage
    reply: str
    recipient: str | None
    remaining: int | None
    delay: float

    @property
    def accepts(self) -> bool:
        """A 2xx rule only slows the answer down; the command still takes effect."""
        return self.reply.startswith("2")


class _Handler:
    """aiosmtpd handler hooks; runs in the controller's event-loop thread."""

    def __init__(self, server: FakeSmtpServer) -> None:
        self._server = server

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self._server.require_auth and not session.authenticated:
            return self._server._note("MAIL", address, "530 5.7.0 Authentication required")
        rule = self._server._match("MAIL", address)
        if rule is None or rule.accepts:
            envelope.mail_from = address
            envelope.mail_options.extend(options)
        return await self._answer(rule, "MAIL", address)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        rule = self._server._match("RCPT", address)
        if rule is None or rule.accepts:
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(options)
        return await self._answer(rule, "RCPT", address)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        rule = self._server._match("DATA", None)
        if rule is None or rule.accepts:
            raw = envelope.original_content
            auth = session.auth_data
            self._server._record(
                ReceivedMessage(
                    mail_from=envelope.mail_from or "",
                    rcpt_tos=tuple(envelope.rcpt_tos),
                    data=raw if isinstance(raw, bytes) else (raw or "").encode("utf-8"),
                    authenticated_as=(
                        auth.login.decode("utf-8") if isinstance(auth, LoginPassword) else None
                    ),
                    tls=session.ssl is not None  # STARTTLS
                    or (  # implicit TLS
                        server.transport is not None
                        and server.transport.get_extra_info("ssl_object") is not None
                    ),
                )
            )
        return await self._answer(rule, "DATA", ",".join(envelope.rcpt_tos))

    async def _answer(self, rule: _Rule | None, stage: Stage, argument: str) -> str:
        if rule is None:
            return self._server._note(stage, argument, "250 OK")
        if rule.delay:
            await asyncio.sleep(rule.delay)
        return self._server._note(stage, argument, rule.reply)


class FakeSmtpServer:
    """An aiosmtpd server on a free 127.0.0.1 port; start/stop or use as a context manager.

    ``users`` (login → password) enables AUTH PLAIN/LOGIN; ``require_auth`` refuses MAIL with
    530 until the client has authenticated. Scripted replies (:meth:`reply`) take precedence over
    the default ``250``; received messages and every command's reply are recorded.
    """

    def __init__(
        self,
        *,
        users: Mapping[str, str] | None = None,
        require_auth: bool = False,
        starttls_context: ssl.SSLContext | None = None,
        implicit_tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.users = dict(users or {})
        self.require_auth = require_auth
        self.host = "127.0.0.1"
        self.port = free_port()
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self._messages: list[ReceivedMessage] = []
        self._attempts: list[Attempt] = []
        self._failed_logins: list[str] = []
        smtp_kwargs: dict[str, Any] = {}
        if self.users:
            smtp_kwargs["authenticator"] = self._authenticate
            smtp_kwargs["auth_require_tls"] = False
        if starttls_context is not None:
            smtp_kwargs["tls_context"] = starttls_context
        self._controller = Controller(
            _Handler(self),
            hostname=self.host,
            port=self.port,
            ssl_context=implicit_tls_context,
            server_hostname="fake-smtp.test",
            **smtp_kwargs,
        )

    def start(self) -> FakeSmtpServer:
        """Start serving; returns once the port accepts connections."""
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop the server and its event-loop thread."""
        self._controller.stop()

    def __enter__(self) -> FakeSmtpServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def url(
        self,
        scheme: str = "smtp",
        *,
        username: str | None = None,
        password: str | None = None,
        query: str = "timeout=5",
    ) -> str:
        """An SMTP URL for this server, credentials percent-encoded."""
        auth = ""
        if username is not None:
            auth = quote(username, safe="")
            if password is not None:
                auth += ":" + quote(password, safe="")
            auth += "@"
        return f"{scheme}://{auth}{self.host}:{self.port}" + (f"?{query}" if query else "")

    # -- scripting -------------------------------------------------------------------------

    def reply(
        self,
        stage: Stage,
        reply: str,
        *,
        recipient: str | None = None,
        times: int | None = None,
        delay: float = 0.0,
    ) -> None:
        """Answer ``stage`` with ``reply`` (e.g. ``"450 4.2.1 Mailbox busy"``).

        ``recipient`` limits a RCPT rule to one address (case-insensitive); ``times`` limits how
        often the rule fires (``None``: always); ``delay`` waits that many seconds before
        answering (a slow server: the client may time out after the server acted). With a 2xx
        reply the command takes effect (a DATA is recorded before the delay). Rules are tried
        in the order they were added.
        """
        with self._lock:
            self._rules.append(_Rule(stage, reply, recipient, times, delay))

    def _match(self, stage: Stage, address: str | None) -> _Rule | None:
        with self._lock:
            for rule in self._rules:
                if rule.stage != stage or rule.remaining == 0:
                    continue
                if rule.recipient is not None and (
                    address is None or rule.recipient.lower() != address.lower()
                ):
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                return rule
        return None

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            login = auth_data.login.decode("utf-8", "replace")
            password = auth_data.password.decode("utf-8", "replace")
            if login in self.users and self.users[login] == password:
                return AuthResult(success=True, auth_data=auth_data)
            with self._lock:
                self._failed_logins.append(login)
        # handled=False: aiosmtpd answers 535 itself (handled=True would leave the client hanging)
        return AuthResult(success=False, handled=False)

    def _note(self, stage: Stage, argument: str, reply: str) -> str:
        with self._lock:
            self._attempts.append(Attempt(stage, argument, reply))
        return reply

    def _record(self, message: ReceivedMessage) -> None:
        with self._lock:
            self._messages.append(message)

    # -- what happened ---------------------------------------------------------------------

    @property
    def messages(self) -> list[ReceivedMessage]:
        """Accepted messages, in order."""
        with self._lock:
            return list(self._messages)

    @property
    def attempts(self) -> list[Attempt]:
        """Every MAIL/RCPT/DATA command and the reply given, in order."""
        with self._lock:
            return list(self._attempts)

    @property
    def failed_logins(self) -> list[str]:
        """Logins whose password was refused."""
        with self._lock:
            return list(self._failed_logins)


def self_signed_tls(
    directory: Path, hostname: str = "127.0.0.1"
) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A ``(server_context, client_context)`` pair around a fresh self-signed certificate.

    Needs the ``cryptography`` package (tests ``pytest.importorskip`` it). The certificate is
    valid for ``hostname`` as an IP SAN (or DNS SAN) and written to ``directory``; the client
    context trusts exactly that certificate and checks the host name.
    """
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    try:
        san: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(hostname))
    except ValueError:
        san = x509.DNSName(hostname)
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([san]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / "fake-smtp.crt"
    key_path = directory / "fake-smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_path, key_path)
    client_context = ssl.create_default_context(cafile=str(cert_path))
    return server_context, client_context
