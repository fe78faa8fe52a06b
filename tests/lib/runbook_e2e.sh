# tests/lib/runbook_e2e.sh: what the end-to-end tests of the shipped
# runbooks (tests/integration/runbook_*.sh) share; sourced, not run.
#
#   rbe_init NAME         the temp dir $T (removed at exit), ok/bad/now_ms,
#                         cli_helpers (run/expect/has/json), HOME and
#                         XDG_* inside $T, USER=tester, $RUNS (the ledger
#                         directory), and the process guard; cd "$T".
#                         Sets fails=0 and the array pids (stopped at exit);
#                         a test may define rbe_cleanup_hook (run first at
#                         exit, e.g. to stop PostgreSQL).
#   rbe_httpd NAME ROUTES fixture_httpd.py on a free loopback port, its routes
#                         in the file ROUTES (re-read on every request, so a
#                         test changes answers by replacing it atomically:
#                         rbe_routes), its requests in $T/NAME/requests.log.
#   rbe_routes FILE       stdin to FILE, atomically (write then rename).
#   rbe_kube FIXTURES     the fake Kubernetes API server on FIXTURES, its
#                         requests in $T/kube/requests.log, and a kubeconfig
#                         $T/kubeconfig (context "fake", namespace data).
#   rbe_ready             waits for every server started above; then
#                         rbe_url NAME prints http://127.0.0.1:PORT.
#   rbe_shorten IN OUT    a copy of a runbook with every hold duration
#                         (`for:`) set to 3s, so a test does not wait the
#                         shipped 30 s or minutes; nothing else changes.
#   rbe_reqs WHAT LOG EXPR  passes when the Python expression EXPR holds, with
#                         r = the (method, path, query) tuples of LOG.
#   rbe_pty_run OUT ERR CMD...  CMD in the background with a pseudo-terminal
#                         as stdin (the CLI refuses a runbook with manual or
#                         choose steps without one); sets RUN_PID, killed at
#                         exit if still running. rbe_pty_wait waits for it
#                         and sets rc.
#   rbe_pty_feed OUT ERR ANSWERS CMD...  the same, with ANSWERS queued on the
#                         terminal from the start.
#   rbe_pty_answer OUT ERR SCRIPT CMD...  the same, and types answers into the
#                         terminal when prompts appear on CMD's stderr (below).
#   rbe_ledger WHAT RUN EXPR  `runbook log RUN --json` with the config $CFG,
#                         then json WHAT EXPR on it (d = the records).
#   rbe_audit WHAT EXPR   passes when EXPR holds with a = the audit log's
#                         lines ($T/audit.jsonl, parsed).
#   rbe_pty_prompts OUT ERR 'PROMPT=>ANSWER'... -- CMD...  as rbe_pty_answer,
#                         with fixed-string prompts given as arguments.
#   rbe_vals WHAT STEP VALUES  the values of STEP's end record in $T/log.json
#                         (a `runbook log --json`) are exactly VALUES.
#   rbe_kube_reqs WHAT EXPR  rbe_reqs on the fake API server's requests but
#                         the test's own /_fake/ ones.
#   rbe_prom_wait QUERY   polls a Prometheus ($PURL, $PROM_PID) until QUERY
#                         has a result.
#   rbe_done NAME         the exit: 1 when a check failed.

rbe_init() {
        : "${LO_BINARY:?set LO_BINARY to the lambdaops binary}"
        : "${LO_SOURCE_DIR:?set LO_SOURCE_DIR to the source tree}"
        B=$LO_BINARY
        SRC=$LO_SOURCE_DIR
        T=$(mktemp -d "/tmp/lo-$1.XXXXXX")
        fails=0
        pids=()
        RUN_PID=
        rbe_servers=()
        trap rbe_cleanup EXIT
        python3 "$SRC/tests/lib/proc_guard.py" --pid $$ --list "$T/.lo-guard" d "$T" r "$T" \
                </dev/null >/dev/null 2>&1
        # shellcheck source=cli_helpers.sh
        . "$SRC/tests/lib/cli_helpers.sh"
        cd "$T" || exit 1
        mkdir -p home xdg state
        export HOME=$T/home XDG_CONFIG_HOME=$T/xdg XDG_STATE_HOME=$T/state USER=tester
        export LO_FIXTURE_NOW=${LO_FIXTURE_NOW:-$(date +%s)}
        unset LAMBDAOPS_CONFIG NO_COLOR
        RUNS=$T/state/lambdaops/runs
}

ok()     { printf 'ok   %s\n' "$1"; }
bad()    { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }
now_ms() { date +%s%3N; }

