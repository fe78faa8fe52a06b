#!/usr/bin/env bash
#
# sandbox.sh: runs the real scripts/sandbox.sh --no-console against the
# already-built binary (LO_SANDBOX_BIN=$LO_BINARY skips deps.sh and the
# build; bench_kafka is taken from bench/ next to it) and checks, through
# `lambdaops status --json`, that every service is up and reports what the
# sandbox seeded:
#
#   - one start line per service with its port, the LAMBDAOPS_CONFIG line
#     on stdout, the config loads;
#   - orders-db (postgres): ok, slot debezium_orders active and
#     analytics_stale inactive, publication dbz_publication;
#   - speed-ch (clickhouse): ok, 18.16, query_log on, table
#     default.orders_rt with parts, queries in the 5m latency window, rows
#     being inserted;
#   - events (kafka, the mock cluster): 6 topics; groups speed-layer,
#     bench-g00 and bench-g01, bench-g01 exactly 20 behind (static commits),
#     and, with kcat, bench-g00 further behind and growing, speed-layer
#     caught up;
#   - orders-hourly (reconcile): ok, compared 3, mismatched 1,
#     missing_in_speed 0, missing_in_batch 1, in_flight >= 1, the classes
#     in order, the mismatch on n for the 4h-old bucket, and its warn
#     alerts; `lambdaops check` is not ok;
#   - SIGTERM to the sandbox: it exits within 15 s, every PID it listed is
#     gone, no process mentions its temp dir, the dir is removed.
# Then a second run where ClickHouse cannot start (LO_CH_SERVER=/bin/false)
# and bench_kafka is missing: both are named as failed with a log path,
# the sandbox still comes up with PostgreSQL alone, and cleans up.
#
# Env: LO_BINARY (the lambdaops binary), LO_SOURCE_DIR (the source tree).

set -u

B=${LO_BINARY:?set LO_BINARY to the lambdaops binary}
SRC=${LO_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
T=$(mktemp -d /tmp/lo-test-sandbox.XXXXXX)
fails=0
SB=

for need in clickhouse-server jq curl; do
        if ! command -v "$need" >/dev/null 2>&1; then
                echo "skip: $need is not installed (scripts/deps.sh)"
                exit 0
        fi
done
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
        echo "skip: PostgreSQL server binaries are not installed (scripts/deps.sh)"
        exit 0
fi

cleanup() {
        if [ -n "$SB" ]; then
                kill "$SB" 2>/dev/null
                wait "$SB" 2>/dev/null
        fi
        rm -rf "$T"
}
trap cleanup EXIT
python3 "$SRC/tests/lib/proc_guard.py" --pid $$ --list "$T/.lo-guard" d "$T" r "$T" </dev/null >/dev/null 2>&1  # nothing started here outlives the test, even on SIGKILL

ok()  { printf 'ok   %s\n' "$1"; }
bad() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }
now_ms() { date +%s%3N; }

# Starts the sandbox (extra env as NAME=VALUE args); sets SB, CFG, SBDIR.
start_sandbox() {
        local tag=$1 t0 deadline
        shift
        t0=$(now_ms)
        : >"$T/$tag.out"
        # its own group and its dir, for the guard (a SIGKILLed test runs no trap)
        setsid env LO_SANDBOX_BIN="$B" "$@" bash "$SRC/scripts/sandbox.sh" --no-console \
                >"$T/$tag.out" 2>"$T/$tag.err" </dev/null &
        SB=$!
        deadline=$((t0 + 60000))
        CFG=
        while [ "$(now_ms)" -lt "$deadline" ] && kill -0 "$SB" 2>/dev/null; do
                CFG=$(sed -n 's/^LAMBDAOPS_CONFIG=//p' "$T/$tag.out")
                [ -n "$CFG" ] && break
                sleep 0.05
        done
        if [ -z "$CFG" ]; then
                bad "$tag: no LAMBDAOPS_CONFIG line within 60 s"
                sed 's/^/    | /' "$T/$tag.err"
                return 1
        fi
        ok "$tag: LAMBDAOPS_CONFIG line after $(($(now_ms) - t0)) ms"
        SBDIR=$(dirname "$CFG")
        printf 'g %s\nd %s\n' "$SB" "$SBDIR" >>"$T/.lo-guard"
        cp "$SBDIR/pids" "$T/$tag.pids"
        sed 's/^/    | /' "$T/$tag.err"
        if [ "$(wc -l <"$T/$tag.out")" = 1 ]; then
                ok "$tag: stdout carries only the config line"
        else
                bad "$tag: stdout has more than the config line"
        fi
        if "$B" -c "$CFG" config check >/dev/null 2>"$T/$tag.check"; then
                ok "$tag: the config loads"
        else
                bad "$tag: config check: $(cat "$T/$tag.check")"
        fi
}

