#!/usr/bin/env bash
#
# bringup.sh: `lambdaops up` / `down` end to end with the real binary.
# kind, kubectl and helm are recording scripts on PATH (each appends its
# argv to calls.log; `kind get kubeconfig` exits 1 until `kind create` ran,
# so the idempotence probe is exercised). Gates read real collectors:
# tests/lib/fixture_httpd.py (started here, stopped by its PID) answers as a
# Kafka Connect 3.7 worker, and one source points at a closed port.
#   - --dry-run prints every command and runs none;
#   - no terminal and no --yes: 75; --read-only: 77, audited;
#   - up: stage cluster runs its steps in order and its gate passes; stage
#     connectors' gate ("two connectors") times out: exit 1, the message
#     names the gate and its last value, and the retry command is printed;
#   - the fixture gets a second connector: up resumes at connectors without
#     re-running cluster's steps; then stage dead's gate says "source down";
#   - the progress file: states, exit codes, gate values, output tail;
#   - one audit line per step with the context and the argv;
#   - down runs the down steps in reverse stage order;
#   - SIGTERM during a step stops the child and records "interrupted";
#   - on a terminal (script(1)): the [y/N] question, the context typed for a
#     dangerous step; a wrong one or "n" cancels (exit 2), audited;
#   - the REAL kubectl against tests/lib/fake_kube.py: up applies a ConfigMap
#     (the fake's log has the POST, the next step reads it back into the
#     output tail), down deletes it (DELETE logged, kubectl get: NotFound).
#
# Env: LO_BINARY (the lambdaops binary), LO_SOURCE_DIR (the source tree).

set -u

B=${LO_BINARY:?set LO_BINARY to the lambdaops binary}
S=${LO_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d /tmp/lo-bringup.XXXXXX)
fails=0
HTTPD_PID=
UP_PID=
KUBE_PID=
REAL_KUBECTL=$(command -v kubectl)

cleanup() {
        for p in $HTTPD_PID $UP_PID $KUBE_PID; do
                kill "$p" 2>/dev/null
                wait "$p" 2>/dev/null
        done
        rm -rf "$T"
}
trap cleanup EXIT

. "$(dirname "$0")/../lib/helpers.sh"
lo_guard "$T"     # what this test starts does not outlive it, even on SIGKILL

export XDG_STATE_HOME="$T/state"
PROG="$T/state/lambdaops/bringup/plan.json"

# --- recording kind/kubectl/helm --------------------------------------------------

mkdir -p "$T/bin" "$T/deploy"
for tool in kind kubectl helm; do
        cat >"$T/bin/$tool" <<EOF
#!/bin/sh
echo "$tool \$*" >>"$T/calls.log"
if [ "$tool" = kind ] && [ "\$1" = get ]; then
        [ -e "$T/cluster-exists" ] || { echo "no cluster" >&2; exit 1; }
fi
if [ "$tool" = kind ] && [ "\$1" = create ]; then
        echo "Creating cluster \"\$4\" ..."
        echo " ✓ Ensuring node image"
        : >"$T/cluster-exists"
fi
[ "$tool" = kubectl ] && printf 'namespace/data created\nnamespace/processing created\n'
exit 0
EOF
        chmod +x "$T/bin/$tool"
done
export PATH="$T/bin:$PATH"

# --- the fixture Connect worker --------------------------------------------------

connectors() {   # connectors N: a routes file with N RUNNING connectors
        python3 - "$1" "$S/tests/fixtures/connect/root.json" >"$T/routes.tmp" <<'PY'
import json, sys
n = int(sys.argv[1])
root = open(sys.argv[2], encoding="utf-8").read()
conns = {}
for i in range(n):
    name = f"c{i}"
    conns[name] = {
        "status": {"name": name, "connector": {"state": "RUNNING", "worker_id": "w:8083"},
                   "tasks": [{"id": 0, "state": "RUNNING", "worker_id": "w:8083"}], "type": "sink"},
        "info": {"name": name, "config": {"connector.class": "x.Sink", "name": name},
                 "tasks": [{"connector": name, "task": 0}], "type": "sink"}}
r = [{"path": "/connectors", "query": "expand=status&expand=info", "body": json.dumps(conns),
      "headers": {"Content-Type": "application/json"}},
     {"path": "/", "body": root, "headers": {"Content-Type": "application/json"}}]
print(json.dumps({"routes": r}))
PY
        mv "$T/routes.tmp" "$T/routes.json"
}
connectors 1
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
DEAD=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ok "fixture Connect worker on $URL (pid $HTTPD_PID)"

