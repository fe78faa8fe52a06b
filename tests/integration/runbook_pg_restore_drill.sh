#!/usr/bin/env bash
#
# runbook_pg_restore_drill.sh: the shipped runbook postgres-restore-drill
# (deploy/runbooks/postgres-restore-drill.yaml) end to end with the real
# binary and the real PostgreSQL 15 client programs (pg_restore, createdb,
# dropdb, psql) on a real PostgreSQL (scripts/pglib.sh) whose live database
# `shop` has two tables with rows. The nightly backup is made as the
# CronJob pg-dump of deploy/backup makes it (`pg_dump -d shop -Fc -f
# .../postgres/$(JOB_NAME)-shop.dump`) into a directory standing in for the
# MinIO bucket `backups`.
#
# MinIO cannot run here: `mc` is a stand-in on PATH (written below) that
# implements `mc cp ALIAS/BUCKET/KEY DEST` for the alias lambdaops-minio by
# copying from that directory, and logs its argv. Everything else is real:
# the restore goes into a real scratch database, and while the run waits
# at its manual step `compare`, the test compares the scratch database's
# rows with the live database's (row counts and an md5 of every row).
#
#   - a dry run (the shipped file): exit 0, the checks' values, every step's
#     resolved argv; nothing run (no mc call, no scratch database), no
#     ledger, no audit line;
#   - a real run: the confirmations (--yes) and the manual step (answered
#     through the pseudo-terminal, after the comparison) ; exit 0, the
#     ledger (each step, its argv, the restored tables listed by has-rows),
#     the scratch database and the copied dump gone at the end, the live
#     database untouched, no audit line (run steps are not actions);
#   - a failure path: a truncated dump (the copy cut in half): its table of
#     contents still reads, the restore fails; the run ends failed at
#     `restore`, exit 1, the scratch database left for a look;
#   - a backup without data (a table, no row): the restore works, has-rows
#     lists the empty table and fails (exit 1).
#
# The real runs use a copy where only the hold duration of the verify (10s)
# is shortened to 3s (rbe_shorten). The manual step needs a terminal, and
# the test types its answer into one: rbe_pty_answer, tests/lib/runbook_e2e.sh (rbe_pty_run gives
# a terminal but types nothing). Starts a real server, so it runs on the
# real clock only. Env: LO_BINARY, LO_SOURCE_DIR. Everything lives in one
# temp dir, removed at exit; the server is stopped by PID.
#
# ctest-label: real-clock

set -u

# shellcheck source=../lib/runbook_e2e.sh
. "${LO_SOURCE_DIR:?set LO_SOURCE_DIR to the source tree}/tests/lib/runbook_e2e.sh"
rbe_init rbpgr
pg_started=0
rbe_cleanup_hook() {
        if [ "$pg_started" = 1 ]; then
                lo_pg_stop "$T"
        fi
}
BACKUP=pg-dump-29123456
SCRATCH=restore_drill
mkdir -p runbooks bin work minio/backups/postgres

# ---- a real PostgreSQL with the live database shop ----------------------------------

# shellcheck source=../../scripts/pglib.sh
. "$SRC/scripts/pglib.sh"
if [ ! -x "${LO_PG_BIN:-}/initdb" ]; then
        echo "SKIP: PostgreSQL server binaries not found"
        exit 0
fi
for p in pg_restore createdb dropdb psql pg_dump; do
        if ! command -v "$p" >/dev/null; then
                echo "SKIP: $p not found"
                exit 0
        fi
