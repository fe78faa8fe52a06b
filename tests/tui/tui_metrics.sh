#!/usr/bin/env bash
#
# tui_metrics.sh: drives the real console's Metrics pane in tmux against a
# real Prometheus (Debian's prometheus, started here on a free loopback
# port with its TSDB in a temp dir, stopped by its PID), which scrapes two
# static exposition files served by the fixture server
# (tests/lib/fixture_httpd.py): controller 1 with jmx_exporter's raft names
# (kafka_server_raft_metrics_*, the leader, epoch 7, high watermark 4242)
# and controller 2 with Strimzi's (kafka_server_raftmetrics_*, a follower
# 42 records behind), plus consumer lag 120 + 30 and 2 under-replicated
# partitions. The config uses `queries: [{name, expr, unit, warn, crit}]`.
# `--view metrics`:
#   - the source line (degraded: the broken query) and the quorum block:
#     leader 1, epoch 7, high watermark 4242, both voters with their lag;
#   - the rows: lag_total 150 (warn at 100), lag by partition 120 and 30,
#     urp 2 (crit at 2), data_bytes 1.5 GiB (warn at 1GiB),
#     lag_seconds 1.5 s (crit at 1s), and the
#     query with a PromQL syntax error showing bad_data while the rest go on;
#   - `q` exits 0.
# The pane is printed so CI logs show what a person sees. Waits poll
# capture-pane or the Prometheus API against a deadline.
#
# Env: LO_BINARY (the lambdaops binary), LO_SOURCE_DIR (the source tree).

set -u

