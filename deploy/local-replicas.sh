#!/usr/bin/env bash
# Two KeyBrake replicas on a local PostgreSQL, in the foreground, until Ctrl-C (SPEC §9). For trying replicas on one
# machine, not for production (see README "Scaling out"):
#   - a throwaway PostgreSQL cluster (Debian's postgresql; tests/postgres/cluster.sh: initdb as an unprivileged user,
#     loopback only, removed on exit), or your own server: KEYBRAKE_PG='Host=…;Database=…;Username=…;Password=…'
#   - one checkpoint signing key for both replicas (what Key Vault holds in production), made here
#   - replica 1: proxy http://127.0.0.1:8080, admin http://127.0.0.1:8081; replica 2: proxy :8090, admin :8091
#   - the admin token: $KEYBRAKE_ADMIN_TOKEN if set, else a new one, printed once
# Vendor secrets come from the environment as usual (e.g. KeyBrake__Secrets__Local__stripe-api-key=sk_test_…).
set -euo pipefail
cd "$(dirname "$0")/.."

dotnet build src/KeyBrake -c Release --nologo -v quiet
work=$(mktemp -d "${TMPDIR:-/tmp}/keybrake-replicas.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "${KEYBRAKE_TEST_POSTGRES_DIR:-}" ]; then tests/postgres/cluster.sh stop "$KEYBRAKE_TEST_POSTGRES_DIR"; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -n "${KEYBRAKE_PG:-}" ]; then
  connection="$KEYBRAKE_PG"
else
  eval "$(tests/postgres/cluster.sh start)"
  connection="$KEYBRAKE_TEST_POSTGRES;Database=postgres"
fi
signing_key=$(openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null)
token=${KEYBRAKE_ADMIN_TOKEN:-kba_$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')}

for n in 1 2; do
  proxy=$((8070 + 10 * n)); admin=$((proxy + 1))
  mkdir -p "$work/replica-$n"
  # env: a variable whose name has a '-' (the secret's name) cannot be set by a shell assignment.
  env KeyBrake__Storage__Provider=Postgres \
    "KeyBrake__Storage__Postgres__ConnectionString=$connection" \
    "KeyBrake__Secrets__Local__audit-signing-key=$signing_key" \
    "KeyBrake__Admin__BootstrapToken=$token" \
    "KeyBrake__DataDirectory=$work/replica-$n/data" \
    "Kestrel__Endpoints__Proxy__Url=http://127.0.0.1:$proxy" \
    "Kestrel__Endpoints__Admin__Url=http://127.0.0.1:$admin" \
    dotnet src/KeyBrake/bin/Release/net10.0/KeyBrake.dll --contentRoot "$PWD" > "$work/replica-$n.log" 2>&1 &
  pids+=($!)
done
for n in 1 2; do
  admin=$((8071 + 10 * n))
  for _ in $(seq 1 120); do
    curl -fsS "http://127.0.0.1:$admin/readyz" >/dev/null 2>&1 && break
    kill -0 "${pids[$((n - 1))]}" 2>/dev/null || { cat "$work/replica-$n.log" >&2; exit 1; }
    sleep 0.5
  done
done
cat <<INFO
Two KeyBrake replicas share one PostgreSQL database:
  replica 1: proxy http://127.0.0.1:8080  admin http://127.0.0.1:8081
  replica 2: proxy http://127.0.0.1:8090  admin http://127.0.0.1:8091
  admin token: $token
  logs: $work/replica-1.log, $work/replica-2.log
Ctrl-C stops both (and the throwaway database).
INFO
wait -n "${pids[@]}"
