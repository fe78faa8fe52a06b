#!/usr/bin/env bash
#
# runbook_consumer_lag.sh: the shipped runbook consumer-lag-stalled
# (deploy/runbooks/consumer-lag-stalled.yaml) end to end with the real
# binary and the real kubectl, on librdkafka's mock cluster
# (bench_kafka --serve: 3 brokers, 5 topics x 3 partitions, groups
# bench-g00 and bench-g01 committed at half of each partition: lag 20 each)
# and the fake Kubernetes API server (tests/lib/fake_kube.py, fixtures
# tests/fixtures/runbooks/consumer-lag-stalled/kube) holding the
# SparkApplication processing/speed-orders FAILED, and the driver UI of its
# next run behind the service proxy (raw fixtures: processing 4200
# records/s).
#
#   - a dry run (the shipped file as it is): exit 0, the checks' current
#     values (the group and its lag 20 over max_lag 10, the brokers up, the
#     application FAILED), the resolved kubectl argv of the resubmit; no
#     mutating request, no ledger, no audit line;
#   - a real run with --yes on bench-g00: the real kubectl deletes and
#     creates the SparkApplication; when the create arrives the test plays
#     the operator (the object RUNNING, its driver answering), and once the
#     run waits for the lag, the application's consumption: the group
#     commits the head of its partitions (bench_kafka --catch-up), so the
#     lag the collector reads falls from 20 to 0 for real. Exit 0, exactly
#     the DELETE and the POST, the ledger (every step, the informative
#     check failed and passed over, the values, the verify of both
#     sources), the audit line with the run id;
#   - the failure path on bench-g01: the resubmitted application runs but
#     the group's lag never falls: exit 1, the run ends failed at
#     `lag-falls` (timed out), after exactly one DELETE and one POST. The
#     shipped wait allows 30 minutes; this run's copy allows 10 s (its one
#     other change from the shipped file besides the hold durations).
#
# max_lag is an input (shipped default 200000, the production threshold);
# the runs pass 10 so that the mock's lag of 20 is over it.
#
# The runs use a copy of the shipped runbook where the hold durations are
# shortened (rbe_shorten: every `for:` to 3s; shipped 30s and 2m).
#
# Starts the librdkafka mock and the real kubectl: real clock only. Env:
# LO_BINARY (bench_kafka is found next to it, in bench/), LO_SOURCE_DIR.
# Everything lives in one temp dir, removed at exit
# (tests/lib/runbook_e2e.sh); servers are stopped by their PID.
#
# ctest-label: real-clock

set -u

# shellcheck source=../lib/runbook_e2e.sh
. "${LO_SOURCE_DIR:?set LO_SOURCE_DIR to the source tree}/tests/lib/runbook_e2e.sh"
rbe_init rblag
RB=consumer-lag-stalled
APP=speed-orders
NS=processing
BENCH=$(dirname "$B")/bench/bench_kafka
mkdir -p runbooks kcache

if [ ! -x "$BENCH" ]; then
        echo "SKIP: $BENCH is not built"
        exit 0
fi
if ! command -v kubectl >/dev/null 2>&1; then
        echo "SKIP: kubectl not found"
        exit 0
fi

# ---- the mock cluster, the fake API server ---------------------------------------

"$BENCH" --serve -t 5 -p 3 -g 2 >"$T/bootstrap" 2>"$T/mock.log" &
pids+=("$!")
MOCK_PID=$!
rbe_kube "$SRC/tests/fixtures/runbooks/$RB/kube"
rbe_ready
deadline=$(($(now_ms) + 30000))
until [ -s "$T/bootstrap" ]; do
        if ! kill -0 "$MOCK_PID" 2>/dev/null || [ "$(now_ms)" -ge "$deadline" ]; then
                bad "the mock cluster did not start: $(cat "$T/mock.log")"
                exit 1
        fi
        sleep 0.05
