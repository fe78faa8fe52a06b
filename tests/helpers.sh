# tests/helpers.sh: shared by the tmux-driven tests (tests/tui_*.sh); sourced,
# not run (tests/CMakeLists.txt skips it). The caller sets, before use:
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

# Fixture times ({{now-5m}}, tests/fixture_time.py) are relative to this
# test's start: the fixture servers it starts inherit the one anchor.
export LO_FIXTURE_NOW=${LO_FIXTURE_NOW:-$(date +%s)}
