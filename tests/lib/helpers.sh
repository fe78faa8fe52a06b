# tests/lib/helpers.sh: shared by the shell tests (the tmux-driven
# tests/tui/tui_*.sh and others); sourced, not run (tests/lib/ holds no
# tests). The caller sets, before use:
#   TM=(tmux -L SOCKET ...)   the tmux command for its private server
#   T=DIR                     its temp dir (screens are written there)
#   fails=0                   the failure count that bad() increments
#   WAIT_MS                   optional: the default deadline of wait_for and
#                             wait_cmd (60000: generous, so that a loaded
#                             machine is not a failure; a match returns at once)

ok()  { printf 'ok   %s\n' "$1"; }
bad() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }
now_ms() { date +%s%3N; }
screen() { "${TM[@]}" capture-pane -p -t "$1" 2>/dev/null; }

# wait_for SESSION WHAT REGEX [MS]: polls the screen until REGEX shows up,
# printing the screen when the deadline passes.
wait_for() {
        local s=$1 what=$2 re=$3 deadline=$(($(now_ms) + ${4:-${WAIT_MS:-60000}}))
        while :; do
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

# wait_cmd WHAT CMD...: polls until CMD succeeds, WAIT_MS (60 s) at most.
wait_cmd() {
        local what=$1 deadline=$(($(now_ms) + ${WAIT_MS:-60000}))
        shift
        while :; do
                if "$@" >/dev/null 2>&1; then
                        ok "$what"
                        return 0
                fi
                if [ "$(now_ms)" -ge "$deadline" ]; then
                        bad "$what"
                        return 1
                fi
                sleep 0.1
        done
}

keys() {
        local s=$1
        shift
        "${TM[@]}" send-keys -t "$s" "$@"
}

# Fixture times ({{now-5m}}, tests/lib/fixture_time.py) are relative to this
# test's start: the fixture servers it starts inherit the one anchor.
export LO_FIXTURE_NOW=${LO_FIXTURE_NOW:-$(date +%s)}

# --- Processes: nothing a test starts may outlive it, however it ends.
# lo_guard DIR: when this shell is gone (exit, signal, even SIGKILL, when no
# trap runs), tests/lib/proc_guard.py kills every process whose command line
# mentions DIR (with its process group), the groups given to lo_spawn and
# lo_track_group, and removes DIR. Call right after mktemp. The guard is
# detached (not in this shell's process tree, stdio on /dev/null).
lo_guard() {
        LO_GUARD_LIST=$1/.lo-guard
        : >"$LO_GUARD_LIST"
        python3 "$(dirname "${BASH_SOURCE[0]}")/proc_guard.py" --pid $$ --list "$LO_GUARD_LIST" \
                d "$1" r "$1" </dev/null >/dev/null 2>&1
}
lo_track_group() { [ -n "${LO_GUARD_LIST:-}" ] && echo "g $1" >>"$LO_GUARD_LIST"; }

# lo_spawn LOG CMD...: starts CMD in the background in its own session and
# process group (setsid; its PID is the group ID, in LO_PID), stdin from
# /dev/null, stdout and stderr appended to LOG (never this test's output,
# which ctest reads through a pipe), registered with the guard.
lo_spawn() {
        local log=$1
        shift
        setsid "$@" </dev/null >>"$log" 2>&1 &
        LO_PID=$!
        lo_track_group "$LO_PID"
}

# lo_stop PID [SIGNAL [MS]]: SIGNAL (TERM) to PID, polls up to MS (5000) for
# it to exit, then SIGKILL to its whole process group; reaps it. Empty PID:
# nothing.
lo_stop() {
        local pid=$1 sig=${2:-TERM} deadline
        [ -n "$pid" ] || return 0
        deadline=$(($(date +%s%3N) + ${3:-5000}))
        kill -CONT -- "-$pid" 2>/dev/null
        kill "-$sig" "$pid" 2>/dev/null
        while kill -0 "$pid" 2>/dev/null && [ "$(date +%s%3N)" -lt "$deadline" ]; do
                sleep 0.05
        done
        kill -KILL -- "-$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        [ -n "${LO_GUARD_LIST:-}" ] && [ -f "$LO_GUARD_LIST" ] && echo "u $pid" >>"$LO_GUARD_LIST"
        return 0
}
