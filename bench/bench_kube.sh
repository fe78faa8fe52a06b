#!/usr/bin/env bash
#
# bench/bench_kube.sh: listing, modelling and watching every pod of a
# 5,000-pod cluster with lambdaops's Kubernetes client, next to
# `kubectl get pods -A -o json` against the same server. Prints figures;
# asserts nothing.
#
#   bench/bench_kube.sh [-B BUILD_DIR] [-p PODS] [-r RUNS] [-w WATCH_S] [-c CHURN]
#
# Starts tests/lib/fake_kube.py with PODS synthetic pods (default 5000, ~3.7 KB
# of JSON each, 6 namespaces, ~80 nodes, 4% CrashLoopBackOff) over TLS with
# a client certificate (a fresh CA from the openssl CLI), then:
#   (a) BUILD_DIR/bench/bench_kube: RUNS fresh informers on /api/v1/pods
#       (paged list, limit 500, a compact model per pod), wall/CPU/RSS;
#       (a2) the same, one list per fresh process, under /usr/bin/time;
#   (b) kubectl get pods -A -o json >/dev/null, RUNS times after one warm-up
#       (discovery cached in --cache-dir), wall/CPU/max RSS by /usr/bin/time
#       (or getrusage of the child when it is not installed);
#   (c) the last informer synced every second for WATCH_S seconds (default
#       60) while CHURN pods per second (default 10) are patched through the
#       API: CPU of the bench process as a share of one core.
# Default build dir: ./build/plain or $LO_BUILD_DIR. The server
# is stopped by its PID; everything lives in a temp dir.

set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${LO_BUILD_DIR:-$SRC/build/plain}
PODS=5000
RUNS=3
WATCH=60
CHURN=10
while getopts B:p:r:w:c: o; do
        case $o in
        B) BUILD=$OPTARG ;;
        p) PODS=$OPTARG ;;
        r) RUNS=$OPTARG ;;
        w) WATCH=$OPTARG ;;
        c) CHURN=$OPTARG ;;
        *) exit 64 ;;
        esac
done
BENCH=$BUILD/bench/bench_kube
[ -x "$BENCH" ] || { echo "${0##*/}: no $BENCH (build it, or pass -B)" >&2; exit 1; }
command -v kubectl >/dev/null || { echo "${0##*/}: kubectl missing" >&2; exit 1; }
# tm FORMAT CMD...: runs CMD, then prints FORMAT with %e (wall s), %U/%S (cpu
# s) and %M (max RSS kB) filled in: /usr/bin/time, else getrusage of the
# child through python3.
tm() {
        if [ -x /usr/bin/time ]; then
                /usr/bin/time -f "$@"
                return
        fi
        python3 -c '
import resource, subprocess, sys, time
t = time.monotonic()
rc = subprocess.call(sys.argv[2:])
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
f = sys.argv[1].replace("%e", "%.2f" % (time.monotonic() - t)).replace(
    "%U", "%.2f" % ru.ru_utime).replace("%S", "%.2f" % ru.ru_stime).replace(
    "%M", str(ru.ru_maxrss))
print(f, file=sys.stderr)
sys.exit(rc)' "$@"
}

D=$(mktemp -d /tmp/lo-bench-kube.XXXXXX)
PID=
CHURN_PID=
cleanup() {
        local p
        for p in $CHURN_PID $PID; do
                kill "$p" 2>/dev/null
                wait "$p" 2>/dev/null
        done
        rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2)
openssl req -x509 "${ec[@]}" -subj /CN=lo-bench-ca \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        -keyout "$D/ca.key" -out "$D/ca.pem" 2>/dev/null &&
openssl req -x509 -CA "$D/ca.pem" -CAkey "$D/ca.key" "${ec[@]}" -subj /CN=127.0.0.1 \
        -addext subjectAltName=IP:127.0.0.1 -addext extendedKeyUsage=serverAuth \
        -keyout "$D/server.key" -out "$D/server.pem" 2>/dev/null &&
openssl req -x509 -CA "$D/ca.pem" -CAkey "$D/ca.key" "${ec[@]}" -subj /CN=lo-bench \
        -addext extendedKeyUsage=clientAuth \
        -keyout "$D/client.key" -out "$D/client.pem" 2>/dev/null ||
        { echo "${0##*/}: openssl failed" >&2; exit 1; }

