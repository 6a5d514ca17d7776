#!/usr/bin/env bash
# The e2e tier drives Debian's chromium through Playwright (never `playwright install`,
# which downloads its own browser). Install it when missing and we are root; otherwise
# say what to install and fail: a tier that cannot run must not pass quietly.
set -euo pipefail

CHROMIUM="${LAPOR_CHROMIUM:-/usr/bin/chromium}"
if [[ -x "$CHROMIUM" ]]; then
  exit 0
fi
if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure_chromium: installing Debian chromium for the e2e tests (about a minute) ..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver
  exit 0
fi
cat >&2 <<MSG
ensure_chromium: the end-to-end tests need Debian's chromium at $CHROMIUM:
    sudo apt-get install chromium chromium-driver
(Do not run \`playwright install\`; the tests use the Debian browser.)
MSG
exit 1
