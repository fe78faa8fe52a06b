#!/usr/bin/env bash
# Builds and runs every test: the whole suite plain (-Werror) and under
# AddressSanitizer+UndefinedBehaviorSanitizer, the threaded code under
# ThreadSanitizer, and a short smoke run of every fuzz target.
# Usage: scripts/test.sh            (everything)
#        LO_TEST_ONLY=plain scripts/test.sh   (one of: plain asan tsan fuzz)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh

JOBS=${JOBS:-2}
ONLY=${LO_TEST_ONLY:-}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# A leak inside librdkafka itself is suppressed; see tests/lsan.supp.
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}
# Races inside librdkafka itself are suppressed; see tests/tsan.supp.
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan.supp}

want() { [ -z "$ONLY" ] || [ "$ONLY" = "$1" ]; }

build() { # dir, cmake args...
  local dir=$1; shift
  cmake -S . -B "build/$dir" -DLO_PICKY=ON "$@" >/dev/null
  cmake --build "build/$dir" -j"$JOBS"
}

if want plain; then
  echo "== plain build (RelWithDebInfo, -Werror): all tests"
  build plain -DCMAKE_BUILD_TYPE=RelWithDebInfo
  ctest --test-dir build/plain --output-on-failure
fi

if want asan; then
  echo "== AddressSanitizer + UndefinedBehaviorSanitizer: all tests"
  build asan -DCMAKE_BUILD_TYPE=AddressSanitizer
  ctest --test-dir build/asan --output-on-failure
fi

if want tsan; then
  echo "== ThreadSanitizer: collector runtime and threaded integration"
  build tsan -DCMAKE_BUILD_TYPE=ThreadSanitizer
  ctest --test-dir build/tsan --output-on-failure -R 'test_collector|test_it_'
fi

if want fuzz; then
  echo "== fuzz targets: build with clang, short smoke run over the seed corpus"
  CC=clang build fuzz -DLO_FUZZ=ON -DLO_UNIT_TESTING=OFF -DCMAKE_BUILD_TYPE=Debug
  for f in build/fuzz/fuzz/fuzz_*; do
    [ -x "$f" ] || continue
    name=$(basename "$f"); corpus=fuzz/corpus/${name#fuzz_}
    work=$(mktemp -d); cp -r "$corpus"/. "$work"/ 2>/dev/null || true
    # A fixed seed: the smoke run is reproducible, so CI passes or fails the
    # same way on the same tree; longer randomised runs are in
    # docs/performance.md (fuzz/fuzz_* -max_total_time=60 corpus).
    "$f" -seed=1 -runs=20000 -max_len=4096 "$work" 2>&1 | tail -n 2
    rm -rf "$work"
  done
fi
echo "scripts/test.sh: all selected test suites passed"
