#!/usr/bin/env bash
#
# runbook_cdc_slot_drop.sh: the drop branch of the shipped runbook
# cdc-slot-inactive (deploy/runbooks/cdc-slot-inactive.yaml) end to end with
# the real binary, when the slot's consumer is gone: a real PostgreSQL
# (scripts/pglib.sh) holding a real inactive logical slot `debezium_shop`
# (test_decoding, in the database shop) that retains WAL; a fixture Kafka
# Connect worker (tests/lib/fixture_httpd.py) whose only connector,
# `debezium-inventory`, names another slot (so nothing consumes
# debezium_shop any more); the fake Kubernetes API server
# (tests/lib/fake_kube.py, the fixtures of runbook_cdc_slot.sh) for the k8s
# source the drop action belongs to. runbook_cdc_slot.sh tests the restart
# branch; this test shares nothing with it but tests/lib/runbook_e2e.sh.
#
#   - a dry run (the shipped file): exit 0, the consumer check false, the
#     checks of the drop branch and the headroom's values, the choice, the
#     drop action's resolved argv; no mutating request, no ledger, no audit;
#   - the typed confirmation refused: a run without --yes, answered through
#     the pseudo-terminal (the choice "2", the manual step "y"), a wrong
#     word typed at the drop (the source's name): the drop step is
#     cancelled, the run ends aborted (exit 2), the slot is still there,
#     the audit line says cancelled;
#   - a real run, the same answers but the right word (the context, `fake`):
#     the slot is gone for real (pg_replication_slots), exit 0; the ledger
#     (the failed consumer check going to the choice, the choice, each step
#     of the branch, the drop's argv, the verify) and the audit line (via
#     cli, the run id, k8s, drop-slot, the target, the context, ok, the
#     argv).
#
# What the drop action runs. The shipped drop-slot (deploy/lambdaops.yaml) is
# `kubectl ... exec postgres-0 -c postgres -- pg_recvlogical -U postgres -d
# shop --slot=${arg} --drop-slot`; the fake API server cannot exec into a
# pod, so the test's config defines drop-slot with the same name, scope,
# `dangerous: true` and the same pg_recvlogical words, run directly on the
# test's server (argv, no shell, `-h 127.0.0.1 -p PORT` in place of the
# pod's local socket). Covered: the runbook's steps, the choice, the manual
# step, the typed confirmation of a dangerous user action, the ${arg}
# substitution of the slot name, the real drop and what the runbook then
# sees. Not covered: kubectl exec itself and the pod and container names.
#
# The real runs use a copy of the shipped file where only the hold durations
# are shortened (every `for:` to 3s, rbe_shorten). The answers are typed
# into the terminal's master by rbe_pty_answer of tests/lib/runbook_e2e.sh (rbe_pty_run gives a
# terminal but types nothing). Starts a real server, so it runs on the real
# clock only. Env: LO_BINARY, LO_SOURCE_DIR. Everything lives in one temp
# dir, removed at exit; servers are stopped by PID.
#
# ctest-label: real-clock

set -u

# shellcheck source=../lib/runbook_e2e.sh
. "${LO_SOURCE_DIR:?set LO_SOURCE_DIR to the source tree}/tests/lib/runbook_e2e.sh"
rbe_init rbcdcd
pg_started=0
rbe_cleanup_hook() {
        if [ "$pg_started" = 1 ]; then
                lo_pg_stop "$T"
        fi
}
SLOT=debezium_shop
CONN=debezium-shop
mkdir -p connect runbooks

# ---- a real PostgreSQL with an inactive slot retaining WAL -------------------------

# shellcheck source=../../scripts/pglib.sh
. "$SRC/scripts/pglib.sh"
if [ ! -x "${LO_PG_BIN:-}/initdb" ]; then
        echo "SKIP: PostgreSQL server binaries not found"
        exit 0
fi
PORT=$(lo_pg_start "$T") || { bad "lo_pg_start"; exit 1; }
pg_started=1
pgq() { lo_pg_psql "$T" "$PORT" "$1"; }
shopq() { "$LO_PG_BIN/psql" -X -h 127.0.0.1 -p "$PORT" -U postgres -d shop -v ON_ERROR_STOP=1 -Atq -c "$1"; }
# The slot lives in shop, as Debezium's does (the drop connects there);
# max_slot_wal_keep_size makes safe_wal_size a number.
lo_pg_psql "$T" "$PORT" "ALTER SYSTEM SET max_slot_wal_keep_size = '1GB'" "SELECT pg_reload_conf()" \
        "CREATE DATABASE shop" >/dev/null || bad "set up the server"
