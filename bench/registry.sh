#!/usr/bin/env bash
# Registry requests per polling cycle, git-driven discovery vs full tag
# listing, for repositories of 10, 1,000 and 10,000 tags per image.
# A benchmark, not a test: prints a table; exits non-zero only if a run failed.
#
# usage: bench/registry.sh            (builds build-bench/ in Release first)
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/fixtures/lib.sh
BUILD=${BUILD:-build-bench}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DPIPELINED_TESTS=OFF > /dev/null
cmake --build "$BUILD" --target bench_registry -j "$(nproc)" > /dev/null
BENCH=$BUILD/bench/bench_registry
W=$(mktemp -d)
trap 'stop_pids "$W"; rm -rf "$W"' EXIT
start_fault "$W"
F=$(cat "$W/fault.base")
count() { curl -fsS "$F/_count"; }

printf '%-8s %-6s %-6s | %-22s %-24s | %-28s %-9s\n' "" "" "" "git-driven (SPEC 4.1)" "" "full tag listing, 14 images" ""
printf '%-8s %-6s %-6s | %-10s %-11s %-24s | %-10s %-8s %-8s %-9s\n' \
  tags/img auth cycle idle new-release "" requests pages tags ms
for n in 10 1000 10000; do
  for auth in none bearer; do
    ns="bench/tags-$n"
    [ "$auth" = bearer ] && ns="bench/auth/tags-$n"
    c0=$(count)
    "$BENCH" "$F" "$ns" 2 > "$W/out"
    c1=$(count)
    while read -r _ k _ idle _ rel _ list _ pages _ tags _ ms; do
      printf '%-8s %-6s %-6s | %-10s %-11s %-24s | %-10s %-8s %-8s %-9s\n' \
        "$n" "$auth" "$k" "$idle" "$rel" "" "$list" "$pages" "$tags" "$ms"
    done < "$W/out"
    client=$(awk '{s += $4 + $6 + $8} END {print s}' "$W/out")
    [ "$client" = $((c1 - c0)) ] ||
      echo "  (server counted $((c1 - c0)) requests, client $client)"
  done
done
cat <<'NOTE'

idle        a cycle with no new commit on the tracked branch: no candidate, no
            registry request (measured with the client's counter)
new-release one new commit: 14 manifest HEADs + evidence manifest + blob; with
            bearer (GHCR) the first cycle also fetches one token per image
            scope (14 HEAD 401s + 14 tokens on top), later cycles reuse them
requests    what listing every tag of the 14 images costs per cycle, at 100
            tags per page (GHCR's page size); the server-side count agrees
NOTE
