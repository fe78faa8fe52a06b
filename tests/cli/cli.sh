#!/usr/bin/env bash
#
# cli.sh: the command line of the real binary, its exit codes and output,
# with no service: --version/--help (0), usage errors (64), a missing or
# malformed config (78 with FILE:LINE:COL on stderr), `config check` and
# the config search order, a source nobody listens on; then names in URL
# paths against fixture HTTP servers (Kafka Connect, Schema Registry,
# Airflow): `act` refuses a "." or ".." target before any request, a
# collector marks such a listed name and never requests it, "a/b" is one
# segment, Airflow without a user sends no credentials. The same against a
# real PostgreSQL is cli_postgres.sh (label real-clock).
#
# Env: LO_BINARY (the lambdaops binary), LO_SOURCE_DIR (the source tree).
# Every command runs under `timeout` so a hang fails the test instead of
# stalling CI. Everything lives in one temp dir, removed at exit; servers
# and helpers are stopped by their PID.

set -u

B=${LO_BINARY:?set LO_BINARY to the lambdaops binary}
SRC=${LO_SOURCE_DIR:?set LO_SOURCE_DIR to the source tree}
T=$(mktemp -d /tmp/lo-cli.XXXXXX)
fails=0
pids=()
pg_started=0

cleanup() {
        local p
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

ok()   { printf 'ok   %s\n' "$1"; }
bad()  { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }

# shellcheck source=../lib/cli_helpers.sh
. "$(dirname "$0")/../lib/cli_helpers.sh"

cd "$T" || exit 1
mkdir -p empty home xdg
# Keep the user's own config out of every test.
export HOME=$T/home XDG_CONFIG_HOME=$T/xdg
unset LAMBDAOPS_CONFIG NO_COLOR

# ---- part 1: no services --------------------------------------------------

expect "--version" 0 "$B" --version
has "--version prints the version" "$T/out" '^lambdaops [0-9]+\.[0-9]+\.[0-9]+$'
expect "-V" 0 "$B" -V
expect "version" 0 "$B" version
expect "--help" 0 "$B" --help
has "--help lists commands" "$T/out" 'status \[--json\]'
has "--help lists config check" "$T/out" 'config check'
has "--help lists exit codes" "$T/out" '78 +configuration error'
has "--help lists the search order" "$T/out" 'LAMBDAOPS_CONFIG'
has "--help lists XDG" "$T/out" 'XDG_CONFIG_HOME/lambdaops/config.yaml'
expect "-h" 0 "$B" -h
expect "help" 0 "$B" help
expect "unknown option" 64 "$B" --bogus
has "unknown option named" "$T/err" "unknown option '--bogus'"
expect "unknown short option" 64 "$B" -Z
expect "missing option value" 64 "$B" --config
expect "unknown command" 64 "$B" frobnicate
has "unknown command named" "$T/err" "unknown command 'frobnicate'"
expect "--json outside status" 64 "$B" check --json
expect "config without check" 64 "$B" config
expect "extra argument" 64 "$B" status now

# No config anywhere (cwd, env and XDG are empty): 78 with where we looked.
run "no config found (again, for the message)" env -C "$T/empty" "$B" check
if [ "$rc" = 78 ] && grep -q '^lambdaops: ' "$T/err"; then
        ok "no config: 78 with a lambdaops: message"
else
        bad "no config: exit $rc, stderr $(cat "$T/err")"
fi
expect "missing -c file" 78 "$B" -c "$T/nope.yaml" status
has "missing -c file is named" "$T/err" '^lambdaops: .*nope\.yaml'

cat >"$T/unknown-key.yaml" <<'EOF'
environment: test
sources:
  - name: orders-db
    kind: postgres
    dsn: "host=127.0.0.1 dbname=postgres"
    intervall: 5s
EOF
expect "malformed config (unknown key)" 78 "$B" -c "$T/unknown-key.yaml" status
has "unknown key at FILE:LINE:COL" "$T/err" '^lambdaops: .*unknown-key\.yaml:6:5: '
has "unknown key suggests" "$T/err" 'interval'
expect "malformed config with config check" 78 "$B" -c "$T/unknown-key.yaml" config check
expect "malformed config with check" 78 "$B" -c "$T/unknown-key.yaml" check

printf 'environment: "unterminated\nsources: []\n' >"$T/syntax.yaml"
expect "YAML syntax error" 78 "$B" -c "$T/syntax.yaml" config check
has "YAML syntax error at FILE:LINE:COL" "$T/err" '^lambdaops: .*syntax\.yaml:[0-9]+:[0-9]+: '

cat >"$T/good.yaml" <<'EOF'
environment: test
sources:
  - name: orders-db
    kind: postgres
    dsn: "host=127.0.0.1 port=1 dbname=postgres user=postgres"
    timeout: 1s
EOF
expect "config check ok" 0 "$B" -c "$T/good.yaml" config check
has "config check output" "$T/out" "good\.yaml: ok \(1 source\)$"
# The console itself: an unknown pane is a usage error; without a
# terminal it says what to use instead (stdin/stdout are not ttys here).
expect "--view unknown" 64 "$B" -c "$T/good.yaml" --view nosuchpane
has "--view unknown lists the panes" "$T/err" "unknown view 'nosuchpane'"
expect "console without a terminal" 1 "$B" -c "$T/good.yaml" </dev/null
has "console without a terminal says why" "$T/err" 'needs a terminal'
expect "config from LAMBDAOPS_CONFIG" 0 env LAMBDAOPS_CONFIG="$T/good.yaml" "$B" config check
has "LAMBDAOPS_CONFIG file named" "$T/out" 'good\.yaml: ok'
mkdir -p "$T/xdg/lambdaops" "$T/cwd"
cp "$T/good.yaml" "$T/xdg/lambdaops/config.yaml"
run "config from XDG" env -C "$T/empty" "$B" config check
if [ "$rc" = 0 ] && grep -q 'xdg/lambdaops/config.yaml: ok' "$T/out"; then
        ok "config from \$XDG_CONFIG_HOME"
else
        bad "config from XDG: exit $rc: $(cat "$T/out" "$T/err")"
fi
cp "$T/good.yaml" "$T/cwd/lambdaops.yaml"
run "config from ./lambdaops.yaml" env -C "$T/cwd" "$B" config check
if [ "$rc" = 0 ] && grep -q 'lambdaops.yaml: ok' "$T/out" && ! grep -q xdg "$T/out"; then
        ok "./lambdaops.yaml wins over XDG"
else
        bad "config from cwd: exit $rc: $(cat "$T/out" "$T/err")"
fi
run "-c wins over LAMBDAOPS_CONFIG" env LAMBDAOPS_CONFIG="$T/unknown-key.yaml" "$B" -c "$T/good.yaml" config check
if [ "$rc" = 0 ]; then ok "-c wins over LAMBDAOPS_CONFIG"; else bad "-c vs env: exit $rc"; fi
rm -rf "$T/xdg/lambdaops"

# A source nobody listens on: status still runs (exit 0), check says crit.
expect "status, server refused" 0 "$B" -c "$T/good.yaml" status --json
json "status JSON shape" 'd["schema"] == 1 and d["overall"] == "crit" and d["sources"]["orders-db"]["status"] == "down" and isinstance(d["sources"]["orders-db"]["error"], str)'
expect "check, server refused" 2 "$B" -c "$T/good.yaml" check
has "check line" "$T/out" '^LAMBDAOPS CRITICAL - 1 source: '

# ---- part 2: names in URL paths, against tests/lib/fixture_httpd.py -------
#
# A name that becomes a URL path segment (a connector, a DAG, a subject, a
# name a server listed) is percent-encoded ("a/b" -> a%2Fb), and ".", ".."
# and "" are refused: libcurl removes dot segments, so "/connectors/../
# restart" would be sent as "POST /restart" to the worker root. `act` refuses
# such a target before any request (exit 66); a collector marks the item
# with the error and requests nothing for it. Each server logs every request
# it receives as a JSON line; the checks read that log.

# start_httpd NAME ROUTES_JSON: a fixture server in $T/NAME (port in
# $T/NAME/port, requests in $T/NAME/requests.log), its URL in $url.
start_httpd() {
        local d=$T/$1 deadline
        mkdir -p "$d"
        printf '%s\n' "$2" >"$d/routes.json"
        : >"$d/requests.log"
        python3 "$SRC/tests/lib/fixture_httpd.py" --routes "$d/routes.json" \
                --log "$d/requests.log" --port-file "$d/port" </dev/null >>"$d/httpd.log" 2>&1 &
        pids+=("$!")
        deadline=$(($(date +%s%3N) + 20000))
        until [ -s "$d/port" ]; do
                if [ "$(date +%s%3N)" -ge "$deadline" ]; then
                        bad "fixture server $1 did not start: $(cat "$d/httpd.log")"
                        url=http://127.0.0.1:1
                        return 1
                fi
                sleep 0.05
        done
        url="http://127.0.0.1:$(cat "$d/port")"
}

# reqs NAME WHAT PYTHON_EXPR: evaluates the expression with `r`, the list
# of requests server NAME logged (dicts: method, path, query, headers).
reqs() {
        local res
        res=$(python3 -c '
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
seen = [(x["method"], x["path"], x["query"]) for x in r]
print("yes" if ('"$3"') else "no: " + json.dumps(seen)[:600])
' "$T/$1/requests.log" 2>&1)
        if [ "$res" = yes ]; then
                ok "$2"
        else
                bad "$2: $3: $res"
        fi
}

# src_cfg FILE NAME KIND [EXTRA_LINE]: a config with one source at $url.
src_cfg() {
        {
                printf 'environment: test\nsources:\n  - name: %s\n    kind: %s\n' "$2" "$3"
                printf '    url: %s\n    timeout: 5s\n' "$url"
                [ -z "${4:-}" ] || printf '    %s\n' "$4"
        } >"$1"
}

CT='"headers": {"Content-Type": "application/json"}'
REFUSED='is refused: in a URL path it would name another resource'

# Kafka Connect: `act ... restart ..` sends nothing; "a/b" is one segment.
start_httpd connect '{"routes": [
  {"method": "POST", "path": "/connectors/a%2Fb/restart",
   "query": "includeTasks=true&onlyFailed=true", "status": 202, '"$CT"',
   "json": {"name": "a/b", "connector": {"state": "RESTARTING", "worker_id": "w:8083"},
            "tasks": [], "type": "source"}}]}'
