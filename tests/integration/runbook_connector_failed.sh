#!/usr/bin/env bash
#
# runbook_connector_failed.sh: the shipped runbook connector-failed
# (deploy/runbooks/connector-failed.yaml) end to end with the real binary,
# on a fixture Kafka Connect worker (tests/lib/fixture_httpd.py) whose
# connector `s3-sink` is RUNNING with its task 1 FAILED (the silent
# outage: nothing flows for that task's partitions), and the fake
# Kubernetes API server (tests/lib/fake_kube.py, fixtures
# tests/fixtures/runbooks/connector-failed/kube) with the Connect workers
# data/kafka-connect ready.
#
#   - a dry run (the shipped file as it is): exit 0, the checks' current
#     values, the resolved restart request; no mutating request, no
#     ledger, no audit line;
#   - a real run with --yes: when the worker receives the restart POST the
#     test answers RUNNING for the connector and both tasks from then on;
#     exit 0, exactly one POST
#     /connectors/s3-sink/restart?includeTasks=true&onlyFailed=true, the
#     ledger (every step in order, the check values, the manual step
#     confirmed, the verify), the audit line with the run id;
#   - the failure path: the worker refuses the restart (409, a rebalance in
#     progress, as Connect answers then) on both attempts (the step has
#     `retries: 1`): exit 1, the run ends failed at step `restart` with the
#     worker's message, exactly two POSTs, `running` never started, and
#     two audit lines with outcome failed and status 409.
#
# The runs use a copy of the shipped runbook in the temp dir where only the
# hold durations are shortened (rbe_shorten: every `for:` to 3s; the shipped
# 1m and 2m would make the test take minutes). The runbook has a manual
# step (read the trace), so the runs' stdin is a pseudo-terminal, and the
# test types its answer "y" (rbe_pty_feed of tests/lib/runbook_e2e.sh:
# rbe_pty_run with answers queued on the terminal).
#
# The kubernetes collector reads the API itself; the runbook's only action
# is Connect's REST restart, so `kubectl` in the config names a program
# that does not exist: nothing may shell out.
#
# Uses the real clock (fixture servers the runs poll for seconds). Env:
# LO_BINARY, LO_SOURCE_DIR. Everything lives in one temp dir, removed at
# exit (tests/lib/runbook_e2e.sh); servers are stopped by their PID.
#
# ctest-label: real-clock

set -u

# shellcheck source=../lib/runbook_e2e.sh
. "${LO_SOURCE_DIR:?set LO_SOURCE_DIR to the source tree}/tests/lib/runbook_e2e.sh"
rbe_init rbconn
CONN=s3-sink
RB=connector-failed
mkdir -p connect runbooks

# ---- a fixture Kafka Connect worker ------------------------------------------

CT='"headers": {"Content-Type": "application/json"}'
TRACE='org.apache.kafka.connect.errors.ConnectException: Exiting WorkerSinkTask due to unrecoverable exception.\n\tat org.apache.kafka.connect.runtime.WorkerSinkTask.deliverMessages(WorkerSinkTask.java:618)'
# routes TASK1_STATE [RESTART_STATUS]: the worker's answers, the connector
# RUNNING with task 0 RUNNING and task 1 in TASK1_STATE; the restart POST
# answers RESTART_STATUS (202, or 409 as a worker in a rebalance does).
routes() {
        local trace=null restart
        [ "$1" = FAILED ] && trace="\"$TRACE\""
        if [ "${2:-202}" = 202 ]; then
                restart='"status": 202, '"$CT"', "json": {"name": "'$CONN'",
            "connector": {"state": "RUNNING", "worker_id": "w1:8083"},
            "tasks": [{"id": 1, "state": "RESTARTING", "worker_id": "w1:8083"}]}'
        else
                restart='"status": 409, '"$CT"', "json": {"error_code": 409,
            "message": "Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config change)"}'
        fi
        rbe_routes "$T/connect/routes.json" <<EOF
{"routes": [
  {"path": "/", $CT, "json": {"version": "3.6.0", "commit": "x", "kafka_cluster_id": "k"}},
  {"path": "/connectors", "query": "expand=status&expand=info", $CT, "json":
   {"$CONN": {"status": {"name": "$CONN", "type": "sink",
     "connector": {"state": "RUNNING", "worker_id": "w1:8083"},
     "tasks": [{"id": 0, "state": "RUNNING", "worker_id": "w1:8083"},
               {"id": 1, "state": "$1", "worker_id": "w2:8083", "trace": $trace}]},
    "info": {"name": "$CONN", "type": "sink",
     "tasks": [{"connector": "$CONN", "task": 0}, {"connector": "$CONN", "task": 1}],
     "config": {"connector.class": "io.confluent.connect.s3.S3SinkConnector",
                "topics": "orders", "tasks.max": "2"}}}}},
  {"method": "POST", "path": "/connectors/$CONN/restart",
   "query": "includeTasks=true&onlyFailed=true", $restart}
]}
EOF
}
routes FAILED
rbe_httpd connect "$T/connect/routes.json"
rbe_kube "$SRC/tests/fixtures/runbooks/$RB/kube"
rbe_ready
CURL=$(rbe_url connect)

