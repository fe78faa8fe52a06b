#!/usr/bin/env bash
#
# bench/idle.sh: CPU and memory of the console while it idles on the
# sandbox (target: <= 1% of one core and <= 20 MB RSS over 60 s at
# 1 s refresh). Runs the real binary in a detached tmux pane (the TUI needs
# a terminal), lets it settle, then reads /proc/PID/stat (utime + stime) at
# the start and end of the window and /proc/PID/status (VmRSS) every
# second. Quits it with `q` at the end. Prints the figures; asserts nothing.
#
#   bench/idle.sh [-b BINARY] [-c CONFIG] [-t SECONDS]    (default 60 s)
#
# Without -c or $LAMBDAOPS_CONFIG it starts the sandbox itself (bench/lib.sh).

set -u
. "$(dirname "$0")/lib.sh"
bench_setup "$@"
set -- "${BENCH_ARGS[@]+"${BENCH_ARGS[@]}"}"
SECS=60
[ "${1:-}" = -t ] && SECS=$2
SETTLE=3
command -v tmux >/dev/null || bench_die "tmux is needed"

SOCK=lo-bench-idle-$$
tmux_() { tmux -L "$SOCK" "$@"; }
cleanup_tmux() { tmux_ kill-server 2>/dev/null; bench_cleanup; }
trap cleanup_tmux EXIT

echo "# binary: $BIN"
echo "# config: $CFG ($(grep -E '^refresh:' "$CFG" || echo 'refresh: default 1s'))"
# A placeholder first, so that remain-on-exit is set before the console
# runs (we want its exit status, and its last screen if it dies).
tmux_ -f /dev/null new-session -d -s idle -x 120 -y 40 "sleep 100000"
tmux_ set-option -g remain-on-exit on >/dev/null
tmux_ respawn-pane -k -t idle "exec '$BIN' -c '$CFG'"
PID=$(tmux_ display-message -p -t idle '#{pane_pid}')
[ -n "$PID" ] && [ -d "/proc/$PID" ] || bench_die "the console did not start"
sleep "$SETTLE"
kill -0 "$PID" 2>/dev/null || bench_die "the console exited: $(tmux_ capture-pane -p -t idle | tail -n 5)"

HZ=$(getconf CLK_TCK)
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# CPU time in ns summed over the threads (schedstat: finer than ticks).
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f\n", s }'; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

t0=$(bench_now_ns)
c0=$(ticks "$PID")
n0=$(cpu_ns "$PID")
max_rss=0
: >"$BENCH_TMP/rss"
for _ in $(seq 1 "$SECS"); do
        sleep 1
        kill -0 "$PID" 2>/dev/null || bench_die "the console exited during the run"
        r=$(rss_kb "$PID")
        echo "$r" >>"$BENCH_TMP/rss"
        [ "$r" -gt "$max_rss" ] && max_rss=$r
done
c1=$(ticks "$PID")
n1=$(cpu_ns "$PID")
t1=$(bench_now_ns)
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$PID/status")
threads=$(awk '/^Threads:/ { print $2 }' "/proc/$PID/status")
total=$(awk '{ print $14 + $15 }' "/proc/$PID/stat")

wall_ms=$(((t1 - t0) / 1000000))
awk -v c=$((c1 - c0)) -v hz="$HZ" -v ms="$wall_ms" -v tot="$total" -v settle="$SETTLE" \
    -v ns="$n0" -v ns1="$n1" 'BEGIN {
        printf "idle CPU over %.1f s: %.3f%% of one core (schedstat, all threads: %.1f ms CPU); ",
               ms / 1000, 100 * (ns1 - ns) / 1e6 / ms, (ns1 - ns) / 1e6
        printf "%.2f%% by /proc stat ticks (%d at %d Hz)\n", 100 * c / hz / (ms / 1000), c, hz
        printf "CPU since start: %.2f s (incl. %d s start-up)\n", tot / hz, settle
}'
printf 'RSS: max %.1f MB during the window, final %.1f MB, peak (VmHWM) %.1f MB; %s threads\n' \
        "$(echo "$max_rss" | awk '{ print $1 / 1024 }')" \
        "$(rss_kb "$PID" | awk '{ print $1 / 1024 }')" \
        "$(echo "$hwm" | awk '{ print $1 / 1024 }')" "$threads"

tmux_ send-keys -t idle q
for _ in $(seq 1 50); do
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.1
done
if kill -0 "$PID" 2>/dev/null; then
        echo "note: the console did not quit on q within 5 s"
else
        echo "# quit with q: $(tmux_ display-message -p -t idle '#{pane_dead_status}' 2>/dev/null || echo '?')"
fi
