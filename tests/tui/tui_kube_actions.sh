#!/usr/bin/env bash
#
# tui_kube_actions.sh: the kubectl actions of the real console, in tmux, with
# the REAL kubectl against tests/lib/fake_kube.py (plain http here; TLS and
# client certificates are covered by tests/integration/test_it_kubectl.c), started here
# and stopped by its PID, loaded with tests/fixtures/kube/base.
#   - danger_contexts ["fa*"] matches the context "fake": the header is
#     painted in the error role (red background escape) and says CONTEXT fake;
#   - Cluster pane, workloads table, the StatefulSet kafka selected: the
#     footer offers R restart / S scale; `R` shows the exact kubectl argv and
#     the context; `y` runs it: the result page shows kubectl's output, the
#     server got the PATCH with the restartedAt annotation, the audit log one
#     tui line with context and argv;
#   - `S` asks for replicas: "x" is refused in the editor, 4 is planned as
#     --replicas=4 and runs (PATCH of the scale subresource);
#   - pods table, kafka-2: `l` opens its logs in the pager (no question,
#     kubectl's GET .../log?tailLines=2000); `/line 7` finds and highlights
#     the line;
#   - `D` (dangerous) wants the context typed: a wrong word is refused, "fake"
#     deletes the pod;
#   - Spark pane (a spark source on the same server, fixtures/kube/spark),
#     failed-job: `R` shows delete + create -f of a private copy, wants the
#     context typed, then the server sees the DELETE and a POST without
#     status/resourceVersion;
#   - --read-only: the footer does not offer R/S, `R` is refused and audited
#     (status 77), nothing is sent; `l` still works.
# Every wait polls with a deadline; everything started is stopped by PID or
# by its own tmux server socket. HOME is the temp dir (kubectl's ~/.kube).
#
# Env: LO_BINARY (the lambdaops binary), LO_SOURCE_DIR (the source tree).

set -u

B=${LO_BINARY:?set LO_BINARY to the lambdaops binary}
S=${LO_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d /tmp/lo-tui-kube.XXXXXX)
SOCK="lo-tui-kube-$$"
TM=(tmux -L "$SOCK" -f "$T/tmux.conf")
fails=0
SRV_PID=

cleanup() {
        "${TM[@]}" kill-server 2>/dev/null
        if [ -n "$SRV_PID" ]; then
                kill "$SRV_PID" 2>/dev/null
                wait "$SRV_PID" 2>/dev/null
        fi
        rm -rf "$T"
}
trap cleanup EXIT

. "$(dirname "$0")/../lib/helpers.sh"
lo_guard "$T"     # what this test starts does not outlive it, even on SIGKILL

KUBECTL=$(command -v kubectl)
if [ -z "$KUBECTL" ]; then
        echo "kubectl not installed (scripts/deps.sh installs it)"
        exit 1
fi

# count METHOD PATH [BODY-SUBSTRING]: matching requests in the server's log.
count() {
        python3 - "$T/requests.log" "$@" <<'PY'
import json, sys
path, method, p = sys.argv[1], sys.argv[2], sys.argv[3]
sub = sys.argv[4] if len(sys.argv) > 4 else None
n = 0
for line in open(path, encoding="utf-8"):
    if not line.strip():
        continue
    r = json.loads(line)
    if r["method"] == method and r["path"] == p and (sub is None or sub in (r.get("body") or "")):
        n += 1
print(n)
PY
}

# count_query METHOD PATH QUERY-SUBSTRING
count_query() {
        python3 - "$T/requests.log" "$@" <<'PY'
import json, sys
path, method, p, q = sys.argv[1:5]
print(sum(1 for l in open(path, encoding="utf-8") if l.strip()
          for r in [json.loads(l)] if r["method"] == method and r["path"] == p and q in r["query"]))
PY
}

