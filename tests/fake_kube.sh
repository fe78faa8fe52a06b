#!/usr/bin/env bash
#
# fake_kube.sh: the real kubectl against tests/fake_kube.py, to prove the
# fake API server is faithful enough for the kube client, the collectors and
# the kubectl actions that are tested against it.
#
# One server with TLS, a client CA and a bearer token, loaded with
# tests/fixtures/kube/base (5 pods: kafka-0..2 in StatefulSet
# ingestion/kafka, two connect pods). kubectl runs with --kubeconfig and
# --cache-dir in the temp dir, stdin from /dev/null, under `timeout`:
#   - get pods -A -o json with a client certificate and with a token (exact
#     item counts; the log records "cert"/CN and "bearer", never the token),
#     and with a wrong token (401 -> exit 1, "Unauthorized");
#   - label selector, field selector, --chunk-size paging (continue tokens);
#   - rollout restart statefulset/kafka (the strategic-merge PATCH with the
#     kubectl.kubernetes.io/restartedAt annotation) and scale --replicas=5
#     (PATCH of the scale subresource; spec.replicas is then 5);
#   - delete of a pod whose name has shell metacharacters (kubectl passes it
#     through; the DELETE path carries it verbatim);
#   - create -f of a SparkApplication, twice (AlreadyExists);
#   - logs --previous --tail and -c CONTAINER.
#
# Env: LO_SOURCE_DIR (the source tree). Everything lives in one temp dir,
# removed at exit; the server is stopped by its PID.

set -u

SRC=${LO_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
T=$(mktemp -d /tmp/lo-fake-kube.XXXXXX)
fails=0
srv=

ok()  { printf 'ok   %s\n' "$1"; }
bad() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }
now_ms() { date +%s%3N; }

cleanup() {
        if [ -n "$srv" ]; then
                kill "$srv" 2>/dev/null
                wait "$srv" 2>/dev/null
        fi
        rm -rf "$T"
}
trap cleanup EXIT

if ! command -v kubectl >/dev/null; then
        echo "kubectl not installed (scripts/deps.sh installs it)"
        exit 1
fi

# TLS material: a CA, a server certificate for 127.0.0.1, a client cert.
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2)
openssl req -x509 "${ec[@]}" -subj /CN=lo-test-ca \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        -keyout "$T/ca.key" -out "$T/ca.pem" 2>/dev/null &&
openssl req -x509 -CA "$T/ca.pem" -CAkey "$T/ca.key" "${ec[@]}" -subj /CN=127.0.0.1 \
        -addext subjectAltName=IP:127.0.0.1,DNS:localhost -addext extendedKeyUsage=serverAuth \
        -keyout "$T/server.key" -out "$T/server.pem" 2>/dev/null &&
openssl req -x509 -CA "$T/ca.pem" -CAkey "$T/ca.key" "${ec[@]}" \
        -subj "/O=system:masters/CN=lo-tester" -addext extendedKeyUsage=clientAuth \
        -keyout "$T/client.key" -out "$T/client.pem" 2>/dev/null || {
        echo "openssl failed"
        exit 1
}
token=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')

python3 "$SRC/tests/fake_kube.py" --port-file "$T/port" --log "$T/log" \
        --fixtures "$SRC/tests/fixtures/kube/base" --tls --cert "$T/server.pem" \
        --key "$T/server.key" --client-ca "$T/ca.pem" --token "$token" 2>"$T/server.err" &
srv=$!
deadline=$(($(now_ms) + 10000))
while [ ! -s "$T/port" ] && [ "$(now_ms)" -lt "$deadline" ] && kill -0 "$srv" 2>/dev/null; do
        sleep 0.05
done
if [ ! -s "$T/port" ]; then
        echo "fake_kube.py did not start:"
        cat "$T/server.err"
        exit 1
fi
port=$(cat "$T/port")

b64() { base64 -w0 <"$1"; }
kubeconfig() {  # FILE USER-YAML
        cat >"$1" <<EOF
apiVersion: v1
kind: Config
current-context: fake
clusters:
- name: fake
  cluster:
    server: https://127.0.0.1:$port
    certificate-authority-data: $(b64 "$T/ca.pem")
contexts:
- name: fake
  context: {cluster: fake, user: tester, namespace: ingestion}
users:
- name: tester
  user:
$2
EOF
}
kubeconfig "$T/kc-cert" "    client-certificate-data: $(b64 "$T/client.pem")
    client-key-data: $(b64 "$T/client.key")"
kubeconfig "$T/kc-token" "    token: $token"
kubeconfig "$T/kc-bad" "    token: not-the-token"

