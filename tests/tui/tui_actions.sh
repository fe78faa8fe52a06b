#!/usr/bin/env bash
#
# tui_actions.sh: the action dialog of the real console, in tmux, against
# tests/lib/fixture_httpd.py (started here, stopped by its PID) serving a
# Connect 3.7 worker whose pg-cdc connector is RUNNING with a FAILED task.
#   - the pg-cdc row selected (filter), `R`: the dialog shows the plan, the
#     exact POST restart URL; `y`: the result page says ok / 202, the
#     fixture's request log has the restart request, and the audit log
#     (audit_log: in the config, a temp path) has one line, outcome ok;
#   - `R` again and Esc: no request sent, the audit log adds "cancelled";
#   - `q` exits 0;
#   - with --read-only, `R` flashes "read-only: actions are disabled", sends
#     nothing and is audited "refused"; `q` exits 0.
# Every wait polls with a deadline; everything started is stopped by PID or
# by its own tmux server socket.
#
# Env: LO_BINARY (the lambdaops binary), LO_SOURCE_DIR (the source tree).

set -u

B=${LO_BINARY:?set LO_BINARY to the lambdaops binary}
S=${LO_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d /tmp/lo-tui-actions.XXXXXX)
SOCK="lo-tui-actions-$$"
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

# The number of restart requests in the fixture's log.
restarts() {
        python3 - "$T/requests.log" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    if not line.strip():
        continue
    r = json.loads(line)
    if r["method"] == "POST" and r["path"] == "/connectors/pg-cdc/restart" \
            and r["query"] == "includeTasks=true&onlyFailed=true":
        n += 1
print(n)
PY
}

# audit_is N OUTCOME [STATUS]: the audit log has N lines, the last one of
# the tui, for connect/restart/pg-cdc, with that outcome (and status).
audit_is() {
        python3 - "$T/audit.jsonl" "$@" <<'PY'
import json, sys
path, n, outcome = sys.argv[1], int(sys.argv[2]), sys.argv[3]
status = int(sys.argv[4]) if len(sys.argv) > 4 else None
lines = [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]
assert len(lines) == n, (len(lines), lines)
a = lines[-1]
assert a["via"] == "tui" and a["source"] == "connect" and a["kind"] == "kafka_connect", a
assert a["action"] == "restart" and a["target"] == "pg-cdc", a
assert a["outcome"] == outcome, a
if status is not None:
    assert a["status"] == status, a
PY
}

# quit SESSION: q, then the exit status must be 0.
quit() {
        local deadline=$(($(now_ms) + 5000))
        rm -f "$T/rc"
        keys "$1" q
        while [ ! -s "$T/rc" ] && [ "$(now_ms)" -lt "$deadline" ]; do sleep 0.1; done
        if [ "$(cat "$T/rc" 2>/dev/null)" = 0 ]; then
                ok "$1: q exits 0"
        else
                bad "$1: q: exit status $(cat "$T/rc" 2>/dev/null || echo none)"
        fi
}

# --- the fixture server ---------------------------------------------------------

FX="$S/tests/fixtures"
python3 - "$FX" >"$T/routes.json" <<'PY'
import json, sys
fx = sys.argv[1]
def body(rel):
    return open(f"{fx}/{rel}", encoding="utf-8").read()
restarted = {"name": "pg-cdc", "type": "source",
             "connector": {"state": "RESTARTING", "worker_id": "10.0.3.7:8083"},
             "tasks": [{"id": 0, "state": "RUNNING", "worker_id": "10.0.3.7:8083"},
                       {"id": 1, "state": "RESTARTING", "worker_id": "10.0.3.8:8083"}]}
