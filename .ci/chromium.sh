#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests (tests/test_browser.py drives it with Playwright) when
# /usr/bin/chromium is missing.  Idempotent and quiet; needs root (CI runs as root).  Never `playwright install`:
# browser downloads are not reachable from CI, Debian's package is.
set -euo pipefail
# fonts-noto-cjk: Chinese and Japanese text in the screenshots (Arabic is in the default DejaVu fonts).
[ -x /usr/bin/chromium ] && dpkg -s fonts-noto-cjk >/dev/null 2>&1 && exit 0
export DEBIAN_FRONTEND=noninteractive
if ! apt-cache show chromium >/dev/null 2>&1; then
  apt-get update -qq >&2
fi
apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >&2 \
  || { apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >&2; }
/usr/bin/chromium --version >&2
