#!/usr/bin/env bash
#
# tui.sh: drives the real lambdaops console in tmux against a real
# PostgreSQL and reads the screen with capture-pane.
#
# The server comes from scripts/pglib.sh with the CDC setup: publication
# dbz_publication and two logical slots, debezium_orders kept active by
# pg_recvlogical and analytics_stale left inactive with WAL behind it. Then:
#
#   run 1 (UTF-8, colours): header shows the environment and the overall
#     state, Overview shows the source ok; `2` opens CDC with both slots
#     (the inactive one first: it lags more) and the server line; Enter
#     opens the slot page (fields, publications), Esc leaves it; `1` then
#     `:cdc` switches by command; `/debez` filters to one slot, Esc clears;
#     an unknown command flashes an error; `?` shows the generated help;
#     a 10x5 window shows only "terminal too small", and the screen comes
#     back when the window grows again; `q` exits 0 with the terminal
#     restored (alternate screen left, stty sane).
#     `r` flashes "refreshing"; mouse clicks switch tabs and open a row.
#   run 2 (NO_COLOR=1, LANG=C, --view cdc, a theme with bad entries): opens
#     on CDC with ASCII glyphs and no colour escapes, the theme warning in
#     the status line; SIGTERM exits 143 with the terminal restored.
#   --view with an unknown name exits 64 and lists the valid names.
#
# The CDC screen of run 1 is printed, so CI logs show what a person sees.
# Waits poll capture-pane against a deadline; nothing sleeps blindly. The
# tmux server has its own socket and is killed at exit; the PostgreSQL
# server and pg_recvlogical are stopped by PID.
#
# Env: LO_BINARY (the lambdaops binary), LO_SOURCE_DIR (the source tree).

set -u

B=${LO_BINARY:?set LO_BINARY to the lambdaops binary}
SRC=${LO_SOURCE_DIR:?set LO_SOURCE_DIR to the source tree}
T=$(mktemp -d /tmp/lo-tui.XXXXXX)
SOCK="lo-tui-$$"
TM=(tmux -L "$SOCK" -f "$T/tmux.conf")
fails=0
pids=()
pg_started=0

# shellcheck source=../../scripts/pglib.sh
. "$SRC/scripts/pglib.sh"

cleanup() {
        local p
        "${TM[@]}" kill-server 2>/dev/null
        for p in "${pids[@]}"; do
                kill "$p" 2>/dev/null
        done
        if [ "$pg_started" = 1 ]; then
                lo_pg_stop "$T"
        fi
        rm -rf "$T"
}
trap cleanup EXIT
python3 "$SRC/tests/lib/proc_guard.py" --pid $$ --list "$T/.lo-guard" d "$T" r "$T" </dev/null >/dev/null 2>&1  # nothing started here outlives the test, even on SIGKILL

ok()  { printf 'ok   %s\n' "$1"; }
bad() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }
now_ms() { date +%s%3N; }

# screen SESSION [-e]: the visible pane text.
screen() {
        "${TM[@]}" capture-pane -p ${2:+"$2"} -t "$1" 2>/dev/null
}