r = [
    {"path": "/connectors", "query": "expand=status&expand=info",
     "body": body("connect/expanded_all_states.json"), "headers": {"Content-Type": "application/json"}},
    {"path": "/", "body": body("connect/root.json"), "headers": {"Content-Type": "application/json"}},
    {"method": "POST", "path": "/connectors/pg-cdc/restart",
     "query": "includeTasks=true&onlyFailed=true", "status": 202, "json": restarted},
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

cat >"$T/cfg.yaml" <<EOF
environment: tui-actions
refresh: 1s
audit_log: $T/audit.jsonl
sources:
  - name: connect
    kind: kafka_connect
    url: $URL
    interval: 1s
    timeout: 3s
EOF
printf 'set -g default-terminal screen\nset -g status off\n' >"$T/tmux.conf"
cat >"$T/run.sh" <<EOF
#!/bin/sh
"$B" "\$@"
echo \$? >"$T/rc"
echo "lambdaops exited"
exec sleep 600
EOF

# --- restart, confirmed; then cancelled -------------------------------------------

"${TM[@]}" new-session -d -s main -x 160 -y 45 \
        "env LANG=C.UTF-8 LC_ALL=C.UTF-8 sh $T/run.sh -c $T/cfg.yaml --view connect"

wait_for main "connector with a FAILED task" 'connect +pg-cdc +source +RUNNING +1/2 +1 '
wait_for main "footer shows the action keys" 'R restart +P pause +U resume'
keys main / p g - c d c Enter
wait_for main "filter keeps pg-cdc only" 'filter /pg-cdc: 1 of'
keys main R
wait_for main "dialog: the plan's POST restart URL" \
        "POST ${URL//./\\.}/connectors/pg-cdc/restart\\?includeTasks=true&onlyFailed=true"
wait_for main "dialog: the prompt" 'Run it\? +y run +n/Esc cancel'
screen main >"$T/dialog.txt"
echo "---- the dialog (capture-pane) ----"
sed 's/[[:space:]]*$//' "$T/dialog.txt"
echo "-----------------------------------"
if [ "$(restarts)" = 0 ]; then ok "nothing sent before y"; else bad "a restart was sent before y"; fi
keys main y
wait_for main "result page: outcome ok" '^ +outcome +ok'
wait_for main "result page: status 202" '^ +status +202'
wait_for main "result page: the response" 'RESTARTING'
screen main >"$T/result.txt"
echo "---- the result page (capture-pane) ----"
sed 's/[[:space:]]*$//' "$T/result.txt" | sed '/^$/d'
echo "----------------------------------------"
wait_cmd "fixture log: one restart request" test "$(restarts)" = 1
wait_cmd "audit log: one line, outcome ok, status 202" audit_is 1 ok 202
keys main j k NPage PPage Escape
wait_for main "Esc closes the result page" 'connect +pg-cdc +source'

keys main R
wait_for main "second R: the dialog again" 'Run it\? +y run +n/Esc cancel'
keys main Escape
wait_for main "Esc: cancelled" 'restart connect pg-cdc: cancelled'
wait_cmd "audit log: cancelled" audit_is 2 cancelled
if [ "$(restarts)" = 1 ]; then ok "cancel sent nothing"; else bad "cancel sent a restart"; fi
quit main

# --- read-only ---------------------------------------------------------------------

"${TM[@]}" new-session -d -s ro -x 160 -y 45 \
        "env LANG=C.UTF-8 LC_ALL=C.UTF-8 sh $T/run.sh -c $T/cfg.yaml --read-only --view connect"
wait_for ro "read-only: the badge" 'READ-ONLY'
wait_for ro "read-only: the connector" 'connect +pg-cdc +source +RUNNING'
keys ro / p g - c d c Enter
wait_for ro "read-only: filter keeps pg-cdc" 'filter /pg-cdc: 1 of'
keys ro R
wait_for ro "read-only: R flashes the refusal" 'read-only: actions are disabled'
wait_cmd "audit log: refused" audit_is 3 refused
if [ "$(restarts)" = 1 ]; then ok "read-only sent nothing"; else bad "read-only sent a restart"; fi
if grep -q 'Run it?' "$T/screen"; then bad "read-only opened the dialog"; else ok "no dialog"; fi
quit ro

echo "---- audit log ----"
cat "$T/audit.jsonl"
echo "-------------------"

if [ "$fails" -gt 0 ]; then
        echo "$fails check(s) failed"
        exit 1
fi
echo "all checks passed"
