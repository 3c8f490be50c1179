#!/usr/bin/env bash
# SPEC 5 refusals a developer can run into, each with its stable code in a
# git note on the request commit and nothing committed: a request touching
# another file (wrong-files), a reused break-glass request commit
# (reused-request, seed 12.5: in the status, the merged commit's note stays
# "accepted"), a request carrying a daemon-only trailer
# (forged-trailer).
. "$SRCDIR/tests/fixtures/stack.sh"
stack_start "2026-11-30 14:00:00"
stack_daemon_start
x=$(stack_release "feat: X")
stack_kick >/dev/null || true
stack_wait_for '[ "$(stack_tag beta)" = "$x" ]' 60

req=$(stack_request paper "$x" --break-glass "hotfix" --touch services/risk/limits.py)
note=$(stack_wait_note "$req" 'wrong-files' 30)
stack_expect_eq "$(stack_tag paper)" 0000000000000000000000000000000000000000 "paper"
[ -z "$(stack_git log --format=%H main -- services/risk/limits.py)" ] || stack_fail "the other file reached main"
stack_ok "request also touching services/risk/limits.py refused: $note"

bg=$(stack_request paper "$x" --notes "urgent" --break-glass "INC-1: orders stuck")
m=$(stack_wait_merged "$bg" 60)
stack_expect_eq "$(stack_trailer "$m" Break-Glass)" "INC-1: orders stuck" "Break-Glass"
tip=$(stack_git rev-parse main)
stack_push_ref "$bg" promote/live/again
reused() {
	stack_status | python3 -c '
import json, sys
r = [r for r in json.load(sys.stdin)["requests"] if r["branch"] == "promote/live/again"]
sys.exit(0 if r and r[0]["code"] == "reused-request" else 1)'
}
stack_wait_for reused 30 || stack_fail "the reused request is not refused reused-request"
stack_expect_eq "$(stack_git rev-parse main)" "$tip" "main after the reused request"
stack_expect_eq "$(stack_promotions paper "$x" | wc -l)" 1 "paper promotions of $x"
stack_expect_eq "$(stack_note "$bg")" "accepted: promoted into paper with break-glass" "note of the merged commit"
stack_ok "break-glass request commit pushed again for live refused reused-request; its accepted note kept"

req=$(stack_request live "$x" --notes "n" --break-glass "x" --trailer "Stage: live")
note=$(stack_wait_note "$req" 'forged-trailer' 30)
stack_ok "request with a daemon-only trailer refused: $note"


stack_expect_eq "$(stack_tag paper)" "$x" "paper"
stack_expect_eq "$(stack_tag live)" 0000000000000000000000000000000000000000 "live"
stack_expect_eq "$(stack_git rev-parse main)" "$tip" "main after the refusals"
stack_ok "main unchanged by all of the refused requests"
echo "accept_request_refusals: all checks passed"
