#!/usr/bin/env bash
#
# runbook_reconcile.sh: the shipped runbook reconcile-mismatch
# (deploy/runbooks/reconcile-mismatch.yaml) end to end with the real binary.
# The check orders-hourly compares the speed layer, a real ClickHouse
# (scripts/chlib.sh) with the shipped speed query on speed.orders_hourly_rt,
# with the batch layer, a fixture Snowflake SQL API (tests/lib/fixture_httpd.py,
# bodies shaped as tests/fixtures/snowflake) answering the batch query. Two
# settled hourly buckets, 4 h and 3 h before the current hour: the older
# matches, the newer (the runbook's bucket) has 18 orders / 180.50 in
# Snowflake against 20 / 200.50 in ClickHouse. The batch DAG runs on a
# fixture Airflow 2 REST API (API v1), idle, its last run a success.
#
#   - a dry run (the shipped file): exit 0, the checks' values (the bucket
#     mismatched, the DAG idle), the resolved trigger request with the
#     bucket in its conf; no POST anywhere, no ledger, no audit line;
#   - a real run with --yes: when Airflow receives the trigger POST the
#     test answers a running run; once the run waits for it to succeed, the
#     test answers it succeeded and Snowflake answers the rebuilt mart (the
#     bucket now 20 / 200.50), so the check sees the bucket match; exit 0,
#     exactly one POST (the trigger, its body), the ledger (the steps run,
#     run-in-progress skipped by the trigger's `next:`, the check values,
#     the verify), the audit line with the run id;
#   - a failure path: Airflow refuses the trigger (403): the run ends
#     failed at `trigger` with the HTTP error, exit 1, nothing after it ran.
#
# The real runs use a copy where only the hold durations are shortened
# (rbe_shorten: the verify's 1m becomes 3s). Starts ClickHouse, so it runs
# on the real clock only. Env: LO_BINARY, LO_SOURCE_DIR. Everything lives in
# one temp dir, removed at exit; servers are stopped by PID.
#
# ctest-label: real-clock

set -u

# shellcheck source=../lib/runbook_e2e.sh
. "${LO_SOURCE_DIR:?set LO_SOURCE_DIR to the source tree}/tests/lib/runbook_e2e.sh"
rbe_init rbrec
ch_started=0
rbe_cleanup_hook() {
        if [ "$ch_started" = 1 ]; then
                lo_ch_stop "$T"
        fi
}
DAG=lambda_batch_daily
mkdir -p af sf runbooks

# ---- the speed layer: a real ClickHouse ------------------------------------------

# shellcheck source=../../scripts/chlib.sh
. "$SRC/scripts/chlib.sh"
if [ ! -x "$LO_CH_SERVER" ]; then
        echo "SKIP: clickhouse-server not found"
        exit 0
fi
CHPORT=$(lo_ch_start "$T") || { bad "lo_ch_start: $(tail -n 20 "$T/ch/log" 2>/dev/null)"; exit 1; }
ch_started=1
# The two settled buckets, whole hours 4 h and 3 h before the current one
# (relative to the anchor: no date is fixed), as epoch seconds, as
# ClickHouse takes them and as the check reports their key.
HOUR=$(( LO_FIXTURE_NOW / 3600 * 3600 ))
B_OK=$((HOUR - 4 * 3600))
B_OFF=$((HOUR - 3 * 3600))
BUCKET=$(date -u -d "@$B_OFF" +%Y-%m-%dT%H:00:00.000Z)
BUCKET_OK=$(date -u -d "@$B_OK" +%Y-%m-%dT%H:00:00.000Z)
lo_ch_query "$T" "$CHPORT" "CREATE DATABASE speed" \
        "CREATE TABLE speed.orders_hourly_rt (bucket DateTime('UTC'), n UInt64, amount Decimal(12, 2)) ENGINE = MergeTree ORDER BY bucket" \
        "INSERT INTO speed.orders_hourly_rt VALUES (toDateTime($B_OK, 'UTC'), 6, 60.00), (toDateTime($B_OK, 'UTC'), 4, 40.00), (toDateTime($B_OFF, 'UTC'), 20, 200.50)" \
        >/dev/null || bad "set up ClickHouse"