# SIGTERM to the sandbox; everything it started must be gone.
stop_sandbox() {
        local tag=$1 t0 name pid st left
        t0=$(now_ms)
        kill -TERM "$SB"
        wait "$SB"
        echo "u $SB" >>"$T/.lo-guard"
        SB=
        ok "$tag: sandbox exited $(($(now_ms) - t0)) ms after SIGTERM"
        left=
        while read -r name pid; do
                for _ in $(seq 1 50); do
                        st=$(ps -o stat= -p "$pid" 2>/dev/null) || break
                        case $st in Z*) break ;; esac
                        sleep 0.1
                done
                st=$(ps -o stat= -p "$pid" 2>/dev/null)
                case $st in '' | Z*) ;; *) left="$left $name($pid)" ;; esac
        done <"$T/$tag.pids"
        if [ -z "$left" ]; then
                ok "$tag: every process it listed is gone ($(wc -l <"$T/$tag.pids") PIDs)"
        else
                bad "$tag: still running:$left"
        fi
        if ps -eo stat=,args= | grep -v '^Z' | grep -F -- "$SBDIR" | grep -vq grep; then
                bad "$tag: a process still mentions $SBDIR"
                ps -eo pid,stat,args | grep -F -- "$SBDIR" | grep -v grep
        else
                ok "$tag: no process mentions $SBDIR"
        fi
        if [ -e "$SBDIR" ]; then bad "$tag: $SBDIR is still there"; else ok "$tag: $SBDIR removed"; fi
}

