#!/usr/bin/env bash
# pipelined against the shell pipeline an operator would write instead
# (bench/shell-loop.sh: skopeo list-tags + sed + git commit/push), one
# after the other on the same loopback stack (tests/fixtures/stack.sh: sshd
# + git-shell, docker-registry), both polling every second, both reaching
# the registry through one counting proxy (bench/count-proxy.py).  Measures
# registry requests per idle cycle, seconds per idle and per promoting
# cycle (pipelined: its "cycle N took" debug lines; the loop: its own
# timing) and CPU per idle cycle (the process and its descendants, reaped
# or alive), given as CPU seconds per hour at a 30 s poll interval (per
# idle cycle x 120).  Prints one line per measure, fields split by "|":
#   measure|pipelined|shell loop
#
# usage: bash bench/shell-baseline.sh   (BUILD: a release build, default
#        build-bench; IDLE_SECONDS: the idle window of each, default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-bench}
export SRCDIR=$PWD PIPELINED=$BUILD/pipelined PIPELINECTL=$BUILD/pipelinectl PIPELINED_GIT=$BUILD/pipelined-git
IDLE=${IDLE_SECONDS:-30}
. tests/fixtures/stack.sh
HZ=$(getconf CLK_TCK)
tree_cpu() {	# PID: CPU ticks of PID, its reaped children and its live descendants
	local t k
	t=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13 + $14 + $15}') || true
	t=${t:-0}
	for k in $(pgrep -P "$1" || true); do t=$((t + $(tree_cpu "$k"))); done
	echo "$t"
}
per() { awk -v a="$1" -v b="$2" -v f="${3:-%.1f}" 'BEGIN {printf f, b ? a / b : 0}'; }

stack_start "2026-11-30 18:00:00"
/usr/bin/python3 bench/count-proxy.py "$STACK_REGISTRY" "$STACK_DIR/proxy.port" >"$STACK_DIR/proxy.log" 2>&1 &
proxy=$!
stack_atexit "kill $proxy 2>/dev/null"
stack_wait_for "[ -s '$STACK_DIR/proxy.port' ]" 10
PROXY=127.0.0.1:$(cat "$STACK_DIR/proxy.port")
count() { curl -fsS "http://$PROXY/_count"; }
stack_conf_set registry.url "http://$PROXY"
# shellcheck disable=SC2034  # x, y, z: read by the conditions stack_wait_for evals
x=$(stack_release "feat: X")

# ---- pipelined ----
stack_daemon_start
stack_wait_for '[ "$(stack_tag beta)" = "$x" ]' 60
sleep 3
took() { awk -v m="$1" 'NR > m && match($0, /cycle [0-9]+ took [0-9]+ms/) {
	s = substr($0, RSTART, RLENGTH); sub(/ms$/, "", s); n = split(s, f, " "); print f[n]}' "$STACK_LOG"; }
l0=$(wc -l <"$STACK_LOG") r0=$(count) u0=$(tree_cpu "$STACK_DAEMON_PID")
sleep "$IDLE"
l1=$(wc -l <"$STACK_LOG") r1=$(count) u1=$(tree_cpu "$STACK_DAEMON_PID")
pc=$(took "$l0" | head -n $((l1 - l0)) | wc -l)
p_req=$(per $((r1 - r0)) "$pc")
p_idle_s=$(took "$l0" | awk '{s += $1; n++} END {printf "%.3f", n ? s / n / 1000 : 0}')
p_cpu=$(per $(((u1 - u0) * 120)) "$((pc * HZ))")
# shellcheck disable=SC2034
y=$(stack_release "feat: Y")
stack_wait_for '[ "$(stack_tag beta)" = "$y" ]' 60
sleep 2
p_prom_s=$(awk '/promoted .* into beta/ {p = 1} p && match($0, /cycle [0-9]+ took [0-9]+ms/) {
	s = substr($0, RSTART, RLENGTH); sub(/ms$/, "", s); n = split(s, f, " "); v = f[n]} END {printf "%.3f", v / 1000}' "$STACK_LOG")
stack_daemon_stop
p_all=$(count)

# ---- the shell loop, on the same stack ----
clone=$(stack_clone)
bash bench/shell-loop.sh "$PROXY" "$STACK_NS" "$clone" 1 "$STACK_DIR/shell.log" 2>"$STACK_DIR/shell.err" &
loop=$!
stack_atexit "kill $loop 2>/dev/null"
stack_wait_for "[ -s '$STACK_DIR/shell.log' ] && [ \$(wc -l <'$STACK_DIR/shell.log') -ge 2 ]" 90
grep -q promoted "$STACK_DIR/shell.log" && stack_fail "the shell loop promoted what pipelined had promoted already"
l0=$(wc -l <"$STACK_DIR/shell.log")
stack_wait_for "[ \$(wc -l <'$STACK_DIR/shell.log') -gt $l0 ]" 60	# from a cycle's end
l0=$(wc -l <"$STACK_DIR/shell.log") r0=$(count) u0=$(tree_cpu "$loop")
sleep "$IDLE"
# at least three of its cycles (each one is slow), ending right after one
stack_wait_for "[ \$(wc -l <'$STACK_DIR/shell.log') -ge $((l0 + 3)) ]" 120
l1=$(wc -l <"$STACK_DIR/shell.log")
stack_wait_for "[ \$(wc -l <'$STACK_DIR/shell.log') -gt $l1 ]" 60
l1=$(wc -l <"$STACK_DIR/shell.log") r1=$(count) u1=$(tree_cpu "$loop")
sc=$((l1 - l0))
s_req=$(per $((r1 - r0)) "$sc")
s_idle_s=$(awk -v m="$l0" 'NR > m && $1 == "idle" {s += $2; n++} END {printf "%.3f", n ? s / n / 1000 : 0}' "$STACK_DIR/shell.log")
s_cpu=$(per $(((u1 - u0) * 120)) "$((sc * HZ))")
# shellcheck disable=SC2034
z=$(stack_release "feat: Z")
stack_wait_for '[ "$(stack_tag beta)" = "$z" ]' 60
stack_wait_for "grep -q promoted '$STACK_DIR/shell.log'" 10
s_prom_s=$(awk '$1 == "promoted" {v = $2} END {printf "%.3f", v / 1000}' "$STACK_DIR/shell.log")
kill "$loop" 2>/dev/null || true

echo "registry requests per idle cycle|$p_req|$s_req"
echo "seconds per idle cycle|$p_idle_s|$s_idle_s"
echo "seconds per promoting cycle|$p_prom_s|$s_prom_s"
echo "CPU s per hour idle (30 s poll)|$p_cpu|$s_cpu"
echo "idle cycles measured (>= $IDLE s)|$pc|$sc"
echo "registry requests in all, through the proxy|$p_all|$(count)"
