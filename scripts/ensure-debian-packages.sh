#!/usr/bin/env bash
# Install the Debian packages `make test` needs, only those missing: make, redis-server
# (integration tests), postgresql (the PostgreSQL pass: only its programs are used, in a private
# server; the system cluster the package may create is not), chromium (browser tests), gettext
# (compilemessages), python3-venv and tzdata (its zone list, tzdata.zi, tells canonical time
# zones from their aliases).
# Uses sudo when not root; does nothing, and asks nothing, when all are present.
set -euo pipefail

missing=()
command -v make >/dev/null 2>&1 || missing+=(make)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
# Debian keeps initdb and pg_ctl in /usr/lib/postgresql/<version>/bin, off PATH.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null 2>&1 \
  || missing+=(postgresql)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v msgfmt >/dev/null 2>&1 || missing+=(gettext)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
[[ -f /usr/share/zoneinfo/tzdata.zi ]] || missing+=(tzdata)

if ((${#missing[@]} == 0)); then
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "Missing Debian packages: ${missing[*]}. Install them as root (apt-get install ${missing[*]})." >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "Missing packages: ${missing[*]}, and no apt-get to install them with." >&2
  exit 1
fi

echo "Installing Debian packages: ${missing[*]}"
"${sudo[@]}" apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
