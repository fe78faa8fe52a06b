#!/usr/bin/env bash
#
# runbook_kafka_urp.sh: the shipped runbook kafka-under-replicated
# (deploy/runbooks/kafka-under-replicated.yaml) end to end with the real
# binary, on
#   - librdkafka's mock cluster (bench_kafka --serve --control from the same
#     build) as the Kafka source `events`, with broker 2 taken down
#     (rd_kafka_mock_broker_set_down: its connections close, new ones are
#     refused) and partition bench-000/1, which it led, without a leader
#     (offline in the metadata). The mock cluster's metadata always lists every replica in
#     sync, so the Kafka source's under_replicated stays 0; the broker down
#     and the offline partition are what this runbook sees there;
#   - a real Prometheus (Debian's prometheus, free loopback port, its TSDB in
#     the temp dir) scraping a fixture exporter (tests/lib/fixture_httpd.py)
#     whose under-replicated count is 6 while the broker is down, 0 after:
#     the source `metrics` of the runbook's second verify, with the queries
#     under_replicated and under_min_isr;
#   - the fake Kubernetes API server (tests/lib/fake_kube.py, fixtures
#     tests/fixtures/runbooks/kafka-under-replicated/kube: StatefulSet
#     data/kafka 2/3 ready, kafka-2 crash-looping, its log) with the real
#     kubectl for the logs and delete actions.
#
#   - a dry run of the shipped file: exit 0, the checks' current values (one
#     broker down, one offline partition, no quorum leader, the StatefulSet
#     2/3), both branches of the choice, the kubectl argv of logs and
#     delete; no mutating request, no ledger, no audit line;
#   - a failing run: the operator chooses "every broker is up, wait"; the
#     broker stays down and the in-sync wait times out. On a copy whose
#     in-sync timeout is 3s instead of 30m (sed, that line only): exit 1,
#     failed at in-sync, no action ran, reads only, no audit line;
#   - a real run with --yes on a copy with the hold durations shortened
#     (rbe_shorten): the operator chooses to restart broker 2's pod; when
#     the DELETE reaches the API server the test brings broker 2 back up
#     and gives bench-000/1 its leader back (the mock cluster), recreates the pod
#     ready (the StatefulSet controller's part) and sets the exporter's
#     count to 0. Exit 0, exactly one DELETE of pod kafka-2, the ledger
#     (steps, the choice, check values, waits, both verifies, the end), the
#     audit lines (logs, delete) with the run id.
#
# Both runs have a choose step, so they run with a pseudo-terminal as stdin;
# the test answers each prompt when it appears (rbe_pty_prompts, this file).
#
# Starts real servers, so it runs on the real clock only. Env: LO_BINARY,
# LO_SOURCE_DIR. Everything lives in one temp dir, removed at exit.
#
# ctest-label: real-clock

set -u

# shellcheck source=../lib/runbook_e2e.sh
. "${LO_SOURCE_DIR:?set LO_SOURCE_DIR to the source tree}/tests/lib/runbook_e2e.sh"
rbe_init rbkurp
export SRC
RB=kafka-under-replicated
BENCH=$(dirname "$B")/bench/bench_kafka
PROM=$(command -v prometheus || echo /usr/bin/prometheus)
KUBECTL=$(command -v kubectl || true)
if [ ! -x "$BENCH" ] || [ ! -x "$PROM" ] || [ -z "$KUBECTL" ]; then
        echo "SKIP: bench_kafka, prometheus or kubectl not found"
        exit 0
fi
mkdir -p runbooks failrb exp

# ---- the mock Kafka cluster, broker 2 down ----------------------------------------------