# audit_is N ACTION OUTCOME [STATUS]: N lines; the last one is of the tui,
# source k8s, that action and outcome (and status), context fake, and (for
# a run) its argv begins with kubectl --kubeconfig.
audit_is() {
        python3 - "$T/audit.jsonl" "$KUBECTL" "$T/kubeconfig" "$@" <<'PY'
import json, sys
path, kubectl, kc = sys.argv[1:4]
n, action, outcome = int(sys.argv[4]), sys.argv[5], sys.argv[6]
status = int(sys.argv[7]) if len(sys.argv) > 7 else None
lines = [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]
assert len(lines) == n, (len(lines), lines)
a = lines[-1]
assert a["via"] == "tui" and a["source"] == "k8s" and a["kind"] == "kubernetes", a
assert a["action"] == action and a["outcome"] == outcome, a
if status is not None:
    assert a["status"] == status, a
assert a["context"] == "fake", a
if outcome != "refused":
    assert a["argv"][0][:5] == [kubectl, "--kubeconfig", kc, "--context", "fake"], a
    assert isinstance(a["duration_ms"], int), a
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

# --- the fake API server ------------------------------------------------------------

: >"$T/requests.log"
python3 "$S/tests/lib/fake_kube.py" --port-file "$T/port" --log "$T/requests.log" \
        --fixtures "$S/tests/fixtures/kube/base" --fixtures "$S/tests/fixtures/kube/spark" \
        >"$T/server.out" 2>&1 &
SRV_PID=$!
deadline=$(($(now_ms) + 10000))
until [ -s "$T/port" ]; do
        if [ "$(now_ms)" -ge "$deadline" ]; then bad "fake API server did not start"; exit 1; fi
        sleep 0.05
done
URL="http://127.0.0.1:$(cat "$T/port")"
ok "fake API server on $URL (pid $SRV_PID)"

cat >"$T/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: fake
    cluster: {server: "$URL"}
users:
  - name: fake
    user: {}
contexts:
  - name: fake
    context: {cluster: fake, user: fake, namespace: ingestion}
current-context: fake
EOF
cat >"$T/cfg.yaml" <<EOF
environment: tui-kube
refresh: 1s
audit_log: $T/audit.jsonl
kubectl: $KUBECTL
kubectl_cache_dir: $T/cache
danger_contexts: ["prod-*", "fa*"]
sources:
  - name: k8s
    kind: kubernetes
    kubeconfig: $T/kubeconfig
    context: fake
    interval: 1s
    timeout: 5s
  - name: spk
    kind: spark
    kubernetes: k8s
    namespaces: [processing]
    interval: 2s
    timeout: 5s
EOF
printf 'set -g default-terminal screen\nset -g status off\n' >"$T/tmux.conf"
cat >"$T/run.sh" <<EOF
#!/bin/sh
"$B" "\$@"
echo \$? >"$T/rc"
echo "lambdaops exited"
exec sleep 600
EOF
ENV="env HOME=$T LANG=C.UTF-8 LC_ALL=C.UTF-8"

# --- danger header, restart, scale, logs, delete -----------------------------------------

"${TM[@]}" new-session -d -s main -x 170 -y 45 "$ENV sh $T/run.sh -c $T/cfg.yaml --view cluster"

wait_for main "cluster pane: pods of the fixture" 'kafka-2 +0/1 CrashLoopBackOff'
wait_for main "header names the danger context" '^ lambdaops .* CONTEXT fake '
"${TM[@]}" capture-pane -p -e -t main | head -1 >"$T/header.esc"
if grep -q $'\e\\[[0-9;]*41m' "$T/header.esc"; then
        ok "danger context paints the header red (SGR 41 in capture-pane -e)"
else
        bad "header not painted red: $(cat -v "$T/header.esc")"
fi

keys main v
wait_for main "workloads table" 'StatefulSet +kafka +2/3'
keys main / k a f k a Enter
wait_for main "filter keeps the StatefulSet" 'filter /kafka: 1 of'
wait_for main "footer offers restart and scale for a StatefulSet" 'R restart +S scale'
keys main R
wait_for main "dialog: the exact kubectl command" \
        "\\\$ ${KUBECTL//./\\.} --kubeconfig ${T//./\\.}/kubeconfig --context fake --cache-dir"
wait_for main "dialog: the rest of the argv" '-n ingestion rollout restart'
wait_for main "dialog: the context, marked dangerous" 'context fake +\(a danger context\)'
wait_for main "dialog: the prompt" 'Run it\? +y run +n/Esc cancel'
screen main >"$T/dialog.txt"
echo "---- the dialog (capture-pane) ----"
sed 's/[[:space:]]*$//' "$T/dialog.txt" | sed '/^$/d'
echo "-----------------------------------"
PATCH_STS=/apis/apps/v1/namespaces/ingestion/statefulsets/kafka
if [ "$(count PATCH $PATCH_STS)" = 0 ]; then ok "nothing sent before y"; else bad "PATCH before y"; fi
keys main y
wait_for main "result page: outcome ok" '^ +outcome +ok'
wait_for main "result page: kubectl's output" 'statefulset\.apps/kafka restarted'
screen main >"$T/result.txt"
echo "---- the result page (capture-pane) ----"
sed 's/[[:space:]]*$//' "$T/result.txt" | sed '/^$/d'
echo "----------------------------------------"
wait_cmd "server: one PATCH with the restartedAt annotation" \
        test "$(count PATCH $PATCH_STS kubectl.kubernetes.io/restartedAt)" = 1
wait_cmd "audit log: one tui line, ok, context and argv" audit_is 1 restart ok
keys main Escape

keys main S
wait_for main "scale asks for the replicas" 'replicas:'
keys main x Enter
wait_for main "the editor refuses x" 'replicas: "x" is not a non-negative integer'
keys main C-u 4 Enter
wait_for main "scale plan: --replicas=4" 'scale statefulset/kafka --replicas=4'
keys main y
wait_for main "scale result: kubectl's output" 'statefulset\.apps/kafka scaled'
wait_cmd "server: PATCH of the scale subresource to 4" \
        test "$(count PATCH $PATCH_STS/scale '{"spec":{"replicas":4}}')" = 1
wait_cmd "audit log: scale ok" audit_is 2 scale ok
keys main Escape Escape

keys main v v v v v
wait_for main "back to the pods table" 'pods by component'
keys main / k a f k a - 2 Enter
wait_for main "filter keeps kafka-2" 'filter /kafka-2: 1 of'
wait_for main "footer offers logs and delete for a pod" 'D delete +l logs +L logs-previous'
keys main l
# the server's synthetic log: line N stamped N s after the pod's startTime,
# {{now-30m}} in tests/fixtures/kube/base
wait_for main "l: the log opens in the pager" \
        "^ *$(date -u -d "@$((LO_FIXTURE_NOW - 1800 + 20))" +%Y-%m-%dT%H:%M:%SZ) kafka-2/kafka line 20"
wait_cmd "server: GET of the log with tailLines=2000" \
        test "$(count_query GET /api/v1/namespaces/ingestion/pods/kafka-2/log tailLines=2000)" = 1
wait_cmd "audit log: logs ok" audit_is 3 logs ok
keys main / l i n e Space 1 3 Enter
wait_for main "search: the footer offers n/N" 'n/N next/prev'
"${TM[@]}" capture-pane -p -e -t main >"$T/search.esc"
if grep -q $'\e\\[[0-9;]*7mline 13' "$T/search.esc"; then
        ok "search: 'line 13' found and highlighted (reverse video)"
else
        bad "search: no highlighted 'line 13'"
        grep 'line 13' "$T/search.esc" | cat -v
fi
keys main n
wait_for main "n: wraps to the only match" 'search wrapped'
keys main Escape

keys main D
wait_for main "delete: dangerous, type the context" 'type the context name \(fake\)'
keys main w r o n g Enter
wait_for main "a wrong word is refused" 'type fake exactly to run it'
DEL=/api/v1/namespaces/ingestion/pods/kafka-2
if [ "$(count DELETE $DEL)" = 0 ]; then ok "nothing deleted yet"; else bad "deleted on a wrong word"; fi
keys main f a k e Enter
wait_for main "delete result: kubectl's output" 'pod "kafka-2" deleted'
wait_cmd "server: the DELETE of kafka-2" test "$(count DELETE $DEL)" = 1
wait_cmd "audit log: delete ok" audit_is 4 delete ok
keys main Escape

keys main : s p a r k Enter
wait_for main "spark pane: the FAILED application" 'failed-job +FAILED'
keys main / f a i l e d - j o b Enter
wait_for main "filter keeps failed-job" 'filter /failed-job: 1 of'
wait_for main "footer offers resubmit and driver logs" 'R resubmit +l driver-logs'
keys main R
wait_for main "resubmit: the delete" 'delete +sparkapplication/failed-job --wait=true'
wait_for main "resubmit: create -f of the private copy" \
        'lambdaops-resubmit-[A-Za-z0-9]+/sparkapplication\.json'
wait_for main "resubmit: dangerous, type the context" 'type the context name \(fake\)'
SA=/apis/sparkoperator.k8s.io/v1beta2/namespaces/processing/sparkapplications
if [ "$(count DELETE $SA/failed-job)" = 0 ]; then ok "nothing deleted before the context is typed"
else bad "resubmit deleted before confirmation"; fi
keys main f a k e Enter
wait_for main "resubmit result: kubectl's output" \
        'sparkapplication\.sparkoperator\.k8s\.io/failed-job created'
wait_cmd "server: DELETE of failed-job" test "$(count DELETE $SA/failed-job)" = 1
wait_cmd "server: POST of failed-job without status" test "$(count POST $SA failed-job)" = 1
if [ "$(count POST $SA '"status"')" = 0 ] && [ "$(count POST $SA resourceVersion)" = 0 ]; then
        ok "the resubmitted object has no status and no resourceVersion"
else
        bad "the resubmitted object kept status or resourceVersion"
fi
if python3 - "$T/audit.jsonl" <<'PY'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1]) if l.strip()][-1]
assert a["source"] == "spk" and a["kind"] == "spark" and a["action"] == "resubmit", a
assert a["outcome"] == "ok" and a["context"] == "fake" and len(a["argv"]) == 2, a
assert a["argv"][0][-3:] == ["delete", "sparkapplication/failed-job", "--wait=true"], a
PY
then ok "audit log: resubmit ok, two programs"; else bad "audit log: resubmit"; fi
keys main Escape
quit main

# --- read-only ---------------------------------------------------------------------

"${TM[@]}" new-session -d -s ro -x 170 -y 45 \
        "$ENV sh $T/run.sh -c $T/cfg.yaml --read-only --view cluster"
wait_for ro "read-only: the badge" 'READ-ONLY'
keys ro v
wait_for ro "read-only: workloads" 'StatefulSet +kafka'
keys ro / k a f k a Enter
wait_for ro "read-only: filter keeps the StatefulSet" 'filter /kafka: 1 of'
screen ro >"$T/ro.txt"
if grep -qE 'R restart|S scale' "$T/ro.txt"; then
        bad "read-only footer offers restart/scale"
else
        ok "read-only footer hides restart and scale"
fi
keys ro R
wait_for ro "read-only: R is refused" 'read-only: actions are disabled'
wait_cmd "audit log: refused, status 77, with the context" audit_is 6 restart refused 77
if [ "$(count PATCH $PATCH_STS)" = 1 ]; then ok "read-only sent nothing"; else bad "read-only sent a PATCH"; fi
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
