#!/usr/bin/env bash
#
# runbook_spark_app.sh: the shipped runbook spark-app-failed
# (deploy/runbooks/spark-app-failed.yaml) end to end with the real binary
# and the real kubectl, on the fake Kubernetes API server
# (tests/lib/fake_kube.py, fixtures tests/fixtures/runbooks/spark-app-failed/
# kube): the SparkApplication processing/speed-orders FAILED (its driver pod
# Failed, with a log), a COMPLETED processing/daily-agg that lost an
# executor, and the Spark operator's controller and webhook Deployments.
#
#   - a dry run (the shipped file as it is): exit 0, the checks' current
#     values, the resolved kubectl argv of driver-logs and resubmit; no
#     mutating request, no ledger, no audit line;
#   - a real run with --yes (the manual step answered "y" on a terminal):
#     the real kubectl reads the driver's log, deletes and creates the
#     SparkApplication; when the create reaches the API server the test
#     plays the operator and sets the new object RUNNING. Exit 0, exactly
#     the DELETE and the POST (its body: the object without status and
#     server metadata), the ledger (every step, the check values, the
#     driver's log in the output tail, the argv, the verify), and the
#     audit lines with the run id;
#   - the failure path: the operator's controller is scaled to 0 (the
#     operator down: a resubmit would sit unsubmitted): exit 1, the run ends
#     failed at step `operator`, nothing mutating reached the server, no
#     action ran.
#
# The runs use a copy of the shipped runbook where only the hold durations
# are shortened (rbe_shorten: every `for:` to 3s; shipped 1m and 2m).
#
# Uses the real kubectl and the real clock. Env: LO_BINARY, LO_SOURCE_DIR.
# Everything lives in one temp dir, removed at exit
# (tests/lib/runbook_e2e.sh); servers are stopped by their PID.
#
# ctest-label: real-clock

set -u

# shellcheck source=../lib/runbook_e2e.sh
. "${LO_SOURCE_DIR:?set LO_SOURCE_DIR to the source tree}/tests/lib/runbook_e2e.sh"
rbe_init rbspark
RB=spark-app-failed
APP=speed-orders
NS=processing
mkdir -p runbooks kcache

if ! command -v kubectl >/dev/null 2>&1; then
        echo "SKIP: kubectl not found"
        exit 0
fi

# fake PATH JSON: a test-control request to the API server (/_fake/...).
fake() {
        python3 - "$(rbe_url kube)$1" "$2" <<'EOF'
import sys, urllib.request
req = urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(), method="POST",
                             headers={"Content-Type": "application/json"})
urllib.request.urlopen(req, timeout=10).read()
EOF
}

rbe_kube "$SRC/tests/fixtures/runbooks/$RB/kube"
rbe_ready
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
  - name: k8s
    kind: kubernetes
    kubeconfig: $T/kubeconfig
    context: fake
    namespaces: [$NS]
    components:
      spark: "lambdaops.io/component=spark"
      spark-operator: "app.kubernetes.io/name=spark-operator"
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

# kube_log NAME: the API server's requests so far but the test's own
# /_fake/ ones, kept as $T/kube/NAME.log (the next phase empties the log);
# kreqs WHAT EXPR: EXPR over r, that copy's (method, path, query) tuples.
kube_log() {
        KLOG=$T/kube/$1.log
        grep -v '"path": *"/_fake/' "$T/kube/requests.log" >"$KLOG"
}
kreqs() { rbe_reqs "$1" "$KLOG" "$2"; }

V_APP='any(applications, .namespace + \"/\" + .name == inputs.application) = true'
V_FAILED='count(applications, .namespace + \"/\" + .name == inputs.application and (.state == \"FAILED\" or .state == \"SUBMISSION_FAILED\" or .state == \"FAILING\")) = 1'
V_OPERATOR='count(workloads, .component == \"spark-operator\" and .desired > 0 and .ready == .desired) = 2, all(workloads, .component != \"spark-operator\" or .ready == .desired) = true'
V_RUNNING='any(applications, .namespace + \"/\" + .name == inputs.application and (.state == \"RUNNING\" or .state == \"COMPLETED\")) = true'
V_VERIFY='any(applications, .namespace + \"/\" + .name == inputs.application and (.state == \"RUNNING\" or .state == \"COMPLETED\") and .executors_failed == 0) = true'
KPFX="kubectl --kubeconfig $T/kubeconfig --context fake --cache-dir $T/kcache -n $NS"

