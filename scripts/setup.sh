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
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
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