cat >"$T/deploy/lambdaops.yaml" <<EOF
environment: bringup-test
audit_log: $T/audit.jsonl
sources:
  - name: connect
    kind: kafka_connect
    url: $URL
    interval: 1s
    timeout: 2s
  - name: dead
    kind: kafka_connect
    url: http://127.0.0.1:$DEAD
    interval: 1s
    timeout: 1s
EOF
cat >"$T/deploy/plan.yaml" <<'EOF'
version: 1
config: lambdaops.yaml
vars:
  context: kind-lo-test
  cluster: lo-test
stages:
  - name: cluster
    title: the cluster
    steps:
      - run: [kind, create, cluster, --name, "${cluster}"]
        skip_if_exit0: [kind, get, kubeconfig, --name, "${cluster}"]
      - run: [kubectl, --context, "${context}", apply, -f, "${deploy}/ns.yaml"]
    gates:
      - name: connect up
        source: connect
        expr: 'len(connectors) >= 1 and all(connectors, .state == "RUNNING")'
        timeout: 20s
        interval: 1s
    down:
      - run: [kind, delete, cluster, --name, "${cluster}"]
        dangerous: true
  - name: connectors
    steps:
      - run: [helm, --kube-context, "${context}", upgrade, --install, connect, "${deploy}/chart"]
    gates:
      - name: two connectors
        source: connect
        expr: len(connectors) == 2
        timeout: 2s
        interval: 1s
    down:
      - run: [helm, --kube-context, "${context}", uninstall, connect]
  - name: dead
    gates:
      - name: dead worker
        source: dead
        expr: len(connectors) == 1
        timeout: 2s
        interval: 1s
EOF
P="$T/deploy/plan.yaml"
D=$(cd "$T/deploy" && pwd -P)

run() {   # run NAME WANT_RC ARGS...: runs lambdaops, keeps out/err in $T/out, $T/err
        local name=$1 want=$2 rc
        shift 2
        "$B" "$@" >"$T/out" 2>"$T/err" </dev/null
        rc=$?
        if [ "$rc" = "$want" ]; then ok "$name: exit $rc"; else
                bad "$name: exit $rc, want $want"; sed 's/^/    | /' "$T/out" "$T/err"; fi
}
has() {   # has NAME FILE FIXED-STRING
        if grep -qF -- "$3" "$2"; then ok "$1"; else
                bad "$1: no \"$3\" in $(basename "$2")"; sed 's/^/    | /' "$2"; fi
}
same() {  # same NAME FILE EXPECTED-TEXT
        if [ "$(cat "$2" 2>/dev/null)" = "$3" ]; then ok "$1"; else
                bad "$1"; diff <(printf '%s\n' "$3") "$2" | sed 's/^/    | /'; fi
}
pj() {    # pj PYTHON-EXPR over the progress file as p
        python3 -c "import json,sys; p=json.load(open('$PROG')); print($1)"
}

# --- dry run, refusals -------------------------------------------------------------

run "up --dry-run" 0 up --plan "$P" --dry-run
has "dry run prints the kind step" "$T/out" "  would run: kind create cluster --name lo-test"
has "dry run prints the kubectl step" "$T/out" "  would run: kubectl --context kind-lo-test apply -f $D/ns.yaml"
has "dry run prints the gates" "$T/out" "  would wait for gate two connectors: connect: len(connectors) == 2"
[ ! -e "$T/calls.log" ] && ok "dry run ran nothing" || bad "dry run ran something"
[ ! -e "$PROG" ] && ok "dry run wrote no progress" || bad "dry run wrote progress"

run "up without --yes and no terminal" 75 up --plan "$P"
has "says to pass --yes" "$T/err" "stdin is not a terminal: pass --yes"
run "up --read-only" 77 up --plan "$P" --yes --read-only
has "read-only refusal" "$T/err" "lambdaops: up: refused: read-only mode"
[ ! -e "$T/calls.log" ] && ok "refusals ran nothing" || bad "a refusal ran something"
python3 - "$T/audit.jsonl" >"$T/audit.txt" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    a = json.loads(l)
    print(a["action"], a["outcome"], a["status"], a["error"])