expect "config check (shipped runbook)" 0 "$B" -c "$T/shipped.yaml" config check
expect "config check (shortened copy)" 0 "$B" -c "$T/short.yaml" config check

# ---- dry run, the shipped file ------------------------------------------------

expect "dry run" 0 "$B" -c "$T/shipped.yaml" runbook run $RB --dry-run \
        --input application=$NS/$APP
cp "$T/out" "$T/dry.out"
has "dry run: the application exists" "$T/dry.out" \
        '^  now: true \(any\(applications, \.namespace \+ "/" \+ \.name == inputs\.application\) = true\)$'
has "dry run: it is FAILED" "$T/dry.out" \
        '^  now: true \(count\(applications, .* == "FAILING"\)\) = 1\)$'
has "dry run: the operator is ready" "$T/dry.out" \
        '^  now: true \(count\(workloads, \.component == "spark-operator" and \.desired > 0 and \.ready == \.desired\) = 2, all\(workloads, .*\) = true\)$'
has "dry run: not RUNNING yet" "$T/dry.out" \
        '^  now: false \(any\(applications, .* or \.state == "COMPLETED"\)\) = false\)$'
# line WHAT FILE LINE: FILE has exactly this line.
line() {
        if grep -Fxq -- "$3" "$2"; then ok "$1"; else bad "$1: '$3' not in $(basename "$2")"; fi
}
line "dry run: the driver-logs argv" "$T/dry.out" "\$ $KPFX logs pod/$APP-driver --tail=2000"
line "dry run: resubmit deletes" "$T/dry.out" \
        "\$ $KPFX delete sparkapplication/$APP --wait=true"
line "dry run: resubmit creates from the private copy (not read in a dry run)" "$T/dry.out" \
        "\$ $KPFX create -f '<private temp dir>/sparkapplication.json'"
kube_log dry
kreqs "dry run: reads only" 'all(m == "GET" for m, p, q in r) and len(r) >= 1'
kreqs "dry run: no pod log read, no kubectl" \
        'not any(p.endswith("/log") for m, p, q in r)'
[ ! -e "$RUNS" ] && ok "dry run: no ledger" || bad "dry run wrote a ledger: $(ls "$RUNS")"
[ ! -s "$T/audit.jsonl" ] && ok "dry run: no audit line" || bad "dry run: audit: $(cat "$T/audit.jsonl")"

# ---- a real run: resubmit, the operator runs it ----------------------------------

: >"$T/kube/requests.log"
rbe_pty_feed "$T/run.out" "$T/run.err" $'y\n' "$B" -c "$CFG" runbook run $RB --yes
# The operator: when the new object is created, it submits it; the test
# sets the stored object's status RUNNING (as the operator does).
deadline=$(($(now_ms) + 90000))
until grep -q '"method": *"POST", *"path": *"'"$API"'"' "$T/kube/requests.log"; do
        if [ "$(now_ms)" -ge "$deadline" ] || ! kill -0 "$RUN_PID" 2>/dev/null; then
                bad "the run created nothing: $(cat "$T/run.out" "$T/run.err" | head -c 3000)"
                break
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
                 "driverInfo": {"podName": "speed-orders-driver"},
                 "executorState": {"speed-orders-exec-1": "RUNNING",
                                   "speed-orders-exec-2": "RUNNING"}}
req = urllib.request.Request(base + "/_fake/objects", data=json.dumps([obj]).encode(),
                             method="POST", headers={"Content-Type": "application/json"})
urllib.request.urlopen(req, timeout=10).read()
EOF
rbe_pty_wait
if [ "$rc" = 0 ]; then
        ok "run --yes (exit 0)"
else
        bad "run --yes: exit $rc: $(head -c 3000 "$T/run.out") / $(head -c 1500 "$T/run.err")"
