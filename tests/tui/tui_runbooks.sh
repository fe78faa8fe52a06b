#!/usr/bin/env bash
#
# tui_runbooks.sh: drives the real console's Runbooks pane in tmux and reads
# the screen with capture-pane. The config has two runbooks
# (tests/fixtures/runbooks/tui/) and a PostgreSQL source on a closed port,
# which raises a `status` alert without a server; a ledger file written
# here before the start holds one finished run. Checks:
#   - the Alerts pane shows the status alert; `b` on it opens the Runbooks
#     pane on the runbooks answering it: pg-down only, marked suggested,
#     with the exact prefilled command line, and the read-only note;
#   - `a` shows every runbook: pg-down (suggested) first, then a-kafka-lag,
#     then the run from the ledger with its runbook, target, user, result;
#   - d on pg-down: its description, the command, inputs and steps;
#   - Enter on the run: each step's result from the ledger;
#   - `b` from an alert's detail page works too;
#   - at 80x24 the pane still renders (the tabs, the suggested row, the
#     footer); q exits 0.
#
# Env: LO_BINARY (the lambdaops binary), LO_SOURCE_DIR (the source tree).

set -u

B=${LO_BINARY:?set LO_BINARY to the lambdaops binary}
S=${LO_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d /tmp/lo-tui-runbooks.XXXXXX)
SOCK="lo-tui-runbooks-$$"
TM=(tmux -L "$SOCK" -f "$T/tmux.conf")
fails=0

cleanup() {
        "${TM[@]}" kill-server 2>/dev/null
        rm -rf "$T"
}
trap cleanup EXIT

. "$(dirname "$0")/../lib/helpers.sh"
lo_guard "$T"

export XDG_STATE_HOME="$T/state"
RUNS="$T/state/lambdaops/runs"
mkdir -p "$RUNS"
chmod 700 "$T/state/lambdaops" "$RUNS"
DEAD=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

cat >"$T/lambdaops.yaml" <<EOF
environment: tui-runbooks
refresh: 1s
runbooks:
  - $S/tests/fixtures/runbooks/tui
sources:
  - name: orders-db
    kind: postgres
    dsn: "host=127.0.0.1 port=$DEAD dbname=postgres user=postgres connect_timeout=1"
    interval: 1s
    timeout: 1s
EOF

# One finished run of pg-down, its times relative to now (the ledger's
# exact records, src/runbook/ledger.h).
RUN=20260101T000000Z-pg-down-c0de
python3 - "$RUNS/$RUN.jsonl" "$RUN" <<'PY'
import datetime, json, sys
path, run = sys.argv[1], sys.argv[2]
now = datetime.datetime.now(datetime.timezone.utc)
def at(s):
    return (now - datetime.timedelta(seconds=s)).strftime("%Y-%m-%dT%H:%M:%SZ")
recs = [
    {"ev": "start", "run": run, "runbook": "pg-down", "file": "pg-down.yaml", "user": "alice",
     "inputs": {"source": "orders-db", "wait": 120}, "at": at(600), "target": "orders-db"},
    {"ev": "step", "step": "pod-running", "index": 0, "kind": "manual", "mutating": False,
     "phase": "start", "attempt": 1, "user": "alice", "at": at(590)},
    {"ev": "step", "step": "pod-running", "index": 0, "kind": "manual", "phase": "end",
     "result": "ok", "attempt": 1, "next": 1, "user": "alice", "at": at(580), "duration_ms": 10000},
    {"ev": "step", "step": "answers", "index": 1, "kind": "wait", "phase": "start",
     "attempt": 1, "user": "alice", "at": at(580)},
    {"ev": "step", "step": "answers", "index": 1, "kind": "wait", "phase": "end",
     "result": "failed", "attempt": 1, "error": "timed out after 5m00s", "user": "alice",
     "at": at(280), "duration_ms": 300000},
    {"ev": "end", "result": "failed", "at": at(279)},
]
with open(path, "w") as f:
    for r in recs:
        f.write(json.dumps(r) + "\n")
PY
chmod 600 "$RUNS/$RUN.jsonl"

printf 'set -g default-terminal screen\nset -g status off\n' >"$T/tmux.conf"
cat >"$T/run.sh" <<EOF
"$B" "\$@"
echo \$? >"$T/rc"
echo "lambdaops exited"
exec sleep 600
EOF

"${TM[@]}" new-session -d -s main -x 170 -y 45 \
        "env LANG=C.UTF-8 LC_ALL=C.UTF-8 XDG_STATE_HOME=$XDG_STATE_HOME sh $T/run.sh -c $T/lambdaops.yaml --view alerts"

CMD="lambdaops runbook run pg-down --input source=orders-db --input wait=2m --config $T/lambdaops.yaml"
CMD_RE=$(printf '%s' "$CMD" | sed 's/[.[\*^$()+?{|]/\\&/g')

