#!/usr/bin/env bash
#
# tui_quit_stalled.sh: the real console in tmux with files that are FIFOs.
# Reading a FIFO blocks until a writer comes; the password used to be read
# that way on a collector thread, which `q` then waited for, so the console
# could not be quit, and a FIFO as the theme hung it before the first frame.
#
# Two runs:
#   run 1, a PostgreSQL source on 127.0.0.1 port 1 (nobody listens; the
#     secret is read before connecting) whose password_file is a FIFO: the
#     Overview shows the source down with the error naming the FIFO, and
#     `q` exits 0, the console gone within 10 s (a generous bound for a
#     loaded machine; shutdown itself is bounded by under a second);
#   run 2, the same with --theme a FIFO (the password file a regular
#     file): the console draws with the default theme, the status line
#     names the FIFO, and `q` exits 0.
#
# Waits poll capture-pane against a deadline; nothing sleeps blindly. The
# tmux server has its own socket and is killed at exit.
#
# Env: LO_BINARY (the lambdaops binary), LO_SOURCE_DIR (the source tree).

set -u

B=${LO_BINARY:?set LO_BINARY to the lambdaops binary}
SRC=${LO_SOURCE_DIR:?set LO_SOURCE_DIR to the source tree}
T=$(mktemp -d /tmp/lo-tui-stall.XXXXXX)
SOCK="lo-tui-stall-$$"
TM=(tmux -L "$SOCK" -f "$T/tmux.conf")
fails=0

cleanup() {
        "${TM[@]}" kill-server 2>/dev/null
        rm -rf "$T"
}
trap cleanup EXIT

# shellcheck source=../lib/helpers.sh
. "$SRC/tests/lib/helpers.sh"
lo_guard "$T"

mkdir -p "$T/home" "$T/xdg"
mkfifo "$T/pw.fifo" "$T/theme.fifo" || { bad "mkfifo"; exit 1; }
cat >"$T/cfg.yaml" <<EOF
environment: stalled
refresh: 1s
sources:
  - name: orders-db
    kind: postgres
    dsn: "host=127.0.0.1 port=1 dbname=postgres user=postgres"
    password_file: $T/pw.fifo
    interval: 1s
    timeout: 1s
EOF
printf 'set -g default-terminal screen\nset -g status off\n' >"$T/tmux.conf"
cat >"$T/run.sh" <<EOF
#!/bin/sh
"$B" "\$@"
echo \$? >"\$LO_RC"
echo "lambdaops exited"
exec sleep 600
EOF

# quit SESSION RCFILE: `q`, then the console must be gone within 10 s.
quit() {
        local deadline
        keys "$1" q
        deadline=$(($(now_ms) + 10000))
        while [ ! -s "$2" ] && [ "$(now_ms)" -lt "$deadline" ]; do sleep 0.1; done
        if [ "$(cat "$2" 2>/dev/null)" = 0 ]; then
                ok "$1: q exits 0"
        else
                bad "$1: q: exit status $(cat "$2" 2>/dev/null || echo none) (running after 10 s?)"
                screen "$1" | sed 's/^/    | /'
        fi
}

# Run 1: the password file is a FIFO.
"${TM[@]}" new-session -d -s pw -x 200 -y 40 \
        "env HOME=$T/home XDG_CONFIG_HOME=$T/xdg LANG=C.UTF-8 LC_ALL=C.UTF-8 LO_RC=$T/rc1 sh $T/run.sh -c $T/cfg.yaml"
wait_for pw "run 1: the console draws (tab bar)" '1 Overview'
wait_for pw "run 1: the source is down with the FIFO named" \
        "orders-db .*secret file $T/pw\\.fifo is a FIFO; only a regular file is read"
quit pw "$T/rc1"

# Run 2: the theme is a FIFO.
sed "s|password_file: .*|password_file: $T/pw.txt|" "$T/cfg.yaml" >"$T/cfg2.yaml"
echo secret >"$T/pw.txt"
"${TM[@]}" new-session -d -s theme -x 200 -y 40 \
        "env HOME=$T/home XDG_CONFIG_HOME=$T/xdg LANG=C.UTF-8 LC_ALL=C.UTF-8 LO_RC=$T/rc2 sh $T/run.sh -c $T/cfg2.yaml --theme $T/theme.fifo"
wait_for theme "run 2: the console draws (tab bar)" '1 Overview'
wait_for theme "run 2: the theme FIFO is reported" \
        "theme $T/theme\\.fifo is a FIFO; only a regular file is read"
quit theme "$T/rc2"

if [ "$fails" -gt 0 ]; then
        echo "$fails check(s) failed"
        exit 1
fi
echo "all checks passed"
