#!/usr/bin/env bash
#
# hostile_text.sh: text from a config or a server never reaches the
# terminal raw. A config whose environment is the YAML string
# "\e[2Jprod\e]0;pwned\a" and a fixture Kafka Connect (tests/lib/
# fixture_httpd.py, stopped by its PID) that lists a FAILED connector named
# with ESC, BEL and C1 (U+009B, the 8-bit CSI) and answers an action with
# an error body carrying ESC, and a second Connect whose listing fails with
# a message carrying ESC and C1:
#   - `status`: the environment line and the alert show the escapes
#     literally (\x1b[2J, \x07, \u009b) and the bytes hold no ESC, BEL
#     or C1;
#   - `status --json`: the real characters, written by JSON as \u001b,
#     \u0007 and \u009b (no raw C1 byte either), and they parse back to
#     the server's name;
#   - `check`: the Nagios line escaped the same way;
#   - `act connect pause orders --yes`: the server's error message
#     reaches stderr escaped; the audit line keeps it, JSON-escaped (C1
#     too, so `tail` of the audit log is safe);
#   - `up`: a plan step printing ESC and C1: its command line and its
#     output are echoed escaped.
#
# Env: LO_BINARY (the lambdaops binary), LO_SOURCE_DIR (the source tree).

set -u

B=${LO_BINARY:?set LO_BINARY to the lambdaops binary}
SRC=${LO_SOURCE_DIR:?set LO_SOURCE_DIR to the source tree}
T=$(mktemp -d /tmp/lo-hostile.XXXXXX)
fails=0
HTTPD_PID=

cleanup() {
        if [ -n "$HTTPD_PID" ]; then
                kill "$HTTPD_PID" 2>/dev/null
                wait "$HTTPD_PID" 2>/dev/null
        fi
        rm -rf "$T"
}
trap cleanup EXIT

. "$(dirname "$0")/../lib/helpers.sh"
lo_guard "$T"
# shellcheck source=../lib/cli_helpers.sh
. "$(dirname "$0")/../lib/cli_helpers.sh"

# raw NAME FILE: FILE holds no ESC, BEL, other C0 but \n, DEL, nor C1
# (raw bytes 0x80-0x9f or their UTF-8 form C2 80-C2 9F).
raw() {
        if LC_ALL=C grep -qaP '[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]' "$2"; then
                bad "$1: raw control bytes: $(od -c "$2" | grep -m3 -E '033|007|302')"
        else
                ok "$1: no raw control bytes"
        fi
}

# lit NAME FILE TEXT: FILE contains TEXT literally (fixed string).
lit() {
        if grep -qaF -- "$3" "$2"; then
                ok "$1"
        else
                bad "$1: '$3' not in $(basename "$2"): $(head -c 600 "$2")"
        fi
}

# --- the fixture Connect ----------------------------------------------------------

python3 - >"$T/routes.json" <<'PY'
import json
evil = "evil\u001b[2J\u001b]0;pwned\u0007\u009b31m"
def conn(name, state):
    return {"status": {"name": name, "connector": {"state": state, "worker_id": "10.0.3.7:8083"},
                       "tasks": [], "type": "source"},
            "info": {"name": name, "config": {"connector.class": "x.Y"}, "tasks": [], "type": "source"}}
listing = {evil: conn(evil, "FAILED"), "orders": conn("orders", "RUNNING")}
r = [
    {"path": "/connectors", "query": "expand=status&expand=info", "json": listing},
    {"path": "/", "json": {"version": "3.7.0", "commit": "abc", "kafka_cluster_id": "k1"}},
    {"path": "/broken/connectors", "query": "expand=status&expand=info", "status": 500,
     "json": {"error_code": 500, "message": "down\u001b[2J\u009b31m for now"}},
    {"method": "PUT", "path": "/connectors/orders/pause", "status": 409,
     "json": {"error_code": 409, "message": "rebalance\u001b[2J\u001b]0;pwned\u0007\u009b1m in progress"}},
]
print(json.dumps({"routes": r}))
PY
python3 "$SRC/tests/lib/fixture_httpd.py" --routes "$T/routes.json" --log "$T/requests.log" \
        --port-file "$T/port" </dev/null >>"$T/httpd.log" 2>&1 &
HTTPD_PID=$!
deadline=$(($(now_ms) + 10000))
until [ -s "$T/port" ]; do
        if [ "$(now_ms)" -ge "$deadline" ]; then bad "fixture server did not start"; exit 1; fi
        sleep 0.05
