#!/usr/bin/env bash
#
# tui_connect.sh: drives the real console's Connect pane in tmux against
# tests/lib/fixture_httpd.py (started here, stopped by its PID) serving a
# Connect 3.7 worker (every connector and task state, a RUNNING Debezium
# connector with a FAILED task and its trace) and a Schema Registry, and
# reads the screen with capture-pane. A postgres source on a closed port
# stands in for the CDC database, so the slot column says it has no data.
#   - `--view connect`: the source line (Connect 3.7.0, the summary), the
#     table worst first: orders-cdc FAILED, pg-cdc RUNNING 1/2 with 1 FAILED
#     task, the other states;
#   - Enter on pg-cdc: the connector page with the silent-outage line, the
#     slot block, the task's trace ("Caused by: ... PSQLException"), paged
#     with PgDn; Esc back;
#   - `s`: Schema Registry subjects with compatibility, "(global)" for one
#     that inherits; Enter on orders-key: its page, "read at" (UTC) between
#     the test's start and now; Esc, `s` back;
#   - `q` exits 0.
# The pane is printed so CI logs show what a person sees.
#
# Env: LO_BINARY (the lambdaops binary), LO_SOURCE_DIR (the source tree).

set -u

B=${LO_BINARY:?set LO_BINARY to the lambdaops binary}
S=${LO_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d /tmp/lo-tui-connect.XXXXXX)
SOCK="lo-tui-connect-$$"
TM=(tmux -L "$SOCK" -f "$T/tmux.conf")
fails=0
HTTPD_PID=

cleanup() {
        "${TM[@]}" kill-server 2>/dev/null
        if [ -n "$HTTPD_PID" ]; then
                kill "$HTTPD_PID" 2>/dev/null
                wait "$HTTPD_PID" 2>/dev/null
        fi
        rm -rf "$T"
}
trap cleanup EXIT

. "$(dirname "$0")/../lib/helpers.sh"
lo_guard "$T"     # what this test starts does not outlive it, even on SIGKILL

# --- the fixture server ---------------------------------------------------------

FX="$S/tests/fixtures"
python3 - "$FX" >"$T/routes.json" <<'PY'
import json, sys
fx = sys.argv[1]
def body(rel):
    return open(f"{fx}/{rel}", encoding="utf-8").read()
r = [
    {"path": "/connectors", "query": "expand=status&expand=info",
     "body": body("connect/expanded_all_states.json"), "headers": {"Content-Type": "application/json"}},
    {"path": "/", "body": body("connect/root.json"), "headers": {"Content-Type": "application/json"}},
    {"path": "/subjects", "body": '["orders-value","orders-key"]', "headers": {"Content-Type": "application/json"}},
    {"path": "/config", "body": '{"compatibilityLevel":"BACKWARD"}', "headers": {"Content-Type": "application/json"}},
    {"path": "/subjects/orders-value/versions", "body": "[1,2,3]"},
    {"path": "/subjects/orders-value/versions/latest", "body": body("schema_registry/latest_avro.json")},
    {"path": "/config/orders-value", "status": 404, "body": body("schema_registry/config_40408.json")},
    {"path": "/subjects/orders-key/versions", "body": "[1]"},
    {"path": "/subjects/orders-key/versions/latest", "body": '{"subject":"orders-key","version":1,"id":41,"schema":"\\"long\\""}'},
    {"path": "/config/orders-key", "body": body("schema_registry/config_full.json")},
]
print(json.dumps({"routes": r}))
PY
: >"$T/requests.log"
python3 "$S/tests/lib/fixture_httpd.py" --routes "$T/routes.json" --log "$T/requests.log" \
        --port-file "$T/port" </dev/null >>"$T/httpd.log" 2>&1 &
HTTPD_PID=$!
deadline=$(($(now_ms) + 10000))
until [ -s "$T/port" ]; do
        if [ "$(now_ms)" -ge "$deadline" ]; then bad "fixture server did not start"; exit 1; fi
        sleep 0.05
