#!/usr/bin/env bash
#
# tui_clickhouse.sh: drives the real console's ClickHouse pane in tmux
# against a real ClickHouse 18.16 (Debian's clickhouse-server, started here
# on free loopback ports in a temp dir, as the clickhouse user, stopped by
# its PID) and reads the screen with capture-pane.
#
# Seed: table it.events with 8 parts in partition 202611 and 3 in 202610
# (merges stopped), queries of known lengths (the slowest carries a URL
# with a password in a string literal), one failing query. Then
# `--view clickhouse`:
#   - the source block: version, latency header, the 1m/5m/15m lines with
#     the query count, rates line with failed/s and the parts limit;
#   - the table: it.events with 11 parts and 8/150, the slow queries with
#     the password masked (and nowhere on screen);
#   - `s` shows slow queries only, then tables only; Enter on the slowest
#     query opens its page with the duration and the masked text;
#   - the server killed: the block says down with "connection refused";
#     started again: back to ClickHouse 18.16.1;
#   - `q` exits 0.
# The pane is printed so CI logs show what a person sees. Waits poll
# capture-pane against a deadline.
#
# Env: LO_BINARY (the lambdaops binary), LO_SOURCE_DIR (the source tree).

set -u

B=${LO_BINARY:?set LO_BINARY to the lambdaops binary}
T=$(mktemp -d /tmp/lo-tui-ch.XXXXXX)
chmod 755 "$T"
SOCK="lo-tui-ch-$$"
TM=(tmux -L "$SOCK" -f "$T/tmux.conf")
fails=0
CH_PID=

if ! command -v clickhouse-server >/dev/null 2>&1; then
        echo "skip: clickhouse-server is not installed (scripts/deps.sh)"
        exit 0
fi

ch_stop() {
        if [ -n "$CH_PID" ]; then
                kill "${1:--TERM}" "$CH_PID" 2>/dev/null
                wait "$CH_PID" 2>/dev/null
                CH_PID=
        fi
}
cleanup() {
        "${TM[@]}" kill-server 2>/dev/null
        ch_stop
        rm -rf "$T"
}
trap cleanup EXIT

. "$(dirname "$0")/../lib/helpers.sh"
lo_guard "$T"     # what this test starts does not outlive it, even on SIGKILL

# --- ClickHouse ----------------------------------------------------------------

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
HTTP=$(port)
TCP=$(port)
mkdir -p "$T/data/tmp" "$T/data/user_files" "$T/data/format_schemas"
[ "$(id -u)" = 0 ] && chown -R clickhouse: "$T/data"
cat >"$T/config.xml" <<XML
<yandex>
  <logger><console>1</console><level>warning</level></logger>
  <mark_cache_size>268435456</mark_cache_size>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$HTTP</http_port>
  <tcp_port>$TCP</tcp_port>
  <path>$T/data/</path>
  <tmp_path>$T/data/tmp/</tmp_path>
  <user_files_path>$T/data/user_files/</user_files_path>
  <format_schema_path>$T/data/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <query_log><database>system</database><table>query_log</table>
    <flush_interval_milliseconds>1000</flush_interval_milliseconds></query_log>
</yandex>
XML
cat >"$T/users.xml" <<XML
<yandex>
  <profiles><default><log_queries>1</log_queries></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
XML
URL=http://127.0.0.1:$HTTP

ch_start() {
        if [ "$(id -u)" = 0 ]; then
                setpriv --reuid=clickhouse --regid=clickhouse --init-groups \
                        /usr/sbin/clickhouse-server --config-file="$T/config.xml" >>"$T/server.log" 2>&1 &
        else
                /usr/sbin/clickhouse-server --config-file="$T/config.xml" >>"$T/server.log" 2>&1 &
        fi
        CH_PID=$!
        local deadline=$(($(now_ms) + 30000))
        until curl -sf "$URL/ping" >/dev/null 2>&1; do
                [ "$(now_ms)" -ge "$deadline" ] && return 1
                sleep 0.05
        done
}
q() { curl -sS --data-binary "$1" "$URL/?query_id=${2:-lambdaops-seed-$RANDOM$RANDOM}" >/dev/null; }

