#!/usr/bin/env bash
# SPEC 5 invariant "exactly-once": over 100+ promotions (beta automatic,
# paper and live by request, 34 releases after the close), the daemon is
# killed with SIGKILL at random points -- mid-cycle, mid-push, mid-merge --
# and restarted on the same state directory.  At the end the remote holds
# every expected promotion exactly once, nobody's commit was overwritten
# (no non-fast-forward update reached the server) and no request branch is
# left behind.
. "$SRCDIR/tests/fixtures/stack.sh"
ROUNDS=${ACCEPT_KILL9_ROUNDS:-34}
STACK_READY=listen	# restarts do not wait for a first cycle: kills may land in it
SEED=${ACCEPT_KILL9_SEED:-$$}
RANDOM=$SEED
echo "rounds $ROUNDS, random seed $SEED (ACCEPT_KILL9_SEED=$SEED to replay)"
stack_start "2026-11-30 18:00:00"
stack_daemon_start
t0=$(date +%s)
kills=0
rel=()
maybe_kill() {	# kill -9 at a random point of the work now under way
	[ $((RANDOM % 3)) != 0 ] || return 0
	sleep "$((RANDOM % 8)).$((RANDOM % 10))e-1"	# 0..0.8 s
	stack_daemon_kill9
	kills=$((kills + 1))
	stack_daemon_start
}
expect_round() {	# B P L: wait until beta, paper, live hold these tags
	stack_wait_for "[ \"\$(stack_tag beta)\" = '$1' ] && [ \"\$(stack_tag paper)\" = '$2' ] && [ \"\$(stack_tag live)\" = '$3' ]" 60 ||
		stack_fail "round $i: want beta ${1:0:7} paper ${2:0:7} live ${3:0:7}, have $(stack_tag beta | cut -c1-7) $(stack_tag paper | cut -c1-7) $(stack_tag live | cut -c1-7)"
}
Z=0000000000000000000000000000000000000000
for ((i = 0; i < ROUNDS + 2; i++)); do
	if [ $i -lt "$ROUNDS" ]; then
		rel[i]=$(stack_release "feat: change $i")
	fi
	[ $i -lt 1 ] || [ $((i - 1)) -ge "$ROUNDS" ] || stack_request paper "${rel[i - 1]}" >/dev/null
	[ $i -lt 2 ] || stack_request live "${rel[i - 2]}" --notes "round $i" >/dev/null
	stack_kick >/dev/null || true
	maybe_kill
	last=$((ROUNDS - 1))
	b=${rel[i < last ? i : last]}
	p=$Z l=$Z
	[ $i -lt 1 ] || p=${rel[i - 1 < last ? i - 1 : last]}
	[ $i -lt 2 ] || l=${rel[i - 2]}
	expect_round "$b" "$p" "$l"
done
stack_wait_for '[ -z "$(stack_git for-each-ref refs/heads/promote/)" ]' 30 ||
	stack_fail "request branches left: $(stack_git for-each-ref --format='%(refname)' refs/heads/promote/)"
stack_daemon_stop
secs=$(($(date +%s) - t0))

stack_git log --format='%(trailers:key=Stage,valueonly,separator=%x2C) %(trailers:key=Image-Tag,valueonly,separator=%x2C)' main |
	awk 'NF == 2' | sort | uniq -c >"$STACK_DIR/counts"
total=$(awk '{s += $1} END {print s + 0}' "$STACK_DIR/counts")
dups=$(awk '$1 != 1' "$STACK_DIR/counts")
[ -z "$dups" ] || stack_fail "promoted more than once: $dups"
for ((i = 0; i < ROUNDS; i++)); do
	for s in beta paper live; do
		grep -qE "^ +1 $s ${rel[i]}\$" "$STACK_DIR/counts" || stack_fail "missing promotion: $s ${rel[i]}"
	done
done
stack_expect_eq "$total" $((3 * ROUNDS)) "promotion commits on main"
[ ! -s "$STACK_DIR/ssh/srv/gitops.log/forced" ] || stack_fail "non-fast-forward updates: $(cat "$STACK_DIR/ssh/srv/gitops.log/forced")"
stack_git fsck --no-progress >/dev/null 2>&1 || stack_fail "remote fsck"
stack_ok "$total promotions ($ROUNDS releases x beta/paper/live), $kills kill -9 + restarts in ${secs}s: each exactly once, none missing, no forced update"
echo "accept_kill9: all checks passed"
