#!/usr/bin/env bash
# Run a command with a throwaway PostgreSQL server on loopback, its URL in
# CODECNAS_TEST_POSTGRES_URL; the server and its data are removed afterwards.
# Without PostgreSQL binaries (or with the variable already set) the command runs as it is.
set -euo pipefail

if [ -n "${CODECNAS_TEST_POSTGRES_URL:-}" ]; then
    exec "$@"
fi
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bindir" ]; then
    echo "with-postgres: no PostgreSQL binaries; running the SQLite variants only"
    exec "$@"
fi

datadir=$(mktemp -d /tmp/codecnas-pg.XXXXXX)
port=$(( 20000 + RANDOM % 20000 ))
run_as=()
if [ "$(id -u)" -eq 0 ]; then
    # initdb refuses to run as root: the cluster belongs to the postgres user.
    chown postgres "$datadir"
    run_as=(runuser -u postgres --)
fi
"${run_as[@]}" "$bindir/initdb" -D "$datadir" -U postgres --auth=trust -E UTF8 >/dev/null
"${run_as[@]}" "$bindir/pg_ctl" -D "$datadir" -l "$datadir/server.log" -w \
    -o "-p $port -k $datadir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null

stop() {
    "${run_as[@]}" "$bindir/pg_ctl" -D "$datadir" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$datadir"
}
trap stop EXIT

export CODECNAS_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
echo "with-postgres: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on port $port"
"$@"