done
URL="http://127.0.0.1:$(cat "$T/port")"
ok "fixture server on $URL (pid $HTTPD_PID)"

cat >"$T/cfg.yaml" <<EOF
environment: "\e[2Jprod\e]0;pwned\a"
audit_log: $T/audit.log
sources:
  - name: connect
    kind: kafka_connect
    url: $URL
    interval: 1s
    timeout: 3s
  - name: broken
    kind: kafka_connect
    url: $URL/broken
    interval: 1s
    timeout: 3s
EOF

# --- status, text -----------------------------------------------------------------

expect "status" 0 "$B" -c "$T/cfg.yaml" status
cp "$T/out" "$T/status.txt"
echo "---- status ----"
cat "$T/status.txt"
echo "----------------"
raw "status" "$T/status.txt"
lit "status: environment escaped" "$T/status.txt" 'environment: \x1b[2Jprod\x1b]0;pwned\x07   overall: crit'
lit "status: connector name escaped in the alert" "$T/status.txt" \
        'CRIT  connect: connector evil\x1b[2J\x1b]0;pwned\x07\u009b31m FAILED on 10.0.3.7:8083'
lit "status: the server's error escaped" "$T/status.txt" 'down\x1b[2J\u009b31m for now'
# The columns still line up: each row's ERROR column starts where the title does.
col=$(awk '/^SOURCE/ { print index($0, "ERROR") }' "$T/status.txt")
row=$(awk '/^broken / { print index($0, "GET /connectors") }' "$T/status.txt")
if [ -n "$col" ] && [ "$col" = "$row" ]; then
        ok "status: columns aligned ($col)"
else
        bad "status: ERROR title at $col, row value at $row"
fi

# --- status --json ----------------------------------------------------------------

expect "status --json" 0 "$B" -c "$T/cfg.yaml" status --json
raw "status --json" "$T/out"
lit "status --json: ESC as \\u001b" "$T/out" 'evil\u001b[2J\u001b]0;pwned\u0007\u009b31m'
json "status --json: the real name parses back" \
        '[a["subject"] for a in d["alerts"]] == ["evil\x1b[2J\x1b]0;pwned\x07\x9b31m", None] and d["sources"]["connect"]["connectors"][0]["name"] == "evil\x1b[2J\x1b]0;pwned\x07\x9b31m"'
json "status --json: the server's error keeps its characters" \
        '"\x1b[2J" in d["sources"]["broken"]["error"] and "\x9b" in d["sources"]["broken"]["error"]'

# --- check ------------------------------------------------------------------------

expect "check" 2 "$B" -c "$T/cfg.yaml" check
raw "check" "$T/out"
lit "check: escaped" "$T/out" 'connector evil\x1b[2J\x1b]0;pwned\x07\u009b31m FAILED'

# --- act: a server's error message on stderr --------------------------------------

expect "act pause refused by the server" 1 "$B" -c "$T/cfg.yaml" act connect pause orders --yes
raw "act stderr" "$T/err"
raw "act stdout" "$T/out"
lit "act: server message escaped on stderr" "$T/err" 'rebalance\x1b[2J\x1b]0;pwned\x07\u009b1m in progress'
raw "audit log" "$T/audit.log"
lit "audit log: JSON keeps the real value" "$T/audit.log" 'rebalance\u001b[2J\u001b]0;pwned\u0007\u009b1m in progress'

# --- up: a step's output and the plan's own text --------------------------------

cat >"$T/plan.yaml" <<'EOF'
version: 1
config: cfg.yaml
stages:
  - name: hello
    steps:
      - run: [printf, "out\e[2J\e]0;pwned\a\u009bx\n"]
EOF
XDG_STATE_HOME="$T/state" expect "up" 0 "$B" up --plan "$T/plan.yaml" --yes
raw "up stdout" "$T/out"
raw "up stderr" "$T/err"
lit "up: the step's command escaped" "$T/out" "\$ printf 'out\x1b[2J\x1b]0;pwned\x07\u009bx"
lit "up: the step's output escaped" "$T/out" 'out\x1b[2J\x1b]0;pwned\x07\u009bx'

if [ "$fails" -gt 0 ]; then
        echo "$fails check(s) failed"
        exit 1
fi
echo "all checks passed"
