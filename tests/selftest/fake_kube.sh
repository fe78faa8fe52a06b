#!/usr/bin/env bash
#
# fake_kube.sh: the real kubectl against tests/lib/fake_kube.py, to prove the
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
#   - logs --previous --tail and -c CONTAINER (the fixture log's and the
#     synthetic lines' times follow from the test's anchor LO_FIXTURE_NOW:
#     the pods started {{now-30m}});
#   - with python3 (what kubectl does not exercise): paging snapshot and
#     expired continue tokens, watch events/BOOKMARK/ERROR 410/timeout/drop,
#     HTML mode and 403s of the test-control endpoints.
#
# Env: LO_SOURCE_DIR (the source tree). Everything lives in one temp dir,
# removed at exit; the server is stopped by its PID.

set -u

SRC=${LO_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d /tmp/lo-fake-kube.XXXXXX)
fails=0
srv=

ok()  { printf 'ok   %s\n' "$1"; }
bad() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }
now_ms() { date +%s%3N; }
# Fixture times ({{now-30m}}, tests/lib/fixture_time.py) are relative to this
# test's start; the server inherits the one anchor.
export LO_FIXTURE_NOW=${LO_FIXTURE_NOW:-$(date +%s)}
# at OFFSET_S: RFC 3339 of the anchor plus OFFSET_S seconds.
at() { date -u -d "@$((LO_FIXTURE_NOW + $1))" +%Y-%m-%dT%H:%M:%SZ; }

cleanup() {
        if [ -n "$srv" ]; then
                kill "$srv" 2>/dev/null
                wait "$srv" 2>/dev/null
        fi
        rm -rf "$T"
}
trap cleanup EXIT
python3 "$SRC/tests/lib/proc_guard.py" --pid $$ --list "$T/.lo-guard" d "$T" r "$T" </dev/null >/dev/null 2>&1  # nothing started here outlives the test, even on SIGKILL

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

python3 "$SRC/tests/lib/fake_kube.py" --port-file "$T/port" --log "$T/log" --exit-with-parent \
        --fixtures "$SRC/tests/fixtures/kube/base" --tls --cert "$T/server.pem" \
        --key "$T/server.key" --client-ca "$T/ca.pem" --token "$token" </dev/null >"$T/server.out" 2>"$T/server.err" &
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
                "$(at -1801) ERROR java.lang.OutOfMemoryError: Java heap space|$(at -1800) INFO shutting down" \
                "$(paste -sd'|' "$T/out")"
else
        bad "logs --previous failed"; sed 's/^/    | /' "$T/err"
fi
if k "$T/kc-cert" logs connect-7d9f5c6b8-abcde -n ingestion -c jmx-exporter --tail=1; then
        expect "logs -c jmx-exporter --tail=1" \
                "$(at -1780) connect-7d9f5c6b8-abcde/jmx-exporter line 20" "$(cat "$T/out")"
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

# --- API semantics kubectl does not exercise (python3 over TLS + client cert):
# paging with a constant RV, expired continue tokens, watch events, BOOKMARK,
# ERROR 410 inside a 200 stream, clean close after timeoutSeconds, drops.
python3 - "$port" "$T" >"$T/py.out" 2>&1 <<'EOF'
import http.client, json, ssl, sys, threading, time
port, d = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=d + "/ca.pem")
ctx.load_cert_chain(d + "/client.pem", d + "/client.key")
def conn():
    return http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=20)
def req(method, path, body=None):
    c = conn()
    c.request(method, path, body=json.dumps(body) if body is not None else None,
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, json.loads(data)
def check(what, want, got):
    print(("ok   %s" if want == got else "FAIL %s (want %r, got %r)") % ((what,) if want == got else (what, want, got)))
st, p1 = req("GET", "/api/v1/pods?limit=2")
md = p1["metadata"]
check("paging: first page", (200, 2, 3), (st, len(p1["items"]), md.get("remainingItemCount")))
req("POST", "/_fake/objects", [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "zz-new", "namespace": "processing"}}])
st, p2 = req("GET", "/api/v1/pods?limit=2&continue=" + md["continue"])
st3, p3 = req("GET", "/api/v1/pods?limit=2&continue=" + p2["metadata"]["continue"])
check("paging: same RV on every page, snapshot without the later pod", (md["resourceVersion"], md["resourceVersion"], 5),
      (p2["metadata"]["resourceVersion"], p3["metadata"]["resourceVersion"], len(p1["items"] + p2["items"] + p3["items"])))
