#!/usr/bin/env bash
#
# bench/metrics.sh: the cost of /metrics on the sandbox. Runs
# bench_metrics (bench/bench_metrics.c) on the config: the in-process
# render time over N renders, then the server; scrapes it K times with curl
# in a loop under /usr/bin/time (the client side, curl's own start-up
# included), and reads the server process's CPU time before and after the
# loop (/proc/PID/task/*/schedstat: the server side per scrape, collectors
# included). Prints figures; asserts nothing.
#
#   bench/metrics.sh [-b BINARY] [-c CONFIG] [-k SCRAPES]    (default 200)
#
# BINARY is used for `config check`; bench_metrics is looked up next to it
# (build/plain/bench/bench_metrics). Without -c or $LAMBDAOPS_CONFIG it
# starts the sandbox itself (bench/lib.sh).

set -u
. "$(dirname "$0")/lib.sh"
bench_setup "$@"
set -- "${BENCH_ARGS[@]+"${BENCH_ARGS[@]}"}"
K=200
[ "${1:-}" = -k ] && K=$2
BM=${LO_BENCH_METRICS:-$(dirname "$BIN")/bench/bench_metrics}
[ -x "$BM" ] || bench_die "no bench_metrics at $BM (set LO_BENCH_METRICS)"
command -v curl >/dev/null || bench_die "curl is needed"

echo "# config: $CFG"
: >"$BENCH_TMP/bm.out"
"$BM" -c "$CFG" -n 500 -t 600 >"$BENCH_TMP/bm.out" 2>"$BENCH_TMP/bm.err" &
BMPID=$!
BENCH_PIDS+=("$BMPID")
ADDR=
for _ in $(seq 1 600); do
        ADDR=$(sed -n 's/^LISTEN=//p' "$BENCH_TMP/bm.out")
        [ -n "$ADDR" ] && break
        kill -0 "$BMPID" 2>/dev/null || break
        sleep 0.1
done
[ -n "$ADDR" ] || bench_die "bench_metrics did not start: $(cat "$BENCH_TMP/bm.err")"
grep -v '^LISTEN=' "$BENCH_TMP/bm.out"

cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f\n", s }'; }
URL="http://$ADDR/metrics"
curl -s -o /dev/null "$URL" || bench_die "no answer from $URL"
n0=$(cpu_ns "$BMPID")
/usr/bin/time -f "curl loop: %e s wall, %U s user, %S s system for $K scrapes" \
        bash -c 'for _ in $(seq 1 "$1"); do curl -s -o /dev/null "$2" || exit 1; done' _ "$K" "$URL"
n1=$(cpu_ns "$BMPID")
awk -v a="$n0" -v b="$n1" -v k="$K" 'BEGIN {
        printf "server CPU over the loop: %.1f ms, %.3f ms per scrape (collectors included)\n",
               (b - a) / 1e6, (b - a) / 1e6 / k }'
kill "$BMPID"
wait "$BMPID" 2>/dev/null
grep '^scrapes=' "$BENCH_TMP/bm.out"
