#!/usr/bin/env bash
# ctest: cost 130
# Issue 11 item 3: more request branches than the daemon tracks.  One
# author pushes 200 junk requests first (180 that touch another file,
# every tenth with a malformed name), then four developers push 100 valid ones.
# With the default bounds ([requests] max 256, perAuthor 32):
#  - every valid request is decided within a bounded number of cycles of
#    its push (the junk holds 32 slots, not all of them);
#  - the junk past the bounds is refused queue-full, one note per commit,
#    named in the status API and the metric, and admitted oldest first when
#    slots free up;
#  - the log says so once, not per branch per cycle;
#  - a week later the refused branches are deleted, their notes kept.
# ctest: heavy
. "$SRCDIR/tests/fixtures/stack.sh"
t_start=$(date +%s)
JUNK=200 VALID=100 PER_AUTHOR=32
DECIDE_CYCLES=4		# cycles from the push of the valid ones to their verdicts

# settle N: N more complete cycles (a cycle with nothing to fetch takes a
# few seconds under ASan on a busy machine, one after a push more)
settle() {
	local want
	want=$(($(stack_metric pipelined_cycles_total) + $1))
	stack_wait_for "[ \$(stack_metric pipelined_cycles_total) -ge $want ]" $((60 + 10 * $1))
}

stack_start "2026-11-30 14:00:00"	# Monday, market open: paper requests queue
stack_daemon_start
x=$(stack_release "feat: X")
stack_kick >/dev/null || true
stack_wait_for '[ "$(stack_tag beta)" = "$x" ]' 60

dev=$STACK_DIR/dev
_stack_dev_sync
base=$(git -C "$dev" rev-parse HEAD)
# one tree for the junk (an extra file: wrong-files), one for the valid
# requests (paper's tags set to x, as stack_request does it)
echo junk >"$dev/junk.txt"
git -C "$dev" add junk.txt
junk_tree=$(git -C "$dev" write-tree)
git -C "$dev" reset -q --hard "$base"
f=$(stack_values_path paper)
stack_faked "$PIPELINECTL" edit "$dev/$f" 'services.*.image.tag' --tag "$x" -i >/dev/null
git -C "$dev" add -A
valid_tree=$(git -C "$dev" write-tree)
git -C "$dev" reset -q --hard "$base"