# wait_for SESSION WHAT REGEX [TIMEOUT_MS]: polls the screen until REGEX
# (grep -E) matches, or fails with the last screen.
wait_for() {
        local s=$1 what=$2 re=$3 deadline=$(($(now_ms) + ${4:-60000}))
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

# wait_gone SESSION WHAT REGEX [TIMEOUT_MS]: polls until REGEX is absent.
wait_gone() {
        local s=$1 what=$2 re=$3 deadline=$(($(now_ms) + ${4:-60000}))
        while :; do
                screen "$s" >"$T/screen"
                if ! grep -qE -- "$re" "$T/screen"; then
                        ok "$what"
                        return 0
                fi
                if [ "$(now_ms)" -ge "$deadline" ]; then
                        bad "$what (/$re/ still on screen)"
                        sed 's/^/    | /' "$T/screen"
                        return 1
                fi
                sleep 0.1
        done
}

# wait_file FILE [TIMEOUT_MS]
wait_file() {
        local deadline=$(($(now_ms) + ${2:-60000}))
        while [ ! -s "$1" ]; do
                [ "$(now_ms)" -ge "$deadline" ] && return 1
                sleep 0.1
        done
        return 0
}

keys() {
        local s=$1
        shift
        "${TM[@]}" send-keys -t "$s" "$@"
}

# The PID of lambdaops inside a session (the child of the pane's sh).
app_pid() {
        local sh
        sh=$("${TM[@]}" display-message -p -t "$1" '#{pane_pid}')
        ps -o pid= --ppid "$sh" | tr -d ' ' | head -n 1
}

# The terminal is back to normal after the console quits: the alternate
# screen is gone (the runner's line shows, the console does not) and the
# tty is in canonical mode with echo.
check_restored() {
        local s=$1 name=$2
        wait_for "$s" "$name: back on the shell's screen" '^lambdaops exited' 5000
        if grep -qE 'LAG HISTORY|KEY METRIC|lambdaops [|│]' "$T/screen"; then
                bad "$name: console still on screen after exit"
        else
                ok "$name: console gone from the screen"
        fi
        if grep -qw -- '-icanon' "$T/stty.$name" || grep -qw -- '-echo' "$T/stty.$name" ||
           ! grep -qw icanon "$T/stty.$name"; then
                bad "$name: tty not restored: $(grep -o -- '-*icanon\|-*echo ' "$T/stty.$name" | tr '\n' ' ')"
        else
                ok "$name: tty restored (icanon echo)"
        fi
}

# TERM=screen: its kmous is the X10 mouse encoding that click() sends.
printf 'set -g default-terminal screen\nset -g status off\n' >"$T/tmux.conf"

# click SESSION X Y: a left press and release at 0-based cell (X, Y), as
# the terminal would send them.
click() {
        local s=$1 x y
        x=$(printf '\\%03o' $((33 + $2)))
        y=$(printf '\\%03o' $((33 + $3)))
        "${TM[@]}" send-keys -t "$s" -l "$(printf "\033[M %b%b\033[M#%b%b" "$x" "$y" "$x" "$y")"
}

# --- --view with an unknown name: no terminal needed ------------------------

cat >"$T/cfg.yaml" <<EOF
environment: tui-test
sources: []
EOF
timeout 10 "$B" -c "$T/cfg.yaml" --view nope >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" = 64 ] && grep -q "unknown view 'nope'" "$T/err" && grep -q 'overview, cdc' "$T/err"; then
        ok "--view nope exits 64 and lists the views"
else
        bad "--view nope: rc=$rc, stderr: $(cat "$T/err")"
fi

# --- a real PostgreSQL with the CDC setup ------------------------------------

port=$(lo_pg_start "$T") || { bad "PostgreSQL did not start"; exit 1; }
pg_started=1
lo_pg_setup_cdc "$T" "$port" || { bad "CDC setup failed"; exit 1; }
pids+=("$(lo_pg_recvlogical "$T" "$port" debezium_orders)")
# WAL behind both slots; the active one confirms it within a second or two.
lo_pg_psql "$T" "$port" \
        "INSERT INTO orders (customer, amount) SELECT g, g FROM generate_series(1, 2000) g" ||
        bad "inserting rows"

cat >"$T/cfg.yaml" <<EOF
environment: tui-test
refresh: 1s
theme: default
sources:
  - name: orders-db
    kind: postgres
    dsn: "host=127.0.0.1 port=$port dbname=postgres user=postgres"
    interval: 1s
    timeout: 2s
EOF

# The runner: the console, then its exit code and the tty state afterwards.
cat >"$T/run.sh" <<EOF
#!/bin/sh
"$B" "\$@"
echo \$? >"$T/rc.\$LO_RUN"
stty -a >"$T/stty.\$LO_RUN" 2>&1
echo "lambdaops exited"
exec sleep 600
EOF

"${TM[@]}" new-session -d -s main -x 120 -y 40 \
        "env LO_RUN=main LANG=C.UTF-8 LC_ALL=C.UTF-8 sh $T/run.sh -c $T/cfg.yaml"

# --- run 1: UTF-8 and colours -------------------------------------------------

wait_for main "header shows app and environment" '^ lambdaops │ tui-test'
wait_for main "overview lists the source" '^ orders-db +postgres'
wait_for main "source reaches ok" '^ orders-db +postgres +ok '
wait_for main "overall state in the header" '● (OK|WARN|CRIT|UNKNOWN)'
wait_for main "tab bar" '1 Overview +2 CDC'
wait_for main "footer hints come from the key table" 'q quit +\? help'

keys main 2
wait_for main "CDC pane: server line" '^ orders-db +age [0-9]+s +PostgreSQL [0-9.]+ +wal_level logical'
wait_for main "CDC pane: both slots" 'analytics_stale'
wait_for main "CDC pane: debezium_orders" 'debezium_orders'
# Sorted by lag: the inactive slot first once pg_recvlogical has confirmed.
deadline=$(($(now_ms) + 15000))
while :; do
        screen main >"$T/screen"
        first=$(grep -o -E 'analytics_stale|debezium_orders' "$T/screen" | head -n 1)
        if [ "$first" = analytics_stale ]; then
                ok "CDC pane: the inactive slot (larger lag) sorts first"
                break
        fi
        if [ "$(now_ms)" -ge "$deadline" ]; then
                bad "CDC pane: slot order"
                sed 's/^/    | /' "$T/screen"
                break
        fi
        sleep 0.2
done
screen main >"$T/cdc.txt"
echo "---- CDC pane (capture-pane) ----"
sed 's/[[:space:]]*$//' "$T/cdc.txt"
echo "---------------------------------"

# The selection follows its row when rows re-sort, so go to the top first.
keys main g Enter
wait_for main "Enter opens the slot page" '^Slot analytics_stale +on orders-db'
wait_for main "slot page: fields" 'confirmed_flush_lsn'
wait_for main "slot page: publications" 'dbz_publication +1 table'
wait_for main "slot page: chart title" 'Lag history'
keys main Escape
wait_for main "Esc leaves the slot page" 'LAG HISTORY'

keys main 1
wait_for main "1 goes back to Overview" 'KEY METRIC'
keys main : c d c Enter
wait_for main ":cdc switches to CDC" 'LAG HISTORY'

keys main / d e b e z
wait_for main "/ shows the filter being typed" '^/debez'
keys main Enter
wait_for main "filter keeps the match" 'debezium_orders'
wait_gone main "filter hides the other slot" 'analytics_stale'
keys main Escape
wait_for main "Esc clears the filter" 'analytics_stale'

keys main : n o p e Enter
wait_for main "unknown command flashes an error" 'unknown command :nope'

keys main r
wait_for main "r refreshes the pane's sources" 'refreshing 1 source'

# Mouse: a click on a tab switches; a click on a row selects it, a second
# click opens it.
click main 4 1
wait_for main "click on tab 1: Overview" 'KEY METRIC'
click main 16 1
wait_for main "click on tab 2: CDC" 'LAG HISTORY'
row=$(grep -n 'debezium_orders' "$T/screen" | head -n 1 | cut -d: -f1)
click main 20 $((row - 1))
click main 20 $((row - 1))
wait_for main "click, click on a row opens it" '^Slot debezium_orders +on orders-db'
keys main Escape
wait_for main "back from the clicked row" 'LAG HISTORY'

keys main '?'
wait_for main "? shows help" 'Global keys'
wait_for main "help lists pane keys" 'CDC pane'
wait_for main "help lists commands" ':overview +switch to pane 1'
keys main Escape
wait_for main "Esc closes help" 'LAG HISTORY'

"${TM[@]}" resize-window -t main -x 10 -y 5
wait_for main "10x5: too-small message" 'too small'
wait_for main "10x5: says the size" '10x5'
"${TM[@]}" resize-window -t main -x 120 -y 40
wait_for main "grown back: the console returns" '^ lambdaops │ tui-test'
wait_for main "grown back: CDC again" 'LAG HISTORY'

keys main q
if wait_file "$T/rc.main" 5000 && [ "$(cat "$T/rc.main")" = 0 ]; then
        ok "q exits 0"
else
        bad "q: exit status $(cat "$T/rc.main" 2>/dev/null || echo none)"
fi
check_restored main main

# --- run 2: NO_COLOR, ASCII, --view cdc, SIGTERM ------------------------------

printf 'warn: "fg=purple"\nwran: bold\n' >"$T/bad-theme.yaml"
"${TM[@]}" new-session -d -s plain -x 120 -y 40 \
        "env LO_RUN=plain NO_COLOR=1 LANG=C LC_ALL=C sh $T/run.sh -c $T/cfg.yaml --view cdc --theme $T/bad-theme.yaml"
wait_for plain "--view cdc opens on CDC" 'LAG HISTORY'
wait_for plain "a bad theme is reported in the status line" "theme: .*bad-theme.yaml:1:7: role 'warn': bad colour 'purple'"
wait_for plain "ASCII header separator" '^ lambdaops \| tui-test'
wait_for plain "slots listed in ASCII mode" 'debezium_orders'
screen plain >"$T/plain.txt"
if grep -q '[│●…↑↓▁▂▃▄▅▆▇█]' "$T/plain.txt"; then
        bad "LANG=C: UTF-8 glyphs on screen"
else
        ok "LANG=C: ASCII only"
fi
screen plain -e >"$T/plain-e.txt"
if grep -qE $'\e\\[([0-9;]*;)?(3[0-7]|4[0-7]|9[0-7]|10[0-7]|38;5;[0-9]+|48;5;[0-9]+)(;[0-9;]*)?m' "$T/plain-e.txt"; then
        bad "NO_COLOR: colour escapes on screen"
else
        ok "NO_COLOR: attributes only, no colours"
fi
pid=$(app_pid plain)
if [ -n "$pid" ]; then
        kill -TERM "$pid"
        if wait_file "$T/rc.plain" 5000 && [ "$(cat "$T/rc.plain")" = 143 ]; then
                ok "SIGTERM exits 143 (128 + 15)"
        else
                bad "SIGTERM: exit status $(cat "$T/rc.plain" 2>/dev/null || echo none)"
        fi
        check_restored plain plain
else
        bad "could not find the console's PID"
fi

if [ "$fails" -ne 0 ]; then
        echo "$fails check(s) failed"
        exit 1
fi
echo "all TUI checks passed"