# Each check: a description and a jq expression on status --json that must
# be true. Polled together until all hold (some need a few seconds: the
# query_log flush, the kcat consumer joining its group), 45 s at most.
CHECKS=()
check() { CHECKS+=("$1" "$2"); }
run_checks() {
        local tag=$1 deadline=$(($(now_ms) + 45000)) i failed
        while :; do
                "$B" -c "$CFG" status --json >"$T/$tag.json" 2>/dev/null
                failed=0
                for ((i = 0; i < ${#CHECKS[@]}; i += 2)); do
                        jq -e "${CHECKS[i + 1]}" "$T/$tag.json" >/dev/null 2>&1 || failed=1
                done
                [ "$failed" = 0 ] && break
                [ "$(now_ms)" -ge "$deadline" ] && break
                sleep 1
        done
        for ((i = 0; i < ${#CHECKS[@]}; i += 2)); do
                if jq -e "${CHECKS[i + 1]}" "$T/$tag.json" >/dev/null 2>&1; then
                        ok "$tag: ${CHECKS[i]}"
                else
                        bad "$tag: ${CHECKS[i]}  (jq: ${CHECKS[i + 1]})"
                fi
        done
        CHECKS=()
}

start_line() {
        if grep -qE "$2" "$T/$1.err"; then ok "$1: start line: $3"; else bad "$1: no start line /$2/"; fi
}

# --- the full sandbox -----------------------------------------------------------

start_sandbox full || exit 1
start_line full '^sandbox: PostgreSQL +127\.0\.0\.1:[0-9]+ ' "PostgreSQL with its port"
start_line full '^sandbox: ClickHouse +127\.0\.0\.1:[0-9]+ ' "ClickHouse with its port"
start_line full '^sandbox: Kafka +127\.0\.0\.1:[0-9]+' "Kafka with its bootstrap"
start_line full '^sandbox: ready in [0-9]+ ms' "start-up time"
KCAT=0
grep -q 'kcat-consumer' "$T/full.pids" && KCAT=1

S='.sources'
check "sources in order: orders-db, events, speed-ch, orders-hourly" \
      "[${S} | keys_unsorted[]] == [\"orders-db\", \"events\", \"speed-ch\", \"orders-hourly\"]"
check "kinds: postgres, kafka, clickhouse, reconcile" \
      "[${S}[] | .kind] == [\"postgres\", \"kafka\", \"clickhouse\", \"reconcile\"]"
check "postgres: ok" "${S}[\"orders-db\"].status == \"ok\""
check "postgres: debezium_orders active" \
      "${S}[\"orders-db\"].slots | map(select(.name == \"debezium_orders\"))[0].active == true"
check "postgres: analytics_stale inactive, lag > 0" \
      "${S}[\"orders-db\"].slots | map(select(.name == \"analytics_stale\"))[0] | .active == false and .lag_bytes > 0"
check "postgres: publication dbz_publication" \
      "${S}[\"orders-db\"].publications | map(.name) | index(\"dbz_publication\") != null"
check "clickhouse: ok, 18.16, query_log on" \
      "${S}[\"speed-ch\"] | .status == \"ok\" and (.version | startswith(\"18.16\")) and .query_log == true"
check "clickhouse: default.orders_rt has parts" \
      "${S}[\"speed-ch\"].tables | map(select(.database == \"default\" and .table == \"orders_rt\"))[0].active_parts >= 1"
check "clickhouse: queries in the 5m latency window, p99 known" \
      "${S}[\"speed-ch\"].latency_ms[\"5m\"] | .count > 0 and .p99 != null"
check "clickhouse: rows being inserted" "${S}[\"speed-ch\"].inserted_rows_per_sec > 0"
check "kafka: answered (degraded: the mock cannot list groups)" \
      "${S}.events.status == \"ok\" or ${S}.events.status == \"degraded\""
check "kafka: 6 topics, 3 brokers" "(${S}.events.topics | length) == 6 and (${S}.events.brokers | length) == 3"
check "kafka: groups speed-layer, bench-g00, bench-g01" \
      "[${S}.events.groups[].name] | sort == [\"bench-g00\", \"bench-g01\", \"speed-layer\"]"
check "kafka: bench-g01 20 behind (static commits)" \
      "${S}.events.groups | map(select(.name == \"bench-g01\"))[0].lag == 20"
if [ "$KCAT" = 1 ]; then
        check "kafka: bench-g00 falling behind (> 20)" \
              "${S}.events.groups | map(select(.name == \"bench-g00\"))[0].lag > 20"
        check "kafka: speed-layer consuming, lag small" \
              "${S}.events.groups | map(select(.name == \"speed-layer\"))[0].lag | . != null and . < 50"
else
        echo "note: no kcat: no live Kafka traffic to check"
fi
R="${S}[\"orders-hourly\"]"
check "reconcile: ok" "$R.status == \"ok\""
check "reconcile: compared 3" "$R.compared == 3"
check "reconcile: mismatched 1" "$R.mismatched == 1"
check "reconcile: missing_in_speed 0" "$R.missing_in_speed == 0"
check "reconcile: missing_in_batch 1" "$R.missing_in_batch == 1"
check "reconcile: in_flight >= 1" "$R.in_flight >= 1"
check "reconcile: classes oldest first: match, mismatch, missing_in_batch, match, in_flight..." \
      "[$R.buckets[].class] | .[0:4] == [\"match\", \"mismatch\", \"missing_in_batch\", \"match\"] and (.[4:] | length >= 1 and all(. == \"in_flight\"))"
check "reconcile: the mismatch is 2 vs 3 events" \
      "$R.buckets[1] | .speed.n == 2 and .batch.n == 3"
check "alerts: reconcile mismatched and missing warn" \
      "[.alerts[] | select(.source == \"orders-hourly\") | .metric] | sort == [\"mismatched\", \"missing\"]"
check "overall is not ok" ".overall != \"ok\""
run_checks full

"$B" -c "$CFG" check >/dev/null 2>&1
rc=$?
if [ "$rc" -ge 1 ]; then ok "full: lambdaops check exits $rc (not ok)"; else bad "full: lambdaops check exits 0"; fi

stop_sandbox full

# --- ClickHouse fails, Kafka missing: the rest still runs --------------------------

start_sandbox degraded LO_CH_SERVER=/bin/false LO_SANDBOX_KAFKA_BIN=/nonexistent/bench_kafka || exit 1
start_line degraded '^sandbox: PostgreSQL +127\.0\.0\.1:[0-9]+ ' "PostgreSQL with its port"
start_line degraded '^sandbox: ClickHouse +FAILED to start: .*\(log /tmp/lambdaops-sandbox\.[^)]*/ch/log\)' \
        "ClickHouse FAILED, with the log path"
start_line degraded '^sandbox: Kafka +FAILED: no bench_kafka at /nonexistent/bench_kafka' "Kafka FAILED, with why"
check "only orders-db, ok" "(${S} | keys) == [\"orders-db\"] and ${S}[\"orders-db\"].status == \"ok\""
run_checks degraded
stop_sandbox degraded

if [ "$fails" -gt 0 ]; then
        echo "$fails check(s) failed"
        exit 1
fi
echo "all checks passed"
