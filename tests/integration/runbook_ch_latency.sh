#!/usr/bin/env bash
#
# runbook_ch_latency.sh: the shipped runbook clickhouse-latency-high
# (deploy/runbooks/clickhouse-latency-high.yaml) end to end with the real
# binary, on a real ClickHouse (scripts/chlib.sh, Debian's 18.16) whose
# system.query_log holds real slow queries (12 x `SELECT sleep(0.6)`, run
# in parallel, and a few fast ones): the 5-minute p95 the collector computes
# is over the runbook's default target_ms (500). The fake Kubernetes API
# server (tests/lib/fake_kube.py, fixtures
# tests/fixtures/runbooks/clickhouse-latency-high/kube) has the StatefulSet
# data/clickhouse with its two pods ready; the restart action runs the real
# kubectl against it.
#
#   - a dry run of the shipped file: exit 0, the checks' current values (the
#     figures, no partition over 300 parts, the replicas, the pods), the
#     resolved kubectl argv of the restart, the latency wait not holding;
#     no mutating request, no ledger, no audit line;
#   - a failing run: the operator confirms the manual step and chooses to
#     wait; the latency does not fall (nothing changes it) and the wait times
#     out. On a copy whose latency-falls timeout is 6s instead of 30m (sed,
#     this one line): exit 1, failed at latency-falls with the timeout
#     error, no action ran, no request but reads, no audit line;
#   - a real run with --yes on a copy with the hold durations shortened
#     (rbe_shorten: 1m, 2m, 5m to 3s): the operator confirms the manual step
#     and chooses the rolling restart; when the restart's PATCH reaches the
#     API server the load goes away: the test runs 400 fast queries, so the
#     slow ones are under 5 % of the window and the real p95 falls. Exit 0,
#     exactly one PATCH (the restartedAt annotation), the ledger (steps,
#     the manual answer, the choice, the check values, the verify, the
#     end), the audit line with the run id.
#
# Both runs have manual and choose steps, so they run with a
# pseudo-terminal as stdin; the test answers each prompt when it appears
# (rbe_pty_prompts, tests/lib/runbook_e2e.sh).
#
# Starts a real server, so it runs on the real clock only. Env: LO_BINARY,
# LO_SOURCE_DIR. Everything lives in one temp dir, removed at exit.
#
# ctest-label: real-clock

set -u

# shellcheck source=../lib/runbook_e2e.sh
. "${LO_SOURCE_DIR:?set LO_SOURCE_DIR to the source tree}/tests/lib/runbook_e2e.sh"
rbe_init rbchlat
ch_started=0
rbe_cleanup_hook() {
        if [ "$ch_started" = 1 ]; then
                lo_ch_stop "$T"
        fi
}
RB=clickhouse-latency-high
NSLOW=12
KUBECTL=$(command -v kubectl || true)
mkdir -p runbooks failrb

# shellcheck source=../../scripts/chlib.sh
. "$SRC/scripts/chlib.sh"
if [ ! -x "$LO_CH_SERVER" ] || [ -z "$KUBECTL" ]; then
        echo "SKIP: clickhouse-server or kubectl not found"
        exit 0
fi

# ---- a real ClickHouse with slow queries in its log ---------------------------------

HTTP=$(lo_ch_start "$T") || { bad "lo_ch_start: $(tail -n 5 "$T/ch/log")"; exit 1; }
ch_started=1
CHURL=http://127.0.0.1:$HTTP
chq() { lo_ch_query "$T" "$HTTP" "$@"; }
for _ in $(seq 1 $NSLOW); do
        curl -sS -m 30 --data-binary "SELECT sleep(0.6)" "$CHURL/" >/dev/null 2>>"$T/curl.err" &
