#!/usr/bin/env bash
# Runs every test: restores the Node 20 vendor clients the end-to-end tests drive, then `dotnet test`.
# Prints a closing "N passed, N failed" line; exits non-zero if anything failed.
set -euo pipefail
cd "$(dirname "$0")"

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "Node.js 20 or newer is required for the vendor client tests (found: $(node --version 2>/dev/null || echo none))." >&2
  exit 1
fi
if [ ! -x /usr/bin/chromium ]; then
  # The dashboard's browser tests drive Debian's Chromium; install it when we can, else say what is missing.
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's chromium for the dashboard browser tests…" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "Debian's chromium (/usr/bin/chromium) is required for the dashboard browser tests: sudo apt-get install chromium chromium-driver" >&2
    exit 1
  fi
fi
if ! command -v sqlite3 >/dev/null 2>&1; then
  # The revocation tests hold the database's write lock from a real second process: Debian's sqlite3 command.
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's sqlite3 for the revocation tests…" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sqlite3 >/dev/null
  else
    echo "The sqlite3 command is required for the revocation tests: sudo apt-get install sqlite3" >&2
    exit 1
  fi
fi
if [ ! -d tests/KeyBrake.EndToEnd.Tests/node/node_modules ] || [ tests/KeyBrake.EndToEnd.Tests/node/package-lock.json -nt tests/KeyBrake.EndToEnd.Tests/node/node_modules ]; then
  (cd tests/KeyBrake.EndToEnd.Tests/node && npm ci --no-audit --no-fund --loglevel=error)
fi

# The PostgreSQL engine's tests and the replica tests need a real server: a throwaway cluster of Debian's postgresql,
# started here on loopback and removed on exit, unless KEYBRAKE_TEST_POSTGRES names a server of your own.
if [ -z "${KEYBRAKE_TEST_POSTGRES:-}" ]; then
  eval "$(tests/postgres/cluster.sh start)"
  trap 'tests/postgres/cluster.sh stop "$KEYBRAKE_TEST_POSTGRES_DIR"' EXIT
fi

log=$(mktemp)
status=0
dotnet test KeyBrake.sln --nologo "$@" 2>&1 | tee "$log" || status=$?
passed=$(grep -oE 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -oE 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
rm -f "$log"
echo "Tests: ${passed} passed, ${failed} failed"
if [ "$status" -eq 0 ] && [ "$failed" -gt 0 ]; then status=1; fi
exit "$status"
