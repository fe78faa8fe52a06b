#!/usr/bin/env bash
#
# hostile_files.sh: files lambdaops is pointed at that are not regular
# files. A FIFO blocks open(2) and read(2) until a writer comes, so reading
# one used to hang the command for ever; now every such file is refused at
# once with a message naming it:
#
#   - a password_file that is a FIFO or a directory: `check` (exit 2) and
#     `status --json` (exit 0, the source down) say why;
#   - a config file that is a FIFO (`-c FIFO`) or a directory: exit 78;
#   - a plan file that is a FIFO or a directory (`plan --plan`): exit 78,
#     while a missing plan keeps its own exit code (66).
#
# No server is needed: the source points at 127.0.0.1 port 1, and the
# secret is read before connecting. Every command runs under `timeout` (run
# in cli_helpers.sh), so the old hang fails the test (exit 124) instead of
# stalling CI. Everything lives in one temp dir, removed at exit.
#
# Env: LO_BINARY (the lambdaops binary), LO_SOURCE_DIR (the source tree).

set -u

B=${LO_BINARY:?set LO_BINARY to the lambdaops binary}
SRC=${LO_SOURCE_DIR:?set LO_SOURCE_DIR to the source tree}
T=$(mktemp -d /tmp/lo-hostile.XXXXXX)
fails=0

cleanup() {
        rm -rf "$T"
}
trap cleanup EXIT
python3 "$SRC/tests/lib/proc_guard.py" --pid $$ --list "$T/.lo-guard" d "$T" r "$T" </dev/null >/dev/null 2>&1  # nothing started here outlives the test, even on SIGKILL

ok()   { printf 'ok   %s\n' "$1"; }
bad()  { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }

# shellcheck source=../lib/cli_helpers.sh
. "$(dirname "$0")/../lib/cli_helpers.sh"

cd "$T" || exit 1
mkdir -p home xdg dir
export HOME=$T/home XDG_CONFIG_HOME=$T/xdg
unset LAMBDAOPS_CONFIG NO_COLOR
mkfifo "$T/fifo" || { bad "mkfifo"; exit 1; }
IS_FIFO="is a FIFO; only a regular file is read"
IS_DIR="is a directory; only a regular file is read"

# write_cfg FILE PASSWORD_FILE
write_cfg() {
        cat >"$1" <<EOF
environment: test
sources:
  - name: orders-db
    kind: postgres
    dsn: "host=127.0.0.1 port=1 dbname=postgres user=postgres"
    password_file: $2
    timeout: 1s
EOF
}

# A FIFO as the password file.
write_cfg "$T/fifo-pw.yaml" "$T/fifo"
fifo_msg="secret file $T/fifo $IS_FIFO"
expect "check, password_file a FIFO" 2 "$B" -c "$T/fifo-pw.yaml" check
has "check names the FIFO" "$T/out" \
        "^LAMBDAOPS CRITICAL - 1 source: orders-db is down: cannot read the password: $fifo_msg"
expect "status, password_file a FIFO" 0 "$B" -c "$T/fifo-pw.yaml" status --json
json "status: the source is down, the error names the FIFO" \
        'd["sources"]["orders-db"]["status"] == "down" and
         d["sources"]["orders-db"]["error"] == "cannot read the password: '"$fifo_msg"'"'

# A directory as the password file.
write_cfg "$T/dir-pw.yaml" "$T/dir"
expect "check, password_file a directory" 2 "$B" -c "$T/dir-pw.yaml" check
has "check names the directory" "$T/out" \
        "cannot read the password: secret file $T/dir $IS_DIR"

# The config file itself.
expect "-c FIFO" 78 "$B" -c "$T/fifo" check
has "-c FIFO: named" "$T/err" "^lambdaops: config file $T/fifo $IS_FIFO\$"
expect "-c FIFO, config check" 78 "$B" -c "$T/fifo" config check
has "-c FIFO, config check: named" "$T/err" "config file $T/fifo $IS_FIFO\$"
expect "LAMBDAOPS_CONFIG a FIFO" 78 env LAMBDAOPS_CONFIG="$T/fifo" "$B" status
has "LAMBDAOPS_CONFIG a FIFO: named" "$T/err" "config file $T/fifo $IS_FIFO\$"
expect "-c directory" 78 "$B" -c "$T/dir" check
has "-c directory: named" "$T/err" "^lambdaops: config file $T/dir: Is a directory$"

# A plan file.
expect "plan --plan FIFO" 78 "$B" plan --plan "$T/fifo"
has "plan FIFO: named" "$T/err" "^lambdaops: plan file $T/fifo $IS_FIFO\$"
expect "up --plan FIFO --dry-run" 78 "$B" up --plan "$T/fifo" --dry-run
has "up FIFO: named" "$T/err" "^lambdaops: plan file $T/fifo $IS_FIFO\$"
expect "plan --plan directory" 78 "$B" plan --plan "$T/dir"
has "plan directory: named" "$T/err" "^lambdaops: plan file $T/dir $IS_DIR\$"
expect "plan --plan missing (unchanged)" 66 "$B" plan --plan "$T/nope.yaml"
has "plan missing: named" "$T/err" "^lambdaops: $T/nope.yaml: No such file or directory$"

# Files handed to a library (CA bundles, keys: CFG_PATH keys) are checked
# at load: a FIFO would block the library's open in the collector thread.
cat >"$T/fifo-ca.yaml" <<EOF
environment: test
sources:
  - name: speed
    kind: clickhouse
    url: "https://127.0.0.1:1"
    ca_file: $T/fifo
EOF
expect "ca_file a FIFO: config check" 78 "$B" -c "$T/fifo-ca.yaml" config check
has "ca_file a FIFO: named with its line" "$T/err" \
        "fifo-ca.yaml:6:14: .*ca_file: $T/fifo is a FIFO; only a regular file is read"
sed "s|ca_file: .*|ca_file: $T/dir|" "$T/fifo-ca.yaml" >"$T/dir-ca.yaml"
expect "ca_file a directory: accepted at load (a CA directory)" 0 "$B" -c "$T/dir-ca.yaml" config check
cat >"$T/fifo-key.yaml" <<EOF
environment: test
sources:
  - name: stream
    kind: kafka
    bootstrap: "127.0.0.1:1"
    security_protocol: ssl
    ssl_key_location: $T/fifo
EOF
expect "ssl_key_location a FIFO: config check" 78 "$B" -c "$T/fifo-key.yaml" config check
has "ssl_key_location a FIFO: named" "$T/err" "ssl_key_location: $T/fifo is a FIFO"

echo "$fails failure(s)"
[ "$fails" = 0 ]
