#!/usr/bin/env bash
#
# tui_hostile_text.sh: the console in tmux shows a config's and a server's
# control characters escaped, never obeys them. The config's environment
# is the YAML string "\e[2Jprod\e]0;pwned\a"; a fixture Kafka Connect
# (tests/lib/fixture_httpd.py, stopped by its PID) lists a FAILED connector
# named with ESC, BEL and C1 (U+009B) and refuses `pause` with an error
# message carrying ESC and an OSC "set title" sequence:
#   - the header shows the environment as \x1b[2Jprod\x1b]0;pwned\x07;
#   - the Connect table shows the name as evil\x1b[2J...; the Alerts
#     detail of the connector shows \u009b;
#   - P on orders, y: the result page shows the server's message escaped;
#   - the pane's title never becomes "pwned" (an OSC 0 written raw would
#     set it) and the screen is never cleared (the header stays);
#   - q exits 0.
#
# Env: LO_BINARY (the lambdaops binary), LO_SOURCE_DIR (the source tree).

set -u

B=${LO_BINARY:?set LO_BINARY to the lambdaops binary}
S=${LO_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d /tmp/lo-tui-hostile.XXXXXX)
SOCK="lo-tui-hostile-$$"
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
lo_guard "$T"

python3 - >"$T/routes.json" <<'PY'
import json
evil = "evil\u001b[2J\u001b]0;pwned\u0007\u009b31m"
def conn(name, state):
    return {"status": {"name": name, "connector": {"state": state, "worker_id": "10.0.3.7:8083"},
                       "tasks": [], "type": "source"},
            "info": {"name": name, "config": {"connector.class": "x.Y"}, "tasks": [], "type": "source"}}
listing = {evil: conn(evil, "FAILED"), "orders": conn("orders", "RUNNING")}
r = [
    {"path": "/connectors", "query": "expand=status&expand=info", "json": listing},
    {"path": "/", "json": {"version": "3.7.0", "commit": "abc", "kafka_cluster_id": "k1"}},
    {"method": "PUT", "path": "/connectors/orders/pause", "status": 409,
     "json": {"error_code": 409, "message": "rebalance\u001b[2J\u001b]0;pwned\u0007\u009b1m in progress"}},
]
print(json.dumps({"routes": r}))
PY
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

cat >"$T/cfg.yaml" <<EOF
environment: "\e[2Jprod\e]0;pwned\a"
refresh: 1s
audit_log: $T/audit.jsonl
sources:
  - name: connect
    kind: kafka_connect
    url: $URL
    interval: 1s
    timeout: 2s
EOF
# A raw OSC 0 from the program would set the pane title (checked below);
# allow-rename on lets a raw \ek rename the window as well.
printf 'set -g default-terminal screen\nset -g status off\nset -g allow-rename on\n' \
        >"$T/tmux.conf"
cat >"$T/run.sh" <<EOF
#!/bin/sh
"$B" "\$@"
echo \$? >"$T/rc"
echo "lambdaops exited"
exec sleep 600
EOF

"${TM[@]}" new-session -d -s main -x 160 -y 45 \
        "env LANG=C.UTF-8 LC_ALL=C.UTF-8 sh $T/run.sh -c $T/cfg.yaml --view connect"
title0=$("${TM[@]}" display-message -p -t main '#{pane_title}')

# title_kept WHEN: the pane title is what it was before lambdaops ran.
title_kept() {
        local now
        now=$("${TM[@]}" display-message -p -t main '#{pane_title}')
        if [ "$now" = "$title0" ] && [ "$now" != pwned ]; then
                ok "$1: pane title unchanged ($now)"
        else
                bad "$1: pane title is '$now' (was '$title0')"
        fi
}

wait_for main "header: the environment escaped" '\\x1b\[2Jprod\\x1b\]0;pwned\\x07'
wait_for main "table: the connector name escaped" 'connect +evil\\x1b\[2J\\x1b\]0;pwned\\x07'
wait_for main "table: the other connector" 'connect +orders +source +RUNNING'
screen main >"$T/pane.txt"
echo "---- Connect pane (capture-pane) ----"
sed 's/[[:space:]]*$//' "$T/pane.txt"
echo "-------------------------------------"
if grep -q '^ lambdaops ' "$T/pane.txt"; then
        ok "the header is still on the first line (no clear screen)"
else
        bad "no header on the first line"
fi
title_kept "table"

# Enter on the FAILED connector (sorted first): its page, with the alert.
keys main g Enter
wait_for main "connector page: the name escaped with C1" \
        'Connector evil\\x1b\[2J\\x1b\]0;pwned\\x07\\u009b31m'
title_kept "connector page"
keys main Escape
wait_for main "Esc back to the table" 'connect +orders +source +RUNNING'

# The server's error message on the result page.
keys main / o r d e r s Enter
wait_for main "filter keeps orders only" 'filter /orders: 1 of'
keys main P
wait_for main "dialog: the prompt" 'Run it\? +y run +n/Esc cancel'
keys main y
wait_for main "result page: outcome failed" '^ +outcome +failed'
wait_for main "result page: the server's message escaped" \
        'rebalance\\x1b\[2J\\x1b\]0;pwned\\x07\\u009b1m in progress'
screen main >"$T/result.txt"
echo "---- result page (capture-pane) ----"
sed 's/[[:space:]]*$//' "$T/result.txt"
echo "------------------------------------"
title_kept "result page"
keys main Escape

keys main q
deadline=$(($(now_ms) + 5000))
while [ ! -s "$T/rc" ] && [ "$(now_ms)" -lt "$deadline" ]; do sleep 0.1; done
if [ "$(cat "$T/rc" 2>/dev/null)" = 0 ]; then
        ok "q exits 0"
else
        bad "q: exit status $(cat "$T/rc" 2>/dev/null || echo none)"
fi
title_kept "after exit"

if [ "$fails" -gt 0 ]; then
        echo "$fails check(s) failed"
        exit 1
fi
echo "all checks passed"
