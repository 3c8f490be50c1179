#!/usr/bin/env bash
# Seed 15.4 / SPEC 5 invariants: Git is the store.  Deleting the daemon's
# whole state directory and starting again rebuilds everything from Git and
# the registry: the same tags, the same history in pipelinectl log, refused
# requests still refused, and nothing promoted twice.
. "$SRCDIR/tests/fixtures/stack.sh"
stack_start "2026-11-30 18:00:00"
stack_daemon_start
x=$(stack_release "feat: X")
stack_kick >/dev/null || true
stack_wait_for '[ "$(stack_tag beta)" = "$x" ]' 60
stack_wait_merged "$(stack_request paper "$x")" 60 >/dev/null
refused=$(stack_request live "$x")
stack_wait_note "$refused" 'notes-required' 30 >/dev/null
hist() { for s in beta paper live; do curl -fsS "$STACK_URL/api/v1/history?stage=$s"; echo; done; }
hist_before=$(hist)
stack_expect_in "$x" "$hist_before" "the daemon's history before"
tip=$(stack_git rev-parse main)
stack_daemon_stop
rm -rf "$STACK_DIR/state"
mkdir "$STACK_DIR/state"
stack_ok "promotions into beta and paper made, live refused; state directory deleted"

stack_daemon_start
stack_wait_cycles 3
stack_expect_eq "$(stack_git rev-parse main)" "$tip" "main after the restart on an empty state dir"
stack_expect_eq "$(hist)" "$hist_before" "GET /api/v1/history (beta, paper, live)"
st=$(stack_status)
stack_expect_in "$x" "$st" "status after the rebuild"
stack_expect_eq "$(jq -r --arg c "$refused" '.requests[] | select(.commit == $c) | .code' <<<"$st")" notes-required \
	"refused request still refused in status"
stack_expect_eq "$(jq -r '.stages[] | select(.name == "paper") | .current_tag' <<<"$st")" "$x" "status: paper"
stack_ok "rebuilt from Git + registry: nothing promoted again, same history, same refusal"

y=$(stack_release "feat: Y")
stack_kick >/dev/null || true
stack_wait_for '[ "$(stack_tag beta)" = "$y" ]' 60
for t in "$x" "$y"; do stack_expect_eq "$(stack_promotions beta "$t" | wc -l)" 1 "beta promotions of $t"; done
stack_expect_eq "$(stack_promotions paper "$x" | wc -l)" 1 "paper promotions of $x"
stack_ok "and carries on: the next release goes to beta, once"
echo "accept_state_loss: all checks passed"
