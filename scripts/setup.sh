#!/usr/bin/env bash
# Prepare a fresh machine for closeloop: system libraries (apt, only what is missing),
# a virtualenv in .venv, and the pinned dependencies from requirements.lock.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages: WeasyPrint's libraries and fonts, HarfBuzz subsetting (3x faster renders),
# Dovecot for the IMAP integration tests, poppler for looking at PDFs.
PKGS="libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 libfontconfig1 fontconfig fonts-dejavu-core dovecot-imapd poppler-utils"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = "0" ]; then
    echo "setup: installing system packages:$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null
  else
    echo "setup: missing system packages (run as root to install):$missing" >&2
  fi
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  if ! "$PY" -m venv .venv 2>/dev/null; then
    echo "setup: python3 -m venv failed; installing python3-venv"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >/dev/null
    rm -rf .venv && "$PY" -m venv .venv
  fi
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.lock
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e .
touch .venv/.installed
echo "setup: ready ($(.venv/bin/python --version))"