rbe_cleanup() {
        local p
        if declare -F rbe_cleanup_hook >/dev/null; then
                rbe_cleanup_hook
        fi
        for p in "${pids[@]}"; do
                kill "$p" 2>/dev/null
        done
        [ -n "${RUN_PID:-}" ] && kill -KILL "$RUN_PID" 2>/dev/null
        rm -rf "$T"
}

rbe_routes() {
        cat >"$1.tmp" && mv "$1.tmp" "$1"
}

rbe_httpd() {
        mkdir -p "$T/$1"
        : >"$T/$1/requests.log"
        python3 "$SRC/tests/lib/fixture_httpd.py" --routes "$2" --log "$T/$1/requests.log" \
                --port-file "$T/$1/port" </dev/null >>"$T/$1/httpd.log" 2>&1 &
        pids+=("$!")
        rbe_servers+=("$1")
}

rbe_kube() {
        mkdir -p "$T/kube"
        : >"$T/kube/requests.log"
        python3 "$SRC/tests/lib/fake_kube.py" --port-file "$T/kube/port" \
                --log "$T/kube/requests.log" --fixtures "$1" </dev/null >"$T/kube/httpd.log" 2>&1 &
        pids+=("$!")
        rbe_servers+=(kube)
}

rbe_url() { printf 'http://127.0.0.1:%s' "$(cat "$T/$1/port")"; }

rbe_ready() {
        local s deadline=$(($(now_ms) + 20000))

        for s in "${rbe_servers[@]}"; do
                until [ -s "$T/$s/port" ]; do
                        if [ "$(now_ms)" -ge "$deadline" ]; then
                                bad "fixture server $s did not start: $(cat "$T/$s/httpd.log")"
                                exit 1
                        fi
                        sleep 0.05
                done
        done
        if [ -s "$T/kube/port" ]; then
                cat >"$T/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: fake
    cluster: {server: "$(rbe_url kube)"}
users:
  - name: fake
    user: {}
contexts:
  - name: fake
    context: {cluster: fake, user: fake, namespace: data}
current-context: fake
EOF
        fi
}

rbe_shorten() {
        sed -E 's/^( *)for: [0-9]+[a-z]+ *(#.*)?$/\1for: 3s/' "$1" >"$2"
        if grep -E '^ *for:' "$2" | grep -Evq '^ *for: 3s$'; then
                bad "the copy's hold durations were not shortened: $(grep -n 'for:' "$2")"
        fi
}

