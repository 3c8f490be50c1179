#!/usr/bin/env bash
# SPEC 5 invariant "exactly-once", under kill -9 (issue 11 item 2, issue 15
# item 4).  Releases keep coming (beta promotes them automatically) while
# paper and live take them by request; the daemon is killed with SIGKILL
# at random points and restarted on the same state directory (one restart
# in five on an empty one), ACCEPT_KILL9_RESTARTS times (12 here, 100 in
# `bash scripts/soak.sh`, which runs this script).  A kill lands
#   - after a random delay (0-1.5 s: start-up, fetch, scan, registry, build),
#   - right after the server saw an update of main (its post-receive hook
#     holds a merge's push open for a moment: the kill falls between the
#     push of main and the clean-up push of the note and branch deletion),
#   - or while the server takes a clean-up push (its update hook sleeps on
#     refs/notes/pipelined and on branch deletions).
# The hooks are this test's own; the daemon knows nothing of them.  Each
# kill is put in a phase from what the server holds at that instant (the
# daemon logs nothing between its two pushes): main push under way, main
# pushed but its request branch not cleaned up yet, work pending before any
# push, idle.  At the end: every release is in every stage exactly once (no
# loss, no duplicate), every request is merged exactly once, carries the
# accepted note and its branch is gone, none was refused, every note is an
# accepted note on a merged request, no non-fast-forward update reached the
# server (its pre-receive hook records them), the remote fscks clean and
# `pipelinectl audit` finds the history clean.
# Replay: ACCEPT_KILL9_SEED=<seed printed at the start>.
. "$SRCDIR/tests/fixtures/stack.sh"
RESTARTS=${ACCEPT_KILL9_RESTARTS:-12}
PER_ROUND=${ACCEPT_KILL9_PER_ROUND:-4}	# kills at most per release round
SEED=${ACCEPT_KILL9_SEED:-$$}
RANDOM=$SEED
echo "restarts $RESTARTS, random seed $SEED (ACCEPT_KILL9_SEED=$SEED to replay)"
STACK_READY=listen	# restarts do not wait for a first cycle: kills may land in it
stack_start "2026-11-30 18:00:00"	# market closed: no break-glass needed
updates=$STACK_DIR/ssh/srv/gitops.log/updates
Z=0000000000000000000000000000000000000000

# the test's own server-side hooks, widening the window between the pushes
cat >"$STACK_BARE/hooks/post-receive" <<'HOOK'
#!/bin/sh
while read old new ref; do
	[ "$ref" = refs/heads/main ] || continue
	[ "$(git cat-file -p "$new" | grep -c '^parent ')" = 2 ] && sleep 0.3
done
exit 0
HOOK
cat >"$STACK_BARE/hooks/update" <<'HOOK'
#!/bin/sh
case $1 in
refs/notes/pipelined) sleep 0.3 ;;
refs/heads/promote/*) [ "$3" != 0000000000000000000000000000000000000000 ] || sleep 0.2 ;;
esac
exit 0
HOOK
chmod 755 "$STACK_BARE/hooks/post-receive" "$STACK_BARE/hooks/update"

stack_daemon_start
t0=$(date +%s)
rel=()	# release of each round
reqs=()	# "stage id branch" of every request made
want_b=$Z want_p=$Z want_l=$Z	# what beta, paper and live hold once the round settles
# beta's, paper's and live's tags on main, in one git process (the test polls
# them often: stack_tag runs a dozen processes each time, load the daemon feels)
vals=("main:$(stack_values_path beta)" "main:$(stack_values_path paper)" "main:$(stack_values_path live)")
tags_now() {
	printf '%s\n' "${vals[@]}" | stack_git cat-file --batch |
		sed -n 's/^ *tag: *"\([^"]*\)".*/\1/p' | awk 'NR % 14 == 1' | tr '\n' ' '
}
settled() {	# the round's promotions are all on main and no request branch is left
	[ -z "$(stack_git for-each-ref refs/heads/promote/)" ] && [ "$(tags_now)" = "$want_b $want_p $want_l " ]
}
settle() {
	stack_wait_for settled 90 ||
		stack_fail "round $round: want beta ${want_b:0:7} paper ${want_p:0:7} live ${want_l:0:7}, have" \
			"$(stack_tag beta | cut -c1-7) $(stack_tag paper | cut -c1-7) $(stack_tag live | cut -c1-7)," \
			"branches: $(stack_git for-each-ref --format='%(refname)' refs/heads/promote/)"
}

