#!/usr/bin/env bash
#
# runbook_airflow_run.sh: the shipped runbook airflow-run-failed
# (deploy/runbooks/airflow-run-failed.yaml) end to end with the real binary,
# on a fixture Airflow 2 REST API (tests/lib/fixture_httpd.py, API v1 as the
# shipped source batch-af uses it) whose DAG lambda_batch_daily has its
# newest run `scheduled__d1` failed, with spark_batch failed and dbt_run,
# dbt_test upstream_failed.
#
#   - a dry run (the shipped file): exit 0, the checks' current values, the
#     resolved clear request (built from Airflow's own dry run, the one POST
#     with "dry_run": true, which changes nothing); no clear with
#     "dry_run": false, no ledger, no audit line;
#   - a real run with --yes: the manual step is confirmed through the
#     pseudo-terminal; when the server receives the clear (dry_run false)
#     the test answers the run as success from then on; exit 0, exactly the
#     two POSTs of the clear (dry run, then the clear of the three task
#     instances), the ledger's records and the audit line with the run id;
#   - a failure path: the same, but the run stays failed after the clear
#     (the tasks fail again): the wait `rerunning` times out (its timeout
#     cut to 3 s in a copy), the run ends failed at that step, exit 1.
#
# The real runs use copies of the shipped file in the temp dir: every hold
# duration (`for:`) set to 3s (rbe_shorten); the failure copy also has the
# timeout of `rerunning` cut to 3s. Every other line is the shipped file's.
#
# The fixture server is not a real server, but the runbook's manual step
# needs a terminal: this test drives it through a pseudo-terminal whose
# master it writes the answers to (rbe_pty_answer of tests/lib/runbook_e2e.sh;
# rbe_pty_run only gives the terminal, nothing is typed into it). Env: LO_BINARY, LO_SOURCE_DIR.
# Everything lives in one temp dir, removed at exit; servers are stopped by
# PID (tests/lib/runbook_e2e.sh).

set -u

# shellcheck source=../lib/runbook_e2e.sh
. "${LO_SOURCE_DIR:?set LO_SOURCE_DIR to the source tree}/tests/lib/runbook_e2e.sh"
rbe_init rbaf
DAG=lambda_batch_daily
RUNID=scheduled__d1
mkdir -p af runbooks

# ---- the fixture Airflow ---------------------------------------------------------

# routes STATE: the DAG's newest run in STATE (failed: with its failed
# task instances), replaced atomically. Times are relative (fixture_time).
routes() {
        local st=$1
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
  "json": {"dag_runs": [
   {"dag_run_id": "$RUNID", "dag_id": "$DAG", "run_type": "scheduled", "state": "$st",
    "logical_date": "{{now-3h|%Y-%m-%dT%H:%M:%S+00:00}}",
    "execution_date": "{{now-3h|%Y-%m-%dT%H:%M:%S+00:00}}",
    "start_date": "{{now-2h|%Y-%m-%dT%H:%M:%S+00:00}}",
    "end_date": "{{now-1h|%Y-%m-%dT%H:%M:%S+00:00}}", "conf": {}}], "total_entries": 1}},
 {"path": "/api/v1/dags/$DAG/dagRuns/$RUNID/taskInstances", "query": "limit=100&offset=0",
  "json": {"task_instances": [
   {"task_id": "spark_batch", "dag_id": "$DAG", "dag_run_id": "$RUNID", "map_index": -1,
    "state": "failed", "try_number": 3, "duration": 61.0},
   {"task_id": "dbt_run", "dag_id": "$DAG", "dag_run_id": "$RUNID", "map_index": -1,
    "state": "upstream_failed", "try_number": 0, "duration": null},
   {"task_id": "dbt_test", "dag_id": "$DAG", "dag_run_id": "$RUNID", "map_index": -1,
    "state": "upstream_failed", "try_number": 0, "duration": null}], "total_entries": 3}},
 {"path": "/api/v1/dags/$DAG/dagRuns", "query": "state=failed&order_by=-execution_date&limit=1",
  "json": {"dag_runs": [
   {"dag_run_id": "$RUNID", "dag_id": "$DAG", "run_type": "scheduled", "state": "failed",
    "execution_date": "{{now-3h|%Y-%m-%dT%H:%M:%S+00:00}}", "conf": {}}], "total_entries": 1}},
 {"method": "POST", "path": "/api/v1/dags/$DAG/clearTaskInstances", "json": {"task_instances": [
   {"task_id": "spark_batch", "dag_id": "$DAG", "dag_run_id": "$RUNID",
    "execution_date": "{{now-3h|%Y-%m-%dT%H:%M:%S+00:00}}"},
   {"task_id": "dbt_run", "dag_id": "$DAG", "dag_run_id": "$RUNID",
    "execution_date": "{{now-3h|%Y-%m-%dT%H:%M:%S+00:00}}"},
   {"task_id": "dbt_test", "dag_id": "$DAG", "dag_run_id": "$RUNID",
    "execution_date": "{{now-3h|%Y-%m-%dT%H:%M:%S+00:00}}"}]}}
]}
EOF
}
routes failed
rbe_httpd af "$T/af/routes.json"
rbe_ready
AURL=$(rbe_url af)

