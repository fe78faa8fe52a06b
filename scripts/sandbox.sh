#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
#
# sandbox.sh: builds lambdaops and opens the console on a local sandbox of
# the speed/batch pipeline, every service real and on 127.0.0.1 (free
# ports, one temp dir), so every pane has live data:
#
#   PostgreSQL 15   the CDC source: table `orders` under a steady ~200
#                   rows/s insert load (pgbench), publication
#                   `dbz_publication`, slot `debezium_orders` kept active by
#                   pg_recvlogical, slot `analytics_stale` left inactive so
#                   its lag grows. Also the stand-in batch warehouse: view
#                   `marts.orders_hourly` aggregates orders by UTC hour.
#   ClickHouse 18.16  the speed layer's store (scripts/chlib.sh, query_log
#                   on): MergeTree `orders_rt`, fed every second with the
#                   new rows of `orders` (a tiny CDC mirror: psql COPY ->
#                   HTTP INSERT), plus dashboard SELECTs every 2 s (one in
#                   ten slow, one in fifteen failing) so latency, rates,
#                   ingest and parts are live.
#   Kafka           librdkafka's mock cluster (bench_kafka --serve): 3
#                   brokers, 6 topics x 3 partitions, groups bench-g00 and
#                   bench-g01 with static commits at half the log. With kcat
#                   installed, ~10 msg/s go to bench-004 (so bench-g00's lag
#                   grows) and group speed-layer consumes it live.
#   Reconcile       ClickHouse (speed) vs PostgreSQL (batch), hourly
#                   buckets, settle 2h, seeded with history: 5h ago match,
#                   4h mismatch (one event lost in speed), 3h only in speed
#                   (missing_in_batch), 2h match, 1h and the live hour in
#                   flight.
#
# Thresholds are low on purpose: the reconcile check warns at once,
# ClickHouse p99 warns within a minute (the slow SELECTs), bench-g00 turns
# warn in about half a minute and crit in about a minute and a half, analytics_stale warn in
# about a minute and crit in a few. A service that fails to start is named
# with its log and left out of the config; the rest still runs. Everything
# started here is stopped by PID, and the temp dir removed, when the
# console exits or on INT/TERM/HUP.
#
#   scripts/sandbox.sh [LAMBDAOPS ARGS...]    e.g. --view cdc, or status --json
#   scripts/sandbox.sh --no-console           start the services, print
#                                             LAMBDAOPS_CONFIG=<path> on stdout
#                                             and wait until killed (benchmarks)
#   LO_SANDBOX_KEEP=1 scripts/sandbox.sh      same as --no-console
#   LO_SANDBOX_RATE=N                         inserts per second (default 200)
#   LO_SANDBOX_BIN=PATH                       use this lambdaops binary; skip
#                                             deps.sh and the build (tests)
#   LO_SANDBOX_KAFKA_BIN=PATH                 bench_kafka to serve the mock
#                                             cluster (default: next to
#                                             LO_SANDBOX_BIN, in bench/)
#
# Progress goes to stderr; stdout carries only the LAMBDAOPS_CONFIG line (in
# --no-console mode) or the console itself. The PIDs of everything started
# are listed in DIR/pids ("name pid" lines) while the sandbox runs.
set -eu

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NO_CONSOLE=0
if [ "${1:-}" = "--no-console" ]; then
        NO_CONSOLE=1
        shift
fi
[ "${LO_SANDBOX_KEEP:-0}" = 1 ] && NO_CONSOLE=1
RATE=${LO_SANDBOX_RATE:-200}
case $RATE in '' | *[!0-9]*) echo "sandbox: LO_SANDBOX_RATE must be a number" >&2; exit 2 ;; esac

say() { echo "sandbox: $*" >&2; }
now_ms() { date +%s%3N; }
# Why a service failed: the last line of its own log, else of our capture
# of the start function's stderr.
why() {
        local l
        l=$(grep -v '^[[:space:]]*$' "$1" 2>/dev/null | tail -n 1)
        [ -n "$l" ] || l=$(tail -n 1 "$2" 2>/dev/null)
        echo "${l:-no message}"
}

DIR='' WAIT_PID=''
# Helpers started directly by this shell (we wait for them) and by pglib
# inside $(...) (reparented; we only kill them).
HELPERS=()
PG_UP=0 CH_UP=0 KAFKA_PID=

