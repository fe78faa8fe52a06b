#!/usr/bin/env bash
#
# runbook_cdc_slot.sh: the shipped runbook cdc-slot-inactive
# (deploy/runbooks/cdc-slot-inactive.yaml) end to end with the real binary,
# on a real PostgreSQL (scripts/pglib.sh) holding a real inactive logical
# slot `debezium_shop` (test_decoding) that retains WAL, a fixture Kafka
# Connect worker (tests/lib/fixture_httpd.py) whose Debezium connector
# `debezium-shop` names that slot in its config (`slot.name`) and is FAILED
# until it is restarted, and the fake Kubernetes API server
# (tests/lib/fake_kube.py, fixtures tests/fixtures/runbooks/cdc/kube) with
# the Connect workers data/kafka-connect ready.
#
#   - a dry run (the shipped file as it is): exit 0, the checks' current
#     values (the slot inactive, its real retained WAL > 0), the resolved
#     restart request; no mutating request, no ledger;
#   - a real run with --yes: when the worker receives the restart POST the
#     test answers RUNNING from then on and starts pg_recvlogical on the
#     slot, so the slot becomes active for real; exit 0, exactly one POST
#     /connectors/debezium-shop/restart?includeTasks=true&onlyFailed=true,
#     the ledger's records for the steps this path runs (ids, results, the
#     check values), no step of the drop branch started, the verify ok, and
#     the audit line with the run id.
#
# The real run uses a copy of the shipped runbook in the temp dir where only
# the hold durations are shortened (every `for:` to `for: 3s`, sed; the
# shipped file has 30s and 1m, which would make the test take over two
# minutes). Every other line, the timeouts included, is the shipped file's.
# The real run's stdin is a pseudo-terminal: without one the CLI refuses a
# runbook that has manual or choose steps (its drop branch), even with --yes.
#
# Starts a real server, so it runs on the real clock only. Env: LO_BINARY
# (the lambdaops binary), LO_SOURCE_DIR (the source tree). Every command runs
# under `timeout`; everything lives in one temp dir, removed at exit
# (tests/lib/runbook_e2e.sh); servers and helpers are stopped by their PID.
#
# ctest-label: real-clock

set -u

# shellcheck source=../lib/runbook_e2e.sh
. "${LO_SOURCE_DIR:?set LO_SOURCE_DIR to the source tree}/tests/lib/runbook_e2e.sh"
rbe_init rbcdc
pg_started=0
rbe_cleanup_hook() {
        if [ "$pg_started" = 1 ]; then
                lo_pg_stop "$T"
        fi
}
SLOT=debezium_shop
CONN=debezium-shop
mkdir -p connect runbooks

# ---- a real PostgreSQL with an inactive slot retaining WAL -------------------

# shellcheck source=../../scripts/pglib.sh
. "$SRC/scripts/pglib.sh"
if [ ! -x "${LO_PG_BIN:-}/initdb" ]; then
        echo "SKIP: PostgreSQL server binaries not found"
        exit 0
fi
PORT=$(lo_pg_start "$T") || { bad "lo_pg_start"; exit 1; }
pg_started=1
# max_slot_wal_keep_size makes safe_wal_size a number (the headroom the
# runbook shows) instead of null (no limit).
lo_pg_psql "$T" "$PORT" \
        "ALTER SYSTEM SET max_slot_wal_keep_size = '1GB'" "SELECT pg_reload_conf()" \
        "CREATE TABLE shop_orders (id bigserial PRIMARY KEY, customer int, amount numeric)" \
        "SELECT 1 FROM pg_create_logical_replication_slot('$SLOT', 'test_decoding')" \
        "INSERT INTO shop_orders (customer, amount) SELECT g % 1000, g FROM generate_series(1, 10000) g" \
        "CHECKPOINT" >/dev/null || bad "set up the slot and its WAL"
pgq() { lo_pg_psql "$T" "$PORT" "$1"; }
RETAINED=$(pgq "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint FROM pg_replication_slots WHERE slot_name = '$SLOT'")
if [ -n "$RETAINED" ] && [ "$RETAINED" -gt 262144 ]; then
        ok "the inactive slot retains $RETAINED bytes of WAL"
