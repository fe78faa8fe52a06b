#!/usr/bin/env bash
#
# cli.sh: the command line of the real binary, its exit codes and output,
# with no service: --version/--help (0), usage errors (64), a missing or
# malformed config (78 with FILE:LINE:COL on stderr), `config check` and
# the config search order, a source nobody listens on. The same against a
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

echo "$fails failure(s)"
[ "$fails" = 0 ]
