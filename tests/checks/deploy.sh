#!/usr/bin/env bash
# sh_deploy: validates deploy/ (the pipeline as code) without a cluster.
# Starts a throwaway PostgreSQL 15 and ClickHouse 18.16 (127.0.0.1, free
# ports, a temp dir, stopped by PID) and runs tests/lib/deploy_lint.py, which
# checks every manifest, the plan, the configs, the Python and dbt code, and
# runs the SQL on the real servers (see its docstring for the list).
set -uo pipefail

SRC=${LO_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${LO_BINARY:-}
# shellcheck source=../../scripts/pglib.sh
. "$SRC/scripts/pglib.sh"
# shellcheck source=../../scripts/chlib.sh
. "$SRC/scripts/chlib.sh"

# The python3 that has PyYAML: Debian's python3-yaml (scripts/deps.sh) is
# for /usr/bin/python3, which a python3 earlier in PATH may not see.
PY=
for c in python3 /usr/bin/python3; do
        if "$c" -c 'import yaml' 2>/dev/null; then PY=$c; break; fi
done
[ -n "$PY" ] || {
        echo "deploy.sh: python3 with PyYAML is required (python3-yaml; scripts/deps.sh)" >&2
        exit 1
}

TMP=$(mktemp -d)
cleanup() {
        lo_ch_stop "$TMP"
        lo_pg_stop "$TMP"
        rm -rf "$TMP"
}
trap cleanup EXIT
python3 "$SRC/tests/lib/proc_guard.py" --pid $$ --list "$TMP/.lo-guard" d "$TMP" r "$TMP" </dev/null >/dev/null 2>&1  # nothing started here outlives the test, even on SIGKILL

PG_PORT=$(lo_pg_start "$TMP") || { echo "deploy.sh: PostgreSQL did not start" >&2; exit 1; }
CH_PORT=$(lo_ch_start "$TMP") || { echo "deploy.sh: ClickHouse did not start" >&2; exit 1; }
mkdir -p "$TMP/lint"

rc=0
"$PY" "$SRC/tests/lib/deploy_lint.py" --root "$SRC" --pg-port "$PG_PORT" --pg-bin "$LO_PG_BIN" \
        --pg-data "$TMP/pg/db" \
        --ch-port "$CH_PORT" --lambdaops "$BIN" --tmp "$TMP/lint" || rc=1

# The validator must catch what it claims to: each broken copy of deploy/
# (one fault each, static checks only) must fail with that fault named.
mkdir -p "$TMP/lint"
mutant() {
        local name=$1 file=$2 from=$3 to=$4 want=$5 out tools=--no-tools
        case $want in "promtool"*|"kubectl kustomize"*) tools= ;; esac
        rm -rf "$TMP/m" && mkdir -p "$TMP/m" && cp -r "$SRC/deploy" "$TMP/m/deploy"
        "$PY" - "$TMP/m/deploy/$file" "$from" "$to" <<'PY' || { echo "FAIL mutant $name: '$3' not found in $2"; return 1; }
import sys
p, a, b = sys.argv[1:]
s = open(p).read()
if a not in s:
    sys.exit(1)
open(p, "w").write(s.replace(a, b, 1))
PY
        out=$("$PY" "$SRC/tests/lib/deploy_lint.py" --root "$TMP/m" --tmp "$TMP/lint" $tools 2>&1)
        if [ $? -eq 0 ] || ! grep -qF -- "$want" <<<"$out"; then
                echo "FAIL mutant $name: the validator did not report: $want"
                grep '^FAIL' <<<"$out" | head -5
                return 1
        fi
        echo "ok   mutant $name caught: $want"
}
mutant latest-image kafka/kafka.yaml "image: apache/kafka:3.8.0" "image: apache/kafka:latest" \
        "image apache/kafka:latest is not pinned" || rc=1
mutant untagged-image monitoring/prometheus.yaml "prom/prometheus:v2.54.1" "prom/prometheus" \
        "image prom/prometheus has no tag" || rc=1
