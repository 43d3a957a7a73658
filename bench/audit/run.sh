#!/usr/bin/env bash
# bench/audit: the audit writer and verifier alone (Release build). Options: --append N --rate R --seconds S --out FILE
set -euo pipefail
cd "$(dirname "$0")/../.."
dotnet run -c Release --project bench/audit -- --out bench/audit/results.json "$@"
