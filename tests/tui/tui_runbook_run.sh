#!/usr/bin/env bash
#
# tui_runbook_run.sh: runs a runbook in the real console (tmux, read with
# capture-pane) against a fixture Kafka Connect worker
# (tests/lib/fixture_httpd.py, started here, stopped by its PID) whose
# connector pg-cdc is FAILED. The runbook (written to the temp dir) has a
# check, an action (restart pg-cdc), a wait (pg-cdc RUNNING), a manual step,
# a choose step and a verify. Checks, in order:
#   1. `b` on the Overview's connect row opens the Runbooks pane on the
#      connector_failed alert; Enter on the runbook opens its input form,
#      prefilled from the alert (connect, pg-cdc); Enter runs it: the check's
#      values, the restart's plan with the exact URL; y sends it; the wait
#      runs (its live values); Esc leaves the run view while it runs (the
#      status line's marker), Enter on the run's row returns to it; the
#      fixture turns RUNNING and the wait ends; s on the manual step asks,
#      y skips it; 2 picks "Done"; the run ends ok. Exactly one POST was
#      sent; the ledger (`lambdaops runbook log RUN --json`) and the audit
#      line (via tui, the run id) are exact;
#   2. `b` on the Connect pane's detail page of pg-cdc opens the Runbooks
#      pane on the alert; the fixture answers the restart 500, then 202:
#      the failed step offers retry, r retries and it succeeds; a during the
#      wait asks, y aborts: the run ends "aborted"; two more POSTs, two more
#      audit lines (failed 500, ok 202);
#   3. a third run, q during its wait: the console asks, y quits with exit
#      0 and the terminal restored; the ledger has no end record and the
#      lock is free; at 80x24 the run view fits;
#   4. a new console resumes that run (Enter on its row, y): it goes on at
#      the wait, the manual step (y), the choice (1: the watch step, y) and
#      ends ok; no request is sent again;
#      then a runbook with a dangerous run step (y, the runbook's id typed:
#      a wrong word is refused) and a failing step (s, y: skipped, the run
#      goes on and ends ok);
#   5. with --read-only: an input cleared in the form refuses the run
#      (nothing recorded); typed back, the run starts, the restart is
#      refused: the run ends "refused", nothing is sent, the audit line says
#      refused.
# Every wait polls with a deadline.
#
# Env: LO_BINARY (the lambdaops binary), LO_SOURCE_DIR (the source tree).

set -u

B=${LO_BINARY:?set LO_BINARY to the lambdaops binary}
S=${LO_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d /tmp/lo-tui-rbrun.XXXXXX)
SOCK="lo-tui-rbrun-$$"
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

export XDG_STATE_HOME="$T/state"
RUNS="$T/state/lambdaops/runs"

# --- the fixture Kafka Connect worker ---------------------------------------------

# routes STATE [500]: pg-cdc (and its task) in STATE; with 500 (once per
# test) the first restart is answered 500, the next ones 202. Replaced atomically: the
# server re-reads the file on every request.
routes() {
        python3 - "$1" "${2:-}" >"$T/routes.tmp" <<'PY'
import json, sys
state, fail_first = sys.argv[1], sys.argv[2] == "500"
ct = {"Content-Type": "application/json"}
status = {"pg-cdc": {
    "status": {"name": "pg-cdc", "type": "source",
               "connector": {"state": state, "worker_id": "w1:8083"},
               "tasks": [{"id": 0, "state": state, "worker_id": "w1:8083"}]},
    "info": {"name": "pg-cdc", "type": "source", "tasks": [{"connector": "pg-cdc", "task": 0}],
             "config": {"connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector"}}}}
restart = {"method": "POST", "path": "/connectors/pg-cdc/restart",
           "query": "includeTasks=true&onlyFailed=true", "headers": ct}
r = [{"path": "/", "headers": ct, "json": {"version": "3.6.0", "commit": "x",
                                           "kafka_cluster_id": "k"}},
     {"path": "/connectors", "query": "expand=status&expand=info", "headers": ct,
      "json": status}]
if fail_first:
    # The server counts "times" per position in the list across reloads:
    # the 500 goes to a position no earlier route held.
    r += [{"path": "/unused-%d" % i} for i in range(4)]
    r.append(dict(restart, status=500, times=1,
                  json={"error_code": 500, "message": "worker w1 is rebalancing"}))
r.append(dict(restart, status=202, json={"name": "pg-cdc",
              "connector": {"state": "RESTARTING", "worker_id": "w1:8083"},
              "tasks": [{"id": 0, "state": "RESTARTING", "worker_id": "w1:8083"}]}))
print(json.dumps({"routes": r}))
PY
        mv "$T/routes.tmp" "$T/routes.json"
}

