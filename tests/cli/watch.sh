#!/usr/bin/env bash
#
# watch.sh: the real `lambdaops watch` against tests/lib/fixture_httpd.py
# (started here, stopped by its PID) serving a Kafka Connect worker whose
# answers the test changes by replacing the routes file: the connector
# orders-cdc RUNNING, then FAILED (its worker id carries an ESC sequence),
# RUNNING, FAILED, then the worker answers 401 quoting the source's
# credentials (the source is down), then FAILED again, then RUNNING. The
# source has `for: 1s` and `keep_firing_for: 2s`, so every step waits for
# the log line it must cause (polling, generous deadline; nothing timed).
#   - logfmt (the default): the exact sequence of lines, each parsed:
#     started; source up; connector_failed fired, resolved (one each for
#     the first episode, endsAt at least keep_firing_for after startsAt);
#     fired again; source down and, in the same evaluation, the alert
#     unknown (never resolved while down); the source's status alert fired
#     after its `for`; source up and the connector alert known again (the
#     same episode: its startsAt unchanged, no second fired); the status
#     alert resolved; the connector alert resolved; SIGTERM: stopping,
#     stopped, exit 0. Fingerprints are the documented FNV-1a of
#     (environment, source, metric, subject), computed here.
#   - no raw control character in the log (the ESC is \x1b text), no
#     password, no Basic form: the 401 body quoting them shows ***;
#   - --log-format json: every line a JSON object; the fired record with
#     the ESC back as a real character after decoding; SIGINT stops it, 0;
#   - usage and config errors: --log-format xml and a bad --listen exit
#     64, a missing config 78 with one JSON error line; --listen is parsed
#     and shown in the start line;
#   - what ships: the config of deploy/monitoring/lambdaops-watch.yaml
#     passes `config check`, deploy/systemd/lambdaops-watch.service passes
#     `systemd-analyze verify` (each when the tool is there).
#
# Env: LO_BINARY (the lambdaops binary), LO_SOURCE_DIR (the source tree).

set -u

B=${LO_BINARY:?set LO_BINARY to the lambdaops binary}
S=${LO_SOURCE_DIR:?set LO_SOURCE_DIR to the source tree}
T=$(mktemp -d /tmp/lo-watch.XXXXXX)
fails=0
HTTPD_PID=
W_PID=