mkcfg() {
        cat >"$1" <<EOF
environment: test
audit_log: $T/audit.jsonl
runbooks:
  - $2
sources:
  - name: batch-af
    kind: airflow
    url: $AURL
    api: v1
    dags: [$DAG]
    interval: 1s
    timeout: 5s
EOF
}
mkcfg "$T/shipped.yaml" "$SRC/deploy/runbooks/airflow-run-failed.yaml"
rbe_shorten "$SRC/deploy/runbooks/airflow-run-failed.yaml" "$T/runbooks/airflow-run-failed.yaml"
mkcfg "$T/short.yaml" "$T/runbooks"
CFG=$T/short.yaml

# reqs WHAT EXPR: r = the (method, path, query) tuples the server logged.
reqs() { rbe_reqs "$1" "$T/af/requests.log" "$2"; }
# posts: the POST bodies the server logged, parsed, in order.
posts() {
        python3 -c '
import json, sys
print(json.dumps([json.loads(x["body"]) for x in
                  (json.loads(l) for l in open(sys.argv[1]) if l.strip())
                  if x["method"] == "POST"]))' "$T/af/requests.log"
}
CLEAR_PATH=/api/v1/dags/$DAG/clearTaskInstances
DRY_BODY='{"dry_run": true, "dag_run_id": "'$RUNID'", "only_failed": true, "reset_dag_runs": true}'
REAL_BODY='{"dry_run": false, "dag_run_id": "'$RUNID'", "task_ids": ["spark_batch", "dbt_run", "dbt_test"], "only_failed": true, "reset_dag_runs": true}'

expect "config check (shipped runbook)" 0 "$B" -c "$T/shipped.yaml" config check
expect "config check (shortened copy)" 0 "$B" -c "$T/short.yaml" config check

# ---- dry run, the shipped file ---------------------------------------------------

expect "dry run" 0 "$B" -c "$T/shipped.yaml" runbook run airflow-run-failed --dry-run \
        --input airflow=batch-af --input dag=$DAG
cp "$T/out" "$T/dry.out"
has "dry run: the newest run failed" "$T/dry.out" \
        '^  now: true \(any\(dags, \.dag_id == inputs\.dag and \.last_run != null and \.last_run\.state == "failed"\) = true\)$'
has "dry run: not paused" "$T/dry.out" \
        '^  now: true \(any\(dags, \.dag_id == inputs\.dag and not \.paused\) = true\)$'
has "dry run: failed tasks" "$T/dry.out" \
        '^  now: true \(any\(dags, \.dag_id == inputs\.dag and \.failed_tasks != null and len\(\.failed_tasks\) > 0\) = true\)$'
has "dry run: the manual step" "$T/dry.out" "^  Read the logs of the failed tasks of $DAG in Airflow"
has "dry run: the exact clear request" "$T/dry.out" \
        "^POST $AURL$CLEAR_PATH\$"
has "dry run: Airflow's dry run listed spark_batch" "$T/dry.out" \
        "would clear spark_batch \\(run $RUNID\\)"
has "dry run: the run is not rerunning yet" "$T/dry.out" \
        '^  now: false \(any\(dags, \.dag_id == inputs\.dag and \.last_run\.state != "failed"\) = false\)$'
has "dry run: the run has not succeeded" "$T/dry.out" \
        '^  now: false \(any\(dags, \.dag_id == inputs\.dag and \.last_run\.state == "success" and \.running == 0\) = false\)$'
[ "$(posts)" = "[$DRY_BODY]" ] && ok "dry run: only Airflow's own dry run was POSTed" \
        || bad "dry run: POSTs: $(posts)"