fi
has "run: ok" "$T/run.out" "^run [0-9]{8}T[0-9]{6}Z-$RB-[0-9a-f]{4}: ok\$"
RUN=$(sed -n 's/^run \([^ ]*\): ok$/\1/p' "$T/run.out")
kube_log run
kreqs "run: exactly the DELETE and the POST of the SparkApplication" \
        "[x for x in r if x[0] != \"GET\"] == [(\"DELETE\", \"$API/$APP\", \"\"),
          (\"POST\", \"$API\", \"fieldManager=kubectl-create&fieldValidation=Strict\")]"
kreqs "run: the driver's log read once, its last 2000 lines" \
        "[q for m, p, q in r if p == \"/api/v1/namespaces/$NS/pods/$APP-driver/log\"] ==
         [\"container=spark-kubernetes-driver&tailLines=2000\"]"
python3 - "$KLOG" "$SRC/tests/fixtures/runbooks/$RB/kube/objects/cluster.json" \
        "$API" >"$T/body.out" 2>&1 <<'EOF'
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
post = [x for x in reqs if x["method"] == "POST" and x["path"] == sys.argv[3]]
assert len(post) == 1, post
dele = [x["body"] for x in reqs if x["method"] == "DELETE"]
assert [json.loads(b) for b in dele] == [{"propagationPolicy": "Background"}], dele
body = json.loads(post[0]["body"])
want = [o for o in json.load(open(sys.argv[2])) if o["kind"] == "SparkApplication"
        and o["metadata"]["name"] == "speed-orders"][0]
# The object as created: the fixture's without status and server metadata
# (creationTimestamp among them); labels and spec as they were.
want = {k: v for k, v in want.items() if k != "status"}
want["metadata"] = {k: v for k, v in want["metadata"].items() if k != "creationTimestamp"}
assert body == want, (body, want)
print("yes")
EOF
[ "$(cat "$T/body.out")" = yes ] && ok "run: the bodies: DELETE background, POST the object without status and server metadata" \
        || bad "run: the POST body: $(head -c 2500 "$T/body.out")"

rbe_ledger "log" "$RUN" '
{k: v for k, v in d[0].items() if k != "at"} == {"ev": "start", "run": "'"$RUN"'",
 "runbook": "'$RB'", "file": "'"$T"'/runbooks/'$RB'.yaml", "user": "tester",
 "inputs": {"spark": "spark", "application": "'$NS/$APP'", "k8s": "k8s"}, "target": d[0]["target"]}'
json "log: every step once, in order, each ok" '
[(x["step"], x["kind"], x["result"], x["attempt"]) for x in d
 if x["ev"] == "step" and x["phase"] == "end"] ==
[("application", "check", "ok", 1), ("failed", "check", "ok", 1), ("operator", "check", "ok", 1),
 ("driver-logs", "action", "ok", 1), ("fix-cause", "manual", "ok", 1),
 ("resubmit", "action", "ok", 1), ("running", "wait", "ok", 1)]'
json "log: the only mutating step is the resubmit" '
[x["step"] for x in d if x["ev"] == "step" and x["phase"] == "end" and x["mutating"]] == ["resubmit"]'
json "log: the check values" '
{x["step"]: x["values"] for x in d if x["ev"] == "step" and x["phase"] == "end"
 and x["kind"] in ("check", "wait")} == {
 "application": "'"$V_APP"'", "failed": "'"$V_FAILED"'", "operator": "'"$V_OPERATOR"'",
 "running": "'"$V_RUNNING"'"}'
json "log: the driver log in the output tail" '
[("TimeoutException" in x["output_tail"], "terminated with error" in x["output_tail"])
 for x in d if x["ev"] == "step" and x["phase"] == "end" and x["step"] == "driver-logs"] ==
[(True, True)]'
cp "$T/out" "$T/log.json"
python3 - "$T/log.json" "$KPFX" "$NS" "$APP" >"$T/argv.out" 2>&1 <<'EOF'
import json, os, re, sys
d = json.load(open(sys.argv[1]))
pfx, ns, app = sys.argv[2], sys.argv[3], sys.argv[4]
end = {x["step"]: x for x in d if x["ev"] == "step" and x["phase"] == "end"}
logs = end["driver-logs"]["request"]
assert logs == pfx + " logs pod/%s-driver --tail=2000" % app, logs
res = end["resubmit"]["request"]
m = re.fullmatch(re.escape(pfx + " delete sparkapplication/%s --wait=true; " % app + pfx
                           + " create -f ") + r"(/tmp/lambdaops-resubmit-\w{6}/sparkapplication\.json)",
                 res)
assert m, res
# The private copy went with the plan.
assert not os.path.exists(os.path.dirname(m.group(1))), res
assert ('"speed-orders" deleted' in end["resubmit"]["output_tail"]
        and "sparkapplication.sparkoperator.k8s.io/speed-orders created"
        in end["resubmit"]["output_tail"]), end["resubmit"]["output_tail"]
print("yes")
EOF
[ "$(cat "$T/argv.out")" = yes ] && ok "log: the kubectl commands of both actions, their output" \
        || bad "log: commands: $(head -c 2500 "$T/argv.out")"
json "log: the verify held, the run ended ok" '
[(x["source"], x["result"], x["values"]) for x in d if x["ev"] == "verify"] ==
[("spark", "ok", "'"$V_VERIFY"'")]
and {k: v for k, v in d[-1].items() if k != "at"} == {"ev": "end", "result": "ok"}'
rbe_audit "audit: the two actions, with the run id" '
[(x["via"], x["run"], x["source"], x["kind"], x["action"], x["target"], x["outcome"]) for x in a] ==
[("cli", "'"$RUN"'", "spark", "spark", "driver-logs", "'$NS/$APP'", "ok"),
 ("cli", "'"$RUN"'", "spark", "spark", "resubmit", "'$NS/$APP'", "ok")]'

# ---- the failure path: the operator is down --------------------------------------

# The controller scaled to 0 (desired 0, ready 0): the operator does not
# run, so a resubmitted application would never be submitted.
fake /_fake/objects "$(python3 - "$SRC/tests/fixtures/runbooks/$RB/kube/objects/cluster.json" <<'EOF'
import json, sys
o = [x for x in json.load(open(sys.argv[1])) if x["metadata"]["name"] == "spark-operator-controller"][0]
o["spec"]["replicas"] = 0
o["status"] = {"observedGeneration": 1, "replicas": 0}
print(json.dumps([o]))
EOF
)" || bad "scale the operator down"
# The application failed again.
fake /_fake/objects "$(python3 - "$KURL" "$API/$APP" <<'EOF'
import json, sys, urllib.request
obj = json.load(urllib.request.urlopen(sys.argv[1] + sys.argv[2], timeout=10))
obj["status"] = {"applicationState": {"state": "SUBMISSION_FAILED",
                                      "errorMessage": "failed to run spark-submit"},
                 "submissionAttempts": 1}
print(json.dumps([obj]))
EOF
)" || bad "fail the application again"
: >"$T/kube/requests.log"
: >"$T/audit.jsonl"
rbe_pty_feed "$T/fail.out" "$T/fail.err" $'y\n' "$B" -c "$CFG" runbook run $RB --yes
rbe_pty_wait
[ "$rc" = 1 ] && ok "operator down: exit 1" \
        || bad "operator down: exit $rc: $(head -c 2000 "$T/fail.out") / $(head -c 1000 "$T/fail.err")"