# shellcheck disable=SC2317  # invoked through the EXIT trap
cleanup() {
        local p left
        trap - EXIT INT TERM HUP
        # Best effort from here on: a helper already gone must not stop
        # the rest of the clean-up.
        set +e
        [ -n "$WAIT_PID" ] && kill "$WAIT_PID" 2>/dev/null
        for p in "${HELPERS[@]}"; do
                kill "$p" 2>/dev/null
        done
        if [ -n "$KAFKA_PID" ]; then
                kill "$KAFKA_PID" 2>/dev/null
        fi
        # Give them 3 s (kcat leaving its group can take longer), then
        # SIGKILL what is left; reap our own children.
        for _ in $(seq 1 30); do
                left=
                for p in "${HELPERS[@]}" $KAFKA_PID; do
                        _lo_ch_alive "$p" && left=1
                done
                [ -z "$left" ] && break
                sleep 0.1
        done
        for p in "${HELPERS[@]}" $KAFKA_PID; do
                _lo_ch_alive "$p" && kill -KILL "$p" 2>/dev/null
                wait "$p" 2>/dev/null
        done
        if [ -n "$DIR" ]; then
                lo_ch_stop "$DIR"
                lo_pg_stop "$DIR"
                rm -rf "$DIR"
                say "stopped everything and removed $DIR"
        fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# shellcheck source=pglib.sh
. "$ROOT/scripts/pglib.sh"
# shellcheck source=chlib.sh
. "$ROOT/scripts/chlib.sh"

if [ -n "${LO_SANDBOX_BIN:-}" ]; then
        BIN=$LO_SANDBOX_BIN
        KAFKA_BIN=${LO_SANDBOX_KAFKA_BIN:-$(dirname "$BIN")/bench/bench_kafka}
        [ -x "$BIN" ] || { say "LO_SANDBOX_BIN=$BIN is not an executable"; exit 1; }
else
        if [ -f "$ROOT/scripts/deps.sh" ]; then
                bash "$ROOT/scripts/deps.sh" >&2
        fi
        # pglib picks the newest server binaries; deps.sh may just have
        # installed them.
        LO_PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
        say "building into $ROOT/build/sandbox"
        cmake -S "$ROOT" -B "$ROOT/build/sandbox" >&2
        cmake --build "$ROOT/build/sandbox" -j2 --target lambdaops >&2
        BIN=$ROOT/build/sandbox/lambdaops
        KAFKA_BIN=${LO_SANDBOX_KAFKA_BIN:-$ROOT/build/sandbox/bench/bench_kafka}
        # The mock cluster is a nice-to-have: its build failing must not
        # keep the console from opening.
        cmake --build "$ROOT/build/sandbox" -j2 --target bench_kafka >&2 ||
                say "Kafka: bench_kafka did not build; the sandbox runs without Kafka"
fi

T0=$(now_ms)
DIR=$(mktemp -d /tmp/lambdaops-sandbox.XXXXXX)
chmod 755 "$DIR"
: >"$DIR/pids"
track() { echo "$1 $2" >>"$DIR/pids"; }

# Loops below run in background subshells. Each runs its commands as a
# child it waits for, so a TERM ends the loop and that child at once, and
# each gives up by itself after a day or when this script is gone.
_child=
loop_prologue() {
        set +e
        trap '[ -n "$_child" ] && kill "$_child" 2>/dev/null; exit 0' TERM
}
run() {
        "$@" &
        _child=$!
        wait "$_child"
        local rc=$?
        _child=
        return "$rc"
}
alive() { kill -0 "$$" 2>/dev/null; }

# --- start in parallel: ClickHouse and Kafka in the background, PostgreSQL here

lo_ch_start "$DIR" >"$DIR/ch.port" 2>"$DIR/ch.err" &
CH_JOB=$!

if [ -x "$KAFKA_BIN" ]; then
        # -t 6 -p 3 -g 2: bench-g00 commits on bench-000..004, bench-g01 on
        # bench-005 and bench-000..003, each at half of every partition.
        "$KAFKA_BIN" --serve -t 6 -p 3 -g 2 </dev/null >"$DIR/kafka.bootstrap" 2>"$DIR/kafka.log" &
        KAFKA_PID=$!
        track kafka-mock "$KAFKA_PID"
fi

PG_PORT=
if PG_PORT=$(lo_pg_start "$DIR" 2>"$DIR/pg.err"); then
        PG_UP=1
        track postgres "$(head -n 1 "$DIR/pg/db/postmaster.pid")"
        # History for the reconcile check, in whole UTC hours before the
        # current one (H0): see seed_history below for the speed side.
        H0=$(($(date +%s) / 3600 * 3600))
        ts() { echo "to_timestamp($((H0 - $1 * 3600 + $2 * 60)))"; }
        if lo_pg_setup_cdc "$DIR" "$PG_PORT" &&
                lo_pg_psql "$DIR" "$PG_PORT" \
                        "ALTER SYSTEM SET max_slot_wal_keep_size = '256MB'" \
                        "SELECT pg_reload_conf()" \
                        "INSERT INTO orders (customer, amount, created_at) VALUES
                           (1, 10, $(ts 5 1)), (2, 20, $(ts 5 2)), (3, 30, $(ts 5 3)),
                           (4, 5, $(ts 4 1)), (5, 15, $(ts 4 2)), (6, 25, $(ts 4 3)),
                           (7, 40, $(ts 2 1)), (8, 60, $(ts 2 2)),
                           (9, 1, $(ts 1 1))" \
                        "CREATE SCHEMA marts" \
                        "CREATE VIEW marts.orders_hourly AS
                           SELECT date_trunc('hour', created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket,
                                  count(*) AS n, sum(amount) AS amount
                           FROM orders GROUP BY 1" >/dev/null; then
                PG_SEEDED_ID=$(lo_pg_psql "$DIR" "$PG_PORT" "SELECT max(id) FROM orders")
                # Cap the WAL a slot may hold (above) so safe_wal_size, and
                # lambdaops' projection of when analytics_stale loses its
                # WAL, have something to show.
                RECV_PID=$(lo_pg_recvlogical "$DIR" "$PG_PORT" debezium_orders)
                LOAD_PID=$(lo_pg_load "$DIR" "$PG_PORT" "$RATE")
                HELPERS+=("$RECV_PID" "$LOAD_PID")
                track pg_recvlogical "$RECV_PID"
                track pgbench "$LOAD_PID"
                say "PostgreSQL  127.0.0.1:$PG_PORT  slots debezium_orders (active) + analytics_stale (inactive), ~$RATE rows/s (log $DIR/pg/log)"
        else
                PG_UP=0
                say "PostgreSQL  127.0.0.1:$PG_PORT  FAILED to set up (see the messages above and $DIR/pg/log); left out"
        fi
else
        say "PostgreSQL  FAILED to start: $(why "$DIR/pg/log" "$DIR/pg.err") (log $DIR/pg/log); left out"
fi

# --- ClickHouse: table, history, the feed and the dashboard queries

CH_PORT=
if wait "$CH_JOB" && CH_PORT=$(cat "$DIR/ch.port") && [ -n "$CH_PORT" ]; then
        CH_UP=1
        track clickhouse "$(cat "$DIR/ch/pid")"
else
        say "ClickHouse  FAILED to start: $(why "$DIR/ch/log" "$DIR/ch.err") (log $DIR/ch/log); left out"
fi

ch_url() { echo "http://127.0.0.1:$CH_PORT/?query=$1"; }

# The speed side of the history: the same events as PostgreSQL's except
# 4h ago (the 25.00 event never arrived: mismatch) and 3h ago (two events
# the batch layer does not have: missing_in_batch).
seed_history() {
        local f=$DIR/ch-history.tsv row h m c a
        : >"$f"
        for row in 5:1:1:10 5:2:2:20 5:3:3:30 4:1:4:5 4:2:5:15 3:1:11:7 3:2:12:8 \
                2:1:7:40 2:2:8:60 1:1:9:1; do
                IFS=: read -r h m c a <<<"$row"
                printf '0\t%s\t%s\t%s\n' "$(date -u -d "@$((H0 - h * 3600 + m * 60))" '+%F %T')" "$c" "$a" >>"$f"
        done
        curl -sS -f -m 10 --data-binary @"$f" "$(ch_url 'INSERT%20INTO%20orders_rt%20FORMAT%20TabSeparated')"
}

# Every second: the rows of `orders` not copied yet, into orders_rt. With
# no PostgreSQL, RATE synthetic rows instead.
ch_feed() {
        local last=${PG_SEEDED_ID:-0} f=$DIR/ch-feed.tsv i
        loop_prologue
        for i in $(seq 1 86400); do
                alive || break
                if [ "$PG_UP" = 1 ]; then
                        if run "$LO_PG_BIN/psql" -X -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -Atq \
                                -c "COPY (SELECT id, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), customer, amount FROM orders WHERE id > $last ORDER BY id LIMIT 50000) TO STDOUT" \
                                >"$f" 2>>"$DIR/ch-feed.log" && [ -s "$f" ] &&
                                run curl -sS -f -m 5 -o /dev/null --data-binary @"$f" \
                                        "$(ch_url 'INSERT%20INTO%20orders_rt%20FORMAT%20TabSeparated')" 2>>"$DIR/ch-feed.log"; then
                                last=$(tail -n 1 "$f" | cut -f 1)
                        fi
                else
                        run curl -sS -f -m 5 -o /dev/null --data-binary \
                                "INSERT INTO orders_rt SELECT 0, now(), rand() % 1000, toDecimal64(rand() % 50000, 2) / 100 FROM system.numbers LIMIT $RATE" \
                                "http://127.0.0.1:$CH_PORT/" 2>>"$DIR/ch-feed.log"
                fi
                run sleep 1
        done
}

# Every 2 s a dashboard SELECT; one in ten takes ~0.4 s (an analyst's
# heavy query: ClickHouse's p99 turns warn), one in fifteen fails.
ch_queries() {
        local i q
        loop_prologue
        for i in $(seq 1 43200); do
                alive || break
                if [ $((i % 15)) = 0 ]; then
                        q="SELECT count() FROM orders_rt_archive"
                elif [ $((i % 10)) = 0 ]; then
                        # sleep() runs once per block: keep it on the one-row
                        # outer block so the query stays ~0.4 s as data grows.
                        q="SELECT sleep(0.4), c, top FROM (SELECT count() AS c, max(s) AS top FROM (SELECT customer, sum(amount) AS s FROM orders_rt GROUP BY customer))"
                else
                        q="SELECT toStartOfMinute(ts) AS m, count(), sum(amount) FROM orders_rt WHERE ts >= now() - 600 GROUP BY m ORDER BY m"
                fi
                run curl -s -m 5 -o /dev/null --data-binary "$q" "http://127.0.0.1:$CH_PORT/"
                run sleep 2
        done
}

if [ "$CH_UP" = 1 ]; then
        if lo_ch_query "$DIR" "$CH_PORT" \
                "CREATE TABLE orders_rt (id UInt64, ts DateTime('UTC'), customer UInt32, amount Decimal(12, 2)) ENGINE = MergeTree PARTITION BY toYYYYMMDD(ts) ORDER BY (ts, id)" \
                >/dev/null 2>>"$DIR/ch.err" && { [ "$PG_UP" = 0 ] || seed_history 2>>"$DIR/ch.err"; }; then
                ch_feed &
                HELPERS+=("$!")
                track ch-feed "$!"
                ch_queries &
                HELPERS+=("$!")
                track ch-queries "$!"
                say "ClickHouse  127.0.0.1:$CH_PORT (HTTP)  orders_rt fed every second, SELECTs every 2 s (log $DIR/ch/log)"
        else
                CH_UP=0
                say "ClickHouse  127.0.0.1:$CH_PORT  FAILED to set up: $(tail -n 1 "$DIR/ch.err") (log $DIR/ch/log); left out"
        fi
fi

# --- Kafka: wait for the bootstrap line, then the live producer and consumer

KAFKA_BS=
if [ -n "$KAFKA_PID" ]; then
        for _ in $(seq 1 300); do
                KAFKA_BS=$(head -n 1 "$DIR/kafka.bootstrap" 2>/dev/null || true)
                [ -n "$KAFKA_BS" ] && break
                kill -0 "$KAFKA_PID" 2>/dev/null || break
                sleep 0.05
        done
fi

# ~10 messages/s for kcat -P through a FIFO (one long-lived producer).
kafka_gen() {
        local i
        loop_prologue
        for i in $(seq 1 864000); do
                alive || break
                printf 'order-%d\n' "$i"
                run sleep 0.1
        done
}

KAFKA_LIVE=
if [ -n "$KAFKA_BS" ]; then
        if command -v kcat >/dev/null 2>&1; then
                mkfifo "$DIR/kafka-produce.fifo"
                kafka_gen >"$DIR/kafka-produce.fifo" &
                HELPERS+=("$!")
                track kafka-gen "$!"
                kcat -P -q -b "$KAFKA_BS" -t bench-004 -p -1 <"$DIR/kafka-produce.fifo" \
                        >/dev/null 2>>"$DIR/kcat-producer.log" &
                HELPERS+=("$!")
                track kcat-producer "$!"
                kcat -q -b "$KAFKA_BS" -G speed-layer -X auto.offset.reset=earliest \
                        -X auto.commit.interval.ms=1000 bench-004 \
                        </dev/null >/dev/null 2>>"$DIR/kcat-consumer.log" &
                HELPERS+=("$!")
                track kcat-consumer "$!"
                KAFKA_LIVE=", ~10 msg/s into bench-004, group speed-layer consuming it (kcat)"
        else
                KAFKA_LIVE=" (no kcat: no live traffic; install kcat for it)"
        fi
        say "Kafka       ${KAFKA_BS}  mock, 6 topics x 3 partitions, groups bench-g00/bench-g01 lagging$KAFKA_LIVE (log $DIR/kafka.log)"
elif [ -n "$KAFKA_PID" ]; then
        say "Kafka       FAILED to start the mock cluster: $(why "$DIR/kafka.log" /dev/null) (log $DIR/kafka.log); left out"
        kill "$KAFKA_PID" 2>/dev/null
        wait "$KAFKA_PID" 2>/dev/null
        KAFKA_PID=
else
        say "Kafka       FAILED: no bench_kafka at $KAFKA_BIN (build target bench_kafka); left out"
fi

# --- the config: one source per service that runs

CFG=$DIR/lambdaops.yaml
{
        cat <<EOF
# Written by scripts/sandbox.sh; removed when the sandbox stops.
environment: sandbox
refresh: 1s
sources:
EOF
        if [ "$PG_UP" = 1 ]; then
                cat <<EOF
  - name: orders-db
    kind: postgres
    dsn: "host=127.0.0.1 port=$PG_PORT dbname=postgres user=postgres"
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
        fi
        if [ -n "$KAFKA_BS" ]; then
                cat <<EOF
  - name: events
    kind: kafka
    bootstrap: "$KAFKA_BS"
    interval: 2s
    timeout: 3s
    # The mock cluster cannot list groups: name them.
    groups: [speed-layer, bench-g00, bench-g01]
    thresholds:
      # bench-g00 starts 20 behind and falls ~10 msg/s further behind:
      # warn in about half a minute, crit in about a minute and a half.
      group_lag: {warn: 300, crit: 1000}
      group_lag_seconds: {warn: 30, crit: 300}
EOF
        fi
        if [ "$CH_UP" = 1 ]; then
                cat <<EOF
  - name: speed-ch
    kind: clickhouse
    url: "http://127.0.0.1:$CH_PORT"
    interval: 2s
    timeout: 2s
    thresholds:
      # One SELECT in ten sleeps 0.4 s: p99 crosses warn within a minute.
      latency_p99_ms: {warn: 250ms, crit: 2s}
      latency_p95_ms: {warn: 250ms, crit: 2s}
EOF
        fi
        if [ "$PG_UP" = 1 ] && [ "$CH_UP" = 1 ]; then
                cat <<EOF
  - name: orders-hourly
    kind: reconcile
    interval: 10s
    timeout: 10s
    speed: {source: speed-ch, query: "SELECT toStartOfHour(ts) AS bucket, count() AS n, sum(amount) AS amount FROM orders_rt WHERE ts >= now() - INTERVAL 1 DAY GROUP BY bucket"}
    batch: {source: orders-db, query: "SELECT bucket, n, amount FROM marts.orders_hourly WHERE bucket >= now() - interval '1 day'"}
    key: [bucket]
    measures: [n, amount]
    tolerance: {n: 0, amount: 0.5%}
    # Seeded: 4h ago one event short in speed (mismatch), 3h ago only in
    # speed (missing_in_batch); the last two hours are in flight.
    settle: 2h
    thresholds:
      mismatched: {warn: 1, crit: 2}
      missing: {warn: 1, crit: 3}
EOF
        fi
} >"$CFG"

say "ready in $(($(now_ms) - T0)) ms; config $CFG, PIDs in $DIR/pids"

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
"$BIN" -c "$CFG" "$@"
rc=$?
exit "$rc"