"$BENCH" --serve --control "$T/ctl" -t 2 -p 3 -g 1 </dev/null >"$T/bootstrap" 2>"$T/mock.log" &
pids+=("$!")
# mock TEXT: the lines of TEXT applied by the mock cluster (bench_kafka's
# control file); waits for its acknowledgement.
mock() {
        local deadline=$(($(now_ms) + 20000))
        printf '%s' "$1" >"$T/ctl.tmp" && mv "$T/ctl.tmp" "$T/ctl"
        until [ -f "$T/ctl.done" ] && [ "$(cat "$T/ctl.done")" = "$(cat "$T/ctl")" ]; do
                if [ "$(now_ms)" -ge "$deadline" ]; then
                        bad "the mock cluster did not apply '$1': $(cat "$T/ctl.done" 2>/dev/null)"
                        return 1
                fi
                sleep 0.05
        done
}

# ---- the exporter, Prometheus, the fake API server ----------------------------------------

# exporter N: the brokers' under-replicated partition count is N.
exporter() {
        python3 - "$1" <<'EOF' | rbe_routes "$T/exp/routes.json"
import json, sys
h = {"Content-Type": "text/plain; version=0.0.4"}
body = ("kafka_server_replicamanager_underreplicatedpartitions %s\n"
        "kafka_server_replicamanager_underminisrpartitioncount 0\n" % sys.argv[1])
print(json.dumps({"routes": [{"path": "/metrics", "body": body, "headers": h}]}))
EOF
}
exporter 6
rbe_httpd exp "$T/exp/routes.json"
rbe_kube "$SRC/tests/fixtures/runbooks/$RB/kube"
rbe_ready
EXPO=127.0.0.1:$(cat "$T/exp/port")

PPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PURL=http://127.0.0.1:$PPORT
cat >"$T/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: kafka
    static_configs:
      - targets: ['$EXPO']
EOF
"$PROM" --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
        --web.listen-address="127.0.0.1:$PPORT" --log.level=warn </dev/null >>"$T/prometheus.log" 2>&1 &
pids+=("$!")
PROM_PID=$!

deadline=$(($(now_ms) + 30000))
until [ -s "$T/bootstrap" ]; do
        if [ "$(now_ms)" -ge "$deadline" ]; then
                bad "the mock cluster did not start: $(cat "$T/mock.log")"
                exit 1
        fi
        sleep 0.05
done
# The source bootstraps from brokers 1 and 3 only: with broker 2 (down) in
# the list, librdkafka may try it first and the whole first poll of a
# process can miss its timeout ("no broker answered"). The metadata still
# lists all three brokers.
BS=$(head -n 1 "$T/bootstrap" | cut -d, -f1,3)
# The mock cluster places leaders at random: first partition p of each
# topic is led by broker p + 1, so broker 2 leads bench-000/1 and
# bench-001/1. Then broker 2 goes down and bench-000/1 loses its leader
# (offline); bench-001/1 keeps broker 2 as its leader, which does not answer.
mock $'leader bench-000 0 1\nleader bench-000 1 2\nleader bench-000 2 3\nleader bench-001 0 1\nleader bench-001 1 2\nleader bench-001 2 3\n' &&
        mock $'down 2\nleader bench-000 1 -1\n' && ok "broker 2 is down, bench-000/1 has no leader"
if rbe_prom_wait 'kafka_server_replicamanager_underreplicatedpartitions == 6'; then
        ok "Prometheus scrapes the exporter: 6 under-replicated"
else
        bad "Prometheus: $(tail -n 5 "$T/prometheus.log")"
        exit 1
fi

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
    interval: 1s
    timeout: 2s
  - name: metrics
    kind: prometheus
    url: $PURL
    interval: 1s
    timeout: 3s
    quorum: off
    queries:
      - {name: under_replicated, expr: "sum(kafka_server_replicamanager_underreplicatedpartitions)"}
      - {name: under_min_isr, expr: "sum(kafka_server_replicamanager_underminisrpartitioncount)"}
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
# The failing run's copy: the in-sync wait times out after 3 s.
sed 's/^    timeout: 30m$/    timeout: 3s/' "$T/runbooks/$RB.yaml" >"$T/failrb/$RB.yaml"
[ "$(diff "$T/runbooks/$RB.yaml" "$T/failrb/$RB.yaml" | grep -c '^>')" = 1 ] \
        && ok "the failing copy differs in one timeout" || bad "the failing copy: $(diff "$T/runbooks/$RB.yaml" "$T/failrb/$RB.yaml")"
