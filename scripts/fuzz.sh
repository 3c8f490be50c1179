#!/usr/bin/env bash
# Builds every libFuzzer target (clang, ASan+UBSan) and runs each for a
# while on its seed corpus.  Usage: scripts/fuzz.sh [seconds-per-target] [target...]
# New inputs go to a scratch corpus in the build directory; crashes are
# written to fuzz/ as crash-* (git-ignored) and make the script fail: turn
# each into a regression case in the module's golden data.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
SECONDS_PER=${1:-60}
shift || true
BUILD=${BUILD:-build-fuzz}
CC=clang cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPIPELINED_FUZZ=ON -DPIPELINED_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j "$(nproc)" >/dev/null

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for src in fuzz/fuzz_*.c; do targets+=("$(basename "$src" .c)"); done
fi
status=0
for t in "${targets[@]}"; do
  name=${t#fuzz_}
  # Seeds live in fuzz/corpus/<name>/ or, for a family of parsers of one
  # module, fuzz/corpus/<module>/<parser>/ (fuzz_registry_link ->
  # corpus/registry/link); a fuzz/<name>.dict is used when present.
  corpus=fuzz/corpus/$name
  [ -d "$corpus" ] || corpus=fuzz/corpus/${name%%_*}/${name#*_}
  if [ ! -d "$corpus" ]; then
    echo "$t: no seed corpus (fuzz/corpus/$name)" >&2
    status=1
    continue
  fi
  extra=()
  [ -f "fuzz/$name.dict" ] && extra+=("-dict=fuzz/$name.dict")
  scratch=$BUILD/corpus/$name
  mkdir -p "$scratch"
  echo "== $t: ${SECONDS_PER}s (seeds: $corpus)"
  if ! "$BUILD/fuzz/$t" -max_total_time="$SECONDS_PER" -artifact_prefix=fuzz/ \
       -print_final_stats=1 "${extra[@]}" "$scratch" "$corpus" 2>"$BUILD/$t.log"; then
    echo "$t: FAILED, see $BUILD/$t.log and fuzz/crash-*" >&2
    status=1
  fi
  grep -E '^stat::(number_of_executed_units|new_units_added)' "$BUILD/$t.log" || true
done
exit $status
