#!/usr/bin/env bash
# Argo CD figures (issue 13) on the loopback stack (sshd + git-shell,
# docker-registry, pipelined under the fake clock) with the Argo CD double:
# the seconds from the double reporting Healthy to the verdict changing in
# /api/v1/status (over the watch stream), and the daemon's idle CPU and
# RSS with three watched Applications next to the same daemon without
# [argocd].  A benchmark, not a test: prints figures.
#
# usage: bench/argocd.sh   (builds build-bench/ in Release first), or with
#        PIPELINED, PIPELINECTL and PIPELINED_GIT set to binaries to measure
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-bench}
if [ -z "${PIPELINED:-}" ]; then
	cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DPIPELINED_TESTS=OFF >/dev/null
	cmake --build "$BUILD" -j "$(nproc)" >/dev/null
	PIPELINED=$BUILD/pipelined PIPELINECTL=$BUILD/pipelinectl PIPELINED_GIT=$BUILD/pipelined-git
fi
SRCDIR=$PWD
export SRCDIR PIPELINED PIPELINECTL PIPELINED_GIT
IDLE_S=${IDLE_S:-30}
. tests/fixtures/stack.sh
stack_start "2026-11-30 18:00:00"

idle() {	# LABEL: CPU share and RSS of the daemon over IDLE_S quiet seconds
	local pid=$STACK_DAEMON_PID t0 t1 hz
	hz=$(getconf CLK_TCK)
	sleep 5
	t0=$(stack_cpu_ticks "$pid" self)
	sleep "$IDLE_S"
	t1=$(stack_cpu_ticks "$pid" self)
	printf '%-34s CPU %5.2f%%  RSS %6d KiB\n' "$1" \
		"$(echo "($t1 - $t0) * 100 / $hz / $IDLE_S" | bc -l)" "$(stack_mem_kib "$pid" Rss)"
}

stack_daemon_start
idle "idle, without [argocd]:"
stack_daemon_stop

# the Argo CD double and [argocd] from the tests' fixture, three Applications
. tests/fixtures/argocd.sh
stack_argocd_start beta paper live
field() { curl -fsS "$STACK_URL/api/v1/status" | jq -r ".stages[] | select(.name == \"$1\") | .deployed.$2"; }
verdict() { field "$1" verdict; }
stack_daemon_start
stack_wait_for '[ "$(field live revision)" != null ] && [ "$(field paper revision)" != null ] && [ "$(field beta revision)" != null ]' 60 ||
	stack_fail "the three Applications were not all read"
for s in beta paper live; do echo "  $s: $(field $s verdict) ($(field $s reason))"; done
idle "idle, [argocd] with 3 Applications:"

sha=$(stack_release "bench release")
stack_kick >/dev/null || true
stack_wait_for '[ "$(verdict beta)" = deployed ] && [ "$(stack_tag beta)" = "$sha" ]' 90 ||
	stack_fail "the release was not deployed in beta"
ms=()
for _ in 1 2 3 4 5; do
	argocd_ctl '{"app":"stonks-beta","do":"degrade","message":"bench"}'
	stack_wait_for '[ "$(verdict beta)" = degraded ]' 10 || stack_fail "beta did not turn degraded"
	t0=$(date +%s%N)
	argocd_ctl '{"app":"stonks-beta","do":"heal"}'
	# polled every 10 ms, for 10 s at most
	until [ "$(verdict beta)" = deployed ]; do
		[ $((($(date +%s%N) - t0) / 1000000)) -lt 10000 ] ||
			stack_fail "the verdict did not turn deployed within 10 s of the double reporting Healthy"
		sleep 0.01
	done
	ms+=($((($(date +%s%N) - t0) / 1000000)))
done
sorted=$(printf '%s\n' "${ms[@]}" | sort -n | tr '\n' ' ')
echo "Healthy reported -> verdict 'deployed' in /api/v1/status, 5 runs (ms): $sorted(median $(printf '%s\n' "${ms[@]}" | sort -n | sed -n 3p) ms)"
stack_argocd_violations
stack_daemon_stop