mutant no-readiness schema-registry/schema-registry.yaml "readinessProbe:" "startupProbe:" \
        "readinessProbe missing" || rc=1
mutant no-limits postgres/statefulset.yaml "limits: {cpu: \"2\", memory: 2Gi}" "" \
        "resources.limits.cpu missing" || rc=1
mutant inline-secret minio/minio.yaml "valueFrom: {secretKeyRef: {name: minio-credentials, key: MINIO_ROOT_PASSWORD}}" \
        "value: hunter2" "env MINIO_ROOT_PASSWORD carries a literal secret value" || rc=1
mutant selector-mismatch clickhouse/clickhouse.yaml "matchLabels: {app.kubernetes.io/name: clickhouse}" \
        "matchLabels: {app.kubernetes.io/name: clickhous}" "does not match the template labels" || rc=1
mutant no-servicename kafka/kafka.yaml "serviceName: kafka-headless" "serviceName: kafka" \
        "serviceName kafka is not a headless Service" || rc=1
mutant missing-namespace rbac/serviceaccounts.yaml "metadata: {name: kafka, namespace: data}" \
        "metadata: {name: kafka}" "namespace None is not one of" || rc=1
mutant unknown-secret-key connect/connect.yaml "items: [{key: DEBEZIUM_PASSWORD, path: DEBEZIUM_PASSWORD}]" \
        "items: [{key: DBZ_PASSWORD, path: DEBEZIUM_PASSWORD}]" "has no key DBZ_PASSWORD" || rc=1
mutant shell-step plan.yaml "run: [kubectl, '--context', '\${context}', apply, '-f', '\${deploy}/base/namespaces.yaml']" \
        "run: [sh, '-c', 'kubectl apply -f namespaces.yaml']" "runs a shell (sh)" || rc=1
mutant unpinned-chart plan.yaml "'--version', '2.0.2'" "'--devel'" "helm chart not pinned" || rc=1
mutant unknown-gate-source plan.yaml "source: shop-db" "source: shopdb" \
        "source shopdb is not in deploy/lambdaops.yaml" || rc=1
mutant unapplied-manifest plan.yaml "      - run: [kubectl, '--context', '\${context}', apply, '-f', '\${deploy}/rbac/workloads.yaml']" \
        "" "deploy/rbac/workloads.yaml: no plan step applies this file" || rc=1
mutant connector-secret connect/connectors/s3-sink.json '"${dir:/etc/connect-secrets/minio:MINIO_ROOT_PASSWORD}"' \
        '"minio123"' "aws.secret.access.key is not taken from a config provider" || rc=1
mutant python-syntax spark/speed_job.py "def main():" "def main(:" "deploy/spark/speed_job.py: does not compile" || rc=1
mutant yaml-syntax airflow/values.yaml "executor: KubernetesExecutor" "executor: [KubernetesExecutor" \
        "YAML does not parse" || rc=1
mutant unpublished-nodeport connect/connect.yaml "nodePort: 30083" "nodePort: 30084" \
        "nodePort 30084 is not published by kind-config.yaml" || rc=1
mutant bad-relabel-regex monitoring/prometheus.yaml "regex: kafka-exporter, action: keep" \
        "regex: kafka-(exporter, action: keep" "promtool check config" || rc=1
mutant kustomize-missing-file postgres/kustomization.yaml "      - 04-warehouse.sql" "      - 05-missing.sql" \
        "kubectl kustomize failed" || rc=1
mutant raft-naming kafka/jmx-exporter.yaml "name: kafka_server_raft_metrics_\$1" \
        "name: kafka_raft_\$1" "kafka_server_raft_metrics_current_leader is not exported" || rc=1
mutant config-inline-password lambdaops.yaml "password_env: CH_LAMBDAOPS_PASSWORD" "password: x" \
        "source speed-ch: password holds a secret inline" || rc=1

[ $rc -eq 0 ] && echo "sh_deploy: ok" || echo "sh_deploy: FAILED"
exit $rc
