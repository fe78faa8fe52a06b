#!/usr/bin/env bash
#
# act_refused.sh: every way `lambdaops act` ends writes exactly one audit
# line, and option injection into a user-defined kubectl template is
# refused. kubectl is a recording script (each run appends its argv, one
# word a line, then "--end--", to kubectl.log; a target named "bad" makes it
# exit 1), so "nothing ran" is an empty log. The cases:
#   - usage: an unknown option (`--no-such-flag`, also after the operands),
#     a wrong number of operands, an option of another command (--json), a
#     --conf for an action without one: 64, outcome refused, reason usage,
#     the error as printed, the words as typed in `args` (the --conf value
#     and a conf given as ARG masked; control characters escaped; a long
#     word cut);
#   - unknown source, unknown action, a target of another kind: 66;
#   - --read-only: 77; no --yes and no terminal: 75; "n" at the prompt on a
#     terminal (script(1)): 2, cancelled, reason declined;
#   - a config that does not load: 78, into the default audit file;
#   - dry run (ok, dry_run true), a run (ok), a failing kubectl (failed);
#   - option injection: `act k8s tag ns/deployment/web -- --kubeconfig=/x`
#     with a template `... label ${kind}/${name} ${arg}` is refused (64,
#     the message names the argument and the fix), kubectl never ran, and
#     it is audited; the template with "--" before ${arg} passes it after
#     the "--" (dry run and a run).
# No server, no network; no sleeps.
#
# Env: LO_BINARY (the lambdaops binary), LO_SOURCE_DIR (the source tree).

set -u

B=${LO_BINARY:?set LO_BINARY to the lambdaops binary}
T=$(mktemp -d /tmp/lo-act-refused.XXXXXX)
fails=0
trap 'rm -rf "$T"' EXIT

. "$(dirname "$0")/../lib/helpers.sh"
. "$(dirname "$0")/../lib/cli_helpers.sh"

export HOME="$T/home" XDG_STATE_HOME="$T/state"
unset LAMBDAOPS_CONFIG
mkdir -p "$HOME"

cat >"$T/kubectl" <<EOF
#!/bin/sh
for w in "\$@"; do printf '%s\n' "\$w"; done >>"$T/kubectl.log"
echo --end-- >>"$T/kubectl.log"
case "\$*" in *deployment/bad*) echo "Error from server (NotFound): bad" >&2; exit 1;; esac
echo "kubectl ran"
EOF
chmod +x "$T/kubectl"
: >"$T/kubectl.log"

C="$T/lambdaops.yaml"
cat >"$C" <<EOF
environment: test
audit_log: $T/audit.jsonl
kubectl: $T/kubectl
actions:
  - name: tag
    scope: deployment
    argv: [kubectl, --context, "\${context}", -n, "\${namespace}", label,
           "\${kind}/\${name}", "\${arg}"]
  - name: tag-safe
    scope: deployment
    argv: [kubectl, --context, "\${context}", -n, "\${namespace}", label,
           "\${kind}/\${name}", --, "\${arg}"]
sources:
  - name: k8s
    kind: kubernetes
    context: fake
  - name: af
    kind: airflow
    url: http://127.0.0.1:9
EOF
: >"$T/audit.jsonl"

# one NAME PYTHON_EXPR: the audit file got exactly one new line since the
# last call, and the expression holds for it (`a`, parsed).
seen=0
one() {
        local name=$1 expr=$2 res
        res=$(python3 - "$T/audit.jsonl" "$seen" "$expr" <<'PY'
import json, sys
path, seen, expr = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lines = open(path, encoding="utf-8").read().splitlines()
new = lines[seen:]
if len(new) != 1:
    print("want exactly 1 new audit line, got %d: %s" % (len(new), new))
    sys.exit()
a = json.loads(new[0])
print("yes" if eval("(" + expr + ")") else "no: " + new[0][:900])
PY
)
        seen=$(wc -l <"$T/audit.jsonl")
        if [ "$res" = yes ]; then ok "$name: one audit line"; else bad "$name: $expr: $res"; fi
}

# nothing_ran NAME: kubectl was not started since the last check.
nothing_ran() {
        if [ -s "$T/kubectl.log" ]; then
                bad "$1: kubectl ran: $(tr '\n' ' ' <"$T/kubectl.log")"
        else
                ok "$1: kubectl never ran"
        fi
        : >"$T/kubectl.log"
}