PY
same "refusals audited" "$T/audit.txt" "up refused 75 no --yes and stdin is not a terminal
up refused 77 read-only: actions are disabled"
: >"$T/audit.jsonl"

run "up --plan with a missing file" 66 up --plan "$T/nope.yaml" --yes
run "up -c with a missing config" 78 up --plan "$P" -c "$T/nope.yaml" --yes
has "names the missing config" "$T/err" "$T/nope.yaml"
run "up --from an unknown stage" 64 up --plan "$P" --from nope --yes
has "names the unknown stage" "$T/err" "no stage \"nope\" in $P"

# --- up: cluster passes, connectors' gate times out --------------------------------

run "up (first run)" 1 up --plan "$P" --yes
has "the gate that passes" "$T/out" "gate connect up: ok (len(connectors) = 1, all(connectors, .state == \"RUNNING\") = true)"
has "stage cluster done" "$T/out" "stage cluster: done"
has "the waiting gate shows its value" "$T/out" "gate two connectors: len(connectors) = 1"
has "the timeout message" "$T/err" "lambdaops: up: stage connectors failed: gate \"two connectors\" timed out after 2s (connect: len(connectors) = 1)"
has "the retry command" "$T/out" "Retry with: lambdaops up --plan $P --from connectors"
has "the step output is shown" "$T/out" "Creating cluster \"lo-test\" ..."
same "steps ran in order" "$T/calls.log" "kind get kubeconfig --name lo-test
kind create cluster --name lo-test
kubectl --context kind-lo-test apply -f $D/ns.yaml
helm --kube-context kind-lo-test upgrade --install connect $D/chart"
same "progress states" <(pj '" ".join(s["name"]+"="+s["state"] for s in p["stages"])') \
        "cluster=done connectors=failed dead=pending"
same "progress: steps' exit codes" <(pj '[(s["n"], s["exit_code"], s["skipped"]) for s in p["stages"][0]["steps"]]') \
        "[(1, 0, False), (2, 0, False)]"
same "progress: the failed gate" <(pj 'p["stages"][1]["gates"][0]["value"], p["stages"][1]["gates"][0]["ok"], p["stages"][1]["error"]') \
        "len(connectors) = 1 False gate \"two connectors\" timed out after 2s (connect: len(connectors) = 1)"
same "progress: argv text of kind create" <(pj 'p["stages"][0]["steps"][0]["argv"]') "kind create cluster --name lo-test"
same "progress: output tail of the last step" <(pj 'p["stages"][0]["output_tail"]') "['namespace/data created', 'namespace/processing created']"
same "progress: runner finished" <(pj 'p["running"], p["pid"] > 1') "False True"

# --- resume after fixing the fixture ------------------------------------------------

connectors 2
: >"$T/calls.log"
run "up (resume)" 1 up --plan "$P" --yes
same "resume ran only connectors' step" "$T/calls.log" "helm --kube-context kind-lo-test upgrade --install connect $D/chart"
has "the gate passes now" "$T/out" "gate two connectors: ok (len(connectors) = 2)"
has "the source-down gate says so" "$T/out" "gate dead worker: source down: "
has "the source-down failure" "$T/err" "lambdaops: up: stage dead failed: gate \"dead worker\" timed out after 2s (dead: source down: "
has "retry for dead" "$T/out" "Retry with: lambdaops up --plan $P --from dead"
same "progress states after resume" <(pj '" ".join(s["name"]+"="+s["state"] for s in p["stages"])') \
        "cluster=done connectors=done dead=failed"
same "progress: source-down gate error" <(pj 'p["stages"][2]["gates"][0]["error"].startswith("source down: ")') "True"

# --- the audit log ------------------------------------------------------------------

python3 - "$T/audit.jsonl" >"$T/audit.txt" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    a = json.loads(l)
    print(a["action"], a["via"], a["kind"], a["target"], a["context"], a["outcome"], a["status"],
          " ".join(a["argv"][0]) if a["argv"] else None)
PY
same "one audit line per step" "$T/audit.txt" "up:cluster:step 1 cli bringup cluster kind-lo-test ok None kind create cluster --name lo-test
up:cluster:step 2 cli bringup cluster kind-lo-test ok None kubectl --context kind-lo-test apply -f $D/ns.yaml
up:connectors:step 1 cli bringup connectors kind-lo-test ok None helm --kube-context kind-lo-test upgrade --install connect $D/chart
up:connectors:step 1 cli bringup connectors kind-lo-test ok None helm --kube-context kind-lo-test upgrade --install connect $D/chart"

