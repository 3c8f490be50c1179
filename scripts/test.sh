#!/usr/bin/env bash
# The test command (README, .ci/run): installs what is missing, builds with
# -Werror, AddressSanitizer and UBSan, and runs every test layer with ctest,
# then prints the ten slowest tests.  ctest runs twice as many tests as
# there are cores (TEST_JOBS to change it): the e2e scripts mostly wait
# (five on two cores made every test slower: 858 s and 1,518 CPU-s for the
# suite, against 824 s and 1,371 CPU-s with four);
# tests/CMakeLists.txt says how the scripts that measure time are kept apart.
#   bash scripts/test.sh            every test (what CI runs)
#   bash scripts/test.sh --quick    the edit-compile-test tier: unit, web and
#                                   the scripts marked "# ctest: quick"
# Other arguments go to ctest (e.g. -R engine_).
set -euo pipefail
cd "$(dirname "$0")/.."

args=()
for a in "$@"; do
  case $a in
  --quick) args+=(-L quick) ;;
  *) args+=("$a") ;;
  esac
done

bash scripts/deps.sh

BUILD=${BUILD:-build-test}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug \
  -DPIPELINED_WERROR=ON -DPIPELINED_SANITIZE=ON >/dev/null
cmake --build "$BUILD" -j "$(nproc)"
cd "$BUILD"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
ctest --output-on-failure -j "${TEST_JOBS:-$((2 * $(nproc)))}" "${args[@]}" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
echo "Ten slowest tests:"
sed -nE 's/^ *[0-9]+\/[0-9]+ Test +#[0-9]+: ([^ ]+) .* ([0-9.]+) sec$/\2 \1/p' "$log" |
  sort -rn | head -10 | awk '{ printf "  %8.1f s  %s\n", $1, $2 }'
exit "$rc"
