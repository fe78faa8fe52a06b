#!/usr/bin/env bash
#
# cli_postgres.sh: the command line of the real binary against a real
# PostgreSQL (scripts/pglib.sh) with two logical slots, one kept active by
# pg_recvlogical and one left inactive with WAL behind it: `status --json`
# (valid JSON, both slots, lag matching pg_wal_lsn_diff), `check` exit codes
# against thresholds below/above the inactive slot's lag, `down` when the
# server stops, a service that accepts connections but never answers
# (bounded, never hangs), and that passwords given by password_env or
# inside the dsn never appear in any output. Starts a real server, so it
# runs on the real clock only (ctest label real-clock).
#
# Env: LO_BINARY (the lambdaops binary), LO_SOURCE_DIR (the source tree).
# Every command runs under `timeout` so a hang fails the test instead of
# stalling CI. Everything lives in one temp dir, removed at exit; servers
# and helpers are stopped by their PID.

set -u

B=${LO_BINARY:?set LO_BINARY to the lambdaops binary}
SRC=${LO_SOURCE_DIR:?set LO_SOURCE_DIR to the source tree}
T=$(mktemp -d /tmp/lo-cli-pg.XXXXXX)
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

# ---- a real PostgreSQL ------------------------------------------------------

# shellcheck source=../../scripts/pglib.sh
. "$SRC/scripts/pglib.sh"
if [ ! -x "${LO_PG_BIN:-}/initdb" ]; then
        echo "SKIP: PostgreSQL server binaries not found"
        echo "$fails failure(s)"
        [ "$fails" = 0 ]
        exit
fi

PORT=$(lo_pg_start "$T") || { bad "lo_pg_start"; exit 1; }
pg_started=1
lo_pg_setup_cdc "$T" "$PORT" || bad "lo_pg_setup_cdc"
pids+=("$(lo_pg_recvlogical "$T" "$PORT" debezium_orders)")
# WAL that the inactive slot has not confirmed: ~2.5 MB.
lo_pg_psql "$T" "$PORT" \
        "INSERT INTO orders (customer, amount) SELECT g % 1000, g FROM generate_series(1, 10000) g" \
        "CHECKPOINT" >/dev/null || bad "insert rows"
stale_lag() {
        lo_pg_psql "$T" "$PORT" "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint FROM pg_replication_slots WHERE slot_name = 'analytics_stale'"
}
LAG=$(stale_lag)
if [ -n "$LAG" ] && [ "$LAG" -gt 262144 ]; then
        ok "inactive slot lag is $LAG bytes"
else
        bad "inactive slot lag too small: '$LAG'"
        LAG=1000000
fi
# Wait (bounded) until pg_recvlogical has the other slot active.
for _ in $(seq 1 100); do
        [ "$(lo_pg_psql "$T" "$PORT" "SELECT active FROM pg_replication_slots WHERE slot_name = 'debezium_orders'")" = t ] && break
        sleep 0.1
done

PW_ENV='env-secret-Qx7pW2'
PW_DSN='dsn-secret-Zr4kL9'
export LO_TEST_PG_PASSWORD=$PW_ENV
# mkcfg NAME WARN CRIT [PORT]: a config with slot_lag_bytes thresholds and
# every other threshold out of the way.
mkcfg() {
        cat >"$T/$1.yaml" <<EOF
environment: cli-test
sources:
  - name: orders-db
    kind: postgres
    dsn: "host=127.0.0.1 port=${4:-$PORT} dbname=postgres user=postgres"
    password_env: LO_TEST_PG_PASSWORD
    interval: 1s
    timeout: 2s
    thresholds:
      slot_lag_bytes: {warn: $2, crit: $3}
      retained_bytes: {warn: 1TiB, crit: 2TiB}
      slot_inactive_ms: {warn: 1h, crit: 2h}
      sender_lag_ms: {warn: 1h, crit: 2h}
  - name: orders-db-dsnpw
    kind: postgres
    dsn: "host=127.0.0.1 port=${4:-$PORT} dbname=postgres user=postgres password=$PW_DSN"
    interval: 1s
    timeout: 2s
    thresholds:
      slot_lag_bytes: {warn: 1TiB, crit: 2TiB}
      retained_bytes: {warn: 1TiB, crit: 2TiB}
      slot_inactive_ms: {warn: 1h, crit: 2h}
      sender_lag_ms: {warn: 1h, crit: 2h}
EOF
}
mkcfg high 1TiB 2TiB
mkcfg warn $((LAG / 2)) 1TiB
mkcfg crit $((LAG / 4)) $((LAG / 2))

expect "config check (pg)" 0 "$B" -c "$T/high.yaml" config check
has "config check counts sources" "$T/out" 'ok \(2 sources\)'

expect "status --json (pg)" 0 "$B" -c "$T/high.yaml" status --json
WANT=$(stale_lag)
if python3 -m json.tool "$T/out" >/dev/null 2>&1; then
        ok "status --json is valid JSON"
