#!/usr/bin/env bash
# bench/run.sh: D (direct to a stub vendor), Y (bare YARP), G0 (KeyBrake, no-op audit) and G (KeyBrake as shipped),
# measured in the same run, interleaved over rounds, with wrk. Prints a Markdown table; JSON in bench/proxy/results.json.
# Options: --rounds N (5) --seconds S (10, throughput) --latency-seconds S (10) --revocations N (40) --out FILE
#          --baseline REV: also build REV (a git worktree in a temp dir, Release) and run its G0 and G as arms G0-base
#          and G-base in the same rounds (D and Y stay the shared reference); adds current/baseline per metric with the
#          rounds' spread as the noise figure (a verdict needs --rounds 3 or more).
#          Gpg (KeyBrake on PostgreSQL, one replica) and Gpg×3 (three replicas of one database, the client's connections
#          spread over them) run in the same rounds on a throwaway PostgreSQL cluster with the server's default
#          durability (tests/postgres/cluster.sh with KEYBRAKE_PG_DURABLE=1), or on KEYBRAKE_BENCH_POSTGRES (an Npgsql
#          connection string of a user who may create databases), followed by the chain's append rate with three
#          writers on the same server (bench/audit --postgres --writers 3); --no-postgres leaves them out.
set -euo pipefail
cd "$(dirname "$0")/.."
args=()
baseline=""
postgres=1
while [ $# -gt 0 ]; do
  case "$1" in
    --no-postgres) postgres=0; shift ;;
    --baseline) baseline="${2:?--baseline needs a revision, e.g. --baseline HEAD~1}"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
if ! command -v wrk >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  else
    echo "bench/run.sh needs wrk: sudo apt-get install wrk" >&2
    exit 1
  fi
fi
dotnet build -c Release bench/proxy --nologo -v quiet
if [ -n "$baseline" ]; then
  sha="$(git rev-parse --verify --quiet "$baseline^{commit}")" || { echo "bench/run.sh: --baseline $baseline is not a commit" >&2; exit 2; }
  tree="$(mktemp -d "${TMPDIR:-/tmp}/keybrake-baseline-XXXXXX")"
  # Only this temporary worktree is removed; nothing else in the repository is touched.
  trap 'git worktree remove --force "$tree" >/dev/null 2>&1 || { rm -rf "$tree"; git worktree prune; }' EXIT
  git worktree add --detach --quiet "$tree" "$sha"
  echo "baseline: $baseline ($(git rev-parse --short "$sha")) in $tree" >&2
  dotnet build -c Release "$tree/bench/proxy" --nologo -v quiet
  args+=(--baseline-dll "$tree/bench/proxy/bin/Release/net10.0/KeyBrake.Bench.dll"
         --baseline-label "$baseline = $(git rev-parse --short "$sha")"
         --current-label "$(git describe --always --dirty --exclude '*')")
fi
cleanup_pg=""
pgconn=""
if [ "$postgres" = 1 ]; then
  if [ -n "${KEYBRAKE_BENCH_POSTGRES:-}" ]; then
    pgconn="$KEYBRAKE_BENCH_POSTGRES"
  else
    eval "$(KEYBRAKE_PG_DURABLE=1 tests/postgres/cluster.sh start)"
    cleanup_pg="$KEYBRAKE_TEST_POSTGRES_DIR"
    pgconn="$KEYBRAKE_TEST_POSTGRES;Database=postgres"
  fi
  args+=(--postgres "$pgconn")
fi
status=0
dotnet bench/proxy/bin/Release/net10.0/KeyBrake.Bench.dll ${args[@]+"${args[@]}"} || status=$?
if [ -n "$pgconn" ] && [ "$status" -eq 0 ]; then
  # SPEC §9: the chain's append rate with three writers (replicas) on one database, on the same server.
  echo "chain append with three writers on PostgreSQL (bench/audit --postgres --writers 3)…" >&2
  dotnet run -c Release --project bench/audit -- --out "${TMPDIR:-/tmp}/keybrake-bench-audit-postgres.json" \
    --postgres "$pgconn" --writers 3 --rounds 3 --append 150000 || status=$?
fi
if [ -n "$cleanup_pg" ]; then tests/postgres/cluster.sh stop "$cleanup_pg"; fi
exit "$status"
