#!/usr/bin/env bash
#
# runbook_ch_parts.sh: the shipped runbook clickhouse-too-many-parts
# (deploy/runbooks/clickhouse-too-many-parts.yaml) end to end with the real
# binary, on a real ClickHouse (scripts/chlib.sh, Debian's 18.16) whose
# MergeTree table speed.orders_rt has its merges stopped (SYSTEM STOP
# MERGES) and 110 one-row inserts into one partition: 110 real active parts,
# over the runbook's default max_parts (100). The fake Kubernetes API server
# (tests/lib/fake_kube.py, fixtures
# tests/fixtures/runbooks/clickhouse-too-many-parts/kube) has the StatefulSet
# data/clickhouse ready.
#
# The runbook's action is the user-defined `start-merges` of
# deploy/lambdaops.yaml, which runs clickhouse-client in the pod through
# `kubectl exec` (the fake API server has no exec). The test's config
# defines `start-merges` with the same name, scope and query, running
# clickhouse-client against the test's server instead (no ON CLUSTER: one
# server, no cluster). So the action reaches the real server, and the real
# merges bring the part count down: that is the heal.
#
#   - a dry run of the shipped file: exit 0, the checks' current values (the
#     table with its 110 parts, no read-only replica, the pods ready), the
#     resolved argv; no query other than the collector's reads, no ledger,
#     no audit line;
#   - a failing run (a copy whose start-merges points at a port nothing
#     listens on): exit 1, the run failed at start-merges with
#     clickhouse-client's exit status, nothing after it ran, the audit line
#     with outcome failed; the merges are still stopped;
#   - a real run with --yes on a copy with the hold durations shortened
#     (rbe_shorten: 2m and 5m to 3s): exit 0, exactly one SYSTEM START
#     MERGES in system.query_log, the API server got reads only, the ledger
#     (steps in order, the check values, the wait, the verify, the end),
#     the audit line with the run id; the parts really merged.
#
# Starts a real server, so it runs on the real clock only. Env: LO_BINARY,
# LO_SOURCE_DIR. Everything lives in one temp dir, removed at exit.
#
# ctest-label: real-clock

set -u

# shellcheck source=../lib/runbook_e2e.sh
. "${LO_SOURCE_DIR:?set LO_SOURCE_DIR to the source tree}/tests/lib/runbook_e2e.sh"
rbe_init rbchparts
ch_started=0
rbe_cleanup_hook() {
        if [ "$ch_started" = 1 ]; then
                lo_ch_stop "$T"
        fi
}
RB=clickhouse-too-many-parts
TABLE=speed.orders_rt
NPARTS=110
CHC=$(command -v clickhouse-client || echo /usr/bin/clickhouse-client)
mkdir -p runbooks

# ---- a real ClickHouse with merges stopped and 110 parts ----------------------

# shellcheck source=../../scripts/chlib.sh
. "$SRC/scripts/chlib.sh"
if [ ! -x "$LO_CH_SERVER" ] || [ ! -x "$CHC" ]; then
        echo "SKIP: clickhouse-server or clickhouse-client not found"
        exit 0
fi
if ! command -v kubectl >/dev/null 2>&1; then
        echo "SKIP: kubectl not found"
        exit 0
fi
HTTP=$(lo_ch_start "$T") || { bad "lo_ch_start: $(tail -n 5 "$T/ch/log")"; exit 1; }
ch_started=1
TCP=$(cat "$T/ch/tcp_port")
chq() { lo_ch_query "$T" "$HTTP" "$@"; }
# The query log's table is created on its first flush: flushed first, so
# the merges of every table are stopped (merges = 0 in the checks below,
# exactly; a table created after SYSTEM STOP MERGES would merge).
chq "SELECT 1" "SYSTEM FLUSH LOGS" "CREATE DATABASE speed" \
        "CREATE TABLE $TABLE (bucket Date, id UInt64, amount Float64)
         ENGINE = MergeTree() PARTITION BY bucket ORDER BY id" \
        "SYSTEM STOP MERGES" >/dev/null || bad "create the table, stop the merges"
inserts=()
for i in $(seq 1 $NPARTS); do
        inserts+=("INSERT INTO $TABLE VALUES ('2026-01-01', $i, $i.5)")
done
chq "${inserts[@]}" >/dev/null || bad "the $NPARTS inserts"
parts() { chq "SELECT count() FROM system.parts WHERE active AND database = 'speed' AND table = 'orders_rt'"; }
[ "$(parts)" = $NPARTS ] && ok "$NPARTS active parts in one partition" \
        || bad "active parts: $(parts)"

