#!/usr/bin/env bash
#
# tui_cluster.sh: drives the real console's Cluster pane in tmux against
# the fake API server (tests/lib/fake_kube.py over plain http, started here and
# stopped by its PID) serving tests/fixtures/kube/cluster, and reads the
# screen with capture-pane. The fixtures' times are relative to the test's
# start (LO_FIXTURE_NOW, tests/lib/fixture_time.py), so every age is known:
# the ones of a day or more ("30d10h", offsets half an hour off the hour)
# are checked as they are; younger ones ("30m07s") change while the test
# runs and are checked against the time of the capture (wait_age).
#   - `--view cluster`: the source line (context, server, nodes ready 2/3,
#     pods not ready and failing, workloads short, 3 warnings in the last
#     15 minutes), the pods grouped by component with kafka-2
#     CrashLoopBackOff / OOMKilled, the pods' ages;
#   - `/kafka-2` filters to one row, Enter opens its page (containers,
#     last exit OOMKilled with exit code 137, age), Esc back, Esc clears;
#   - `v` walks the sub-views with their ages and last-seen times:
#     workloads, nodes, PVCs, events, releases and back to pods; `s` sorts
#     pods by restarts;
#   - 30x8 shows the too-small message, 50x14 and back to 160x45 draw the
#     pane again (no crash);
#   - a second server with 5,000 generated pods: the source line counts
#     them, G jumps to the last row and it is drawn in full (only the rows
#     on screen are formatted);
#   - `q` exits 0.
#
# Env: LO_BINARY (the lambdaops binary), LO_SOURCE_DIR (the source tree).

set -u

B=${LO_BINARY:?set LO_BINARY to the lambdaops binary}
S=${LO_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d /tmp/lo-tui-cluster.XXXXXX)
SOCK="lo-tui-cluster-$$"
TM=(tmux -L "$SOCK" -f "$T/tmux.conf")
fails=0
PIDS=()

cleanup() {
        "${TM[@]}" kill-server 2>/dev/null
        for p in "${PIDS[@]}"; do
                kill "$p" 2>/dev/null
                wait "$p" 2>/dev/null
        done
        rm -rf "$T"
}
trap cleanup EXIT

. "$(dirname "$0")/../lib/helpers.sh"
lo_guard "$T"     # what this test starts does not outlive it, even on SIGKILL

# fmt_age S: the Cluster pane's text for an age of S seconds (kcv_age in
# views/cluster.c: 0s, 59s, 1m05s, 4h30m, 1d00h, 100d).
fmt_age() {
        local s=$1
        if [ "$s" -lt 60 ]; then
                echo "${s}s"
        elif [ "$s" -lt 3600 ]; then
                printf '%dm%02ds\n' $((s / 60)) $((s % 60))
        elif [ "$s" -lt 86400 ]; then
                printf '%dh%02dm\n' $((s / 3600)) $((s % 3600 / 60))
        elif [ "$s" -lt 8640000 ]; then
                printf '%dd%02dh\n' $((s / 86400)) $((s % 86400 / 3600))
        else
                echo "$((s / 86400))d"
        fi
}

# wait_age SESSION WHAT REGEX OFFSET_S: wait_for, with AGE in REGEX standing
# for the age of a fixture time OFFSET_S seconds before the anchor as the
# pane can show it at the capture: the pane is redrawn every second, so any
# age from 5 s before the capture to the capture.
wait_age() {
        local s=$1 what=$2 re=$3 off=$4 deadline=$(($(now_ms) + ${WAIT_MS:-10000}))
        local t0 t1 a alts
        while :; do
                t0=$(date +%s)
                screen "$s" >"$T/screen"
                t1=$(date +%s)
                alts=
                for ((a = off + t0 - LO_FIXTURE_NOW - 5; a <= off + t1 - LO_FIXTURE_NOW + 1; a++)); do
                        [ "$a" -ge 0 ] && alts="$alts|$(fmt_age "$a")"
                done
                if grep -qE -- "${re//AGE/(${alts#|})}" "$T/screen"; then
                        ok "$what"
                        return 0
                fi
                if [ "$(now_ms)" -ge "$deadline" ]; then
                        bad "$what (no /${re//AGE/(${alts#|})}/ on screen)"
                        sed 's/^/    | /' "$T/screen"
                        return 1
                fi
                sleep 0.1
        done
}

