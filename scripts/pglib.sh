# shellcheck shell=bash
#
# pglib.sh: throwaway PostgreSQL servers for the sandbox, benchmarks and
# shell tests. Source it; every function works on a directory DIR that the
# caller owns (usually from mktemp -d) and keeps everything inside it:
#
#   DIR/pg/db        data directory        DIR/pg/log        server log
#   DIR/pg/port      the port in use       DIR/pg/.s.PGSQL.* unix socket
#   DIR/*.log        logs of helper processes started here
#
# Servers listen on 127.0.0.1 only, on a free port, and are stopped by PID
# (pg_ctl reads DIR/pg/db/postmaster.pid). Background helpers print their
# PID; the caller kills them by that PID. Nothing here sets global state in
# the caller's shell, and nothing touches system-wide PostgreSQL.
#
# When run as root, initdb and pg_ctl run as the `postgres` user (initdb
# refuses root); otherwise they run as the caller.
#
#   lo_pg_start DIR               initdb + start; prints the port
#   lo_pg_stop DIR                fast shutdown (then SIGKILL if it hangs)
#   lo_pg_psql DIR PORT SQL...    runs each SQL as user postgres, db postgres
#   lo_pg_setup_cdc DIR PORT      table orders, publication dbz_publication,
#                                 logical slots debezium_orders, analytics_stale
#   lo_pg_recvlogical DIR PORT SLOT   keeps SLOT active; prints the PID
#   lo_pg_load DIR PORT RATE      ~RATE inserts/s into orders; prints the PID

: "${LO_PG_BIN:=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"

# Runs a server binary as the data directory's owner.
_lo_pg_as_owner() {
        if [ "$(id -u)" = 0 ]; then
                runuser -u postgres -- "$@"
        else
                "$@"
        fi
}

# A loopback port with nothing listening on it (best effort: the caller
# retries on a race).
_lo_pg_free_port() {
        local p i
        for i in $(seq 1 50); do
                p=$((20000 + RANDOM % 40000))
                if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
                        echo "$p"
                        return 0
                fi
        done
        return 1
}

lo_pg_start() {
        local dir=$1 port try
        if [ -z "$dir" ] || [ ! -d "$dir" ]; then
                echo "lo_pg_start: no such directory: $dir" >&2
                return 1
        fi
        if [ ! -x "$LO_PG_BIN/initdb" ]; then
                echo "lo_pg_start: PostgreSQL server binaries not found (install the postgresql package)" >&2
                return 1
        fi
        chmod 755 "$dir"
        mkdir -p "$dir/pg"
        [ "$(id -u)" = 0 ] && chown postgres: "$dir/pg"
        if [ ! -f "$dir/pg/db/PG_VERSION" ]; then
                _lo_pg_as_owner "$LO_PG_BIN/initdb" -D "$dir/pg/db" -U postgres -A trust \
                        -E UTF8 --no-sync >"$dir/pg/initdb.log" 2>&1 || {
                        echo "lo_pg_start: initdb failed, see $dir/pg/initdb.log" >&2
                        return 1
                }
        fi
        for try in 1 2 3 4 5; do
                port=$(_lo_pg_free_port) || break
                if _lo_pg_as_owner "$LO_PG_BIN/pg_ctl" -D "$dir/pg/db" -l "$dir/pg/log" -w -t 30 \
                        -o "-p $port -c listen_addresses=127.0.0.1 -k $dir/pg -c wal_level=logical -c max_replication_slots=10 -c max_wal_senders=10 -c fsync=off" \
                        start >/dev/null 2>&1; then
                        echo "$port" >"$dir/pg/port"
                        echo "$port"
                        return 0
                fi
        done
        echo "lo_pg_start: could not start PostgreSQL, see $dir/pg/log" >&2
        return 1
}

lo_pg_stop() {
        local dir=$1 pid i p left db
        [ -f "$dir/pg/db/postmaster.pid" ] || return 0
        db=$(cd "$dir/pg/db" && pwd -P)
        pid=$(head -n 1 "$dir/pg/db/postmaster.pid")
        if ! _lo_pg_as_owner "$LO_PG_BIN/pg_ctl" -D "$dir/pg/db" -m fast -w -t 10 stop >/dev/null 2>&1; then
                # Hung (or SIGSTOPped): resume it and kill by PID.
                if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
                        kill -CONT "$pid" 2>/dev/null
                        kill -KILL "$pid" 2>/dev/null
                fi
        fi
        # Backends start sessions of their own, so they are in no group of the
        # postmaster's; a stopped or orphaned one runs on in the data dir (its
        # working directory). Resume and kill those too, then wait for them.
        for i in $(seq 1 100); do
                left=
                for p in /proc/[0-9]*; do
                        [ "$(readlink "$p/cwd" 2>/dev/null)" = "$db" ] || continue
                        left=1
                        kill -CONT "${p#/proc/}" 2>/dev/null
                        kill -KILL "${p#/proc/}" 2>/dev/null
                done
                [ -z "$left" ] && break
                sleep 0.1
        done
        return 0
}

lo_pg_psql() {
        local dir=$1 port=$2 sql
        shift 2
        for sql in "$@"; do
                "$LO_PG_BIN/psql" -X -h 127.0.0.1 -p "$port" -U postgres -d postgres \
                        -v ON_ERROR_STOP=1 -Atq -c "$sql" || return 1
        done
}

lo_pg_setup_cdc() {
        local dir=$1 port=$2
        lo_pg_psql "$dir" "$port" \
                "CREATE TABLE IF NOT EXISTS orders (id bigserial PRIMARY KEY, customer int, amount numeric, created_at timestamptz DEFAULT now())" \
                "CREATE PUBLICATION dbz_publication FOR TABLE orders" \
                "SELECT 1 FROM pg_create_logical_replication_slot('debezium_orders', 'pgoutput')" \
                "SELECT 1 FROM pg_create_logical_replication_slot('analytics_stale', 'pgoutput')" \
                >/dev/null
}

lo_pg_recvlogical() {
        local dir=$1 port=$2 slot=$3
        # -s 1: confirm every second so the active slot's lag stays small.
        "$LO_PG_BIN/pg_recvlogical" -h 127.0.0.1 -p "$port" -U postgres -d postgres \
                --slot "$slot" --start -s 1 -F 0 \
                -o proto_version=1 -o publication_names=dbz_publication -f - \
                </dev/null >/dev/null 2>>"$dir/recvlogical-$slot.log" &
        echo $!
}

lo_pg_load() {
        local dir=$1 port=$2 rate=$3
        cat >"$dir/load.sql" <<'EOF'
INSERT INTO orders (customer, amount) VALUES ((random() * 1000)::int, round((random() * 500)::numeric, 2));
EOF
        "$LO_PG_BIN/pgbench" -n -h 127.0.0.1 -p "$port" -U postgres -R "$rate" -T 86400 \
                -f "$dir/load.sql" postgres </dev/null >/dev/null 2>>"$dir/load.log" &
        echo $!
}
