#!/usr/bin/env bash
#
# bench/status.sh: wall time of `lambdaops status --json` against the
# sandbox (target: <= 200 ms). Uses hyperfine when installed,
# otherwise a loop timed with date +%s%N. Prints the figures; asserts
# nothing.
#
#   bench/status.sh [-b BINARY] [-c CONFIG] [-n RUNS]      (default 50 runs)
#
# Without -c or $LAMBDAOPS_CONFIG it starts the sandbox itself (bench/lib.sh).

set -u
. "$(dirname "$0")/lib.sh"
bench_setup "$@"
set -- "${BENCH_ARGS[@]+"${BENCH_ARGS[@]}"}"
RUNS=50
[ "${1:-}" = -n ] && RUNS=$2

echo "# binary: $BIN"
echo "# config: $CFG"
"$BIN" -c "$CFG" status --json >"$BENCH_TMP/one.json" || bench_die "status failed"
python3 -m json.tool "$BENCH_TMP/one.json" >/dev/null || bench_die "status --json is not JSON"
python3 - "$BENCH_TMP/one.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for name, s in d["sources"].items():
    slots = ", ".join(f'{x["name"]}={x["lag_bytes"]}' for x in s.get("slots", []))
    print(f'# {name}: {s["status"]} poll {s["poll_ms"]} ms; slots: {slots}')
PY

if command -v hyperfine >/dev/null 2>&1; then
        hyperfine -N --warmup 3 --runs "$RUNS" "$BIN -c $CFG status --json"
        exit 0
fi

for _ in 1 2 3; do
        "$BIN" -c "$CFG" status --json >/dev/null
done
: >"$BENCH_TMP/ms"
for _ in $(seq 1 "$RUNS"); do
        t0=$(bench_now_ns)
        "$BIN" -c "$CFG" status --json >/dev/null
        t1=$(bench_now_ns)
        us=$(((t1 - t0) / 1000))
        printf '%d.%03d\n' $((us / 1000)) $((us % 1000)) >>"$BENCH_TMP/ms"
done
printf 'status --json wall ms: '
bench_stats <"$BENCH_TMP/ms"