reqs "dry run: the one POST is the clear endpoint" \
        '[x for x in r if x[0] != "GET"] == [("POST", "'$CLEAR_PATH'", "")]'
[ ! -e "$RUNS" ] && ok "dry run: no ledger" || bad "dry run wrote a ledger: $(ls "$RUNS")"
[ ! -s "$T/audit.jsonl" ] && ok "dry run: no audit line" || bad "dry run: audit: $(cat "$T/audit.jsonl")"

# ---- a real run: the clear reruns the tasks, the run succeeds ------------------------

# wait_clear: until the server received the clear with dry_run false.
wait_clear() {
        local deadline=$(($(now_ms) + 90000))
        until grep -q '\\"dry_run\\": *false' "$T/af/requests.log"; do
                if [ "$(now_ms)" -ge "$deadline" ] || ! kill -0 "$RUN_PID" 2>/dev/null; then
                        bad "the run sent no clear: $(cat "$1" | head -c 2000)"
                        return 1
                fi
                sleep 0.05
        done
}

: >"$T/af/requests.log"
printf 'Done\\? \\[y/N\\] \ty\n' >"$T/answers"
rbe_pty_answer "$T/run.out" "$T/run.err" "$T/answers" \
        "$B" -c "$CFG" runbook run airflow-run-failed --yes --input airflow=batch-af --input dag=$DAG
wait_clear "$T/run.err" && routes success
rbe_pty_wait
{ printf '### real run\n'; cat "$T/run.out" "$T/run.err"; } >>"$T/all"
if [ "$rc" = 0 ]; then
        ok "run --yes (exit 0)"
else
        bad "run --yes: exit $rc: $(head -c 3000 "$T/run.out") / $(head -c 1000 "$T/run.err")"
fi
has "run: ok" "$T/run.out" '^run [0-9]{8}T[0-9]{6}Z-airflow-run-failed-[0-9a-f]{4}: ok$'
RUN=$(sed -n 's/^run \([^ ]*\): ok$/\1/p' "$T/run.out")
[ "$(posts)" = "[$DRY_BODY, $REAL_BODY]" ] && ok "run: the POSTs: Airflow's dry run, then the clear" \
        || bad "run: POSTs: $(posts)"
reqs "run: the only requests besides GETs are the two clears" \
        '[x for x in r if x[0] != "GET"] == [("POST", "'$CLEAR_PATH'", "")] * 2'
reqs "run: the GETs are the listings, the runs, the failed run and its tasks" \
        'set(x for x in r if x[0] == "GET") <= {
  ("GET", "/api/v1/version", ""), ("GET", "/api/v1/dags", "limit=100&offset=0"),
  ("GET", "/api/v1/dags/'$DAG'/dagRuns", "limit=100&offset=0&order_by=-execution_date"),
  ("GET", "/api/v1/dags/'$DAG'/dagRuns", "state=failed&order_by=-execution_date&limit=1"),
  ("GET", "/api/v1/dags/'$DAG'/dagRuns/'$RUNID'/taskInstances", "limit=100&offset=0")}'

rbe_ledger "log: the start record" "$RUN" '
{k: v for k, v in d[0].items() if k != "at"} == {"ev": "start", "run": "'"$RUN"'",
 "runbook": "airflow-run-failed", "file": "'"$T"'/runbooks/airflow-run-failed.yaml",
 "user": "tester", "inputs": {"airflow": "batch-af", "dag": "'$DAG'"}, "target": d[0]["target"]}'
json "log: every step ran in order, once, ok" '
[(x["step"], x["result"]) for x in d if x.get("phase") == "end"] ==
[("dag-failed", "ok"), ("not-paused", "ok"), ("failed-tasks", "ok"), ("fix-cause", "ok"),
 ("clear", "ok"), ("rerunning", "ok"), ("succeeded", "ok")]'
json "log: the check values" '
{x["step"]: x["values"] for x in d if x.get("phase") == "end" and "values" in x} == {
 "dag-failed": "any(dags, .dag_id == inputs.dag and .last_run != null and .last_run.state == \"failed\") = true",
 "not-paused": "any(dags, .dag_id == inputs.dag and not .paused) = true",
 "failed-tasks": "any(dags, .dag_id == inputs.dag and .failed_tasks != null and len(.failed_tasks) > 0) = true",
 "rerunning": "any(dags, .dag_id == inputs.dag and .last_run.state != \"failed\") = true",
 "succeeded": "any(dags, .dag_id == inputs.dag and .last_run.state == \"success\" and .running == 0) = true"}'
