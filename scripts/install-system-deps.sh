#!/usr/bin/env bash
# Debian packages the test suite uses: PostgreSQL 15 for the storage contract suite,
# docker-compose to validate the compose file (no container engine is needed for that),
# Chromium for the dashboard's browser test.
# Installs only what is missing, and only where apt-get can run (root); otherwise it says what
# is missing and the suite runs the SQLite variants alone.
set -euo pipefail

missing=()
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing+=(postgresql)
command -v docker-compose >/dev/null || missing+=(docker-compose)
[ -x /usr/bin/chromium ] || missing+=(chromium)

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "install-system-deps: not root or no apt-get; missing: ${missing[*]} (those tests will skip)"
    exit 0
fi
echo "install-system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
