#!/usr/bin/env bash
#
# tui_kafka.sh: drives the real console's Kafka pane in tmux against a
# librdkafka mock cluster (bench_kafka --serve from the same build: 3
# brokers, 5 topics x 3 partitions, groups bench-g00/bench-g01 with known
# commits) and reads the screen with capture-pane. The mock cluster has no
# DescribeQuorum, so the pane must say why.
#
#   - the header line: brokers 3/3 up, "quorum unavailable: <reason>", the
#     worst group;
#   - groups (default): bench-g00 with its exact lag (20: per topic
#     1 + 1 + 2 over 5 topics) and 15 partitions;
#   - Enter on bench-g00: its partitions with committed, high watermark,
#     lag; Esc back;
#   - `v`: brokers + quorum: three brokers up, the quorum-unavailable line;
#   - `v`: topics: bench-000 with 3 partitions, RF 3;
#   - `q` exits 0.
# The pane is printed so CI logs show what a person sees. Everything we
# start is stopped by its PID.
#
# Env: LO_BINARY (the lambdaops binary; bench_kafka is found next to it in
# bench/), LO_SOURCE_DIR (the source tree).

set -u

B=${LO_BINARY:?set LO_BINARY to the lambdaops binary}
BENCH=$(dirname "$B")/bench/bench_kafka
T=$(mktemp -d /tmp/lo-tui-kafka.XXXXXX)
SOCK="lo-tui-kafka-$$"
TM=(tmux -L "$SOCK" -f "$T/tmux.conf")
fails=0
MOCK_PID=

if [ ! -x "$BENCH" ]; then
        echo "skip: $BENCH is not built"
        exit 0
fi

cleanup() {
        "${TM[@]}" kill-server 2>/dev/null
        if [ -n "$MOCK_PID" ]; then
                kill -TERM "$MOCK_PID" 2>/dev/null
                wait "$MOCK_PID" 2>/dev/null
        fi
        rm -rf "$T"
}
trap cleanup EXIT

WAIT_MS=15000
. "$(dirname "$0")/../lib/helpers.sh"
lo_guard "$T"     # what this test starts does not outlive it, even on SIGKILL

# --- the mock cluster -----------------------------------------------------------

"$BENCH" --serve -t 5 -p 3 -g 2 >"$T/bootstrap" 2>"$T/mock.log" &
MOCK_PID=$!
deadline=$(($(now_ms) + 30000))
until [ -s "$T/bootstrap" ]; do
        if ! kill -0 "$MOCK_PID" 2>/dev/null || [ "$(now_ms)" -ge "$deadline" ]; then
                bad "the mock cluster did not start"
                cat "$T/mock.log"
                exit 1
        fi
        sleep 0.05
done
BS=$(head -n1 "$T/bootstrap")
ok "mock cluster on $BS"

cat >"$T/cfg.yaml" <<EOF
environment: tui-kafka
refresh: 1s
sources:
  - name: mock
    kind: kafka
    bootstrap: "$BS"
    groups: [bench-g00, bench-g01]
    interval: 1s
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

"${TM[@]}" new-session -d -s main -x 160 -y 45 \
        "env LANG=C.UTF-8 LC_ALL=C.UTF-8 sh $T/run.sh -c $T/cfg.yaml"

wait_for main "tab bar has the Kafka pane" 'Kafka'
keys main : k a f k a Enter
wait_for main "header: brokers 3/3 up" '^ mock .*brokers 3/3 up'
wait_for main "header: quorum unavailable with a reason" '^ mock .*quorum unavailable: [^ ]+'
wait_for main "header: the worst group" 'worst group bench-g0[01] [a-z]+'
wait_for main "groups: bench-g00 with lag 20 and 15 partitions" \
        '^ mock +bench-g00 +[A-Za-z-]+ +[a-z() ]+ +20 .* 15( |$)'
screen main >"$T/pane.txt"
echo "---- Kafka pane, groups (capture-pane) ----"
sed 's/[[:space:]]*$//' "$T/pane.txt"
echo "--------------------------------------------"

keys main /
keys main b e n c h - g 0 0 Enter
wait_for main "/ filter keeps bench-g00 only" '^ mock +bench-g00 '
if grep -q 'bench-g01' <(screen main | sed -n '/GROUP/,$p'); then
        bad "filter: bench-g01 still in the table"
else
        ok "filter: bench-g01 gone"
fi
keys main Enter
wait_for main "Enter: the group page" '^ ?Group bench-g00 +on mock'
wait_for main "partition line: bench-000 p2 committed 1, high watermark 3, lag 2" \
        '^ +bench-000 +2 +1 +3 +2 '
screen main >"$T/page.txt"
echo "---- Kafka pane, group page (capture-pane) ----"
sed 's/[[:space:]]*$//' "$T/page.txt"
echo "------------------------------------------------"
keys main Escape
wait_for main "Esc back to the groups" 'groups by lag'
keys main Escape

keys main v
wait_for main "v: brokers + quorum" 'brokers \+ quorum \(v cycles'
wait_for main "three brokers up" '^ mock +3 +[^ ]+:[0-9]+ .* up '
wait_for main "quorum block: unavailable with a reason" '^ +mock: quorum unavailable: '
screen main >"$T/brokers.txt"
echo "---- Kafka pane, brokers + quorum (capture-pane) ----"
sed 's/[[:space:]]*$//' "$T/brokers.txt"
echo "------------------------------------------------------"
keys main v
wait_for main "v: topics: bench-000, 3 partitions, RF 3" '^ mock +bench-000 +3 +3 +0 +0 '
keys main v
wait_for main "v: back to groups" 'groups by lag'

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
