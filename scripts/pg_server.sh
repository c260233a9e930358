#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server for the tests and benchmarks: a fresh cluster in a
# directory of its own, listening only on a Unix socket in that directory (no TCP port), with
# trust authentication for the local `postgres` role. Nothing of the machine's own clusters
# is touched.
#
#   scripts/pg_server.sh start DIR   creates the cluster in DIR (emptied first) and starts it;
#                                    prints the libpq connection string on stdout
#   scripts/pg_server.sh stop DIR    stops it (fast shutdown) and removes DIR
#   scripts/pg_server.sh dsn DIR     prints the connection string again
#
# As root the server runs as the `postgres` user (initdb refuses root); otherwise as the
# caller. The settings favour a test machine: fsync stays on (the crash tests rely on
# durability), but the WAL is small and checkpoints are spread out.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop|dsn DIR" >&2
  exit 2
fi
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ]; then
  echo "pg_server: no PostgreSQL server found (scripts/deps.sh installs postgresql-15)" >&2
  exit 1
fi

as_owner=()
if [ "$(id -u)" -eq 0 ]; then as_owner=(runuser -u postgres --); fi

dsn() { echo "host=$dir/sock dbname=postgres user=postgres"; }

case "$cmd" in
  start)
    rm -rf "$dir"
    mkdir -p "$dir/sock"
    [ ${#as_owner[@]} -eq 0 ] || chown -R postgres: "$dir"
    "${as_owner[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 \
      --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses='' -c unix_socket_directories='$dir/sock' \
          -c max_connections=200 -c shared_buffers=256MB -c max_wal_size=4GB \
          -c checkpoint_timeout=15min -c synchronous_commit=on" start >/dev/null ||
      { cat "$dir/server.log" >&2; exit 1; }
    dsn
    ;;
  stop)
    if [ -d "$dir/data" ]; then
      "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  dsn)
    dsn
    ;;
  *)
    echo "usage: $0 start|stop|dsn DIR" >&2
    exit 2
    ;;
esac
