#!/usr/bin/env bash
#
# runbook_run.sh: `lambdaops runbook run|resume|log` end to end with the
# real binary, against a fixture Kafka Connect worker
# (tests/lib/fixture_httpd.py) and the runbook
# tests/fixtures/runbooks/run/e2e-connector.yaml: a check of the source's
# status, the `restart` action (--yes; the exact request in the fixture's
# request log, the audit line carries the run id), a run step, a wait and
# a verify; `runbook log RUN --json` gives the exact records; a dry run
# sends no mutating request and writes no ledger; without a terminal and
# without --yes the run is refused (75); an unbound input is refused (64);
# then a run killed (SIGKILL) in its wait is resumed: it continues at the
# wait and repeats neither the restart nor the run step.
#
# Env: LO_BINARY (the lambdaops binary), LO_SOURCE_DIR (the source tree).
# Every command runs under `timeout`; everything lives in one temp dir,
# removed at exit; servers and the killed run are stopped by their PID.

set -u

B=${LO_BINARY:?set LO_BINARY to the lambdaops binary}
SRC=${LO_SOURCE_DIR:?set LO_SOURCE_DIR to the source tree}
T=$(mktemp -d /tmp/lo-rbrun.XXXXXX)
fails=0
pids=()

cleanup() {
        local p
        for p in "${pids[@]}"; do
                kill "$p" 2>/dev/null
        done
        [ -n "${RUN_PID:-}" ] && kill -KILL "$RUN_PID" 2>/dev/null
        rm -rf "$T"
}
trap cleanup EXIT
python3 "$SRC/tests/lib/proc_guard.py" --pid $$ --list "$T/.lo-guard" d "$T" r "$T" </dev/null >/dev/null 2>&1

ok()   { printf 'ok   %s\n' "$1"; }
bad()  { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }

# shellcheck source=../lib/cli_helpers.sh
. "$(dirname "$0")/../lib/cli_helpers.sh"

cd "$T" || exit 1
mkdir -p home xdg state connect
export HOME=$T/home XDG_CONFIG_HOME=$T/xdg XDG_STATE_HOME=$T/state USER=tester
unset LAMBDAOPS_CONFIG NO_COLOR
RUNS=$T/state/lambdaops/runs
CT='"headers": {"Content-Type": "application/json"}'

# routes STATE [FIRST_STATE]: the worker's answers, replaced atomically
# (the server re-reads them on every request). With FIRST_STATE the first
# listing shows that state once, then STATE.
routes() {
        local first='{"path": "/unused-slot-of-the-first-answer"},'
        conn() {
                printf '{"orders": {"status": {"name": "orders", "type": "source",
  "connector": {"state": "%s", "worker_id": "w1:8083"},
  "tasks": [{"id": 0, "state": "%s", "worker_id": "w1:8083"}]},
 "info": {"name": "orders", "type": "source", "tasks": [{"connector": "orders", "task": 0}],
  "config": {"connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector"}}}}' "$1" "$1"
        }
        if [ -n "${2:-}" ]; then
                first='{"path": "/connectors", "query": "expand=status&expand=info", '"$CT"',
  "times": 1, "json": '"$(conn "$2")"'},'
        fi
        cat >"$T/connect/routes.tmp" <<EOF
{"routes": [
  {"path": "/", $CT, "json": {"version": "3.6.0", "commit": "x", "kafka_cluster_id": "k"}},
  $first
  {"path": "/connectors", "query": "expand=status&expand=info", $CT, "json": $(conn "$1")},
  {"method": "POST", "path": "/connectors/orders/restart",
   "query": "includeTasks=true&onlyFailed=true", "status": 202, $CT,
   "json": {"name": "orders", "connector": {"state": "RESTARTING", "worker_id": "w1:8083"},
            "tasks": [{"id": 0, "state": "RESTARTING", "worker_id": "w1:8083"}]}}
]}
EOF
        mv "$T/connect/routes.tmp" "$T/connect/routes.json"
}

# (The server counts answers per route index across rewrites, so the index
# of the "times" route holds a route nothing asks for when it is not used.)
routes FAILED
: >"$T/connect/requests.log"
python3 "$SRC/tests/lib/fixture_httpd.py" --routes "$T/connect/routes.json" \
        --log "$T/connect/requests.log" --port-file "$T/connect/port" </dev/null \
        >>"$T/connect/httpd.log" 2>&1 &