json "log: the only mutating step is the clear, its request and output" '
[(x["step"], x["kind"], x["attempt"]) for x in d if x.get("phase") == "end" and x["mutating"]]
 == [("clear", "action", 1)]
and [(x["request"], x["output_tail"]) for x in d if x.get("phase") == "end" and x["step"] == "clear"]
 == [("POST '"/api/v1/dags/$DAG/clearTaskInstances"'",
      "HTTP 200 OK\ncleared spark_batch\ncleared dbt_run\ncleared dbt_test")]'
json "log: the verify held, the run ended ok" '
[(x["source"], x["result"]) for x in d if x["ev"] == "verify"] == [("batch-af", "ok")]
and {k: v for k, v in d[-1].items() if k != "at"} == {"ev": "end", "result": "ok"}'
rbe_audit "audit: one line, the clear, with the run id" '
len(a) == 1 and (a[0]["via"], a[0]["run"], a[0]["source"], a[0]["kind"], a[0]["action"],
 a[0]["target"], a[0]["outcome"], a[0]["status"], a[0]["request"]) ==
("cli", "'"$RUN"'", "batch-af", "airflow", "clear", "'$DAG'", "ok", 200,
 "POST /api/v1/dags/'$DAG'/clearTaskInstances")'

# ---- the failure path: the tasks fail again, the run never reruns ---------------------

# The copy's `rerunning` timeout is 3 s instead of 10m, so the test does not
# wait ten minutes for the failure it provokes; nothing else differs.
python3 - "$T/runbooks/airflow-run-failed.yaml" "$T/fail.yaml" <<'EOF'
import re, sys
s = open(sys.argv[1]).read()
s2 = re.sub(r'(  - id: rerunning\n(?:    .*\n)*?    timeout: )10m\n', r'\g<1>3s\n', s)
assert s2 != s
open(sys.argv[2], "w").write(s2)
EOF
mkdir -p runbooks-fail
mv "$T/fail.yaml" runbooks-fail/airflow-run-failed.yaml
mkcfg "$T/fail-cfg.yaml" "$T/runbooks-fail"
routes failed
: >"$T/af/requests.log"
: >"$T/audit.jsonl"
rbe_pty_answer "$T/fail.out" "$T/fail.err" "$T/answers" \
        "$B" -c "$T/fail-cfg.yaml" runbook run airflow-run-failed --yes --input airflow=batch-af \
        --input dag=$DAG
rbe_pty_wait
{ printf '### failing run\n'; cat "$T/fail.out" "$T/fail.err"; } >>"$T/all"
[ "$rc" = 1 ] && ok "failing run: exit 1" || bad "failing run: exit $rc: $(head -c 2000 "$T/fail.out") / $(head -c 600 "$T/fail.err")"
has "failing run: failed" "$T/fail.out" '^run [0-9]{8}T[0-9]{6}Z-airflow-run-failed-[0-9a-f]{4}: failed'
FRUN=$(sed -n 's/^run \([^ :]*\): failed.*$/\1/p' "$T/fail.out" | head -n 1)
[ "$(posts)" = "[$DRY_BODY, $REAL_BODY]" ] && ok "failing run: the same two POSTs" \
        || bad "failing run: POSTs: $(posts)"
CFG=$T/fail-cfg.yaml
rbe_ledger "failing log: the steps up to rerunning" "$FRUN" '
[(x["step"], x["result"]) for x in d if x.get("phase") == "end"] ==
[("dag-failed", "ok"), ("not-paused", "ok"), ("failed-tasks", "ok"), ("fix-cause", "ok"),
 ("clear", "ok"), ("rerunning", "failed")]'
json "failing log: the wait timed out with the value it saw" '
[(x["values"], "timed out" in x["error"]) for x in d if x.get("phase") == "end" and x["step"] == "rerunning"]
 == [("any(dags, .dag_id == inputs.dag and .last_run.state != \"failed\") = false", True)]
and not any(x["ev"] == "verify" for x in d)
and {k: v for k, v in d[-1].items() if k != "at"} == {"ev": "end", "result": "failed"}'
rbe_audit "failing run: one audit line, the clear ok" '
len(a) == 1 and (a[0]["run"], a[0]["action"], a[0]["outcome"]) == ("'"$FRUN"'", "clear", "ok")'

rbe_done airflow-run-failed runbook
