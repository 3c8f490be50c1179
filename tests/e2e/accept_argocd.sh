#!/usr/bin/env bash
# Issue 13 on the real stack (sshd + git-shell, docker-registry, pipelined
# under the fake clock) with the Argo CD double syncing beta from the
# stack's bare repository: a release becomes "deployed" in beta and the
# deploy note lands on its promotion commit (once, under its own notes
# ref); a failed sync shows Argo CD's message in /api/v1/status and
# pipelinectl status; pipelinectl log shows when a promotion became
# deployed; a dropped stream is reopened; a reload to a wrong Application
# name says what to fix; with Argo CD down the
# stage is unknown, the daemon keeps running and still promotes.
. "$SRCDIR/tests/fixtures/stack.sh"
. "$SRCDIR/tests/fixtures/argocd.sh"
stack_start "2026-11-30 18:00:00"

stack_argocd_start
beta() { stack_status | jq -r ".stages[] | select(.name == \"beta\") | .deployed.$1"; }

stack_daemon_start
paper() { stack_status | jq -r ".stages[] | select(.name == \"paper\") | .deployed.$1"; }
# two streams to one plain-http Argo CD at once: neither waits for the other
stack_wait_for '[ "$(beta revision)" != null ] && [ "$(paper revision)" != null ]' 30
st=$(stack_status)
stack_ok "before any release: Argo CD is read, beta is $(jq -r '.stages[] | select(.name == "beta") | .deployed | .verdict + " (" + .reason + ")"' <<<"$st")"

sha=$(stack_release "feat: order router v2")
stack_kick >/dev/null || true
stack_wait_for '[ "$(stack_tag beta)" = "$sha" ]' 60
p=$(stack_promotions beta "$sha")
stack_wait_for '[ "$(beta verdict)" = deployed ]' 30
st=$(stack_status)
stack_expect_eq "$(jq -r '.stages[] | select(.name == "beta") | .deployed.revision' <<<"$st")" "$p" "synced revision"
stack_expect_eq "$(jq -r '.stages[] | select(.name == "beta") | .deployed.health' <<<"$st")" Healthy "health"
stack_expect_eq "$(jq -r '.stages[] | select(.name == "beta") | .deployed.images_ok' <<<"$st")" 14 "images_ok"
stack_expect_eq "$(jq -r '.stages[] | select(.name == "live") | .deployed' <<<"$st")" null "live is not followed"
grep -q "stage beta is deployed: deployed: ${p:0:12} synced, healthy" "$STACK_LOG" ||
	stack_fail "no journal line for the transition to deployed"
stack_wait_for '[ -n "$(stack_git notes --ref=pipelined-deploy show "$p" 2>/dev/null)" ]' 30
note=$(stack_git notes --ref=pipelined-deploy show "$p")
stack_expect_in "Synced-Revision: $p" "$note" "deploy note: revision"
stack_expect_in "Argo-CD-Application: stonks-beta" "$note" "deploy note: application"
stack_expect_in "Health: Healthy" "$note" "deploy note: health"
stack_expect_in "Deployed: 2026-11-30T" "$note" "deploy note: time on the daemon's clock"
[ "$(grep -c "^Image: " <<<"$note")" = 14 ] || stack_fail "deploy note lists $(grep -c '^Image: ' <<<"$note") images"
[ -z "$(stack_note "$p")" ] || stack_fail "the deploy note went to the refusal notes ref"
sleep 3
[ "$(stack_git rev-list --count refs/notes/pipelined-deploy)" = 1 ] || stack_fail "deploy note written more than once"
[ "$(grep -c "stage beta is deployed: deployed: ${p:0:12}" "$STACK_LOG")" = 1 ] || stack_fail "the deployed transition was logged more than once"
out=$(stack_ctl log --stage beta) || stack_fail "pipelinectl log failed: $out"
stack_expect_in "deployed: 2026-11-30T" "$out" "pipelinectl log: when it became deployed"
stack_expect_in "Argo CD Application stonks-beta synced ${p:0:12}" "$out" "pipelinectl log: what synced"
stack_expect_eq "$(stack_ctl --json log --stage beta | jq -r '.[0].deployed.revision')" "$p" "pipelinectl log --json"
curl -fsS "$STACK_URL/metrics" | grep -qx 'pipelined_stage_deployed{stage="beta",verdict="deployed"} 1' ||
	stack_fail "metric pipelined_stage_deployed does not say deployed: $(curl -fsS "$STACK_URL/metrics" | grep stage_deployed)"
stack_ok "release ${sha:0:7} deployed in beta; note on promotion ${p:0:7} under refs/notes/pipelined-deploy, once"

msg="one or more objects failed to apply: admission webhook denied the Deployment"
argocd_ctl "{\"app\":\"stonks-beta\",\"do\":\"fail-sync\",\"message\":\"$msg\"}"
stack_wait_for '[ "$(beta verdict)" = sync-failed ]' 15
stack_expect_in "$msg" "$(beta reason)" "status reason"
stack_expect_eq "$(beta operation.phase)" Failed "operation phase"
stack_expect_in "$msg" "$(beta operation.message)" "operation message"
out=$(stack_ctl status) || stack_fail "pipelinectl status failed"
stack_expect_in "sync-failed" "$out" "pipelinectl status verdict"
stack_expect_in "$msg" "$out" "pipelinectl status message"
stack_ok "a failed sync: Argo CD's message in /api/v1/status and pipelinectl status"

argocd_ctl '{"app":"stonks-beta","do":"heal"}'
opened=$(curl -fsS "$ARGOCD_URL/control/stats" | jq .streams_opened)
argocd_ctl '{"do":"drop-stream"}'
stack_wait_for '[ "$(curl -fsS "$ARGOCD_URL/control/stats" | jq .streams_opened)" -gt "$opened" ]' 30
stack_ok "a dropped stream is reopened"

stack_conf_set stage.beta.application stonks-betta
stack_daemon_reload
stack_wait_for '[ "$(beta application)" = stonks-betta ] && [ "$(beta verdict)" = unknown ]' 30
stack_expect_in "Argo CD has no Application 'stonks-betta'" "$(beta reason)" "a wrong Application name says what to fix"
stack_conf_set stage.beta.application stonks-beta
stack_daemon_reload
stack_wait_for '[ "$(beta verdict)" = deployed ]' 30
stack_ok "reload: a wrong Application name is reported with what to fix; fixed, beta is deployed again"

kill "$ARGOCD_PID"; wait "$ARGOCD_PID" 2>/dev/null || true
stack_wait_for '[ "$(beta verdict)" = unknown ]' 30
stack_ok "Argo CD down: beta is unknown ($(beta reason))"
sha2=$(stack_release "feat: risk limits")
stack_kick >/dev/null || true
stack_wait_for '[ "$(stack_tag beta)" = "$sha2" ]' 60
kill -0 "$STACK_DAEMON_PID" || stack_fail "the daemon died"
stack_ok "Argo CD down: the daemon keeps running and promotes ${sha2:0:7} into beta"

stack_argocd_violations
stack_daemon_stop
