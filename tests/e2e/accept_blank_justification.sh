#!/usr/bin/env bash
# Issue 11 item 6: a Break-Glass: made only of Unicode whitespace or
# invisible characters is no justification.  During market hours
# (Mon 2026-11-30 14:00 ET) paper requests whose Break-Glass: is only
# U+00A0, only U+3000, or a mix of zero-width characters are refused
# market-open and queued, and the note says the trailer has no visible
# text; a real justification still goes through.  A live request whose
# Notes: is only Unicode blanks is refused notes-required, saying why.
. "$SRCDIR/tests/fixtures/stack.sh"
stack_start "2026-11-30 14:00:00"
stack_daemon_start
x=$(stack_release "feat: X")
stack_kick >/dev/null || true
stack_wait_for '[ "$(stack_tag beta)" = "$x" ]' 60
stack_ok "beta promoted to $x at 14:00 ET"

Z=0000000000000000000000000000000000000000
refused_blank() {	# WHAT BREAK-GLASS
	local req note branch r
	req=$(stack_request paper "$x" --notes "weekly paper refresh" --break-glass "$2")
	branch=$(cat "$STACK_DIR/last-branch")
	[ -n "$(stack_trailer "$req" Break-Glass)" ] ||
		stack_fail "$1: the request carries no Break-Glass: trailer to test"
	note=$(stack_wait_note "$req" 'market open' 30)
	stack_expect_in "Break-Glass: trailer has no visible text" "$note" "$1: note says why"
	stack_expect_in "give a justification to override" "$note" "$1: note says what to do"
	stack_expect_eq "$(stack_tag paper)" $Z "$1: paper"
	stack_has_branch "$branch" || stack_fail "$1: refused request branch was deleted"
	r=$(jq -c --arg b "$branch" '.requests[] | select(.branch == $b)' <<<"$(stack_status)")
	stack_expect_eq "$(jq -r .code <<<"$r")" market-open "$1: status code"
	stack_expect_eq "$(jq -r .state <<<"$r")" queued "$1: status state"
	stack_expect_eq "$(jq -r .break_glass <<<"$r")" false "$1: status break_glass"
	stack_ok "Break-Glass: of $1 refused market-open: $note"
}
refused_blank "U+00A0" $'\xc2\xa0'
refused_blank "U+3000" $'\xe3\x80\x80\xe3\x80\x80'
refused_blank "zero-width and other spaces" $'\xe2\x80\x8b\xe2\x80\x8c\xe2\x80\x8d\xe2\x81\xa0\xef\xbb\xbf\xe2\x80\x83\xe2\x80\xaf\xe2\x81\x9f\xe1\x9a\x80'
stack_expect_eq "$(stack_promotions paper | wc -l)" 0 "paper promotions after blank break-glass"

tip=$(stack_request paper "$x" --notes "weekly paper refresh" \
	--break-glass $'\xc2\xa0INC-4711: paper broker down\xe3\x80\x80')
m=$(stack_wait_merged "$tip" 60)
stack_expect_eq "$(stack_tag paper)" "$x" "paper after a real justification"
stack_ok "a real justification between Unicode spaces still overrides: merged as $m"

req=$(stack_request live "$x" --notes $'\xc2\xa0\xe3\x80\x80\xe2\x80\x8b' --break-glass "INC-4712")
note=$(stack_wait_note "$req" 'notes-required' 30)
stack_expect_in "the Notes: trailer has no visible text" "$note" "live note says why"
stack_expect_eq "$(stack_tag live)" $Z "live"
stack_ok "live request with Unicode-blank Notes: refused: $note"
echo "accept_blank_justification: all checks passed"