kills=0 stateless=0
declare -A trig=([delay]=0 [main]=0 [cleanup]=0) phase=([main-push]=0 [window]=0 [before-push]=0 [idle]=0)
lines() { wc -l <"$updates"; }
wait_update() {	# MARK REF: until the server logs an update of REF after line MARK
	local i	# (30 s at most, and not once the round has settled)
	for i in $(seq 300); do
		awk -v m="$1" -v r="$2" 'NR > m && $3 == r {f = 1} END {exit !f}' "$updates" && return 0
		[ $((i % 5)) != 0 ] || ! settled || return 1
		sleep 0.1
	done
	return 1
}
# The phase a kill landed in, from the server's side at that instant.
kill_phase() {	# MARK
	local main last tip
	main=$(stack_git rev-parse main)
	last=$(awk -v m="$1" 'NR > m && $3 == "refs/heads/main" {n = $2} END {print n}' "$updates")
	if [ -n "$last" ] && [ "$last" != "$main" ] && ! stack_git merge-base --is-ancestor "$last" "$main" 2>/dev/null; then
		echo main-push	# the server took the update of main but has not applied it yet
		return
	fi
	while read -r _ tip; do
		if stack_git merge-base --is-ancestor "$tip" "$main"; then
			echo window	# merged on main, its branch (and note) not cleaned up yet
			return
		fi
	done < <(stack_git for-each-ref --format='%(refname) %(objectname)' refs/heads/promote/)
	if settled; then echo idle; else echo before-push; fi
}
kill_once() {
	local mark mode=$((RANDOM % 3)) p
	mark=$(lines)
	case $mode in
	0) sleep "$((RANDOM % 15)).$((RANDOM % 10))e-1"; trig[delay]=$((trig[delay] + 1)) ;;	# 0..1.5 s
	1) wait_update "$mark" refs/heads/main && trig[main]=$((trig[main] + 1)) ;;
	2) wait_update "$mark" refs/notes/pipelined && trig[cleanup]=$((trig[cleanup] + 1)) ;;
	esac
	stack_daemon_kill9
	kills=$((kills + 1))
	p=$(kill_phase "$mark")
	phase[$p]=$((phase[$p] + 1))
	if [ $((RANDOM % 5)) = 0 ]; then
		rm -rf "$STACK_DIR/state"
		mkdir "$STACK_DIR/state"
		stateless=$((stateless + 1))
	fi
	stack_daemon_start
}
request() {	# STAGE TAG [ARGS...]: a request, remembered for the final checks
	local id
	id=$(stack_request "$@")
	reqs+=("$1 $id $(cat "$STACK_DIR/last-branch")")
}

# Round r: release r (beta, automatic), paper takes release r-1 and live
# release r-2 by request, all pushed before one kick; then kills at random
# points until the round settles or has had its share.  Rounds go on until
# every restart has happened, and two more drain the last releases.
round=0 n=-1
while :; do
	if [ "$kills" -lt "$RESTARTS" ] || [ "$round" -lt 3 ]; then
		n=$round
		rel[n]=$(stack_release "feat: change $n")
	fi
	want_b=${rel[n]}
	if [ "$round" -ge 1 ] && [ "$want_p" != "${rel[round - 1 < n ? round - 1 : n]}" ]; then
		want_p=${rel[round - 1 < n ? round - 1 : n]}
		request paper "$want_p"
	fi
	if [ "$round" -ge 2 ] && [ "$want_l" != "${rel[round - 2 < n ? round - 2 : n]}" ]; then
		want_l=${rel[round - 2 < n ? round - 2 : n]}
		request live "$want_l" --notes "round $round"
	fi
	stack_kick >/dev/null || true
	k=0
	while [ "$k" -lt "$PER_ROUND" ] && [ "$kills" -lt "$RESTARTS" ] && ! settled; do
		kill_once
		k=$((k + 1))
	done
	settle
	round=$((round + 1))
	[ "$want_l" != "${rel[n]}" ] || break