done
PORT=$(lo_pg_start "$T") || { bad "lo_pg_start"; exit 1; }
pg_started=1
# dbq DB SQL: one value from DB.
dbq() { "$LO_PG_BIN/psql" -X -h 127.0.0.1 -p "$PORT" -U postgres -d "$1" -v ON_ERROR_STOP=1 -Atq -c "$2"; }
lo_pg_psql "$T" "$PORT" "CREATE DATABASE shop" >/dev/null || bad "create shop"
dbq shop "CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL)" >/dev/null
dbq shop "INSERT INTO customers SELECT g, 'customer ' || g FROM generate_series(1, 50) g" >/dev/null
dbq shop "CREATE TABLE shop_orders (id bigserial PRIMARY KEY, customer int REFERENCES customers, amount numeric(12, 2))" >/dev/null
dbq shop "INSERT INTO shop_orders (customer, amount) SELECT 1 + g % 50, g * 1.25 FROM generate_series(1, 1200) g" >/dev/null
# fingerprint DB: each table's row count and an md5 over its rows in key order.
fingerprint() {
        dbq "$1" "SELECT 'customers ' || count(*) || ' ' || md5(string_agg(c::text, ',' ORDER BY id)) FROM customers c" &&
        dbq "$1" "SELECT 'shop_orders ' || count(*) || ' ' || md5(string_agg(o::text, ',' ORDER BY id)) FROM shop_orders o"
}
LIVE=$(fingerprint shop)
# The CronJob's own command (deploy/backup/backups.yaml), into the stand-in bucket.
DUMP=$T/minio/backups/postgres/$BACKUP-shop.dump
pg_dump -h 127.0.0.1 -p "$PORT" -U postgres -d shop -Fc -f "$DUMP" || bad "pg_dump"
[ -s "$DUMP" ] && ok "the nightly dump exists ($(wc -c <"$DUMP") bytes)" || bad "no dump"

