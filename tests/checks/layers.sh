#!/usr/bin/env bash
# The layers of the source tree, and the checks that keep them:
#
#   core <- clients <- actions <- bringup <- runbook <- collectors <- export <- views <- tui <- cli
#   src/core  src/clients  src/actions  src/bringup  src/runbook  collectors/  src/export
#   views/  src/tui  src/cli
#
# 1. Every quoted include in src/, collectors/ and views/ names its layer
#    ("core/config.h", "clients/kube/kube.h", "collectors/kafka.h",
#    "views/view.h") and no layer above the file's own. So a client
#    includes no collector, and the core nothing but the core.
# 2. The core names no kind of service, outside comments: each kind plugs
#    in through collector_ops (src/core/collector.h).
# 3. With a build (LO_BINARY set, as under ctest): no layer's archive
#    (liblo_<layer>.a) calls a function or reads a variable that only a
#    layer above defines. collector_registry is the one plug-in point the
#    core reads; it is linked into programs as an object, not an archive.
# Then the checks are run on copies of the tree with a deliberate upward
# include and a core naming a kind, which must fail.
#
# By hand: bash tests/checks/layers.sh [--check DIR]   (DIR: a source tree)
set -u

LAYERS="core clients actions bringup runbook collectors export views tui cli"
# Service kinds (and their plug-ins and programs) the core must not name.
# Bare "spark" is left out: the theme role "spark" is the sparklines'
# colour. The top-level keys kubectl, helm and kubectl_cache_dir belong to
# the Kubernetes collector (collector_ops.config_keys).
KINDS='kafka|postgres|postgresql|kubernetes|kubeact|kubectl|helm|clickhouse|snowflake|airflow|prometheus|schema_registry|kafka_connect|pgconn|reconcile|spark_[a-z_]*'

layer_rank() {
        local i=0 l
        for l in $LAYERS; do
                [ "$l" = "$1" ] && { echo $i; return; }
                i=$((i + 1))
        done
        echo -1
}