src_cfg "$T/connect.yaml" connect kafka_connect
expect "act connect restart ..: refused" 66 "$B" -c "$T/connect.yaml" act connect restart .. --yes
has "act connect restart ..: says why" "$T/err" \
    "^lambdaops: act: connector name \"\\.\\.\" $REFUSED\$"
expect "act connect restart .: refused" 66 "$B" -c "$T/connect.yaml" act connect restart . --yes
has "act connect restart .: says why" "$T/err" "^lambdaops: act: connector name \"\\.\" $REFUSED\$"
expect "act connect pause ..: refused" 66 "$B" -c "$T/connect.yaml" act connect pause .. --yes
expect "act connect restart a/b" 0 "$B" -c "$T/connect.yaml" act connect restart a/b --yes
has "act connect restart a/b: the answer" "$T/out" '^HTTP 202 '
has "act connect restart a/b: the connector's state, named" "$T/out" '^connector a/b: RESTARTING$'
reqs connect "act connect: .. sent no request; a/b went as one segment" \
     '[(x["method"], x["path"]) for x in r] == [("POST", "/connectors/a%2Fb/restart")]'

# Kafka Connect before 2.3 lists bare names and the collector reads each
# connector: "a/b" as /connectors/a%2Fb/..., ".." marked and never read.
start_httpd connect-old '{"routes": [
  {"path": "/connectors", "json": ["a/b", ".."], '"$CT"'},
  {"path": "/connectors/a%2Fb/status", '"$CT"',
   "json": {"name": "a/b", "connector": {"state": "RUNNING", "worker_id": "w:8083"},
            "tasks": [{"id": 0, "state": "RUNNING", "worker_id": "w:8083"}], "type": "source"}},
  {"path": "/connectors/a%2Fb/config", '"$CT"',
   "json": {"connector.class": "io.debezium.connector.postgresql.PostgresConnector",
            "name": "a/b"}},
  {"path": "/", "json": {"version": "2.2.0", "commit": "abc", "kafka_cluster_id": "k"}, '"$CT"'}]}'
