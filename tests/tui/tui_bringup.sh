#!/usr/bin/env bash
#
# tui_bringup.sh: drives the real console's Bring-up pane in tmux and reads
# the screen with capture-pane. A `bringup` source watches a three-stage
# plan; a progress file written here says stage cluster is done, stage
# kafka failed on its gate (with the gate's value) and stage connect is
# pending. Checks:
#   - `--view bringup`: the plan line, each stage with its state, elapsed
#     time, steps and gate summary, the failed stage's error;
#   - Enter on kafka: the exact command with exit code and duration, the
#     gate's expression, current value and error, the output tail; Esc back;
#   - K on connect, y: the progress file says skipped, the audit log has a
#     "skip" line via tui, the pane shows it;
#   - S, y: the runner starts as its own process (kind/kubectl are recording
#     scripts on PATH), runs stage kafka again and stops on its gate (the
#     stage's gate reads a source that is down); the pane shows kafka failed
#     with "source down" in the gate column, and the log file holds the
#     runner's output;
#   - X with no runner: the error, nothing sent;
#   - q exits 0.
# The pane is printed so CI logs show what a person sees.
#
# Env: LO_BINARY (the lambdaops binary), LO_SOURCE_DIR (the source tree).

set -u

B=${LO_BINARY:?set LO_BINARY to the lambdaops binary}
S=${LO_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d /tmp/lo-tui-bringup.XXXXXX)
SOCK="lo-tui-bringup-$$"
TM=(tmux -L "$SOCK" -f "$T/tmux.conf")
fails=0

cleanup() {
        "${TM[@]}" kill-server 2>/dev/null
        rm -rf "$T"
}
trap cleanup EXIT

. "$(dirname "$0")/../lib/helpers.sh"
lo_guard "$T"     # what this test starts does not outlive it, even on SIGKILL

export XDG_STATE_HOME="$T/state"
PROG="$T/state/lambdaops/bringup/plan.json"
mkdir -p "$T/bin" "$T/deploy" "$(dirname "$PROG")"
for tool in kind kubectl; do
        printf '#!/bin/sh\necho "%s $*" >>"%s/calls.log"\necho "%s did $*"\n' \
                "$tool" "$T" "$tool" >"$T/bin/$tool"
        chmod +x "$T/bin/$tool"
done
DEAD=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# `plan: plan.yaml` is relative to this config file, not to the working
# directory (the console runs from the build dir): the plan line proves it.
cat >"$T/deploy/lambdaops.yaml" <<EOF
environment: tui-bringup
refresh: 1s
audit_log: $T/audit.jsonl
sources:
  - name: up
    kind: bringup
    plan: plan.yaml
    interval: 1s
  - name: kafka
    kind: kafka_connect
    url: http://127.0.0.1:$DEAD
    interval: 1s
    timeout: 1s
EOF
cat >"$T/deploy/plan.yaml" <<'EOF'
version: 1
config: lambdaops.yaml
vars:
  context: kind-tui
stages:
  - name: cluster
    title: the kind cluster
    steps:
      - run: [kind, create, cluster, --name, tui]
  - name: kafka
    title: Kafka in KRaft mode
    steps:
      - run: [kubectl, --context, "${context}", apply, -f, "${deploy}/kafka.yaml"]
    gates:
      - name: quorum
        source: kafka
        expr: quorum.leader_id != null and len(quorum.voters) == 3
        timeout: 2s
        interval: 1s
  - name: connect
    title: Kafka Connect
    steps:
      - run: [kubectl, --context, "${context}", apply, -f, "${deploy}/connect.yaml"]
EOF
D=$(cd "$T/deploy" && pwd -P)
now=$(date +%s%3N)
python3 - "$PROG" "$now" <<'PY'
import json, sys
path, now = sys.argv[1], int(sys.argv[2])
def t(ms):
    import datetime
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
p = {"plan": "plan.yaml", "name": "plan", "pid": 1, "running": False, "stages": [
  {"name": "cluster", "state": "done", "started_ms": now - 200000, "finished_ms": now - 125000,
   "started_at": t(now - 200000), "finished_at": t(now - 125000), "error": None,
   "steps": [{"n": 1, "argv": "kind create cluster --name tui", "exit_code": 0, "duration_ms": 74000, "skipped": False}],
   "gates": [], "output_tail": []},
  {"name": "kafka", "state": "failed", "started_ms": now - 125000, "finished_ms": now - 5000,
   "started_at": t(now - 125000), "finished_at": t(now - 5000),
   "error": "gate \"quorum\" timed out after 2m00s (kafka: quorum.leader_id = null, len(quorum.voters) = 2)",
   "steps": [{"n": 1, "argv": "x", "exit_code": 0, "duration_ms": 1500, "skipped": False}],
   "gates": [{"name": "quorum", "source": "kafka", "expr": "x", "value": "quorum.leader_id = null, len(quorum.voters) = 2", "error": None, "ok": False}],
   "output_tail": ["statefulset.apps/kafka created", "service/kafka-headless created"]},
  {"name": "connect", "state": "pending"}]}
