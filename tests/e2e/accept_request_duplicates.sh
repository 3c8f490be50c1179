#!/usr/bin/env bash
# Issue 11 item 1: duplicate requests for one release give one promotion.
# With paper at X, ten request branches made from the same main, each
# setting paper to Y, arrive in ONE push: exactly one "promote paper"
# commit for Y lands on main; the nine others wait for it, then are refused
# already-current with that code in their notes, in `pipelinectl status`
# and in the status API; no promotion that changes no file is ever made.
# A request for the release paper already runs is refused the same way.
. "$SRCDIR/tests/fixtures/stack.sh"
stack_start "2026-11-30 18:00:00"	# market closed: paper merges without break-glass
stack_daemon_start
x=$(stack_release "feat: X")
stack_kick >/dev/null || true
stack_wait_for '[ "$(stack_tag beta)" = "$x" ]' 60
stack_wait_merged "$(stack_request paper "$x")" 60 >/dev/null
stack_expect_eq "$(stack_tag paper)" "$x" "paper"
y=$(stack_release "feat: Y")
stack_kick >/dev/null || true
stack_wait_for '[ "$(stack_tag beta)" = "$y" ]' 60
stack_ok "paper at ${x:0:7}, beta at ${y:0:7}"

# ten requests from the same main for Y, told apart by their subjects only
dev=$STACK_DIR/dev f=$(stack_values_path paper)
_stack_dev_sync
branches=() ids=()
for i in 0 1 2 3 4 5 6 7 8 9; do
	git -C "$dev" checkout -q -B "promote/paper/dup-$i" origin/main
	stack_faked "$PIPELINECTL" edit "$dev/$f" 'services.*.image.tag' --tag "$y" -i >/dev/null
	git -C "$dev" add -A
	_stack_dated git -C "$dev" commit -q -m "promote paper: ${y:0:12} (request $i)"
	branches+=("promote/paper/dup-$i")
	ids+=("$(git -C "$dev" rev-parse HEAD)")
done
git -C "$dev" checkout -q main
main_before=$(stack_git rev-parse main)
git -C "$dev" push -q origin "${branches[@]}"
stack_kick >/dev/null || true

decided() {	# one merged, every other one refused with a note
	local merged=0 noted=0 i
	for i in "${!ids[@]}"; do
		if [ -n "$(stack_merge_of "${ids[i]}")" ]; then
			merged=$((merged + 1))
		elif stack_note "${ids[i]}" | grep '^already-current: ' >/dev/null; then
			noted=$((noted + 1))
		fi
	done
	[ $merged -ge 1 ] && [ $((merged + noted)) = 10 ]
}
stack_wait_for decided 90 || stack_fail "the ten requests were not decided: $(stack_promotions paper "$y" | wc -l) promotion(s) of ${y:0:7}"
stack_wait_cycles 3
stack_expect_eq "$(stack_promotions paper "$y" | wc -l)" 1 "promote paper commits for ${y:0:7}"
stack_expect_eq "$(stack_git log --first-parent --format=%H "$main_before..main" | wc -l)" 1 "first-parent commits on main since the push"
stack_expect_eq "$(stack_tag paper)" "$y" "paper"
winner=
for i in "${!ids[@]}"; do [ -z "$(stack_merge_of "${ids[i]}")" ] || winner=$i; done
stack_expect_eq "$(stack_note "${ids[winner]}")" "accepted: promoted into paper" "note of the merged request"
stack_has_branch "promote/paper/dup-$winner" && stack_fail "the merged request's branch is left"
note=$(stack_note "${ids[$(((winner + 1) % 10))]}")
stack_expect_in "paper already runs ${y:0:7}" "$note" "refusal note"
stack_expect_in "request another release, or delete the branch" "$note" "refusal note says what to do"
stack_ok "10 requests for ${y:0:7} in one push: 1 promotion, 9 refused: $note"

js=$(stack_status)
n=$(jq '[.requests[] | select(.code == "already-current")] | length' <<<"$js")
stack_expect_eq "$n" 9 "requests with code already-current in the status API"
out=$(stack_ctl status) || stack_fail "pipelinectl status failed"
stack_expect_eq "$(grep -c ' already-current ' <<<"$out")" 9 "already-current lines in pipelinectl status"
stack_ok "the status API and pipelinectl status show already-current for the 9"

# a late request for Y, made from main before paper got it (from today's
# main it would change nothing: wrong-files)
git -C "$dev" checkout -q -B promote/paper/late "$main_before"
stack_faked "$PIPELINECTL" edit "$dev/$f" 'services.*.image.tag' --tag "$y" -i >/dev/null
git -C "$dev" add -A
_stack_dated git -C "$dev" commit -q -m "paper: ${y:0:12} once more"
again=$(git -C "$dev" rev-parse HEAD)
git -C "$dev" checkout -q main
git -C "$dev" push -q origin promote/paper/late
note=$(stack_wait_note "$again" '^already-current: paper already runs' 30)
stack_wait_cycles 2
stack_expect_eq "$(stack_promotions paper "$y" | wc -l)" 1 "promote paper commits for ${y:0:7}"
stack_has_branch promote/paper/late || stack_fail "the refused request's branch was deleted"
stack_ok "a request for the release paper already runs refused: $note"

# no promotion commit that changes nothing, anywhere on main
for c in $(stack_promotions paper) $(stack_promotions beta); do
	[ -n "$(stack_git diff --name-only "$c^1" "$c")" ] || stack_fail "promotion $c changes no file"
done
stack_ok "every promotion on main changes its values file"
echo "accept_request_duplicates: all checks passed"