else
        bad "the slot retains too little WAL: '$RETAINED'"
fi
[ "$(pgq "SELECT active FROM pg_replication_slots WHERE slot_name = '$SLOT'")" = f ] \
        && ok "the slot is inactive" || bad "the slot is not inactive"

# ---- a fixture Kafka Connect worker ------------------------------------------

CT='"headers": {"Content-Type": "application/json"}'
# routes STATE: the worker's answers with the connector and its task in
# STATE, replaced atomically (the server re-reads them on every request).
routes() {
        rbe_routes "$T/connect/routes.json" <<EOF
{"routes": [
  {"path": "/", $CT, "json": {"version": "3.6.0", "commit": "x", "kafka_cluster_id": "k"}},
  {"path": "/connectors", "query": "expand=status&expand=info", $CT, "json":
   {"$CONN": {"status": {"name": "$CONN", "type": "source",
     "connector": {"state": "$1", "worker_id": "w1:8083"},
     "tasks": [{"id": 0, "state": "$1", "worker_id": "w1:8083"}]},
    "info": {"name": "$CONN", "type": "source", "tasks": [{"connector": "$CONN", "task": 0}],
     "config": {"connector.class": "io.debezium.connector.postgresql.PostgresConnector",
                "plugin.name": "pgoutput", "slot.name": "$SLOT",
                "publication.name": "dbz_publication", "topic.prefix": "shop"}}}}},
  {"method": "POST", "path": "/connectors/$CONN/restart",
   "query": "includeTasks=true&onlyFailed=true", "status": 202, $CT,
   "json": {"name": "$CONN", "connector": {"state": "RESTARTING", "worker_id": "w1:8083"},
            "tasks": [{"id": 0, "state": "RESTARTING", "worker_id": "w1:8083"}]}}
]}
EOF
}
routes FAILED
rbe_httpd connect "$T/connect/routes.json"

# ---- the fake Kubernetes API server ------------------------------------------

rbe_kube "$SRC/tests/fixtures/runbooks/cdc/kube"
rbe_ready
CURL=$(rbe_url connect)

