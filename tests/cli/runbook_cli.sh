#!/usr/bin/env bash
#
# runbook_cli.sh: `lambdaops runbook list|show` and `config check` with
# runbooks, on the real binary and no service: a PostgreSQL source on a
# closed port (127.0.0.1:1) is down, so its `status` alert is live and the
# runbook whose `when:` answers it is suggested. Checks the exact JSON of
# `list --json`, the exact text of `show`, and the exit codes: 0, 64 usage,
# 66 unknown runbook, 78 a broken runbook (FILE:LINE:COL on stderr) or a
# runbooks: entry that does not exist.
#
# Env: LO_BINARY (the lambdaops binary), LO_SOURCE_DIR (the source tree).
# Every command runs under `timeout`; everything lives in one temp dir,
# removed at exit.

set -u

B=${LO_BINARY:?set LO_BINARY to the lambdaops binary}
SRC=${LO_SOURCE_DIR:?set LO_SOURCE_DIR to the source tree}
T=$(mktemp -d /tmp/lo-rbcli.XXXXXX)
fails=0

cleanup() {
        rm -rf "$T"
}
trap cleanup EXIT

ok()   { printf 'ok   %s\n' "$1"; }
bad()  { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }

# shellcheck source=../lib/cli_helpers.sh
. "$(dirname "$0")/../lib/cli_helpers.sh"

# same NAME FILE: FILE's bytes are exactly those of $T/want.
same() {
        if cmp -s "$T/want" "$2"; then
                ok "$1"
        else
                bad "$1: differs: $(diff "$T/want" "$2" | head -c 800)"
        fi
}

cd "$T" || exit 1
mkdir -p empty home xdg conf
export HOME=$T/home XDG_CONFIG_HOME=$T/xdg
unset LAMBDAOPS_CONFIG NO_COLOR
cp -r "$SRC/tests/fixtures/runbooks/cli" conf/rb
cp -r "$SRC/tests/fixtures/runbooks/broken" conf/broken

# The runbooks: entry is relative to the config file, not to the cwd.
cat >conf/lambdaops.yaml <<'YAML'
runbooks: [rb]
sources:
  - name: orders-db
    kind: postgres
    dsn: "host=127.0.0.1 port=1 dbname=postgres user=postgres"
    timeout: 1s
YAML
C=$T/conf/lambdaops.yaml

expect "config check with runbooks" 0 env -C "$T/empty" "$B" -c "$C" config check
printf '%s: ok (1 source, 2 runbooks)\n' "$C" >"$T/want"
same "config check counts the runbooks" "$T/out"

# ---- list -------------------------------------------------------------------

expect "runbook list --json" 0 env -C "$T/empty" "$B" -c "$C" runbook list --json
cat >"$T/want" <<JSON
{"runbooks":[{"id":"postgres-down","title":"PostgreSQL does not answer","file":"$T/conf/rb/postgres-down.yaml","suggested":true,"matched_alerts":[{"source":"orders-db","metric":"status","subject":null,"severity":"crit","message":"orders-db is down: connection refused: is PostgreSQL running at 127.0.0.1:1?","expr":null}]},{"id":"slot-lag","title":"A slot lags","file":"$T/conf/rb/slot-lag.yml","suggested":false,"matched_alerts":[]}]}
JSON
same "list --json: both runbooks, postgres-down suggested by the live alert" "$T/out"

expect "runbook list" 0 "$B" runbook list -c "$C"
cat >"$T/want" <<'TEXT'
  ID             TITLE
* postgres-down  PostgreSQL does not answer
    crit: orders-db is down: connection refused: is PostgreSQL running at 127.0.0.1:1?
  slot-lag       A slot lags
(* suggested: a live alert or status matches its `when:`)
TEXT
same "list: text" "$T/out"

# ---- show -------------------------------------------------------------------

expect "runbook show" 0 "$B" -c "$C" runbook show postgres-down
cat >"$T/want" <<TEXT
postgres-down: PostgreSQL does not answer
file: $T/conf/rb/postgres-down.yaml

The collector cannot connect; find out why before anything else.

when:
  kind=postgres metric=status severity=critical

inputs:
  source: source (postgres), from the alert's source
  wait: duration, default 2m

