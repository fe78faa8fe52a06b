#!/usr/bin/env bash
#
# bench/bench_clickhouse.sh: one ClickHouse collector poll against a seeded
# ClickHouse 18.16 (Debian's clickhouse-server) on a free loopback port.
# Prints figures; asserts nothing.
#
#   bench/bench_clickhouse.sh [-B BUILD_DIR] [-n POLLS] [-q QUERIES] [-T TABLES]
#
# Seeds TABLES MergeTree tables (default 50) with 20 parts each (merges
# stopped), runs QUERIES quick queries (default 20000, over the native
# protocol with clickhouse-client) so the windows the collector aggregates
# hold that many rows, flushes the logs, and then runs
# BUILD_DIR/bench/bench_clickhouse (default build dir: ./build/plain or
# $LO_BUILD_DIR). The server runs as the clickhouse user in a temp dir and
# is stopped by its PID.

set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${LO_BUILD_DIR:-$SRC/build/plain}
POLLS=50
QUERIES=20000
TABLES=50
while getopts B:n:q:T: o; do
        case $o in
        B) BUILD=$OPTARG ;;
        n) POLLS=$OPTARG ;;
        q) QUERIES=$OPTARG ;;
        T) TABLES=$OPTARG ;;
        *) exit 64 ;;
        esac
done
BENCH=$BUILD/bench/bench_clickhouse
[ -x "$BENCH" ] || { echo "${0##*/}: no $BENCH (build it, or pass -B)" >&2; exit 1; }
command -v clickhouse-server >/dev/null || { echo "${0##*/}: clickhouse-server missing (scripts/deps.sh)" >&2; exit 1; }

D=$(mktemp -d /tmp/lo-bench-ch.XXXXXX)
chmod 755 "$D"
mkdir -p "$D/data/tmp" "$D/data/user_files" "$D/data/format_schemas"
[ "$(id -u)" = 0 ] && chown -R clickhouse: "$D/data"
PID=
cleanup() {
        if [ -n "$PID" ]; then
                kill "$PID" 2>/dev/null
                wait "$PID" 2>/dev/null
        fi
        rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
HTTP=$(port)
TCP=$(port)
cat >"$D/config.xml" <<XML
<yandex>
  <logger><console>1</console><level>warning</level></logger>
  <mark_cache_size>268435456</mark_cache_size>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$HTTP</http_port>
  <tcp_port>$TCP</tcp_port>
  <path>$D/data/</path>
  <tmp_path>$D/data/tmp/</tmp_path>
  <user_files_path>$D/data/user_files/</user_files_path>
  <format_schema_path>$D/data/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <query_log><database>system</database><table>query_log</table>
    <flush_interval_milliseconds>1000</flush_interval_milliseconds></query_log>
</yandex>
XML
cat >"$D/users.xml" <<XML
<yandex>
  <profiles><default><log_queries>1</log_queries></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
XML
if [ "$(id -u)" = 0 ]; then
        setpriv --reuid=clickhouse --regid=clickhouse --init-groups \
                /usr/sbin/clickhouse-server --config-file="$D/config.xml" >"$D/server.log" 2>&1 &
else
        /usr/sbin/clickhouse-server --config-file="$D/config.xml" >"$D/server.log" 2>&1 &
fi
PID=$!
URL=http://127.0.0.1:$HTTP
for _ in $(seq 1 300); do
        curl -sf "$URL/ping" >/dev/null 2>&1 && break
        sleep 0.05
done
curl -sf "$URL/ping" >/dev/null || { echo "server did not start:" >&2; cat "$D/server.log" >&2; exit 1; }
q() { curl -sS --data-binary "$1" "$URL/?query_id=lambdaops-seed-$RANDOM$RANDOM" >/dev/null; }

t0=$(date +%s%N)
# Tables first: SYSTEM STOP MERGES holds for the tables that exist.
for t in $(seq 1 "$TABLES"); do
        echo "CREATE TABLE t$t (d Date, k UInt64, v Float64) ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY k;"
done >"$D/tables.sql"
clickhouse-client --port "$TCP" --multiquery <"$D/tables.sql" >/dev/null
q "SYSTEM STOP MERGES"
awk -v n="$TABLES" 'BEGIN { for (t = 1; t <= n; t++) for (p = 1; p <= 20; p++)
        printf "INSERT INTO t%d SELECT toDate(\x272026-11-01\x27) + %d, number, number / 3 FROM numbers(1000);\n", t, p % 2 * 31 }' \
        >"$D/inserts.sql"
clickhouse-client --port "$TCP" --multiquery <"$D/inserts.sql" >/dev/null
awk -v n="$QUERIES" 'BEGIN { for (i = 0; i < n; i++) printf "SELECT %d FORMAT Null;\n", i % 97 }' \
        >"$D/queries.sql"
clickhouse-client --port "$TCP" --multiquery <"$D/queries.sql" >/dev/null
q "SYSTEM FLUSH LOGS"
t1=$(date +%s%N)
echo "# ClickHouse $(curl -s --data-binary 'SELECT version()' "$URL/") at $URL, seeded in $(((t1 - t0) / 1000000)) ms:"
echo "#   $TABLES tables x 20 parts, $QUERIES queries + seeding in query_log ($(curl -s --data-binary 'SELECT count() FROM system.query_log' "$URL/") rows)"
"$BENCH" -u "$URL" -n "$POLLS"