# The requests other than GET the fixture received, one "METHOD PATH?QUERY"
# a line.
posts() {
        python3 - "$T/requests.log" <<'PY'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    if line.strip():
        r = json.loads(line)
        if r["method"] != "GET":
            print(f'{r["method"]} {r["path"]}?{r["query"]}')
PY
}

routes FAILED
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

# --- the config and the runbook -------------------------------------------------------

mkdir -p "$T/runbooks"
cat >"$T/runbooks/connector-demo.yaml" <<'EOF'
id: connector-demo
title: A connector has failed
description: Restart it, wait for it to run, tell the team.
when:
  - kind: kafka_connect
    metric: connector_failed
inputs:
  - name: connect
    type: source
    kind: kafka_connect
    from_alert: source
  - name: connector
    type: target
    target: connector
    from_alert: subject
steps:
  - id: is-failed
    check:
      source: ${connect}
      expr: 'any(connectors, .name == inputs.connector and .state == "FAILED")'
  - id: restart
    action:
      source: ${connect}
      action: restart
      target: ${connector}
  - id: running
    wait:
      source: ${connect}
      expr: 'any(connectors, .name == inputs.connector and .state == "RUNNING")'
    timeout: 5m
  - id: tell
    manual: Tell the team that ${connector} was restarted.
  - id: pick
    choose:
      - label: Watch ${connector} a while
        goto: watch
      - label: Done
        goto: done
  - id: watch
    manual: Watch ${connector} for a minute.
  - id: done
    check:
      source: ${connect}
      expr: 'all(connectors, .state == "RUNNING")'
verify:
  - source: ${connect}
    expr: 'all(connectors, .failed_tasks == 0)'
    timeout: 1m
EOF

cat >"$T/runbooks/typed-demo.yaml" <<'EOF'
id: typed-demo
title: A dangerous step, then one that fails
steps:
  - id: hello
    run: [/bin/echo, hello from typed-demo]
    dangerous: true
  - id: fails
    run: [/bin/false]
    mutating: false
  - id: last
    manual: All done.
EOF

cat >"$T/cfg.yaml" <<EOF
environment: tui-rbrun
refresh: 1s
audit_log: $T/audit.jsonl
runbooks:
  - $T/runbooks
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

start_console() {
        rm -f "$T/rc"
        "${TM[@]}" new-session -d -s "$1" -x "${2:-160}" -y "${3:-45}" \
                "env LANG=C.UTF-8 LC_ALL=C.UTF-8 XDG_STATE_HOME=$XDG_STATE_HOME sh $T/run.sh -c $T/cfg.yaml --view ${4:-overview} ${5:-}"
}

# The newest run's id (the ledger's file names).
newest_run() {
        ls -t "$RUNS" 2>/dev/null | grep '\.jsonl$' | head -1 | sed 's/\.jsonl$//'
}

