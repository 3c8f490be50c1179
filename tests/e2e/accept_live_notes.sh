#!/usr/bin/env bash
# Seed requirements 10.1, 10.4: a live promotion needs explicit approval
# with notes: a live request without a Notes: trailer is refused
# (notes-required), even outside market hours; with notes it is merged and
# the notes are in the commit.
. "$SRCDIR/tests/fixtures/stack.sh"
stack_start "2026-11-30 18:00:00"
stack_daemon_start
x=$(stack_release "feat: X")
stack_kick >/dev/null || true
stack_wait_for '[ "$(stack_tag beta)" = "$x" ]' 60
m=$(stack_wait_merged "$(stack_request paper "$x")" 60)
stack_expect_eq "$(stack_tag paper)" "$x" "paper"
stack_ok "$x in beta and (after the close, no notes needed) paper"

req=$(stack_request live "$x")
note=$(stack_wait_note "$req" 'notes-required' 30)
stack_expect_eq "$(stack_tag live)" 0000000000000000000000000000000000000000 "live"
stack_ok "live request without Notes: refused: $note"
req=$(stack_request live "$x" --notes "   ")
note=$(stack_wait_note "$req" 'notes-required' 30)
stack_ok "live request with blank Notes: refused"

tip=$(stack_request_update "$(cat "$STACK_DIR/last-branch")" --notes "CAB-118 approved by risk; paper ran clean for 3 days")
m=$(stack_wait_merged "$tip" 60)
stack_expect_eq "$(stack_tag live)" "$x" "live"
stack_expect_eq "$(stack_trailer "$m" Notes)" "CAB-118 approved by risk; paper ran clean for 3 days" "Notes"
stack_expect_eq "$(stack_trailer "$m" Source-Stage)" paper "Source-Stage"
stack_expect_in "CAB-118 approved by risk" "$(stack_git log -1 --format=%b "$m")" "notes in the body"
stack_ok "with notes after the close: merged as $m with the notes"
echo "accept_live_notes: all checks passed"
