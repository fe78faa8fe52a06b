#!/usr/bin/env bash
#
# tui_spark.sh: drives the real console's Spark pane in tmux against the
# fake API server tests/lib/fake_kube.py (started here on a free loopback port,
# stopped by its PID) with tests/fixtures/kube/base + tests/fixtures/kube/spark:
# SparkApplications in all 11 states, two ScheduledSparkApplications, and
# the Spark REST answers of the running drivers through the service proxy
# (one Structured Streaming app, one DStream app, one batch app, one driver
# whose proxy path answers 503). The fixtures' times are relative to the
# test's start (LO_FIXTURE_NOW, tests/lib/fixture_time.py): applications created
# 1d02h30m ago, speed-layer submitted 1d02h29m57s ago, nightly-compact last
# run 1d10h30m ago and next run in 1d13h30m, so every age on screen stays
# the same for half an hour. Reads the screen with capture-pane:
#   - `--view spark`: the source line (14 applications, 4 running, 2
#     streaming, 3 failed, 2 scheduled), failing states first, the state
#     text of each of the 11 states, rates of the streaming apps, "?" and
#     the 503 for the unreadable driver, AGE 1d02h on every row;
#   - Enter on speed-layer: its page with the submission time, age,
#     executors, failed jobs (with their times) and stages, the streaming
#     figures; Esc back;
#   - `s`: the scheduled applications, last run "1d10h ago", next run
#     "in 1d13h"; `s` back;
#   - `q` exits 0.
# The pane is printed so CI logs show what a person sees.
#
# Env: LO_BINARY (the lambdaops binary), LO_SOURCE_DIR (the source tree).

set -u

B=${LO_BINARY:?set LO_BINARY to the lambdaops binary}
S=${LO_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d /tmp/lo-tui-spark.XXXXXX)
SOCK="lo-tui-spark-$$"
TM=(tmux -L "$SOCK" -f "$T/tmux.conf")
fails=0
SRV_PID=

cleanup() {
        "${TM[@]}" kill-server 2>/dev/null
        if [ -n "$SRV_PID" ]; then
                kill "$SRV_PID" 2>/dev/null
                wait "$SRV_PID" 2>/dev/null
        fi
        rm -rf "$T"
}
trap cleanup EXIT

. "$(dirname "$0")/../lib/helpers.sh"
lo_guard "$T"     # what this test starts does not outlive it, even on SIGKILL

# at OFFSET_S: the fixture time OFFSET_S seconds after the anchor, as the
# detail pages print it (UTC, without the milliseconds).
at() { date -u -d "@$((LO_FIXTURE_NOW + $1))" +%Y-%m-%dT%H:%M:%S; }

# --- the fake API server ----------------------------------------------------------

python3 "$S/tests/lib/fake_kube.py" --port-file "$T/port" --log "$T/requests.log" \
        --fixtures "$S/tests/fixtures/kube/base" --fixtures "$S/tests/fixtures/kube/spark" \
        </dev/null >"$T/server.out" 2>"$T/server.err" &
SRV_PID=$!
deadline=$(($(now_ms) + 10000))
until [ -s "$T/port" ]; do
        if [ "$(now_ms)" -ge "$deadline" ] || ! kill -0 "$SRV_PID" 2>/dev/null; then
                bad "fake API server did not start"
                cat "$T/server.err"
                exit 1
        fi
        sleep 0.05
done
URL="http://127.0.0.1:$(cat "$T/port")"
ok "fake API server on $URL (pid $SRV_PID)"

cat >"$T/kubeconfig" <<EOF
apiVersion: v1
kind: Config
current-context: fake
clusters:
- name: fake
  cluster:
    server: $URL
users:
- name: tester
  user: {}
contexts:
- name: fake
  context:
    cluster: fake
    user: tester
EOF
cat >"$T/cfg.yaml" <<EOF
environment: tui-spark
refresh: 1s
sources:
  - name: k8s
    kind: kubernetes
    kubeconfig: $T/kubeconfig
    interval: 5s
    timeout: 3s
  - name: spark
    kind: spark
    kubernetes: k8s
    namespaces: [processing]
    interval: 2s
    timeout: 3s
EOF
printf 'set -g default-terminal screen\nset -g status off\n' >"$T/tmux.conf"
cat >"$T/run.sh" <<EOF
#!/bin/sh
"$B" "\$@"
echo \$? >"$T/rc"
echo "lambdaops exited"
exec sleep 600
EOF