done
secs=$(($(date +%s) - t0))
stack_ok "$round rounds, $kills kill -9 + restarts in ${secs}s, all settled"

# every release in every stage exactly once: nothing lost, nothing twice
stack_git log --format='%(trailers:key=Stage,valueonly,separator=%x2C) %(trailers:key=Image-Tag,valueonly,separator=%x2C)' main |
	awk 'NF == 2' | sort | uniq -c >"$STACK_DIR/counts"
total=$(awk '{s += $1} END {print s + 0}' "$STACK_DIR/counts")
dups=$(awk '$1 != 1' "$STACK_DIR/counts")
[ -z "$dups" ] || stack_fail "promoted more than once: $dups"
for r in "${rel[@]}"; do
	for s in beta paper live; do
		grep -qE "^ +1 $s $r\$" "$STACK_DIR/counts" || stack_fail "missing promotion: $s $r"
	done
done
stack_expect_eq "$total" $((3 * ${#rel[@]})) "promotion commits on main"
# every request: merged once, the accepted note, no branch
merges=0
for r in "${reqs[@]}"; do
	read -r st id br <<<"$r"
	m=$(stack_git log --format='%(trailers:key=Request,valueonly,separator=%x2C)' main | grep -c "^$id\$" || true)
	[ "$m" = 1 ] || stack_fail "request $br ($id) merged $m times"
	merges=$((merges + 1))
	stack_expect_eq "$(stack_note "$id")" "accepted: promoted into $st" "note of $br ($id)"
	! stack_has_branch "$br" || stack_fail "branch $br left"
done
# the notes: one per request, each an accepted note on a merged request
notes=$(stack_git notes --ref=pipelined list | wc -l)
stack_expect_eq "$notes" "${#reqs[@]}" "notes under refs/notes/pipelined"
refused=$(grep -c "refused: " "$STACK_LOG" || true)
[ "$refused" = 0 ] || stack_fail "$refused refusal(s) logged: $(grep "refused: " "$STACK_LOG" | head -3)"
recovered=$(grep -c "its accepted note written" "$STACK_LOG" || true)
stack_daemon_stop
[ ! -s "$STACK_DIR/ssh/srv/gitops.log/forced" ] || stack_fail "non-fast-forward updates: $(cat "$STACK_DIR/ssh/srv/gitops.log/forced")"
stack_git fsck --no-progress >/dev/null 2>&1 || stack_fail "remote fsck"
audit=$(stack_ctl audit 2>&1) || stack_fail "pipelinectl audit: $audit"
audit=$(tail -n1 <<<"$audit")
stack_ok "$total promotions (${#rel[@]} releases x beta automatic, paper and live by request), $merges requests merged" \
	"exactly once with the accepted note, $notes notes, no branch left, none refused, no forced update; $audit"
echo "soak: restarts $kills ($stateless without the state directory), promotions $total ($merges by request)," \
	"rounds $round, duration ${secs}s, seed $SEED"
echo "soak: kills per phase: ${phase[main-push]} during the push of main, ${phase[window]} between the push of main" \
	"and the clean-up push, ${phase[before-push]} with work pending before any push, ${phase[idle]} idle"
echo "soak: kills per trigger: ${trig[delay]} at a random delay, ${trig[main]} on the server's update of main," \
	"${trig[cleanup]} on its update of refs/notes/pipelined; $recovered clean-ups redone after a restart (daemon log)"
echo "accept_kill9: all checks passed"
