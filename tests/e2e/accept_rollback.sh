#!/usr/bin/env bash
# ctest: cost 115
# Issue 14 item 4 on the real stack (sshd + git-shell, docker-registry,
# pipelined under the fake clock).  Monday evening X then Y go to paper;
# Tuesday at 11:00 ET (market open):
#   - `pipelinectl rollback paper` (default target: X, the release before
#     Y) is refused market-open and queued; with --break-glass it merges,
#     and the merge carries Rollback:, Rolled-Back-From: Y, Break-Glass:;
#   - `--to Z`, a release paper never ran, is refused rollback-target
#     naming the releases it could go back to (break-glass does not help);
#   - with rollbackDuringMarket = allow (reload), a rollback without
#     break-glass merges during the session, with Rollback-Allowance: and
#     Overrode: market-open;
#   - beta (automatic) rolled back from Z to Y is not promoted to Z again,
#     not even after the state directory is lost; a newer release W is;
#   - pipelinectl log marks the rollbacks, pipelinectl audit passes on the
#     result and fails on a forged rollback pushed straight to main.
. "$SRCDIR/tests/fixtures/stack.sh"
stack_start "2026-11-30 17:00:00"	# a Monday, after the close

# bad input is refused before anything touches the network
rc=0; out=$(stack_ctl rollback paper 2>&1) || rc=$?
stack_expect_eq "$rc" 2 "rollback without --reason: exit status"
stack_expect_in "pipelinectl rollback: --reason is required" "$out" "rollback without --reason"
rc=0; out=$(stack_ctl rollback paper --reason "  " 2>&1) || rc=$?
stack_expect_eq "$rc" 2 "blank --reason: exit status"
stack_expect_in "--reason is empty" "$out" "blank --reason"
rc=0; out=$(stack_ctl rollback qa --reason x 2>&1) || rc=$?
stack_expect_in "'qa' is not a deploy stage" "$out" "unknown stage"
rc=0; out=$(stack_ctl rollback paper --to v1.2 --reason x 2>&1) || rc=$?
stack_expect_in "'v1.2' is not a release id" "$out" "bad --to"
rc=0; out=$(stack_ctl rollback live --reason x 2>&1) || rc=$?
stack_expect_in "stage 'live' requires notes: add --notes TEXT" "$out" "rollback of live without notes"
stack_ok "pipelinectl rollback refuses bad input (exit 2, one line)"

stack_daemon_start "2026-11-30 17:00:00"
x=$(stack_release "feat: X")
stack_kick >/dev/null || true
stack_wait_for '[ "$(stack_tag beta)" = "$x" ]' 60
req=$(stack_request paper "$x" --notes "X to paper" --ctl)
stack_wait_merged "$req" 60 >/dev/null
y=$(stack_release "feat: Y")
stack_kick >/dev/null || true
stack_wait_for '[ "$(stack_tag beta)" = "$y" ]' 60
req=$(stack_request paper "$y" --notes "Y to paper" --ctl)
stack_wait_merged "$req" 60 >/dev/null
rc=0; out=$(stack_ctl rollback live --reason x --notes "back" 2>&1) || rc=$?
stack_expect_eq "$rc" 2 "rollback of a stage with no history: exit status"
stack_expect_in "live has not run an earlier release to go back to" "$out" "rollback of live"
stack_ok "paper ran X (${x:0:7}) then Y (${y:0:7}); live, which ran nothing, has nothing to go back to"

stack_daemon_stop
stack_daemon_start "2026-12-01 11:00:00"	# Tuesday, market open
out=$(stack_ctl rollback paper --reason "fills wrong since ${y:0:7}" --name rb-1 --dry-run)
stack_expect_in "rollback paper: ${x:0:7}" "$out" "dry run: the default target is X"
stack_expect_in "Rollback: fills wrong since ${y:0:7}" "$out" "dry run: the Rollback: trailer"
stack_has_branch promote/paper/rb-1 && stack_fail "a dry run pushed"
out=$(stack_ctl rollback paper --reason "fills wrong since ${y:0:7}" --name rb-1)
stack_expect_in "pushed promote/paper/rb-1" "$out" "pipelinectl rollback"
stack_expect_in "roll paper back from ${y:0:7} to ${x:0:7}" "$out" "pipelinectl rollback says what"
rb1=$(stack_git rev-parse refs/heads/promote/paper/rb-1)
note=$(stack_wait_note "$rb1" 'market open' 30)
stack_expect_in "blocked: market open, closes 16:00 EST" "$note" "rollback note in the session"
st=$(stack_status)
stack_expect_eq "$(jq -r --arg c "$rb1" '.requests[] | select(.commit == $c) | .state + " " + .code' <<<"$st")" \
	"queued market-open" "status of the rollback in the session"
