#!/usr/bin/env bash
# Make sure the services the tests use are up. PostgreSQL is started by this kind of machine;
# if it is down (a restarted machine), start the local cluster. Dovecot is started by the
# IMAP tests themselves (tests/integration/imap_server.py).
set -u
if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
    [ -n "$version" ] && pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
  fi
fi
exit 0
