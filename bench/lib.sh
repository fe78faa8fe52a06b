# shellcheck shell=bash
#
# bench/lib.sh: shared set-up for the benchmark scripts (sourced).
#
# bench_setup ARGS...  parses -b BINARY, -c CONFIG and leaves the rest in
#                      BENCH_ARGS; then finds a config to measure against:
#   1. -c CONFIG, or $LAMBDAOPS_CONFIG when set;
#   2. otherwise the sandbox: scripts/sandbox.sh --no-console, which prints
#      LAMBDAOPS_CONFIG=PATH and keeps PostgreSQL, the write load and the
#      active slot running until it is stopped (we stop it by its PID);
#   3. if there is no sandbox script, a sandbox-shaped PostgreSQL of our own
#      through scripts/pglib.sh: two logical slots (one kept active by
#      pg_recvlogical, one inactive), a publication and ~200 inserts/s.
# Sets BIN, CFG and BENCH_TMP; bench_cleanup (installed as the EXIT trap)
# stops whatever we started, by PID, and removes BENCH_TMP.

BENCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_TMP=$(mktemp -d /tmp/lo-bench.XXXXXX)
BENCH_PIDS=()
BENCH_PG=0
BENCH_ARGS=()

bench_cleanup() {
        local p
        for p in "${BENCH_PIDS[@]}"; do
                kill "$p" 2>/dev/null
        done
        for p in "${BENCH_PIDS[@]}"; do
                # The sandbox cleans up on SIGTERM; give it a moment.
                for _ in $(seq 1 50); do
                        kill -0 "$p" 2>/dev/null || break
                        sleep 0.1
                done
        done
        if [ "$BENCH_PG" = 1 ]; then
                lo_pg_stop "$BENCH_TMP"
        fi
        rm -rf "$BENCH_TMP"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

bench_die() {
        echo "${0##*/}: $*" >&2
        exit 1
}

bench_setup() {
        local cfg_opt=""
        BIN=${LO_BINARY:-}
        while [ $# -gt 0 ]; do
                case $1 in
                -b) BIN=$2; shift 2 ;;
                -c) cfg_opt=$2; shift 2 ;;
                *) BENCH_ARGS+=("$1"); shift ;;
                esac
        done
        if [ -z "$BIN" ]; then
                for BIN in "$BENCH_SRC/build/sandbox/lambdaops" "$BENCH_SRC/build/plain/lambdaops" ""; do
                        [ -x "$BIN" ] && break
                done
        fi
        [ -n "$BIN" ] && [ -x "$BIN" ] || bench_die "no lambdaops binary: pass -b PATH or set LO_BINARY"
        BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")

        if [ -n "$cfg_opt" ]; then
                CFG=$cfg_opt
        elif [ -n "${LAMBDAOPS_CONFIG:-}" ]; then
                CFG=$LAMBDAOPS_CONFIG
        elif [ -x "$BENCH_SRC/scripts/sandbox.sh" ] || [ -f "$BENCH_SRC/scripts/sandbox.sh" ]; then
                bench_sandbox
        else
                bench_own_pg
        fi
        [ -f "$CFG" ] || bench_die "config not found: $CFG"
        "$BIN" -c "$CFG" config check >/dev/null || bench_die "config does not load: $CFG"
}

# Starts scripts/sandbox.sh --no-console and waits for its
# LAMBDAOPS_CONFIG=PATH line (10 min max: the sandbox first builds
# lambdaops into build/, which takes a while on a fresh checkout).
bench_sandbox() {
        local out=$BENCH_TMP/sandbox.out
        echo "# starting scripts/sandbox.sh --no-console (it builds build/ first)" >&2
        bash "$BENCH_SRC/scripts/sandbox.sh" --no-console >"$out" 2>"$BENCH_TMP/sandbox.err" </dev/null &
        BENCH_PIDS+=("$!")
        for _ in $(seq 1 6000); do
                CFG=$(sed -n 's/^LAMBDAOPS_CONFIG=//p' "$out" | head -n 1)
                [ -n "$CFG" ] && break
                kill -0 "${BENCH_PIDS[-1]}" 2>/dev/null || break
                sleep 0.1
        done
        [ -n "$CFG" ] || bench_die "sandbox did not start: $(tail -n 5 "$BENCH_TMP/sandbox.err")"
        echo "# sandbox: scripts/sandbox.sh --no-console (config $CFG)"
        # Let the load build some lag and the active slot connect.
        sleep 2
}

bench_own_pg() {
        local port
        # shellcheck source=../scripts/pglib.sh
        . "$BENCH_SRC/scripts/pglib.sh"
        port=$(lo_pg_start "$BENCH_TMP") || bench_die "could not start PostgreSQL"
        BENCH_PG=1
        lo_pg_setup_cdc "$BENCH_TMP" "$port" || bench_die "CDC set-up failed"
        BENCH_PIDS+=("$(lo_pg_recvlogical "$BENCH_TMP" "$port" debezium_orders)")
        BENCH_PIDS+=("$(lo_pg_load "$BENCH_TMP" "$port" 200)")
        CFG=$BENCH_TMP/lambdaops.yaml
        cat >"$CFG" <<EOF
environment: bench
refresh: 1s
sources:
  - name: orders-db
    kind: postgres
    dsn: "host=127.0.0.1 port=$port dbname=postgres user=postgres"
    interval: 1s
    timeout: 3s
EOF
        echo "# sandbox-shaped PostgreSQL via scripts/pglib.sh on port $port (no scripts/sandbox.sh)"
        sleep 2
}

# Prints "min median mean p95 max" of the numbers on stdin.
bench_stats() {
        sort -n | awk '{ v[NR] = $1; s += $1 }
                END {
                        if (NR == 0) { print "no samples"; exit }
                        p95 = v[int((NR - 1) * 0.95) + 1]
                        med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
                        printf "min %.1f  median %.1f  mean %.1f  p95 %.1f  max %.1f  (n=%d)\n",
                               v[1], med, s / NR, p95, v[NR], NR
                }'
}

bench_now_ns() {
        date +%s%N
}
