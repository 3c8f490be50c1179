#!/usr/bin/env bash
# Builds every libFuzzer target (clang, ASan+UBSan) and runs each on its
# seed corpus, then prints one line per target: executions, coverage
# (edges, features), corpus size and the verdict.
#
#   scripts/fuzz.sh [seconds-per-target] [target...]   a while per target
#   scripts/fuzz.sh --long [target...]                 FUZZ_RUNS executions
#                                                      per target (10 M)
#
# The short mode keeps new inputs in a scratch corpus in the build
# directory.  The long mode is the documented deep run: it stops each target
# after FUZZ_RUNS executions (default 10,000,000) and merges what it grew
# back into the kept corpus, fuzz/corpus/<name>/, minimised by libFuzzer's
# -merge=1 (only inputs that add coverage are kept), so the next run and the
# golden tests start from it.  Commit the grown corpus with the figures.
# Crashes are written to fuzz/ as crash-* (git-ignored) and make the script
# fail: turn each into a regression case in the module's unit or golden data.
set -euo pipefail
cd "$(dirname "$0")/.."

LONG=0
if [ "${1:-}" = --long ]; then
  LONG=1
  shift
  SECONDS_PER=0
else
  SECONDS_PER=${1:-60}
  shift || true
fi
RUNS=${FUZZ_RUNS:-10000000}

# A long run beside other work: `setsid nice -n 19 bash scripts/fuzz.sh
# --long`.  With the kernel's autogroup scheduling a nice value only ranks
# processes within their session, and every session gets an equal share:
# a niced run in a session of its own would take a whole share from the
# other sessions' work.  When this script leads its own session, its
# session gets its nice value too.
if [ "$(nice)" -gt 0 ] && [ -w /proc/self/autogroup ] &&
   [ "$(ps -o sid= -p $$ | tr -d ' ')" = $$ ]; then
  echo "$(nice)" >/proc/self/autogroup 2>/dev/null || true
fi

bash scripts/deps.sh
BUILD=${BUILD:-build-fuzz}
CC=clang cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPIPELINED_FUZZ=ON -DPIPELINED_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j "$(nproc)" >/dev/null

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for src in fuzz/fuzz_*.c; do targets+=("$(basename "$src" .c)"); done
fi

# The last libFuzzer status line ("#N DONE cov: E ft: F corp: C/...") and
# the final stats give the figures of a run.
figure() { # log key
  grep -oE "$2: [0-9]+" "$1" | tail -1 | grep -oE '[0-9]+$' || echo '?'
}

# The targets' scratch files (fuzz_config writes each input to a file) go
# to a directory of this run, on a tmpfs when there is one, removed at the
# end: a target that crashes cannot clean up after itself.
tmpbase=${TMPDIR:-/tmp}
[ -n "${TMPDIR:-}" ] || { [ -d /dev/shm ] && [ -w /dev/shm ] && tmpbase=/dev/shm; }
TMPDIR=$(mktemp -d "$tmpbase/pipelined-fuzz.XXXXXX")
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT

status=0
summary=()
for t in "${targets[@]}"; do
  name=${t#fuzz_}
  # Seeds live in fuzz/corpus/<name>/ or, for a family of parsers of one
  # module, fuzz/corpus/<module>/<parser>/ (fuzz_registry_link ->
  # corpus/registry/link); a fuzz/<name>.dict is used when present.
  corpus=fuzz/corpus/$name
  [ -d "$corpus" ] || corpus=fuzz/corpus/${name%%_*}/${name#*_}
  if [ ! -d "$corpus" ]; then
    echo "$t: no seed corpus (fuzz/corpus/$name)" >&2
    summary+=("$(printf '%-26s %12s %8s %8s %8s  %s' "$t" - - - - 'no seed corpus')")
    status=1
    continue
  fi
  extra=()
  [ -f "fuzz/$name.dict" ] && extra+=("-dict=fuzz/$name.dict")
  scratch=$BUILD/corpus/$name
  mkdir -p "$scratch"
  log=$BUILD/$t.log
  if [ $LONG = 1 ]; then
    echo "== $t: $RUNS runs (seeds: $corpus)"
    limit=(-runs="$RUNS")
  else
    echo "== $t: ${SECONDS_PER}s (seeds: $corpus)"
    limit=(-max_total_time="$SECONDS_PER")
  fi
  start=$(date +%s)
  verdict=ok
  if ! "$BUILD/fuzz/$t" "${limit[@]}" -artifact_prefix=fuzz/ \
       -print_final_stats=1 "${extra[@]}" "$scratch" "$corpus" 2>"$log"; then
    echo "$t: FAILED, see $log and fuzz/crash-*" >&2
    verdict=FAILED
    status=1
  fi
  secs=$(( $(date +%s) - start ))
  execs=$(grep -E '^stat::number_of_executed_units' "$log" | grep -oE '[0-9]+$' || echo '?')
  cov=$(figure "$log" cov)
  ft=$(figure "$log" ft)
  if [ $LONG = 1 ] && [ $verdict = ok ]; then
    # keep what the run found: merge the scratch corpus into the kept one
    before=$(find "$corpus" -type f | wc -l)
    "$BUILD/fuzz/$t" -merge=1 "${extra[@]}" "$corpus" "$scratch" 2>"$log.merge" ||
      { echo "$t: corpus merge failed, see $log.merge" >&2; status=1; }
    verdict="ok, corpus +$(( $(find "$corpus" -type f | wc -l) - before ))"
  fi
  files=$(find "$corpus" -type f | wc -l)
  summary+=("$(printf '%-26s %12s %8s %8s %8s  %s (%ss)' "$t" "$execs" "$cov" "$ft" "$files" "$verdict" "$secs")")
done

printf '\n%-26s %12s %8s %8s %8s  %s\n' target executions edges features corpus verdict
printf '%s\n' "${summary[@]}"
exit $status