[ "$(lo_ch_query "$T" "$CHPORT" "SELECT count() FROM speed.orders_hourly_rt")" = 3 ] \
        && ok "ClickHouse holds the speed rows" || bad "ClickHouse rows"

# ---- the batch layer: a fixture Snowflake SQL API --------------------------------

# sf_routes N AMOUNT: the batch query's answer, the runbook's bucket with N
# orders and AMOUNT (the other bucket always 10 / 100.00). Every statement
# gets it (the fixture does not read the SQL; the one statement sent is the
# batch query, asserted below).
sf_routes() {
        rbe_routes "$T/sf/routes.json" <<EOF
{"routes": [
 {"method": "POST", "path": "/api/v2/statements", "json": {
  "resultSetMetaData": {"numRows": 2, "format": "jsonv2",
   "partitionInfo": [{"rowCount": 2, "uncompressedSize": 96}],
   "rowType": [
    {"name": "BUCKET", "database": "MARTS", "schema": "PUBLIC", "table": "ORDERS_HOURLY", "type": "timestamp_ltz", "byteLength": null, "length": null, "scale": 9, "precision": 0, "nullable": true, "collation": null},
    {"name": "N", "database": "MARTS", "schema": "PUBLIC", "table": "ORDERS_HOURLY", "type": "fixed", "byteLength": null, "length": null, "scale": 0, "precision": 18, "nullable": false, "collation": null},
    {"name": "AMOUNT", "database": "MARTS", "schema": "PUBLIC", "table": "ORDERS_HOURLY", "type": "fixed", "byteLength": null, "length": null, "scale": 2, "precision": 38, "nullable": true, "collation": null}]},
  "data": [["$B_OK.000000000", "10", "100.00"], ["$B_OFF.000000000", "$1", "$2"]],
  "code": "090001", "statementStatusUrl": "/api/v2/statements/01b3c6e2-0605-7a1f-0000-4a2100d3b1f2",
  "requestId": "5b1f2c1e-8a0f-4c1e-9d0a-0d6b5f0c1e2a", "sqlState": "00000",
  "statementHandle": "01b3c6e2-0605-7a1f-0000-4a2100d3b1f2",
  "message": "Statement executed successfully.", "createdOn": {{now-2s|ms}}}}
]}
EOF
}
sf_routes 18 180.50
rbe_httpd sf "$T/sf/routes.json"

# ---- the batch DAG: a fixture Airflow ------------------------------------------------