TGT=ns/deployment/web
R='a["via"] == "cli" and a["outcome"] == "refused" and a["environment"] == "test"'

# --- usage errors --------------------------------------------------------
expect "unknown option" 64 "$B" -c "$C" act k8s restart $TGT --no-such-flag
has "unknown option: message" "$T/err" "unknown option '--no-such-flag'"
one "unknown option" "$R"' and a["status"] == 64 and a["reason"] == "usage"
 and a["error"] == "unknown option '"'"'--no-such-flag'"'"'"
 and a["source"] == "k8s" and a["kind"] == "kubernetes" and a["action"] == "restart"
 and a["target"] == "'$TGT'" and a["request"] is None and a["argv"] is None
 and a["duration_ms"] is None and a["dry_run"] is False
 and a["args"] == ["-c", "'"$C"'", "act", "k8s", "restart", "'$TGT'", "--no-such-flag"]'
nothing_ran "unknown option"

expect "unknown short option, before act" 64 "$B" -c "$C" -Z act k8s restart $TGT --yes
one "unknown short option" "$R"' and a["reason"] == "usage"
 and a["error"] == "unknown option '"'"'-Z'"'"'"
 and a["action"] == "restart" and a["args"][2] == "-Z"'

expect "too few operands" 64 "$B" -c "$C" act k8s restart
one "too few operands" "$R"' and a["reason"] == "usage" and a["target"] is None
 and a["error"] == "act: expected '"'"'act SOURCE ACTION TARGET [ARG]'"'"'"'

expect "--json with act" 64 "$B" -c "$C" act k8s restart $TGT --json
one "--json with act" "$R"' and a["reason"] == "usage"
 and a["error"] == "--json only applies to '"'"'status'"'"'"'

expect "--conf for an action without one" 64 "$B" -c "$C" act k8s restart $TGT --yes \
        --conf '{"password":"hunter2-secret"}'
has "--conf: message" "$T/err" "act: --conf does not apply to 'restart'"
one "--conf for an action without one" "$R"' and a["reason"] == "usage" and a["status"] == 64
 and a["args"][-2:] == ["--conf", "***"]'
expect "--conf= and an option of no value" 64 "$B" -c "$C" act k8s restart $TGT \
        '--conf={"password":"hunter2-secret"}' --nope
one "--conf=" "$R"' and "--conf=***" in a["args"]'
expect "a conf as ARG, refused" 64 "$B" -c "$C" act af trigger nightly '{"password":"hunter2-x"}' \
        --nope
one "a conf as ARG" "$R"' and a["kind"] == "airflow" and a["args"][-2:] == ["***", "--nope"]'
if grep -q hunter2 "$T/audit.jsonl"; then bad "the --conf value is in the audit file"; \
else ok "the --conf value is not in the audit file"; fi

# A hostile word: control characters escaped, a long word cut.
LONG=$(head -c 5000 /dev/zero | tr '\0' x)
expect "escaped and bounded args" 64 "$B" -c "$C" act k8s restart $TGT \
        "--x=$(printf 'a\033[31mb')" "$LONG"
one "escaped and bounded args" "$R"' and a["args"][6] == "--x=a\\x1b[31mb"
 and a["args"][7] == "x" * 256 + "..."'

# --- refusals after the parse -------------------------------------------------
expect "unknown source" 66 "$B" -c "$C" act nope restart $TGT --yes
one "unknown source" "$R"' and a["status"] == 66 and a["reason"] == "unknown-source"
 and a["source"] == "nope" and a["kind"] is None'
expect "unknown action" 66 "$B" -c "$C" act k8s nope $TGT --yes
one "unknown action" "$R"' and a["status"] == 66 and a["reason"] == "unknown-action"
 and a["action"] == "nope"'
expect "target of another kind" 66 "$B" -c "$C" act k8s restart ns/pod/p --yes
one "target of another kind" "$R"' and a["status"] == 66 and a["reason"] == "target"'
expect "read-only" 77 "$B" -c "$C" --read-only act k8s restart $TGT --yes
one "read-only" "$R"' and a["status"] == 77 and a["reason"] == "read-only"
 and a["context"] == "fake"'
expect "no terminal" 75 "$B" -c "$C" act k8s restart $TGT </dev/null
one "no terminal" "$R"' and a["status"] == 75 and a["reason"] == "no-terminal"'
nothing_ran "refusals"

