#!/usr/bin/env bash
# bench/audit: the audit writer and verifier alone (Release build), median of rounds.
# Options: --rounds N (5) --append N (300000) --rate R (10000) --seconds S (5) --out FILE
#          --postgres CONNSTRING [--writers N (3)]: the chain on PostgreSQL, N writers (replicas) on one database
set -euo pipefail
cd "$(dirname "$0")/../.."
dotnet run -c Release --project bench/audit -- --out bench/audit/results.json "$@"
