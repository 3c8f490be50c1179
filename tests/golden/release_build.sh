#!/usr/bin/env bash
# ctest: cost 90
# The Release build (what operators install) is warning-free under -Werror.
# The rest of the suite builds with -O0 and the sanitizers, and GCC's
# flow-sensitive warnings (-Wmaybe-uninitialized, -Wstringop-overflow,
# -Wformat-truncation, -Warray-bounds) look at optimised code only: a
# warning that only -O2 shows would otherwise reach a release unseen.
# Builds the programs and the benchmarks (no tests) in the build tree's
# release-werror/ directory, incrementally on later runs.
set -euo pipefail
fail() { echo "FAIL: $*"; exit 1; }

B=$BUILDDIR/release-werror
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cmake -S "$SRCDIR" -B "$B" -DCMAKE_BUILD_TYPE=Release -DPIPELINED_TESTS=OFF \
	-DPIPELINED_WERROR=ON -DPIPELINED_SANITIZE=OFF -DPIPELINED_FUZZ=OFF >"$log" 2>&1 ||
	{ cat "$log"; fail "cmake cannot configure the Release build"; }
# the check is only as good as its flags: optimised, and warnings are errors
for flag in ' -O[23s] ' ' -Werror ' ' -Wall ' ' -Wextra '; do
	grep -E -e "$flag" "$B/compile_commands.json" >/dev/null ||
		fail "the Release build does not compile with $flag"
done
if ! nice -n 5 cmake --build "$B" -j "$(nproc)" >"$log" 2>&1; then
	# read to the end (no head: under pipefail and set -e a reader that
	# leaves early, or a grep that finds nothing, would end the script
	# before its message); a failure without such lines shows the log's end
	{ grep -E 'error|warning' "$log" || tail -n 40 "$log"; } | sed -n 1,40p
	fail "the Release build (-O3 -Werror) fails: see the lines above"
fi
for prog in pipelined pipelinectl pipelined-git; do
	[ -x "$B/$prog" ] || fail "the Release build made no $prog"
done
echo "ok: the Release build (-O3, -Werror) is warning-free"