src_cfg "$T/connect-old.yaml" connect kafka_connect
expect "status: Connect listing a/b and .." 0 "$B" -c "$T/connect-old.yaml" status --json
json "status: .. marked with the refusal, a/b read" \
     'd["sources"]["connect"]["status"] == "degraded" and
      {c["name"]: (c.get("state"), c.get("error")) for c in d["sources"]["connect"]["connectors"]}
      == {"a/b": ("RUNNING", None), "..": (None, "connector name \"..\" '"$REFUSED"'")}'
reqs connect-old "status: a/b read as /connectors/a%2Fb/status and /config" \
     '[x["path"] for x in r if x["path"].startswith("/connectors/")]
      == ["/connectors/a%2Fb/status", "/connectors/a%2Fb/config"]'
reqs connect-old "status: nothing requested for .." \
     'sorted(x["path"] for x in r if not x["path"].startswith("/connectors")) == ["/"]'

# Schema Registry: subjects "a/b" and ".." listed by the server.
start_httpd registry '{"routes": [
  {"path": "/subjects", "json": ["a/b", ".."], '"$CT"'},
  {"path": "/config", "json": {"compatibilityLevel": "BACKWARD"}, '"$CT"'},
  {"path": "/subjects/a%2Fb/versions", "json": [1], '"$CT"'},
  {"path": "/subjects/a%2Fb/versions/latest", '"$CT"',
   "json": {"subject": "a/b", "version": 1, "id": 7, "schema": "\"long\""}},
  {"path": "/config/a%2Fb", "status": 404, '"$CT"',
   "json": {"error_code": 40408,
            "message": "Subject does not have subject-level compatibility configured"}}]}'