# mkcfg FILE RUNBOOK_DIR: the sources named as the runbook's input defaults.
mkcfg() {
        cat >"$1" <<EOF
environment: test
audit_log: $T/audit.jsonl
kubectl: $T/no-kubectl
runbooks:
  - $2
sources:
  - name: connect
    kind: kafka_connect
    url: $CURL
    interval: 1s
    timeout: 5s
  - name: k8s
    kind: kubernetes
    kubeconfig: $T/kubeconfig
    context: fake
    namespaces: [data]
    interval: 1s
    timeout: 5s
EOF
}
mkcfg "$T/shipped.yaml" "$SRC/deploy/runbooks/$RB.yaml"
rbe_shorten "$SRC/deploy/runbooks/$RB.yaml" "$T/runbooks/$RB.yaml"
mkcfg "$T/short.yaml" "$T/runbooks"
CFG=$T/short.yaml

reqs() { rbe_reqs "$1" "$T/connect/requests.log" "$2"; }
POST_RESTART='("POST", "/connectors/'$CONN'/restart", "includeTasks=true&onlyFailed=true")'
# The values the checks show, by step (the shipped expressions).
V_KNOWN='any(connectors, .name == inputs.connector) = true'
V_FAILED='any(connectors, .name == inputs.connector and (.state == \"FAILED\" or .failed_tasks > 0 or any(.tasks, .state == \"UNASSIGNED\"))) = true'
V_WORKERS='any(workloads, .namespace == \"data\" and .name == \"kafka-connect\" and .ready > 0 and .ready == .desired) = true'
V_RUNNING='any(connectors, .name == inputs.connector and .state == \"RUNNING\" and .failed_tasks == 0 and all(.tasks, .state == \"RUNNING\")) = true'

expect "config check (shipped runbook)" 0 "$B" -c "$T/shipped.yaml" config check
expect "config check (shortened copy)" 0 "$B" -c "$T/short.yaml" config check

# ---- dry run, the shipped file ------------------------------------------------

expect "dry run" 0 "$B" -c "$T/shipped.yaml" runbook run $RB --dry-run \
        --input connect=connect --input connector=$CONN --input k8s=k8s
cp "$T/out" "$T/dry.out"
has "dry run: the connector is known" "$T/dry.out" \
        '^  now: true \(any\(connectors, \.name == inputs\.connector\) = true\)$'
has "dry run: a task is FAILED" "$T/dry.out" \
        '^  now: true \(any\(connectors, \.name == inputs\.connector and \(\.state == "FAILED" or \.failed_tasks > 0 .*\) = true\)$'
has "dry run: the Connect workers are up" "$T/dry.out" \
        '^  now: true \(any\(workloads, \.namespace == "data" and \.name == "kafka-connect" and \.ready > 0 and \.ready == \.desired\) = true\)$'
has "dry run: the exact restart request" "$T/dry.out" \
        "^POST $CURL/connectors/$CONN/restart\\?includeTasks=true&onlyFailed=true\$"
has "dry run: not RUNNING yet" "$T/dry.out" \
        '^  now: false \(any\(connectors, \.name == inputs\.connector and \.state == "RUNNING" and \.failed_tasks == 0 and all\(\.tasks, \.state == "RUNNING"\)\) = false\)$'
reqs "dry run: reads only" 'all(m == "GET" for m, p, q in r) and len(r) >= 1'
[ ! -e "$RUNS" ] && ok "dry run: no ledger" || bad "dry run wrote a ledger: $(ls "$RUNS")"
[ ! -s "$T/audit.jsonl" ] && ok "dry run: no audit line" || bad "dry run: audit: $(cat "$T/audit.jsonl")"

# ---- a real run: the restart brings the task back ------------------------------

: >"$T/connect/requests.log"
rbe_pty_feed "$T/run.out" "$T/run.err" $'y\n' \
        "$B" -c "$CFG" runbook run $RB --yes --input connector=$CONN
# The task comes back when the worker is told to restart it.
deadline=$(($(now_ms) + 60000))
until grep -q '"method": *"POST"' "$T/connect/requests.log"; do
        if [ "$(now_ms)" -ge "$deadline" ] || ! kill -0 "$RUN_PID" 2>/dev/null; then
                bad "the run sent no POST: $(cat "$T/run.out" "$T/run.err" | head -c 2000)"
                break
        fi
        sleep 0.05
done
routes RUNNING
rbe_pty_wait
if [ "$rc" = 0 ]; then
        ok "run --yes (exit 0)"
else
        bad "run --yes: exit $rc: $(head -c 3000 "$T/run.out") / $(head -c 1000 "$T/run.err")"
fi
has "run: ok" "$T/run.out" "^run [0-9]{8}T[0-9]{6}Z-$RB-[0-9a-f]{4}: ok\$"
RUN=$(sed -n 's/^run \([^ ]*\): ok$/\1/p' "$T/run.out")
reqs "run: exactly one POST, the restart" "[x for x in r if x[0] != \"GET\"] == [$POST_RESTART]"
reqs "run: only listings besides it" \
        'all(x in (("GET", "/connectors", "expand=status&expand=info"), ("GET", "/", ""))
             for x in r if x[0] == "GET")'