json.dump(p, open(path, "w"))
PY

printf 'set -g default-terminal screen\nset -g status off\n' >"$T/tmux.conf"
cat >"$T/run.sh" <<EOF
"$B" "\$@"
echo \$? >"$T/rc"
echo "lambdaops exited"
exec sleep 600
EOF

"${TM[@]}" new-session -d -s main -x 170 -y 45 \
        "env LANG=C.UTF-8 LC_ALL=C.UTF-8 PATH=$T/bin:$PATH XDG_STATE_HOME=$XDG_STATE_HOME sh $T/run.sh -c $T/deploy/lambdaops.yaml --view bringup"

wait_for main "tab bar has the Bring-up pane" 'Bring-up'
wait_for main "plan line" "up +$T/deploy/plan.yaml: 1/3 stages done +no runner \(S starts one\)"
wait_for main "stage cluster done, 1m15s, 1/1 steps" 'cluster +done +1m15s +1/1 +- +the kind cluster'
wait_for main "stage kafka failed with its gate value" 'kafka +failed +2m00s +1/1 +quorum: quorum\.leader_id = null, len\(quorum\.voters\) = 2 +gate "quorum" timed out'
wait_for main "stage connect pending" 'connect +pending +- +0/1 +- +Kafka Connect'

screen main >"$T/pane.txt"
echo "---- Bring-up pane (capture-pane) ----"
sed 's/[[:space:]]*$//' "$T/pane.txt"
echo "--------------------------------------"

keys main / k a f k a Enter
keys main Enter
wait_for main "Enter opens the stage page" '^stage kafka +Kafka in KRaft mode'
wait_for main "the exact command, exit code, duration" "1\. kubectl --context kind-tui apply -f $D/kafka\.yaml +exit 0, 1s"
wait_for main "the gate's expression" 'expr +quorum\.leader_id != null and len\(quorum\.voters\) == 3'
wait_for main "the gate's current value" 'value +quorum\.leader_id = null, len\(quorum\.voters\) = 2'
wait_for main "the output tail" '\| service/kafka-headless created'
screen main | sed 's/[[:space:]]*$//' | sed -n '1,30p'
keys main Escape
keys main Escape
wait_for main "Esc leaves the page" 'connect +pending'

# --- K: skip connect ---------------------------------------------------------
keys main / c o n n e c t Enter
wait_for main "filter keeps connect" 'connect +pending'
keys main K
wait_for main "skip dialog" 'Run it\? +y run +n/Esc cancel'
keys main y
wait_for main "skip: result ok" '^ +outcome +ok'
keys main Escape Escape
wait_for main "connect shows skipped" 'connect +skipped'
if python3 -c "import json,sys; p=json.load(open('$PROG')); s=[x for x in p['stages'] if x['name']=='connect'][0]; sys.exit(0 if s['state']=='skipped' else 1)"; then
        ok "progress file: connect skipped"; else bad "progress file: connect not skipped"; fi
if python3 -c "
import json,sys
ls=[json.loads(l) for l in open('$T/audit.jsonl')]
sys.exit(0 if any(a['action']=='skip' and a['via']=='tui' and a['target']=='connect' and a['outcome']=='ok' for a in ls) else 1)"; then
        ok "audit: skip via tui"; else bad "audit: no skip line"; cat "$T/audit.jsonl"; fi

# --- X with no runner ----------------------------------------------------------
keys main X
wait_for main "abort without a runner: the error" 'no runner is working on'
keys main Escape Escape

# --- S: start the runner ----------------------------------------------------------
keys main S
wait_for main "start dialog shows the command" "up --plan $T/deploy/plan.yaml --yes"
keys main y
wait_for main "start: result ok" '^ +outcome +ok'
keys main Escape Escape
WAIT_MS=20000 wait_for main "the runner stops at kafka's gate: source down" 'kafka +failed +.* +quorum: source down: '
if grep -q "kubectl --context kind-tui apply -f $D/kafka.yaml" "$T/calls.log" 2>/dev/null &&
   ! grep -q "kind create" "$T/calls.log" && ! grep -q "connect.yaml" "$T/calls.log"; then
        ok "the runner ran only kafka's step (cluster done, connect skipped)"
else
        bad "the runner's calls"; cat "$T/calls.log" 2>/dev/null
fi
if grep -q "kubectl did --context kind-tui apply" "$T/state/lambdaops/bringup/plan.log"; then
        ok "the runner's output is in the log file"; else bad "no runner output in the log"; fi
screen main | sed 's/[[:space:]]*$//' | sed -n '1,12p'

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