done
BS=$(head -n1 "$T/bootstrap")
KURL=$(rbe_url kube)
API=/apis/sparkoperator.k8s.io/v1beta2/namespaces/$NS/sparkapplications

mkcfg() {
        cat >"$1" <<EOF
environment: test
audit_log: $T/audit.jsonl
kubectl_cache_dir: $T/kcache
runbooks:
  - $2
sources:
  - name: events
    kind: kafka
    bootstrap: "$BS"
    groups: [bench-g00, bench-g01]
    interval: 1s
    timeout: 3s
  - name: k8s
    kind: kubernetes
    kubeconfig: $T/kubeconfig
    context: fake
    namespaces: [$NS]
    interval: 1s
    timeout: 5s
  - name: spark
    kind: spark
    kubernetes: k8s
    namespaces: [$NS]
    interval: 1s
    timeout: 5s
EOF
}
mkcfg "$T/shipped.yaml" "$SRC/deploy/runbooks/$RB.yaml"
rbe_shorten "$SRC/deploy/runbooks/$RB.yaml" "$T/runbooks/$RB.yaml"
mkcfg "$T/short.yaml" "$T/runbooks"
CFG=$T/short.yaml
# The failure path's copy: also the lag wait's 30m timeout cut to 10s.
mkdir -p "$T/fail-rb"
sed 's/^    timeout: 30m$/    timeout: 10s/' "$T/runbooks/$RB.yaml" >"$T/fail-rb/$RB.yaml"
if [ "$(diff "$T/runbooks/$RB.yaml" "$T/fail-rb/$RB.yaml" | grep -c '^>')" = 1 ]; then
        ok "the failure copy differs in the lag wait's timeout only"
else
        bad "the failure copy: $(diff "$T/runbooks/$RB.yaml" "$T/fail-rb/$RB.yaml")"
fi
mkcfg "$T/fail.yaml" "$T/fail-rb"

# kube_log NAME: the API server's requests so far but the test's own
# /_fake/ ones, kept as $T/kube/NAME.log (the next phase empties the log);
# kreqs WHAT EXPR: EXPR over r, that copy's (method, path, query) tuples.
kube_log() {
        KLOG=$T/kube/$1.log
        grep -v '"path": *"/_fake/' "$T/kube/requests.log" >"$KLOG"
}
kreqs() { rbe_reqs "$1" "$KLOG" "$2"; }
RESUBMIT='[x for x in r if x[0] != "GET"] == [("DELETE", "'"$API/$APP"'", ""),
 ("POST", "'"$API"'", "fieldManager=kubectl-create&fieldValidation=Strict")]'

# operator N: waits for the Nth create of the SparkApplication, then plays
# the operator: the stored object RUNNING under a new application id whose
# driver UI the raw fixtures serve.
operator() {
        local deadline=$(($(now_ms) + 90000))
        until [ "$(grep -c '"method": *"POST", *"path": *"'"$API"'"' "$T/kube/requests.log")" -ge "$1" ]; do
                if [ "$(now_ms)" -ge "$deadline" ] || ! kill -0 "$RUN_PID" 2>/dev/null; then
                        bad "the run created nothing (see its output)"
                        return 1
                fi
                sleep 0.05
        done
        python3 - "$KURL" "$API/$APP" <<'EOF' >"$T/operator.out" 2>&1 || bad "play the operator: $(cat "$T/operator.out")"
import json, sys, urllib.request
base, path = sys.argv[1], sys.argv[2]
obj = json.load(urllib.request.urlopen(base + path, timeout=10))
obj["status"] = {"applicationState": {"state": "RUNNING"},
                 "sparkApplicationId": "spark-5eed0000000000000000000000000002",
                 "submissionAttempts": 1, "executionAttempts": 1,
                 "driverInfo": {"podName": "speed-orders-driver",
                                "webUIServiceName": "speed-orders-ui-svc", "webUIPort": 4040},
                 "executorState": {"speed-orders-exec-1": "RUNNING",
                                   "speed-orders-exec-2": "RUNNING"}}
req = urllib.request.Request(base + "/_fake/objects", data=json.dumps([obj]).encode(),
                             method="POST", headers={"Content-Type": "application/json"})
urllib.request.urlopen(req, timeout=10).read()
EOF
}