# ---- the fake Kubernetes API server ----------------------------------------------

rbe_kube "$SRC/tests/fixtures/runbooks/$RB/kube"
rbe_ready

# mkcfg FILE RUNBOOK_DIR [TCP_PORT]: the sources the runbook's inputs name
# by default (speed-ch, k8s) and start-merges against TCP_PORT.
mkcfg() {
        cat >"$1" <<EOF
environment: test
audit_log: $T/audit.jsonl
kubectl: $(command -v kubectl)
kubectl_cache_dir: $T/kcache
runbooks:
  - $2
actions:
  - name: start-merges
    title: SYSTEM START MERGES on the ClickHouse server
    scope: statefulset
    argv: [$CHC, --host, 127.0.0.1, --port, "${3:-$TCP}", --query, "SYSTEM START MERGES"]
sources:
  - name: speed-ch
    kind: clickhouse
    url: http://127.0.0.1:$HTTP
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
# A port nothing listens on (this shell's own free-port probe).
DEAD=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$T/failrb"
cp "$T/runbooks/$RB.yaml" "$T/failrb/"
mkcfg "$T/fail.yaml" "$T/failrb" "$DEAD"

expect "config check (shipped runbook)" 0 "$B" -c "$T/shipped.yaml" config check
expect "config check (shortened copy)" 0 "$B" -c "$T/short.yaml" config check

# The queries that changed something on the server: the collector only reads.
writes() {
        chq "SYSTEM FLUSH LOGS" >/dev/null
        chq "SELECT query FROM system.query_log WHERE type = 2
             AND query NOT LIKE 'SELECT%' AND query NOT LIKE 'INSERT INTO $TABLE VALUES%'
             AND query NOT LIKE 'CREATE%' AND query NOT LIKE 'SYSTEM FLUSH LOGS%'
             AND query != 'SYSTEM STOP MERGES' ORDER BY event_time"
}
kube_reads_only() {
        rbe_reqs "$1" "$T/kube/requests.log" 'len(r) >= 1 and all(m == "GET" for m, p, q in r)'
}

# ---- dry run, the shipped file ----------------------------------------------------

expect "dry run" 0 "$B" -c "$T/shipped.yaml" runbook run $RB --dry-run
cp "$T/out" "$T/dry.out"
has "dry run: the table and its $NPARTS parts" "$T/dry.out" \
        "^  now: true \\(any\\(tables, \\.database \\+ \"\\.\" \\+ \\.table == inputs\\.table\\) = true, max\\(tables, \\.max_parts_per_partition\\) = $NPARTS, merges = 0\\)\$"
has "dry run: no read-only replica" "$T/dry.out" '^  now: true \(count\(replicas, \.is_readonly\) = 0\)$'
has "dry run: the pods are ready" "$T/dry.out" '^  now: true \(any\(workloads, .*\) = true\)$'
has "dry run: the exact argv" "$T/dry.out" \
        "$CHC --host 127\\.0\\.0\\.1 --port $TCP --query 'SYSTEM START MERGES'"
has "dry run: the part count is not below max_parts" "$T/dry.out" \
        '^  now: false \(any\(tables, .*\) = false\)$'
[ -z "$(writes)" ] && ok "dry run: no query changed the server" || bad "dry run: $(writes)"
kube_reads_only "dry run: the API server got reads only"
[ ! -e "$RUNS" ] && ok "dry run: no ledger" || bad "dry run wrote a ledger: $(ls "$RUNS")"
[ ! -s "$T/audit.jsonl" ] && ok "dry run: no audit line" || bad "dry run: audit: $(cat "$T/audit.jsonl")"
[ "$(parts)" = $NPARTS ] && ok "dry run: still $NPARTS parts" || bad "dry run: parts $(parts)"

# ---- a failing run: clickhouse-client cannot connect ------------------------------

expect "failing run: exit 1" 1 timeout 120 "$B" -c "$T/fail.yaml" runbook run $RB --yes
cp "$T/out" "$T/fail.out"
FRUN=$(sed -n 's/^run \([^ ]*\): failed.*$/\1/p' "$T/fail.out" | head -n 1)
CFG=$T/fail.yaml
[ -n "$FRUN" ] && ok "failing run: $FRUN failed" || bad "failing run: $(head -c 2000 "$T/fail.out")"
rbe_ledger "failing run: ledger" "$FRUN" '
[(x["step"], x["result"]) for x in d if x.get("phase") == "end"] ==
[("parts", "ok"), ("replicas-writable", "ok"), ("pods", "ok"), ("start-merges", "failed")]
and [x["error"] for x in d if x.get("phase") == "end" and x["step"] == "start-merges"] ==
["start-merges failed: '"$CHC"' exited with status 210: Code: 210. DB::NetException: Connection refused (127.0.0.1:'"$DEAD"')"]
and not any(x["ev"] == "verify" for x in d)
and {k: v for k, v in d[-1].items() if k != "at"} == {"ev": "end", "result": "failed"}'
rbe_audit "failing run: the audit line, failed" '
len(a) == 1 and a[0]["run"] == "'"$FRUN"'" and (a[0]["via"], a[0]["source"], a[0]["action"],
 a[0]["target"], a[0]["outcome"]) == ("cli", "k8s", "start-merges", "data/statefulset/clickhouse", "failed")'
[ -z "$(writes)" ] && ok "failing run: no query changed the server" || bad "failing run: $(writes)"
[ "$(parts)" = $NPARTS ] && ok "failing run: still $NPARTS parts" || bad "failing run: parts $(parts)"
: >"$T/audit.jsonl"

# ---- a real run: the merges start, the parts merge ---------------------------------

: >"$T/kube/requests.log"
expect "run --yes" 0 timeout 200 "$B" -c "$T/short.yaml" runbook run $RB --yes
cp "$T/out" "$T/run.out"
has "run: ok" "$T/run.out" "^run [0-9]{8}T[0-9]{6}Z-$RB-[0-9a-f]{4}: ok\$"
RUN=$(sed -n 's/^run \([^ ]*\): ok$/\1/p' "$T/run.out")
CFG=$T/short.yaml
[ "$(writes)" = "SYSTEM START MERGES" ] && ok "run: exactly one query changed the server, SYSTEM START MERGES" \
        || bad "run: the server's writes: $(writes)"
P=$(parts)
[ -n "$P" ] && [ "$P" -lt 100 ] && ok "run: the parts merged ($P active)" || bad "run: parts $P"
kube_reads_only "run: the API server got reads only"

rbe_ledger "log: the start record" "$RUN" '
{k: v for k, v in d[0].items() if k not in ("at", "target")} == {"ev": "start", "run": "'"$RUN"'",
 "runbook": "'$RB'", "file": "'"$T"'/runbooks/'$RB'.yaml", "user": "tester",
 "inputs": {"clickhouse": "speed-ch", "table": "'$TABLE'", "k8s": "k8s", "max_parts": "100"}}'
json "log: the steps in order, each once, each ok" '
[(x["step"], x["result"]) for x in d if x.get("phase") == "end"] ==
[("parts", "ok"), ("replicas-writable", "ok"), ("pods", "ok"), ("start-merges", "ok"),
 ("parts-fall", "ok")]'
cp "$T/out" "$T/log.json"
rbe_vals "log: the parts check's values" parts \
        'any(tables, .database + "." + .table == inputs.table) = true, max(tables, .max_parts_per_partition) = '$NPARTS', merges = 0'
rbe_vals "log: the replicas check's values" replicas-writable 'count(replicas, .is_readonly) = 0'
rbe_vals "log: the pods check's values" pods \
        'any(workloads, .namespace == "data" and .name == "clickhouse" and .ready == .desired) = true'
json "log: the action, its command, once" '
[(x["step"], x["kind"], x["mutating"], x["attempt"], x["request"]) for x in d
 if x.get("phase") == "end" and x["mutating"]] ==
[("start-merges", "action", True, 1,
  "'"$CHC"' --host 127.0.0.1 --port '"$TCP"' --query " + chr(39) + "SYSTEM START MERGES" + chr(39))]'
json "log: the wait held, the verify held, the end" '
[x["values"] for x in d if x.get("phase") == "end" and x["step"] == "parts-fall"][0]
  .startswith("any(tables, ")
and [(x["source"], x["result"]) for x in d if x["ev"] == "verify"] == [("speed-ch", "ok")]
and {k: v for k, v in d[-1].items() if k != "at"} == {"ev": "end", "result": "ok"}'
rbe_audit "audit: one line, start-merges, with the run id" '
len(a) == 1 and a[0]["run"] == "'"$RUN"'" and (a[0]["via"], a[0]["source"], a[0]["kind"],
 a[0]["action"], a[0]["target"], a[0]["outcome"]) ==
 ("cli", "k8s", "kubernetes", "start-merges", "data/statefulset/clickhouse", "ok")
and a[0]["argv"] == [["'"$CHC"'", "--host", "127.0.0.1", "--port", "'"$TCP"'", "--query",
                    "SYSTEM START MERGES"]]'

rbe_done $RB
