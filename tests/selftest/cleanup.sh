#!/usr/bin/env bash
#
# cleanup.sh: no server a test starts outlives the test, however the test
# ends, and none holds the test's output pipe. The C harnesses' fault hook
# (LO_TU_FAULT=KIND:MODE, tests/lib/tu_proc.h) makes an integration test binary
# fail right after a server started; it prints "LO_TU_FAULT KIND pgid=N
# dir=DIR". Each case runs the binary with its output through a FIFO into
# cat (as ctest reads it through a pipe) and then checks, with generous
# deadlines, that cat ends (nothing holds the write end) and that no
# process is left in the server's process group or mentions its temp dir:
#
#   - pg:assert    a cmocka assertion fails after every PostgreSQL start
#                  (in test_it_postgres's group setup: its teardown never
#                  runs; the binary exits normally with failures: the
#                  atexit handler);
#   - pg:abort     abort() (as ASan's abort_on_error does);
#   - pg:hang + SIGTERM, + SIGKILL (ctest's timeout);
#   - pg:hang, a backend SIGSTOPped (it ignores SIGTERM), the postmaster
#     SIGKILLed (backend orphaned), then the test SIGKILLed;
#   - ch, kube, httpd, prom: hang + SIGKILL;
#   - the shell side (tests/lib/helpers.sh): a script with lo_guard and lo_spawn
#     SIGKILLed (no trap runs), and one that exits normally.
#
# Env: LO_BINARY (the lambdaops binary; the test binaries are in tests/
# next to it), LO_SOURCE_DIR (the source tree).

set -u