# start_kube NAME [fake_kube.py args...]: a server in $T/NAME, its
# kubeconfig in $T/NAME/kubeconfig (context "fake", no credentials).
start_kube() {
        local n=$1 deadline
        shift
        mkdir -p "$T/$n"
        python3 "$S/tests/lib/fake_kube.py" --port-file "$T/$n/port" --log "$T/$n/requests.log" \
                "$@" >"$T/$n/server.log" 2>&1 &
        PIDS+=($!)
        deadline=$(($(now_ms) + 15000))
        until [ -s "$T/$n/port" ]; do
                if [ "$(now_ms)" -ge "$deadline" ]; then
                        bad "fake API server $n did not start"
                        cat "$T/$n/server.log"
                        exit 1
                fi
                sleep 0.05
        done
        cat >"$T/$n/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: http://127.0.0.1:$(cat "$T/$n/port")
users:
- name: tester
  user: {}
contexts:
- name: fake
  context:
    cluster: fake
    user: tester
current-context: fake
EOF
        ok "fake API server $n on port $(cat "$T/$n/port")"
}

start_kube small --fixtures "$S/tests/fixtures/kube/cluster"
PORT=$(cat "$T/small/port")

cat >"$T/cfg.yaml" <<EOF
environment: tui-cluster
refresh: 1s
sources:
  - name: k8s
    kind: kubernetes
    kubeconfig: $T/small/kubeconfig
    interval: 1s
    timeout: 5s
    components:
      kafka: app.kubernetes.io/name=kafka
      connect: app=kafka-connect
      spark: app.kubernetes.io/name=spark,spark-role!=executor
      airflow: app=airflow
EOF
printf 'set -g default-terminal screen\nset -g status off\n' >"$T/tmux.conf"
cat >"$T/run.sh" <<EOF
#!/bin/sh
"$B" "\$@"
echo \$? >"\$LO_RC"
echo "lambdaops exited"
exec sleep 600
EOF

"${TM[@]}" new-session -d -s main -x 160 -y 45 \
        "env LANG=C.UTF-8 LC_ALL=C.UTF-8 LO_RC=$T/rc.main sh $T/run.sh -c $T/cfg.yaml --view cluster"

wait_for main "tab bar has the Cluster pane" 'Cluster'
wait_for main "source line" "^ k8s +context fake +http://127\.0\.0\.1:$PORT +nodes ready 2/3 +pods 7, not ready 4, failing 2 +workloads short 2 +warnings 3/15m"
wait_for main "CrashLoopBackOff pod with its last exit" 'kafka +pipeline +kafka-2 +0/1 +CrashLoopBackOff +12 +OOMKilled +node-b'
wait_for main "ImagePullBackOff pod, grouped first (connect)" 'k8s +connect +pipeline +connect-7d9f5c6b8-abcde +1/2 +ImagePullBackOff'
wait_for main "no component last" 'k8s +- +batch +dbt-run-28471234-xk2p9 +0/1 +Completed'
# AGE: since status.startTime, else creationTimestamp
wait_for main "age of a pod started {{now-1d30m}}" ' speed-driver +1/1 +Terminating +0 +- +node-c +1d00h *$'
wait_age main "age of kafka-2, started {{now-30m}}" ' kafka-2 +0/1 +CrashLoopBackOff +12 +OOMKilled +node-b +AGE *$' 1800
wait_age main "age of connect, started {{now-20m}}" ' connect-7d9f5c6b8-abcde +1/2 +ImagePullBackOff +0 +- +node-a +AGE *$' 1200
wait_age main "age of the pod created {{now-2m}}, not started" ' backfill-x7k2 +0/1 +Pending +0 +- +- +AGE *$' 120
wait_age main "age of dbt-run, started {{now-4h30m}}" ' dbt-run-28471234-xk2p9 +0/1 +Completed +0 +- +node-a +AGE *$' 16200
screen main >"$T/pane.txt"
echo "---- Cluster pane (capture-pane) ----"
sed 's/[[:space:]]*$//' "$T/pane.txt"
echo "-------------------------------------"

keys main / k a f k a - 2 Enter
wait_for main "/kafka-2 keeps one row" 'pipeline +kafka-2 +0/1'
keys main Enter
wait_for main "Enter opens the pod page" '^pod pipeline/kafka-2 +on k8s'
wait_for main "pod page: container with last exit" 'kafka +no +12 +waiting +CrashLoopBackOff +OOMKilled \(exit 137\)'
wait_for main "pod page: owner" 'owner +StatefulSet/kafka'
wait_age main "pod page: age" '^ +age +AGE *$' 1800
screen main >"$T/detail.txt"
echo "---- pod page (capture-pane) ----"
sed 's/[[:space:]]*$//' "$T/detail.txt"
echo "---------------------------------"
keys main Escape
wait_for main "Esc back to the filtered table" 'pipeline +kafka-2 +0/1'
keys main Escape
wait_for main "Esc clears the filter" 'kafka-0 +1/1 +Running'

