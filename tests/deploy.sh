#!/usr/bin/env bash
# sh_deploy: validates deploy/ (the pipeline as code) without a cluster.
# Starts a throwaway PostgreSQL 15 and ClickHouse 18.16 (127.0.0.1, free
# ports, a temp dir, stopped by PID) and runs tests/deploy_lint.py, which
# checks every manifest, the plan, the configs, the Python and dbt code, and
# runs the SQL on the real servers (see its docstring for the list).
set -uo pipefail

SRC=${LO_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
BIN=${LO_BINARY:-}
# shellcheck source=../scripts/pglib.sh
. "$SRC/scripts/pglib.sh"
# shellcheck source=../scripts/chlib.sh
. "$SRC/scripts/chlib.sh"

python3 -c 'import yaml' 2>/dev/null || {
        echo "deploy.sh: python3 with PyYAML is required (python3-yaml; scripts/deps.sh)" >&2
        exit 1
}

TMP=$(mktemp -d)
cleanup() {
        lo_ch_stop "$TMP"
        lo_pg_stop "$TMP"
        rm -rf "$TMP"
}
trap cleanup EXIT

PG_PORT=$(lo_pg_start "$TMP") || { echo "deploy.sh: PostgreSQL did not start" >&2; exit 1; }
CH_PORT=$(lo_ch_start "$TMP") || { echo "deploy.sh: ClickHouse did not start" >&2; exit 1; }
mkdir -p "$TMP/lint"

python3 "$SRC/tests/deploy_lint.py" --root "$SRC" --pg-port "$PG_PORT" --pg-bin "$LO_PG_BIN" \
        --ch-port "$CH_PORT" --lambdaops "$BIN" --tmp "$TMP/lint"
