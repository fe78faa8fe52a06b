#!/usr/bin/env bash
#
# runbook_kraft_quorum.sh: the shipped runbook kraft-quorum-degraded
# (deploy/runbooks/kraft-quorum-degraded.yaml) end to end with the real
# binary, on
#   - librdkafka's mock cluster (bench_kafka --serve from the same build) as
#     the Kafka source `events`: it has no DescribeQuorum, so that source
#     reports the quorum unavailable, and the runbook's fallback is
#   - a real Prometheus (Debian's prometheus, on a free loopback port, its
#     TSDB in the temp dir) scraping three fixture exporters
#     (tests/lib/fixture_httpd.py, /c0 /c1 /c2 with node_id 0, 1, 2) with
#     jmx_exporter's raft metric names: voter 0 the leader (epoch 7, log end
#     offset 5000), voter 1 a follower 10 behind, voter 2 gone (its exporter
#     answers 503: the pod crash-loops), so the quorum has two voters;
#   - the fake Kubernetes API server (tests/lib/fake_kube.py, fixtures
#     tests/fixtures/runbooks/kraft-quorum-degraded/kube: StatefulSet
#     data/kafka 2/3 ready, kafka-2 in CrashLoopBackOff, its log) with the
#     real kubectl for the logs and delete actions.
#
# The runbook reads the quorum for its waits and verify from the input
# quorum_from (the Kafka source by default); here it is `metrics`, as its
# description says to do when DescribeQuorum is unavailable.
#
#   - a dry run of the shipped file: exit 0, the checks' current values
#     (DescribeQuorum unavailable, two voters in the raft metrics, the
#     StatefulSet 2/3), the resolved kubectl argv of logs and delete; no
#     mutating request, no ledger, no audit line;
#   - a failing run: the pod is deleted and comes back, but voter 2 never
#     reappears in the metrics; on a copy whose quorum-healthy timeout is 6s
#     (sed, that line only): exit 1, failed at quorum-healthy with the
#     timeout, the DELETE made once, the audit lines;
#   - a real run with --yes on a copy with the hold durations shortened
#     (rbe_shorten): when the DELETE reaches the API server the test
#     recreates the pod ready (the StatefulSet controller's part) and voter
#     2's exporter answers again, 4 behind the leader. Exit 0, exactly one
#     DELETE of pod kafka-2, the ledger (steps, check values, the waits, the
#     verify, the end), the audit lines (logs, delete) with the run id.
#
# Starts real servers, so it runs on the real clock only. Env: LO_BINARY,
# LO_SOURCE_DIR. Everything lives in one temp dir, removed at exit.
#
# ctest-label: real-clock

set -u

# shellcheck source=../lib/runbook_e2e.sh
. "${LO_SOURCE_DIR:?set LO_SOURCE_DIR to the source tree}/tests/lib/runbook_e2e.sh"
rbe_init rbkraft
export SRC
RB=kraft-quorum-degraded
BENCH=$(dirname "$B")/bench/bench_kafka
PROM=$(command -v prometheus || echo /usr/bin/prometheus)
KUBECTL=$(command -v kubectl || true)
if [ ! -x "$BENCH" ] || [ ! -x "$PROM" ] || [ -z "$KUBECTL" ]; then
        echo "SKIP: bench_kafka, prometheus or kubectl not found"
        exit 0
fi
mkdir -p runbooks failrb exp

# ---- the mock Kafka cluster ----------------------------------------------------------

"$BENCH" --serve -t 2 -p 3 -g 1 </dev/null >"$T/bootstrap" 2>"$T/mock.log" &
pids+=("$!")

# ---- the raft metrics: three exporters, voter 2 gone -----------------------------------

