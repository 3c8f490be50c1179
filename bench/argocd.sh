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
	t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
	sleep "$IDLE_S"
	t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
	printf '%-34s CPU %5.2f%%  RSS %6d KiB\n' "$1" \
		"$(echo "($t1 - $t0) * 100 / $hz / $IDLE_S" | bc -l)" \
		"$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")"
}

stack_daemon_start
idle "idle, without [argocd]:"
stack_daemon_stop

echo "bench-token-$RANDOM" >"$STACK_DIR/argocd-token"
img_args=()
for i in "${STACK_IMAGES[@]}"; do img_args+=(--image "$i"); done
/usr/bin/python3 tests/fixtures/argocd-double.py --port-file "$STACK_DIR/argocd.port" \
	--repo "$STACK_BARE" --repo-url "$STACK_REPO_URL" --swagger tests/data/argocd/swagger.json \
	--token-file "$STACK_DIR/argocd-token" --app stonks-beta=values/values-beta.yaml \
	--app stonks-paper=values/values-paper.yaml --app stonks-live=values/values-live.yaml \
	"${img_args[@]}" --delay 0.5 &
ARGOCD_PID=$!
stack_atexit 'kill $ARGOCD_PID 2>/dev/null; wait $ARGOCD_PID 2>/dev/null'
for _ in $(seq 100); do [ -s "$STACK_DIR/argocd.port" ] && break; sleep 0.1; done
ARGOCD_URL=http://127.0.0.1:$(cat "$STACK_DIR/argocd.port")
cat >>"$STACK_CONF" <<EOC
[argocd]
	url = $ARGOCD_URL
	token = $STACK_DIR/argocd-token
EOC
for s in beta paper live; do stack_conf_set "stage.$s.application" "stonks-$s"; done
verdict() { curl -fsS "$STACK_URL/api/v1/status" | jq -r ".stages[] | select(.name == \"$1\") | .deployed.verdict"; }
stack_daemon_start
field() { curl -fsS "$STACK_URL/api/v1/status" | jq -r ".stages[] | select(.name == \"$1\") | .deployed.$2"; }
stack_wait_for '[ "$(field live revision)" != null ] && [ "$(field paper revision)" != null ] && [ "$(field beta revision)" != null ]' 60
for s in beta paper live; do echo "  $s: $(field $s verdict) ($(field $s reason))"; done
idle "idle, [argocd] with 3 Applications:"

sha=$(stack_release "bench release")
stack_kick >/dev/null || true
stack_wait_for '[ "$(verdict beta)" = deployed ] && [ "$(stack_tag beta)" = "$sha" ]' 90
ctl() { curl -fsS -X POST -d "$1" "$ARGOCD_URL/control" >/dev/null; }
ms=()
for _ in 1 2 3 4 5; do
	ctl '{"app":"stonks-beta","do":"degrade","message":"bench"}'
	stack_wait_for '[ "$(verdict beta)" = degraded ]' 10
	t0=$(date +%s%N)
	ctl '{"app":"stonks-beta","do":"heal"}'
	while [ "$(verdict beta)" != deployed ]; do sleep 0.01; done
	ms+=($((($(date +%s%N) - t0) / 1000000)))
done
sorted=$(printf '%s\n' "${ms[@]}" | sort -n | tr '\n' ' ')
echo "Healthy reported -> verdict 'deployed' in /api/v1/status, 5 runs (ms): $sorted(median $(printf '%s\n' "${ms[@]}" | sort -n | sed -n 3p) ms)"
stack_daemon_stop