# ledger_is RUN EXPECTED: the run's records (runbook log --json) reduced to
# "ev step phase result [more]" lines equal EXPECTED.
ledger_is() {
        local got
        got=$(XDG_STATE_HOME=$XDG_STATE_HOME "$B" runbook log "$1" --json -c "$T/cfg.yaml" |
              python3 -c '
import json, sys
for r in json.load(sys.stdin):
    ev = r["ev"]
    if ev == "start":
        print("start", r["runbook"], r["target"], json.dumps(r["inputs"], sort_keys=True))
    elif ev == "step":
        line = ["step", r["step"], r["phase"], str(r["attempt"])]
        if r["phase"] == "end":
            line += [r["result"], "next=%s" % r.get("next", "-")]
            if "request" in r:
                line.append("request=" + r["request"])
            if "values" in r:
                line.append("values=" + r["values"])
            if r.get("error"):
                line.append("error=" + r["error"])
        print(" ".join(line))
    elif ev == "choice":
        print("choice", r["step"], r["label"], r["goto"])
    elif ev == "verify":
        print("verify", r["result"], r.get("values", ""))
    elif ev == "resume":
        print("resume from", r["from"])
    elif ev == "end":
        print("end", r["result"])
')
        if [ "$got" = "$2" ]; then
                ok "ledger of $1"
        else
                bad "ledger of $1"
                diff <(printf '%s\n' "$2") <(printf '%s\n' "$got") | sed 's/^/    | /'
        fi
}

# audit_is LINES: the audit log, reduced to "via run action target outcome
# status" lines, equals LINES.
audit_is() {
        local got
        got=$(python3 - "$T/audit.jsonl" <<'PY'
import json, sys
for l in open(sys.argv[1], encoding="utf-8"):
    if l.strip():
        a = json.loads(l)
        print(a["via"], a.get("run", "-"), a["source"], a["action"], a["target"], a["outcome"],
              a.get("status", "-"))
PY
)
        if [ "$got" = "$1" ]; then
                ok "audit log"
        else
                bad "audit log"
                diff <(printf '%s\n' "$1") <(printf '%s\n' "$got") | sed 's/^/    | /'
        fi
}

posts_are() {
        local got
        got=$(posts)
        if [ "$got" = "$1" ]; then
                ok "$2"
        else
                bad "$2"
                diff <(printf '%s\n' "$1") <(printf '%s\n' "$got") | sed 's/^/    | /'
        fi
}

wait_rc() {
        local deadline=$(($(now_ms) + 10000))
        while [ ! -s "$T/rc" ] && [ "$(now_ms)" -lt "$deadline" ]; do sleep 0.1; done
        if [ "$(cat "$T/rc" 2>/dev/null)" = "$1" ]; then
                ok "$2"
        else
                bad "$2: exit status $(cat "$T/rc" 2>/dev/null || echo none)"
        fi
}

# fits_80x24 WHAT: the screen, printed, has nothing past 80x24.
fits_80x24() {
        screen main >"$T/small.txt"
        if python3 -c '
import sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
sys.exit(0 if len(lines) <= 24 and all(len(l) <= 80 for l in lines) else 1)' "$T/small.txt"; then
                ok "80x24, $1: nothing past the screen"
        else
                bad "80x24, $1: the screen overflows"
        fi
        echo "---- 80x24: $1 ----"
        sed 's/[[:space:]]*$//' "$T/small.txt"
}

RESTART="POST /connectors/pg-cdc/restart?includeTasks=true&onlyFailed=true"
PLAN_URL="POST $URL/connectors/pg-cdc/restart\\?includeTasks=true&onlyFailed=true"
FAILED_VALUES='any\(connectors, \.name == inputs\.connector and \.state == "FAILED"\) = true'

# --- 1. b from the Overview, proceed, Esc and back, skip, choose ---------------------

start_console main
wait_for main "the Overview lists the alert" 'connector pg-cdc FAILED'
keys main b
wait_for main "b on the Overview row: the Runbooks pane on the alert" \
        '^ *answering connect connector_failed pg-cdc'
wait_for main "the runbook is suggested" 'suggested +connector-demo +A connector has failed'
keys main Enter
wait_for main "the input form" '^ *Run connector-demo: A connector has failed'
wait_for main "the form: prefilled from the alert" 'inputs prefilled from the alert connect connector_failed pg-cdc'
wait_for main "the form: connect" '^ *> connect +connect_ +source kafka_connect'
wait_for main "the form: connector" '^ +connector +pg-cdc +target connector'
keys main Enter
wait_for main "the run view" '^ *Run connector-demo +[0-9]{8}T[0-9]{6}Z-connector-demo-[0-9a-f]{4}'
wait_for main "the check ok" '^ *1\. ok +is-failed +check'
wait_for main "the check's values" "^ +$FAILED_VALUES"
wait_for main "the restart asks" '^ *Confirm step restart:'
wait_for main "the plan: the exact request" "$PLAN_URL"
wait_for main "the prompt's keys" 'Run it\? +y run +s skip +a abort'
wait_for main "the restart step is running" '^ *>2\. running +restart +action'
wait_for main "the pending steps" '^ *4\. pending +tell +manual'
RUN1=$(newest_run)
[ -n "$RUN1" ] && ok "run $RUN1" || bad "no run in the ledger"
echo "---- run view: the restart's prompt (capture-pane) ----"
screen main | sed 's/[[:space:]]*$//' | sed -n '1,30p'
posts_are "" "nothing sent before y"
keys main y
wait_for main "the restart ok" '^ *2\. ok +restart +action'
wait_for main "the wait runs" '^ *>3\. running +running +wait'
wait_for main "the wait's live values" '^ +any\(connectors, \.name == inputs\.connector and \.state == "RUNNING"\) = false'
posts_are "$RESTART" "one restart sent"
keys main Escape
wait_for main "Esc: back on the Runbooks pane" '^ *answering connect connector_failed'
wait_for main "the status line's marker" 'run connector-demo: running'
keys main / "${RUN1##*-}" Enter
wait_for main "the run's row" "run +$RUN1 +connector-demo on connect/pg-cdc"
keys main Enter
wait_for main "Enter on the run's row: the run view again" '^ *>3\. running +running +wait'
routes RUNNING
wait_for main "the wait ends" '^ *3\. ok +running +wait'
wait_for main "the manual step asks" 'Tell the team that pg-cdc was restarted\.'
keys main s
wait_for main "s asks first" 'Skip step tell\? The run goes on after it\. +y skip +n back'
keys main y
wait_for main "the manual step skipped" '^ *4\. skipped +tell +manual'
wait_for main "the choice" '^ *> 1\. Watch pg-cdc a while'
wait_for main "the second label" '^ +2\. Done'
keys main 2
wait_for main "the run ends ok" '^ *result: ok'
wait_for main "the done check" '^ *7\. ok +done +check'
wait_for main "the watch step was gone around" '^ *6\. pending +watch +manual'
wait_for main "verify ok" 'ok +verify'
echo "---- run view: ended (capture-pane) ----"
screen main | sed 's/[[:space:]]*$//' | sed -n '1,30p'
posts_are "$RESTART" "still one restart"
ledger_is "$RUN1" "start connector-demo connect/pg-cdc {\"connect\": \"connect\", \"connector\": \"pg-cdc\"}
step is-failed start 1
step is-failed end 1 ok next=1 values=any(connectors, .name == inputs.connector and .state == \"FAILED\") = true
step restart start 1
step restart end 1 ok next=2 request=$RESTART
step running start 1
step running end 1 ok next=3 values=any(connectors, .name == inputs.connector and .state == \"RUNNING\") = true
step tell start 1
step tell end 1 skipped next=4 error=skipped by the operator
step pick start 1
choice pick Done done
step pick end 1 ok next=6
step done start 1
step done end 1 ok next=7 values=all(connectors, .state == \"RUNNING\") = true
verify ok all(connectors, .failed_tasks == 0) = true
end ok"
audit_is "tui $RUN1 connect restart pg-cdc ok 202"
keys main Escape

# --- 2. b from a detail page; retry after a 500; abort ------------------------------------

routes FAILED 500
keys main : c o n n e c t Enter
wait_for main "the Connect pane: pg-cdc FAILED" 'pg-cdc +.*FAILED'
keys main Enter
wait_for main "pg-cdc's detail page" 'connector pg-cdc FAILED'
keys main b
wait_for main "b on the detail page: the Runbooks pane on the alert" \
        '^ *answering connect connector_failed pg-cdc'
keys main g Enter
wait_for main "the input form again" '^ *Run connector-demo: A connector has failed'
keys main Enter
wait_for main "run 2: the restart asks" '^ *Confirm step restart:'
RUN2=$(newest_run)
[ "$RUN2" != "$RUN1" ] && ok "run $RUN2" || bad "no second run"
keys main y
wait_for main "the restart failed: retry offered" 'step restart failed: .*500'
wait_for main "the failed prompt's keys" 'Retry it\? +r retry +s skip +a stop'
wait_for main "the restart step failed" '^ *>2\. failed +restart +action'
keys main r
wait_for main "r: the restart asks again" '^ *Confirm step restart:'
wait_for main "attempt 2" '^ *>2\. running +restart +action +attempt 2'
keys main y
wait_for main "attempt 2 ok" '^ *2\. ok +restart +action +attempt 2'
wait_for main "run 2: the wait runs" '^ *>3\. running +running +wait'
keys main a
wait_for main "a asks first" 'Abort the run\? It ends aborted\. +y abort +n back'
keys main y
wait_for main "the run ends aborted" '^ *result: aborted'
wait_for main "the wait cancelled" '^ *3\. cancelled +running +wait'
posts_are "$RESTART
$RESTART
$RESTART" "two more restarts: the 500 and the retry"
ledger_is "$RUN2" "start connector-demo connect/pg-cdc {\"connect\": \"connect\", \"connector\": \"pg-cdc\"}
step is-failed start 1
step is-failed end 1 ok next=1 values=any(connectors, .name == inputs.connector and .state == \"FAILED\") = true
step restart start 1
step restart end 1 failed next=- request=$RESTART error=restart failed: /connectors/pg-cdc/restart?includeTasks=true&onlyFailed=true: HTTP 500 Internal Server Error: worker w1 is rebalancing
step restart start 2
step restart end 2 ok next=2 request=$RESTART
step running start 1
step running end 1 cancelled next=- values=any(connectors, .name == inputs.connector and .state == \"RUNNING\") = false error=aborted by the operator while waiting
end aborted"
audit_is "tui $RUN1 connect restart pg-cdc ok 202
tui $RUN2 connect restart pg-cdc failed 500
tui $RUN2 connect restart pg-cdc ok 202"

# --- 3. q during a run: the run stays resumable; 80x24 --------------------------------------

routes FAILED
keys main Escape
keys main : r u n b o o k s Enter
keys main a g Enter
wait_for main "run 3: the form" '^ *Run connector-demo: A connector has failed'
"${TM[@]}" resize-window -t main -x 80 -y 24
wait_for main "80x24: the form's footer" 'Enter run +Tab/Up/Down input'
fits_80x24 "the form"
keys main Enter
wait_for main "run 3: the restart asks" '^ *Confirm step restart:'
wait_for main "80x24: the prompt's keys" 'Run it\? +y run +s skip +a abort'
wait_for main "80x24: the running step" '^ *>2\. running +restart +action'
fits_80x24 "the restart's prompt"
RUN3=$(newest_run)
keys main y
wait_for main "run 3: the wait runs" '^ *>3\. running +running +wait'
wait_for main "80x24: the wait's values" '^ +any\(connectors, \.name == inputs\.connector and \.state == "RUNNING"\) = f'
wait_for main "80x24: the footer" 'a abort +Esc leave'
fits_80x24 "the wait"
keys main q
wait_for main "q asks first" 'a runbook run is in progress: quit anyway\? It stays resumable'
keys main y
wait_rc 0 "y quits, exit 0"
wait_for main "the terminal is restored" 'lambdaops exited'
if [ "$("${TM[@]}" display -p -t main '#{alternate_on}')" = 0 ]; then
        ok "the alternate screen is off"
else
        bad "the alternate screen is still on"
fi
ledger_is "$RUN3" "start connector-demo connect/pg-cdc {\"connect\": \"connect\", \"connector\": \"pg-cdc\"}
step is-failed start 1
step is-failed end 1 ok next=1 values=any(connectors, .name == inputs.connector and .state == \"FAILED\") = true
step restart start 1
step restart end 1 ok next=2 request=$RESTART
step running start 1
step running end 1 cancelled next=- values=any(connectors, .name == inputs.connector and .state == \"RUNNING\") = false error=aborted by the operator while waiting"
if python3 - "$RUNS" <<'PY'
import fcntl, glob, os, sys
locks = glob.glob(os.path.join(sys.argv[1], "connector-demo@*.lock"))
assert locks, "no lock file"
for p in locks:
    with open(p) as f:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
PY
then
        ok "the run's lock is free"
else
        bad "the run's lock is still held"
fi
"${TM[@]}" kill-session -t main

# --- 4. resume it in a new console --------------------------------------------------------

routes RUNNING
start_console again 160 45 runbooks
wait_for again "the unfinished run's row" "run +$RUN3 +connector-demo on connect/pg-cdc .*in progress"
keys again / "${RUN3##*-}" Enter
keys again Enter
wait_for again "Enter asks to resume" "run $RUN3 has not ended: resume it here\\?"
keys again y
wait_for again "resumed: the wait ends" '^ *3\. ok +running +wait'
wait_for again "resumed: the manual step asks" 'Tell the team that pg-cdc was restarted\.'
wait_for again "resumed: the steps before, as the ledger has them" '^ *2\. ok +restart +action'
keys again y
wait_for again "resumed: the choice" '^ *> 1\. Watch pg-cdc a while'
keys again Enter
wait_for again "resumed: the watch step asks" 'Watch pg-cdc for a minute\.'
keys again y
wait_for again "resumed: the run ends ok" '^ *result: ok'
posts_are "$RESTART
$RESTART
$RESTART
$RESTART" "the resume sent nothing again"
ledger_is "$RUN3" "start connector-demo connect/pg-cdc {\"connect\": \"connect\", \"connector\": \"pg-cdc\"}
step is-failed start 1
step is-failed end 1 ok next=1 values=any(connectors, .name == inputs.connector and .state == \"FAILED\") = true
step restart start 1
step restart end 1 ok next=2 request=$RESTART
step running start 1
step running end 1 cancelled next=- values=any(connectors, .name == inputs.connector and .state == \"RUNNING\") = false error=aborted by the operator while waiting
resume from 2
step running start 1
step running end 1 ok next=3 values=any(connectors, .name == inputs.connector and .state == \"RUNNING\") = true
step tell start 1
step tell end 1 ok next=4
step pick start 1
choice pick Watch pg-cdc a while watch
step pick end 1 ok next=5
step watch start 1
step watch end 1 ok next=6
step done start 1
step done end 1 ok next=7 values=all(connectors, .state == \"RUNNING\") = true
verify ok all(connectors, .failed_tasks == 0) = true
end ok"
audit_is "tui $RUN1 connect restart pg-cdc ok 202
tui $RUN2 connect restart pg-cdc failed 500
tui $RUN2 connect restart pg-cdc ok 202
tui $RUN3 connect restart pg-cdc ok 202"

# --- a dangerous step (the word typed), a failed step skipped --------------------------------

keys again Escape Escape / t y p e d Enter
wait_for again "typed-demo's row" 'runbook +typed-demo +A dangerous step'
keys again g Enter
wait_for again "typed-demo: the form" '^ *Run typed-demo: A dangerous step, then one that fails'
keys again Enter
wait_for again "the dangerous step asks" 'Run it\? \(dangerous: y asks for the word typed\)'
wait_for again "its argv" '^ +/bin/echo .hello from typed-demo. *$'
keys again y
wait_for again "y: the word is asked for" 'dangerous: type typed-demo and Enter to run it'
keys again n o p e Enter
wait_for again "a wrong word is refused" 'type typed-demo exactly to run it'
keys again t y p e d - d e m o Enter
wait_for again "the right word runs it" '^ *1\. ok +hello +run'
wait_for again "the failing step: retry, skip or stop" 'step fails failed: /bin/false: exited with status 1'
keys again s
wait_for again "s asks first" 'Skip step fails\? The run goes on after it\.'
keys again y
wait_for again "the failed step skipped" '^ *2\. skipped +fails +run'
wait_for again "then the manual step" 'All done\.'
keys again y
wait_for again "typed-demo ends ok" '^ *result: ok'
RUN5=$(newest_run)
ledger_is "$RUN5" "start typed-demo - {}
step hello start 1
step hello end 1 ok next=1
step fails start 1
step fails end 1 failed next=- error=/bin/false: exited with status 1
step fails end 1 skipped next=2 error=skipped by the operator after it failed: /bin/false: exited with status 1
step last start 1
step last end 1 ok next=3
end ok"
keys again Escape q
wait_rc 0 "q after the run: exit 0"
"${TM[@]}" kill-session -t again

# --- 5. read-only: the restart is refused, the run ends refused -----------------------------

routes FAILED
start_console ro 160 45 runbooks --read-only
wait_for ro "read-only: the runbook, suggested" 'suggested +connector-demo +A connector has failed'
keys ro g Enter
wait_for ro "read-only: the form says so" 'read-only: steps that change something will be refused'
wait_for ro "the form: connect prefilled" '^ *> connect +connect_ +source kafka_connect'
keys ro C-u Enter
wait_for ro "an unbound input: the run is refused" '^ *input connect is not set'
wait_for ro "the form marks it" '^ *> connect +_ \(unbound\)'
if [ "$(newest_run)" = "$RUN5" ]; then ok "no run started"; else bad "a run started"; fi
keys ro c o n n e c t Enter
wait_for ro "read-only: the run ends refused" '^ *result: refused'
wait_for ro "read-only: the restart refused" '^ *2\. refused +restart +action'
RUN4=$(newest_run)
posts_are "$RESTART
$RESTART
$RESTART
$RESTART" "read-only: nothing sent"
ledger_is "$RUN4" "start connector-demo connect/pg-cdc {\"connect\": \"connect\", \"connector\": \"pg-cdc\"}
step is-failed start 1
step is-failed end 1 ok next=1 values=any(connectors, .name == inputs.connector and .state == \"FAILED\") = true
step restart start 1
step restart end 1 refused next=- error=refused: read-only: actions are disabled (--read-only or read_only: true)
end refused"
audit_is "tui $RUN1 connect restart pg-cdc ok 202
tui $RUN2 connect restart pg-cdc failed 500
tui $RUN2 connect restart pg-cdc ok 202
tui $RUN3 connect restart pg-cdc ok 202
tui $RUN4 connect restart pg-cdc refused 77"
keys ro Escape q
wait_rc 0 "read-only: q exits 0"

if [ "$fails" -gt 0 ]; then
        echo "FAILED: $fails check(s)"
        exit 1
fi
echo "all passed"