keys main v
wait_for main "v: workloads" 'kafka +pipeline +StatefulSet +kafka +2/3'
wait_for main "workloads: StatefulSet created {{now-30d10h30m}}" ' StatefulSet +kafka +2/3 +3 +2 +30d10h *$'
wait_for main "workloads: Deployment created {{now-16d2h30m}}" ' Deployment +connect +0/1 +1 +0 +16d02h *$'
wait_for main "workloads: Deployment created {{now-21d10h30m}}" ' Deployment +airflow-web +0/0 +0 +0 +21d10h *$'
keys main v
wait_for main "v: nodes" 'node-c +Unknown .* cordoned'
wait_for main "nodes: node-a created {{now-30d10h30m}}" ' node-a +Ready .* v1\.29\.4 +30d10h *$'
wait_for main "nodes: node-c created {{now-10d22h30m}}" ' node-c +Unknown .* v1\.28\.9 +10d22h *$'
keys main v
wait_for main "v: PVCs" 'batch +scratch +Pending +10\.0 GiB +fast'
wait_for main "PVCs: created {{now-30d10h30m}}" ' data-kafka-0 +Bound .* pvc-0a1b +30d10h *$'
wait_age main "PVCs: created {{now-1h30m}}" ' scratch +Pending .* +AGE *$' 5400
keys main v
wait_for main "v: events" 'Pod/kafka-2 +BackOff +57 +Back-off restarting'
wait_age main "events: last seen {{now}} (lastTimestamp)" '^ k8s +AGE +pipeline +Pod/kafka-2 +BackOff ' 0
wait_age main "events: last seen {{now-5m}} (series.lastObservedTime)" '^ k8s +AGE +batch +PersistentVolumeClaim/scratch +ProvisioningFailed ' 300
wait_age main "events: last seen {{now-10m}} (eventTime)" '^ k8s +AGE +pipeline +Pod/connect-7d9f5c6b8-abcde +Failed ' 600
keys main v
wait_for main "v: releases" 'batch +airflow +10 +failed'
wait_age main "releases: airflow v10 deployed {{now-2h30m}}" ' batch +airflow +10 +failed +AGE *$' 9000
wait_for main "releases: kafka v2 deployed {{now-11d10h30m}}" ' pipeline +kafka +2 +deployed +11d10h *$'
keys main v
wait_for main "v: back to pods" 'pods by component'
keys main s
wait_for main "s: pods by restarts" 'pods by restarts'
wait_for main "s: kafka-2 first" '^ k8s +kafka +pipeline +kafka-2 '

"${TM[@]}" resize-window -t main -x 30 -y 8
wait_for main "30x8: too-small message" 'too small'
"${TM[@]}" resize-window -t main -x 50 -y 14
wait_for main "50x14: the pane again" 'k8s'
"${TM[@]}" resize-window -t main -x 160 -y 45
wait_for main "160x45: the table again" 'kafka-2 +0/1 +CrashLoopBackOff'

keys main q
deadline=$(($(now_ms) + 5000))
while [ ! -s "$T/rc.main" ] && [ "$(now_ms)" -lt "$deadline" ]; do sleep 0.1; done
if [ "$(cat "$T/rc.main" 2>/dev/null)" = 0 ]; then
        ok "q exits 0"
else
        bad "q: exit status $(cat "$T/rc.main" 2>/dev/null || echo none)"
fi

# --- 5,000 pods ---------------------------------------------------------------------

start_kube big --pods 5000
cat >"$T/big.yaml" <<EOF
environment: tui-cluster-big
refresh: 1s
sources:
  - name: big
    kind: kubernetes
    kubeconfig: $T/big/kubeconfig
    interval: 2s
    timeout: 20s
EOF
"${TM[@]}" new-session -d -s big -x 160 -y 45 \
        "env LANG=C.UTF-8 LC_ALL=C.UTF-8 LO_RC=$T/rc.big sh $T/run.sh -c $T/big.yaml --view cluster"
wait_for big "5,000 pods listed" '^ big +context fake .* pods 5000, not ready [0-9]+, failing 200' 30000
keys big G
wait_for big "G: the last row is drawn in full" '^ big +- +serving +[a-z-]+-[0-9a-f]{6}-[0-9]{5} +[01]/1 +(Running|CrashLoopBackOff) +[0-9]+ .*node-[0-9]{3} +[0-9]'
keys big / c r a s h l o o p Enter
wait_for big "/crashloop over 5,000 pods" 'CrashLoopBackOff'
keys big q
deadline=$(($(now_ms) + 5000))
while [ ! -s "$T/rc.big" ] && [ "$(now_ms)" -lt "$deadline" ]; do sleep 0.1; done
if [ "$(cat "$T/rc.big" 2>/dev/null)" = 0 ]; then
        ok "q exits 0 (5,000 pods)"
else
        bad "q (5,000 pods): exit status $(cat "$T/rc.big" 2>/dev/null || echo none)"
fi

if [ "$fails" -gt 0 ]; then
        echo "$fails check(s) failed"
        exit 1
fi
echo "all checks passed"