# exporters C2: the routes of /c0 /c1 /c2; C2 is voter 2's log end offset,
# or "gone" for a 503.
exporters() {
        python3 - "$1" <<'EOF' | rbe_routes "$T/exp/routes.json"
import json, sys
h = {"Content-Type": "text/plain; version=0.0.4"}
def node(state, leo):
    return ("kafka_server_raft_metrics_current_leader 0\n"
            "kafka_server_raft_metrics_current_epoch 7\n"
            "kafka_server_raft_metrics_high_watermark 5000\n"
            "kafka_server_raft_metrics_log_end_offset %d\n"
            "kafka_server_raft_metrics_current_state{state=\"%s\"} 1\n" % (leo, state))
r = [{"path": "/c0", "body": node("leader", 5000), "headers": h},
     {"path": "/c1", "body": node("follower", 4990), "headers": h}]
if sys.argv[1] == "gone":
    r.append({"path": "/c2", "status": 503, "body": "pod not ready\n"})
else:
    r.append({"path": "/c2", "body": node("follower", int(sys.argv[1])), "headers": h})
print(json.dumps({"routes": r}))
EOF
}
exporters gone
rbe_httpd exp "$T/exp/routes.json"
rbe_kube "$SRC/tests/fixtures/runbooks/$RB/kube"
rbe_ready
EXPO=127.0.0.1:$(cat "$T/exp/port")

PPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PURL=http://127.0.0.1:$PPORT
{
        printf 'global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n'
        for i in 0 1 2; do
                printf '  - job_name: kafka-c%s\n    metrics_path: /c%s\n' $i $i
                printf "    static_configs:\n      - targets: ['%s']\n        labels: {node_id: '%s'}\n" "$EXPO" $i
        done
} >"$T/prometheus.yml"
"$PROM" --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
        --web.listen-address="127.0.0.1:$PPORT" --log.level=warn </dev/null >>"$T/prometheus.log" 2>&1 &
pids+=("$!")
PROM_PID=$!

if rbe_prom_wait 'up{job="kafka-c0"} == 1' && rbe_prom_wait 'up{job="kafka-c1"} == 1' &&
   rbe_prom_wait 'up{job="kafka-c2"} == 0'; then
        ok "Prometheus scrapes voters 0 and 1, voter 2 is down"
else
        bad "Prometheus: $(tail -n 5 "$T/prometheus.log")"
        exit 1
fi
deadline=$(($(now_ms) + 30000))
until [ -s "$T/bootstrap" ]; do
        if [ "$(now_ms)" -ge "$deadline" ]; then
                bad "the mock cluster did not start: $(cat "$T/mock.log")"
                exit 1
        fi
        sleep 0.05
done
BS=$(head -n 1 "$T/bootstrap")

mkcfg() {
        cat >"$1" <<EOF
environment: test
audit_log: $T/audit.jsonl
kubectl: $KUBECTL
kubectl_cache_dir: $T/kcache
runbooks:
  - $2
sources:
  - name: events
    kind: kafka
    bootstrap: "$BS"
    groups: [bench-g00]
    quorum_prometheus: metrics
    interval: 1s
    timeout: 3s
  - name: metrics
    kind: prometheus
    url: $PURL
    interval: 1s
    timeout: 3s
  - name: k8s
    kind: kubernetes
    kubeconfig: $T/kubeconfig
    context: fake
    namespaces: [data]
    components:
      kafka: "lambdaops.io/component=kafka"
    interval: 1s
    timeout: 5s
EOF
}
mkcfg "$T/shipped.yaml" "$SRC/deploy/runbooks/$RB.yaml"
rbe_shorten "$SRC/deploy/runbooks/$RB.yaml" "$T/runbooks/$RB.yaml"
mkcfg "$T/short.yaml" "$T/runbooks"
# The failing run's copy: quorum-healthy times out after 6 s (the second
# `timeout: 10m` of the file, the one after quorum-healthy's expression).
python3 - "$T/runbooks/$RB.yaml" "$T/failrb/$RB.yaml" <<'EOF'
import sys
s = open(sys.argv[1]).read()
i = s.index("  - id: quorum-healthy")
j = s.index("    timeout: 10m\n", i)
open(sys.argv[2], "w").write(s[:j] + "    timeout: 6s\n" + s[j + len("    timeout: 10m\n"):])
EOF
mkcfg "$T/fail.yaml" "$T/failrb"
INPUTS=(--input voter=2 --input quorum_from=metrics)