# The layer of a file path relative to the tree root.
file_layer() {
        case "$1" in
        src/*/*) local x=${1#src/}; echo "${x%%/*}" ;;
        collectors/*) echo collectors ;;
        views/*) echo views ;;
        *) echo "" ;;
        esac
}

# The layer of an include path.
include_layer() {
        case "$1" in
        collectors/*) echo collectors ;;
        views/*) echo views ;;
        */*) local l=${1%%/*}; [ "$(layer_rank "$l")" -ge 0 ] && echo "$l" ;;
        esac
}

# Prints every violation in tree $1; returns 1 when there is one.
check_includes() {
        local root=$1 bad=0 f rel fl fr inc il ir line
        while IFS= read -r f; do
                rel=${f#"$root"/}
                fl=$(file_layer "$rel")
                fr=$(layer_rank "$fl")
                if [ "$fr" -lt 0 ]; then
                        echo "$rel: not in a layer folder ($LAYERS)"
                        bad=1
                        continue
                fi
                while IFS= read -r line; do
                        inc=$(printf '%s\n' "$line" | sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p')
                        [ -n "$inc" ] || continue
                        il=$(include_layer "$inc")
                        if [ -z "$il" ]; then
                                echo "$rel: #include \"$inc\" does not name a layer (core/, clients/, ..., views/)"
                                bad=1
                                continue
                        fi
                        ir=$(layer_rank "$il")
                        if [ "$ir" -gt "$fr" ]; then
                                echo "$rel: #include \"$inc\": $fl may not include from $il (a layer above)"
                                bad=1
                        fi
                done < <(grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f")
        done < <(find "$root/src" "$root/collectors" "$root/views" -name '*.[ch]' | sort)
        return $bad
}

check_core_kinds() {
        local root=$1 bad=0 f hits
        for f in "$root"/src/core/*.[ch]; do
                # Comments stripped, nothing else preprocessed.
                hits=$(cc -fpreprocessed -dD -E -P -x c "$f" 2>/dev/null |
                       grep -nE "(^|[^A-Za-z0-9_])($KINDS)([^A-Za-z0-9]|$)")
                if [ -n "$hits" ]; then
                        printf '%s\n' "$hits" | sed "s|^|${f#"$root"/}: names a service kind: |"
                        bad=1
                fi
        done
        return $bad
}

check_symbols() {
        local dir=$1 bad=0 i j l u
        local defs=() under=()
        for l in $LAYERS; do
                [ -f "$dir/liblo_$l.a" ] || continue
                defs+=("$l")
        done
        [ ${#defs[@]} -gt 1 ] || { echo "no layer archives in $dir"; return 1; }
        for ((i = 0; i < ${#defs[@]}; i++)); do
                # Undefined in this layer and not defined in it.
                u=$(comm -23 <(nm -u "$dir/liblo_${defs[i]}.a" 2>/dev/null | awk 'NF==2{print $2}' | sort -u) \
                             <(nm --defined-only "$dir/liblo_${defs[i]}.a" 2>/dev/null | awk 'NF==3{print $3}' | sort -u))
                for ((j = i + 1; j < ${#defs[@]}; j++)); do
                        comm -12 <(printf '%s\n' "$u") \
                                 <(nm -g --defined-only "$dir/liblo_${defs[j]}.a" 2>/dev/null | awk 'NF==3{print $3}' | sort -u) |
                        while IFS= read -r sym; do
                                [ -n "$sym" ] && echo "liblo_${defs[i]}.a uses $sym from ${defs[j]} (a layer above)"
                        done | grep . && bad=1
                done
        done
        return $bad
}

check_tree() {
        local rc=0
        check_includes "$1" || rc=1
        check_core_kinds "$1" || rc=1
        return $rc
}

SRC=${LO_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}

if [ "${1:-}" = "--check" ]; then
        check_tree "${2:-$SRC}"
        exit $?
fi

fail=0
t() { echo "== $*"; }

t "the tree keeps its layers"
if ! check_tree "$SRC"; then
        echo "FAIL: the tree breaks a layer rule (above)"
        fail=1
fi

if [ -n "${LO_BINARY:-}" ]; then
        t "no layer's archive uses a symbol of a layer above"
        if ! check_symbols "$(dirname "$LO_BINARY")"; then
                echo "FAIL: an upward call or variable (above)"
                fail=1
        fi
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
copy_tree() {
        rm -rf "$tmp/t"
        mkdir -p "$tmp/t"
        cp -r "$SRC/src" "$SRC/collectors" "$SRC/views" "$tmp/t/"
}
expect_fail() {
        local what=$1 out
        if out=$(check_tree "$tmp/t"); then
                echo "FAIL: the check passed $what"
                fail=1
        elif ! printf '%s\n' "$out" | grep -q "$2"; then
                echo "FAIL: $what: expected \"$2\" in:"
                printf '%s\n' "$out"
                fail=1
        else
                echo "ok: fails $what: $(printf '%s\n' "$out" | head -1)"
        fi
}

t "the check fails on a client including a collector"
copy_tree
sed -i '0,/#include "clients\/http.h"/s//&\n#include "collectors\/kafka.h"/' "$tmp/t/src/clients/http.c"
expect_fail "with src/clients/http.c including collectors/kafka.h" \
        'src/clients/http.c: #include "collectors/kafka.h": clients may not include from collectors'

t "the check fails on the core including the TUI"
copy_tree
printf '#include "tui/tui.h"\n' >> "$tmp/t/src/core/ring.c"
expect_fail "with src/core/ring.c including tui/tui.h" 'core may not include from tui'

t "the check fails on an include that names no layer"
copy_tree
printf '#include "kafka.h"\n' >> "$tmp/t/views/kafka.c"
expect_fail "with views/kafka.c including \"kafka.h\"" 'does not name a layer'

t "the check fails on the core naming a kind"
copy_tree
printf 'static const char *lo_k = "kubernetes"; /* kafka in a comment is fine */\n' >> "$tmp/t/src/core/ring.c"
expect_fail "with src/core/ring.c naming \"kubernetes\"" 'names a service kind'

t "the check fails on the core naming kubectl"
copy_tree
printf 'static const char *lo_k = "kubectl_cache_dir";\n' >> "$tmp/t/src/core/ring.c"
expect_fail "with src/core/ring.c naming \"kubectl_cache_dir\"" 'names a service kind'

t "comments may name kinds"
copy_tree
printf '/* kafka, postgres, kubernetes */\n' >> "$tmp/t/src/core/ring.c"
if ! check_tree "$tmp/t" >/dev/null; then
        echo "FAIL: a comment naming a kind broke the check"
        fail=1
fi

t "the symbol check fails on the core calling the TUI"
mkdir -p "$tmp/a"
printf 'int tui_thing(void);\nint core_fn(void) { return tui_thing(); }\n' > "$tmp/a/core.c"
printf 'int tui_thing(void) { return 1; }\n' > "$tmp/a/tui.c"
if cc -c -o "$tmp/a/core.o" "$tmp/a/core.c" && cc -c -o "$tmp/a/tui.o" "$tmp/a/tui.c" &&
   ar rcs "$tmp/a/liblo_core.a" "$tmp/a/core.o" && ar rcs "$tmp/a/liblo_tui.a" "$tmp/a/tui.o"; then
        if out=$(check_symbols "$tmp/a"); then
                echo "FAIL: the symbol check passed an upward call"
                fail=1
        else
                echo "ok: $out"
        fi
fi

[ $fail -eq 0 ] && echo "layers: all checks passed"
exit $fail