B=${LO_BINARY:?set LO_BINARY to the lambdaops binary}
SRC=${LO_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
TB=$(dirname "$B")/tests
T=$(mktemp -d /tmp/lo-test-cleanup.XXXXXX)
fails=0
RUN_PID=
CAT_PID=

# shellcheck source=../lib/helpers.sh
. "$SRC/tests/lib/helpers.sh"

cleanup() {
        [ -n "$RUN_PID" ] && kill -KILL "$RUN_PID" 2>/dev/null
        [ -n "$CAT_PID" ] && kill -KILL "$CAT_PID" 2>/dev/null
        rm -rf "$T"
}
trap cleanup EXIT
lo_guard "$T"

DEADLINE_MS=30000

# Non-zombie processes in group $PG, or whose command line mentions $DIR
# (from the environment: an argument would mention the dir itself) or whose
# working directory is in it (PostgreSQL backends), one "PID PGID STATE
# ARGS" line each.
left() {
        python3 - <<'PY'
import os
pg, d, me = int(os.environ["PG"]), os.environ["DIR"], os.getpid()
for n in os.listdir("/proc"):
    if not n.isdigit() or int(n) == me:
        continue
    try:
        stat = open("/proc/%s/stat" % n).read()
        cmd = open("/proc/%s/cmdline" % n, "rb").read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        continue
    try:
        cwd = os.readlink("/proc/%s/cwd" % n)
    except OSError:
        cwd = ""
    f = stat[stat.rindex(")") + 2:].split()
    if f[0] != "Z" and (int(f[2]) == pg or d in cmd or cwd.startswith(d + "/")):
        print(n, f[2], f[0], cmd[:150])
PY
}

# gone WHAT PGID DIR: polls until nothing is left of that server.
gone() {
        local what=$1 deadline=$(($(now_ms) + DEADLINE_MS)) l
        while :; do
                l=$(PG=$2 DIR=$3 left)
                if [ -z "$l" ]; then
                        ok "$what: nothing left of group $2 / $3"
                        return 0
                fi
                if [ "$(now_ms)" -ge "$deadline" ]; then
                        bad "$what: left behind:"
                        printf '%s\n' "$l" | sed 's/^/    | /'
                        # ours to clean up: the processes listed, by PID
                        printf '%s\n' "$l" | while read -r p _; do kill -KILL "$p" 2>/dev/null; done
                        return 1
                fi
                sleep 0.05
        done
}

# start NAME BINARY FAULT: runs the test binary with LO_TU_FAULT=FAULT, its
# stdout and stderr through a FIFO into cat; sets RUN_PID and CAT_PID.
start() {
        local name=$1 bin=$TB/$2
        if [ ! -x "$bin" ]; then
                bad "$name: no test binary $bin"
                return 1
        fi
        mkfifo "$T/$name.fifo"
        cat <"$T/$name.fifo" >"$T/$name.out" &
        CAT_PID=$!
        LO_TU_FAULT=$3 "$bin" >"$T/$name.fifo" 2>&1 &
        RUN_PID=$!
}

# marker NAME KIND: waits for the fault line; sets PGID and SDIR. A test
# that has already ended (the abort case) may have written the line that cat
# has not copied yet: then it waits for cat to reach the end first.
marker() {
        local deadline=$(($(now_ms) + 60000)) line ended=
        while :; do
                line=$(grep -m 1 "^LO_TU_FAULT $2 " "$T/$1.out")
                if [ -n "$line" ]; then
                        PGID=$(sed -n 's/.* pgid=\([0-9]*\) .*/\1/p' <<<"$line")
                        SDIR=$(sed -n 's/.* dir=//p' <<<"$line")
                        [ -n "$PGID" ] && [ -n "$SDIR" ] && return 0
                fi
                if [ -z "$ended" ] && ! kill -0 "$RUN_PID" 2>/dev/null; then
                        # one more look once cat has copied all there was
                        # (or the deadline says something still holds the pipe)
                        while kill -0 "$CAT_PID" 2>/dev/null && [ "$(now_ms)" -lt "$deadline" ]; do
                                sleep 0.05
                        done
                        ended=1
                        continue
                fi
                if [ "$(now_ms)" -ge "$deadline" ] || [ -n "$ended" ]; then
                        bad "$1: no LO_TU_FAULT $2 line (did the server start?)"
                        sed 's/^/    | /' "$T/$1.out" | tail -20
                        return 1
                fi
                sleep 0.05
        done
}

# pipe_closed NAME: cat reaches end of file, i.e. no process holds the
# write end of the test's output any more.
pipe_closed() {
        local deadline=$(($(now_ms) + DEADLINE_MS))
        while kill -0 "$CAT_PID" 2>/dev/null; do
                if [ "$(now_ms)" -ge "$deadline" ]; then
                        bad "$1: the output pipe is still held open"
                        kill -KILL "$CAT_PID" 2>/dev/null
                        wait "$CAT_PID" 2>/dev/null
                        CAT_PID=
                        return 1
                fi
                sleep 0.05
        done
        wait "$CAT_PID" 2>/dev/null
        CAT_PID=
        ok "$1: the output pipe is closed"
}

# finished NAME: the binary ends by itself (deadline), non-zero.
finished() {
        local deadline=$(($(now_ms) + 120000)) st
        while kill -0 "$RUN_PID" 2>/dev/null; do
                if [ "$(now_ms)" -ge "$deadline" ]; then
                        bad "$1: the test binary did not end"
                        kill -KILL "$RUN_PID"
                        break
                fi
                sleep 0.05
        done
        wait "$RUN_PID"
        st=$?
        RUN_PID=
        if [ "$st" -ne 0 ]; then ok "$1: the test binary failed (status $st)"; else
                bad "$1: the test binary passed despite the fault"; fi
}

# killed NAME SIGNAL: sends SIGNAL to the binary and reaps it.
killed() {
        kill "-$2" "$RUN_PID"
        wait "$RUN_PID" 2>/dev/null
        RUN_PID=
}

# --- pg:assert: every test fails right after its server started; the
# binary goes on and exits with failures.
if start pg-assert test_it_postgres pg:assert; then
        marker pg-assert pg
        finished pg-assert
        pipe_closed pg-assert
        n=0
        while read -r _ _ pg dir; do
                n=$((n + 1))
                gone "pg-assert #$n" "${pg#pgid=}" "${dir#dir=}"
                [ -e "${dir#dir=}" ] && bad "pg-assert #$n: ${dir#dir=} not removed"
        done < <(grep '^LO_TU_FAULT pg ' "$T/pg-assert.out")
        if [ "$n" -ge 1 ] && [ "$(grep -c 'LO_TU_FAULT pg:assert' "$T/pg-assert.out")" = "$n" ]; then
                ok "pg-assert: $n server start(s), each followed by a failed assertion"
        else
                bad "pg-assert: expected a failed assertion after each server start"
                sed 's/^/    | /' "$T/pg-assert.out" | tail -20
        fi
fi

# --- pg:abort
if start pg-abort test_it_postgres pg:abort && marker pg-abort pg; then
        finished pg-abort
        pipe_closed pg-abort
        gone pg-abort "$PGID" "$SDIR"
fi

# --- pg:hang, then SIGTERM / SIGKILL as a timeout would
for sig in TERM KILL; do
        if start "pg-$sig" test_it_postgres pg:hang && marker "pg-$sig" pg; then
                killed "pg-$sig" "$sig"
                pipe_closed "pg-$sig"
                gone "pg-$sig" "$PGID" "$SDIR"
        fi
done

# --- the incident: a backend that ignores SIGTERM outlives its postmaster
if start pg-orphan test_it_postgres pg:hang && marker pg-orphan pg; then
        PGBIN=/usr/lib/postgresql/15/bin
        PGPORT=$(sed -n 4p "$SDIR/pg/db/postmaster.pid")
        export PGPORT
        "$PGBIN/psql" -X -h "$SDIR/pg" -U postgres -d postgres -Atqc 'SELECT pg_sleep(600)' \
                </dev/null >"$T/psql.out" 2>&1 &
        PSQL=$!
        BE=
        deadline=$(($(now_ms) + 30000))
        while [ -z "$BE" ] && [ "$(now_ms)" -lt "$deadline" ]; do
                BE=$("$PGBIN/psql" -X -h "$SDIR/pg" -U postgres -d postgres -Atqc \
                        "SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(600)%'" 2>/dev/null)
                [ -n "$BE" ] || sleep 0.05
        done
        # A backend is a session leader of its own, in the data dir.
        if [ -n "$BE" ] && [ "$(readlink "/proc/$BE/cwd")" = "$SDIR/pg/db" ]; then
                ok "pg-orphan: backend $BE runs in the data dir"
                kill -STOP "$BE"
                kill -KILL "$PGID"      # the postmaster
                kill -KILL "$RUN_PID"
                wait "$RUN_PID" 2>/dev/null
                RUN_PID=
                pipe_closed pg-orphan
                gone pg-orphan "$PGID" "$SDIR"
                case $(ps -o stat= -p "$BE") in
                '' | Z*) ok "pg-orphan: backend $BE is gone" ;;
                *) bad "pg-orphan: backend $BE is still there" ;;
                esac
        else
                bad "pg-orphan: no backend for the session (got '$BE')"
                killed pg-orphan KILL
                pipe_closed pg-orphan
        fi
        kill -KILL "$PSQL" 2>/dev/null
        wait "$PSQL" 2>/dev/null