else
        bad "status --json is not JSON: $(head -c 400 "$T/out")"
fi
json "both sources ok" 'd["sources"]["orders-db"]["status"] == "ok" and d["sources"]["orders-db-dsnpw"]["status"] == "ok" and d["overall"] == "ok"'
json "common keys" 'all(k in d["sources"]["orders-db"] for k in ("kind", "status", "error", "collected_at", "poll_ms")) and d["sources"]["orders-db"]["error"] is None and d["sources"]["orders-db"]["kind"] == "postgres"'
json "the two slots" 'sorted(s["name"] for s in d["sources"]["orders-db"]["slots"]) == ["analytics_stale", "debezium_orders"]'
json "slot activity" '{s["name"]: s["active"] for s in d["sources"]["orders-db"]["slots"]} == {"analytics_stale": False, "debezium_orders": True}'
json "inactive slot lag within 5% of pg_wal_lsn_diff ($WANT)" 'abs([s for s in d["sources"]["orders-db"]["slots"] if s["name"] == "analytics_stale"][0]["lag_bytes"] - '"$WANT"') <= 0.05 * '"$WANT"
json "postgres keys" 'all(k in d["sources"]["orders-db"] for k in ("server_version", "wal_level", "slots", "publications", "senders")) and d["sources"]["orders-db"]["wal_level"] == "logical"'
json "publication listed" '"dbz_publication" in [p["name"] for p in d["sources"]["orders-db"]["publications"]]'
json "no alerts" 'd["alerts"] == []'

expect "status table (pg)" 0 "$B" -c "$T/high.yaml" status
has "status table has the source" "$T/out" '^orders-db +postgres +ok '
has "status table says no alerts" "$T/out" '^no alerts$'

expect "check, high thresholds" 0 "$B" -c "$T/high.yaml" check
has "check OK line" "$T/out" '^LAMBDAOPS OK - 2 sources: all ok'
expect "check, warn below the inactive slot's lag" 1 "$B" -c "$T/warn.yaml" check
has "check WARNING names the slot" "$T/out" '^LAMBDAOPS WARNING - 2 sources: .*analytics_stale'
expect "status --json, warn" 0 "$B" -c "$T/warn.yaml" status --json
json "warn alert fields" 'd["overall"] == "warn" and any(a["severity"] == "warn" and a["source"] == "orders-db" and a["metric"] == "slot_lag_bytes" and a["subject"] == "analytics_stale" and a["value"] >= a["threshold"] == '"$((LAG / 2))"' for a in d["alerts"])'
expect "check, crit below the inactive slot's lag" 2 "$B" -c "$T/crit.yaml" check
has "check CRITICAL names the slot" "$T/out" '^LAMBDAOPS CRITICAL - 2 sources: .*analytics_stale'

# A listener that accepts and never says a word: the poll times out (2 s),
# nothing hangs, and the source is reported down.
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1], flush=True)
time.sleep(600)
' "$T/hang" >"$T/hang.port" 2>/dev/null </dev/null &
pids+=("$!")
for _ in $(seq 1 50); do
        [ -s "$T/hang.port" ] && break
        sleep 0.1
done
mkcfg hang 1TiB 2TiB "$(cat "$T/hang.port")"
t0=$(date +%s%N)
expect "check, a hung service" 2 "$B" -c "$T/hang.yaml" check
ms=$((($(date +%s%N) - t0) / 1000000))
# Bounded: the listener would hold it for 600 s; the 60 s bound leaves a
# loaded machine room over the 2 s timeout.
if [ "$ms" -lt 60000 ]; then
        ok "hung service bounded: ${ms} ms (timeout 2 s)"
else
        bad "hung service took ${ms} ms"
fi

# The server goes away: down, crit.
lo_pg_stop "$T"
expect "check, server stopped" 2 "$B" -c "$T/high.yaml" check
has "check names it down" "$T/out" '^LAMBDAOPS CRITICAL - 2 sources: orders-db is down'
expect "status --json, server stopped" 0 "$B" -c "$T/high.yaml" status --json
json "down in JSON" 'd["overall"] == "crit" and d["sources"]["orders-db"]["status"] == "down" and d["sources"]["orders-db"]["error"] and any(a["metric"] == "status" and a["severity"] == "crit" for a in d["alerts"])'
expect "status table, server stopped" 0 "$B" -c "$T/high.yaml" status

# Secrets: in none of the outputs above.
if grep -qF -e "$PW_ENV" -e "$PW_DSN" "$T/all"; then
        bad "a password appears in the output: $(grep -nF -e "$PW_ENV" -e "$PW_DSN" "$T/all" | head -3)"
else
        ok "no password in any output ($(wc -l <"$T/all") lines scanned)"
fi

echo "$fails failure(s)"
[ "$fails" = 0 ]