# started RUN_OUT STEP: waits until the run's ledger has STEP's start record.
started() {
        local deadline=$(($(now_ms) + 90000)) run
        while :; do
                run=$(sed -n 's/^run \([^ ]*\) of .*/\1/p' "$1" | head -n 1)
                if [ -n "$run" ] && [ -f "$RUNS/$run.jsonl" ] && python3 -c '
import json, sys
sys.exit(0 if any(r.get("step") == sys.argv[2] and r.get("phase") == "start"
                  for r in (json.loads(l) for l in open(sys.argv[1]) if l.endswith("\n")))
         else 1)' "$RUNS/$run.jsonl" "$2"; then
                        return 0
                fi
                if [ "$(now_ms)" -ge "$deadline" ] || ! kill -0 "$RUN_PID" 2>/dev/null; then
                        bad "the run did not reach $2: $(head -c 3000 "$1")"
                        return 1
                fi
                sleep 0.05
        done
}

V_GROUP='any(groups, .name == inputs.group) = true'
V_BROKERS='count(brokers, .up == false) = 0, sum(topics, .offline) = 0, (quorum.leader_id != null or \"does not support DescribeQuorum\" in quorum.reason) = true'
V_EXISTS='any(applications, .namespace + \"/\" + .name == inputs.application) = true'
V_RUNNING='any(applications, .namespace + \"/\" + .name == inputs.application and .state == \"RUNNING\" and .streaming != null and .streaming.processing_rate > 0) = true'
V_LAG='any(groups, .name == inputs.group and .lag != null and .lag < inputs.max_lag and .worst_partition_status != \"stop\" and .worst_partition_status != \"stall\") = true'
V_SPARK_UP='any(applications, .namespace + \"/\" + .name == inputs.application and .state == \"RUNNING\") = true'
KPFX="kubectl --kubeconfig $T/kubeconfig --context fake --cache-dir $T/kcache -n $NS"

expect "config check (shipped runbook)" 0 "$B" -c "$T/shipped.yaml" config check
expect "config check (shortened copy)" 0 "$B" -c "$T/short.yaml" config check

# The group as the collector reads it: lag 20 over 15 partitions.
expect "status: the mock" 0 "$B" -c "$T/shipped.yaml" status --json
json "status: bench-g00 lags 20, the brokers cannot describe a quorum" '
[(g["lag"], len(g["partitions"])) for g in d["sources"]["events"]["groups"]
 if g["name"] == "bench-g00"] == [(20, 15)]
and "does not support DescribeQuorum" in d["sources"]["events"]["quorum"]["reason"]'

# ---- dry run, the shipped file ------------------------------------------------

expect "dry run" 0 "$B" -c "$T/shipped.yaml" runbook run $RB --dry-run \
        --input group=bench-g00 --input max_lag=10
cp "$T/out" "$T/dry.out"
line() {
        if grep -Fxq -- "$3" "$2"; then ok "$1"; else bad "$1: '$3' not in $(basename "$2")"; fi
}
line "dry run: the group is watched" "$T/dry.out" \
        '  now: true (any(groups, .name == inputs.group) = true)'
line "dry run: Kafka is fine" "$T/dry.out" \
        '  now: true (count(brokers, .up == false) = 0, sum(topics, .offline) = 0, (quorum.leader_id != null or "does not support DescribeQuorum" in quorum.reason) = true)'
has "dry run: the application is not running" "$T/dry.out" \
        '^  now: false \(any\(applications, .*\) = true, count\(applications, .* and \.state == "RUNNING"\) = 0, count\(applications, .*processing_rate > 0\) = 0\)$'
