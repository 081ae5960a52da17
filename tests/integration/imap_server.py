"""A throwaway Dovecot IMAP server for integration tests (a helper, not a conftest).

`run_dovecot()` writes a config into a fresh directory (the STACK-NOTES §3 recipe: loopback
only, a free port, plaintext auth, one passwd-file user, maildir owned by the userdb uid),
starts `dovecot -F -c CONF` as a child process, waits until the port accepts connections,
yields a `DovecotServer`, and stops the process by its PID afterwards.

Two server-side actions tests need are real Dovecot operations, run through `doveadm` with
the same config:

- `kick()` — `doveadm kick USER`: the master process signals the user's imap processes, which
  send `* BYE` and close the socket. The client sees a genuine connection drop.
- `set_uidvalidity()` — `doveadm mailbox update --uid-validity N`: rewrites the UIDVALIDITY
  of a folder (in the maildir's `dovecot-uidlist` header and the index). Messages keep their
  files and flags; every client must discard its cached UIDs, which is the case an IMAP client
  has to handle after a server restore or migration.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
DOVEADM_TIMEOUT = 15.0


def find_binary(name: str) -> str | None:
    """Return the path of a Dovecot binary, looked up in PATH and then /usr/sbin, /usr/bin."""
    found = shutil.which(name)
    if found:
        return found
    for folder in ("/usr/sbin", "/usr/bin", "/usr/local/sbin"):
        candidate = Path(folder) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


@dataclass(frozen=True)
class DovecotServer:
    """A running test server and what a test needs to talk to it."""

    host: str
    port: int
    user: str
    password: str
    maildir: Path
    config_path: Path
    doveadm: str
    imaps_port: int | None = None
    ca_file: Path | None = None

    def url(self, folder: str = "INBOX", *, scheme: str = "imap", **params: str) -> str:
        """A URL for this server: `imap://` (plain on loopback, or `starttls="1"`), or
        `scheme="imaps"` for implicit TLS on `imaps_port` (servers started with `tls=True`)."""
        query = f"?{urlencode(params)}" if params else ""
        user = quote(self.user, safe="")
        password = quote(self.password, safe="")
        port = self.imaps_port if scheme == "imaps" else self.port
        return f"{scheme}://{user}:{password}@{self.host}:{port}/{quote(folder)}{query}"

    def run_doveadm(self, *args: str) -> str:
        """Run `doveadm -c CONF ARGS…` against this server and return its stdout."""
        completed = subprocess.run(
            [self.doveadm, "-c", str(self.config_path), *args],
            capture_output=True,
            text=True,
            timeout=DOVEADM_TIMEOUT,
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(
                f"doveadm {' '.join(args)} failed ({completed.returncode}): "
                f"{completed.stderr.strip() or completed.stdout.strip()}"
            )
        return completed.stdout

    def kick(self, timeout: float = 5.0) -> None:
        """Disconnect every IMAP session of the test user, as an administrator would.

        Returns once `doveadm who` no longer lists the user, so the sessions are really gone.
        """
        self.run_doveadm("kick", self.user)
        deadline = time.monotonic() + timeout
        while self.user in self.run_doveadm("who"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.user} still connected {timeout} s after doveadm kick")
            time.sleep(0.01)

    def set_uidvalidity(self, folder: str, uidvalidity: int) -> None:
        """Give `folder` a new UIDVALIDITY (the folder must not be selected by anyone)."""
        self.run_doveadm(
            "mailbox", "update", "-u", self.user, "--uid-validity", str(uidvalidity), folder
        )

    def uidvalidity(self, folder: str) -> int:
        """The folder's current UIDVALIDITY as Dovecot reports it."""
        out = self.run_doveadm(
            "-f", "flow", "mailbox", "status", "-u", self.user, "uidvalidity", folder
        )
        return int(out.strip().split("=", 1)[1])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(host: str, port: int, process: subprocess.Popen[bytes], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return True
        time.sleep(0.05)
    return False


def _make_certificate(base: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (openssl ships with dovecot-core)."""
    openssl = find_binary("openssl")
    if openssl is None:
        raise FileNotFoundError("openssl not found")
    cert, key = base / "cert.pem", base / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-nodes", "-days", "1",
            "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=DOVEADM_TIMEOUT,
    )  # fmt: skip
    return cert, key


def _config(
    base: Path,
    port: int,
    mail_uid: int,
    mail_gid: int,
    capabilities: Sequence[str] | None,
    tls: tuple[Path, Path, int] | None,
) -> str:
    # Run as root (CI, the dev containers): mail processes drop to `nobody`, as Dovecot refuses
    # uid 0 for mail. Run as another user: everything runs as that user, without chroot.
    if os.geteuid() == 0:
        users = chroot = ""
    else:
        chroot = "  chroot =\n"
        name = pwd.getpwuid(os.geteuid()).pw_name
        users = (
            f"default_login_user = {name}\n"
            f"default_internal_user = {name}\n"
            f"default_internal_group = {grp.getgrgid(os.getegid()).gr_name}\n"
        )
    capability_line = (
        f"imap_capability = {' '.join(capabilities)}\n" if capabilities is not None else ""
    )
    if tls is None:
        ssl_lines = "ssl = no\n"
        imaps = "port = 0"
    else:
        cert, key, imaps_port = tls
        ssl_lines = f"ssl = yes\nssl_cert = <{cert}\nssl_key = <{key}\n"
        imaps = f"address = 127.0.0.1\n    port = {imaps_port}"
    return f"""\
protocols = imap
listen = 127.0.0.1
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
{ssl_lines}disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:{base}/mail/%u/Maildir
{users}{capability_line}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/users
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={base}/mail/%u
}}
# Failed logins (tests with a wrong password) must not slow the next ones down.
service anvil {{
{chroot}  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
{chroot}  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    {imaps}
  }}
}}
"""


@contextlib.contextmanager
def run_dovecot(
    *,
    user: str = "billing@example.test",
    password: str = "p@ss%w/rd",
    capabilities: Sequence[str] | None = None,
    tls: bool = False,
) -> Iterator[DovecotServer]:
    """Start a private Dovecot on 127.0.0.1 and stop it (by PID) when the block ends.

    `capabilities`, when given, replaces the post-login capability list (`imap_capability`), so a
    test can meet a server without IDLE or MOVE. `tls=True` adds a self-signed certificate
    (`ca_file`), STARTTLS on `port` and implicit TLS on `imaps_port`.
    """
    dovecot = find_binary("dovecot")
    doveadm = find_binary("doveadm")
    if dovecot is None or doveadm is None:
        raise FileNotFoundError("dovecot/doveadm not found in PATH, /usr/sbin or /usr/bin")

    # Not pytest's tmp_path: its parents are mode 0700, and the mail processes run as `nobody`.
    base = Path(tempfile.mkdtemp(prefix="closeloop-dovecot-"))
    base.chmod(0o755)
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        mail_uid, mail_gid = nobody.pw_uid, nobody.pw_gid
    else:
        mail_uid, mail_gid = os.geteuid(), os.getegid()
    for sub in ("mail", "run", "state"):
        (base / sub).mkdir()
    os.chown(base / "mail", mail_uid, mail_gid)
    (base / "users").write_text(f"{user}:{{PLAIN}}{password}\n", encoding="utf-8")

    process: subprocess.Popen[bytes] | None = None
    try:
        certificate = _make_certificate(base) if tls else None
        for _attempt in range(3):
            port = _free_port()
            imaps_port = _free_port() if certificate else None
            tls_config = (*certificate, imaps_port) if certificate and imaps_port else None
            config_path = base / "dovecot.conf"
            config_path.write_text(
                _config(base, port, mail_uid, mail_gid, capabilities, tls_config),
                encoding="utf-8",
            )
            process = subprocess.Popen(
                [dovecot, "-F", "-c", str(config_path)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            if _wait_for_port("127.0.0.1", port, process, START_TIMEOUT):
                break
            _stop(process)
            process = None
        if process is None:
            log = base / "dovecot.log"
            detail = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
            raise RuntimeError(f"dovecot did not start on 127.0.0.1:\n{detail[-2000:]}")
        yield DovecotServer(
            host="127.0.0.1",
            port=port,
            user=user,
            password=password,
            maildir=base / "mail" / user / "Maildir",
            config_path=config_path,
            doveadm=doveadm,
            imaps_port=imaps_port,
            ca_file=certificate[0] if certificate else None,
        )
    finally:
        if process is not None:
            _stop(process)
        shutil.rmtree(base, ignore_errors=True)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the master by its PID; it takes its child processes down with it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)
    if process.stderr is not None:
        process.stderr.close()
