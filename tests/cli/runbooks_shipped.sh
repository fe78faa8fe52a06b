#!/usr/bin/env bash
#
# runbooks_shipped.sh: the runbooks of deploy/runbooks load with the shipped
# config (deploy/lambdaops.yaml, whose `runbooks: [runbooks]` names them).
#   - `lambdaops -c deploy/lambdaops.yaml config check` exits 0;
#   - the config's runbooks key names deploy/runbooks, and the files there
#     are exactly the expected runbooks, each file named after its id, each
#     with a check before it acts and a verify;
#   - `runbook list --json` lists exactly those ids, from their files, and
#     `runbook show` shows each; a copy with one runbook broken fails
#     `config check` (78, FILE:LINE:COL);
#   - the two user actions the runbooks use (drop-slot, start-merges) plan
#     exactly the argv they are written for (dry runs: nothing runs).
#
# Env: LO_BINARY (the lambdaops binary), LO_SOURCE_DIR (the source tree).

set -u

B=${LO_BINARY:?set LO_BINARY to the lambdaops binary}
S=${LO_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d /tmp/lo-rbship.XXXXXX)
fails=0
trap 'rm -rf "$T"' EXIT

# shellcheck source=../lib/helpers.sh
. "$S/tests/lib/helpers.sh"
# shellcheck source=../lib/cli_helpers.sh
. "$S/tests/lib/cli_helpers.sh"

# Nothing of the caller's: the audit log and any state go to $T.
export HOME=$T XDG_STATE_HOME=$T/state XDG_CONFIG_HOME=$T/config
unset LAMBDAOPS_CONFIG

CFG=$S/deploy/lambdaops.yaml
WANT="airflow-run-failed cdc-slot-inactive clickhouse-latency-high clickhouse-too-many-parts
connector-failed consumer-lag-stalled kafka-under-replicated kraft-quorum-degraded
postgres-restore-drill reconcile-mismatch spark-app-failed"

expect "config check of the shipped config and its runbooks" 0 "$B" -c "$CFG" config check
has "config check says ok" "$T/out" "lambdaops.yaml: ok"

# The runbooks key and the files, read with PyYAML (another parser than the
# loader's libyaml: the files are plain YAML for any tool).
PY=
for c in python3 /usr/bin/python3; do
        if "$c" -c 'import yaml' 2>/dev/null; then PY=$c; break; fi
done
if [ -z "$PY" ]; then
        bad "python3 with PyYAML is required (python3-yaml; scripts/deps.sh)"
else
        got=$("$PY" - "$CFG" <<'PY' 2>&1
import glob, os, sys, yaml
cfg = sys.argv[1]
c = yaml.safe_load(open(cfg))
if c.get("runbooks") != ["runbooks"]:
    sys.exit("runbooks: %r, want ['runbooks']" % (c.get("runbooks"),))
d = os.path.join(os.path.dirname(cfg), "runbooks")
ids = []
for f in sorted(glob.glob(os.path.join(d, "*.yaml")) + glob.glob(os.path.join(d, "*.yml"))):
    rb = yaml.safe_load(open(f))
    base = os.path.splitext(os.path.basename(f))[0]
    if rb.get("id") != base:
        sys.exit("%s: id %r is not the file's name" % (f, rb.get("id")))
    kinds = [k for s in rb["steps"] for k in ("check", "wait", "action", "run", "manual", "choose")
             if k in s]
    if "action" in kinds or "run" in kinds:
        # checks before and after the actions, and a verify
        first = min(i for i, k in enumerate(kinds) if k in ("action", "run"))
        last = max(i for i, k in enumerate(kinds) if k in ("action", "run"))
        if "check" not in kinds[:first]:
            sys.exit("%s: no check before its first action" % f)
        if not any(k in ("check", "wait") for k in kinds[last + 1:]) and not rb.get("verify"):
            sys.exit("%s: nothing checks after its last action" % f)
    if not rb.get("verify"):
        sys.exit("%s: no verify" % f)
    ids.append(rb["id"])
print(" ".join(ids))
PY
)
        want=$(echo $WANT)
        if [ "$got" = "$want" ]; then
                ok "deploy/runbooks holds exactly the expected runbooks, named after their ids"
        else
                bad "deploy/runbooks: got '$got', want '$want'"
        fi