# mkcfg FILE RUNBOOK_DIR: the sources named as the runbook's input defaults
# (shop-db, connect, k8s), and the user-defined action drop-slot of
# deploy/lambdaops.yaml that the runbook's last resort names.
mkcfg() {
        cat >"$1" <<EOF
environment: test
audit_log: $T/audit.jsonl
kubectl: $T/no-kubectl
runbooks:
  - $2
actions:
  - name: drop-slot
    title: drop a replication slot (pg_recvlogical --drop-slot in the pod)
    scope: statefulset
    dangerous: true
    argv: [kubectl, --context, "\${context}", -n, "\${namespace}", exec, "\${name}-0", -c, postgres,
           --, pg_recvlogical, -U, postgres, -d, shop, "--slot=\${arg}", --drop-slot]
sources:
  - name: shop-db
    kind: postgres
    dsn: "host=127.0.0.1 port=$PORT dbname=postgres user=postgres"
    interval: 1s
    timeout: 5s
  - name: connect
    kind: kafka_connect
    url: $CURL
    postgres: shop-db
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
mkcfg "$T/shipped.yaml" "$SRC/deploy/runbooks/cdc-slot-inactive.yaml"
rbe_shorten "$SRC/deploy/runbooks/cdc-slot-inactive.yaml" "$T/runbooks/cdc-slot-inactive.yaml"
mkcfg "$T/short.yaml" "$T/runbooks"

# reqs WHAT PYTHON_EXPR: the expression with `r`, the requests the worker
# logged as (method, path, query) tuples.
reqs() { rbe_reqs "$1" "$T/connect/requests.log" "$2"; }
POST_RESTART='("POST", "/connectors/'$CONN'/restart", "includeTasks=true&onlyFailed=true")'

expect "config check (shipped runbook)" 0 "$B" -c "$T/shipped.yaml" config check
expect "config check (shortened copy)" 0 "$B" -c "$T/short.yaml" config check

# ---- dry run, the shipped file --------------------------------------------------

# The slot's retained WAL and safe_wal_size before and after the dry run:
# the values the dry run shows lie between (WAL only grows meanwhile).
slotnum() { pgq "SELECT $1::bigint FROM pg_replication_slots WHERE slot_name = '$SLOT'"; }
RET1=$(slotnum "pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)")
SAFE1=$(slotnum safe_wal_size)
expect "dry run" 0 "$B" -c "$T/shipped.yaml" runbook run cdc-slot-inactive --dry-run \
        --input source=shop-db --input slot=$SLOT --input connect=connect \
        --input connector=$CONN --input k8s=k8s
cp "$T/out" "$T/dry.out"
RET2=$(slotnum "pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)")
SAFE2=$(slotnum safe_wal_size)
has "dry run: the slot is inactive now" "$T/dry.out" \
        '^  now: true \(any\(slots, \.name == inputs\.slot and not \.active\) = true\)$'
has "dry run: the consumer is the connector" "$T/dry.out" \
        '^  now: true \(any\(connectors, \.name == inputs\.connector and \.slot == inputs\.slot\) = true\)$'
has "dry run: the Connect workers are up" "$T/dry.out" \
        '^  now: true \(any\(workloads, .*\) = true\)$'
has "dry run: the exact restart request" "$T/dry.out" \
        "^POST $CURL/connectors/$CONN/restart\\?includeTasks=true&onlyFailed=true\$"
has "dry run: the slot is not active yet" "$T/dry.out" \
        '^  now: false \(any\(slots, \.name == inputs\.slot and \.active\) = false\)$'
has "dry run: the connector is not RUNNING yet" "$T/dry.out" \
        '^  now: false \(any\(connectors, \.name == inputs\.connector and \.state == "RUNNING" .* = false\)$'
has "dry run: the headroom check's limit and no lost slot" "$T/dry.out" \
        '^  now: true \(max\(slots, \.retained_bytes\) = [0-9]+, min\(slots, \.safe_wal_size\) = [0-9]+, max_slot_wal_keep_size = 1073741824, count\(slots, \.name == inputs\.slot and \.wal_status == "lost"\) = 0\)$'
# The slot's real retained WAL and safe_wal_size, as the headroom check
# shows them: within what psql measured just before and just after.
DRY_RET=$(sed -n 's/.*max(slots, \.retained_bytes) = \([0-9][0-9]*\).*/\1/p' "$T/dry.out" | head -n 1)
DRY_SAFE=$(sed -n 's/.*min(slots, \.safe_wal_size) = \([0-9][0-9]*\).*/\1/p' "$T/dry.out" | head -n 1)
if [ -n "$DRY_RET" ] && [ "$DRY_RET" -gt 0 ] && [ "$DRY_RET" -ge "$RET1" ] && [ "$DRY_RET" -le "$RET2" ]; then
        ok "dry run: retained WAL $DRY_RET in [$RET1, $RET2] (psql)"
else
        bad "dry run: retained WAL '$DRY_RET', psql [$RET1, $RET2]: $(head -c 1500 "$T/dry.out")"
fi
if [ -n "$DRY_SAFE" ] && [ "$DRY_SAFE" -le "$SAFE1" ] && [ "$DRY_SAFE" -ge "$SAFE2" ]; then
        ok "dry run: safe_wal_size $DRY_SAFE in [$SAFE2, $SAFE1] (psql)"
else
        bad "dry run: safe_wal_size '$DRY_SAFE', psql [$SAFE2, $SAFE1]"
fi
reqs "dry run: no mutating request" 'all(m == "GET" for m, p, q in r) and len(r) >= 1'
[ ! -e "$RUNS" ] && ok "dry run: no ledger" || bad "dry run wrote a ledger: $(ls "$RUNS")"
[ ! -s "$T/audit.jsonl" ] && ok "dry run: no audit line" || bad "dry run: audit: $(cat "$T/audit.jsonl")"
[ "$(pgq "SELECT active FROM pg_replication_slots WHERE slot_name = '$SLOT'")" = f ] \
        && ok "dry run: the slot is still inactive" || bad "dry run: the slot changed"

# ---- a real run: the restart brings the consumer back ------------------------------

: >"$T/connect/requests.log"
# stdin is a pseudo-terminal: the CLI refuses a runbook with manual or
# choose steps (the drop branch) without one, even with --yes. This path
# never reaches them, so nothing is ever read from it.
rbe_pty_run "$T/run.out" "$T/run.err" \
        "$B" -c "$T/short.yaml" runbook run cdc-slot-inactive --yes \
        --input source=shop-db --input slot=$SLOT --input connect=connect \
        --input connector=$CONN --input k8s=k8s
# The consumer comes back when the worker is told to restart it: from the
# POST on the connector answers RUNNING, and pg_recvlogical attaches to the
# slot (a walsender: the slot is active for real).
deadline=$(($(now_ms) + 90000))
until grep -q '"method": *"POST"' "$T/connect/requests.log"; do
        if [ "$(now_ms)" -ge "$deadline" ] || ! kill -0 "$RUN_PID" 2>/dev/null; then
                bad "the run sent no POST: $(cat "$T/run.out" "$T/run.err" | head -c 2000)"
                break
        fi
        sleep 0.05
done
routes RUNNING
"$LO_PG_BIN/pg_recvlogical" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres \
        --slot="$SLOT" --start -s 1 -F 0 -f /dev/null </dev/null >/dev/null 2>>"$T/recvlogical.log" &
RECV_PID=$!
pids+=("$RECV_PID")
rbe_pty_wait
{ printf '### real run\n'; cat "$T/run.out" "$T/run.err"; } >>"$T/all"
if [ "$rc" = 0 ]; then
        ok "run --yes (exit 0)"
else
        bad "run --yes: exit $rc: $(head -c 3000 "$T/run.out") / $(head -c 1000 "$T/run.err")"
fi
has "run: ok" "$T/run.out" '^run [0-9]{8}T[0-9]{6}Z-cdc-slot-inactive-[0-9a-f]{4}: ok$'
RUN=$(sed -n 's/^run \([^ ]*\): ok$/\1/p' "$T/run.out")
reqs "run: exactly one POST, the restart" "[x for x in r if x[0] != \"GET\"] == [$POST_RESTART]"
reqs "run: only listings besides it" \
        'all(x == ("GET", "/connectors", "expand=status&expand=info") or x == ("GET", "/", "")
             for x in r if x[0] == "GET")'