ch_start || { bad "ClickHouse did not start"; cat "$T/server.log"; exit 1; }
ok "ClickHouse 18.16 started on $URL"
q "CREATE DATABASE it"
q "CREATE TABLE it.events (d Date, k UInt32) ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY k"
q "SYSTEM STOP MERGES"
for i in 1 2 3 4 5 6 7 8; do q "INSERT INTO it.events VALUES ('2026-11-0$i', $i)"; done
for i in 1 2 3; do q "INSERT INTO it.events VALUES ('2026-10-1$i', $i)"; done
for ms in 10 20 40 80; do q "SELECT sleep($ms / 1000)" "tui-$ms"; done
q "SELECT sleep(0.25), 'https://loader:Hunter2-Pw@files.example.com/x.csv' AS u" tui-secret
curl -s --data-binary "SELECT nosuchfunction(1)" "$URL/?query_id=tui-fail" >/dev/null
q "SYSTEM FLUSH LOGS"

cat >"$T/cfg.yaml" <<EOF
environment: tui-ch
refresh: 1s
sources:
  - name: speed-ch
    kind: clickhouse
    url: $URL
    interval: 1s
    timeout: 2s
EOF
printf 'set -g default-terminal screen\nset -g status off\n' >"$T/tmux.conf"
cat >"$T/run.sh" <<EOF
#!/bin/sh
"$B" "\$@"
echo \$? >"$T/rc"
echo "lambdaops exited"
exec sleep 600
EOF

"${TM[@]}" new-session -d -s main -x 150 -y 45 \
        "env LANG=C.UTF-8 LC_ALL=C.UTF-8 sh $T/run.sh -c $T/cfg.yaml --view clickhouse"

wait_for main "tab bar has the ClickHouse pane" 'ClickHouse'
wait_for main "source block: version" '^ speed-ch +age [0-9]+s +ClickHouse 18\.16\.1 +up '
wait_for main "latency header" 'latency +p50 +p95 +p99 +queries'
wait_for main "1m window counts the 5 queries" '^ +1m +[0-9.]+m?s +[0-9.]+m?s +[0-9.]+m?s +5$'
wait_for main "15m window" '^ +15m +[0-9.]+m?s'
wait_for main "rates line with failed/s and the parts limit" 'q/s .* failed/s .*ingest .*rows/s .*parts limit 150'
wait_for main "table row: it.events, 11 parts, 8/150" 'table +it\.events +11 +8/150'
wait_for main "slow query masked" "sleep\(0\.25\), 'https://loader:\*\*\*@files\.example\.com"
if grep -q 'Hunter2' "$T/screen"; then bad "the password is on screen"; else ok "the password is nowhere on screen"; fi
screen main >"$T/pane.txt"
echo "---- ClickHouse pane (capture-pane) ----"
sed 's/[[:space:]]*$//' "$T/pane.txt"
echo "----------------------------------------"

keys main s s s s
wait_for main "s: slow queries only" 'showing slow queries only'
keys main g Enter
wait_for main "Enter opens the slowest query" '^Slow query +on speed-ch'
wait_for main "query page: duration" 'duration +(2[5-9][0-9]|[3-9][0-9]{2})ms'
wait_for main "query page: masked text" 'https://loader:\*\*\*@files'
keys main Escape
wait_for main "Esc leaves the page" 'showing slow queries only'
keys main s
wait_for main "s: all again" 'table +it\.events'

ch_stop -KILL
wait_for main "server killed: the source is down" 'speed-ch +down: .*connection refused'
ch_start || bad "ClickHouse did not restart"
keys main r
wait_for main "restarted: ok again" '^ speed-ch +age [0-9]+s +ClickHouse 18\.16\.1'

keys main q
deadline=$(($(now_ms) + 5000))
while [ ! -s "$T/rc" ] && [ "$(now_ms)" -lt "$deadline" ]; do sleep 0.1; done
if [ "$(cat "$T/rc" 2>/dev/null)" = 0 ]; then
        ok "q exits 0"
else
        bad "q: exit status $(cat "$T/rc" 2>/dev/null || echo none)"
fi

if [ "$fails" -gt 0 ]; then
        echo "$fails check(s) failed"
        exit 1
fi
echo "all checks passed"