expect "config check (shipped runbook)" 0 "$B" -c "$T/shipped.yaml" config check
expect "config check (shortened copy)" 0 "$B" -c "$T/short.yaml" config check
expect "config check (failing copy)" 0 "$B" -c "$T/fail.yaml" config check

DELETE_POD='("DELETE", "/api/v1/namespaces/data/pods/kafka-2", "")'
KARGS="$KUBECTL --kubeconfig $T/kubeconfig --context fake --cache-dir $T/kcache -n data"

# ---- dry run, the shipped file ----------------------------------------------------------

expect "dry run" 0 "$B" -c "$T/shipped.yaml" runbook run $RB --dry-run "${INPUTS[@]}"
cp "$T/out" "$T/dry.out"
has "dry run: DescribeQuorum is unavailable on the mock cluster" "$T/dry.out" \
        '^  now: false \(quorum\.available = false, quorum\.leader_id = null, len\(quorum\.voters\) = null, .*\)$'
has "dry run: the raft metrics: a leader, voters 0 and 1" "$T/dry.out" \
        '^  now: false \(quorum = \{"available":true,"reason":null,"leader_id":0,"leader_epoch":7,"high_watermark":5000,"voters":\[\{"id":0,"instance":"kafka-c0/[0-9.:]+","state":"leader","log_end_offset":5000,"lag":0,[^]]*\{"id":1,"instance":"kafka-c1/[0-9.:]+","state":"follower","log_end_offset":4990,"lag":10,[^]]*\],"observers":\[\]\}, quorum\.leader_id = 0, len\(quorum\.voters\) = 2\)$'
has "dry run: the StatefulSet is 2/3" "$T/dry.out" '^  now: false \(any\(workloads, .*\) = false\)$'
has "dry run: the logs argv" "$T/dry.out" "^\\\$ $KARGS logs pod/kafka-2 --tail=2000\$"
has "dry run: the delete argv" "$T/dry.out" "^\\\$ $KARGS delete pod/kafka-2 --wait=false\$"
rbe_kube_reqs "dry run: the API server got reads only" 'len(r) >= 1 and all(m == "GET" for m, p, q in r)'
[ ! -e "$RUNS" ] && ok "dry run: no ledger" || bad "dry run wrote a ledger: $(ls "$RUNS")"
[ ! -s "$T/audit.jsonl" ] && ok "dry run: no audit line" || bad "dry run: audit: $(cat "$T/audit.jsonl")"

# heal_pod: what the StatefulSet controller does after the delete: kafka-2
# again, ready, and the StatefulSet 3/3.
heal_pod() {
        python3 - "$SRC/tests/fixtures/runbooks/$RB/kube/objects/cluster.json" "$(rbe_url kube)" <<'EOF'
import json, os, sys, urllib.request
sys.path.insert(0, os.path.join(os.environ["SRC"], "tests/lib"))
import fixture_time
objs = json.loads(fixture_time.expand(open(sys.argv[1]).read()))
sts = [o for o in objs if o["kind"] == "StatefulSet"][0]
sts["status"]["readyReplicas"] = 3
pod = [o for o in objs if o["kind"] == "Pod" and o["metadata"]["name"] == "kafka-0"][0]
pod["metadata"]["name"] = "kafka-2"
pod["spec"]["nodeName"] = "node-3"
req = urllib.request.Request(sys.argv[2] + "/_fake/objects", json.dumps([sts, pod]).encode(),
                             {"Content-Type": "application/json"})
urllib.request.urlopen(req, timeout=10).read()
EOF
}
# break_pod: kafka-2 crash-looping again, the StatefulSet 2/3.
break_pod() {
        python3 - "$SRC/tests/fixtures/runbooks/$RB/kube/objects/cluster.json" "$(rbe_url kube)" <<'EOF'
import json, os, sys, urllib.request
sys.path.insert(0, os.path.join(os.environ["SRC"], "tests/lib"))
import fixture_time
objs = [o for o in json.loads(fixture_time.expand(open(sys.argv[1]).read()))
        if o["kind"] in ("StatefulSet", "Pod")]
req = urllib.request.Request(sys.argv[2] + "/_fake/objects", json.dumps(objs).encode(),
                             {"Content-Type": "application/json"})
urllib.request.urlopen(req, timeout=10).read()
EOF
}
# wait_delete: until the API server logged a DELETE (or the run ended).
wait_delete() {
        local deadline=$(($(now_ms) + 90000))
        until grep -q '"method": *"DELETE"' "$T/kube/requests.log"; do
                if [ "$(now_ms)" -ge "$deadline" ] || ! kill -0 "$1" 2>/dev/null; then
                        bad "the run sent no DELETE"
                        return 1
                fi
                sleep 0.05
        done
}

