#!/usr/bin/env bash
# Issue 13 on the real stack (sshd + git-shell, docker-registry, pipelined
# under the fake clock) with the Argo CD double syncing beta from the
# stack's bare repository: a release becomes "deployed" in beta and the
# deploy note lands on its promotion commit (once, under its own notes
# ref); a failed sync shows Argo CD's message in /api/v1/status and
# pipelinectl status; pipelinectl log shows when a promotion became
# deployed; status links to the Application in Argo CD's UI and gives the
# seconds from the promotion commit to deployed, which the histogram
# observes once (not again after a restart); a dropped stream is reopened;
# a reload to a wrong Application name says what to fix; with Argo CD down
# the stage is unknown, the daemon keeps running and still promotes; and
# pipelinectl audit lists the promotions that never became deployed
# (superseded, or current) without making them violations.
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
stack_expect_eq "$(beta url)" "$ARGOCD_URL/applications/argocd/stonks-beta" "the link to the Application in Argo CD's UI"
out=$(stack_ctl audit) || stack_fail "pipelinectl audit failed before any deploy note: $out"
stack_expect_in "deployments: no deploy record: refs/notes/pipelined-deploy is not in the repository read" "$out" \
	"audit without a deploy record says so"
stack_expect_eq "$(stack_ctl --json audit | jq -c '.deployments | [.record, .undeployed]')" '[false,null]' "audit --json without a deploy record"
c2h() { curl -fsS "$STACK_URL/metrics" | awk -v s="pipelined_commit_to_healthy_seconds_count{stage=\"$1\"}" '$1 == s {print $2}' | grep . || echo 0; }
stack_expect_eq "$(c2h beta)" 0 "no commit-to-healthy observation before a promotion is deployed"
stack_ok "before any deploy note: the Application's link in status; audit says there is no deploy record"

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
# the page is read whole first: grep -q stops reading at its match, and
# curl would then fail writing the rest
m=$(curl -fsS "$STACK_URL/metrics")
grep -qx 'pipelined_stage_deployed{stage="beta",verdict="deployed"} 1' <<<"$m" ||
	stack_fail "metric pipelined_stage_deployed does not say deployed: $(curl -fsS "$STACK_URL/metrics" | grep stage_deployed)"
grep -qx 'pipelined_stage_sync{stage="beta",status="Synced"} 1' <<<"$m" &&
	grep -qx 'pipelined_stage_sync{stage="beta",status="OutOfSync"} 0' <<<"$m" &&
	grep -qx 'pipelined_stage_health{stage="beta",status="Healthy"} 1' <<<"$m" &&
	grep -qx 'pipelined_stage_health{stage="beta",status="Degraded"} 0' <<<"$m" ||
	stack_fail "sync/health gauges: $(grep -E 'stage_(sync|health)\{stage="beta"' <<<"$m")"
stack_ok "release ${sha:0:7} deployed in beta; note on promotion ${p:0:7} under refs/notes/pipelined-deploy, once"

# issue 13 item 4: time from the promotion commit to healthy, once per promotion
stack_expect_eq "$(c2h beta)" 1 "the histogram counts the promotion that became deployed"
m=$(curl -fsS "$STACK_URL/metrics")
grep -qx 'pipelined_commit_to_healthy_seconds_bucket{stage="beta",le="+Inf"} 1' <<<"$m" ||
	stack_fail "no +Inf bucket: $(curl -fsS "$STACK_URL/metrics" | grep commit_to_healthy)"
st=$(stack_status)
b=$(jq -c '.stages[] | select(.name == "beta") | .deployed' <<<"$st")
stack_expect_eq "$(jq -r .promotion <<<"$b")" "$p" "status: the current promotion"
secs=$(jq -r .commit_to_healthy_s <<<"$b")
commit_t=$(stack_git log -1 --format=%ct "$p")
deployed_t=$(date -d "$(jq -r .deployed_at <<<"$b")" +%s)
stack_expect_eq "$secs" "$((deployed_t - commit_t))" "commit_to_healthy_s is deployed_at minus the commit time"
stack_expect_in "Deployed: $(jq -r .deployed_at <<<"$b")" "$note" "deployed_at is the note's time"
[ "$secs" -ge 0 ] && [ "$secs" -lt 120 ] || stack_fail "commit to healthy took $secs s"
sum=$(curl -fsS "$STACK_URL/metrics" | awk '$1 == "pipelined_commit_to_healthy_seconds_sum{stage=\"beta\"}" {print $2}')
stack_expect_eq "$sum" "$secs" "the histogram's sum is the status API's seconds"
curl -fsS "$STACK_URL/metrics" >"$STACK_DIR/metrics"
/usr/bin/python3 "$SRCDIR/tests/tools/promcheck.py" "$STACK_DIR/metrics" >/dev/null ||
	stack_fail "the metrics page with the histogram is not valid exposition text"