fi

# The loader's view: runbook list --json lists exactly these ids, each from
# its own file, and every one shows.
expect "runbook list --json" 0 "$B" -c "$CFG" runbook list --json
json "list: exactly the shipped ids, in order, each from deploy/runbooks/ID.yaml" \
        "[r['id'] for r in d['runbooks']] == '''$WANT'''.split() and all(r['file'] == '$S/deploy/runbooks/' + r['id'] + '.yaml' for r in d['runbooks'])"
for id in $WANT; do
        expect "runbook show $id" 0 "$B" -c "$CFG" runbook show "$id"
        has "show $id names its file" "$T/out" "^file: .*deploy/runbooks/$id\.yaml$"
done

# The branches jump with next: on success, never with a check that fails
# on purpose (it would show as failed on the happy path).
expect "runbook show cdc-slot-inactive" 0 "$B" -c "$CFG" runbook show cdc-slot-inactive
has "the restart branch ends with a jump over the drop branch" "$T/out" "^     then done$"
if grep -q 'still-inactive' "$T/out"; then bad "cdc-slot-inactive still has still-inactive"; fi
expect "runbook show reconcile-mismatch" 0 "$B" -c "$CFG" runbook show reconcile-mismatch
has "the trigger jumps over the in-progress branch" "$T/out" "^     then run-started$"
has "dag-idle sends a run in progress to its own check" "$T/out" \
        "^     timeout 10m, retries 0, on_fail run-in-progress$"

# config check really reads them: a copy of deploy/ with one runbook broken
# (an action its source's kind does not have) fails with FILE:LINE:COL.
mkdir -p "$T/m" && cp -r "$S/deploy" "$T/m/deploy"
sed -i 's/action: resubmit/action: resubmitt/' "$T/m/deploy/runbooks/spark-app-failed.yaml"
expect "config check of a broken runbook" 78 "$B" -c "$T/m/deploy/lambdaops.yaml" config check
has "the error names the file, line and column and the action" "$T/err" \
        "deploy/runbooks/spark-app-failed.yaml:[0-9]+:[0-9]+: .*\"resubmitt\""

# The user actions the runbooks call, as planned (no program runs).
expect "drop-slot dry run" 0 "$B" -c "$CFG" act k8s drop-slot data/statefulset/postgres \
        debezium_shop --dry-run
has "drop-slot runs pg_recvlogical in the postgres pod, the slot as one word" "$T/out" \
        "^\\\$ kubectl --context kind-lambdaops -n data exec postgres-0 -c postgres -- pg_recvlogical -U postgres -d shop --slot=debezium_shop --drop-slot$"
expect "start-merges dry run" 0 "$B" -c "$CFG" act k8s start-merges data/statefulset/clickhouse \
        --dry-run
has "start-merges runs clickhouse-client in the clickhouse pod" "$T/out" \
        "^\\\$ kubectl --context kind-lambdaops -n data exec clickhouse-0 -c clickhouse -- clickhouse-client --query 'SYSTEM START MERGES ON CLUSTER speed'$"
# A slot name is one word even with a quote and a space in it: no SQL is
# ever built from it.
expect "drop-slot with a hostile slot name, dry run" 0 "$B" -c "$CFG" act k8s drop-slot \
        data/statefulset/postgres "x'; DROP TABLE orders; --" --dry-run
has "the hostile name stays inside --slot=" "$T/out" \
        "pg_recvlogical -U postgres -d shop '--slot=x.{4}; DROP TABLE orders; --' --drop-slot$"

if [ "$fails" -eq 0 ]; then
        echo "runbooks_shipped: all passed"
        exit 0
fi
echo "runbooks_shipped: $fails failed"
exit 1