pids+=("$!")
deadline=$(($(date +%s%3N) + 20000))
until [ -s "$T/connect/port" ]; do
        if [ "$(date +%s%3N)" -ge "$deadline" ]; then
                bad "fixture server did not start: $(cat "$T/connect/httpd.log")"
                exit 1
        fi
        sleep 0.05
done
url="http://127.0.0.1:$(cat "$T/connect/port")"

cat >"$T/config.yaml" <<EOF
environment: test
audit_log: $T/audit.jsonl
runbooks:
  - $SRC/tests/fixtures/runbooks/run
sources:
  - name: connect
    kind: kafka_connect
    url: $url
    interval: 1h
    timeout: 5s
EOF

# reqs WHAT PYTHON_EXPR: the expression with `r`, the requests the worker
# logged as (method, path, query) tuples.
reqs() {
        local res
        res=$(python3 -c '
import json, sys
r = [(x["method"], x["path"], x["query"]) for x in
     (json.loads(l) for l in open(sys.argv[1]) if l.strip())]
print("yes" if ('"$2"') else "no: " + json.dumps(r)[:800])
' "$T/connect/requests.log" 2>&1)
        if [ "$res" = yes ]; then ok "$1"; else bad "$1: $2: $res"; fi
}
POST_RESTART='("POST", "/connectors/orders/restart", "includeTasks=true&onlyFailed=true")'
RB=(-c "$T/config.yaml" runbook)

# ---- refusals before anything ------------------------------------------------

expect "run --help" 0 "$B" runbook run --help
has "run --help: the exit codes" "$T/out" '73 another run holds the lock, 75 no terminal'
expect "run: an unknown option" 64 "$B" "${RB[@]}" run e2e-connector --bogus

expect "run: an unbound input is refused" 64 "$B" "${RB[@]}" run e2e-connector \
        --input connect=connect --yes
has "run: says which input" "$T/err" "input connector is not set; give --input connector=VALUE"
expect "run: an unknown input is refused" 64 "$B" "${RB[@]}" run e2e-connector \
        --input connect=connect --input connector=orders --input nope=1 --yes
expect "run: without a terminal and --yes: refused" 75 "$B" "${RB[@]}" run e2e-connector \
        --input connect=connect --input connector=orders
has "run: says why" "$T/err" "stdin is not a terminal and step restart needs an answer"
expect "run: unknown runbook" 66 "$B" "${RB[@]}" run no-such --yes
reqs "refusals sent nothing" 'r == []'
[ ! -e "$RUNS" ] && ok "refusals wrote no ledger" || bad "refusals wrote a ledger: $(ls "$RUNS")"

# ---- dry run -------------------------------------------------------------------

expect "dry run" 0 "$B" "${RB[@]}" run e2e-connector --input connect=connect \
        --input connector=orders --dry-run
has "dry run: the check's current values" "$T/out" \
        '^  now: true \(any\(connectors, \.name == inputs\.connector and \.state == "FAILED"\) = true\)$'
has "dry run: the exact request" "$T/out" \
        "^POST $url/connectors/orders/restart\\?includeTasks=true&onlyFailed=true\$"
has "dry run: the argv" "$T/out" "^  \\$ /bin/echo 'restarted orders on connect'\$"
has "dry run: the verify" "$T/out" '^  connect: all\(connectors, \.state == "RUNNING"\)$'
reqs "dry run: no mutating request" "all(m == \"GET\" for m, p, q in r) and len(r) >= 1"
[ ! -e "$RUNS" ] && ok "dry run: no ledger" || bad "dry run wrote a ledger: $(ls "$RUNS")"

# ---- a real run ----------------------------------------------------------------

routes RUNNING FAILED
: >"$T/connect/requests.log"
expect "run --yes" 0 "$B" "${RB[@]}" run e2e-connector --input connect=connect \
        --input connector=orders --yes
has "run: ok" "$T/out" '^run [0-9]{8}T[0-9]{6}Z-e2e-connector-[0-9a-f]{4}: ok$'
RUN1=$(sed -n 's/^run \([^ ]*\): ok$/\1/p' "$T/out")
reqs "run: exactly one restart, the exact request" "[x for x in r if x[0] != \"GET\"] == [$POST_RESTART]"
has "run: the run step's output" "$T/out" '^restarted orders on connect$'

expect "log --json" 0 "$B" "${RB[@]}" log "$RUN1" --json
json "log --json: the exact records (less at, duration_ms)" '
[{k: v for k, v in x.items() if k not in ("at", "duration_ms")} for x in d] == [
 {"ev": "start", "run": "'"$RUN1"'", "runbook": "e2e-connector",
  "file": "'"$SRC"'/tests/fixtures/runbooks/run/e2e-connector.yaml", "user": "tester",
  "inputs": {"connect": "connect", "connector": "orders"}, "target": "connect/orders"},
 {"ev": "step", "step": "is-failed", "index": 0, "kind": "check", "mutating": False,
  "phase": "start", "attempt": 1, "user": "tester"},
 {"ev": "step", "step": "is-failed", "index": 0, "kind": "check", "mutating": False,
  "phase": "end", "result": "ok", "attempt": 1,
  "values": "any(connectors, .name == inputs.connector and .state == \"FAILED\") = true",
  "user": "tester", "next": 1},
 {"ev": "step", "step": "restart", "index": 1, "kind": "action", "mutating": True,
  "phase": "start", "attempt": 1, "user": "tester"},
 {"ev": "step", "step": "restart", "index": 1, "kind": "action", "mutating": True,
  "phase": "end", "result": "ok", "attempt": 1,
  "request": "POST /connectors/orders/restart?includeTasks=true&onlyFailed=true",
  "output_tail": d[4].get("output_tail"), "user": "tester", "next": 2},
 {"ev": "step", "step": "note", "index": 2, "kind": "run", "mutating": True,
  "phase": "start", "attempt": 1, "user": "tester"},
 {"ev": "step", "step": "note", "index": 2, "kind": "run", "mutating": True,
  "phase": "end", "result": "ok", "attempt": 1,
  "argv": ["/bin/echo", "restarted orders on connect"],
  "output_tail": "restarted orders on connect", "user": "tester", "next": 3},
 {"ev": "step", "step": "running", "index": 3, "kind": "wait", "mutating": False,
  "phase": "start", "attempt": 1, "user": "tester"},
 {"ev": "step", "step": "running", "index": 3, "kind": "wait", "mutating": False,
  "phase": "end", "result": "ok", "attempt": 1,
  "values": "any(connectors, .name == inputs.connector and .state == \"RUNNING\") = true",
  "user": "tester", "next": 4},
 {"ev": "verify", "index": 0, "source": "connect", "expr": "all(connectors, .state == \"RUNNING\")",
  "result": "ok", "values": "all(connectors, .state == \"RUNNING\") = true"},
 {"ev": "end", "result": "ok"}]
and all(isinstance(x.get("at"), str) for x in d)
and all(isinstance(x["duration_ms"], int) for x in d if x.get("phase") == "end")'
json "log --json: the action's answer in its output tail" \
        '"RESTARTING" in d[4]["output_tail"] and "202" in d[4]["output_tail"]'
expect "log" 0 "$B" "${RB[@]}" log "$RUN1"
has "log: the restart" "$T/out" \
        ' step restart ok; request POST /connectors/orders/restart\?includeTasks=true&onlyFailed=true$'
has "log: the end" "$T/out" ' end ok$'
expect "log: an unknown run" 66 "$B" "${RB[@]}" log 20200101T000000Z-none-0000

python3 - "$T/audit.jsonl" "$RUN1" >"$T/audit.out" 2>&1 <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(lines) == 1, lines
a = lines[0]
assert a["run"] == sys.argv[2], a
assert (a["via"], a["source"], a["kind"], a["action"], a["target"], a["outcome"], a["status"]) \
    == ("cli", "connect", "kafka_connect", "restart", "orders", "ok", 202), a
assert a["request"] == "POST /connectors/orders/restart?includeTasks=true&onlyFailed=true", a
print("yes")
EOF
[ "$(cat "$T/audit.out")" = yes ] && ok "audit: one line, with the run id" \
        || bad "audit: $(cat "$T/audit.out")"

# ---- read-only -------------------------------------------------------------------

routes FAILED
: >"$T/connect/requests.log"
expect "run --read-only: the restart is refused" 77 "$B" -c "$T/config.yaml" --read-only \
        runbook run e2e-connector --input connect=connect --input connector=orders --yes
has "run --read-only: says why" "$T/err" "step restart: .*read-only"
reqs "run --read-only: no mutating request" 'all(m == "GET" for m, p, q in r)'
RUN_RO=$(sed -n 's/^run \([^ ]*\): refused$/\1/p' "$T/out")
python3 - "$T/audit.jsonl" "$RUN_RO" >"$T/audit.out" 2>&1 <<'EOF'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1]) if l.strip()][-1]
assert (a["run"], a["outcome"], a["reason"], a["action"]) == (sys.argv[2], "refused",
                                                              "read-only", "restart"), a
