#!/usr/bin/env bash
# Idle cost of the daemon (issue 15): on the loopback stack (sshd +
# git-shell, docker-registry) with pollInterval = 30s and nothing to
# promote, the CPU the daemon and its git helper processes use (% of one
# core and seconds per hour), its memory (Rss, Pss, private pages from
# /proc/PID/smaps_rollup) and the mappings that hold the most of it, next to
# the same figures for a baseline revision built and measured the same way.
# The daemon runs with the real clock (no libfaketime) so the figures are
# its own.  A benchmark, not a test: prints figures.
#
# usage: bash bench/idle.sh
#   IDLE_CYCLES=10      cycles to idle for (30 s each), or IDLE_SECONDS=N
#   BUILD=build-bench   the build measured (Release, no sanitizers; built here)
#   BASE_REV=main       the baseline revision, built in BASE_BUILD
#                       (build-bench-base); BASE_REV=none skips it
#   IDLE_SERIAL=1       measure one build after the other instead of both at
#                       once (CPU seconds barely change; wall time doubles)
set -euo pipefail
cd "$(dirname "$0")/.."
SRCDIR=$PWD
BUILD=${BUILD:-build-bench}
BASE_REV=${BASE_REV:-main}
BASE_BUILD=${BASE_BUILD:-build-bench-base}
POLL_S=30
IDLE_SECONDS=${IDLE_SECONDS:-$((${IDLE_CYCLES:-10} * POLL_S))}
OUT=$(mktemp -d "${TMPDIR:-/tmp}/idle-bench.XXXXXX")
trap 'rm -rf "$OUT"' EXIT

build() {	# SOURCE-DIR BUILD-DIR
	cmake -S "$1" -B "$2" -DCMAKE_BUILD_TYPE=Release -DPIPELINED_TESTS=OFF \
		-DCMAKE_C_COMPILER_LAUNCHER=ccache >/dev/null
	cmake --build "$2" -j "$(nproc)" >/dev/null
}

# The baseline's sources live in its build directory, re-extracted only
# when the revision moved.
build_base() {
	local rev
	rev=$(git rev-parse "$BASE_REV^{commit}")
	if [ "$(cat "$BASE_BUILD/rev" 2>/dev/null || true)" != "$rev" ]; then
		rm -rf "$BASE_BUILD"
		mkdir -p "$BASE_BUILD/src"
		git archive "$rev" | tar -x -C "$BASE_BUILD/src"
		echo "$rev" >"$BASE_BUILD/rev"
	fi
	# the baseline builds with its own dependencies (0560d84 still links
	# libsystemd, which the current tree and its scripts/deps.sh dropped)
	[ ! -f "$BASE_BUILD/src/scripts/deps.sh" ] || bash "$BASE_BUILD/src/scripts/deps.sh"
	build "$BASE_BUILD/src" "$BASE_BUILD/out"
}

# measure BIN-DIR OUT-PREFIX: one stack, one daemon, IDLE_SECONDS of idling.
measure() (
	PIPELINED=$1/pipelined PIPELINECTL=$1/pipelinectl PIPELINED_GIT=$1/pipelined-git
	STACK_REAL_CLOCK=1
	export PIPELINED PIPELINECTL PIPELINED_GIT SRCDIR STACK_REAL_CLOCK
	# shellcheck source=../tests/fixtures/stack.sh
	. tests/fixtures/stack.sh
	stack_start
	stack_conf_set registry.pollInterval "${POLL_S}s"
	stack_conf_set daemon.logLevel info
	stack_daemon_start
	stack_wait_cycles 1 >/dev/null	# start-up work (the first fetch) is done
	sleep 2
	local pid=$STACK_DAEMON_PID hz a0 s0 c0 a1 s1 c1
	hz=$(getconf CLK_TCK)
	a0=$(stack_cpu_ticks "$pid") s0=$(stack_cpu_ticks "$pid" self)
	c0=$(stack_metric pipelined_cycles_total)
	sleep "$IDLE_SECONDS"
	a1=$(stack_cpu_ticks "$pid") s1=$(stack_cpu_ticks "$pid" self)
	c1=$(stack_metric pipelined_cycles_total)
	pct() { echo "scale=3; $1 * 100 / $hz / $IDLE_SECONDS" | bc -l; }
	{
		echo "cycles $((c1 - c0))"
		echo "cpu_daemon $(pct $((s1 - s0)))"
		echo "cpu_helpers $(pct $((a1 - a0 - s1 + s0)))"
		echo "cpu_total $(pct $((a1 - a0)))"
		echo "cpu_s_hour $(echo "scale=2; ($a1 - $a0) * 3600 / $hz / $IDLE_SECONDS" | bc -l)"
		echo "rss $(stack_mem_kib "$pid" Rss)"
		echo "pss $(stack_mem_kib "$pid" Pss)"
		echo "private $(stack_mem_kib "$pid" Private)"
		echo "files $(awk '/^[0-9a-f]+-[0-9a-f]+ / && NF >= 6 && $6 ~ /\.so/ {print $6}' \
			"/proc/$pid/maps" | sort -u | wc -l)"
	} >"$2.fig"
	# the daemon's own binary under one name, wherever it was built
	stack_mappings "$pid" 40 | sed 's|[^ ]*/pipelined$|pipelined|' >"$2.map"
	stack_daemon_stop
)

build . "$BUILD"
[ "$BASE_REV" = none ] || build_base
echo "idle for ${IDLE_SECONDS}s at pollInterval = ${POLL_S}s, Release builds, real clock"
if [ "$BASE_REV" = none ]; then
	measure "$PWD/$BUILD" "$OUT/now"
elif [ "${IDLE_SERIAL:-}" = 1 ]; then
	measure "$PWD/$BASE_BUILD/out" "$OUT/base"
	measure "$PWD/$BUILD" "$OUT/now"
else
	measure "$PWD/$BASE_BUILD/out" "$OUT/base" &
	b=$!
	measure "$PWD/$BUILD" "$OUT/now"
	wait "$b"
fi

fig() { awk -v k="$2" '$1 == k {print $2}' "$OUT/$1.fig" 2>/dev/null || true; }
row() {	# LABEL KEY
	printf '  %-38s %12s %12s\n' "$1" "$(fig base "$2")" "$(fig now "$2")"
}
printf '  %-38s %12s %12s\n' "" "baseline" "this build"
[ "$BASE_REV" = none ] || printf '  %-38s %12s %12s\n' "" "${BASE_REV:0:12}" ""
row "cycles in the window" cycles
row "idle CPU, daemon (% of a core)" cpu_daemon
row "idle CPU, git helpers (% of a core)" cpu_helpers
row "idle CPU, total (% of a core)" cpu_total
row "CPU seconds per hour" cpu_s_hour
row "RSS (KiB)" rss
row "Pss (KiB)" pss
row "private (KiB)" private
row "shared libraries mapped" files
echo "  Rss per mapping (KiB), the largest:"
[ -f "$OUT/base.map" ] || : >"$OUT/base.map"
awk 'FNR == NR {b[$2] = $1; next} {n[$2] = $1}
	END {for (k in n) b[k] = b[k]; for (k in b) printf "  %-52s %7s %7s\n", k,
		(b[k] == "" ? "-" : b[k]), (k in n) ? n[k] : "-"}' "$OUT/base.map" "$OUT/now.map" |
	sort -k2,2nr | head -n 25
