#!/usr/bin/env bash
#
# tui_airflow.sh: drives the real console's Airflow pane in tmux against the
# fixture server (tests/lib/fixture_httpd.py) answering as Airflow 2's /api/v1
# with Basic auth: three DAGs whose dates are relative to the test's start
# (see the routes below), so every time-dependent value is asserted exactly.
#   - `status --json`: each DAG's last run (its UTC times), runs in 24 h
#     (a failed run 3 h ago counts, one 30 h ago does not), running/queued,
#     overdue seconds (bounded by the command's start and end), the alerts;
#     the `status` table's summary;
#   - `--view airflow`: the source line (1 last run failed, 1 failed runs
#     24h, 1 running, 1 overdue); the rows: nightly_compact first, failed,
#     started "3h00m ago", 42m00s, 1 failed in 24 h, overdue 20h00m;
#     reconcile_hourly running since "1h12m ago", not overdue;
#     adhoc_backfill (paused);
#   - Enter on nightly_compact opens its page: next run due (UTC), overdue,
#     runs in 24h, the recent runs with their logical and start times, the
#     failed tasks of the failed run (extract failed try 2, load
#     upstream_failed);
#   - Esc back, `q` exits 0.
# The pane is printed so CI logs show what a person sees. Waits poll
# capture-pane against a deadline.
#
# Env: LO_BINARY (the lambdaops binary), LO_SOURCE_DIR (the source tree).

set -u

