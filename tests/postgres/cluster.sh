#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: Debian's postgresql, initdb'd as an unprivileged user into a temporary
# directory, listening on 127.0.0.1 only (and a socket in that directory), password (SCRAM) authentication.
#   tests/postgres/cluster.sh start   → prints `export KEYBRAKE_TEST_POSTGRES=…` and `export KEYBRAKE_TEST_POSTGRES_DIR=…`
#   tests/postgres/cluster.sh stop DIR    → stops the server and removes the cluster
#   tests/postgres/cluster.sh down DIR    → stops the server, keeps the cluster (a database outage, for fault tests)
#   tests/postgres/cluster.sh up DIR      → starts it again on the same port
# Durability is switched off (fsync, synchronous_commit) unless KEYBRAKE_PG_DURABLE=1: the tests check KeyBrake's
# behaviour, not the disk's.
set -euo pipefail

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "Installing Debian's postgresql for the storage tests…" >&2
      apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
      dir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    else
      echo "Debian's postgresql is required for the PostgreSQL tests: sudo apt-get install postgresql (or set KEYBRAKE_TEST_POSTGRES to a server of your own)" >&2
      exit 1
    fi
  fi
  echo "$dir"
}

# initdb refuses to run as root: as root, the cluster belongs to a system user made for it.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    id -u keybrake-pg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin keybrake-pg
    runuser -u keybrake-pg -- "$@"
  else
    "$@"
  fi
}

case "${1:-}" in
  start)
    bin=$(pg_bin)
    dir=$(mktemp -d /tmp/keybrake-pg.XXXXXX)
    chmod 0755 "$dir"
    password=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
    printf '%s\n' "$password" > "$dir/pwfile"
    if [ "$(id -u)" -eq 0 ]; then
      id -u keybrake-pg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin keybrake-pg
      chown -R keybrake-pg "$dir"
    fi
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=scram-sha-256 --pwfile="$dir/pwfile" -E UTF8 --locale=C >"$dir/initdb.log" 2>&1
    rm -f "$dir/pwfile"
    port=""
    for candidate in $(seq 55432 55531); do
      if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then port=$candidate; break; fi
    done
    [ -n "$port" ] || { echo "no free port for the test cluster" >&2; exit 1; }
    durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    # KEYBRAKE_PG_DURABLE=1 (bench/run.sh): the server's own defaults, every commit flushed, as in production.
    if [ "${KEYBRAKE_PG_DURABLE:-0}" = "1" ]; then durability=""; fi
    echo "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=400 -c shared_buffers=128MB $durability" > "$dir/options"
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start -o "$(cat "$dir/options")" >&2
    echo "export KEYBRAKE_TEST_POSTGRES='Host=127.0.0.1;Port=$port;Username=postgres;Password=$password'"
    echo "export KEYBRAKE_TEST_POSTGRES_DIR='$dir'"
    echo "export KEYBRAKE_TEST_POSTGRES_BIN='$bin'"
    ;;
  down)
    dir=${2:?usage: cluster.sh down DIR}
    as_owner "$(pg_bin)/pg_ctl" -D "$dir/data" -m immediate -w stop >&2
    ;;
  up)
    dir=${2:?usage: cluster.sh up DIR}
    as_owner "$(pg_bin)/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start -o "$(cat "$dir/options")" >&2
    ;;
  stop)
    dir=${2:?usage: cluster.sh stop DIR}
    bin=$(pg_bin)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start | stop DIR | down DIR | up DIR" >&2
    exit 2
    ;;
esac
