#!/usr/bin/env bash
# Headless Chromium for the HTML gallery test (tests/reporting/test_gallery.py), which fails
# without it. Installs Debian's `chromium` when running as root with apt-get; otherwise stops
# with one line naming the command to run.
set -euo pipefail

for name in chromium chromium-browser google-chrome google-chrome-stable; do
  command -v "$name" >/dev/null 2>&1 && exit 0
done

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Chromium is missing (the gallery test needs it): installing Debian's chromium package" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
  exit 0
fi

echo "Chromium is missing (the gallery test needs it); install it with: sudo apt-get install -y chromium" >&2
exit 2