[ "$(pgq "SELECT active FROM pg_replication_slots WHERE slot_name = '$SLOT'")" = t ] \
        && ok "run: the slot is active" || bad "run: the slot is not active"
if python3 -c '
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert all(x["method"] == "GET" for x in r), r
print("yes")' "$T/kube/requests.log" >"$T/kube.out" 2>&1 && [ "$(cat "$T/kube.out")" = yes ]; then
        ok "run: the API server got reads only"
else
        bad "run: the API server: $(head -c 600 "$T/kube.out")"
fi

expect "log --json" 0 "$B" -c "$T/short.yaml" runbook log "$RUN" --json
cp "$T/out" "$T/log.json"
# The records of the steps this path runs, by step id (the step list around
# them may change: the assertions do not count on indexes or neighbours).
json "log: the start record" '
{k: v for k, v in d[0].items() if k != "at"} == {"ev": "start", "run": "'"$RUN"'",
 "runbook": "cdc-slot-inactive", "file": "'"$T"'/runbooks/cdc-slot-inactive.yaml",
 "user": "tester", "inputs": {"source": "shop-db", "slot": "'$SLOT'", "connect": "connect",
 "connector": "'$CONN'", "k8s": "k8s", "max_lag": "268435456"}, "target": d[0]["target"]}'
json "log: the steps run, in order, each once, each ok" '
[(x["step"], x["result"]) for x in d if x.get("phase") == "end" and x["step"] in
 ("slot-inactive", "consumer-there", "connect-workers", "restart-connector",
  "connector-running", "slot-active", "lag-falls", "done")] ==
