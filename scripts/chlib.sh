# shellcheck shell=bash
#
# chlib.sh: throwaway ClickHouse servers (Debian's clickhouse-server 18.16)
# for the sandbox, benchmarks and shell tests; the ClickHouse twin of
# pglib.sh. Source it; every function works on a directory DIR that the
# caller owns (usually from mktemp -d) and keeps everything inside it:
#
#   DIR/ch/config.xml, users.xml   minimal server config (query_log on)
#   DIR/ch/data/                   data directory (owned by clickhouse)
#   DIR/ch/log                     server log (stdout and stderr)
#   DIR/ch/pid                     the server's PID
#   DIR/ch/http_port, tcp_port     the ports in use
#
# The server listens on 127.0.0.1 only, on free ports, with log_queries=1
# (off by default in 18.16) and system.query_log flushed every second
# (query_thread_log off), in UTC, dropping merged-away parts after 30 s. It is stopped by its PID. Nothing here sets global state in the
# caller's shell, and nothing touches a system-wide ClickHouse.
#
# When run as root the server runs as the `clickhouse` user (setpriv, so
# the PID recorded is the server's own); otherwise as the caller.
#
#   lo_ch_start DIR               writes the config, starts; prints the HTTP port
#   lo_ch_stop DIR                SIGTERM, then SIGKILL if it hangs (10 s)
#   lo_ch_query DIR PORT SQL...   POSTs each SQL to the HTTP interface and
#                                 prints the answers; fails on an error

: "${LO_CH_SERVER:=$(command -v clickhouse-server 2>/dev/null || echo /usr/sbin/clickhouse-server)}"

# A loopback port with nothing listening on it (best effort: lo_ch_start
# retries when the server cannot bind).
_lo_ch_free_port() {
        local p
        for _ in $(seq 1 50); do
                p=$((20000 + RANDOM % 40000))
                if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
                        echo "$p"
                        return 0
                fi
        done
        return 1
}

# True while PID is a live process (a zombie waiting for PID 1 to reap it
# counts as gone).
_lo_ch_alive() {
        local st
        st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
        case $st in Z*) return 1 ;; esac
        return 0
}

_lo_ch_now_ms() { date +%s%3N; }

_lo_ch_write_config() {
        local c=$1 http=$2 tcp=$3
        cat >"$c/config.xml" <<XML
<yandex>
  <logger><console>1</console><level>warning</level></logger>
  <mark_cache_size>268435456</mark_cache_size>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$http</http_port>
  <tcp_port>$tcp</tcp_port>
  <timezone>UTC</timezone>
  <path>$c/data/</path>
  <tmp_path>$c/data/tmp/</tmp_path>
  <user_files_path>$c/data/user_files/</user_files_path>
  <format_schema_path>$c/data/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <!-- Drop merged-away parts after 30 s instead of 8 min: fewer files to
       remove when the directory goes. -->
  <merge_tree><old_parts_lifetime>30</old_parts_lifetime></merge_tree>
  <query_log><database>system</database><table>query_log</table>
    <flush_interval_milliseconds>1000</flush_interval_milliseconds></query_log>
</yandex>
XML
        cat >"$c/users.xml" <<XML
<yandex>
  <profiles><default><log_queries>1</log_queries><log_query_threads>0</log_query_threads></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
XML
}

lo_ch_start() {
        local dir=$1 c http tcp pid deadline
        if [ -z "$dir" ] || [ ! -d "$dir" ]; then
                echo "lo_ch_start: no such directory: $dir" >&2
                return 1
        fi
        if [ ! -x "$LO_CH_SERVER" ]; then
                echo "lo_ch_start: clickhouse-server not found (install clickhouse-server; scripts/deps.sh)" >&2
                return 1
        fi
        if ! command -v curl >/dev/null 2>&1; then
                echo "lo_ch_start: curl not found" >&2
                return 1
        fi
        c=$dir/ch
        chmod 755 "$dir"
        mkdir -p "$c/data/tmp" "$c/data/user_files" "$c/data/format_schemas"
        if [ "$(id -u)" = 0 ]; then
                chown -R clickhouse: "$c/data" || {
                        echo "lo_ch_start: no clickhouse user to run the server as" >&2
                        return 1
                }
        fi
        for _ in 1 2 3; do
                http=$(_lo_ch_free_port) || break
                tcp=$(_lo_ch_free_port) || break
                [ "$http" = "$tcp" ] && continue
                _lo_ch_write_config "$c" "$http" "$tcp"
                # Output goes to the log, never to our stdout: lo_ch_start
                # runs inside $(...), which would otherwise wait for the
                # server to exit.
                if [ "$(id -u)" = 0 ]; then
                        setpriv --reuid=clickhouse --regid=clickhouse --init-groups \
                                "$LO_CH_SERVER" --config-file="$c/config.xml" \
                                </dev/null >>"$c/log" 2>&1 &
                else
                        "$LO_CH_SERVER" --config-file="$c/config.xml" </dev/null >>"$c/log" 2>&1 &
                fi
                pid=$!
                echo "$pid" >"$c/pid"
                deadline=$(($(_lo_ch_now_ms) + 30000))
                while _lo_ch_alive "$pid"; do
                        if [ "$(curl -s -m 1 "http://127.0.0.1:$http/ping" 2>/dev/null)" = "Ok." ]; then
                                echo "$http" >"$c/http_port"
                                echo "$tcp" >"$c/tcp_port"
                                echo "$http"
                                return 0
                        fi
                        if [ "$(_lo_ch_now_ms)" -ge "$deadline" ]; then
                                echo "lo_ch_start: no answer on port $http within 30 s, see $c/log" >&2
                                lo_ch_stop "$dir"
                                return 1
                        fi
                        sleep 0.05
                done
                # Died: a port taken meanwhile is worth another try, the
                # rest is not.
                rm -f "$c/pid"
                grep -qi 'address already in use' "$c/log" 2>/dev/null || break
        done
        echo "lo_ch_start: could not start ClickHouse, see $c/log" >&2
        return 1
}

lo_ch_stop() {
        local dir=$1 pid
        [ -f "$dir/ch/pid" ] || return 0
        pid=$(cat "$dir/ch/pid")
        rm -f "$dir/ch/pid"
        [ -n "$pid" ] || return 0
        kill -TERM "$pid" 2>/dev/null || return 0
        for _ in $(seq 1 100); do
                _lo_ch_alive "$pid" || return 0
                sleep 0.1
        done
        # Hung (or SIGSTOPped): resume it and kill it.
        kill -CONT "$pid" 2>/dev/null
        kill -KILL "$pid" 2>/dev/null
        for _ in $(seq 1 50); do
                _lo_ch_alive "$pid" || break
                sleep 0.1
        done
        return 0
}

lo_ch_query() {
        local dir=$1 port=$2 sql out code
        shift 2
        for sql in "$@"; do
                # POST: GET requests are read-only. -w appends the status so
                # an error body (HTTP 4xx/5xx) makes us fail with the text.
                out=$(curl -sS -m 30 --data-binary "$sql" -w '\n%{http_code}' \
                        "http://127.0.0.1:$port/") || return 1
                code=${out##*$'\n'}
                out=${out%$'\n'*}
                out=${out%$'\n'}
                if [ "$code" != 200 ]; then
                        echo "lo_ch_query: HTTP $code: $out" >&2
                        return 1
                fi
                [ -n "$out" ] && printf '%s\n' "$out"
        done
        return 0
}