# ---- a failing run: the pod comes back, the voter does not -----------------------------------

: >"$T/kube/requests.log"
timeout 120 "$B" -c "$T/fail.yaml" runbook run $RB --yes "${INPUTS[@]}" \
        </dev/null >"$T/fail.out" 2>"$T/fail.err" &
FPID=$!
pids+=("$FPID")
wait_delete "$FPID" && heal_pod
wait "$FPID"
frc=$?
[ "$frc" = 1 ] && ok "failing run: exit 1" || bad "failing run: exit $frc: $(head -c 2000 "$T/fail.out" "$T/fail.err")"
FRUN=$(sed -n 's/^run \([^ ]*\): failed.*$/\1/p' "$T/fail.out" | head -n 1)
[ -n "$FRUN" ] && ok "failing run: $FRUN failed" || bad "failing run: $(head -c 2000 "$T/fail.out")"
rbe_kube_reqs "failing run: one DELETE, the pod" "[x for x in r if x[0] != \"GET\"] == [$DELETE_POD]"
CFG=$T/fail.yaml
rbe_ledger "failing run: ledger" "$FRUN" '
[(x["step"], x["result"]) for x in d if x.get("phase") == "end"] ==
[("quorum-brokers", "failed"), ("quorum-metrics", "failed"), ("pods", "failed"),
 ("voter-logs", "ok"), ("restart-voter", "ok"), ("pods-ready", "ok"), ("quorum-healthy", "failed")]
and [x["error"] for x in d if x.get("phase") == "end" and x["step"] == "quorum-healthy"][0]
    .startswith("timed out after 6s")
and not any(x["ev"] == "verify" for x in d)
and {k: v for k, v in d[-1].items() if k != "at"} == {"ev": "end", "result": "failed"}'
rbe_audit "failing run: the audit lines, logs and delete, ok" '
[(x["run"], x["action"], x["target"], x["outcome"]) for x in a] ==
[("'"$FRUN"'", "logs", "data/pod/kafka-2", "ok"), ("'"$FRUN"'", "delete", "data/pod/kafka-2", "ok")]'

# ---- a real run: the pod and the voter come back ----------------------------------------------

break_pod
: >"$T/kube/requests.log"
: >"$T/audit.jsonl"
timeout 120 "$B" -c "$T/short.yaml" runbook run $RB --yes "${INPUTS[@]}" \
        </dev/null >"$T/run.out" 2>"$T/run.err" &
RPID=$!
pids+=("$RPID")
wait_delete "$RPID" && { heal_pod; exporters 4996; }
wait "$RPID"
rc=$?
[ "$rc" = 0 ] && ok "run --yes (exit 0)" || bad "run: exit $rc: $(head -c 3000 "$T/run.out") / $(head -c 1000 "$T/run.err")"
has "run: ok" "$T/run.out" "^run [0-9]{8}T[0-9]{6}Z-$RB-[0-9a-f]{4}: ok\$"
RUN=$(sed -n 's/^run \([^ ]*\): ok$/\1/p' "$T/run.out")
rbe_kube_reqs "run: exactly one mutating request, the DELETE of kafka-2" \
        "[x for x in r if x[0] != \"GET\"] == [$DELETE_POD]"