"${TM[@]}" new-session -d -s main -x 200 -y 50 \
        "env LANG=C.UTF-8 LC_ALL=C.UTF-8 sh $T/run.sh -c $T/cfg.yaml --view spark"

wait_for main "tab bar has the Spark pane" 'Spark'
wait_for main "source line" '^ ?spark +14 applications +4 running \(2 streaming\) +3 failed +[0-9]+ behind +2 scheduled'
wait_for main "FAILED first, error's first line" 'processing +failed-job +FAILED +3 +failed-job-driver +0/1 .*driver container failed with Ex'
wait_for main "SUBMISSION_FAILED" 'bad-submit +SUBMISSION_FAILED +5 '
wait_for main "FAILING" 'failing-app +FAILING +2 +failing-app-driver +0/2'
wait_for main "PENDING_RERUN" 'rerun-app +PENDING_RERUN'
wait_for main "INVALIDATING" 'invalidating-app +INVALIDATING'
wait_for main "UNKNOWN" 'unknown-app +UNKNOWN'
wait_for main "new app" 'new-app +\(new\) +0 +- +0/0'
wait_for main "SUBMITTED" 'submitted-app +SUBMITTED'
wait_for main "COMPLETED" 'daily-agg +COMPLETED +1 +daily-agg-driver +0/0'
wait_for main "SUCCEEDING" 'succeeding-app +SUCCEEDING'
wait_for main "Structured Streaming rates" 'speed-layer +RUNNING +1 +speed-layer-driver +2/1 +1\.5k .* 1\.4k .* 1\.2s +- '
wait_for main "DStream rates and delay" 'cdc-enricher +RUNNING +1 +cdc-enricher-driver +1/0 +400\.0 .* 320\.0 .* 5\.0s +2\.5s '
wait_for main "unreadable driver: unknown, with why" 'broken-driver +RUNNING +1 +broken-driver-driver +1/0 +\? .*driver UI: GET jobs: HTTP 503'
wait_for main "batch app: no streaming" 'batch-report +RUNNING +1 +batch-report-driver +2/0 +- '
screen main >"$T/pane.txt"
# AGE: created {{now-1d2h30m}}, the column before ERROR
n=$(grep -cE '^ +processing +[a-z-]+ +.* 1d02h( |$)' "$T/pane.txt")
if [ "$n" = 14 ]; then
        ok "AGE 1d02h on all 14 applications"
else
        bad "AGE 1d02h on $n of 14 applications"
fi
echo "---- Spark pane (capture-pane) ----"
sed 's/[[:space:]]*$//' "$T/pane.txt"
echo "-----------------------------------"

# rows: 6 failing/warning states, then batch-report broken-driver cdc-enricher
# daily-agg new-app speed-layer (index 11)
keys main g
for _ in 1 2 3 4 5 6 7 8 9 10 11; do keys main j; done
keys main Enter
wait_for main "Enter opens speed-layer" '^ ?SparkApplication processing/speed-layer +\(spark\)'
wait_for main "driver executors" 'executors +2 active, 1 dead; tasks 3 active, 5 failed, 1118 completed'
wait_for main "submitted at the fixture's {{now-1d2h29m57s}}" "last submitted +$(at -95397)\.000Z"
wait_for main "age of the application" '^ +age +1d02h *$'
wait_for main "failed jobs" 'failed jobs +2'
wait_for main "failed job 41 at {{now-1d1h59m56s}}.120" "job 41 +$(at -93596)\.120Z"
wait_for main "failed stage" 'stage 81\.0'
keys main NPage
wait_for main "streaming figures" 'Structured Streaming \(/metrics/json gauges\)'
screen main >"$T/detail.txt"
echo "---- application page (capture-pane) ----"
sed 's/[[:space:]]*$//' "$T/detail.txt"
echo "-----------------------------------------"
keys main Escape
wait_for main "Esc back to the table" 'speed-layer +RUNNING'

keys main s
wait_for main "s: scheduled applications, last and next run" 'nightly-compact +@every 72h +Scheduled +no +1d10h ago +in 1d13h +daily-agg'
wait_for main "failed validation" 'weekly-backfill +every 7d +FailedValidation +yes'
keys main s
wait_for main "s: back to applications" 'speed-layer +RUNNING'

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