done
wait
chq "SYSTEM FLUSH LOGS" >/dev/null
SLOW=$(chq "SELECT count() FROM system.query_log WHERE type = 2 AND query = 'SELECT sleep(0.6)'
            AND query_duration_ms >= 600")
[ "$SLOW" = $NSLOW ] && ok "$NSLOW slow queries of >= 600 ms in the query log" \
        || bad "slow queries in the log: $SLOW"

# ---- the fake Kubernetes API server --------------------------------------------------

rbe_kube "$SRC/tests/fixtures/runbooks/$RB/kube"
rbe_ready

mkcfg() {
        cat >"$1" <<EOF
environment: test
audit_log: $T/audit.jsonl
kubectl: $KUBECTL
kubectl_cache_dir: $T/kcache
runbooks:
  - $2
sources:
  - name: speed-ch
    kind: clickhouse
    url: $CHURL
    interval: 1s
    timeout: 5s
  - name: k8s
    kind: kubernetes
    kubeconfig: $T/kubeconfig
    context: fake
    namespaces: [data]
    components:
      clickhouse: "lambdaops.io/component=clickhouse"
    interval: 1s
    timeout: 5s
EOF
}
mkcfg "$T/shipped.yaml" "$SRC/deploy/runbooks/$RB.yaml"
rbe_shorten "$SRC/deploy/runbooks/$RB.yaml" "$T/runbooks/$RB.yaml"
mkcfg "$T/short.yaml" "$T/runbooks"
# The failing run's copy: the latency-falls wait times out after 6 s.
sed 's/^    timeout: 30m$/    timeout: 6s/' "$T/runbooks/$RB.yaml" >"$T/failrb/$RB.yaml"
[ "$(diff "$T/runbooks/$RB.yaml" "$T/failrb/$RB.yaml" | grep -c '^>')" = 1 ] \
        && ok "the failing copy differs in one timeout" || bad "the failing copy: $(diff "$T/runbooks/$RB.yaml" "$T/failrb/$RB.yaml")"
mkcfg "$T/fail.yaml" "$T/failrb"

expect "config check (shipped runbook)" 0 "$B" -c "$T/shipped.yaml" config check
expect "config check (shortened copy)" 0 "$B" -c "$T/short.yaml" config check
expect "config check (failing copy)" 0 "$B" -c "$T/fail.yaml" config check

PATCH_STS='("PATCH", "/apis/apps/v1/namespaces/data/statefulsets/clickhouse", "fieldManager=kubectl-rollout")'

# ---- dry run, the shipped file ---------------------------------------------------------

expect "dry run" 0 "$B" -c "$T/shipped.yaml" runbook run $RB --dry-run
cp "$T/out" "$T/dry.out"
# The p95 and p99 over the window: the slow queries are most of it.
has "dry run: the figures" "$T/dry.out" \
        '^  now: true \(latency_ms\["5m"\]\.p95 = (6[0-9][0-9]|[7-9][0-9][0-9]|1[0-9]{3})(\.[0-9]+)?, latency_ms\["5m"\]\.p99 = (6[0-9][0-9]|[7-9][0-9][0-9]|1[0-9]{3})(\.[0-9]+)?, queries_per_sec = [0-9.]+, inserted_rows_per_sec = [0-9.]+, merges = 0\)$'
# The only MergeTree table is system.query_log, with a few parts.
has "dry run: no partition over 300 parts" "$T/dry.out" '^  now: true \(max\(tables, \.max_parts_per_partition\) = ([0-9]|[1-9][0-9]|[12][0-9][0-9])\)$'
has "dry run: the replicas" "$T/dry.out" \
        '^  now: true \(count\(replicas, \.is_readonly\) = 0, count\(replicas, \.queue_size != null and \.queue_size > 100\) = 0\)$'
has "dry run: the pods" "$T/dry.out" \
        '^  now: true \(any\(workloads, .*\) = true, count\(pods, \.component == "clickhouse" and \.reason != null\) = 0\)$'
has "dry run: the exact kubectl argv" "$T/dry.out" \
        "^\\$ $KUBECTL --kubeconfig $T/kubeconfig --context fake --cache-dir $T/kcache -n data rollout restart statefulset/clickhouse\$"
has "dry run: the latency is not below target_ms" "$T/dry.out" \
        '^  now: false \(latency_ms\["5m"\]\.p95 = ((6[0-9][0-9]|[7-9][0-9][0-9]|1[0-9]{3})(\.[0-9]+)?), latency_ms\["5m"\]\.p95 = \1\)$'
rbe_kube_reqs "dry run: the API server got reads only" 'len(r) >= 1 and all(m == "GET" for m, p, q in r)'
[ ! -e "$RUNS" ] && ok "dry run: no ledger" || bad "dry run wrote a ledger: $(ls "$RUNS")"
[ ! -s "$T/audit.jsonl" ] && ok "dry run: no audit line" || bad "dry run: audit: $(cat "$T/audit.jsonl")"

# ---- a failing run: wait for the latency, which does not fall ----------------------------

rbe_pty_prompts "$T/fail.out" "$T/fail.err" 'Done? [y/N] =>y' 'Choose 1-2 (empty to abort): =>2' -- \
        "$B" -c "$T/fail.yaml" runbook run $RB --yes
rbe_pty_wait
[ "$rc" = 1 ] && ok "failing run: exit 1" || bad "failing run: exit $rc: $(head -c 2000 "$T/fail.out" "$T/fail.err")"
FRUN=$(sed -n 's/^run \([^ ]*\): failed.*$/\1/p' "$T/fail.out" | head -n 1)
[ -n "$FRUN" ] && ok "failing run: $FRUN failed" || bad "failing run: $(head -c 2000 "$T/fail.out")"
CFG=$T/fail.yaml
rbe_ledger "failing run: ledger" "$FRUN" '
[(x["step"], x["result"]) for x in d if x.get("phase") == "end"] ==
[("figures", "ok"), ("parts", "ok"), ("replicas", "ok"), ("pods", "ok"), ("slow-queries", "ok"),
 ("decide", "ok"), ("latency-falls", "failed")]
and [(x["step"], x["goto"]) for x in d if x["ev"] == "choice"] == [("decide", "latency-falls")]
and not any(x.get("step") in ("rolling-restart", "pods-ready") for x in d)
and not any(x["ev"] == "verify" for x in d)
and {k: v for k, v in d[-1].items() if k != "at"} == {"ev": "end", "result": "failed"}'
cp "$T/out" "$T/fail.json"
python3 -c '
import json, sys
e = [x["error"] for x in json.load(open(sys.argv[1]))
     if x.get("phase") == "end" and x["step"] == "latency-falls"][0]
assert e.startswith("timed out after 6s"), e
print("yes")' "$T/fail.json" >"$T/fail.chk" 2>&1
[ "$(cat "$T/fail.chk")" = yes ] && ok "failing run: latency-falls timed out after 6 s" \
        || bad "failing run: $(cat "$T/fail.chk")"
rbe_kube_reqs "failing run: the API server got reads only" 'all(m == "GET" for m, p, q in r)'
[ ! -s "$T/audit.jsonl" ] && ok "failing run: no audit line" || bad "failing run: audit: $(cat "$T/audit.jsonl")"

# ---- a real run: the rolling restart, the load goes away -------------------------------

: >"$T/kube/requests.log"
rbe_pty_prompts "$T/run.out" "$T/run.err" 'Done? [y/N] =>y' 'Choose 1-2 (empty to abort): =>1' -- \
        "$B" -c "$T/short.yaml" runbook run $RB --yes
deadline=$(($(now_ms) + 90000))
until grep -q '"method": *"PATCH"' "$T/kube/requests.log"; do
        if [ "$(now_ms)" -ge "$deadline" ] || ! kill -0 "$RUN_PID" 2>/dev/null; then
                bad "the run sent no PATCH: $(cat "$T/run.out" "$T/run.err" | head -c 2000)"
                break
        fi
        sleep 0.05
done
# The load is gone: 400 fast queries, so the 12 slow ones are under 5 %
# of the 5-minute window and the p95 is a fast one's.
urls=()
for _ in $(seq 1 400); do
        urls+=("$CHURL/?query=SELECT%201")
done
curl -sS -m 60 "${urls[@]}" >/dev/null 2>>"$T/curl.err" || bad "the fast queries"
rbe_pty_wait
[ "$rc" = 0 ] && ok "run --yes (exit 0)" || bad "run: exit $rc: $(head -c 3000 "$T/run.out") / $(head -c 1000 "$T/run.err")"
has "run: ok" "$T/run.out" "^run [0-9]{8}T[0-9]{6}Z-$RB-[0-9a-f]{4}: ok\$"
RUN=$(sed -n 's/^run \([^ ]*\): ok$/\1/p' "$T/run.out")
rbe_kube_reqs "run: exactly one mutating request, the rollout restart PATCH" \
        "[x for x in r if x[0] != \"GET\"] == [$PATCH_STS]"
python3 - "$T/kube/requests.log" >"$T/patch.chk" 2>&1 <<'EOF'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
p = [x for x in r if x["method"] == "PATCH"][0]
b = json.loads(p["body"])
a = b["spec"]["template"]["metadata"]["annotations"]
assert list(a) == ["kubectl.kubernetes.io/restartedAt"], b
assert p["content_type"] == "application/strategic-merge-patch+json", p
print("yes")
EOF
[ "$(cat "$T/patch.chk")" = yes ] && ok "run: the PATCH sets restartedAt, strategic merge" \
        || bad "run: the PATCH: $(cat "$T/patch.chk")"

CFG=$T/short.yaml
rbe_ledger "log: the start record" "$RUN" '
{k: v for k, v in d[0].items() if k not in ("at", "target")} == {"ev": "start", "run": "'"$RUN"'",
 "runbook": "'$RB'", "file": "'"$T"'/runbooks/'$RB'.yaml", "user": "tester",
 "inputs": {"clickhouse": "speed-ch", "k8s": "k8s", "target_ms": "500"}}'
cp "$T/out" "$T/log.json"
json "log: the steps in order, each once, each ok" '
[(x["step"], x["result"]) for x in d if x.get("phase") == "end"] ==
[("figures", "ok"), ("parts", "ok"), ("replicas", "ok"), ("pods", "ok"), ("slow-queries", "ok"),
 ("decide", "ok"), ("rolling-restart", "ok"), ("pods-ready", "ok"), ("latency-falls", "ok")]
and [(x["step"], x["goto"]) for x in d if x["ev"] == "choice"] == [("decide", "rolling-restart")]'
json "log: the only mutating step is the restart, run once, its argv" '
[(x["step"], x["kind"], x["attempt"], x["request"]) for x in d
 if x.get("phase") == "end" and x["mutating"]] ==
[("rolling-restart", "action", 1, "'"$KUBECTL --kubeconfig $T/kubeconfig --context fake --cache-dir $T/kcache -n data rollout restart statefulset/clickhouse"'")]'
rbe_vals "log: the replicas check's values" replicas \
        'count(replicas, .is_readonly) = 0, count(replicas, .queue_size != null and .queue_size > 100) = 0'
rbe_vals "log: the pods check's values" pods \
        'any(workloads, .namespace == "data" and .name == "clickhouse" and .ready == .desired) = true, count(pods, .component == "clickhouse" and .reason != null) = 0'
rbe_vals "log: the pods-ready wait's values" pods-ready \
        'any(workloads, .namespace == "data" and .name == "clickhouse" and .ready == .desired) = true'
python3 - "$T/log.json" >"$T/lat.chk" 2>&1 <<'EOF'
import json, re, sys
d = json.load(open(sys.argv[1]))
v = {x["step"]: x.get("values") for x in d if x.get("phase") == "end"}
p95 = float(re.match(r'latency_ms\["5m"\]\.p95 = ([0-9.]+), ', v["figures"]).group(1))
assert 600 <= p95 < 2000, v["figures"]
parts = int(re.fullmatch(r"max\(tables, \.max_parts_per_partition\) = ([0-9]+)", v["parts"]).group(1))
assert parts < 300, v["parts"]
m = re.fullmatch(r'latency_ms\["5m"\]\.p95 = ([0-9.]+), latency_ms\["5m"\]\.p95 = \1', v["latency-falls"])
assert m and float(m.group(1)) < 500, v["latency-falls"]
ver = [x for x in d if x["ev"] == "verify"]
assert [(x["source"], x["result"]) for x in ver] == [("speed-ch", "ok")], ver
assert re.fullmatch(r'latency_ms\["5m"\]\.p95 = ([0-9.]+), latency_ms\["5m"\]\.p95 = \1', ver[0]["values"])
assert float(ver[0]["values"].split(" = ")[1].split(",")[0]) < 500, ver
assert {k: x for k, x in d[-1].items() if k != "at"} == {"ev": "end", "result": "ok"}, d[-1]
print("yes")
EOF
[ "$(cat "$T/lat.chk")" = yes ] && ok "log: p95 >= 600 ms first, under 500 ms at the wait and the verify; the parts; the end" \
        || bad "log: latency: $(cat "$T/lat.chk")"
rbe_audit "audit: one line, the restart, with the run id" '
len(a) == 1 and a[0]["run"] == "'"$RUN"'" and (a[0]["via"], a[0]["source"], a[0]["kind"],
 a[0]["action"], a[0]["target"], a[0]["context"], a[0]["outcome"]) ==
 ("cli", "k8s", "kubernetes", "restart", "data/statefulset/clickhouse", "fake", "ok")'

rbe_done $RB
