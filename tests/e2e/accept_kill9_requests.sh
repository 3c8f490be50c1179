#!/usr/bin/env bash
# ctest: serial
# Issue 11 item 2, SPEC 5 "exactly-once" for requests: the daemon is
# killed with SIGKILL at random points of request merges and restarted on
# the same state directory (now and then on an empty one).  Requests come
# in batches of three pushed at once (beta, paper and live, each to the
# release its stage does not run: X and Y in turn, so any order merges).
# A kill lands after a random delay, or right after the server saw the
# push of main (its post-receive hook then holds the push open for a
# moment: the kill falls between the push of the branch and the push of
# the note and the branch deletion), or while the server is taking a note
# push (its update hook sleeps on refs/notes/pipelined and on branch
# deletions).  The hooks are this test's own; the daemon knows nothing of
# them.  At the end every request is merged exactly once, carries the
# accepted note, and its branch is gone; none was refused after its merge;
# no non-fast-forward update reached the server; the remote fscks clean.
. "$SRCDIR/tests/fixtures/stack.sh"
BATCHES=${ACCEPT_KILL9_REQUESTS_BATCHES:-8}
KILLS=${ACCEPT_KILL9_REQUESTS_KILLS:-100}
SEED=${ACCEPT_KILL9_REQUESTS_SEED:-$$}
RANDOM=$SEED
echo "batches $BATCHES, kills $KILLS, random seed $SEED (ACCEPT_KILL9_REQUESTS_SEED=$SEED to replay)"
STACK_READY=listen	# restarts do not wait for a first cycle: kills may land in it
stack_start "2026-11-30 18:00:00"	# market closed: no break-glass needed
stack_conf_set stage.beta.auto false	# beta by request too: three stages per batch
updates=$STACK_DIR/ssh/srv/gitops.log/updates

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
x=$(stack_release "feat: X")
y=$(stack_release "feat: Y")
dev=$STACK_DIR/dev
reqs=()	# "stage id branch" of every request made
mkreq() {	# STAGE TAG NAME: a request commit on branch promote/STAGE/NAME, not pushed
	local f
	f=$(stack_values_path "$1")
	git -C "$dev" checkout -q -B "promote/$1/$3" origin/main
	stack_faked "$PIPELINECTL" edit "$dev/$f" 'services.*.image.tag' --tag "$2" -i >/dev/null
	git -C "$dev" add -A
	_stack_dated git -C "$dev" commit -q -m "promote $1: ${2:0:12} ($3)"$'\n\n'"Notes: batch $3"
	reqs+=("$1 $(git -C "$dev" rev-parse HEAD) promote/$1/$3")
}
push_batch() {	# TAG NAME STAGE...: one request per stage, one push
	local tag=$1 name=$2 st b=()
	shift 2
	_stack_dev_sync
	for st in "$@"; do
		mkreq "$st" "$tag" "$name"
		b+=("promote/$st/$name")
	done
	git -C "$dev" checkout -q main
	git -C "$dev" push -q origin "${b[@]}"
	stack_kick >/dev/null || true
}
settled() {	# no request branch left
	[ -z "$(stack_git for-each-ref refs/heads/promote/)" ]
}
settle() {
	stack_wait_for settled 90 ||
		stack_fail "request branches left: $(stack_git for-each-ref --format='%(refname)' refs/heads/promote/)"
}
# X and Y into the history of every stage, without kills
for t in "$x" "$y"; do
	for st in beta paper live; do
		push_batch "$t" "setup-$st-${t:0:7}" "$st"
		settle
	done
done
stack_ok "setup: beta, paper and live have run ${x:0:7} and ${y:0:7} (${#reqs[@]} requests)"

kills=0 stateless=0 between=0 aux=0 anywhere=0
lines() { wc -l <"$updates"; }
wait_update() {	# MARK REF: until the server logs an update of REF after line MARK
	local i	# (30 s at most, and not once every request of the batch is done)
	for i in $(seq 300); do
		awk -v m="$1" -v r="$2" 'NR > m && $3 == r {f = 1} END {exit !f}' "$updates" && return 0
		! settled || return 1
		sleep 0.1
	done
	return 1
}
kill_once() {
	local mark mode=$((RANDOM % 3))
	mark=$(lines)
	case $mode in
	0) sleep "$((RANDOM % 10)).$((RANDOM % 10))e-1"; anywhere=$((anywhere + 1)) ;;	# 0..1 s
	1) wait_update "$mark" refs/heads/main && between=$((between + 1)) ;;
	2) wait_update "$mark" refs/notes/pipelined && aux=$((aux + 1)) ;;
	esac
	stack_daemon_kill9
	kills=$((kills + 1))
	if [ $((RANDOM % 5)) = 0 ]; then
		rm -rf "$STACK_DIR/state"
		mkdir "$STACK_DIR/state"
		stateless=$((stateless + 1))
	fi
	stack_daemon_start
}
first=${#reqs[@]}
# the kills are spread over the batches, and only while a batch is being
# worked on: more batches follow until all KILLS have landed
for ((b = 0; b < BATCHES || kills < KILLS; b++)); do
	if [ $((b % 2)) = 0 ]; then t=$x; else t=$y; fi	# every stage runs Y after the setup
	push_batch "$t" "b$b" beta paper live
	upto=$(((KILLS * (b + 1) + BATCHES - 1) / BATCHES))
	while [ "$kills" -lt "$upto" ] && [ "$kills" -lt "$KILLS" ] && ! settled; do kill_once; done
	settle
done
secs=$(($(date +%s) - t0))

# every request: merged once, the accepted note, no branch, never refused
merges=0
for r in "${reqs[@]:first}"; do
	read -r st id br <<<"$r"
	m=$(stack_git log --format='%(trailers:key=Request,valueonly,separator=%x2C)' main | grep -c "^$id\$" || true)
	[ "$m" = 1 ] || stack_fail "request $br ($id) merged $m times"
	merges=$((merges + 1))
	stack_expect_eq "$(stack_note "$id")" "accepted: promoted into $st" "note of $br ($id)"
	! stack_has_branch "$br" || stack_fail "branch $br left"
done
refused=$(grep -c "refused: " "$STACK_LOG" || true)
[ "$refused" = 0 ] || stack_fail "$refused refusal(s) logged: $(grep "refused: " "$STACK_LOG" | head -3)"
recovered=$(grep -c "its accepted note written" "$STACK_LOG" || true)
stack_daemon_stop
[ ! -s "$STACK_DIR/ssh/srv/gitops.log/forced" ] || stack_fail "non-fast-forward updates: $(cat "$STACK_DIR/ssh/srv/gitops.log/forced")"
stack_git fsck --no-progress >/dev/null 2>&1 || stack_fail "remote fsck"
stack_ok "$merges requests in $b batches, $kills kill -9 ($between right after the push of main, $aux during a note push, $anywhere at a random delay), $stateless restarts without the state directory, $recovered clean-ups redone with the accepted note, ${secs}s: each merged exactly once with its accepted note, no branch left, none refused, no forced update"
echo "accept_kill9_requests: all checks passed"