printf 'n\n' | script -qec "'$B' -c '$C' act k8s restart $TGT" /dev/null >"$T/out" 2>&1
rc=$?
[ "$rc" = 2 ] && ok "declined at the prompt (exit 2)" || bad "declined: exit $rc, want 2"
has "declined: the question" "$T/out" "Run it\? \[y/N\]"
one "declined" 'a["outcome"] == "cancelled" and a["reason"] == "declined"
 and a["status"] is None and a["argv"][0][:3] == ["'"$T"'/kubectl", "--context", "fake"]'
nothing_ran "declined"

# A config that does not load: the default audit file (XDG_STATE_HOME).
printf 'sources: [\n' >"$T/broken.yaml"
expect "broken config" 78 "$B" -c "$T/broken.yaml" act k8s restart $TGT --yes
python3 - "$T/state/lambdaops/audit.jsonl" >"$T/res" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
a = json.loads(lines[-1])
print(len(lines), a["outcome"], a["reason"], a["status"], a["environment"])
PY
has "broken config: audited in the default file" "$T/res" "^1 refused config 78 None$"

# --- the ways it runs ----------------------------------------------------------
expect "dry run" 0 "$B" -c "$C" act k8s restart $TGT --dry-run
one "dry run" 'a["outcome"] == "ok" and a["dry_run"] is True and a["reason"] is None
 and a["args"][-1] == "--dry-run"'
nothing_ran "dry run"
expect "run" 0 "$B" -c "$C" act k8s restart $TGT --yes
one "run" 'a["outcome"] == "ok" and a["dry_run"] is False and a["status"] is None
 and a["reason"] is None and a["error"] is None'
expect "failing kubectl" 1 "$B" -c "$C" act k8s restart ns/deployment/bad --yes
one "failing kubectl" 'a["outcome"] == "failed" and a["status"] == 1 and a["reason"] is None
 and "NotFound" in a["error"]'
: >"$T/kubectl.log"

# --- option injection ------------------------------------------------------------
MSG="argument \"--kubeconfig=/x\" begins with '-' and kubectl would read it as an option: "
MSG+="refused; put \"--\" before \${arg} in the argv of action tag to pass it as an operand"
JMSG=$(python3 -c 'import json, sys; print(json.dumps(sys.argv[1]))' "$MSG")
for mode in --yes --dry-run; do
        expect "injection $mode" 64 "$B" -c "$C" act k8s tag $TGT $mode -- --kubeconfig=/x
        if grep -qxF "lambdaops: act: $MSG" "$T/err"; then ok "injection $mode: the message"
        else bad "injection $mode: stderr: $(cat "$T/err")"; fi
        if grep -q -- "--kubeconfig=/x" "$T/out"; then
                bad "injection $mode: planned: $(cat "$T/out")"
        else ok "injection $mode: nothing planned"; fi
        one "injection $mode" "$R"' and a["status"] == 64 and a["reason"] == "argument"
 and a["action"] == "tag" and a["argv"] is None and a["error"] == '"$JMSG"'
 and a["args"][-1] == "--kubeconfig=/x"'
        nothing_ran "injection $mode"
done
expect "after -- in the template: dry run" 0 "$B" -c "$C" act k8s tag-safe $TGT --dry-run \
        -- --kubeconfig=/x
has "after --: the plan" "$T/out" \
        "^\\$ $T/kubectl --context fake -n ns label deployment/web -- --kubeconfig=/x$"
one "after --: dry run" 'a["outcome"] == "ok" and a["argv"][0][-2:] == ["--", "--kubeconfig=/x"]'
nothing_ran "after --: dry run"
expect "after -- in the template: run" 0 "$B" -c "$C" act k8s tag-safe $TGT --yes -- --kubeconfig=/x
printf '%s\n' --context fake -n ns label deployment/web -- --kubeconfig=/x --end-- \
        >"$T/want"
if cmp -s "$T/want" "$T/kubectl.log"; then ok "after --: kubectl got it as an operand"
else bad "after --: kubectl argv: $(tr '\n' ' ' <"$T/kubectl.log")"; fi
one "after --: run" 'a["outcome"] == "ok" and a["args"][-2:] == ["--", "--kubeconfig=/x"]'

[ "$fails" = 0 ] && echo "all ok" || echo "$fails failed"
exit $((fails > 0))