mkcfg "$T/fail.yaml" "$T/failrb"

expect "config check (shipped runbook)" 0 "$B" -c "$T/shipped.yaml" config check
expect "config check (shortened copy)" 0 "$B" -c "$T/short.yaml" config check
expect "config check (failing copy)" 0 "$B" -c "$T/fail.yaml" config check

DELETE_POD='("DELETE", "/api/v1/namespaces/data/pods/kafka-2", "")'
KARGS="$KUBECTL --kubeconfig $T/kubeconfig --context fake --cache-dir $T/kcache -n data"
CHOOSE='Choose 1-2 (empty to abort): '

# ---- dry run, the shipped file ----------------------------------------------------------

expect "dry run" 0 "$B" -c "$T/shipped.yaml" runbook run $RB --dry-run --input broker=2
cp "$T/out" "$T/dry.out"
has "dry run: broker 2 is down" "$T/dry.out" \
        '^  now: false \(len\(brokers\) = 3, count\(brokers, \.up == false\) = 1, all\(brokers, \.in_metadata\) = true\)$'
has "dry run: one offline partition, no quorum leader" "$T/dry.out" \
        '^  now: false \(sum\(topics, \.under_replicated\) = 0, sum\(topics, \.offline\) = 1, quorum\.leader_id = null\)$'
has "dry run: the StatefulSet is 2/3" "$T/dry.out" '^  now: false \(any\(workloads, .*\) = false\)$'
has "dry run: the restart branch" "$T/dry.out" '^  1\. A broker is down or stuck; restart its pod \(the input broker\) -> broker-logs$'
has "dry run: the wait branch" "$T/dry.out" '^  2\. Every broker is up; wait for the replicas to catch up -> in-sync$'
has "dry run: the logs argv" "$T/dry.out" "^\\\$ $KARGS logs pod/kafka-2 --tail=2000\$"
has "dry run: the delete argv" "$T/dry.out" "^\\\$ $KARGS delete pod/kafka-2 --wait=false\$"
has "dry run: the metrics verify does not hold" "$T/dry.out" \
        '^  now: false \(all\(series, \(\.name != "under_replicated" and \.name != "under_min_isr"\) or \.value == 0\) = false\)$'
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
# ---- a failing run: "every broker is up, wait" while broker 2 is down -------------------------

: >"$T/kube/requests.log"
rbe_pty_prompts "$T/fail.out" "$T/fail.err" "$CHOOSE=>2" -- \
        "$B" -c "$T/fail.yaml" runbook run $RB --yes --input broker=2
rbe_pty_wait
[ "$rc" = 1 ] && ok "failing run: exit 1" || bad "failing run: exit $rc: $(head -c 2000 "$T/fail.out" "$T/fail.err")"
FRUN=$(sed -n 's/^run \([^ ]*\): failed.*$/\1/p' "$T/fail.out" | head -n 1)
[ -n "$FRUN" ] && ok "failing run: $FRUN failed" || bad "failing run: $(head -c 2000 "$T/fail.out")"
CFG=$T/fail.yaml
rbe_ledger "failing run: ledger" "$FRUN" '
[(x["step"], x["result"]) for x in d if x.get("phase") == "end"] ==
[("brokers", "failed"), ("partitions", "failed"), ("pods", "failed"), ("decide", "ok"),
 ("in-sync", "failed")]
and [(x["step"], x["goto"]) for x in d if x["ev"] == "choice"] == [("decide", "in-sync")]
and [x["error"] for x in d if x.get("phase") == "end" and x["step"] == "in-sync"][0]
    .startswith("timed out after 3s")
and not any(x["ev"] == "verify" for x in d)
and {k: v for k, v in d[-1].items() if k != "at"} == {"ev": "end", "result": "failed"}'
rbe_kube_reqs "failing run: the API server got reads only" 'all(m == "GET" for m, p, q in r)'
[ ! -s "$T/audit.jsonl" ] && ok "failing run: no audit line" || bad "failing run: audit: $(cat "$T/audit.jsonl")"