t0=$(date +%s%N)
python3 "$SRC/tests/lib/fake_kube.py" --port-file "$D/port" --log /dev/null --pods "$PODS" \
        --tls --cert "$D/server.pem" --key "$D/server.key" --client-ca "$D/ca.pem" \
        --bookmark-interval 30 2>"$D/server.err" &
PID=$!
for _ in $(seq 1 600); do
        [ -s "$D/port" ] && break
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.1
done
[ -s "$D/port" ] || { echo "fake_kube.py did not start: $(cat "$D/server.err")" >&2; exit 1; }
PORT=$(cat "$D/port")
echo "# fake_kube.py --pods $PODS over TLS (client certificate) on port $PORT," \
        "ready in $((($(date +%s%N) - t0) / 1000000)) ms"
cat >"$D/kubeconfig" <<EOF
apiVersion: v1
kind: Config
current-context: bench
clusters:
- name: bench
  cluster:
    server: https://127.0.0.1:$PORT
    certificate-authority-data: $(base64 -w0 <"$D/ca.pem")
contexts:
- name: bench
  context: {cluster: bench, user: bench}
users:
- name: bench
  user:
    client-certificate-data: $(base64 -w0 <"$D/client.pem")
    client-key-data: $(base64 -w0 <"$D/client.key")
EOF
echo "# machine: $(nproc) cores, $(uname -r); kubectl $(kubectl version --client 2>/dev/null | head -n 1)"

echo "## (a) lambdaops kube client: list + model every pod ($RUNS fresh informers)"
tm "# whole process: %e s wall, %U+%S s cpu, max RSS %M kB" \
        "$BENCH" -k "$D/kubeconfig" -r "$RUNS" -w 0

echo "## (a2) the same in a fresh process each time (one list, no watch), for comparison with (b)"
for i in $(seq 1 "$RUNS"); do
        tm "bench_kube -r 1 run $i: %e s wall, %U+%S s cpu, max RSS %M kB" \
                "$BENCH" -k "$D/kubeconfig" -r 1 -w 0 >/dev/null
done

echo "## (b) kubectl get pods -A -o json >/dev/null (after one warm-up run)"
kubectl --kubeconfig "$D/kubeconfig" --cache-dir "$D/cache" get pods -A -o json \
        </dev/null >/dev/null || echo "kubectl warm-up failed"
for i in $(seq 1 "$RUNS"); do
        tm "kubectl run $i: %e s wall, %U+%S s cpu, max RSS %M kB" \
                kubectl --kubeconfig "$D/kubeconfig" --cache-dir "$D/cache" get pods -A -o json \
                </dev/null >/dev/null
done

echo "## (c) steady watch: sync every 1 s for $WATCH s, $CHURN pod patches/s"
python3 - "$PORT" "$D" "$CHURN" <<'EOF' &
import json, ssl, sys, time, urllib.request
port, d, churn = sys.argv[1], sys.argv[2], int(sys.argv[3])
ctx = ssl.create_default_context(cafile=d + "/ca.pem")
ctx.load_cert_chain(d + "/client.pem", d + "/client.key")
base = "https://127.0.0.1:%s" % port
pods = json.load(urllib.request.urlopen(base + "/api/v1/pods?limit=200", context=ctx))["items"]
tick = 0
while churn > 0:
    t = time.monotonic()
    for i in range(churn):
        p = pods[(tick * churn + i) % len(pods)]["metadata"]
        body = json.dumps({"metadata": {"annotations": {"bench/tick": str(tick)}}}).encode()
        req = urllib.request.Request("%s/api/v1/namespaces/%s/pods/%s" % (base, p["namespace"], p["name"]),
                                     data=body, method="PATCH",
                                     headers={"Content-Type": "application/merge-patch+json"})
        urllib.request.urlopen(req, context=ctx).read()
    tick += 1
    time.sleep(max(0.0, 1.0 - (time.monotonic() - t)))
EOF
CHURN_PID=$!
"$BENCH" -k "$D/kubeconfig" -r 1 -w "$WATCH"