steps:
  1. ping [run] Is the server up?
     run pg_isready --timeout=5 --dbname=\${source}
     timeout 30s, retries 2, on_fail look
  2. look [manual]
     Read the server log of \${source}; fix what it says.
     timeout 10m, retries 0, on_fail stop
  3. up [wait]
     until on \${source}: status == "ok"
     timeout 5m, retries 0, on_fail stop

verify:
  holds on \${source}: status == "ok" (for 30s), timeout 10m
TEXT
same "show: every step with its kind, text, timeout, retries and on_fail" "$T/out"

expect "show an unknown id" 66 "$B" -c "$C" runbook show nope
printf 'lambdaops: runbook: no runbook "nope" (known: postgres-down, slot-lag)\n' >"$T/want"
same "show an unknown id: the known ids" "$T/err"

# ---- usage --------------------------------------------------------------------

expect "runbook without a verb" 64 "$B" -c "$C" runbook
expect "runbook unknown verb" 64 "$B" -c "$C" runbook frob
has "unknown verb named" "$T/err" "unknown verb 'frob'"
expect "show without an id" 64 "$B" -c "$C" runbook show
expect "list with an argument" 64 "$B" -c "$C" runbook list x
expect "show --json" 64 "$B" -c "$C" runbook show postgres-down --json
expect "runbook --help" 0 "$B" runbook --help
has "help lists show" "$T/out" 'runbook show ID'
expect "main --help lists runbook" 0 "$B" --help
has "main --help: runbook list" "$T/out" 'runbook list \[--json\]'

# ---- broken runbooks: 78 with FILE:LINE:COL -------------------------------------

sed 's/^runbooks: \[rb\]/runbooks: [broken\/bad-kind.yaml]/' "$C" >conf/kind.yaml
expect "config check: unknown step kind" 78 "$B" -c "$T/conf/kind.yaml" config check
printf 'lambdaops: %s/conf/broken/bad-kind.yaml:7:5: steps[1]: unknown key "shell" (a step is one of check, wait, action, run, manual, choose)\n' "$T" >"$T/want"
same "config check: the exact message" "$T/err"
expect "runbook list: unknown step kind" 78 "$B" -c "$T/conf/kind.yaml" runbook list
same "runbook list: the same message" "$T/err"

sed 's/^runbooks: \[rb\]/runbooks: ["broken\/bad-s*.yaml"]/' "$C" >conf/src.yaml
expect "config check: unknown source" 78 "$B" -c "$T/conf/src.yaml" config check
printf 'lambdaops: %s/conf/broken/bad-source.yaml:6:7: step first: no source "nowhere" in %s/conf/src.yaml\n' "$T" "$T" >"$T/want"
same "config check: unknown source, exact" "$T/err"

sed 's/^runbooks: \[rb\]/runbooks: [rb, missing]/' "$C" >conf/missing.yaml
expect "config check: a runbooks entry that does not exist" 78 "$B" -c "$T/conf/missing.yaml" config check
printf 'lambdaops: %s/conf/missing.yaml: runbooks: %s/conf/missing: No such file or directory (a directory, a file or a glob, relative to the config file)\n' "$T" "$T" >"$T/want"
same "config check: missing entry, exact" "$T/err"

mkdir -p conf/dup && cp conf/rb/slot-lag.yml conf/dup/again.yaml
sed 's/^runbooks: \[rb\]/runbooks: [rb, dup]/' "$C" >conf/dup.yaml
expect "config check: one id in two files" 78 "$B" -c "$T/conf/dup.yaml" config check
printf 'lambdaops: %s/conf/rb/slot-lag.yml: id "slot-lag" is already the id of %s/conf/dup/again.yaml\n' "$T" "$T" >"$T/want"
same "config check: duplicate id, exact" "$T/err"

sed 's/^runbooks: \[rb\]/runbooks: rb/' "$C" >conf/notlist.yaml
expect "config check: runbooks not a list" 78 "$B" -c "$T/conf/notlist.yaml" config check
has "runbooks not a list: FILE:LINE:COL" "$T/err" 'notlist\.yaml:1:11: '

if [ "$fails" -ne 0 ]; then
        printf '%d check(s) failed\n' "$fails"
        exit 1
fi
printf 'all checks passed\n'