rbe_reqs() {
        local res
        res=$(python3 -c '
import json, sys
r = [(x["method"], x["path"], x["query"]) for x in
     (json.loads(l) for l in open(sys.argv[1]) if l.strip())]
print("yes" if ('"$3"') else "no: " + json.dumps(r)[:1200])
' "$2" 2>&1)
        if [ "$res" = yes ]; then ok "$1"; else bad "$1: $3: $res"; fi
}

rbe_pty_run() {
        local out=$1 err=$2
        shift 2
        rbe_pty_feed "$out" "$err" "" "$@"
}

# rbe_pty_feed OUT ERR ANSWERS CMD...: as rbe_pty_run, with ANSWERS (lines)
# queued on the terminal at once; the CLI reads one line per prompt (a
# terminal in canonical mode gives one line per read).
rbe_pty_feed() {
        local out=$1 err=$2 answers=$3
        shift 3
        python3 -c '
import os, pty, subprocess, sys
m, s = pty.openpty()
os.write(m, sys.argv[3].encode())
with open(sys.argv[1], "wb") as o, open(sys.argv[2], "wb") as e:
    p = subprocess.Popen(sys.argv[4:], stdin=s, stdout=o, stderr=e)
os.close(s)
sys.exit(p.wait())' "$out" "$err" "$answers" timeout 240 "$@" </dev/null &
        RUN_PID=$!
        echo "p $RUN_PID" >>"$T/.lo-guard"
}

# rbe_pty_answer OUT ERR SCRIPT CMD...: CMD in the background with a
# pseudo-terminal as stdin; SCRIPT holds lines "REGEX<TAB>ANSWER[<TAB>GATE]":
# for each in order, once REGEX appears in CMD's stderr (after the previous
# match), ANSWER and a newline are written to the terminal's master, as an
# operator types them; with GATE, the driver first creates GATE.asked and
# waits for the test to create GATE. The master's echo is drained. Sets
# RUN_PID (rbe_pty_wait waits for it).
rbe_pty_answer() {
        local out=$1 err=$2 script=$3
        shift 3
        python3 -c '
import os, pty, re, subprocess, sys, threading, time
out, err, script = sys.argv[1:4]
steps = [l.rstrip("\n").split("\t") for l in open(script) if l.strip()]
m, s = pty.openpty()
with open(out, "wb") as o, open(err, "wb") as e:
    p = subprocess.Popen(sys.argv[4:], stdin=s, stdout=o, stderr=e)
os.close(s)
def drain():
    while True:
        try:
            if not os.read(m, 4096):
                return
        except OSError:
            return
threading.Thread(target=drain, daemon=True).start()
pos = 0
for st in steps:
    rx = re.compile(st[0])
    while True:
        with open(err, "rb") as f:
            hit = rx.search(f.read().decode("utf-8", "replace"), pos)
        if hit:
            pos = hit.end()
            if len(st) > 2:
                open(st[2] + ".asked", "w").close()
                while not os.path.exists(st[2]) and p.poll() is None:
                    time.sleep(0.05)
            os.write(m, (st[1] + "\n").encode())
            break
        if p.poll() is not None:
            sys.exit(p.wait())
        time.sleep(0.05)
sys.exit(p.wait())' "$out" "$err" "$script" timeout 240 "$@" </dev/null &
        RUN_PID=$!
        echo "p $RUN_PID" >>"$T/.lo-guard"
}

rbe_pty_wait() {
        wait "$RUN_PID"
        rc=$?
        RUN_PID=
}

rbe_ledger() {
        expect "$1: runbook log" 0 "$B" -c "$CFG" runbook log "$2" --json
        json "$1" "$3"
}

rbe_audit() {
        local res
        res=$(python3 -c '
import json, sys
a = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("yes" if ('"$2"') else "no: " + json.dumps(a)[:1500])
' "$T/audit.jsonl" 2>&1)
        if [ "$res" = yes ]; then ok "$1"; else bad "$1: $2: $res"; fi
}

# rbe_pty_prompts OUT ERR 'PROMPT=>ANSWER'... -- CMD...: CMD in the background
# with a pseudo-terminal as stdin, as rbe_pty_run; each ANSWER is typed once
# the command's stderr shows PROMPT (a fixed string) after the previous
# prompt answered. Sets RUN_PID; rbe_pty_wait waits for it.
rbe_pty_prompts() {
        local out=$1 err=$2
        shift 2
        python3 -c '
import os, pty, subprocess, sys, threading, time
args = sys.argv[1:]
out, err = args[0], args[1]
k = args.index("--")
pairs = [a.split("=>", 1) for a in args[2:k]]
m, s = pty.openpty()
with open(out, "wb") as o, open(err, "wb") as e:
    p = subprocess.Popen(["timeout", "240"] + args[k + 1:], stdin=s, stdout=o, stderr=e)
os.close(s)
def drain():
    try:
        while os.read(m, 4096):
            pass
    except OSError:
        pass
threading.Thread(target=drain, daemon=True).start()
pos = 0
for prompt, answer in pairs:
    while p.poll() is None:
        text = open(err, "rb").read().decode("utf-8", "replace")
        i = text.find(prompt, pos)
        if i >= 0:
            pos = i + len(prompt)
            os.write(m, answer.encode() + b"\n")
            break
        time.sleep(0.05)
sys.exit(p.wait())' "$out" "$err" "$@" </dev/null &
        RUN_PID=$!
        echo "p $RUN_PID" >>"$T/.lo-guard"
}

# rbe_vals WHAT STEP VALUES: the values the end record of STEP in $T/log.json
# (a `runbook log --json`) shows are exactly VALUES.
rbe_vals() {
        local got
        got=$(python3 -c '
import json, sys
print("\n".join(x.get("values") or "" for x in json.load(open(sys.argv[1]))
                if x.get("phase") == "end" and x.get("step") == sys.argv[2]))' "$T/log.json" "$2")
        [ "$got" = "$3" ] && ok "$1" || bad "$1: got '$got', want '$3'"
}

# rbe_kube_reqs WHAT EXPR: rbe_reqs on the fake API server's log, without
# the test's own /_fake/ requests (objects it changed itself).
rbe_kube_reqs() {
        grep -v '"path": *"/_fake/' "$T/kube/requests.log" >"$T/kube/api.log"
        rbe_reqs "$1" "$T/kube/api.log" "$2"
}

# rbe_prom_wait QUERY: polls the Prometheus at $PURL (started as $PROM_PID)
# with an instant query until its result is not empty; 1 after 40 s.
rbe_prom_wait() {
        local deadline=$(($(now_ms) + 40000))
        until curl -sf --data-urlencode "query=$1" "$PURL/api/v1/query" 2>/dev/null |
                grep -q '"result":\[{'; do
                if [ "$(now_ms)" -ge "$deadline" ] || ! kill -0 "$PROM_PID" 2>/dev/null; then
                        return 1
                fi
                sleep 0.1
        done
}

rbe_done() {
        if [ "$fails" -gt 0 ]; then
                printf '%d check(s) failed\n' "$fails"
                exit 1
        fi
        echo "all $1 checks passed"
        exit 0
}