stack_expect_eq "$(stack_tag paper)" "$y" "paper while the rollback is refused"
stack_ok "rollback of paper in the session without break-glass: refused market-open, queued"

git -C "$STACK_DIR/dev" push -q origin :promote/paper/rb-1
stack_ctl rollback paper --reason "fills wrong since ${y:0:7}" --name rb-2 \
	--break-glass "INC-5150: paper fills at stale prices" >/dev/null
rb2=$(stack_git rev-parse refs/heads/promote/paper/rb-2)
m=$(stack_wait_merged "$rb2" 60)
stack_expect_eq "$(stack_tag paper)" "$x" "paper after the rollback"
stack_expect_eq "$(stack_trailer "$m" Rollback)" "fills wrong since ${y:0:7}" "Rollback:"
stack_expect_eq "$(stack_trailer "$m" Rolled-Back-From)" "$y" "Rolled-Back-From:"
stack_expect_eq "$(stack_trailer "$m" Image-Tag)" "$x" "Image-Tag:"
stack_expect_eq "$(stack_trailer "$m" Break-Glass)" "INC-5150: paper fills at stale prices" "Break-Glass:"
stack_expect_eq "$(stack_trailer "$m" Overrode)" market-open "Overrode:"
stack_expect_eq "$(stack_trailer "$m" Rollback-Allowance)" "" "no Rollback-Allowance:"
stack_expect_eq "$(stack_trailer "$m" Request)" "$rb2" "Request:"
stack_expect_in "open" "$(stack_trailer "$m" Market)" "Market:"
stack_ok "with break-glass: merged as ${m:0:7} with Rollback:, Rolled-Back-From: ${y:0:7}"

z=$(stack_release "feat: Z")
stack_kick >/dev/null || true
stack_wait_for '[ "$(stack_tag beta)" = "$z" ]' 60
stack_ctl rollback paper --to "$z" --reason "try Z" --break-glass "does not help" --name rb-3 >/dev/null
rb3=$(stack_git rev-parse refs/heads/promote/paper/rb-3)
note=$(stack_wait_note "$rb3" 'rollback-target' 30)
stack_expect_in "rollback-target: paper never ran ${z:0:7}; a rollback may only go back to a release paper ran before: ${y:0:7}" \
	"$note" "rollback to a release paper never ran"
st=$(stack_status)
stack_expect_eq "$(jq -r --arg c "$rb3" '.requests[] | select(.commit == $c) | .state + " " + .code' <<<"$st")" \
	"refused rollback-target" "status of the rollback to Z"
stack_expect_eq "$(stack_tag paper)" "$x" "paper after the refused rollback"
stack_ok "--to ${z:0:7}, which paper never ran: refused rollback-target, naming ${y:0:7}"

stack_conf_set stage.paper.rollbackDuringMarket allow
stack_daemon_reload
stack_wait_for '[ "$(stack_status | jq -r ".stages[] | select(.name == \"paper\") | .rollback_during_market")" = true ]' 30
stack_ctl rollback paper --to "$y" --reason "X misprices options" --name rb-4 >/dev/null
rb4=$(stack_git rev-parse refs/heads/promote/paper/rb-4)
m=$(stack_wait_merged "$rb4" 60)
stack_expect_eq "$(stack_tag paper)" "$y" "paper after the allowed rollback"
stack_expect_eq "$(stack_trailer "$m" Rollback-Allowance)" "rollbackDuringMarket = allow" "Rollback-Allowance:"
stack_expect_eq "$(stack_trailer "$m" Overrode)" market-open "Overrode: with the allowance"
stack_expect_eq "$(stack_trailer "$m" Break-Glass)" "" "no Break-Glass:"
stack_expect_eq "$(stack_trailer "$m" Rolled-Back-From)" "$x" "Rolled-Back-From: after the allowance"
ct=$(stack_git log -1 --format=%ct "$m")
[ "$ct" -lt "$(TZ=America/New_York date -d '2026-12-01 16:00:00' +%s)" ] ||
	stack_fail "the allowed rollback merged after the close"
