#!/usr/bin/env bash
# Installs the Debian packages lambdaops needs to build, test and run its
# sandbox, when any is missing. Idempotent; needs root (or sudo) only when
# something has to be installed.
set -euo pipefail

PKGS=(
  cmake make gcc clang pkg-config
  libncurses-dev libcurl4-openssl-dev libcjson-dev librdkafka-dev
  libpq-dev libyaml-dev libcmocka-dev libssl-dev
  libclang-rt-14-dev            # libFuzzer and sanitizer runtimes for clang
  postgresql postgresql-contrib # real server for tests and the sandbox
  tmux jq procps                # TUI tests, JSON checks, process stats
  kcat                          # live traffic into the sandbox's Kafka mock cluster
  python3 openssl               # fixture HTTP(S) server for REST collector tests
  clickhouse-server clickhouse-client   # real ClickHouse 18.16 for tests and benchmarks
  prometheus                    # real Prometheus 2.42 for the prometheus collector tests
  python3-yaml                  # tests/lib/deploy_lint.py parses deploy/**/*.yaml
  faketime                      # the suite again a year ahead and across a DST change
  libmicrohttpd-dev             # the /metrics endpoint (src/export/metrics_server.c)
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "lambdaops: installing ${missing[*]}" >&2
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