B=${LO_BINARY:?set LO_BINARY to the lambdaops binary}
S=${LO_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
PROM=/usr/bin/prometheus
T=$(mktemp -d /tmp/lo-tui-prom.XXXXXX)
SOCK="lo-tui-prom-$$"
TM=(tmux -L "$SOCK" -f "$T/tmux.conf")
fails=0
HTTPD_PID=
PROM_PID=

if [ ! -x "$PROM" ]; then
        echo "skip: prometheus is not installed (scripts/deps.sh)"
        rm -rf "$T"
        exit 0
fi

stop_pid() {
        local pid=$1 i
        [ -n "$pid" ] || return 0
        kill "$pid" 2>/dev/null
        for i in $(seq 50); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
}
cleanup() {
        "${TM[@]}" kill-server 2>/dev/null
        stop_pid "$PROM_PID"
        stop_pid "$HTTPD_PID"
        rm -rf "$T"
}
trap cleanup EXIT

. "$(dirname "$0")/../lib/helpers.sh"
lo_guard "$T"     # what this test starts does not outlive it, even on SIGKILL

# --- the exposition files, served by the fixture server ------------------------

python3 - "$T/routes.json" <<'PY'
import json, sys
m1 = """# TYPE kafka_server_raft_metrics_current_leader gauge
kafka_server_raft_metrics_current_leader 1
kafka_server_raft_metrics_current_epoch 7
kafka_server_raft_metrics_high_watermark 4242
kafka_server_raft_metrics_log_end_offset 4242
kafka_server_raft_metrics_current_state{state="leader"} 1
kafka_server_raft_metrics_current_state{state="follower"} 0
kafka_consumergroup_lag{consumergroup="etl",topic="orders",partition="0"} 120
kafka_consumergroup_lag{consumergroup="etl",topic="orders",partition="1"} 30
kafka_server_replicamanager_underreplicatedpartitions 2
node_filesystem_avail_bytes{mountpoint="/data"} 1610612736
"""
m2 = """kafka_server_raftmetrics_current_leader 1
kafka_server_raftmetrics_current_epoch 7
kafka_server_raftmetrics_high_watermark 4242
kafka_server_raftmetrics_log_end_offset 4200
kafka_server_raftmetrics_current_state{current_state="follower"} 1
"""
h = {"Content-Type": "text/plain; version=0.0.4"}
json.dump({"routes": [{"path": "/m1", "body": m1, "headers": h},
                      {"path": "/m2", "body": m2, "headers": h}]}, open(sys.argv[1], "w"))
PY

python3 "$S/tests/lib/fixture_httpd.py" --routes "$T/routes.json" --log "$T/requests.log" \
        --port-file "$T/port" </dev/null >>"$T/httpd.log" 2>&1 &
HTTPD_PID=$!
deadline=$(($(now_ms) + 10000))
until [ -s "$T/port" ]; do
        [ "$(now_ms)" -ge "$deadline" ] && { bad "fixture server did not start"; exit 1; }
        sleep 0.05
done
EXPO=127.0.0.1:$(cat "$T/port")
ok "exposition files on http://$EXPO/m1 and /m2"

# --- Prometheus ----------------------------------------------------------------

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
cat >"$T/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: kafka-c1
    metrics_path: /m1
    static_configs:
      - targets: ['$EXPO']
        labels: {node_id: '1'}
  - job_name: kafka-c2
    metrics_path: /m2
    static_configs:
      - targets: ['$EXPO']
        labels: {node_id: '2'}
EOF
"$PROM" --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/data" \
        --web.listen-address="127.0.0.1:$PORT" --log.level=warn >>"$T/prometheus.log" 2>&1 &
PROM_PID=$!

# Polls an instant query until its result is not empty.
prom_wait() {
        local q=$1 deadline=$(($(now_ms) + ${2:-30000}))
        while :; do
                if curl -sf --data-urlencode "query=$q" "$URL/api/v1/query" 2>/dev/null |
                        grep -q '"result":\[{'; then
                        return 0
                fi
                [ "$(now_ms)" -ge "$deadline" ] && return 1
                kill -0 "$PROM_PID" 2>/dev/null || return 1
                sleep 0.1
        done
}

deadline=$(($(now_ms) + 20000))
until curl -sf "$URL/-/ready" >/dev/null 2>&1; do
        if [ "$(now_ms)" -ge "$deadline" ] || ! kill -0 "$PROM_PID" 2>/dev/null; then
                bad "Prometheus did not start"
                cat "$T/prometheus.log"
                exit 1
        fi
        sleep 0.1
done
ok "Prometheus $("$PROM" --version 2>&1 | sed -n '1s/^prometheus, version \([^ ]*\).*/\1/p') ready on $URL"
# Targets are applied on a 5 s tick: wait for both scrapes, and for a few
# samples so query_range has history to backfill.
if prom_wait 'up{job="kafka-c1"} == 1' && prom_wait 'up{job="kafka-c2"} == 1' &&
   prom_wait 'count_over_time(kafka_server_replicamanager_underreplicatedpartitions[1m]) >= 3'; then
        ok "both targets scraped"
else
        bad "Prometheus never scraped the exposition files"
        cat "$T/prometheus.log"
        exit 1
fi

# --- the console ---------------------------------------------------------------

cat >"$T/cfg.yaml" <<EOF
environment: tui-prom
refresh: 1s
sources:
  - name: metrics
    kind: prometheus
    url: $URL
    interval: 1s
    timeout: 2s
    queries:
      - name: lag_total
        expr: sum(kafka_consumergroup_lag)
        warn: 100
        crit: 1000
      - {name: lag_by_partition, expr: "sum by (partition) (kafka_consumergroup_lag)"}
      - {name: urp, expr: "sum(kafka_server_replicamanager_underreplicatedpartitions)", warn: 1, crit: 2}
      - {name: data_bytes, expr: "min(node_filesystem_avail_bytes)", unit: bytes, warn: 1GiB, crit: 2GiB}
      - {name: lag_seconds, expr: "sum(kafka_consumergroup_lag) / 100", unit: s, warn: 500ms, crit: 1s}
      - {name: broken, expr: "sum(rate(kafka_consumergroup_lag[1m])"}
EOF
printf 'set -g default-terminal screen\nset -g status off\n' >"$T/tmux.conf"
cat >"$T/run.sh" <<EOF
#!/bin/sh
"$B" "\$@"
echo \$? >"$T/rc"
echo "lambdaops exited"
exec sleep 600
EOF

"${TM[@]}" new-session -d -s main -x 150 -y 45 \
        "env LANG=C.UTF-8 LC_ALL=C.UTF-8 sh $T/run.sh -c $T/cfg.yaml --view metrics"

wait_for main "tab bar has the Metrics pane" 'Metrics'
wait_for main "source line: degraded by the broken query" 'degraded: query broken: bad_data: ' 15000
wait_for main "quorum block: leader, epoch, high watermark" \
        'KRaft quorum \(raft metrics\): leader 1 +epoch 7 +high watermark 4242'
wait_for main "voter 1: the leader, lag 0" 'voter +id 1 +leader +leo 4242 +lag 0 +kafka-c1/'
wait_for main "voter 2: the follower, 42 behind" 'voter +id 2 +follower +leo 4200 +lag 42 +kafka-c2/'
wait_for main "lag_total 150, warn" 'metrics +lag_total +150 +count .* warn'
wait_for main "lag by partition 0: 120" 'lag_by_partition\{partition="0"\} +120 +count'
wait_for main "lag by partition 1: 30" 'lag_by_partition\{partition="1"\} +30 +count'
wait_for main "urp 2, crit" 'metrics +urp +2 +count .* crit'
wait_for main "data_bytes 1.5 GiB in bytes (a size warn), warn" 'data_bytes +1\.5 GiB +bytes .* warn'
wait_for main "lag_seconds 1.5 s (a duration crit), crit" 'lag_seconds +1\.5s +s .* crit'
wait_for main "broken query shows bad_data alone" 'broken +- +count .*bad_data: '
screen main >"$T/pane.txt"
echo "---- Metrics pane (capture-pane) ----"
sed 's/[[:space:]]*$//' "$T/pane.txt"
echo "-------------------------------------"

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