line "dry run: the application exists" "$T/dry.out" \
        '  now: true (any(applications, .namespace + "/" + .name == inputs.application) = true)'
line "dry run: resubmit deletes" "$T/dry.out" "\$ $KPFX delete sparkapplication/$APP --wait=true"
line "dry run: resubmit creates from the private copy" "$T/dry.out" \
        "\$ $KPFX create -f '<private temp dir>/sparkapplication.json'"
line "dry run: the lag is not below max_lag" "$T/dry.out" \
        '  now: false (any(groups, .name == inputs.group and .lag != null and .lag < inputs.max_lag and .worst_partition_status != "stop" and .worst_partition_status != "stall") = false)'
kube_log dry
kreqs "dry run: reads only" 'all(m == "GET" for m, p, q in r) and len(r) >= 1'
[ ! -e "$RUNS" ] && ok "dry run: no ledger" || bad "dry run wrote a ledger: $(ls "$RUNS")"
[ ! -s "$T/audit.jsonl" ] && ok "dry run: no audit line" || bad "dry run: audit: $(cat "$T/audit.jsonl")"

# ---- a real run: resubmit, the application consumes, the lag falls ------------------

: >"$T/kube/requests.log"
rbe_pty_run "$T/run.out" "$T/run.err" "$B" -c "$CFG" runbook run $RB --yes \
        --input group=bench-g00 --input max_lag=10
operator 1
# The application consumes once the run waits for the lag: the group
# commits the head of its partitions.
if started "$T/run.out" lag-falls; then
        if timeout 30 "$BENCH" -b "$BS" -t 5 -p 3 --catch-up 0 >"$T/catchup.log" 2>&1; then
                ok "bench-g00 committed the head"
        else
                bad "bench-g00 catch-up: $(cat "$T/catchup.log")"
        fi
fi
rbe_pty_wait
if [ "$rc" = 0 ]; then
        ok "run --yes (exit 0)"
else
        bad "run --yes: exit $rc: $(head -c 3000 "$T/run.out") / $(head -c 1500 "$T/run.err")"
fi
has "run: ok" "$T/run.out" "^run [0-9]{8}T[0-9]{6}Z-$RB-[0-9a-f]{4}: ok\$"
RUN=$(sed -n 's/^run \([^ ]*\): ok$/\1/p' "$T/run.out")
kube_log run
kreqs "run: exactly the DELETE and the POST of the SparkApplication" "$RESUBMIT"
kreqs "run: the new driver read through the service proxy" \
        'any(p == "/api/v1/namespaces/'$NS'/services/speed-orders-ui-svc:4040/proxy/metrics/json"
             for m, p, q in r)'

rbe_ledger "log" "$RUN" '
{k: v for k, v in d[0].items() if k != "at"} == {"ev": "start", "run": "'"$RUN"'",
 "runbook": "'$RB'", "file": "'"$T"'/runbooks/'$RB'.yaml", "user": "tester",
 "inputs": {"kafka": "events", "group": "bench-g00", "spark": "spark",
            "application": "'$NS/$APP'", "max_lag": "10"}, "target": d[0]["target"]}'
json "log: every step once, in order; the informative check failed and went on" '
[(x["step"], x["kind"], x["result"], x["attempt"]) for x in d
 if x["ev"] == "step" and x["phase"] == "end"] ==
[("group-known", "check", "ok", 1), ("brokers-fine", "check", "ok", 1),
 ("application-state", "check", "failed", 1), ("application-exists", "check", "ok", 1),
 ("resubmit", "action", "ok", 1), ("running", "wait", "ok", 1), ("lag-falls", "wait", "ok", 1)]'