cleanup() {
        lo_stop "$W_PID" KILL
        lo_stop "$HTTPD_PID"
        [ -n "${LO_KEEP_TMP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

. "$(dirname "$0")/../lib/helpers.sh"
lo_guard "$T"     # what this test starts does not outlive it, even on SIGKILL
# shellcheck source=../lib/cli_helpers.sh
. "$(dirname "$0")/../lib/cli_helpers.sh"

cd "$T" || exit 1
mkdir -p home xdg
export HOME=$T/home XDG_CONFIG_HOME=$T/xdg XDG_STATE_HOME=$T/state
unset LAMBDAOPS_CONFIG NO_COLOR

USER_NAME=monitor
PASSWORD='Pw7-zQx9Kd-watch'
BASIC=$(printf '%s:%s' "$USER_NAME" "$PASSWORD" | base64 -w0)
export WATCH_CONNECT_PW=$PASSWORD

# routes STATE: the worker's answers (running, failed, down), replaced
# atomically (the server re-reads the file on every request).
routes() {
        python3 - "$1" "$BASIC" "$PASSWORD" >"$T/routes.tmp" <<'PY'
import json, sys
state, basic, pw = sys.argv[1:4]
CT = {"Content-Type": "application/json"}
def conn(st):
    return {"orders-cdc": {
        "status": {"name": "orders-cdc",
                   "connector": {"state": st, "worker_id": "10.0.3.7:8083\u001b[2J"},
                   "tasks": [{"id": 0, "state": "RUNNING", "worker_id": "10.0.3.7:8083"}],
                   "type": "sink"},
        "info": {"name": "orders-cdc",
                 "config": {"connector.class": "io.confluent.connect.s3.S3SinkConnector",
                            "tasks.max": "1", "name": "orders-cdc"},
                 "tasks": [{"connector": "orders-cdc", "task": 0}], "type": "sink"}}}
root = {"version": "3.7.0", "commit": "2ae524ed625438c5", "kafka_cluster_id": "MkU3"}
if state == "down":
    e = {"error_code": 401,
         "message": f"proxy refused Authorization: Basic {basic} (password {pw})"}
    r = [{"path": "/connectors", "query": "expand=status&expand=info", "status": 401, "json": e},
         {"path": "/", "status": 401, "json": e}]
else:
    r = [{"path": "/connectors", "query": "expand=status&expand=info", "headers": CT,
          "json": conn("RUNNING" if state == "running" else "FAILED")},
         {"path": "/", "headers": CT, "json": root}]
print(json.dumps({"routes": r}))
PY
        mv "$T/routes.tmp" "$T/routes.json"
}

# The log parsed: logfmt (key=value, "..." with \" and \\) or JSON lines.
cat >"$T/parse.py" <<'PY'
import json, sys

def logfmt(line):
    out, i, n = {}, 0, len(line)
    while i < n:
        while i < n and line[i] == " ":
            i += 1
        if i >= n:
            break
        j = line.index("=", i)
        key, i = line[i:j], j + 1
        if i < n and line[i] == '"':
            i += 1
            val = []
            while line[i] != '"':
                if line[i] == "\\":
                    i += 1
                val.append(line[i])
                i += 1
            i += 1
            out[key] = "".join(val)
        else:
            j = line.find(" ", i)
            j = n if j < 0 else j
            out[key] = line[i:j]
            i = j
    return out

def load(path, fmt):
    recs = []
    for raw in open(path, "rb").read().decode("utf-8").splitlines():
        if not raw.strip():
            continue
        recs.append(json.loads(raw) if fmt == "json" else logfmt(raw))
    return recs

def fnv(*parts):
    h = 0xcbf29ce484222325
    for p in parts:
        for b in p.encode() + b"\0":
            h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h
PY

# wait_log WHAT LOG FMT PYTHON_EXPR: polls until the expression, with `r`
# the parsed records, is true (60 s at most).
wait_log() {
        wait_cmd "$1" python3 -c '
import sys
sys.path.insert(0, sys.argv[1])
from parse import load
r = load(sys.argv[2], sys.argv[3])
sys.exit(0 if ('"$4"') else 1)
' "$T" "$2" "$3"
}

# check WHAT LOG FMT PYTHON_CODE: runs the code (with r, fnv); it prints
# "yes" or what is wrong.
check() {
        local res
        res=$(python3 -c '
import sys, json
sys.path.insert(0, sys.argv[1])
from parse import load, fnv
r = load(sys.argv[2], sys.argv[3])
'"$4"'
' "$T" "$2" "$3" 2>&1)
        if [ "$res" = yes ]; then
                ok "$1"
        else
                bad "$1: $res"
        fi
}

# stop_watch SIGNAL: sends it and polls for the exit (60 s at most); the
# exit code in $wrc.
stop_watch() {
        local deadline=$(($(now_ms) + 60000))
        kill "-$1" "$W_PID"
        while kill -0 "$W_PID" 2>/dev/null && [ "$(now_ms)" -lt "$deadline" ]; do
                sleep 0.05
        done
        wait "$W_PID"
        wrc=$?
        W_PID=
}

routes running
: >"$T/requests.log"
lo_spawn "$T/httpd.log" python3 "$S/tests/lib/fixture_httpd.py" --routes "$T/routes.json" \
        --log "$T/requests.log" --port-file "$T/port"
HTTPD_PID=$LO_PID
wait_cmd "fixture server port file" test -s "$T/port" || exit 1
URL="http://127.0.0.1:$(cat "$T/port")"
ok "fixture server on $URL (pid $HTTPD_PID)"

cat >"$T/cfg.yaml" <<EOF
environment: test
refresh: 100ms
sources:
  - name: connect
    kind: kafka_connect
    url: $URL
    user: $USER_NAME
    password_env: WATCH_CONNECT_PW
    interval: 200ms
    timeout: 5s
    for: 1s
    keep_firing_for: 2s
EOF

# --- usage and config errors -------------------------------------------------------

expect "--log-format xml: usage" 64 "$B" -c "$T/cfg.yaml" watch --log-format xml
has "--log-format xml: says what is allowed" "$T/err" 'must be logfmt or json'
expect "--listen 1:2:3: usage" 64 "$B" -c "$T/cfg.yaml" watch --listen 1:2:3
has "--listen 1:2:3: says why" "$T/err" 'IPv6 address goes in brackets'
expect "watch extra: usage" 64 "$B" -c "$T/cfg.yaml" watch extra
expect "missing config: 78" 78 "$B" -c "$T/nope.yaml" watch --log-format json
json_err=$(python3 -c '
import json, sys
l = open(sys.argv[1]).read().splitlines()
d = json.loads(l[0])
print("yes" if len(l) == 1 and d["level"] == "error" and d["msg"] == "configuration error"
      and "nope.yaml" in d["error"] else "no: " + repr(l))' "$T/err" 2>&1)
if [ "$json_err" = yes ]; then
        ok "missing config: one JSON error line"
else
        bad "missing config: $json_err"
fi
expect "watch --help" 0 "$B" watch --help
has "watch --help: the options" "$T/out" '--log-format FORMAT'

# --- what ships: the Deployment's config loads, the systemd unit verifies ---------

PYY=
for c in python3 /usr/bin/python3; do
        if "$c" -c 'import yaml' 2>/dev/null; then PYY=$c; break; fi
done
if [ -n "$PYY" ]; then
        "$PYY" -c '
import sys, yaml
docs = list(yaml.safe_load_all(open(sys.argv[1])))
cm = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "lambdaops-watch"]
open(sys.argv[2], "w").write(cm[0]["data"]["lambdaops.yaml"])' \
                "$S/deploy/monitoring/lambdaops-watch.yaml" "$T/k8s-watch.yaml"
        expect "deploy: the Deployment's config passes config check" 0 \
                "$B" -c "$T/k8s-watch.yaml" config check
else
        ok "deploy: config check skipped (no python3 with PyYAML)"
fi
if command -v systemd-analyze >/dev/null 2>&1; then
        sed "s|/usr/local/bin/lambdaops|$B|g" "$S/deploy/systemd/lambdaops-watch.service" \
                >"$T/lambdaops-watch.service"
        expect "deploy: systemd-analyze verify lambdaops-watch.service" 0 \
                systemd-analyze verify "$T/lambdaops-watch.service"
else
        ok "deploy: systemd-analyze verify skipped (no systemd-analyze)"
fi

# --- logfmt: the whole story ---------------------------------------------------------

L=$T/watch.log
: >"$L"
lo_spawn "$L" "$B" -c "$T/cfg.yaml" watch --listen 0
W_PID=$LO_PID
wait_log "logfmt: /metrics started on a free port" "$L" logfmt \
        'any(x["msg"] == "service started" and x["service"] == "metrics" for x in r)'
MPORT=$(sed -n 's/.*msg="service started" service=metrics .*port=\([0-9]*\).*/\1/p' "$L" | head -n 1)
wait_log "logfmt: source up" "$L" logfmt 'any(x["msg"] == "source up" for x in r)'
routes failed
wait_log "logfmt: connector_failed fired" "$L" logfmt \
        'any(x["msg"] == "alert fired" and x["metric"] == "connector_failed" for x in r)'
# The same alert in /metrics, as Prometheus would scrape it while it fires.
if curl -sf --max-time 10 "http://127.0.0.1:$MPORT/metrics" >"$T/metrics.txt" &&
   grep -qx 'lambdaops_alert{source="connect",metric="connector_failed",subject="orders-cdc",severity="crit"} 1' \
        "$T/metrics.txt" &&
   grep -qx 'lambdaops_source_up{source="connect",kind="kafka_connect"} 1' "$T/metrics.txt"; then
        ok "/metrics on port $MPORT: the firing alert and the source up"
else
        bad "/metrics on port '$MPORT': $(grep -E '^lambdaops_(alert|source_up)' "$T/metrics.txt" | head -c 800)"
fi
routes running
wait_log "logfmt: connector_failed resolved" "$L" logfmt \
        'any(x["msg"] == "alert resolved" for x in r)'
routes failed
wait_log "logfmt: fired again" "$L" logfmt \
        'sum(x["msg"] == "alert fired" for x in r) == 2'
routes down
wait_log "logfmt: source down, the status alert fired after its for" "$L" logfmt \
        'any(x["msg"] == "alert fired" and x["metric"] == "status" for x in r)'
routes failed
wait_log "logfmt: the status alert resolved" "$L" logfmt \
        'any(x["msg"] == "alert resolved" and x["metric"] == "status" for x in r)'
routes running
wait_log "logfmt: connector_failed resolved again" "$L" logfmt \
        'sum(x["msg"] == "alert resolved" and x["metric"] == "connector_failed" for x in r) == 2'
stop_watch TERM
if [ "$wrc" = 0 ]; then ok "logfmt: SIGTERM: exit 0"; else bad "logfmt: SIGTERM: exit $wrc"; fi

check "logfmt: the exact sequence of lines" "$L" logfmt '
fp_c = fnv("test", "connect", "connector_failed", "orders-cdc")
fp_s = fnv("test", "connect", "status", "")
msg = ("connector orders-cdc FAILED on 10.0.3.7:8083\\x1b[2J: restart it after fixing "
       "the cause (see its trace)")
def alert(tr, state, metric, fp, level="warn", message=msg):
    return {"level": level, "msg": "alert " + tr, "fingerprint": fp, "state": state,
            "severity": "crit", "environment": "test", "source": "connect",
            "kind": "kafka_connect", "metric": metric,
            "subject": "orders-cdc" if metric == "connector_failed" else "",
            "message": message}
def src(msg, state, prev, level):
    return {"level": level, "msg": msg, "source": "connect", "kind": "kafka_connect",
            "state": state, "previous": prev}
downs = [x for x in r if x["msg"] == "source down"]
err = downs[0].get("error", "?") if downs else "?"
want = [
    {"level": "info", "msg": "watch started", "version": "?", "config": "?",
     "environment": "test", "n_sources": "1", "sources": "connect",
     "listen": "127.0.0.1:0", "pid": "?"},
    {"level": "info", "msg": "service started", "service": "metrics",
     "listen": "127.0.0.1:0", "port": "?"},
    src("source up", "ok", "unknown", "info"),
    alert("fired", "firing", "connector_failed", fp_c),
    alert("resolved", "resolved", "connector_failed", fp_c, level="info"),
    alert("fired", "firing", "connector_failed", fp_c),
    dict(src("source down", "down", "ok", "warn"), error=err),
    alert("unknown", "unknown", "connector_failed", fp_c),
    alert("fired", "firing", "status", fp_s, message="connect is down: " + err),
    src("source up", "ok", "down", "info"),
    alert("known", "firing", "connector_failed", fp_c, level="info"),
    alert("resolved", "resolved", "status", fp_s, level="info",
          message="connect is down: " + err),
    alert("resolved", "resolved", "connector_failed", fp_c, level="info"),
    {"level": "info", "msg": "watch stopping", "signal": "SIGTERM"},
    {"level": "info", "msg": "watch stopped", "exit": "0"},
]
got = [{k: v for k, v in x.items() if k not in ("ts", "startsAt", "endsAt")} for x in r]
for g, w in zip(got, want):
    for k in ("version", "config", "pid", "port"):
        if w.get(k) == "?" and k in g:
            w[k] = g[k]
diff = [(i, g, w) for i, (g, w) in enumerate(zip(got, want)) if g != w]
if len(got) != len(want) or diff:
    print("no:", len(got), "lines, want", len(want), diff[:2] if diff else json.dumps(got)[:1500])
else:
    print("yes")'

check "logfmt: startsAt/endsAt per episode; endsAt >= startsAt + keep_firing_for" "$L" logfmt '
from datetime import datetime, timezone
def ms(s):
    t = datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    return t.timestamp() * 1000
c = [x for x in r if x.get("metric") == "connector_failed"]
ok1 = c[0]["startsAt"] == c[1]["startsAt"] and "endsAt" not in c[0]
ok1 = ok1 and ms(c[1]["endsAt"]) - ms(c[1]["startsAt"]) >= 2000
ep2 = c[2:]
ok2 = len({x["startsAt"] for x in ep2}) == 1 and ep2[0]["startsAt"] != c[0]["startsAt"]
ok2 = ok2 and ms(ep2[-1]["endsAt"]) - ms(ep2[-1]["startsAt"]) >= 2000
ok2 = ok2 and all("endsAt" not in x for x in ep2[:-1])
print("yes" if ok1 and ok2 else "no: " + json.dumps(c)[:1200])'

check "logfmt: the 401 is in the down line, its secrets are ***" "$L" logfmt '
e = [x for x in r if x["msg"] == "source down"][0]["error"]
print("yes" if "401" in e and "Basic ***" in e and "password ***" in e else "no: " + e)'
if tr -d '\n' <"$L" | LC_ALL=C grep -q '[[:cntrl:]]'; then
        bad "logfmt: a raw control character reached the log"
else
        ok "logfmt: no raw control character in the log (ESC is \\x1b text)"
fi
if grep -qF -e "$PASSWORD" -e "$BASIC" "$L"; then
        bad "logfmt: a secret reached the log"
else
        ok "logfmt: neither the password nor the Basic form is in the log"
fi
check "fixture: the credentials were really sent" "$T/requests.log" json '
print("yes" if any(x["headers"].get("authorization") == "Basic '"$BASIC"'" for x in r)
      else "no")'

# --- JSON ------------------------------------------------------------------------------

routes running
L=$T/watch.json
: >"$L"
lo_spawn "$L" "$B" -c "$T/cfg.yaml" watch --log-format json
W_PID=$LO_PID
wait_log "json: source up" "$L" json 'any(x["msg"] == "source up" for x in r)'
routes failed
wait_log "json: connector_failed fired" "$L" json 'any(x["msg"] == "alert fired" for x in r)'
stop_watch INT
if [ "$wrc" = 0 ]; then ok "json: SIGINT: exit 0"; else bad "json: SIGINT: exit $wrc"; fi
check "json: the records" "$L" json '
fp = fnv("test", "connect", "connector_failed", "orders-cdc")
f = [x for x in r if x["msg"] == "alert fired"]
msgs = [x["msg"] for x in r]
good = msgs == ["watch started", "source up", "alert fired", "watch stopping", "watch stopped"]
good = good and len(f) == 1 and f[0]["fingerprint"] == fp
good = good and f[0]["message"].startswith("connector orders-cdc FAILED on 10.0.3.7:8083\x1b[2J")
good = good and f[0]["state"] == "firing" and f[0]["severity"] == "crit"
good = good and "value" not in f[0] and f[0]["startsAt"].endswith("Z") and "endsAt" not in f[0]
good = good and r[0]["n_sources"] == 1 and "listen" not in r[0]
good = good and r[-2]["signal"] == "SIGINT" and r[-1]["exit"] == 0
print("yes" if good else "no: " + json.dumps(r)[:1500])'
if tr -d '\n' <"$L" | LC_ALL=C grep -q '[[:cntrl:]]'; then
        bad "json: a raw control character reached the log"
else
        ok "json: no raw control character in the log (ESC is \\u001b)"
fi

echo "watch: $fails failure(s)"
[ "$fails" -eq 0 ]
