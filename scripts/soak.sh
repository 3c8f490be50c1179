#!/usr/bin/env bash
# The kill -9 soak (SPEC 5 "exactly-once", issue 15): the same script as
# the suite's tests/e2e/accept_kill9.sh, with RESTARTS kill -9 + restarts
# (default 100) instead of the suite's 12, on a release build (BUILD,
# default build-bench; ASAN=1 for the suite's ASan+UBSan build, build-test,
# instead).  Prints restarts, promotions, kills per phase (during the push
# of main, between it and the clean-up push, before any push, idle), the
# duration and the seed; SEED replays a run's random choices.
#   bash scripts/soak.sh [RESTARTS]
set -euo pipefail
cd "$(dirname "$0")/.."
RESTARTS=${1:-100}
bash scripts/deps.sh
if [ "${ASAN:-}" = 1 ]; then
  BUILD=${BUILD:-build-test}
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug -DPIPELINED_WERROR=ON -DPIPELINED_SANITIZE=ON >/dev/null
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:handle_sigill=1
else
  BUILD=${BUILD:-build-bench}
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DPIPELINED_TESTS=OFF >/dev/null
fi
cmake --build "$BUILD" -j "$(nproc)" --target pipelined pipelinectl pipelined-git >/dev/null
export SRCDIR=$PWD PIPELINED=$BUILD/pipelined PIPELINECTL=$BUILD/pipelinectl PIPELINED_GIT=$BUILD/pipelined-git
export ACCEPT_KILL9_RESTARTS=$RESTARTS
[ -z "${SEED:-}" ] || export ACCEPT_KILL9_SEED=$SEED
echo "soak: $RESTARTS restarts on $BUILD ($(grep -m1 '^CMAKE_BUILD_TYPE' "$BUILD/CMakeCache.txt" | cut -d= -f2))"
exec bash tests/e2e/accept_kill9.sh