wait_for main "the Alerts pane shows the status alert" 'crit +.* orders-db +status'
screen main | sed 's/[[:space:]]*$//' | sed -n '1,8p'
wait_for main "the Alerts footer offers b" 'b runbooks'

# --- b: the runbooks answering the alert ------------------------------------
keys main b
wait_for main "b opens the Runbooks pane on the alert" '^ *answering orders-db status +\(a: all runbooks\)'
wait_for main "pg-down suggested" 'suggested +pg-down +PostgreSQL does not answer'
wait_for main "the prefilled command line" "run: $CMD_RE"
wait_for main "the note: runs here or in a second terminal" 'Enter or r on a runbook runs it here'
if screen main | grep -q 'a-kafka-lag'; then
        bad "filtered: a-kafka-lag is shown"
else
        ok "filtered: only the runbooks answering the alert"
fi
if screen main | grep -q "$RUN"; then
        ok "filtered: the run of pg-down stays"
else
        bad "filtered: the run of pg-down is missing"
fi
echo "---- Runbooks pane from b (capture-pane) ----"
screen main | sed 's/[[:space:]]*$//' | sed -n '1,14p'

# --- a: every runbook, suggested first, then the runs ---------------------------
keys main a
wait_for main "a: a-kafka-lag is back" 'runbook +a-kafka-lag +A consumer group is lagging'
rows=$(screen main | grep -nE 'suggested +pg-down|runbook +a-kafka-lag|run +'"$RUN" | cut -d: -f1 | tr '\n' ' ')
set -- $rows
if [ $# -eq 3 ] && [ "$1" -lt "$2" ] && [ "$2" -lt "$3" ]; then
        ok "order: suggested pg-down, then a-kafka-lag, then the run"
else
        bad "order of the rows (lines: $rows)"
fi
wait_for main "the run's row: runbook on target, user, result" "run +$RUN +pg-down on orders-db +alice +[0-9T:-]+Z +failed"
echo "---- Runbooks pane (capture-pane) ----"
screen main | sed 's/[[:space:]]*$//'
echo "--------------------------------------"

# --- d on pg-down: its page ------------------------------------------------------
keys main g d
wait_for main "detail: the title" '^ *PostgreSQL does not answer'
wait_for main "detail: the description" '^ +Check the pod, then the connection limit\.'
wait_for main "detail: the command" "^ +$CMD_RE"
wait_for main "detail: inputs" '^ +source: source \(postgres\), from the alert.s source'
wait_for main "detail: input default" '^ +wait: duration, default 2m'
wait_for main "detail: the manual step" '^ +1\. pod-running +manual'
wait_for main "detail: the wait step" '^ +2\. answers +wait'
wait_for main "detail: the wait's expression" '^ +on \$\{source\}: server_version != null'
keys main Escape

# --- Enter on the run ----------------------------------------------------------------
keys main / c 0 d e Enter
wait_for main "filter keeps the run" "run +$RUN"
keys main Enter
wait_for main "run detail: the header" "^ *run $RUN"
wait_for main "run detail: user" '^ +user +alice'
wait_for main "run detail: the first step ok" '^ +pod-running +manual +ok'
wait_for main "run detail: the failed step" '^ +answers +wait +failed'
wait_for main "run detail: its error" '^ +timed out after 5m00s'
wait_for main "run detail: the result" '^ *result: failed'
keys main Escape Escape

# --- b from the alert's detail page -----------------------------------------------
keys main : a l e r t s Enter
wait_for main "back on the Alerts pane" 'crit +.* orders-db +status'
keys main Enter
wait_for main "the alert's detail page" '^ *source +orders-db'
keys main b
wait_for main "b from the detail page: the Runbooks pane on the alert" '^ *answering orders-db status'

# --- 80x24 -------------------------------------------------------------------------
"${TM[@]}" resize-window -t main -x 80 -y 24
keys main a
wait_for main "80x24: the suggested row" 'suggested +pg-down'
wait_for main "80x24: the footer" 'q quit'
screen main >"$T/small.txt"
if python3 -c '
import sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
sys.exit(0 if len(lines) <= 24 and all(len(l) <= 80 for l in lines) else 1)' "$T/small.txt"; then
        ok "80x24: nothing past the screen"
else
        bad "80x24: the screen overflows"
fi
echo "---- 80x24 ----"
sed 's/[[:space:]]*$//' "$T/small.txt"

keys main q
deadline=$(($(now_ms) + 5000))
while [ ! -s "$T/rc" ] && [ "$(now_ms)" -lt "$deadline" ]; do sleep 0.1; done
if [ "$(cat "$T/rc" 2>/dev/null)" = 0 ]; then
        ok "q exits 0"
else
        bad "q: exit status $(cat "$T/rc" 2>/dev/null || echo none)"
fi

if [ "$fails" -gt 0 ]; then
        echo "FAILED: $fails check(s)"
        exit 1
fi
echo "all passed"