check("paging: last page has no continue", None, p3["metadata"].get("continue"))
st, p1 = req("GET", "/api/v1/pods?limit=2")
req("POST", "/_fake/expire")
st, e = req("GET", "/api/v1/pods?limit=2&continue=" + p1["metadata"]["continue"])
check("expired continue token: 410 Expired", (410, "Expired"), (st, e.get("reason")))

def watch(query, out, after=None):
    c = conn()
    c.request("GET", "/api/v1/namespaces/processing/pods?watch=1&" + query)
    r = c.getresponse()
    out.append(r.status)
    out.append(r.getheader("Transfer-Encoding"))
    if after:
        after()
    try:
        for line in r:
            out.append(json.loads(line))
        out.append("EOF")
    except Exception as ex:
        out.append("broken: %s" % type(ex).__name__)
def state():
    return req("GET", "/_fake/state")[1]
def wait_watches(n):
    deadline = time.monotonic() + 10
    while state()["watches"] != n and time.monotonic() < deadline:
        time.sleep(0.05)
rv = req("GET", "/api/v1/namespaces/processing/pods")[1]["metadata"]["resourceVersion"]
out = []
t = threading.Thread(target=watch, args=("resourceVersion=%s&allowWatchBookmarks=true&timeoutSeconds=5" % rv, out))
t.start()
wait_watches(1)
req("POST", "/_fake/objects", [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "zz-new", "namespace": "processing", "labels": {"x": "1"}}}])
req("POST", "/_fake/objects", [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "other-ns", "namespace": "ingestion"}}])
req("POST", "/_fake/bookmark")
req("POST", "/_fake/delete", [{"kind": "Pod", "namespace": "processing", "name": "zz-new"}])
t.join(15)
evs = [x for x in out if isinstance(x, dict)]
check("watch: chunked 200 stream", [200, "chunked"], out[:2])
check("watch: MODIFIED, BOOKMARK, DELETED for the namespace, then a clean close", ["MODIFIED", "BOOKMARK", "DELETED", "EOF"],
      [e["type"] for e in evs] + out[-1:])
check("watch: RVs increase", True, int(evs[0]["object"]["metadata"]["resourceVersion"]) < int(evs[2]["object"]["metadata"]["resourceVersion"]))
req("POST", "/_fake/expire")
out = []
watch("resourceVersion=%s" % rv, out)
check("watch from an expired RV: ERROR 410 inside a 200 stream", [200, "ERROR", 410, "Expired", "EOF"],
      [out[0], out[2]["type"], out[2]["object"]["code"], out[2]["object"]["reason"], out[3]])
rv = req("GET", "/api/v1/namespaces/processing/pods")[1]["metadata"]["resourceVersion"]
def raw_watch(out):  # http.client hides a missing last chunk: read the bytes
    import socket
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=20),
                        server_hostname="127.0.0.1")
    s.sendall(b"GET /api/v1/namespaces/processing/pods?watch=1&resourceVersion=%s "
              b"HTTP/1.1\r\nHost: x\r\n\r\n" % rv.encode())
    data = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    except (ssl.SSLError, OSError):
        pass
    out.append(data)
out = []
t = threading.Thread(target=raw_watch, args=(out,))
t.start()
wait_watches(1)
req("POST", "/_fake/drop")
t.join(15)
check("drop: the stream ends without the last chunk", (True, False),
      (out[0].startswith(b"HTTP/1.1 200"), out[0].endswith(b"0\r\n\r\n")))
out = []
t = threading.Thread(target=watch, args=("resourceVersion=%s" % rv, out))
t.start()
wait_watches(1)
req("POST", "/_fake/expire")
t.join(15)
check("expire: an open watch gets ERROR 410 and ends", ["ERROR", 410, "EOF"],
      [out[2]["type"], out[2]["object"]["code"], out[-1]])
req("POST", "/_fake/html", {"enabled": True})
c = conn(); c.request("GET", "/api/v1/pods"); r = c.getresponse(); r.read()
check("html mode: 200 text/html", (200, "text/html; charset=utf-8"), (r.status, r.getheader("Content-Type")))
req("POST", "/_fake/html", {"enabled": False})
req("POST", "/_fake/forbid", {"resources": ["nodes"]})
st, e = req("GET", "/api/v1/nodes")
check("forbid: 403 Forbidden naming the certificate's user", (403, "Forbidden", True), (st, e["reason"], '"lo-tester" cannot list' in e["message"]))
req("POST", "/_fake/forbid", {"resources": []})
EOF
sed 's/^/  /' "$T/py.out"
n=$(grep -c '^ok ' "$T/py.out")
if [ "$n" -eq 12 ] && ! grep -q '^FAIL\|Traceback' "$T/py.out"; then
        ok "API semantics: 12 checks"
else
        bad "API semantics ($n of 12 checks passed)"
fi

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