# ---- a real run: restart broker 2's pod, the broker comes back -----------------------------------

: >"$T/kube/requests.log"
rbe_pty_prompts "$T/run.out" "$T/run.err" "$CHOOSE=>1" -- \
        "$B" -c "$T/short.yaml" runbook run $RB --yes --input broker=2
deadline=$(($(now_ms) + 90000))
until grep -q '"method": *"DELETE"' "$T/kube/requests.log"; do
        if [ "$(now_ms)" -ge "$deadline" ] || ! kill -0 "$RUN_PID" 2>/dev/null; then
                bad "the run sent no DELETE: $(cat "$T/run.out" "$T/run.err" | head -c 2000)"
                break
        fi
        sleep 0.05
done
mock $'up 2\nleader bench-000 1 2\n'
heal_pod
exporter 0
rbe_pty_wait
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
 "inputs": {"kafka": "events", "k8s": "k8s", "broker": "2"}}'
cp "$T/out" "$T/log.json"
json "log: the steps in order, each once, the choice" '
[(x["step"], x["result"]) for x in d if x.get("phase") == "end"] ==
[("brokers", "failed"), ("partitions", "failed"), ("pods", "failed"), ("decide", "ok"),
 ("broker-logs", "ok"), ("restart-broker", "ok"), ("pods-ready", "ok"), ("in-sync", "ok")]
and [(x["step"], x["goto"]) for x in d if x["ev"] == "choice"] == [("decide", "broker-logs")]'
json "log: the actions, their argv, once each" '
[(x["step"], x["mutating"], x["attempt"], x["request"]) for x in d
 if x.get("phase") == "end" and x["kind"] == "action"] ==
[("broker-logs", False, 1, "'"$KARGS logs pod/kafka-2 --tail=2000"'"),
 ("restart-broker", True, 1, "'"$KARGS delete pod/kafka-2 --wait=false"'")]'
json "log: the broker's log lines in the run's output" '
"REQUEST_TIMED_OUT" in [x for x in d if x.get("phase") == "end"
                        and x["step"] == "broker-logs"][0]["output_tail"]'
rbe_vals "log: the brokers check saw broker 2 down" brokers \
        'len(brokers) = 3, count(brokers, .up == false) = 1, all(brokers, .in_metadata) = true'
rbe_vals "log: the partitions check saw one offline" partitions \
        'sum(topics, .under_replicated) = 0, sum(topics, .offline) = 1, quorum.leader_id = null'
rbe_vals "log: the pods check saw 2/3" pods \
        'any(workloads, .namespace == "data" and .name == "kafka" and .ready == .desired) = false'
rbe_vals "log: the pods-ready wait saw 3/3" pods-ready \
        'any(workloads, .namespace == "data" and .name == "kafka" and .ready == .desired) = true'
rbe_vals "log: in sync, every broker up" in-sync \
        'sum(topics, .under_replicated) = 0, sum(topics, .offline) = 0, count(brokers, .up == false) = 0'
json "log: both verifies held, the end" '
[(x["source"], x["result"], x["values"]) for x in d if x["ev"] == "verify"] ==
[("events", "ok", "sum(topics, .under_replicated) = 0, sum(topics, .offline) = 0, count(brokers, .up == false) = 0"),
 ("metrics", "ok", "all(series, (.name != \"under_replicated\" and .name != \"under_min_isr\") or .value == 0) = true")]
and {k: v for k, v in d[-1].items() if k != "at"} == {"ev": "end", "result": "ok"}'
rbe_audit "audit: the logs and the delete, with the run id" '
[(x["run"], x["via"], x["source"], x["action"], x["target"], x["context"], x["outcome"]) for x in a] ==
[("'"$RUN"'", "cli", "k8s", "logs", "data/pod/kafka-2", "fake", "ok"),
 ("'"$RUN"'", "cli", "k8s", "delete", "data/pod/kafka-2", "fake", "ok")]'

rbe_done $RB
