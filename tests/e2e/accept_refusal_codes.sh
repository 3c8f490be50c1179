#!/usr/bin/env bash
# SPEC 5 refusal codes for requests that are not what they claim: a request
# whose tag scalars disagree (it sets the scheduler's tag only, leaving 13
# others) is mixed-tags -- it changes nothing but tag scalars, so it is not
# wrong-files; a branch for an unknown stage (promote/production/...) is
# malformed.  Each gets its note (once, not every cycle), a journal line and
# its status; nothing is committed.
. "$SRCDIR/tests/fixtures/stack.sh"
stack_start "2026-11-30 18:00:00"
stack_daemon_start
x=$(stack_release "feat: X")
stack_kick >/dev/null || true
stack_wait_for '[ "$(stack_tag beta)" = "$x" ]' 60
stack_wait_merged "$(stack_request paper "$x")" 60 >/dev/null
tip=$(stack_git rev-parse main)
dev=$STACK_DIR/dev
git -C "$dev" fetch -q origin
git -C "$dev" checkout -q -B promote/live/mixed origin/main
"$PIPELINECTL" edit "$dev/values/values-live.yaml" 'services.scheduler.image.tag' --tag "$x" -i >/dev/null
git -C "$dev" commit -qam "promote live: only the scheduler" -m "Notes: just one"
git -C "$dev" push -q origin promote/live/mixed
req=$(git -C "$dev" rev-parse HEAD)
git -C "$dev" checkout -q main
note=$(stack_wait_note "$req" 'mixed-tags' 30)
stack_ok "live request setting 1 of 14 tags refused: $note"
git -C "$dev" fetch -q origin
git -C "$dev" checkout -q -B promote/production/hotfix origin/main
"$PIPELINECTL" edit "$dev/values/values-live.yaml" 'services.*.image.tag' --tag "$x" -i >/dev/null
git -C "$dev" commit -qam "promote production" -m "Notes: n" -m "Break-Glass: x"
git -C "$dev" push -q origin promote/production/hotfix
req=$(git -C "$dev" rev-parse HEAD)
git -C "$dev" checkout -q main
note=$(stack_wait_note "$req" 'malformed' 30)
stack_ok "request branch for an unknown stage (promote/production/hotfix) refused: $note"
stack_wait_cycles 2
# recorded once per request commit, not every cycle
n=$(grep -c "note on request 'promote/production/hotfix' ($(cut -c1-7 <<<"$req")) pushed" "$STACK_LOG")
stack_expect_eq "$n" 1 "notes pushed for the malformed request over 3+ cycles"
n=$(grep -c "request 'promote/production/hotfix' ($(cut -c1-7 <<<"$req")) refused: malformed: " "$STACK_LOG")
stack_expect_eq "$n" 1 "journal lines for the malformed request"
r=$(stack_status | jq -c '.requests[] | select(.branch == "promote/production/hotfix")')
stack_expect_eq "$(jq -r .code <<<"$r")" malformed "status: malformed request code"
stack_expect_eq "$(jq -r .state <<<"$r")" refused "status: malformed request state"
stack_ok "malformed request: one note, one journal line, status refused"
stack_expect_eq "$(stack_git rev-parse main)" "$tip" "main after the refusals"
stack_expect_eq "$(stack_tag live)" 0000000000000000000000000000000000000000 "live"
echo "accept_refusal_codes: all checks passed"
