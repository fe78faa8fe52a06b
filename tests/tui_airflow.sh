#!/usr/bin/env bash
#
# tui_airflow.sh: drives the real console's Airflow pane in tmux against the
# fixture server (tests/fixture_httpd.py) answering as Airflow 2's /api/v1
# with Basic auth: three DAGs, nightly_compact's last run failed with two
# failed task instances, reconcile_hourly succeeded, adhoc paused.
# `--view airflow`:
#   - the source line: Airflow 2.9.1 (api v1), 3 DAGs, 1 last run failed;
#   - the table: nightly_compact first with "failed", reconcile_hourly
#     "success", adhoc_backfill (paused);
#   - Enter on nightly_compact opens its page: recent runs, the failed
#     tasks of the failed run (extract failed try 2, load upstream_failed);
#   - Esc back, `q` exits 0.
# The pane is printed so CI logs show what a person sees. Waits poll
# capture-pane against a deadline.
#
# Env: LO_BINARY (the lambdaops binary), LO_SOURCE_DIR (the source tree).

set -u

B=${LO_BINARY:?set LO_BINARY to the lambdaops binary}
S=${LO_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
T=$(mktemp -d /tmp/lo-tui-af.XXXXXX)
SOCK="lo-tui-af-$$"
TM=(tmux -L "$SOCK" -f "$T/tmux.conf")
fails=0
HTTPD_PID=

cleanup() {
        "${TM[@]}" kill-server 2>/dev/null
        if [ -n "$HTTPD_PID" ]; then
                kill "$HTTPD_PID" 2>/dev/null
                wait "$HTTPD_PID" 2>/dev/null
        fi
        rm -rf "$T"
}
trap cleanup EXIT

. "$(dirname "$0")/helpers.sh"

# Routes with dates relative to now, so "ago" and the 24 h window hold.
python3 - "$T/routes.json" <<'PY'
import datetime, json, sys
now = datetime.datetime.now(datetime.timezone.utc)
def t(h): return (now - datetime.timedelta(hours=h)).isoformat()
def dag(i, paused, cron, due_h):
    return {"dag_id": i, "is_paused": paused, "is_active": True, "has_import_errors": False,
            "schedule_interval": {"__type": "CronExpression", "value": cron},
            "next_dagrun_create_after": t(due_h)}
def run(d, r, st, h, dur_h):
    return {"dag_run_id": r, "dag_id": d, "logical_date": t(h + 1), "execution_date": t(h + 1),
            "start_date": t(h), "end_date": t(h - dur_h) if dur_h is not None else None,
            "run_type": "scheduled", "state": st, "conf": {}}
def ti(task, st, tries):
    return {"task_id": task, "dag_id": "nightly_compact", "dag_run_id": "scheduled__n2",
            "map_index": -1, "state": st, "try_number": tries, "duration": 75.0}
routes = [
  {"path": "/api/v1/version", "json": {"version": "2.9.1"}},
  {"path": "/api/v1/dags", "json": {"dags": [
      dag("nightly_compact", False, "0 2 * * *", -20),
      dag("reconcile_hourly", False, "0 * * * *", -0.5),
      dag("adhoc_backfill", True, "@once", 5)], "total_entries": 3}},
  {"path": "/api/v1/dags/nightly_compact/dagRuns", "json": {"dag_runs": [
      run("nightly_compact", "scheduled__n2", "failed", 3, 0.7),
      run("nightly_compact", "scheduled__n1", "success", 27, 0.5)], "total_entries": 2}},
  {"path": "/api/v1/dags/nightly_compact/dagRuns/scheduled__n2/taskInstances",
   "json": {"task_instances": [ti("extract", "failed", 2), ti("load", "upstream_failed", 0),
                               ti("notify", "success", 1)], "total_entries": 3}},
  {"path": "/api/v1/dags/reconcile_hourly/dagRuns", "json": {"dag_runs": [
      run("reconcile_hourly", "scheduled__r2", "success", 0.4, 0.1),
      run("reconcile_hourly", "scheduled__r1", "success", 1.4, 0.15)], "total_entries": 2}},
  {"path": "/api/v1/dags/adhoc_backfill/dagRuns", "json": {"dag_runs": [], "total_entries": 0}},
]
json.dump({"routes": routes}, open(sys.argv[1], "w"))
PY

python3 "$S/tests/fixture_httpd.py" --routes "$T/routes.json" --log "$T/requests.log" \
        --port-file "$T/port" &
HTTPD_PID=$!
deadline=$(($(now_ms) + 10000))
until [ -s "$T/port" ]; do
        [ "$(now_ms)" -ge "$deadline" ] && { bad "fixture server did not start"; exit 1; }
        sleep 0.05
done
URL=http://127.0.0.1:$(cat "$T/port")
ok "fixture server on $URL"

cat >"$T/cfg.yaml" <<EOF
environment: tui-af
refresh: 1s
sources:
  - name: batch-af
    kind: airflow
    url: $URL
    api: auto
    user: admin
    password_env: LO_TUI_AF_PW
    interval: 2s
    timeout: 2s
EOF
printf 'set -g default-terminal screen\nset -g status off\n' >"$T/tmux.conf"
cat >"$T/run.sh" <<EOF
"$B" "\$@"
echo \$? >"$T/rc"
echo "lambdaops exited"
exec sleep 600
EOF

"${TM[@]}" new-session -d -s main -x 160 -y 45 \
        "env LANG=C.UTF-8 LC_ALL=C.UTF-8 LO_TUI_AF_PW=secret sh $T/run.sh -c $T/cfg.yaml --view airflow"

wait_for main "tab bar has the Airflow pane" 'Airflow'
wait_for main "source line" 'batch-af +Airflow 2\.9\.1 \(api v1\) +3 DAGs \(1 paused\) +1 last run failed'
wait_for main "failed DAG first, with its state" 'batch-af +nightly_compact +0 2 \* \* \* +failed +3h0[0-9]m ago'
wait_for main "succeeded DAG" 'reconcile_hourly +0 \* \* \* \* +success'
wait_for main "paused DAG" 'adhoc_backfill \(paused\)'

screen main >"$T/pane.txt"
echo "---- Airflow pane (capture-pane) ----"
sed 's/[[:space:]]*$//' "$T/pane.txt"
echo "-------------------------------------"

keys main g Enter
wait_for main "Enter opens the DAG page" '^DAG nightly_compact +\(batch-af\)'
wait_for main "recent runs" 'failed +.* scheduled__n2'
wait_for main "failed tasks of the failed run" 'Failed tasks of scheduled__n2'
wait_for main "failed task with its try" 'failed +extract +try 2 +1m15s'
wait_for main "upstream_failed task" 'upstream_failed +load +try 0'
screen main | sed 's/[[:space:]]*$//' | sed -n '1,30p'
if grep -q 'notify' "$T/screen"; then bad "a successful task is listed as failed"; else ok "only failed tasks listed"; fi
keys main Escape
wait_for main "Esc leaves the page" 'reconcile_hourly'

if grep -q '"authorization": "Basic YWRtaW46c2VjcmV0"' "$T/requests.log"; then
        ok "Basic auth sent"
else
        bad "no Basic auth header in the request log"
fi

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