# commit TREE AUTHOR-EMAIL SECONDS-AGO MESSAGE: a request commit on main
commit() {
	local t=$(( $(stack_now) - $3 ))
	GIT_AUTHOR_NAME=${2%@*} GIT_AUTHOR_EMAIL=$2 GIT_AUTHOR_DATE="@$t +0000" \
		GIT_COMMITTER_DATE="@$t +0000" git -C "$dev" commit-tree "$1" -p "$base" -m "$4"
}
specs=() junk_ids=() junk_names=()
for i in $(seq -w 1 $JUNK); do
	# older first: junk-001 is the oldest tip
	id=$(commit "$junk_tree" junk@example.com $((10000 - 10#$i)) "junk $i")
	if [ $((10#$i % 10)) != 0 ]; then name=promote/paper/junk-$i; else name=promote/qa/junk-$i; fi
	specs+=("$id:refs/heads/$name") junk_ids+=("$id") junk_names+=("$name")
done
git -C "$dev" push -q origin "${specs[@]}"
stack_ok "$JUNK junk request branches pushed by one author"

# the junk settles: 32 judged (refused with their codes), 168 queue-full
waiting() { stack_status | jq -r '.requests_waiting.count'; }
stack_wait_for '[ "$(waiting)" = $((JUNK - PER_AUTHOR)) ]' 120 ||
	stack_fail "the junk past perAuthor is not waiting (waiting: $(waiting))"
stack_wait_for '[ "$(stack_note "${junk_ids[$((JUNK - 1))]}" | grep -c queue-full)" = 1 ]' 300 ||
	stack_fail "no queue-full note on the newest junk"
settle 1
first=$(stack_note "${junk_ids[0]}")
stack_expect_in 'wrong-files' "$first" "note on the oldest junk"
stack_expect_in 'malformed' "$(stack_note "${junk_ids[9]}")" "note on a judged malformed junk branch"
last=$(stack_note "${junk_ids[$((JUNK - 1))]}")
stack_expect_in 'queue-full' "$last" "note on the newest junk"
stack_expect_in 'requests.perAuthor' "$last" "queue-full note"
stack_expect_in 'delete' "$last" "queue-full note says what to do"
queue_full_notes=0
for id in "${junk_ids[@]}"; do
	case $(stack_note "$id") in *queue-full*) queue_full_notes=$((queue_full_notes + 1)) ;; esac
done
stack_expect_eq "$queue_full_notes" $((JUNK - PER_AUTHOR)) "junk commits with a queue-full note"
stack_expect_eq "$(stack_metric pipelined_requests_waiting)" $((JUNK - PER_AUTHOR)) "waiting gauge"
stack_expect_eq "$(stack_status | jq -r '.requests_waiting.oldest[0].branch')" \
	"promote/paper/junk-$(printf %03d $((PER_AUTHOR + 1)))" "the first waiting branch (oldest)"
stack_ok "junk past perAuthor refused queue-full: $last"

# the valid requests, pushed last, from four developers
specs=() valid_names=()
for i in $(seq -w 1 $VALID); do
	id=$(commit "$valid_tree" "dev$((10#$i % 4))@example.com" $((200 - 10#$i)) "promote paper: ${x:0:12} ($i)")
	specs+=("$id:refs/heads/promote/paper/valid-$i") valid_names+=("promote/paper/valid-$i")
done
c0=$(stack_metric pipelined_cycles_total)
t0=$(date +%s)
git -C "$dev" push -q origin "${specs[@]}"
# decided: the status names a verdict (here queued for the market's close)
undecided() {
	stack_status | jq -r '[.requests[] | select(.branch | startswith("promote/paper/valid-"))
		| select(.state != "pending")] | length' | awk -v n=$VALID '{print n - $1}'
}
stack_wait_for '[ "$(undecided)" = 0 ]' 300 || stack_fail "$(undecided) valid requests not decided"
c1=$(stack_metric pipelined_cycles_total)
t1=$(date +%s)
cycles=$((c1 - c0 + 1))	# the cycle running now counts too
[ "$cycles" -le $DECIDE_CYCLES ] ||
	stack_fail "the valid requests took $cycles cycles to be decided (bound $DECIDE_CYCLES)"
codes=$(stack_status | jq -r '[.requests[] | select(.branch | startswith("promote/paper/valid-")) | .code] | unique | join(",")')
stack_expect_eq "$codes" market-open "codes of the valid requests"
stack_ok "all $VALID valid requests decided within $cycles cycle(s), $((t1 - t0))s, of their push"
stack_expect_eq "$(waiting)" $((JUNK - PER_AUTHOR)) "waiting after the valid push"
valid_noted() {
	local n=0 b
	for b in "${valid_names[@]}"; do
		case $(stack_note "$(stack_git rev-parse "refs/heads/$b")") in *"queued until the close"*) n=$((n + 1)) ;; esac
	done
	echo $n
}
stack_wait_for '[ "$(valid_noted)" = $VALID ]' 180 || stack_fail "$(valid_noted) valid requests have their note"
t2=$(date +%s)
stack_ok "notes of the valid requests pushed within $((t2 - t0))s"

# a settled table logs nothing more: no line per branch per cycle
settle 1
before=$(wc -l <"$STACK_LOG")
settle 10
new=$(tail -n +$((before + 1)) "$STACK_LOG" | grep -c -E 'request|promote/' || true)
[ "$new" = 0 ] || { tail -n +$((before + 1)) "$STACK_LOG" | grep -E 'request|promote/' | head >&2;
	stack_fail "$new log lines about requests in 10 settled cycles"; }
over=$(grep -c 'past the bounds' "$STACK_LOG" || true)
stack_expect_eq "$over" 1 "lines about the bounds being hit"
per_junk=$(grep -c 'junk-' "$STACK_LOG" || true)
# new + refused + note pushed for the 32 judged, none for the waiting ones
[ "$per_junk" -le $((3 * PER_AUTHOR)) ] || stack_fail "$per_junk log lines name junk branches"
stack_ok "log: 1 line for the bounds, $per_junk naming junk branches, 0 in 10 settled cycles"

# slots free up (the author deletes 5 judged branches): the next oldest
# waiting ones come in, in order, and are judged
dels=()
for i in 0 1 2 3 4; do dels+=(":refs/heads/${junk_names[$i]}"); done
git -C "$dev" push -q origin "${dels[@]}"
stack_wait_for "stack_note ${junk_ids[$((PER_AUTHOR + 4))]} | grep wrong-files >/dev/null" 240 ||
	stack_fail "the 5 oldest waiting branches were not admitted"
stack_expect_in 'queue-full' "$(stack_note "${junk_ids[$((PER_AUTHOR + 5))]}")" "the 6th oldest still waits"
stack_expect_eq "$(waiting)" $((JUNK - PER_AUTHOR - 5)) "waiting after 5 deletions"
stack_ok "5 deleted branches let the 5 oldest waiting ones in, oldest first"

# a week and a day later: every refused branch is deleted, its note kept;
# the valid (queued) requests stay
stack_daemon_stop
stack_clock_set "2026-12-08 14:00:00"	# Tuesday, market open again
before=$(wc -l <"$STACK_LOG")
t3=$(date +%s)
stack_daemon_start
left() { stack_git for-each-ref --format=x 'refs/heads/promote/paper/junk-*' 'refs/heads/promote/qa/*' | wc -l; }
stack_wait_for '[ "$(left)" = 0 ]' 300 || stack_fail "$(left) refused junk branches left"
t4=$(date +%s)
stack_expect_in 'wrong-files' "$(stack_note "${junk_ids[5]}")" "note kept on a deleted judged branch"
stack_expect_in 'queue-full' "$(stack_note "${junk_ids[$((JUNK - 1))]}")" "note kept on a deleted waiting branch"
stack_expect_in 'malformed' "$(stack_note "${junk_ids[9]}")" "note kept on a deleted malformed branch"
valid_left=$(stack_git for-each-ref --format=x 'refs/heads/promote/paper/valid-*' | wc -l)
stack_expect_eq "$valid_left" $VALID "valid request branches"
stack_wait_for '[ "$(waiting)" = 0 ]' 60
deleted=$(tail -n +$((before + 1)) "$STACK_LOG" | grep -c 'deleted: its tip is older than requests.expireRefused' || true)
stack_expect_eq "$deleted" $((JUNK - 5)) "journal lines for the deletions"
settle 2
stack_expect_eq "$(grep -c 'every request branch is tracked again' "$STACK_LOG")" 1 "end of the condition logged"
stack_ok "$((JUNK - 5)) refused branches deleted $((t4 - t3))s after a restart 8 days on, notes kept"
echo "accept_request_bounds: all checks passed in $(( $(date +%s) - t_start ))s"
