#!/usr/bin/env bash
#
# hostile_redact.sh: a server, or a proxy in front of it, that answers 401
# with a body quoting the request's credentials must not get them printed.
# tests/lib/fixture_httpd.py (started here, stopped by its PID) answers
#   - a Kafka Connect source (user + password_env) with 401 and Connect's
#     {"error_code","message"} whose message quotes "Authorization: Basic
#     <base64(user:password)>", the password alone and a Bearer token;
#   - a Prometheus source (token_env) with 401 and Prometheus' error JSON
#     quoting "Authorization: Bearer <token>" and the token alone;
#   - `act connect restart pg-cdc --yes` with the same 401.
# `status` (text), `status --json`, `act` and the audit line (audit_log: in
# the config) show *** where the secrets were, and none of the password,
# the token, nor the base64 Basic form appears in any stdout, stderr or the
# audit log. The fixture server's request log shows that the secrets were
# really sent (so their absence from the output means something).
#
# Env: LO_BINARY (the lambdaops binary), LO_SOURCE_DIR (the source tree).

set -u

B=${LO_BINARY:?set LO_BINARY to the lambdaops binary}
S=${LO_SOURCE_DIR:?set LO_SOURCE_DIR to the source tree}
T=$(mktemp -d /tmp/lo-hostile-redact.XXXXXX)
fails=0
HTTPD_PID=

cleanup() {
        lo_stop "$HTTPD_PID"
        rm -rf "$T"
}
trap cleanup EXIT

. "$(dirname "$0")/../lib/helpers.sh"
lo_guard "$T"     # what this test starts does not outlive it, even on SIGKILL
# shellcheck source=../lib/cli_helpers.sh
. "$(dirname "$0")/../lib/cli_helpers.sh"

cd "$T" || exit 1
mkdir -p home xdg
export HOME=$T/home XDG_CONFIG_HOME=$T/xdg XDG_STATE_HOME=$T/state
unset LAMBDAOPS_CONFIG NO_COLOR

# Distinctive secrets, so that a hit cannot be anything else.
USER_NAME=monitor
PASSWORD='Pw7-zQx9Kd-connect'
TOKEN='tok9Rq2Lm8Vx4Kd-prom'
BASIC=$(printf '%s:%s' "$USER_NAME" "$PASSWORD" | base64 -w0)
export HOSTILE_CONNECT_PW=$PASSWORD HOSTILE_PROM_TOKEN=$TOKEN

python3 - "$BASIC" "$PASSWORD" "$TOKEN" >"$T/routes.json" <<'PY'
import json, sys
basic, pw, tok = sys.argv[1:4]
connect_401 = {"error_code": 401,
               "message": f"proxy refused Authorization: Basic {basic} (password {pw}; "
                          f"also tried Authorization: Bearer {tok})"}
prom_401 = {"status": "error", "errorType": "unauthorized",
            "error": f"proxy refused Authorization: Bearer {tok} (token {tok} expired)"}
r = [
    {"path": "/connectors", "query": "expand=status&expand=info", "status": 401, "json": connect_401},
    {"path": "/", "status": 401, "json": connect_401},
    {"method": "POST", "path": "/connectors/pg-cdc/restart",
     "query": "includeTasks=true&onlyFailed=true", "status": 401, "json": connect_401},
    {"method": "POST", "path": "/prom/api/v1/query", "status": 401, "json": prom_401},
    {"method": "POST", "path": "/prom/api/v1/query_range", "status": 401, "json": prom_401},
]
print(json.dumps({"routes": r}))
PY
: >"$T/requests.log"
lo_spawn "$T/httpd.log" python3 "$S/tests/lib/fixture_httpd.py" --routes "$T/routes.json" \
        --log "$T/requests.log" --port-file "$T/port"
HTTPD_PID=$LO_PID
wait_cmd "fixture server port file" test -s "$T/port" || exit 1
URL="http://127.0.0.1:$(cat "$T/port")"
ok "fixture server on $URL (pid $HTTPD_PID)"

cat >"$T/cfg.yaml" <<EOF
environment: hostile
audit_log: $T/audit.jsonl
sources:
  - name: connect
    kind: kafka_connect
    url: $URL
    user: $USER_NAME
    password_env: HOSTILE_CONNECT_PW
    timeout: 5s
  - name: metrics
    kind: prometheus
    url: $URL/prom
    token_env: HOSTILE_PROM_TOKEN
    quorum: off
    queries:
      - {name: lag, expr: "sum(kafka_consumergroup_lag)"}
    timeout: 5s
EOF

expect "status (text)" 0 "$B" -c "$T/cfg.yaml" status
cp "$T/out" "$T/status.txt"
has "text: connect's 401 is reported" "$T/out" 'connect.*401'
has "text: connect's quoted Basic form is ***" "$T/out" 'Authorization: Basic \*\*\*'
has "text: connect's quoted password is ***" "$T/out" 'password \*\*\*'
has "text: prometheus's quoted Bearer token is ***" "$T/out" 'Bearer \*\*\*'
has "text: prometheus's bare token is ***" "$T/out" 'token \*\*\* expired'

expect "status --json" 0 "$B" -c "$T/cfg.yaml" status --json
json "json: connect error masked" \
        '"Authorization: Basic ***" in d["sources"]["connect"]["error"] and "password ***" in d["sources"]["connect"]["error"]'
json "json: prometheus error masked" \
        '"Bearer ***" in json.dumps(d["sources"]["metrics"]) and "token *** expired" in json.dumps(d["sources"]["metrics"])'

expect "act connect restart --yes against the 401" 1 \
        "$B" -c "$T/cfg.yaml" act connect restart pg-cdc --yes
has "act: the 401 is reported" "$T/all" '401'
has "act: the quoted Basic form is ***" "$T/err" 'Authorization: Basic \*\*\*'
if [ -s "$T/audit.jsonl" ]; then
        ok "audit log written"
else
        bad "audit log not written: $(ls -l "$T")"
fi
has "audit: one failed restart line" "$T/audit.jsonl" '"action":"restart".*"outcome":"failed"'
has "audit: the error is masked" "$T/audit.jsonl" 'Authorization: Basic \*\*\*'

# The secrets really went out (else their absence proves nothing).
has "the request carried the Basic credentials" "$T/requests.log" "\"authorization\": \"Basic $BASIC\""
has "the request carried the token" "$T/requests.log" "\"authorization\": \"Bearer $TOKEN\""

# Nothing anywhere: every stdout and stderr above, and the audit log.
cat "$T/audit.jsonl" >>"$T/all" 2>/dev/null
for s in "$PASSWORD" "$TOKEN" "$BASIC"; do
        if grep -qF -- "$s" "$T/all"; then
                bad "a secret (${#s} bytes, starts ${s:0:3}) is in the output: $(grep -F -- "$s" "$T/all" | head -c 600)"
        else
                ok "no secret in the output or the audit log (${#s} bytes, starts ${s:0:3})"
        fi
done

echo "---- status (text) ----"
cat "$T/status.txt"
echo "-----------------------"

echo "$fails failure(s)"
[ "$fails" = 0 ]