# k KUBECONFIG ARGS...: kubectl, stdout to $T/out, stderr to $T/err.
k() {
        local kc=$1
        shift
        timeout 60 kubectl --kubeconfig "$kc" --cache-dir "$T/cache" "$@" \
                </dev/null >"$T/out" 2>"$T/err"
}
# jq-less JSON probes with python3: jget EXPR FILE (d = the document)
jget() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$2"; }
# logq EXPR: evaluates EXPR over the request log entries (list `L`)
logq() {
        python3 -c "import json,sys; L=[json.loads(l) for l in open(sys.argv[1])]; print($1)" \
                "$T/log"
}
expect() {      # WHAT WANT GOT
        if [ "$2" = "$3" ]; then ok "$1"; else bad "$1 (want '$2', got '$3')"; sed 's/^/    | /' "$T/err"; fi
}

# --- reads with each credential ----------------------------------------------
if k "$T/kc-cert" get pods -A -o json; then
        expect "cert: get pods -A -o json has 5 items" 5 "$(jget 'len(d["items"])' "$T/out")"
else
        bad "cert: get pods -A -o json failed"; sed 's/^/    | /' "$T/err"
fi
expect "cert: the list was authenticated by the client certificate" "cert lo-tester" \
        "$(logq '" ".join([(e["auth"]+" "+e.get("cn","")) for e in L if e["path"]=="/api/v1/pods"][:1])')"

: >"$T/log"
if k "$T/kc-token" get pods -A -o json; then
        expect "token: get pods -A -o json has 5 items" 5 "$(jget 'len(d["items"])' "$T/out")"
else
        bad "token: get pods -A -o json failed"; sed 's/^/    | /' "$T/err"
fi
expect "token: the list was authenticated by the bearer token" bearer \
        "$(logq '[e["auth"] for e in L if e["path"]=="/api/v1/pods"][0]')"
if grep -q "$token" "$T/log"; then bad "the token appears in the request log"; else ok "the token never appears in the request log"; fi

if k "$T/kc-bad" get pods -n ingestion -o json; then
        bad "wrong token: get pods succeeded"
else
        if grep -q "Unauthorized" "$T/err"; then
                ok "wrong token: kubectl fails with Unauthorized"
        else
                bad "wrong token: unexpected error"; sed 's/^/    | /' "$T/err"
        fi
fi

k "$T/kc-cert" get pods -n ingestion -l app=kafka -o json &&
        expect "label selector app=kafka: 3 pods" "kafka-0 kafka-1 kafka-2" \
        "$(jget '" ".join(i["metadata"]["name"] for i in d["items"])' "$T/out")" ||
        bad "label selector list failed"
k "$T/kc-cert" get pods -A --field-selector spec.nodeName=node-1 -o json &&
        expect "field selector spec.nodeName=node-1: 2 pods" \
        "connect-7d9f5c6b8-abcde kafka-0" \
        "$(jget '" ".join(i["metadata"]["name"] for i in d["items"])' "$T/out")" ||
        bad "field selector list failed"
k "$T/kc-cert" get events -A --field-selector type=Warning -o json &&
        expect "field selector type=Warning: the BackOff event" BackOff \
        "$(jget '" ".join(i["reason"] for i in d["items"])' "$T/out")" ||
        bad "events list failed"

: >"$T/log"
k "$T/kc-cert" get pods -A --chunk-size=2 -o json &&
        expect "--chunk-size=2: 5 items over 3 pages" "5 3 True" \
        "$(jget 'len(d["items"])' "$T/out") $(logq '" ".join([str(len([e for e in L if e["path"]=="/api/v1/pods"])), str(all("limit=2" in e["query"] for e in L if e["path"]=="/api/v1/pods"))])')" ||
        bad "paged list failed"

# --- mutations ----------------------------------------------------------------
: >"$T/log"
if k "$T/kc-cert" rollout restart statefulset/kafka -n ingestion; then
        expect "rollout restart: one strategic-merge PATCH with restartedAt" \
                "1 application/strategic-merge-patch+json True" \
                "$(logq '" ".join([str(len([e for e in L if e["method"]=="PATCH"]))] + [e["content_type"] + " " + str("kubectl.kubernetes.io/restartedAt" in json.loads(e["body"])["spec"]["template"]["metadata"]["annotations"]) for e in L if e["method"]=="PATCH" and e["path"]=="/apis/apps/v1/namespaces/ingestion/statefulsets/kafka"])')"
        k "$T/kc-cert" get statefulset kafka -n ingestion -o json
        expect "rollout restart: the annotation is stored" True \
                "$(jget '"kubectl.kubernetes.io/restartedAt" in d["spec"]["template"]["metadata"]["annotations"]' "$T/out")"
else
        bad "rollout restart failed"; sed 's/^/    | /' "$T/err"
fi

: >"$T/log"
if k "$T/kc-cert" scale statefulset/kafka -n ingestion --replicas=5; then
        expect "scale: PATCH of the scale subresource with replicas 5" \
                'PATCH {"spec":{"replicas":5}}' \
                "$(logq '" ".join(e["method"] + " " + e["body"] for e in L if e["path"]=="/apis/apps/v1/namespaces/ingestion/statefulsets/kafka/scale")')"
        k "$T/kc-cert" get statefulset kafka -n ingestion -o json
        expect "scale: spec.replicas is 5" 5 "$(jget 'd["spec"]["replicas"]' "$T/out")"