done
URL="http://127.0.0.1:$(cat "$T/port")"
ok "fixture server on $URL (pid $HTTPD_PID)"
DEAD=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

cat >"$T/cfg.yaml" <<EOF
environment: tui-connect
refresh: 1s
sources:
  - name: shop-db
    kind: postgres
    dsn: "host=127.0.0.1 port=$DEAD dbname=shop user=nobody connect_timeout=1"
    interval: 5s
    timeout: 1s
  - name: connect
    kind: kafka_connect
    url: $URL
    postgres: shop-db
    interval: 1s
    timeout: 2s
  - name: registry
    kind: schema_registry
    url: $URL
    interval: 2s
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

"${TM[@]}" new-session -d -s main -x 160 -y 45 \
        "env LANG=C.UTF-8 LC_ALL=C.UTF-8 sh $T/run.sh -c $T/cfg.yaml --view connect"

wait_for main "tab bar has the Connect pane" 'Connect'
wait_for main "source line: version and summary" '^ connect +age [0-9]+s +Connect 3\.7\.0 +7 connectors: 2 running, 1 failed, 4 other; 2 failed tasks'
wait_for main "FAILED connector first" 'connect +orders-cdc +source +FAILED +0/1 +1 '
wait_for main "RUNNING connector with a FAILED task" 'connect +pg-cdc +source +RUNNING +1/2 +1 +10\.0\.3\.7:8083 +debezium_shop: no data from shop-db'
wait_for main "PAUSED connector" 'audit-sink +sink +PAUSED'
wait_for main "STOPPED connector" 'legacy-src +source +STOPPED +0/0'
screen main >"$T/pane.txt"
echo "---- Connect pane (capture-pane) ----"
sed 's/[[:space:]]*$//' "$T/pane.txt"
echo "-------------------------------------"

keys main g j Enter
wait_for main "Enter opens pg-cdc" '^Connector pg-cdc +on connect'
wait_for main "silent outage line" 'RUNNING +but 1 task\(s\) FAILED: Connect never restarts tasks by itself'
wait_for main "slot block" 'slot +debezium_shop'
wait_for main "task 0 header" '^Task 0 +FAILED +on 10\.0\.3\.8:8083'
keys main NPage
wait_for main "PgDn: the trace's cause" 'Caused by: org\.postgresql\.util\.PSQLException: ERROR: replication slot'
screen main >"$T/detail.txt"
echo "---- connector page (capture-pane) ----"
sed 's/[[:space:]]*$//' "$T/detail.txt"
echo "---------------------------------------"
keys main Escape
wait_for main "Esc back to the table" 'connect +pg-cdc +source +RUNNING'

keys main s
wait_for main "s: Schema Registry subjects" 'Schema Registry subjects \(s: connectors\)'
wait_for main "subject with its own level" 'registry +orders-key +1 +1 +41 +AVRO +FULL'
wait_for main "subject inheriting global" 'registry +orders-value +3 +3 +42 +AVRO +BACKWARD \(global\)'
# The subject page: "read at" is lambdaops' clock when it read the
# subject, in UTC: between this test's start (the anchor) and now.
keys main g Enter
wait_for main "Enter opens the subject page" '^Subject orders-key +on registry'
wait_for main "subject page: its own level" 'compatibility +FULL \(subject level\)'
wait_for main "subject page: read time in UTC" 'read at +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z'
read_at=$(grep -oE 'read at +[^ ]+' "$T/screen" | awk '{print $3}')
read_s=$(date -u -d "$read_at" +%s 2>/dev/null || echo 0)
if [ "$read_s" -ge "$LO_FIXTURE_NOW" ] && [ "$read_s" -le "$(date +%s)" ]; then
        ok "read at $read_at: after the test's start, not in the future"
else
        bad "read at '$read_at' not within [$LO_FIXTURE_NOW, now] (UTC)"
fi
keys main Escape
wait_for main "Esc back to the subjects" 'registry +orders-value'
keys main s
wait_for main "s: back to connectors" 'connect +pg-cdc'

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