# af_routes NEWEST [TRIGGER_STATUS]: the DAG's runs, NEWEST first when not
# empty ("running" or "success": the triggered run manual__rerun), then its
# last scheduled run, a success; the trigger POST answers TRIGGER_STATUS
# (default 200, the DAGRun queued; 403: Airflow's problem+json).
af_routes() {
        local newest="" trig
        if [ -n "$1" ]; then
                newest='{"dag_run_id": "manual__rerun", "dag_id": "'$DAG'", "run_type": "manual", "state": "'$1'",
    "logical_date": "{{now-1m|%Y-%m-%dT%H:%M:%S+00:00}}", "execution_date": "{{now-1m|%Y-%m-%dT%H:%M:%S+00:00}}",
    "start_date": "{{now-1m|%Y-%m-%dT%H:%M:%S+00:00}}", "end_date": null, "conf": {}},'
        fi
        if [ "${2:-200}" = 200 ]; then
                trig='"json": {"dag_run_id": "manual__rerun", "dag_id": "'$DAG'", "run_type": "manual", "state": "queued", "conf": {}}'
        else
                trig='"status": '$2', "headers": {"Content-Type": "application/problem+json"}, "json": {"type": "about:blank", "title": "Forbidden", "status": '$2', "detail": "Access is denied"}'
        fi
        rbe_routes "$T/af/routes.json" <<EOF
{"routes": [
 {"path": "/api/v1/version", "json": {"version": "2.9.1", "git_version": "release:2.9.1"}},
 {"path": "/api/v2/version", "status": 404, "json": {"detail": "Not Found"}},
 {"path": "/api/v1/dags", "query": "limit=100&offset=0", "json": {"dags": [
  {"dag_id": "$DAG", "is_paused": false, "is_active": true, "has_import_errors": false,
   "schedule_interval": {"__type": "CronExpression", "value": "0 2 * * *"},
   "next_dagrun": "{{now+20h|%Y-%m-%dT%H:%M:%S+00:00}}",
   "next_dagrun_create_after": "{{now+20h|%Y-%m-%dT%H:%M:%S+00:00}}"}], "total_entries": 1}},
 {"path": "/api/v1/dags/$DAG/dagRuns", "query": "limit=100&offset=0&order_by=-execution_date",
  "json": {"dag_runs": [$newest
   {"dag_run_id": "scheduled__d0", "dag_id": "$DAG", "run_type": "scheduled", "state": "success",
    "logical_date": "{{now-1d4h|%Y-%m-%dT%H:%M:%S+00:00}}",
    "execution_date": "{{now-1d4h|%Y-%m-%dT%H:%M:%S+00:00}}",
    "start_date": "{{now-4h|%Y-%m-%dT%H:%M:%S+00:00}}",
    "end_date": "{{now-3h|%Y-%m-%dT%H:%M:%S+00:00}}", "conf": {}}], "total_entries": ${3:-1}}},
 {"method": "POST", "path": "/api/v1/dags/$DAG/dagRuns", $trig}
]}
EOF
}
af_routes ""
rbe_httpd af "$T/af/routes.json"
rbe_ready
AURL=$(rbe_url af)
SURL=$(rbe_url sf)
export LO_TEST_SF_TOKEN=test-oauth-token-not-a-secret

SPEED_Q="SELECT bucket, sum(n) AS n, sum(amount) AS amount FROM speed.orders_hourly_rt WHERE bucket >= now() - INTERVAL 2 DAY GROUP BY bucket"
BATCH_Q="SELECT bucket, n, amount FROM marts.orders_hourly WHERE bucket >= dateadd(day, -2, current_timestamp())"
# mkcfg FILE RUNBOOK_DIR: the sources the runbook's defaults name
# (orders-hourly as deploy/lambdaops.yaml has it but with Snowflake as the
# batch side and a 1 s interval, batch-af) and what they read.
mkcfg() {
        cat >"$1" <<EOF
environment: test
audit_log: $T/audit.jsonl
runbooks:
  - $2
sources:
  - name: speed-ch
    kind: clickhouse
    url: http://127.0.0.1:$CHPORT
    interval: 1s
    timeout: 5s
  - name: warehouse-sf
    kind: snowflake
    account: xy12345
    user: lambdaops_svc
    token_env: LO_TEST_SF_TOKEN
    url: $SURL
    warehouse: WH_XS
    database: MARTS
    schema: PUBLIC
    interval: 1s
    timeout: 5s
  - name: orders-hourly
    kind: reconcile
    interval: 1s
    timeout: 5s
    speed:
      source: speed-ch
      query: "$SPEED_Q"
    batch:
      source: warehouse-sf
      query: "$BATCH_Q"
    key: [bucket]
    measures: [n, amount]
    tolerance: {n: 0, amount: 0.01}
    settle: 2h
  - name: batch-af
    kind: airflow
    url: $AURL
    api: v1
    dags: [$DAG]
    interval: 1s
    timeout: 5s
EOF
}
mkcfg "$T/shipped.yaml" "$SRC/deploy/runbooks/reconcile-mismatch.yaml"
rbe_shorten "$SRC/deploy/runbooks/reconcile-mismatch.yaml" "$T/runbooks/reconcile-mismatch.yaml"
mkcfg "$T/short.yaml" "$T/runbooks"
CFG=$T/short.yaml
INPUTS=(--input check=orders-hourly --input "bucket=$BUCKET" --input airflow=batch-af --input dag=$DAG)