[("slot-inactive", "ok"), ("consumer-there", "ok"), ("connect-workers", "ok"),
 ("restart-connector", "ok"), ("connector-running", "ok"), ("slot-active", "ok"),
 ("lag-falls", "ok"), ("done", "ok")]'
json "log: no step of the drop branch started" '
not any(x.get("step") in ("consumer-gone", "no-consumer", "headroom-before-drop",
                          "confirm-drop", "drop-slot", "slot-gone") for x in d)
and not any(x["ev"] == "choice" for x in d)'
json "log: the only mutating step is the restart, run once" '
[(x["step"], x["kind"], x["result"], x["attempt"]) for x in d
 if x.get("phase") == "end" and x["mutating"]] == [("restart-connector", "action", "ok", 1)]'
json "log: the restart request" '
[x["request"] for x in d if x.get("phase") == "end" and x["step"] == "restart-connector"] ==
["POST /connectors/'$CONN'/restart?includeTasks=true&onlyFailed=true"]
and "RESTARTING" in [x for x in d if x.get("phase") == "end"
                     and x["step"] == "restart-connector"][0]["output_tail"]'
json "log: the check values" '
{x["step"]: x["values"] for x in d if x.get("phase") == "end" and x["step"] in
 ("slot-inactive", "consumer-there", "slot-active", "done")} == {
 "slot-inactive": "any(slots, .name == inputs.slot and not .active) = true",
 "consumer-there": "any(connectors, .name == inputs.connector and .slot == inputs.slot) = true",
 "slot-active": "any(slots, .name == inputs.slot and .active) = true",
 "done": "not any(slots, .name == inputs.slot and not .active) = true"}'
json "log: the workers check and the waits hold" '
{x["step"]: x["values"] for x in d if x.get("phase") == "end" and x["step"] in
 ("connect-workers", "connector-running", "lag-falls")} == {
 "connect-workers": "any(workloads, .namespace == \"data\" and .name == \"kafka-connect\" and .ready > 0) = true",
 "connector-running": "any(connectors, .name == inputs.connector and .state == \"RUNNING\" and .failed_tasks == 0 and all(.tasks, .state == \"RUNNING\")) = true",
 "lag-falls": "any(slots, .name == inputs.slot and .active and .lag_bytes != null and .lag_bytes < inputs.max_lag) = true"}'
json "log: the headroom check saw the retained WAL, the limit, no lost slot" '
[(int(v.split("max(slots, .retained_bytes) = ")[1].split(",")[0]) >= '"$RET2"',
  v.split(".safe_wal_size) = ")[1].split(", ", 1)[1]) for v in [x["values"] for x in d if x.get("phase") == "end"
                                 and x["step"] == "wal-headroom"]] ==
[(True, "max_slot_wal_keep_size = 1073741824, count(slots, .name == inputs.slot and .wal_status == \"lost\") = 0")]
and [x["result"] for x in d if x.get("phase") == "end" and x["step"] == "wal-headroom"] == ["ok"]'
json "log: the verify held, the run ended ok" '
[(x["source"], x["result"]) for x in d if x["ev"] == "verify"] == [("shop-db", "ok")]
and {k: v for k, v in d[-1].items() if k != "at"} == {"ev": "end", "result": "ok"}'
json "log: every record of this run, one user" '
all(x.get("user", "tester") == "tester" for x in d) and all(isinstance(x.get("at"), str) for x in d)'

python3 - "$T/audit.jsonl" "$RUN" "$CONN" >"$T/audit.out" 2>&1 <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(lines) == 1, lines
a = lines[0]
assert a["run"] == sys.argv[2], a
assert (a["via"], a["source"], a["kind"], a["action"], a["target"], a["outcome"], a["status"]) \
    == ("cli", "connect", "kafka_connect", "restart", sys.argv[3], "ok", 202), a
assert a["request"] == "POST /connectors/%s/restart?includeTasks=true&onlyFailed=true" \
    % sys.argv[3], a
print("yes")
EOF
[ "$(cat "$T/audit.out")" = yes ] && ok "audit: one line, the restart, with the run id" \
        || bad "audit: $(cat "$T/audit.out")"

rbe_done cdc-slot-inactive runbook