has "operator down: failed" "$T/fail.out" "^run [0-9]{8}T[0-9]{6}Z-$RB-[0-9a-f]{4}: failed\$"
FRUN=$(sed -n 's/^run \([^ ]*\): failed$/\1/p' "$T/fail.out")
kube_log fail
kreqs "operator down: reads only, no log read" \
        'all(m == "GET" for m, p, q in r) and not any(p.endswith("/log") for m, p, q in r)'
rbe_ledger "operator down: log" "$FRUN" '
[(x["step"], x["result"]) for x in d if x["ev"] == "step" and x["phase"] == "end"] ==
[("application", "ok"), ("failed", "ok"), ("operator", "failed")]
and [x["values"] for x in d if x["ev"] == "step" and x["phase"] == "end"
     and x["step"] == "operator"] ==
["count(workloads, .component == \"spark-operator\" and .desired > 0 and .ready == .desired) = 1, all(workloads, .component != \"spark-operator\" or .ready == .desired) = true"]
and not any(x.get("step") in ("driver-logs", "fix-cause", "resubmit", "running") for x in d)
and not any(x["ev"] == "verify" for x in d)
and {k: v for k, v in d[-1].items() if k != "at"} == {"ev": "end", "result": "failed"}'
[ ! -s "$T/audit.jsonl" ] && ok "operator down: no audit line" \
        || bad "operator down: audit: $(cat "$T/audit.jsonl")"

rbe_done $RB