rbe_kube_reqs "run: the log read, once" \
        '[x for x in r if x[1].endswith("/log")] == [("GET", "/api/v1/namespaces/data/pods/kafka-2/log", "container=kafka&tailLines=2000")]'

CFG=$T/short.yaml
rbe_ledger "log: the start record" "$RUN" '
{k: v for k, v in d[0].items() if k not in ("at", "target")} == {"ev": "start", "run": "'"$RUN"'",
 "runbook": "'$RB'", "file": "'"$T"'/runbooks/'$RB'.yaml", "user": "tester",
 "inputs": {"kafka": "events", "metrics": "metrics", "k8s": "k8s", "voter": "2",
            "quorum_from": "metrics", "max_voter_lag": "1000"}}'
cp "$T/out" "$T/log.json"
json "log: the steps in order, each once" '
[(x["step"], x["result"]) for x in d if x.get("phase") == "end"] ==
[("quorum-brokers", "failed"), ("quorum-metrics", "failed"), ("pods", "failed"),
 ("voter-logs", "ok"), ("restart-voter", "ok"), ("pods-ready", "ok"), ("quorum-healthy", "ok")]'
json "log: the actions, their argv, once each" '
[(x["step"], x["mutating"], x["attempt"], x["request"]) for x in d
 if x.get("phase") == "end" and x["kind"] == "action"] ==
[("voter-logs", False, 1, "'"$KARGS logs pod/kafka-2 --tail=2000"'"),
 ("restart-voter", True, 1, "'"$KARGS delete pod/kafka-2 --wait=false"'")]'
json "log: the voter's log in the run's output" '
"No space left on device" in [x for x in d if x.get("phase") == "end"
                              and x["step"] == "voter-logs"][0]["output_tail"]'
rbe_vals "log: DescribeQuorum unavailable" quorum-brokers \
        'quorum.available = false, quorum.leader_id = null, len(quorum.voters) = null, max(quorum.voters, .lag) = null'
json "log: the raft metrics: two voters first, then three, voter 2 four behind" '
[x["values"].endswith(", quorum.leader_id = 0, len(quorum.voters) = 2") for x in d
 if x.get("phase") == "end" and x["step"] == "quorum-metrics"] == [True]
and [(v.endswith(", quorum.available = true, quorum.leader_id = 0, len(quorum.voters) = 3, all(quorum.voters, .lag != null and .lag < inputs.max_voter_lag) = true"),
      "\"log_end_offset\":4996,\"lag\":4," in v) for v in [x["values"] for x in d
     if x.get("phase") == "end" and x["step"] == "quorum-healthy"]] == [(True, True)]'
rbe_vals "log: the pods check saw 2/3" pods \
        'any(workloads, .namespace == "data" and .name == "kafka" and .ready == .desired) = false'
rbe_vals "log: the pods-ready wait saw 3/3" pods-ready \
        'any(workloads, .namespace == "data" and .name == "kafka" and .ready == .desired) = true'
json "log: the verify held on metrics, the end" '
[(x["source"], x["result"]) for x in d if x["ev"] == "verify"] == [("metrics", "ok")]
and {k: v for k, v in d[-1].items() if k != "at"} == {"ev": "end", "result": "ok"}'
rbe_audit "audit: the logs and the delete, with the run id" '
[(x["run"], x["via"], x["source"], x["action"], x["target"], x["context"], x["outcome"]) for x in a] ==
[("'"$RUN"'", "cli", "k8s", "logs", "data/pod/kafka-2", "fake", "ok"),
 ("'"$RUN"'", "cli", "k8s", "delete", "data/pod/kafka-2", "fake", "ok")]'
rbe_done $RB