# --- the probe: a second up --only cluster skips kind create --------------------------

: >"$T/calls.log"
run "up --only cluster (cluster exists)" 0 up --plan "$P" --only cluster --yes
has "the probe skipped kind create" "$T/out" "step 1: skipped, already done (kind get kubeconfig --name lo-test exited 0)"
same "only the probe and kubectl ran" "$T/calls.log" "kind get kubeconfig --name lo-test
kubectl --context kind-lo-test apply -f $D/ns.yaml"

# --- down ------------------------------------------------------------------------------

: >"$T/calls.log"
run "down" 0 down --plan "$P" --yes
same "down in reverse order" "$T/calls.log" "helm --kube-context kind-lo-test uninstall connect
kind delete cluster --name lo-test"
same "down resets the stages" <(pj '" ".join(s["name"]+"="+s["state"] for s in p["stages"])') \
        "cluster=pending connectors=pending dead=failed"

# --- SIGTERM stops the step ----------------------------------------------------------

cat >"$T/deploy/slow.yaml" <<'EOF'
version: 1
stages:
  - name: wait
    steps:
      - run: [sleep, "30"]
EOF
SPROG="$T/state/lambdaops/bringup/slow.json"
"$B" up --plan "$T/deploy/slow.yaml" --yes >"$T/out" 2>"$T/err" </dev/null &
UP_PID=$!
deadline=$(($(now_ms) + 10000))
until [ -s "$SPROG" ] && python3 -c "import json; p=json.load(open('$SPROG')); exit(0 if p['stages'][0].get('current_step') == 1 else 1)" 2>/dev/null; do
        if [ "$(now_ms)" -ge "$deadline" ]; then bad "slow step never started"; break; fi
        sleep 0.05
done
SLEEP_PID=$(pgrep -P "$UP_PID" sleep)
kill -TERM "$UP_PID"
wait "$UP_PID"
rc=$?
UP_PID=
[ "$rc" = 2 ] && ok "SIGTERM: exit 2" || bad "SIGTERM: exit $rc, want 2"
same "SIGTERM recorded" <(python3 -c "import json; p=json.load(open('$SPROG')); s=p['stages'][0]; print(s['state'], s['error'], p['running'])") \
        "failed interrupted False"
if [ -n "$SLEEP_PID" ] && ! kill -0 "$SLEEP_PID" 2>/dev/null; then ok "the step's child is gone"; else
        bad "the step's child ($SLEEP_PID) survived"; fi
has "SIGTERM retry hint" "$T/out" "Retry with: lambdaops up --plan $T/deploy/slow.yaml --from wait"

# --- prompts on a terminal (script(1) gives lambdaops a pty) ---------------------------

cat >"$T/deploy/tty.yaml" <<'EOF'
version: 1
vars: {context: kind-tty}
stages:
  - name: a
    steps:
      - run: [echo, safe]
      - run: [echo, dangerous]
        dangerous: true
EOF
: >"$T/state/lambdaops/audit.jsonl"
printf 'y\nkind-tty\n' | script -qec "'$B' up --plan '$T/deploy/tty.yaml'" /dev/null >"$T/out" 2>&1
rc=$?
[ "$rc" = 0 ] && ok "terminal: y and the typed context run it (exit 0)" || bad "terminal: exit $rc, want 0"
has "terminal: the question" "$T/out" "up: run stages a..a of $T/deploy/tty.yaml on context kind-tty? [y/N]"
has "terminal: the dangerous step asks for the context" "$T/out" "This step is dangerous. Type kind-tty to run it:"
has "terminal: the dangerous step ran" "$T/out" "$ echo dangerous"
printf 'y\nkind-other\n' | script -qec "'$B' up --plan '$T/deploy/tty.yaml' --from a" /dev/null >"$T/out" 2>&1
rc=$?
[ "$rc" = 2 ] && ok "terminal: a wrong context cancels (exit 2)" || bad "terminal: exit $rc, want 2"
has "terminal: cancelled at the prompt" "$T/out" "stage a failed: step 2: cancelled at the prompt"
printf 'n\n' | script -qec "'$B' up --plan '$T/deploy/tty.yaml' --from a" /dev/null >"$T/out" 2>&1
rc=$?
[ "$rc" = 2 ] && ok "terminal: n at the question (exit 2)" || bad "terminal: exit $rc, want 2"
# no config in this plan: the audit log is the state dir's audit.jsonl
python3 - "$T/state/lambdaops/audit.jsonl" >"$T/audit.txt" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    a = json.loads(l)
    print(a["action"], a["outcome"], a["context"])