else
        bad "scale failed"; sed 's/^/    | /' "$T/err"
fi

# A name with shell metacharacters (not a valid DNS-1123 name, so created
# through the test-control endpoint): kubectl passes it through verbatim.
odd='a;b$(c)'
python3 - "$port" "$T/ca.pem" "$odd" <<'EOF' || bad "cannot create the odd pod"
import json, ssl, sys, urllib.request
port, ca, name = sys.argv[1:4]
obj = [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "ingestion"},
        "spec": {"containers": [{"name": "x", "image": "x"}]}, "status": {"phase": "Running"}}]
req = urllib.request.Request("https://127.0.0.1:%s/_fake/objects" % port,
                             data=json.dumps(obj).encode(), method="POST")
urllib.request.urlopen(req, context=ssl.create_default_context(cafile=ca), timeout=10).read()
EOF
: >"$T/log"
if k "$T/kc-cert" delete pod "$odd" -n ingestion; then
        expect "delete: the DELETE path carries the name verbatim" \
                '/api/v1/namespaces/ingestion/pods/a;b$(c)' \
                "$(logq '" ".join(e["path"] for e in L if e["method"]=="DELETE")')"
        k "$T/kc-cert" get pods -n ingestion -o json
        expect "delete: the pod is gone" 5 "$(jget 'len(d["items"])' "$T/out")"
else
        bad "delete failed"; sed 's/^/    | /' "$T/err"
fi
if k "$T/kc-cert" delete pod no-such-pod -n ingestion; then
        bad "delete of a missing pod succeeded"
else
        grep -q 'NotFound' "$T/err" && ok "delete of a missing pod: NotFound" ||
                { bad "delete of a missing pod: no NotFound"; sed 's/^/    | /' "$T/err"; }
fi

# Resubmit pattern: create a SparkApplication from a manifest (kubectl probes
# /openapi/v3 for server-side field validation), then again -> AlreadyExists.
cat >"$T/app.yaml" <<'EOF'
apiVersion: sparkoperator.k8s.io/v1beta2
kind: SparkApplication
metadata: {name: speed-layer, namespace: processing}
spec: {type: Scala, mode: cluster, sparkVersion: "3.5.1", image: "spark:3.5.1",
       mainClass: com.example.Speed, mainApplicationFile: "local:///opt/speed.jar",
       driver: {cores: 1}, executor: {instances: 2}}
EOF
: >"$T/log"
if k "$T/kc-cert" create -f "$T/app.yaml"; then
        expect "create -f: one POST to the sparkapplications collection" \
                "/apis/sparkoperator.k8s.io/v1beta2/namespaces/processing/sparkapplications" \
                "$(logq '" ".join(e["path"] for e in L if e["method"]=="POST")')"
        k "$T/kc-cert" get sparkapplication speed-layer -n processing -o json
        expect "create -f: the object is stored" 2 "$(jget 'd["spec"]["executor"]["instances"]' "$T/out")"
else
        bad "create -f failed"; sed 's/^/    | /' "$T/err"
fi
if k "$T/kc-cert" create -f "$T/app.yaml"; then
        bad "second create -f succeeded"
else
        grep -q 'AlreadyExists' "$T/err" && ok "second create -f: AlreadyExists" ||
                { bad "second create -f: wrong error"; sed 's/^/    | /' "$T/err"; }
fi

# --- logs -------------------------------------------------------------------
if k "$T/kc-cert" logs kafka-2 -n ingestion --previous --tail=2; then
        expect "logs --previous --tail=2: the fixture's last two lines" \
                "2026-11-20T07:59:59Z ERROR java.lang.OutOfMemoryError: Java heap space|2026-11-20T08:00:00Z INFO shutting down" \
                "$(paste -sd'|' "$T/out")"
else
        bad "logs --previous failed"; sed 's/^/    | /' "$T/err"
fi
if k "$T/kc-cert" logs connect-7d9f5c6b8-abcde -n ingestion -c jmx-exporter --tail=1; then
        expect "logs -c jmx-exporter --tail=1" \
                "2026-11-20T08:00:20Z connect-7d9f5c6b8-abcde/jmx-exporter line 20" "$(cat "$T/out")"
else
        bad "logs -c failed"; sed 's/^/    | /' "$T/err"
fi
if k "$T/kc-cert" logs kafka-0 -n ingestion --previous; then
        bad "logs --previous of a never-restarted container succeeded"
else
        grep -q 'previous terminated container "kafka" in pod "kafka-0" not found' "$T/err" &&
                ok "logs --previous without a restart: BadRequest" ||
                { bad "logs --previous without a restart: wrong error"; sed 's/^/    | /' "$T/err"; }
fi

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