json "log: the only mutating step is the resubmit" '
[x["step"] for x in d if x["ev"] == "step" and x["phase"] == "end" and x["mutating"]] == ["resubmit"]'
json "log: the check values" '
{x["step"]: x["values"] for x in d if x["ev"] == "step" and x["phase"] == "end"
 and x["step"] != "resubmit"} == {
 "group-known": "'"$V_GROUP"'", "brokers-fine": "'"$V_BROKERS"'",
 "application-state": "any(applications, .namespace + \"/\" + .name == inputs.application) = true, count(applications, .namespace + \"/\" + .name == inputs.application and .state == \"RUNNING\") = 0, count(applications, .namespace + \"/\" + .name == inputs.application and .streaming != null and .streaming.processing_rate > 0) = 0",
 "application-exists": "'"$V_EXISTS"'", "running": "'"$V_RUNNING"'", "lag-falls": "'"$V_LAG"'"}'
json "log: the resubmit commands and their output" '
[(x["request"].startswith("'"$KPFX"' delete sparkapplication/'$APP' --wait=true; '"$KPFX"' create -f /"),
  "sparkapplication.sparkoperator.k8s.io/'$APP' created" in x["output_tail"])
 for x in d if x["ev"] == "step" and x["phase"] == "end" and x["step"] == "resubmit"] == [(True, True)]'
json "log: the verify held for both sources, the run ended ok" '
[(x["source"], x["result"], x["values"]) for x in d if x["ev"] == "verify"] ==
[("events", "ok", "'"$V_LAG"'"), ("spark", "ok", "'"$V_SPARK_UP"'")]
and {k: v for k, v in d[-1].items() if k != "at"} == {"ev": "end", "result": "ok"}'
expect "status: the lag fell for real" 0 "$B" -c "$T/shipped.yaml" status --json
json "status: bench-g00 at lag 0, bench-g01 still 20" '
sorted((g["name"], g["lag"]) for g in d["sources"]["events"]["groups"]) ==
[("bench-g00", 0), ("bench-g01", 20)]'
rbe_audit "audit: one line, the resubmit, with the run id" '
[(x["via"], x["run"], x["source"], x["kind"], x["action"], x["target"], x["outcome"]) for x in a] ==
[("cli", "'"$RUN"'", "spark", "spark", "resubmit", "'$NS/$APP'", "ok")]'

# ---- the failure path: the application runs, the lag does not fall ------------------

: >"$T/kube/requests.log"
: >"$T/audit.jsonl"
rbe_pty_run "$T/fail.out" "$T/fail.err" "$B" -c "$T/fail.yaml" runbook run $RB --yes \
        --input group=bench-g01 --input max_lag=10
operator 1
rbe_pty_wait
[ "$rc" = 1 ] && ok "lag stays: exit 1" \
        || bad "lag stays: exit $rc: $(head -c 2000 "$T/fail.out") / $(head -c 1000 "$T/fail.err")"
has "lag stays: failed" "$T/fail.out" "^run [0-9]{8}T[0-9]{6}Z-$RB-[0-9a-f]{4}: failed\$"
FRUN=$(sed -n 's/^run \([^ ]*\): failed$/\1/p' "$T/fail.out")
kube_log fail
kreqs "lag stays: exactly one DELETE and one POST" "$RESUBMIT"
rbe_ledger "lag stays: log" "$FRUN" '
[(x["step"], x["result"]) for x in d if x["ev"] == "step" and x["phase"] == "end"] ==
[("group-known", "ok"), ("brokers-fine", "ok"), ("application-state", "ok"),
 ("application-exists", "ok"), ("resubmit", "ok"), ("running", "ok"), ("lag-falls", "failed")]
and [(x["values"], "timed out" in x["error"]) for x in d if x["ev"] == "step"
     and x["phase"] == "end" and x["step"] == "lag-falls"] ==
[("'"${V_LAG% = true}"' = false", True)]
and not any(x["ev"] == "verify" for x in d)
and {k: v for k, v in d[-1].items() if k != "at"} == {"ev": "end", "result": "failed"}'
rbe_audit "lag stays: one audit line, the resubmit" '
[(x["run"], x["action"], x["outcome"]) for x in a] == [("'"$FRUN"'", "resubmit", "ok")]'

rbe_done $RB