areqs() { rbe_reqs "$1" "$T/af/requests.log" "$2"; }
# sf_stmts: the statements Snowflake received (parsed bodies' "statement").
sf_stmts() {
        python3 -c '
import json, sys
print(sorted(set(json.loads(x["body"])["statement"] for x in
                 (json.loads(l) for l in open(sys.argv[1]) if l.strip())
                 if x["method"] == "POST")))' "$T/sf/requests.log"
}
af_posts() {
        python3 -c '
import json, sys
print(json.dumps([(x["path"], json.loads(x["body"])) for x in
                  (json.loads(l) for l in open(sys.argv[1]) if l.strip())
                  if x["method"] != "GET"]))' "$T/af/requests.log"
}
TRIGGER_POST='[["/api/v1/dags/'$DAG'/dagRuns", {"conf": {"reason": "reconcile-mismatch", "bucket": "'$BUCKET'"}}]]'

expect "config check (shipped runbook)" 0 "$B" -c "$T/shipped.yaml" config check
expect "config check (shortened copy)" 0 "$B" -c "$T/short.yaml" config check

# ---- dry run, the shipped file ------------------------------------------------------

expect "dry run" 0 "$B" -c "$T/shipped.yaml" runbook run reconcile-mismatch --dry-run "${INPUTS[@]}"
cp "$T/out" "$T/dry.out"
has "dry run: the check ran, one bucket mismatched" "$T/dry.out" \
        '^  now: true \(status = "ok", compared = 2, mismatched = 1\)$'
has "dry run: the bucket disagrees" "$T/dry.out" \
        '^  now: true \(any\(buckets, \.key\.bucket == inputs\.bucket and \(\.class == "mismatch" or \.class == "missing_in_speed" or \.class == "missing_in_batch"\)\) = true\)$'
has "dry run: the DAG is unpaused" "$T/dry.out" \
        '^  now: true \(any\(dags, \.dag_id == inputs\.dag and not \.paused\) = true\)$'
has "dry run: the DAG is idle" "$T/dry.out" \
        '^  now: true \(any\(dags, \.dag_id == inputs\.dag and \.running == 0 and \.queued == 0\) = true\)$'
has "dry run: the exact trigger request" "$T/dry.out" \
        "^POST $AURL/api/v1/dags/$DAG/dagRuns\$"
has "dry run: the bucket in its conf" "$T/dry.out" \
        "^  body: \\{\"conf\":\\{\"reason\":\"reconcile-mismatch\",\"bucket\":\"$BUCKET\"\\}\\}\$"
has "dry run: then run-started" "$T/dry.out" '^  then: run-started$'
has "dry run: the bucket does not match yet" "$T/dry.out" \
        '^  now: false \(status = "ok", any\(buckets, \.key\.bucket == inputs\.bucket and \(\.class == "match" or \.class == "within"\)\) = false\)$'
areqs "dry run: no POST to Airflow" 'all(m == "GET" for m, p, q in r) and len(r) >= 1'
[ "$(sf_stmts)" = "['$BATCH_Q']" ] && ok "dry run: Snowflake ran the batch query only" \
        || bad "dry run: Snowflake statements: $(sf_stmts)"
[ ! -e "$RUNS" ] && ok "dry run: no ledger" || bad "dry run wrote a ledger: $(ls "$RUNS")"
[ ! -s "$T/audit.jsonl" ] && ok "dry run: no audit line" || bad "dry run: audit: $(cat "$T/audit.jsonl")"

# ---- a real run: the rerun rebuilds the mart, the bucket matches ----------------------