stack_ok "rollbackDuringMarket = allow: merged in the session without break-glass, allowance recorded"

stack_ctl rollback beta --reason "Z leaks memory" --name rb-5 >/dev/null
rb5=$(stack_git rev-parse refs/heads/promote/beta/rb-5)
m=$(stack_wait_merged "$rb5" 60)
stack_expect_eq "$(stack_tag beta)" "$y" "beta after its rollback (default: Y, the release before Z)"
stack_expect_eq "$(stack_trailer "$m" Rolled-Back-From)" "$z" "beta's Rolled-Back-From:"
stack_kick >/dev/null || true
stack_wait_cycles 3
stack_expect_eq "$(stack_tag beta)" "$y" "beta three cycles after its rollback"
stack_daemon_stop
rm -rf "$STACK_DIR/state"
stack_daemon_start
stack_kick >/dev/null || true
stack_wait_cycles 3
stack_expect_eq "$(stack_tag beta)" "$y" "beta after a restart without the state directory"
stack_expect_eq "$(stack_promotions beta "$z" | wc -l)" 1 "automatic promotions of Z into beta"
w=$(stack_release "feat: W")
stack_kick >/dev/null || true
stack_wait_for '[ "$(stack_tag beta)" = "$w" ]' 60
stack_ok "beta rolled back from Z stays on Y (state directory lost or not); W, newer, is promoted"

out=$(stack_ctl log --stage paper)
stack_expect_in "[rollback]" "$out" "pipelinectl log marks rollbacks"
stack_expect_in "rollback from ${y:0:7}: fills wrong since ${y:0:7}" "$out" "pipelinectl log: from and why"
stack_expect_in "rollback from ${x:0:7}: X misprices options (in the market window by rollbackDuringMarket = allow)" \
	"$out" "pipelinectl log: the allowance"
json=$(stack_ctl --json log --stage paper -n 1)
stack_expect_eq "$(jq -c '.[0].rollback' <<<"$json")" \
	"{\"reason\":\"X misprices options\",\"from\":\"$x\",\"allowance\":true}" "pipelinectl --json log"
out=$(stack_ctl audit) || stack_fail "audit of the history with rollbacks: $out"
stack_expect_in "audit: clean" "$out" "audit with rollbacks"
stack_ok "pipelinectl log marks the rollbacks; audit passes"

# a forged rollback, pushed past the daemon with its identity: paper to Z,
# which it never ran
stack_daemon_stop
dev=$STACK_DIR/dev
git -C "$dev" fetch -q origin
git -C "$dev" checkout -q -B main origin/main
stack_faked "$PIPELINECTL" edit "$dev/values/values-paper.yaml" 'services.*.image.tag' --tag "$z" -i >/dev/null
git -C "$dev" add -A
msg="promote paper: ${z:0:7} from beta

[skip ci]

Stage: paper
Source-Stage: beta
Image-Tag: $z
Requested-By: pipelined (automatic)
Break-Glass: forged
Rollback: forged
Rolled-Back-From: $y
Market: closed (after close)
Integration-Test: passed 312/312"
GIT_COMMITTER_NAME=pipelined GIT_COMMITTER_EMAIL=pipelined@gremlin-1 _stack_dated \
	git -C "$dev" commit -q -m "$msg"
git -C "$dev" push -q origin main
forged=$(git -C "$dev" rev-parse HEAD)
rc=0; out=$(stack_ctl audit 2>&1) || rc=$?
stack_expect_eq "$rc" 1 "audit of a forged rollback: exit status"
stack_expect_in "${forged:0:12}" "$out" "audit names the forged commit"
stack_expect_in "rollback: rollback of paper to ${z:0:12}, a release paper had never run" "$out" \
	"audit of a forged rollback"
stack_ok "audit fails on a forged rollback pushed directly to main"