PY
same "terminal: audit lines" "$T/audit.txt" "up:a:step 1 ok kind-tty
up:a:step 2 ok kind-tty
up:a:step 1 ok kind-tty
up:a:step 2 cancelled kind-tty
up cancelled kind-tty"

# --- the real kubectl against the fake Kubernetes API server ------------------------

if [ -z "$REAL_KUBECTL" ]; then
        bad "kubectl is not installed (scripts/deps.sh installs it)"
else
        mkdir -p "$T/kube"
        python3 "$S/tests/lib/fake_kube.py" --port-file "$T/kube/port" --log "$T/kube/log" \
                --fixtures "$S/tests/fixtures/kube/base" </dev/null >"$T/kube/server.out" 2>"$T/kube/server.err" &
        KUBE_PID=$!
        deadline=$(($(now_ms) + 10000))
        until [ -s "$T/kube/port" ]; do
                if [ "$(now_ms)" -ge "$deadline" ]; then bad "fake_kube.py did not start"; break; fi
                sleep 0.05
        done
        cat >"$T/kube/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster: {server: "http://127.0.0.1:$(cat "$T/kube/port")"}
users:
- name: tester
  user: {token: not-checked}
contexts:
- name: kind-fake
  context: {cluster: fake, user: tester}
current-context: kind-fake
EOF
        cat >"$T/kube/cm.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: lo-bringup
  namespace: ingestion
data:
  stage: kafka
EOF
        cat >"$T/kube/kube.yaml" <<EOF
version: 1
vars:
  context: kind-fake
  kubectl: $REAL_KUBECTL
stages:
  - name: config
    steps:
      - run: ["\${kubectl}", --context, "\${context}", --cache-dir, "\${deploy}/cache", apply, -f, "\${deploy}/cm.yaml"]
        env: {KUBECONFIG: "\${deploy}/kubeconfig"}
        timeout: 60s
      - run: ["\${kubectl}", --context, "\${context}", --cache-dir, "\${deploy}/cache", get, configmap, lo-bringup, -n, ingestion, -o, "jsonpath={.data.stage}"]
        env: {KUBECONFIG: "\${deploy}/kubeconfig"}
        mutating: false
        timeout: 60s
    down:
      - run: ["\${kubectl}", --context, "\${context}", --cache-dir, "\${deploy}/cache", delete, -f, "\${deploy}/cm.yaml"]
        env: {KUBECONFIG: "\${deploy}/kubeconfig"}
        timeout: 60s
EOF
        KPROG="$T/state/lambdaops/bringup/kube.json"
        run "up with the real kubectl" 0 up --plan "$T/kube/kube.yaml" --yes
        has "kubectl's own output" "$T/out" "configmap/lo-bringup created"
        if grep -q '"method": "POST", "path": "/api/v1/namespaces/ingestion/configmaps"' "$T/kube/log"; then
                ok "the fake API server got the POST"; else bad "no POST in the fake's log"; fi
        same "the read-back step's output tail" <(python3 -c "import json; print(json.load(open('$KPROG'))['stages'][0]['output_tail'])") "['kafka']"
        run "down with the real kubectl" 0 down --plan "$T/kube/kube.yaml" --yes
        if grep -q '"method": "DELETE", "path": "/api/v1/namespaces/ingestion/configmaps/lo-bringup"' "$T/kube/log"; then
                ok "the fake API server got the DELETE"; else bad "no DELETE in the fake's log"; fi
        if KUBECONFIG="$T/kube/kubeconfig" timeout 60 "$REAL_KUBECTL" --cache-dir "$T/kube/cache" \
                get configmap lo-bringup -n ingestion </dev/null >"$T/out" 2>&1; then
                bad "the ConfigMap survived down"
        else
                has "kubectl get after down: NotFound" "$T/out" 'configmaps "lo-bringup" not found'
        fi
fi

if [ "$fails" -ne 0 ]; then
        echo "$fails check(s) failed"
        exit 1
fi
echo "all bring-up checks passed"
