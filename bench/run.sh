#!/usr/bin/env bash
# bench/run.sh: D (direct to a stub vendor), Y (bare YARP), G0 (KeyBrake, no-op audit) and G (KeyBrake as shipped),
# measured in the same run, interleaved over rounds, with wrk. Prints a Markdown table; JSON in bench/proxy/results.json.
# Options: --rounds N (5) --seconds S (10, throughput) --latency-seconds S (10) --revocations N (40) --out FILE
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  else
    echo "bench/run.sh needs wrk: sudo apt-get install wrk" >&2
    exit 1
  fi
fi
dotnet build -c Release bench/proxy --nologo -v quiet
dotnet bench/proxy/bin/Release/net10.0/KeyBrake.Bench.dll "$@"
