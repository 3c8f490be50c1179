#!/usr/bin/env bash
# Runs every benchmark against its baseline and prints the figures side by
# side.  Release build, no sanitizers; not part of the tests (SPEC 12).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
BUILD=${BUILD:-build-bench}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DPIPELINED_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j "$(nproc)" >/dev/null

echo "== YAML edit: splice vs libyaml parse and parse+emit round trip"
"$BUILD/bench/bench_yamledit" tests/data/yamledit/003.in 'services.*.image.tag'
"$BUILD/bench/bench_yamledit" tests/data/yamledit/001.in image.tag
# Benchmarks that need servers have their own runner beside this one.
for runner in bench/*.sh; do
  [ "$runner" = bench/run.sh ] && continue
  echo "== $(basename "$runner" .sh)"
  BUILD=$BUILD bash "$runner"
done
