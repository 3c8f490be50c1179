#!/usr/bin/env bash
# Seed requirement 13: with beta disabled, beta is skipped and paper's
# source stage is integration-test (a paper request for a tag that was never
# in beta is accepted), a request into the disabled stage is refused
# (stage-disabled); re-enabling beta with SIGHUP gates new tags through beta
# again (not-in-source until the tag is in beta, then accepted from beta).
# Beta is request-driven here (auto = false) so every step is deterministic.
. "$SRCDIR/tests/fixtures/stack.sh"
stack_start "2026-11-30 18:00:00"
stack_conf_set stage.beta.enabled false
stack_conf_set stage.beta.auto false
stack_daemon_start

x=$(stack_release "feat: X")
req=$(stack_request paper "$x" --notes "beta is off, straight to paper")
m=$(stack_wait_merged "$req" 60)
stack_expect_eq "$(stack_tag paper)" "$x" "paper"
stack_expect_eq "$(stack_trailer "$m" Source-Stage)" integration-test "Source-Stage with beta disabled"
stack_expect_eq "$(stack_git log -1 --format=%s "$m")" "promote paper: ${x:0:7} from integration-test" "subject"
stack_expect_eq "$(stack_tag beta)" 0000000000000000000000000000000000000000 "beta while disabled"
stack_ok "beta disabled: paper request for $x (never in beta) merged from integration-test"

req=$(stack_request beta "$x")
note=$(stack_wait_note "$req" 'stage-disabled' 30)
stack_ok "request into disabled beta refused: $note"
git -C "$STACK_DIR/dev" push -q origin ":$(cat "$STACK_DIR/last-branch")"

stack_conf_set stage.beta.enabled true
stack_daemon_reload
stack_wait_cycles 2
y=$(stack_release "feat: Y")
req=$(stack_request paper "$y" --notes "skip beta?")
note=$(stack_wait_note "$req" 'not-in-source' 30)
stack_expect_in "beta" "$note" "refusal names the source stage"
stack_expect_eq "$(stack_tag paper)" "$x" "paper after the refusal"
git -C "$STACK_DIR/dev" push -q origin ":$(cat "$STACK_DIR/last-branch")"
stack_ok "beta re-enabled (SIGHUP): paper request for new tag $y refused: $note"

req=$(stack_request beta "$y")
m=$(stack_wait_merged "$req" 60)
stack_expect_eq "$(stack_trailer "$m" Source-Stage)" integration-test "beta's source"
req=$(stack_request paper "$y" --notes "through beta this time")
m=$(stack_wait_merged "$req" 60)
stack_expect_eq "$(stack_trailer "$m" Source-Stage)" beta "paper's source with beta enabled"
stack_expect_eq "$(stack_tag paper)" "$y" "paper"
stack_ok "after $y reached beta, paper request merged from beta"
echo "accept_stage_disable: all checks passed"