B=${LO_BINARY:?set LO_BINARY to the lambdaops binary}
S=${LO_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
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

. "$(dirname "$0")/../lib/helpers.sh"
lo_guard "$T"     # what this test starts does not outlive it, even on SIGKILL

# Routes: tests/fixtures/airflow/tui_v1_routes.json, whose dates are
# {{now-3h0m5s}} tokens that the fixture server expands at this test's
# anchor LO_FIXTURE_NOW (exported by helpers.sh). The design, relative to it:
#   nightly_compact  due 20h0m5s ago (overdue 20h00m); runs: scheduled__n3
#                    failed, started 3h0m5s ago, 42 min long (its tasks:
#                    extract failed try 2, load upstream_failed, notify ok);
#                    manual__n2 success 23h30m ago (inside 24 h);
#                    scheduled__n1 failed 30 h ago (outside 24 h);
#   reconcile_hourly due in 25 min (not overdue); scheduled__r3 running,
#                    started 1h12m5s ago; r2 success 2h12m ago; r1 25 h ago;
#   adhoc_backfill   paused (never overdue).
# Offsets sit 5 s past a whole minute, so the minute-resolution values
# shown ("3h00m ago") hold for 55 s after the anchor; span_re below still
# accepts a later minute if the machine is so slow that a poll came later.
cp "$S/tests/fixtures/airflow/tui_v1_routes.json" "$T/routes.json"

# at FIXTURE_TIME_TOKEN: the token expanded at the anchor, by the same code
# that the fixture server uses (tests/lib/fixture_time.py), not by lambdaops.
at() {
        python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import fixture_time; print(fixture_time.expand(sys.argv[2]))' \
                "$S/tests/lib" "$1"
}
# fmt_dur SECONDS: how lambdaops prints a span (fmt_duration_ms in
# src/core/util.c's contract: 42s, 3m04s, 2h05m, 3d04h).
fmt_dur() {
        local s=$1
        if [ "$s" -lt 60 ]; then echo "${s}s"
        elif [ "$s" -lt 3600 ]; then printf '%dm%02ds\n' $((s / 60)) $((s % 60))
        elif [ "$s" -lt 86400 ]; then printf '%dh%02dm\n' $((s / 3600)) $((s % 3600 / 60))
        else printf '%dd%02dh\n' $((s / 86400)) $((s % 86400 / 3600))
        fi
}
# span_re OFFSET_S: a regex of what a span of OFFSET_S seconds at the anchor
# reads now: lambdaops measured it at a poll between the anchor and now, so
# it is OFFSET_S + (0 .. seconds since the anchor). One value unless the
# test runs for more than 55 s.
span_re() {
        local off=$1 el=$(($(date +%s) - LO_FIXTURE_NOW)) v re= last=
        for ((i = 0; i <= el + 1; i++)); do
                v=$(fmt_dur $((off + i)))
                [ "$v" = "$last" ] && continue
                last=$v
                re=${re:+$re|}$v
        done
        echo "($re)"
}
# wait_span SESSION WHAT PREFIX OFFSET_S SUFFIX: wait_for with the regex
# PREFIX span_re(OFFSET_S) SUFFIX, recomputed on every look.
wait_span() {
        local s=$1 what=$2 pre=$3 off=$4 suf=$5 deadline=$(($(now_ms) + ${WAIT_MS:-60000})) re
        while :; do
                re="$pre$(span_re "$off")$suf"
                screen "$s" >"$T/screen"
                if grep -qE -- "$re" "$T/screen"; then
                        ok "$what"
                        return 0
                fi
                if [ "$(now_ms)" -ge "$deadline" ]; then
                        bad "$what (no /$re/ on screen)"
                        sed 's/^/    | /' "$T/screen"
                        return 1
                fi
                sleep 0.1
        done
}

python3 "$S/tests/lib/fixture_httpd.py" --routes "$T/routes.json" --log "$T/requests.log" \
        --port-file "$T/port" </dev/null >>"$T/httpd.log" 2>&1 &
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
    # generous: "status" below must get its one poll through on a loaded
    # machine (the fixture server answers at once otherwise)
    timeout: 30s
EOF
# --- `status --json`: the time-dependent values against the fixture design --
t0=$(now_ms)
LO_TUI_AF_PW=secret "$B" -c "$T/cfg.yaml" status --json >"$T/status.json" 2>"$T/status.err"
rc=$?
t1=$(now_ms)
if [ "$rc" = 0 ]; then ok "status --json exits 0"; else bad "status --json: exit $rc: $(cat "$T/status.err")"; fi
# Expected values come from the tokens (tests/lib/fixture_time.py); overdue_s
# from the span between the anchor and the command's start and end
# (lambdaops read its clock in between).
python3 - "$S/tests/lib" "$T/status.json" "$t0" "$t1" <<'PY' || fails=$((fails + 1))
import json, sys
sys.path.insert(0, sys.argv[1])
import fixture_time
d = json.load(open(sys.argv[2]))
t0, t1 = int(sys.argv[3]), int(sys.argv[4])
A = fixture_time.anchor()
def at(tok, frac="000"):
    return fixture_time.expand("{{now%s|%%Y-%%m-%%dT%%H:%%M:%%S.%sZ}}" % (tok, frac))
fails = 0
def check(what, cond, got):
    global fails
    print(("ok   " if cond else "FAIL ") + what + ("" if cond else ": got %r" % (got,)))
    fails += not cond
src = d["sources"]["batch-af"]
dags = {g["dag_id"]: g for g in src["dags"]}
# lambdaops' clock at its poll was within [t0, t1] (ms): the overdue bounds.
def overdue(due_ago_s):
    return range(due_ago_s + (t0 // 1000 - A), due_ago_s + (t1 // 1000 - A) + 1)
nc = dict(dags["nightly_compact"])
check("nightly_compact overdue_s = 20h0m5s + time since the anchor",
      nc["overdue_s"] in overdue(72005), (nc["overdue_s"], list(overdue(72005))))
nc.pop("overdue_s")
want = {"dag_id": "nightly_compact", "paused": False, "schedule": "0 2 * * *",
        "last_run": {"run_id": "scheduled__n3", "state": "failed", "run_type": "scheduled",
                     "logical_date": at("-1d3h0m5s"), "start": at("-3h0m5s", "250"),
                     "end": at("-2h18m5s", "250"), "duration_s": 2520},
        # n3 (3 h ago) and n2 (23h30m ago) are inside 24 h, n1 (30 h ago) not
        "runs_24h": {"queued": 0, "running": 0, "success": 1, "failed": 1},
        "running": 0, "queued": 0, "failed_run_id": "scheduled__n3",
        "failed_tasks": [
            {"task_id": "extract", "state": "failed", "map_index": -1, "try_number": 2,
             "duration_s": 75},
            {"task_id": "load", "state": "upstream_failed", "map_index": -1, "try_number": 0,
             "duration_s": None}]}
check("nightly_compact JSON (last run times, runs in 24 h)", nc == want, nc)
want = {"dag_id": "reconcile_hourly", "paused": False, "schedule": "0 * * * *",
        "last_run": {"run_id": "scheduled__r3", "state": "running", "run_type": "scheduled",
                     "logical_date": at("-2h12m5s"), "start": at("-1h12m5s", "500"),
                     "end": None, "duration_s": None},
        # r1 (25 h ago) is outside 24 h; due in 25 min: not overdue
        "runs_24h": {"queued": 0, "running": 1, "success": 1, "failed": 0},
        "running": 1, "queued": 0, "overdue_s": 0, "failed_run_id": None, "failed_tasks": []}
check("reconcile_hourly JSON (running run, not overdue)", dags["reconcile_hourly"] == want,
      dags["reconcile_hourly"])
check("adhoc_backfill paused: overdue_s null, no runs",
      dags["adhoc_backfill"]["overdue_s"] is None and dags["adhoc_backfill"]["last_run"] is None
      and dags["adhoc_backfill"]["runs_24h"] == {"queued": 0, "running": 0, "success": 0,
                                                 "failed": 0}, dags["adhoc_backfill"])
al = sorted((a["severity"], a["metric"], a["subject"], a["value"]) for a in d["alerts"])
ov = [a[3] for a in al if a[1] == "overdue_s"]
check("alerts: last run failed (crit), 1 failed run in 24 h (warn), overdue (crit)",
      len(ov) == 1 and ov[0] in overdue(72005) and
      al == sorted([("crit", "last_run_failed", "nightly_compact", None),
                    ("warn", "failed_runs_24h", "nightly_compact", 1),
                    ("crit", "overdue_s", "nightly_compact", ov[0])]), al)
sys.exit(1 if fails else 0)
PY
LO_TUI_AF_PW=secret "$B" -c "$T/cfg.yaml" status >"$T/status.txt" 2>&1
if grep -qE '^batch-af +airflow +ok .* 3 DAGs \(1 paused\), 1 last failed, 1 failed runs 24h, 1 running, 1 overdue' "$T/status.txt"; then
        ok "status table summary"
else
        bad "status table summary: $(cat "$T/status.txt")"
fi

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
wait_for main "source line" 'batch-af +Airflow 2\.9\.1 \(api v1\) +3 DAGs \(1 paused\) +1 last run failed +1 failed runs 24h +1 running +1 overdue'
# Rows: LAST RUN, STARTED (ago), DURATION, HISTORY, FAIL 24H, RUN/Q, OVERDUE.
wait_span main "failed DAG first: started 3h00m ago, 42m00s, 1 failed in 24 h, overdue 20h00m" \
        'batch-af +nightly_compact +0 2 \* \* \* +failed +' 10804 \
        ' ago +42m00s .* +1 +0/0 +20h00m *$'
wait_span main "running DAG: started 1h12m ago, no duration, 0 failed in 24 h, not overdue" \
        'batch-af +reconcile_hourly +0 \* \* \* \* +running +' 4324 \
        ' ago +- .* +0 +1/0 +0 *$'
wait_for main "paused DAG" 'batch-af +adhoc_backfill \(paused\) +@once +no runs +- +- .* +0 +0/0 +- *$'

screen main >"$T/pane.txt"
echo "---- Airflow pane (capture-pane) ----"
sed 's/[[:space:]]*$//' "$T/pane.txt"
echo "-------------------------------------"

keys main g Enter
wait_for main "Enter opens the DAG page" '^DAG nightly_compact +\(batch-af\)'
wait_for main "next run due (UTC)" "next run due +$(at '{{now-20h0m5s|%Y-%m-%dT%H:%M:%S}}')\\.000Z"
wait_span main "overdue 20h00m" '^ *overdue +' 72005 ' *$'
wait_for main "runs in 24h" 'runs in 24h +1 success, 1 failed, 0 running, 0 queued'
# Recent runs: STATE, LOGICAL DATE, STARTED (UTC), DURATION, RUN ID.
wait_for main "recent run n3 with its times" \
        "failed +$(at '{{now-1d3h0m5s|%Y-%m-%dT%H:%M:%S}}')\\.000Z +$(at '{{now-3h0m5s|%Y-%m-%dT%H:%M:%S}}') +42m00s +scheduled__n3"
wait_for main "recent run n2 with its times" \
        "success +$(at '{{now-23h30m5s|%Y-%m-%dT%H:%M:%S}}')\\.000Z +$(at '{{now-23h30m|%Y-%m-%dT%H:%M:%S}}') +30m00s +manual__n2"
wait_for main "recent run n1 (outside 24 h) with its times" \
        "failed +$(at '{{now-2d6h|%Y-%m-%dT%H:%M:%S}}')\\.000Z +$(at '{{now-1d6h|%Y-%m-%dT%H:%M:%S}}') +35m00s +scheduled__n1"
wait_for main "failed tasks of the failed run" 'Failed tasks of scheduled__n3'
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