fi

# --- the other harnesses: hang + SIGKILL
hang_kill() {
        local name=$1 bin=$2 kind=$3
        if start "$name" "$bin" "$kind:hang" && marker "$name" "$kind"; then
                killed "$name" KILL
                pipe_closed "$name"
                gone "$name" "$PGID" "$SDIR"
        fi
}
if command -v clickhouse-server >/dev/null 2>&1; then
        hang_kill ch-kill test_it_clickhouse ch
else
        echo "skip: clickhouse-server is not installed"
fi
hang_kill kube-kill test_it_kube kube
hang_kill httpd-kill test_it_airflow httpd
if [ -x /usr/bin/prometheus ]; then
        hang_kill prom-kill test_it_prometheus prom
else
        echo "skip: prometheus is not installed"
fi

# --- shell tests: lo_guard + lo_spawn in a script that is SIGKILLed (no
# trap runs) or that ends normally with its trap.
cat >"$T/sh-test.sh" <<'EOF'
set -u
. "$1/tests/lib/helpers.sh"
T=$(mktemp -d /tmp/lo-test-cleanup-sh.XXXXXX)
trap 'lo_stop "$LO_PID"; rm -rf "$T"' EXIT
lo_guard "$T"
: >"$T/routes.json"
# the server with a child in its group that does not mention T
lo_spawn "$T/server.log" bash -c 'sleep 600 & exec python3 "$@"' _ "$1/tests/lib/fixture_httpd.py" \
        --routes "$T/routes.json" --log "$T/requests.log" --port-file "$T/port"
setsid_pid=$LO_PID
echo "started pgid=$setsid_pid dir=$T"
[ "$2" = hang ] && exec sleep 600
EOF
for mode in hang exit; do
        name=sh-$mode
        mkfifo "$T/$name.fifo"
        cat <"$T/$name.fifo" >"$T/$name.out" &
        CAT_PID=$!
        bash "$T/sh-test.sh" "$SRC" "$mode" >"$T/$name.fifo" 2>&1 &
        RUN_PID=$!
        deadline=$(($(now_ms) + 30000))
        line=
        while [ -z "$line" ] && [ "$(now_ms)" -lt "$deadline" ]; do
                line=$(grep -m 1 '^started ' "$T/$name.out")
                [ -n "$line" ] || sleep 0.05
        done
        PGID=$(sed -n 's/.* pgid=\([0-9]*\) .*/\1/p' <<<"$line")
        SDIR=$(sed -n 's/.* dir=//p' <<<"$line")
        if [ -z "$PGID" ] || [ -z "$SDIR" ]; then
                bad "$name: the script did not start its server"
                sed 's/^/    | /' "$T/$name.out"
                killed "$name" KILL
                continue
        fi
        if [ "$mode" = hang ]; then
                killed "$name" KILL
        else
                wait "$RUN_PID"
                RUN_PID=
        fi
        pipe_closed "$name"
        gone "$name" "$PGID" "$SDIR"
        if [ -e "$SDIR" ]; then bad "$name: $SDIR not removed"; else ok "$name: its temp dir is removed"; fi
done

if [ "$fails" -eq 0 ]; then
        echo "cleanup: all checks passed"
        exit 0
fi
echo "cleanup: $fails check(s) failed"
exit 1
