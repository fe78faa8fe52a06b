#!/usr/bin/env bash
#
# sandbox.sh: builds lambdaops and opens the console on a local sandbox:
# a real PostgreSQL on 127.0.0.1 (free port, temp dir, wal_level=logical),
# table `orders` under a steady ~200 rows/s insert load, publication
# `dbz_publication`, slot `debezium_orders` kept active by pg_recvlogical
# and slot `analytics_stale` left inactive so its lag grows. Thresholds are
# low on purpose: analytics_stale turns warn in about a minute and crit in a
# few. Everything started here is stopped by PID, and the temp dir removed,
# when the console exits or on INT/TERM/HUP.
#
#   scripts/sandbox.sh [LAMBDAOPS ARGS...]    e.g. --view cdc, or status --json
#   scripts/sandbox.sh --no-console           start the services, print
#                                             LAMBDAOPS_CONFIG=<path> on stdout
#                                             and wait until killed (benchmarks)
#   LO_SANDBOX_KEEP=1 scripts/sandbox.sh      same as --no-console
#   LO_SANDBOX_RATE=N                         inserts per second (default 200)
#
# Progress goes to stderr; stdout carries only the LAMBDAOPS_CONFIG line (in
# --no-console mode) or the console itself.
set -eu

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NO_CONSOLE=0
if [ "${1:-}" = "--no-console" ]; then
        NO_CONSOLE=1
        shift
fi
[ "${LO_SANDBOX_KEEP:-0}" = 1 ] && NO_CONSOLE=1
RATE=${LO_SANDBOX_RATE:-200}

say() { echo "sandbox: $*" >&2; }

DIR= LOAD_PID= RECV_PID= WAIT_PID=
cleanup() {
        trap - EXIT INT TERM HUP
        [ -n "$WAIT_PID" ] && kill "$WAIT_PID" 2>/dev/null
        [ -n "$LOAD_PID" ] && kill "$LOAD_PID" 2>/dev/null
        [ -n "$RECV_PID" ] && kill "$RECV_PID" 2>/dev/null
        if [ -n "$DIR" ]; then
                lo_pg_stop "$DIR"
                rm -rf "$DIR"
                say "stopped PostgreSQL and removed $DIR"
        fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# shellcheck source=pglib.sh
. "$ROOT/scripts/pglib.sh"

if [ -f "$ROOT/scripts/deps.sh" ]; then
        bash "$ROOT/scripts/deps.sh" >&2
fi
# pglib picks the newest server binaries; deps.sh may just have installed them.
LO_PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

say "building into $ROOT/build/sandbox"
cmake -S "$ROOT" -B "$ROOT/build/sandbox" >&2
cmake --build "$ROOT/build/sandbox" -j2 --target lambdaops >&2

DIR=$(mktemp -d /tmp/lambdaops-sandbox.XXXXXX)
PORT=$(lo_pg_start "$DIR")
lo_pg_setup_cdc "$DIR" "$PORT"
# Cap the WAL a slot may hold so safe_wal_size (and lambdaops' projection
# of when analytics_stale loses its WAL) has something to show.
lo_pg_psql "$DIR" "$PORT" "ALTER SYSTEM SET max_slot_wal_keep_size = '256MB'" \
        "SELECT pg_reload_conf()" >/dev/null
RECV_PID=$(lo_pg_recvlogical "$DIR" "$PORT" debezium_orders)
LOAD_PID=$(lo_pg_load "$DIR" "$PORT" "$RATE")

CFG=$DIR/lambdaops.yaml
cat >"$CFG" <<EOF
# Written by scripts/sandbox.sh; removed when the sandbox stops.
environment: sandbox
refresh: 1s
sources:
  - name: orders-db
    kind: postgres
    dsn: "host=127.0.0.1 port=$PORT dbname=postgres user=postgres"
    interval: 1s
    timeout: 2s
    thresholds:
      # Low on purpose: at ~$RATE rows/s the inactive slot analytics_stale
      # crosses warn in about a minute and crit in a few.
      slot_lag_bytes: {warn: 4MiB, crit: 16MiB}
      retained_bytes: {warn: 8MiB, crit: 64MiB}
      slot_inactive_ms: {warn: 1m, crit: 4m}
      sender_lag_ms: {warn: 5s, crit: 30s}
EOF

say "PostgreSQL on 127.0.0.1:$PORT in $DIR (log $DIR/pg/log)"
say "slots debezium_orders (active, pg_recvlogical pid $RECV_PID) and analytics_stale (inactive);" \
    "load ~$RATE rows/s into orders (pgbench pid $LOAD_PID)"

if [ "$NO_CONSOLE" = 1 ]; then
        echo "LAMBDAOPS_CONFIG=$CFG"
        say "running until killed (Ctrl-C or kill $$)"
        # `wait` lets the traps run as soon as a signal arrives.
        sleep infinity &
        WAIT_PID=$!
        wait "$WAIT_PID" || true
        exit 0
fi

set +e
"$ROOT/build/sandbox/lambdaops" -c "$CFG" "$@"
rc=$?
exit "$rc"