stack_daemon_stop
stack_daemon_start
stack_wait_for '[ "$(beta verdict)" = deployed ] && [ "$(beta deployed_at)" != null ]' 30
stack_expect_eq "$(beta deployed_at)" "$(jq -r .deployed_at <<<"$b")" "after a restart, deployed_at from the note"
stack_expect_eq "$(beta commit_to_healthy_s)" "$secs" "after a restart, the same seconds"
stack_wait_cycles 2
stack_expect_eq "$(c2h beta)" 0 "a restart does not observe a promotion already noted as deployed"
[ "$(stack_git rev-list --count refs/notes/pipelined-deploy)" = 1 ] || stack_fail "the restart wrote the deploy note again"
stack_ok "commit to healthy: ${secs}s in status and the histogram; a restart keeps the time and observes nothing again"

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
[ "$(curl -fsS "$STACK_URL/metrics" | grep -c '^pipelined_stage_health{stage="beta",status="[A-Za-z]*"} 1$')" = 0 ] ||
	stack_fail "Argo CD down, yet a health gauge of beta is 1"
stack_ok "Argo CD down: beta is unknown ($(beta reason)); no sync or health gauge is 1"
sha2=$(stack_release "feat: risk limits")
stack_kick >/dev/null || true
stack_wait_for '[ "$(stack_tag beta)" = "$sha2" ]' 60
kill -0 "$STACK_DAEMON_PID" || stack_fail "the daemon died"
stack_ok "Argo CD down: the daemon keeps running and promotes ${sha2:0:7} into beta"

# issue 13 item 5: the audit names the promotions that never became deployed
p2=$(stack_promotions beta "$sha2")
sha3=$(stack_release "feat: order book depth")
stack_kick >/dev/null || true
stack_wait_for '[ "$(stack_tag beta)" = "$sha3" ]' 60
p3=$(stack_promotions beta "$sha3")
rc=0; out=$(stack_ctl audit) || rc=$?
stack_expect_eq "$rc" 0 "audit exit status: undeployed promotions are no violation"
stack_expect_in "audit: clean" "$out" "audit stays clean"
stack_expect_in "deployments (informational, not violations): 2 of 3 promotions into beta, paper never became deployed:" "$out" "audit summary"
stack_expect_in "${p2:0:12} beta  tag ${sha2:0:7}" "$out" "audit lists the superseded promotion"
stack_expect_in "superseded by ${p3:0:12} before it was deployed" "$out" "audit: superseded by the next"
stack_expect_in "${p3:0:12} beta  tag ${sha3:0:7}" "$out" "audit lists the current promotion"
stack_expect_in "the stage's current promotion, not deployed yet" "$out" "audit: current, not deployed"
js=$(stack_ctl --json audit) || stack_fail "audit --json exit status"
stack_expect_eq "$(jq -c '.deployments | [.record, .promotions, .deployed]' <<<"$js")" '[true,3,1]' "audit --json counts"
stack_expect_eq "$(jq -r '.deployments.undeployed | map(.commit + " " + .state + " " + (.superseded_by // "-")) | join(",")' <<<"$js")" \
	"$p2 superseded $p3,$p3 not-deployed -" "audit --json lists them oldest first"
stack_expect_eq "$(jq -r '.violations | length' <<<"$js")" 0 "no violation from an undeployed promotion"
stack_ok "audit: ${p2:0:7} superseded before it was deployed, ${p3:0:7} current and not deployed; exit status 0"

stack_argocd_violations
stack_daemon_stop