print("yes")
EOF
[ "$(cat "$T/audit.out")" = yes ] && ok "audit: the refusal, with the run id" \
        || bad "audit: $(cat "$T/audit.out")"

# ---- a run killed in its wait, then resumed ----------------------------------------

routes FAILED
: >"$T/connect/requests.log"
"$B" "${RB[@]}" run e2e-connector --input connect=connect --input connector=orders --yes \
        </dev/null >"$T/run2.out" 2>&1 &
RUN_PID=$!
echo "p $RUN_PID" >>"$T/.lo-guard"
deadline=$(($(date +%s%3N) + 30000))
RUN2=
until [ -n "$RUN2" ]; do
        for f in "$RUNS"/*.jsonl; do
                [ "$f" = "$RUNS/$RUN1.jsonl" ] && continue
                if grep -q '"step":"running","index":3,"kind":"wait","mutating":false,"phase":"start"' \
                        "$f" 2>/dev/null; then
                        RUN2=$(basename "$f" .jsonl)
                fi
        done
        if [ -z "$RUN2" ] && [ "$(date +%s%3N)" -ge "$deadline" ]; then
                bad "the second run did not reach its wait: $(cat "$T/run2.out")"
                break
        fi
        [ -n "$RUN2" ] || sleep 0.05
done
expect "a second run on the same target meanwhile: refused" 73 "$B" "${RB[@]}" run \
        e2e-connector --input connect=connect --input connector=orders --yes
has "the refusal names the run in progress" "$T/err" \
        "run $RUN2 of e2e-connector on connect/orders is in progress \\(pid $RUN_PID\\)"
# (stderr: bash reports the job it reaps as "Killed")
{ kill -KILL "$RUN_PID"; wait "$RUN_PID"; } 2>/dev/null
RUN_PID=
reqs "killed run: one restart" "[x for x in r if x[0] != \"GET\"] == [$POST_RESTART]"

expect "killed run: log" 0 "$B" "${RB[@]}" log "$RUN2" --json
json "killed run: no end record, the wait started" \
        '[x["ev"] for x in d][-1] == "step" and d[-1]["step"] == "running" and d[-1]["phase"] == "start"'

routes RUNNING
expect "resume" 0 "$B" "${RB[@]}" resume "$RUN2" --yes
has "resume: ok" "$T/out" "^run $RUN2: ok\$"
reqs "resume: the restart was not repeated" "[x for x in r if x[0] != \"GET\"] == [$POST_RESTART]"
expect "resume: log" 0 "$B" "${RB[@]}" log "$RUN2" --json
json "resume: continues at the wait; nothing before it again" '
[(x["ev"], x.get("step"), x.get("phase"), x.get("result")) for x in d
 [[i for i, x in enumerate(d) if x["ev"] == "resume"][0]:]] == [
  ("resume", None, None, None),
  ("step", "running", "start", None), ("step", "running", "end", "ok"),
  ("verify", None, None, "ok"), ("end", None, None, "ok")]
and [x for x in d if x["ev"] == "resume"][0]["from"] == 3
and sum(1 for x in d if x.get("step") == "note" and x.get("phase") == "end") == 1'
expect "resume: an ended run" 66 "$B" "${RB[@]}" resume "$RUN2" --yes
has "resume: says it ended" "$T/err" "has ended: nothing to resume"

if [ "$fails" -gt 0 ]; then
        printf '%d check(s) failed\n' "$fails"
        exit 1
fi
echo "all runbook run checks passed"
