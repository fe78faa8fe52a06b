# tests/lib/cli_helpers.sh: checks of the real binary's command line, shared
# by the shell tests in tests/cli/; sourced, not run. The caller sets $T (its
# temp dir), defines ok and bad (tests/lib/helpers.sh has them), and reads
# $rc, $T/out and $T/err after run/expect.

# run NAME CMD...: runs CMD with a 30 s bound; stdout in $T/out, stderr in
# $T/err, exit code in $rc; every byte is also appended to $T/all for the
# secret scan.
run() {
        local name=$1
        shift
        timeout 30 "$@" >"$T/out" 2>"$T/err"
        rc=$?
        { printf '### %s\n' "$name"; cat "$T/out" "$T/err"; } >>"$T/all"
}

# expect NAME WANT_RC CMD...
expect() {
        local name=$1 want=$2
        shift 2
        run "$name" "$@"
        if [ "$rc" = "$want" ]; then
                ok "$name (exit $rc)"
        else
                bad "$name: exit $rc, want $want; stderr: $(head -c 400 "$T/err")"
        fi
}

# has NAME FILE REGEX: FILE matches the extended regex.
has() {
        if grep -Eq -- "$3" "$2"; then
                ok "$1"
        else
                bad "$1: /$3/ not in $(basename "$2"): $(head -c 400 "$2")"
        fi
}

# json NAME PYTHON_EXPR: evaluates the expression with `d` bound to the
# JSON in $T/out; passes when it is true.
json() {
        local name=$1 expr=$2 res
        res=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print("yes" if ('"$expr"') else "no: " + json.dumps(d)[:600])
' "$T/out" 2>&1)
        if [ "$res" = yes ]; then
                ok "$name"
        else
                bad "$name: $expr: $res"
        fi
}