# wait_for FILE REGEX WHAT: polls until FILE matches (the run still alive).
wait_for() {
        local deadline=$(($(now_ms) + 90000))
        until grep -Eq -- "$2" "$1" 2>/dev/null; do
                if [ "$(now_ms)" -ge "$deadline" ] || ! kill -0 "$RUN_PID" 2>/dev/null; then
                        bad "$3: $(head -c 2500 "$T/run.out") / $(head -c 800 "$T/run.err")"
                        return 1
                fi
                sleep 0.05
        done
}
: >"$T/af/requests.log"
# No manual or choose step: stdin needs no terminal with --yes.
timeout 240 "$B" -c "$CFG" runbook run reconcile-mismatch --yes "${INPUTS[@]}" \
        </dev/null >"$T/run.out" 2>"$T/run.err" &
RUN_PID=$!
echo "p $RUN_PID" >>"$T/.lo-guard"
# The trigger queues a run, which then runs (two runs listed, the newest
# running); once the runbook waits for it to succeed, it succeeds and the
# mart holds the bucket's true values.
if wait_for "$T/af/requests.log" '"method": *"POST"' "the run sent no trigger"; then
        af_routes running 200 2
        if wait_for "$T/run.out" '^step [0-9]+/[0-9]+ run-succeeded ' "the run did not see the DAG run"; then
                af_routes success 200 2
                sf_routes 20 200.50
        fi
fi
wait "$RUN_PID"
rc=$?
RUN_PID=
{ printf '### real run\n'; cat "$T/run.out" "$T/run.err"; } >>"$T/all"
if [ "$rc" = 0 ]; then
        ok "run --yes (exit 0)"
else
        bad "run --yes: exit $rc: $(head -c 3000 "$T/run.out") / $(head -c 1000 "$T/run.err")"
fi
has "run: ok" "$T/run.out" '^run [0-9]{8}T[0-9]{6}Z-reconcile-mismatch-[0-9a-f]{4}: ok$'
RUN=$(sed -n 's/^run \([^ ]*\): ok$/\1/p' "$T/run.out")
[ "$(af_posts)" = "$TRIGGER_POST" ] && ok "run: exactly one POST to Airflow, the trigger with the bucket" \
        || bad "run: Airflow's non-GET requests: $(af_posts)"
areqs "run: the GETs are the listings and the runs" \
        'set(x for x in r if x[0] == "GET") <= {
  ("GET", "/api/v1/version", ""), ("GET", "/api/v1/dags", "limit=100&offset=0"),
  ("GET", "/api/v1/dags/'$DAG'/dagRuns", "limit=100&offset=0&order_by=-execution_date")}'
[ "$(sf_stmts)" = "['$BATCH_Q']" ] && ok "run: Snowflake ran the batch query only" \
        || bad "run: Snowflake statements: $(sf_stmts)"
rbe_reqs "run: Snowflake got statements only" "$T/sf/requests.log" \
        'len(r) >= 1 and all(x == ("POST", "/api/v2/statements", "") for x in r)'

rbe_ledger "log: the start record" "$RUN" '
{k: v for k, v in d[0].items() if k != "at"} == {"ev": "start", "run": "'"$RUN"'",
 "runbook": "reconcile-mismatch", "file": "'"$T"'/runbooks/reconcile-mismatch.yaml",
 "user": "tester", "inputs": {"check": "orders-hourly", "bucket": "'$BUCKET'",
 "airflow": "batch-af", "dag": "'$DAG'"}, "target": d[0]["target"]}'
json "log: the steps ran in order, once, ok; run-in-progress skipped" '
[(x["step"], x["result"]) for x in d if x.get("phase") == "end"] ==
[("check-ran", "ok"), ("bucket-off", "ok"), ("dag-unpaused", "ok"), ("dag-idle", "ok"),
 ("trigger", "ok"), ("run-started", "ok"), ("run-succeeded", "ok"), ("bucket-matches", "ok")]