shopq "CREATE TABLE shop_orders (id bigserial PRIMARY KEY, customer int, amount numeric)" >/dev/null &&
shopq "SELECT 1 FROM pg_create_logical_replication_slot('$SLOT', 'test_decoding')" >/dev/null &&
shopq "INSERT INTO shop_orders (customer, amount) SELECT g % 1000, g FROM generate_series(1, 10000) g" >/dev/null &&
shopq "CHECKPOINT" >/dev/null || bad "set up the slot and its WAL"
slots() { pgq "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$SLOT'"; }
[ "$(pgq "SELECT active::text || ' ' || database FROM pg_replication_slots WHERE slot_name = '$SLOT'")" = "false shop" ] \
        && ok "the slot exists in shop, inactive" || bad "the slot is not inactive in shop"

# ---- a fixture Kafka Connect worker: no connector names the slot ----------------------

CT='"headers": {"Content-Type": "application/json"}'
rbe_routes "$T/connect/routes.json" <<EOF
{"routes": [
  {"path": "/", $CT, "json": {"version": "3.6.0", "commit": "x", "kafka_cluster_id": "k"}},
  {"path": "/connectors", "query": "expand=status&expand=info", $CT, "json":
   {"debezium-inventory": {"status": {"name": "debezium-inventory", "type": "source",
     "connector": {"state": "RUNNING", "worker_id": "w1:8083"},
     "tasks": [{"id": 0, "state": "RUNNING", "worker_id": "w1:8083"}]},
    "info": {"name": "debezium-inventory", "type": "source",
     "tasks": [{"connector": "debezium-inventory", "task": 0}],
     "config": {"connector.class": "io.debezium.connector.postgresql.PostgresConnector",
                "plugin.name": "pgoutput", "slot.name": "debezium_inventory",
                "publication.name": "dbz_publication", "topic.prefix": "inventory"}}}}}
]}
EOF
rbe_httpd connect "$T/connect/routes.json"
rbe_kube "$SRC/tests/fixtures/runbooks/cdc/kube"
rbe_ready
CURL=$(rbe_url connect)