src_cfg "$T/registry.yaml" registry schema_registry
expect "status: registry listing a/b and .." 0 "$B" -c "$T/registry.yaml" status --json
json "status: registry degraded by .., a/b read" \
     'd["sources"]["registry"]["status"] == "degraded" and
      d["sources"]["registry"]["error"] == "subject name \"..\" '"$REFUSED"'"'
reqs registry "registry: a/b read as one segment, nothing for .." \
     'sorted(x["path"] for x in r) == ["/config", "/config/a%2Fb", "/subjects",
      "/subjects/a%2Fb/versions", "/subjects/a%2Fb/versions/latest"]'

# Airflow 3 (api: auto) without a user: plain requests, no POST /auth/token;
# a DAG ".." the server lists is noted, "etl/x" is one segment; then `act`
# on a DAG ".." sends nothing.
start_httpd airflow '{"routes": [
  {"path": "/api/v2/version", "json": {"version": "3.0.2", "git_version": null}, '"$CT"'},
  {"path": "/api/v2/dags", "query": "limit=100&offset=0", '"$CT"',
   "json": {"dags": [{"dag_id": "etl/x", "is_paused": false}, {"dag_id": "..", "is_paused": false}],
            "total_entries": 2}},
  {"path": "/api/v2/dags/etl%2Fx/dagRuns", "query": "limit=100&offset=0&order_by=-run_after",
   "json": {"dag_runs": [], "total_entries": 0}, '"$CT"'}]}'
src_cfg "$T/airflow.yaml" af airflow "api: auto"
expect "status: Airflow without a user" 0 "$B" -c "$T/airflow.yaml" status --json
json "status: Airflow read without credentials, .. noted" \
     'd["sources"]["af"]["status"] == "degraded" and
      d["sources"]["af"]["error"] == "..: DAG name \"..\" '"$REFUSED"'"'
reqs airflow "Airflow without a user: no POST /auth/token, no Authorization header" \
     'r and not any(x["method"] != "GET" or "authorization" in x["headers"] for x in r)'
reqs airflow "Airflow: etl/x read as one segment, nothing for .." \
     '[x["path"] for x in r] == ["/api/v2/version", "/api/v2/dags", "/api/v2/dags/etl%2Fx/dagRuns"]'
: >"$T/airflow/requests.log"
for action in trigger clear pause unpause; do
        expect "act af $action ..: refused" 66 "$B" -c "$T/airflow.yaml" act af "$action" .. --yes
        has "act af $action ..: says why" "$T/err" "^lambdaops: act: DAG name \"\\.\\.\" $REFUSED\$"
done
reqs airflow "act af on ..: no request at all" 'r == []'

echo "$fails failure(s)"
[ "$fails" = 0 ]