rbe_reqs "run: the API server got reads only" "$T/kube/requests.log" \
        'all(m == "GET" for m, p, q in r) and len(r) >= 1'

rbe_ledger "log" "$RUN" '
{k: v for k, v in d[0].items() if k != "at"} == {"ev": "start", "run": "'"$RUN"'",
 "runbook": "'$RB'", "file": "'"$T"'/runbooks/'$RB'.yaml", "user": "tester",
 "inputs": {"connect": "connect", "connector": "'$CONN'", "k8s": "k8s"}, "target": d[0]["target"]}'
json "log: every step once, in order, each ok" '
[(x["step"], x["kind"], x["result"], x["attempt"]) for x in d
 if x["ev"] == "step" and x["phase"] == "end"] ==
[("connector-known", "check", "ok", 1), ("something-failed", "check", "ok", 1),
 ("read-trace", "manual", "ok", 1), ("workers-up", "check", "ok", 1),
 ("restart", "action", "ok", 1), ("running", "wait", "ok", 1)]'
json "log: the only mutating step is the restart" '
[x["step"] for x in d if x["ev"] == "step" and x["phase"] == "end" and x["mutating"]] == ["restart"]'
json "log: the check values" '
{x["step"]: x["values"] for x in d if x["ev"] == "step" and x["phase"] == "end"
 and x["kind"] in ("check", "wait")} == {
 "connector-known": "'"$V_KNOWN"'", "something-failed": "'"$V_FAILED"'",
 "workers-up": "'"$V_WORKERS"'", "running": "'"$V_RUNNING"'"}'
json "log: the restart request and the worker answer" '
[(x["request"], "RESTARTING" in x["output_tail"]) for x in d if x["ev"] == "step"
 and x["phase"] == "end" and x["step"] == "restart"] ==
[("POST /connectors/'$CONN'/restart?includeTasks=true&onlyFailed=true", True)]'
json "log: the verify held, the run ended ok" '
[(x["source"], x["result"], x["values"]) for x in d if x["ev"] == "verify"] ==
[("connect", "ok", "'"$V_RUNNING"'")]
and {k: v for k, v in d[-1].items() if k != "at"} == {"ev": "end", "result": "ok"}'
rbe_audit "audit: one line, the restart, with the run id" '
len(a) == 1 and (a[0]["via"], a[0]["run"], a[0]["source"], a[0]["kind"], a[0]["action"],
 a[0]["target"], a[0]["outcome"], a[0]["status"], a[0]["request"]) ==
("cli", "'"$RUN"'", "connect", "kafka_connect", "restart", "'$CONN'", "ok", 202,
 "POST /connectors/'$CONN'/restart?includeTasks=true&onlyFailed=true")'

# ---- the failure path: the worker refuses the restart ---------------------------

routes FAILED 409
: >"$T/connect/requests.log"
: >"$T/audit.jsonl"
rbe_pty_feed "$T/fail.out" "$T/fail.err" $'y\n' \
        "$B" -c "$CFG" runbook run $RB --yes --input connector=$CONN
rbe_pty_wait
[ "$rc" = 1 ] && ok "refused restart: exit 1" \
        || bad "refused restart: exit $rc: $(head -c 2000 "$T/fail.out") / $(head -c 1000 "$T/fail.err")"
has "refused restart: failed" "$T/fail.out" "^run [0-9]{8}T[0-9]{6}Z-$RB-[0-9a-f]{4}: failed\$"
has "refused restart: the worker's message" "$T/fail.err" 'stale configuration'
FRUN=$(sed -n 's/^run \([^ ]*\): failed$/\1/p' "$T/fail.out")
reqs "refused restart: exactly two POSTs (retries: 1)" \
        "[x for x in r if x[0] != \"GET\"] == [$POST_RESTART, $POST_RESTART]"
rbe_ledger "refused restart: log" "$FRUN" '
[(x["step"], x["result"], x["attempt"]) for x in d if x["ev"] == "step" and x["phase"] == "end"] ==
[("connector-known", "ok", 1), ("something-failed", "ok", 1), ("read-trace", "ok", 1),
 ("workers-up", "ok", 1), ("restart", "failed", 1), ("restart", "failed", 2)]
and all("409" in x["error"] and "stale configuration" in x["error"] for x in d
        if x["ev"] == "step" and x["phase"] == "end" and x["step"] == "restart")
and not any(x.get("step") == "running" for x in d)
and not any(x["ev"] == "verify" for x in d)
and {k: v for k, v in d[-1].items() if k != "at"} == {"ev": "end", "result": "failed"}'
rbe_audit "refused restart: two audit lines, failed 409, the run id" '
[(x["via"], x["run"], x["action"], x["target"], x["outcome"], x["status"],
  "HTTP 409 Conflict: Cannot complete request momentarily" in x["error"]) for x in a] ==
[("cli", "'"$FRUN"'", "restart", "'$CONN'", "failed", 409, True)] * 2'

rbe_done $RB