# The stand-in for MinIO's client: `mc cp ALIAS/PATH DEST` for one alias.
cat >"$T/bin/mc" <<EOF
#!/bin/sh
# mc stand-in (test only): cp lambdaops-minio/KEY DEST from $T/minio.
printf '%s\n' "\$*" >>"$T/mc.log"
[ "\$1" = cp ] && [ \$# = 3 ] || { echo "mc: only 'cp SRC DST'" >&2; exit 2; }
case "\$2" in
lambdaops-minio/*) exec cp -- "$T/minio/\${2#lambdaops-minio/}" "\$3" ;;
*) echo "mc: unknown alias in \$2" >&2; exit 1 ;;
esac
EOF
chmod +x "$T/bin/mc"
: >"$T/mc.log"
export PATH="$T/bin:$PATH"

mkcfg() {
        cat >"$1" <<EOF
environment: test
audit_log: $T/audit.jsonl
runbooks:
  - $2
sources:
  - name: shop-db
    kind: postgres
    dsn: "host=127.0.0.1 port=$PORT dbname=postgres user=postgres"
    interval: 1s
    timeout: 5s
EOF
}
mkcfg "$T/shipped.yaml" "$SRC/deploy/runbooks/postgres-restore-drill.yaml"
rbe_shorten "$SRC/deploy/runbooks/postgres-restore-drill.yaml" "$T/runbooks/postgres-restore-drill.yaml"
mkcfg "$T/short.yaml" "$T/runbooks"
CFG=$T/short.yaml
INPUTS=(--input source=shop-db --input backup=$BACKUP --input database=shop
        --input scratch=$SCRATCH --input mc_alias=lambdaops-minio --input "workdir=$T/work"
        --input pg_host=127.0.0.1 --input pg_port=$PORT --input pg_user=postgres)
W=$T/work/$BACKUP-shop.dump
CONN="--host=127.0.0.1 --port=$PORT --username=postgres --no-password"
scratch_exists() { dbq postgres "SELECT count(*) FROM pg_database WHERE datname = '$SCRATCH'"; }

expect "config check (shipped runbook)" 0 "$B" -c "$T/shipped.yaml" config check
expect "config check (shortened copy)" 0 "$B" -c "$T/short.yaml" config check

# ---- dry run, the shipped file ------------------------------------------------------

expect "dry run" 0 "$B" -c "$T/shipped.yaml" runbook run postgres-restore-drill --dry-run "${INPUTS[@]}"
cp "$T/out" "$T/dry.out"
has "dry run: the server is a primary" "$T/dry.out" \
        '^  now: true \(status = "ok", not in_recovery = true\)$'
has "dry run: the scratch name is safe" "$T/dry.out" '^  now: true \(not \(inputs\.scratch in .*\) = true, .*\)$'
has "dry run: fetch's argv" "$T/dry.out" \
        "^  \\\$ mc cp lambdaops-minio/backups/postgres/$BACKUP-shop.dump $W\$"
has "dry run: readable's argv" "$T/dry.out" "^  \\\$ pg_restore --list $W\$"
has "dry run: drop-old-scratch's argv" "$T/dry.out" \
        "^  \\\$ dropdb $CONN --if-exists -- $SCRATCH\$"
has "dry run: create-scratch's argv" "$T/dry.out" "^  \\\$ createdb $CONN -- $SCRATCH\$"
has "dry run: restore's argv" "$T/dry.out" \
        "^  \\\$ pg_restore $CONN --no-owner --no-privileges --exit-on-error --dbname=$SCRATCH $W\$"
has "dry run: has-rows runs psql on the scratch database" "$T/dry.out" \
        "^  \\\$ psql $CONN --no-psqlrc --dbname=$SCRATCH --set=ON_ERROR_STOP=1 -c ANALYZE -c "
has "dry run: the manual step" "$T/dry.out" "^  Compare the row counts above with the live database shop"
has "dry run: remove-dump's argv" "$T/dry.out" "^  \\\$ rm -f -- $W\$"
[ ! -s "$T/mc.log" ] && ok "dry run: mc never ran" || bad "dry run ran mc: $(cat "$T/mc.log")"
[ "$(scratch_exists)" = 0 ] && ok "dry run: no scratch database" || bad "dry run created $SCRATCH"
[ ! -e "$W" ] && ok "dry run: nothing copied" || bad "dry run copied the dump"
[ ! -e "$RUNS" ] && ok "dry run: no ledger" || bad "dry run wrote a ledger: $(ls "$RUNS")"
[ ! -s "$T/audit.jsonl" ] && ok "dry run: no audit line" || bad "dry run: audit: $(cat "$T/audit.jsonl")"

# ---- a real run ----------------------------------------------------------------------

printf 'Done\\? \\[y/N\\] \ty\t%s\n' "$T/compare-done" >"$T/answers"
rbe_pty_answer "$T/run.out" "$T/run.err" "$T/answers" \
        "$B" -c "$CFG" runbook run postgres-restore-drill --yes "${INPUTS[@]}"
# At the manual step the scratch database holds the restore: compare it
# with the live database, row by row, then let the run go on.
deadline=$(($(now_ms) + 90000))
until [ -e "$T/compare-done.asked" ]; do
        if [ "$(now_ms)" -ge "$deadline" ] || ! kill -0 "$RUN_PID" 2>/dev/null; then
                bad "the run never reached compare: $(head -c 3000 "$T/run.out") / $(head -c 800 "$T/run.err")"
                break
        fi
        sleep 0.05
done
RESTORED=$(fingerprint "$SCRATCH" 2>&1)
if [ -n "$LIVE" ] && [ "$RESTORED" = "$LIVE" ]; then
        ok "run: the scratch database holds exactly the live rows ($(echo "$LIVE" | cut -d' ' -f1,2 | tr '\n' ' '))"
else
        bad "run: restored '$RESTORED', live '$LIVE'"
fi
touch "$T/compare-done"
rbe_pty_wait
{ printf '### real run\n'; cat "$T/run.out" "$T/run.err"; } >>"$T/all"
if [ "$rc" = 0 ]; then
        ok "run --yes (exit 0)"
else
        bad "run --yes: exit $rc: $(head -c 3000 "$T/run.out") / $(head -c 1000 "$T/run.err")"
fi
has "run: ok" "$T/run.out" '^run [0-9]{8}T[0-9]{6}Z-postgres-restore-drill-[0-9a-f]{4}: ok$'
RUN=$(sed -n 's/^run \([^ ]*\): ok$/\1/p' "$T/run.out")
[ "$(cat "$T/mc.log")" = "cp lambdaops-minio/backups/postgres/$BACKUP-shop.dump $W" ] \
        && ok "run: mc ran once, the copy" || bad "run: mc calls: $(cat "$T/mc.log")"
[ "$(scratch_exists)" = 0 ] && ok "run: the scratch database was dropped" || bad "run: $SCRATCH left"
[ ! -e "$W" ] && ok "run: the copied dump was removed" || bad "run: $W left"
[ "$(fingerprint shop)" = "$LIVE" ] && ok "run: the live database is unchanged" || bad "run: live changed"

rbe_ledger "log: the start record" "$RUN" '
{k: v for k, v in d[0].items() if k != "at"} == {"ev": "start", "run": "'"$RUN"'",
 "runbook": "postgres-restore-drill", "file": "'"$T"'/runbooks/postgres-restore-drill.yaml",
 "user": "tester", "inputs": {"source": "shop-db", "backup": "'$BACKUP'", "database": "shop",
 "scratch": "'$SCRATCH'", "mc_alias": "lambdaops-minio", "workdir": "'"$T"'/work",
 "pg_host": "127.0.0.1", "pg_port": "'$PORT'", "pg_user": "postgres"}, "target": d[0]["target"]}'
json "log: every step ran in order, once, ok" '
[(x["step"], x["result"], x["attempt"]) for x in d if x.get("phase") == "end"] ==
[(s, "ok", 1) for s in ("live-ok", "scratch-name", "fetch", "readable", "drop-old-scratch",
 "create-scratch", "restore", "has-rows", "compare", "drop-scratch", "remove-dump")]'
json "log: the argv of each run step" '
{x["step"]: x["argv"] for x in d if x.get("phase") == "end" and "argv" in x and x["step"] != "has-rows"} == {
 "fetch": ["mc", "cp", "lambdaops-minio/backups/postgres/'$BACKUP'-shop.dump", "'"$W"'"],
 "readable": ["pg_restore", "--list", "'"$W"'"],
 "drop-old-scratch": ["dropdb"] + "'"$CONN"'".split() + ["--if-exists", "--", "'$SCRATCH'"],
 "create-scratch": ["createdb"] + "'"$CONN"'".split() + ["--", "'$SCRATCH'"],
 "restore": ["pg_restore"] + "'"$CONN"'".split() + ["--no-owner", "--no-privileges",
             "--exit-on-error", "--dbname='$SCRATCH'", "'"$W"'"],
 "drop-scratch": ["dropdb"] + "'"$CONN"'".split() + ["--if-exists", "--", "'$SCRATCH'"],
 "remove-dump": ["rm", "-f", "--", "'"$W"'"]}'
json "log: mutating: the steps that change the scratch database and the copy" '
[x["step"] for x in d if x.get("phase") == "end" and x["mutating"]] ==
["drop-old-scratch", "create-scratch", "restore", "drop-scratch", "remove-dump"]'
json "log: the archive listing names both tables" '
[("TABLE DATA public customers" in x["output_tail"], "TABLE DATA public shop_orders" in x["output_tail"])
 for x in d if x.get("phase") == "end" and x["step"] == "readable"] == [(True, True)]'
json "log: has-rows listed the restored tables, their rows, and how many have rows" '
[[l.split() for l in x["output_tail"].splitlines() if l.strip() and not l.startswith("-")]
 for x in d if x.get("phase") == "end" and x["step"] == "has-rows"] ==
[[["ANALYZE"], ["relation", "|", "rows"], ["public.customers", "|", "50"],
  ["public.shop_orders", "|", "1200"], ["(2", "rows)"], ["tables_with_rows"], ["2"], ["(1", "row)"]]]'
json "log: the checks' values" '
{x["step"]: x["values"] for x in d if x.get("phase") == "end" and x["step"] == "live-ok"} ==
{"live-ok": "status = \"ok\", not in_recovery = true"}'
json "log: the verify held, the run ended ok" '
[(x["source"], x["result"]) for x in d if x["ev"] == "verify"] == [("shop-db", "ok")]
and {k: v for k, v in d[-1].items() if k != "at"} == {"ev": "end", "result": "ok"}'
[ ! -s "$T/audit.jsonl" ] && ok "run: no audit line (run steps are not actions)" \
        || bad "run: audit: $(cat "$T/audit.jsonl")"

# ---- the failure path: a truncated dump --------------------------------------------

# The night's upload was cut: half the file. Its table of contents, at the
# start, still reads (`readable` passes, as pg_restore --list does); the
# restore reaches the missing data and fails (--exit-on-error), and the run
# stops there, leaving the scratch database for a look (as the runbook's
# description says).
head -c $(($(wc -c <"$DUMP") / 2)) "$DUMP" >"$DUMP.cut" && mv "$DUMP.cut" "$DUMP"
: >"$T/mc.log"
printf 'Done\\? \\[y/N\\] \ty\n' >"$T/answers2"
rbe_pty_answer "$T/fail.out" "$T/fail.err" "$T/answers2" \
        "$B" -c "$CFG" runbook run postgres-restore-drill --yes "${INPUTS[@]}"
rbe_pty_wait
{ printf '### failing run\n'; cat "$T/fail.out" "$T/fail.err"; } >>"$T/all"
[ "$rc" = 1 ] && ok "failing run: exit 1" || bad "failing run: exit $rc: $(head -c 2000 "$T/fail.out") / $(head -c 600 "$T/fail.err")"
has "failing run: failed" "$T/fail.out" '^run [0-9]{8}T[0-9]{6}Z-postgres-restore-drill-[0-9a-f]{4}: failed'
FRUN=$(sed -n 's/^run \([^ :]*\): failed.*$/\1/p' "$T/fail.out" | head -n 1)
rbe_ledger "failing log: the steps up to restore" "$FRUN" '
[(x["step"], x["result"]) for x in d if x.get("phase") == "end"] ==
[("live-ok", "ok"), ("scratch-name", "ok"), ("fetch", "ok"), ("readable", "ok"),
 ("drop-old-scratch", "ok"), ("create-scratch", "ok"), ("restore", "failed")]'
json "failing log: pg_restore failed at the end of the file, no verify, the end" '
[(x["error"], x["output_tail"]) for x in d if x.get("phase") == "end" and x["step"] == "restore"] ==
[("pg_restore: exited with status 1", "pg_restore: error: could not read from input file: end of file")]
and not any(x["ev"] == "verify" for x in d)
and {k: v for k, v in d[-1].items() if k != "at"} == {"ev": "end", "result": "failed"}'
[ "$(scratch_exists)" = 1 ] && ok "failing run: the scratch database is left for a look" \
        || bad "failing run: no $SCRATCH"
[ "$(fingerprint shop)" = "$LIVE" ] && ok "failing run: the live database is unchanged" \
        || bad "failing run: live changed"

# ---- the failure path: a backup without data ----------------------------------------

# The warehouse database has its table but no row: the restore works, and
# has-rows fails it (its count(*) / count(*) divides by zero), after
# listing the empty table. drop-old-scratch first drops the scratch
# database the truncated run left.
lo_pg_psql "$T" "$PORT" "CREATE DATABASE warehouse" >/dev/null
dbq warehouse "CREATE TABLE orders_hourly (bucket timestamptz PRIMARY KEY, n bigint)" >/dev/null
pg_dump -h 127.0.0.1 -p "$PORT" -U postgres -d warehouse -Fc \
        -f "$T/minio/backups/postgres/$BACKUP-warehouse.dump" || bad "pg_dump warehouse"
rbe_pty_answer "$T/empty.out" "$T/empty.err" "$T/answers2" \
        "$B" -c "$CFG" runbook run postgres-restore-drill --yes "${INPUTS[@]}" --input database=warehouse
rbe_pty_wait
{ printf '### empty run\n'; cat "$T/empty.out" "$T/empty.err"; } >>"$T/all"
[ "$rc" = 1 ] && ok "empty run: exit 1" || bad "empty run: exit $rc: $(head -c 2000 "$T/empty.out") / $(head -c 600 "$T/empty.err")"
ERUN=$(sed -n 's/^run \([^ :]*\): failed.*$/\1/p' "$T/empty.out" | head -n 1)
rbe_ledger "empty log: the steps up to has-rows" "$ERUN" '
d[0]["inputs"]["database"] == "warehouse" and
[(x["step"], x["result"]) for x in d if x.get("phase") == "end"] ==
[("live-ok", "ok"), ("scratch-name", "ok"), ("fetch", "ok"), ("readable", "ok"),
 ("drop-old-scratch", "ok"), ("create-scratch", "ok"), ("restore", "ok"), ("has-rows", "failed")]'
json "empty log: psql listed the empty table, then divided by zero" '
[(x["error"], [l.split() for l in x["output_tail"].splitlines() if l.strip().startswith("public.")],
  "division by zero" in x["output_tail"]) for x in d if x.get("phase") == "end" and x["step"] == "has-rows"] ==
[("psql: exited with status 1", [["public.orders_hourly", "|", "0"]], True)]'
[ "$(dbq "$SCRATCH" "SELECT count(*) FROM orders_hourly")" = 0 ] \
        && ok "empty run: the scratch database holds the restored, empty table" \
        || bad "empty run: scratch database"

rbe_done postgres-restore-drill runbook
