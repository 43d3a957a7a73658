#!/usr/bin/env bash
# bench/audit: the audit writer and verifier alone (Release build), median of rounds.
# Options: --rounds N (5) --append N (300000) --rate R (10000) --seconds S (5) --out FILE
set -euo pipefail
cd "$(dirname "$0")/../.."
dotnet run -c Release --project bench/audit -- --out bench/audit/results.json "$@"