# mkcfg FILE RUNBOOK_DIR: the sources of the runbook's defaults, and
# drop-slot as the header says (the shipped action's words, run directly).
mkcfg() {
        cat >"$1" <<EOF
environment: test
audit_log: $T/audit.jsonl
kubectl: $T/no-kubectl
runbooks:
  - $2
actions:
  - name: drop-slot
    title: drop a replication slot (pg_recvlogical --drop-slot, on the test's server)
    scope: statefulset
    dangerous: true
    argv: [pg_recvlogical, -h, 127.0.0.1, -p, "$PORT", -U, postgres, -d, shop, "--slot=\${arg}",
           --drop-slot]
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
CFG=$T/short.yaml
INPUTS=(--input source=shop-db --input slot=$SLOT --input connect=connect --input connector=$CONN
        --input k8s=k8s)
export PATH="$LO_PG_BIN:$PATH"
DROP_ARGV="pg_recvlogical -h 127.0.0.1 -p $PORT -U postgres -d shop --slot=$SLOT --drop-slot"

expect "config check (shipped runbook)" 0 "$B" -c "$T/shipped.yaml" config check
expect "config check (shortened copy)" 0 "$B" -c "$T/short.yaml" config check

# ---- dry run, the shipped file ----------------------------------------------------------

expect "dry run" 0 "$B" -c "$T/shipped.yaml" runbook run cdc-slot-inactive --dry-run "${INPUTS[@]}"
cp "$T/out" "$T/dry.out"
has "dry run: the slot is inactive" "$T/dry.out" \
        '^  now: true \(any\(slots, \.name == inputs\.slot and not \.active\) = true\)$'
has "dry run: no connector is the consumer" "$T/dry.out" \
        '^  now: false \(any\(connectors, \.name == inputs\.connector and \.slot == inputs\.slot\) = false\)$'
has "dry run: the choice" "$T/dry.out" \
        '^  2\. The consumer is gone for good; drop the slot \(it will need a new snapshot\) -> no-consumer$'
has "dry run: no connector uses the slot" "$T/dry.out" \
        '^  now: true \(not any\(connectors, \.slot == inputs\.slot\) = true\)$'
has "dry run: the headroom before the drop" "$T/dry.out" \
        '^  now: true \(max\(slots, \.retained_bytes\) = [0-9]+, min\(slots, \.safe_wal_size\) = [0-9]+, any\(slots, \.name == inputs\.slot and not \.active\) = true\)$'
has "dry run: the manual step names the slot" "$T/dry.out" "^  Dropping slot $SLOT frees its WAL at once"
has "dry run: the drop's exact argv" "$T/dry.out" "^\\\$ $DROP_ARGV\$"
has "dry run: the drop's context" "$T/dry.out" '^context: fake$'
has "dry run: the slot is not gone yet" "$T/dry.out" \
        '^  now: false \(not any\(slots, \.name == inputs\.slot\) = false\)$'
rbe_reqs "dry run: Connect got GETs only" "$T/connect/requests.log" \
        'all(m == "GET" for m, p, q in r) and len(r) >= 1'
rbe_reqs "dry run: the API server got GETs only" "$T/kube/requests.log" 'all(m == "GET" for m, p, q in r)'
[ "$(slots)" = 1 ] && ok "dry run: the slot is still there" || bad "dry run: the slot is gone"
[ ! -e "$RUNS" ] && ok "dry run: no ledger" || bad "dry run wrote a ledger: $(ls "$RUNS")"
[ ! -s "$T/audit.jsonl" ] && ok "dry run: no audit line" || bad "dry run: audit: $(cat "$T/audit.jsonl")"

# ---- the typed confirmation refused -----------------------------------------------------

# answers WORD: the choice (drop), the manual step, and WORD typed at the
# dangerous drop's prompt.
answers() {
        {
                printf 'Choose 1-2 \\(empty to abort\\): \t2\n'
                printf 'Done\\? \\[y/N\\] \ty\n'
                printf 'This is dangerous\\. Type fake to run it: \t%s\n' "$1"
        } >"$T/answers"
}
answers k8s
rbe_pty_answer "$T/no.out" "$T/no.err" "$T/answers" \
        "$B" -c "$CFG" runbook run cdc-slot-inactive "${INPUTS[@]}"
rbe_pty_wait
{ printf '### refused run\n'; cat "$T/no.out" "$T/no.err"; } >>"$T/all"
[ "$rc" = 2 ] && ok "refused run: exit 2" || bad "refused run: exit $rc: $(head -c 2500 "$T/no.out") / $(head -c 800 "$T/no.err")"
has "refused run: asked for the context typed" "$T/no.err" 'This is dangerous\. Type fake to run it: '
NRUN=$(sed -n 's/^run \([^ :]*\) of cdc-slot-inactive$/\1/p' "$T/no.out" | head -n 1)
[ "$(slots)" = 1 ] && ok "refused run: the slot is still there" || bad "refused run: the slot is gone"
rbe_ledger "refused log: the branch up to drop-slot, cancelled" "$NRUN" '
[(x["step"], x["result"]) for x in d if x.get("phase") == "end"][-3:] ==
[("headroom-before-drop", "ok"), ("confirm-drop", "ok"), ("drop-slot", "cancelled")]
and [x["error"] for x in d if x.get("phase") == "end" and x["step"] == "drop-slot"] == ["not confirmed"]
and {k: v for k, v in d[-1].items() if k != "at"} == {"ev": "end", "result": "aborted"}'
has "refused run: aborted" "$T/no.out" "^run $NRUN: aborted\$"
rbe_audit "refused run: one audit line, cancelled" '
len(a) == 1 and (a[0]["via"], a[0]["run"], a[0]["source"], a[0]["action"], a[0]["target"],
 a[0]["outcome"]) == ("cli", "'"$NRUN"'", "k8s", "drop-slot", "data/statefulset/postgres", "cancelled")'
rm -rf "$RUNS"
: >"$T/audit.jsonl"

# ---- a real run: the slot is dropped ------------------------------------------------------

: >"$T/connect/requests.log"
: >"$T/kube/requests.log"
answers fake
rbe_pty_answer "$T/run.out" "$T/run.err" "$T/answers" \
        "$B" -c "$CFG" runbook run cdc-slot-inactive "${INPUTS[@]}"
rbe_pty_wait
{ printf '### real run\n'; cat "$T/run.out" "$T/run.err"; } >>"$T/all"
if [ "$rc" = 0 ]; then
        ok "run (exit 0)"
else
        bad "run: exit $rc: $(head -c 3000 "$T/run.out") / $(head -c 1000 "$T/run.err")"
fi
has "run: ok" "$T/run.out" '^run [0-9]{8}T[0-9]{6}Z-cdc-slot-inactive-[0-9a-f]{4}: ok$'
RUN=$(sed -n 's/^run \([^ ]*\): ok$/\1/p' "$T/run.out")
[ "$(slots)" = 0 ] && ok "run: the slot is gone (pg_replication_slots)" || bad "run: the slot is still there"
rbe_reqs "run: Connect got GETs only" "$T/connect/requests.log" \
        'all(x in (("GET", "/connectors", "expand=status&expand=info"), ("GET", "/", "")) for x in r)'
rbe_reqs "run: the API server got GETs only" "$T/kube/requests.log" 'all(m == "GET" for m, p, q in r)'

rbe_ledger "log: the start record" "$RUN" '
{k: v for k, v in d[0].items() if k != "at"} == {"ev": "start", "run": "'"$RUN"'",
 "runbook": "cdc-slot-inactive", "file": "'"$T"'/runbooks/cdc-slot-inactive.yaml",
 "user": "tester", "inputs": {"source": "shop-db", "slot": "'$SLOT'", "connect": "connect",
 "connector": "'$CONN'", "k8s": "k8s", "max_lag": "268435456"}, "target": d[0]["target"]}'
json "log: the steps, in order: the consumer check fails to the choice, then the drop branch" '
[(x["step"], x["result"]) for x in d if x.get("phase") == "end"] ==
[("slot-inactive", "ok"), ("wal-headroom", "ok"), ("consumer-there", "failed"),
 ("consumer-gone", "ok"), ("no-consumer", "ok"), ("headroom-before-drop", "ok"),
 ("confirm-drop", "ok"), ("drop-slot", "ok"), ("slot-gone", "ok"), ("done", "ok")]'
json "log: the consumer check went to the choice, the choice was the drop" '
[x["next"] for x in d if x.get("phase") == "end" and x["step"] == "consumer-there"] == [8]
and [(x["step"], x["label"], x["goto"]) for x in d if x["ev"] == "choice"] ==
[("consumer-gone", "The consumer is gone for good; drop the slot (it will need a new snapshot)",
  "no-consumer")]'
json "log: no step of the restart branch started" '
not any(x.get("step") in ("connect-workers", "restart-connector", "connector-running",
                          "slot-active", "lag-falls") for x in d)'
json "log: the check values of the branch" '
{x["step"]: x["values"] for x in d if x.get("phase") == "end" and x["step"] in
 ("slot-inactive", "consumer-there", "no-consumer", "slot-gone", "done")} == {
 "slot-inactive": "any(slots, .name == inputs.slot and not .active) = true",
 "consumer-there": "any(connectors, .name == inputs.connector and .slot == inputs.slot) = false",
 "no-consumer": "not any(connectors, .slot == inputs.slot) = true",
 "slot-gone": "not any(slots, .name == inputs.slot) = true",
 "done": "not any(slots, .name == inputs.slot and not .active) = true"}'
json "log: the headroom just before the drop: the slot retaining WAL" '
[int(x["values"].split("max(slots, .retained_bytes) = ")[1].split(",")[0]) > 262144
 and int(x["values"].split("min(slots, .safe_wal_size) = ")[1].split(",")[0]) > 0
 and x["values"].endswith("any(slots, .name == inputs.slot and not .active) = true")
 for x in d if x.get("phase") == "end" and x["step"] == "headroom-before-drop"] == [True]'
json "log: the only mutating step is the drop, run once, its argv" '
[(x["step"], x["kind"], x["result"], x["attempt"]) for x in d
 if x.get("phase") == "end" and x["mutating"]] == [("drop-slot", "action", "ok", 1)]
and [x["request"] for x in d if x.get("phase") == "end" and x["step"] == "drop-slot"] ==
["'"$DROP_ARGV"'"]'
json "log: the verify held, the run ended ok" '
[(x["source"], x["result"]) for x in d if x["ev"] == "verify"] == [("shop-db", "ok")]
and {k: v for k, v in d[-1].items() if k != "at"} == {"ev": "end", "result": "ok"}'
rbe_audit "audit: one line, the drop, with the run id" '
len(a) == 1 and (a[0]["via"], a[0]["run"], a[0]["source"], a[0]["kind"], a[0]["action"],
 a[0]["target"], a[0]["context"], a[0]["outcome"], a[0]["argv"]) ==
("cli", "'"$RUN"'", "k8s", "kubernetes", "drop-slot", "data/statefulset/postgres", "fake", "ok",
 [["pg_recvlogical", "-h", "127.0.0.1", "-p", "'$PORT'", "-U", "postgres", "-d", "shop",
   "--slot='$SLOT'", "--drop-slot"]])'

rbe_done cdc-slot-inactive-drop runbook
