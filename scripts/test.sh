#!/usr/bin/env bash
# The test command (README, .ci/run): installs what is missing, builds with
# -Werror, AddressSanitizer and UBSan, and runs every test layer with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh

BUILD=${BUILD:-build-test}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug \
  -DPIPELINED_WERROR=ON -DPIPELINED_SANITIZE=ON >/dev/null
cmake --build "$BUILD" -j "$(nproc)"
cd "$BUILD"
ctest --output-on-failure -j "$(nproc)" "$@"
