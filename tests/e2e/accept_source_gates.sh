#!/usr/bin/env bash
# ctest: cost 100
# Issue 13 item 6 on the real stack (sshd + git-shell, docker-registry,
# pipelined under the fake clock, the Argo CD double syncing beta and paper
# from the stack's bare repository): paper requires beta to run the release
# deployed for a soak time.  A paper request is refused source-not-deployed
# while beta's rollout does not finish, then queued through the soak and
# merged when it ends (not before); with Argo CD down the gate fails closed
# (source-unknown) and the daemon keeps running; a Break-Glass: request
# merges and its promotion commit records the gate it overrode.
. "$SRCDIR/tests/fixtures/stack.sh"
. "$SRCDIR/tests/fixtures/argocd.sh"
stack_start "2026-11-30 18:00:00"	# a Monday evening: the market is closed

stack_argocd_start
stack_conf_set stage.paper.requireSourceDeployed true
stack_conf_set stage.paper.soak 30s
beta() { stack_status | jq -r ".stages[] | select(.name == \"beta\") | .deployed.$1"; }
# req COMMIT FIELD: a field of the request with that tip in the status
req() { stack_status | jq -r --arg c "$1" ".requests[] | select(.commit == \$c) | .$2"; }
epoch() { date -d "$1" +%s; }

stack_daemon_start
stack_wait_for '[ "$(beta revision)" != null ]' 30

# beta's next rollout does not become healthy
argocd_ctl '{"app":"stonks-beta","do":"degrade","message":"Deployment has timed out progressing"}'
sha=$(stack_release "feat: order router v2")
stack_kick >/dev/null || true
stack_wait_for '[ "$(stack_tag beta)" = "$sha" ]' 60
stack_wait_for '[ "$(beta revision)" = "$(stack_promotions beta "$sha")" ]' 30
old_paper=$(stack_tag paper)
r1=$(stack_request paper "$sha" --notes "order router v2")
stack_wait_for '[ "$(req "$r1" code)" = source-not-deployed ]' 60 ||
	stack_fail "not refused source-not-deployed: $(req "$r1" message)"
msg=$(req "$r1" message)
stack_expect_in "source-not-deployed: ${sha:0:7} is promoted to beta but Argo CD does not run it deployed there" "$msg" "message"
stack_expect_in "queued until it is" "$msg" "message says it waits"
stack_expect_eq "$(req "$r1" state)" queued "state"
stack_expect_eq "$(req "$r1" queued_until)" null "no time is known while beta is not deployed"
stack_wait_note "$r1" '^source-not-deployed: ' 30 >/dev/null
stack_expect_eq "$(stack_tag paper)" "$old_paper" "paper is unchanged"
stack_ok "paper request refused source-not-deployed while beta is $(beta verdict), queued"

# the rollout finishes: beta runs the release deployed, the soak starts
argocd_ctl '{"app":"stonks-beta","do":"heal"}'
stack_wait_for '[ "$(req "$r1" code)" = soak ]' 30 ||
	stack_fail "not refused soak once beta is deployed: $(req "$r1" message)"
msg=$(req "$r1" message)
until=$(req "$r1" queued_until)
stack_expect_in "soak: beta has run ${sha:0:7} deployed since 2026-11-30T18:" "$msg" "soak message"
stack_expect_in "paper requires a soak of 30s, which ends at 2026-11-30T18:" "$msg" "soak message: the end"
stack_expect_in "queued until then" "$msg" "soak message: queued"
stack_expect_eq "$(req "$r1" state)" queued "state during the soak"
end=$(epoch "$until")
now=$(stack_now)
[ "$end" -gt "$now" ] && [ "$end" -le $((now + 30)) ] ||
	stack_fail "queued_until $until is not within the 30s soak from now ($now)"
# the end in the message is queued_until, in the market's zone
stack_expect_in "ends at $(TZ=America/New_York date -d "@$end" +%Y-%m-%dT%H:%M:%S-05:00)" "$msg" "message and queued_until agree"
stack_wait_note "$r1" '^soak: ' 30 >/dev/null
stack_ok "beta deployed: the request is queued through the soak until $until"

m1=$(stack_wait_merged "$r1" 60)
at=$(stack_git log -1 --format=%ct "$m1")
[ "$at" -ge "$end" ] || stack_fail "merged at $at, before the soak ended at $end"
stack_expect_eq "$(stack_tag paper)" "$sha" "paper runs the release"
stack_expect_eq "$(stack_trailer "$m1" Overrode)" "" "no override without Break-Glass"
stack_ok "merged when the soak ended ($((at - end))s after its end)"

# Argo CD down: the gate cannot be judged and fails closed
kill "$ARGOCD_PID"; wait "$ARGOCD_PID" 2>/dev/null || true
stack_wait_for '[ "$(beta verdict)" = unknown ]' 30
sha2=$(stack_release "feat: risk limits")
stack_kick >/dev/null || true
stack_wait_for '[ "$(stack_tag beta)" = "$sha2" ]' 60
r2=$(stack_request paper "$sha2" --notes "risk limits")
stack_wait_for '[ "$(req "$r2" code)" = source-unknown ]' 60 ||
	stack_fail "not refused source-unknown: $(req "$r2" message)"
stack_expect_in "source-unknown: what beta runs cannot be read from Argo CD" "$(req "$r2" message)" "message"
stack_expect_eq "$(req "$r2" state)" refused "fails closed: refused, not queued"
stack_wait_note "$r2" '^source-unknown: ' 30 >/dev/null
stack_wait_cycles 2
kill -0 "$STACK_DAEMON_PID" || stack_fail "the daemon died"
stack_expect_eq "$(stack_tag paper)" "$sha" "paper is unchanged"
stack_ok "Argo CD down: refused source-unknown, the daemon keeps running"

# Break-Glass: overrides the gate; the promotion commit says which
r3=$(stack_request paper "$sha2" --notes "risk limits" \
	--break-glass "risk desk approves, Argo CD is down for maintenance")
m3=$(stack_wait_merged "$r3" 60)
stack_expect_eq "$(stack_trailer "$m3" Overrode)" source-unknown "Overrode: trailer"
stack_expect_eq "$(stack_trailer "$m3" Break-Glass)" "risk desk approves, Argo CD is down for maintenance" "Break-Glass: trailer"
stack_expect_in "closed" "$(stack_trailer "$m3" Market)" "Market: trailer"
stack_expect_eq "$(stack_tag paper)" "$sha2" "paper runs the release"
out=$(stack_ctl log --stage paper) || stack_fail "pipelinectl log failed: $out"
stack_expect_in "overrode: source-unknown" "$out" "pipelinectl log shows the override"
stack_expect_eq "$(stack_ctl --json log --stage paper | jq -r '.[0].overrode')" source-unknown "pipelinectl log --json"
stack_ok "break-glass merged ${sha2:0:7}; the commit carries Overrode: source-unknown, and pipelinectl log shows it"

# a request cannot write the record itself
r4=$(stack_request paper "$sha" --notes n --trailer "Overrode: soak")
stack_wait_note "$r4" '^forged-trailer: the request carries a "Overrode:" trailer' 60 >/dev/null
stack_ok "a request carrying Overrode: is refused forged-trailer"

stack_argocd_violations
stack_daemon_stop
