#!/usr/bin/env bash
#
# runbook_conf.sh: an action's JSON argument (a trigger's conf) written as
# JSON in a runbook gets its inputs inside its strings only. A bucket of
# `x", "evil": "1` stays one string value: the conf Airflow receives has
# exactly the keys the runbook wrote. Real binary, fixture Airflow 3
# (tests/lib/fixture_httpd.py), the exact POST body from its request log.
#
# Env: LO_BINARY (the lambdaops binary), LO_SOURCE_DIR (the source tree).

set -u

B=${LO_BINARY:?set LO_BINARY to the lambdaops binary}
SRC=${LO_SOURCE_DIR:?set LO_SOURCE_DIR to the source tree}
T=$(mktemp -d /tmp/lo-rbconf.XXXXXX)
fails=0
pids=()

cleanup() {
        local p
        for p in "${pids[@]}"; do
                kill "$p" 2>/dev/null
        done
        rm -rf "$T"
}
trap cleanup EXIT
python3 "$SRC/tests/lib/proc_guard.py" --pid $$ --list "$T/.lo-guard" d "$T" r "$T" </dev/null >/dev/null 2>&1

ok()   { printf 'ok   %s\n' "$1"; }
bad()  { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }

# shellcheck source=../lib/cli_helpers.sh
. "$(dirname "$0")/../lib/cli_helpers.sh"

cd "$T" || exit 1
mkdir -p home xdg state af
export HOME=$T/home XDG_CONFIG_HOME=$T/xdg XDG_STATE_HOME=$T/state USER=tester
unset LAMBDAOPS_CONFIG NO_COLOR
CT='"headers": {"Content-Type": "application/json"}'

cat >"$T/af/routes.json" <<JSON
{"routes": [
  {"path": "/api/v2/version", $CT, "json": {"version": "3.0.2", "git_version": null}},
  {"method": "POST", "path": "/api/v2/dags/batch/dagRuns", $CT,
   "json": {"dag_id": "batch", "dag_run_id": "manual__1", "state": "queued"}}
]}
JSON
: >"$T/af/requests.log"
python3 "$SRC/tests/lib/fixture_httpd.py" --routes "$T/af/routes.json" \
        --log "$T/af/requests.log" --port-file "$T/af/port" </dev/null >>"$T/af/httpd.log" 2>&1 &
pids+=("$!")
deadline=$(($(date +%s%3N) + 20000))
until [ -s "$T/af/port" ] || [ "$(date +%s%3N)" -ge "$deadline" ]; do
        sleep 0.05
done
[ -s "$T/af/port" ] || { bad "fixture Airflow did not start: $(cat "$T/af/httpd.log")"; exit 1; }

mkdir -p runbooks
cp "$SRC/tests/fixtures/runbooks/conf/rerun.yaml" runbooks/
cat >"$T/lo.yaml" <<YAML
environment: test
audit_log: $T/audit.jsonl
runbooks: [runbooks]
sources:
  - name: af
    kind: airflow
    url: http://127.0.0.1:$(cat "$T/af/port")
    api: auto
    timeout: 5s
YAML

HOSTILE='x", "evil": "1'
expect "runbook run rerun, a bucket holding quotes" 0 \
        "$B" -c "$T/lo.yaml" runbook run rerun --input "bucket=$HOSTILE" --yes
res=$(python3 -c '
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
posts = [x for x in r if x["method"] == "POST"]
want = {"logical_date": None, "conf": {"reason": "runbook", "bucket": sys.argv[2]}}
print("yes" if len(posts) == 1 and json.loads(posts[0]["body"]) == want
      else "no: " + json.dumps([x.get("body") for x in posts]))
' "$T/af/requests.log" "$HOSTILE" 2>&1)
if [ "$res" = yes ]; then
        ok "the conf has exactly reason and bucket; the bucket is the whole input"
else
        bad "conf: $res"
fi

echo "$fails failure(s)"
[ "$fails" = 0 ]