and not any(x.get("step") == "run-in-progress" for x in d)'
json "log: the check values" '
{x["step"]: x["values"] for x in d if x.get("phase") == "end" and "values" in x} == {
 "check-ran": "status = \"ok\", compared = 2, mismatched = 1",
 "bucket-off": "any(buckets, .key.bucket == inputs.bucket and (.class == \"mismatch\" or .class == \"missing_in_speed\" or .class == \"missing_in_batch\")) = true",
 "dag-unpaused": "any(dags, .dag_id == inputs.dag and not .paused) = true",
 "dag-idle": "any(dags, .dag_id == inputs.dag and .running == 0 and .queued == 0) = true",
 "run-started": "any(dags, .dag_id == inputs.dag and (.running > 0 or .queued > 0)) = true",
 "run-succeeded": "any(dags, .dag_id == inputs.dag and .running == 0 and .queued == 0 and .last_run.state == \"success\") = true",
 "bucket-matches": "status = \"ok\", any(buckets, .key.bucket == inputs.bucket and (.class == \"match\" or .class == \"within\")) = true"}'
json "log: the one mutating step is the trigger, its request and output" '
[(x["step"], x["kind"], x["attempt"], x["request"], x["output_tail"]) for x in d
 if x.get("phase") == "end" and x["mutating"]] ==
[("trigger", "action", 1, "POST /api/v1/dags/'$DAG'/dagRuns", "HTTP 200 OK\nrun manual__rerun: queued")]'
json "log: the verify held, the run ended ok" '
[(x["source"], x["result"]) for x in d if x["ev"] == "verify"] == [("orders-hourly", "ok")]
and {k: v for k, v in d[-1].items() if k != "at"} == {"ev": "end", "result": "ok"}'
rbe_audit "audit: one line, the trigger, with the run id" '
len(a) == 1 and (a[0]["via"], a[0]["run"], a[0]["source"], a[0]["kind"], a[0]["action"],
 a[0]["target"], a[0]["outcome"], a[0]["status"], a[0]["request"]) ==
("cli", "'"$RUN"'", "batch-af", "airflow", "trigger", "'$DAG'", "ok", 200,
 "POST /api/v1/dags/'$DAG'/dagRuns")'
[ "$(lo_ch_query "$T" "$CHPORT" "SELECT count() FROM speed.orders_hourly_rt")" = 3 ] \
        && ok "run: the speed layer was only read" || bad "run: ClickHouse rows changed"

# ---- the failure path: Airflow refuses the trigger --------------------------------------

sf_routes 18 180.50
af_routes "" 403
: >"$T/af/requests.log"
: >"$T/audit.jsonl"
expect "failing run: exit 1" 1 timeout 120 "$B" -c "$CFG" runbook run reconcile-mismatch --yes "${INPUTS[@]}"
cp "$T/out" "$T/fail.out"
has "failing run: failed" "$T/fail.out" '^run [0-9]{8}T[0-9]{6}Z-reconcile-mismatch-[0-9a-f]{4}: failed'
FRUN=$(sed -n 's/^run \([^ :]*\): failed.*$/\1/p' "$T/fail.out" | head -n 1)
[ "$(af_posts)" = "$TRIGGER_POST" ] && ok "failing run: the one trigger POST" \
        || bad "failing run: Airflow's non-GET requests: $(af_posts)"
rbe_ledger "failing log: the steps up to the trigger" "$FRUN" '
[(x["step"], x["result"]) for x in d if x.get("phase") == "end"] ==
[("check-ran", "ok"), ("bucket-off", "ok"), ("dag-unpaused", "ok"), ("dag-idle", "ok"),
 ("trigger", "failed")]'
json "failing log: the trigger error, no verify, the end" '
[("HTTP 403" in x["error"], x["request"]) for x in d if x.get("phase") == "end" and x["step"] == "trigger"]
 == [(True, "POST /api/v1/dags/'$DAG'/dagRuns")]
and not any(x["ev"] == "verify" for x in d)
and {k: v for k, v in d[-1].items() if k != "at"} == {"ev": "end", "result": "failed"}'
rbe_audit "failing run: one audit line, the trigger failed with 403" '
len(a) == 1 and (a[0]["run"], a[0]["action"], a[0]["outcome"], a[0]["status"]) ==
("'"$FRUN"'", "trigger", "failed", 403)'

rbe_done reconcile-mismatch runbook
