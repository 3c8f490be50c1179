#!/usr/bin/env bash
# Issue 10, the refusal: a chart that does not satisfy the mapping.  The
# mixed chart (tests/data/layouts/mixed) with the [image "superset"]
# section forgotten: superset's tag is at superset.image.tag, which the
# stage template backend.{image}.image.tag does not reach.  Every stage is
# blocked with the image and the path it tried named in pipelinectl status
# (text and JSON) and in one journal line per stage, never retried hot, and
# nothing is pushed while a release is waiting.  Adding the section and
# reloading unblocks the stages and the release goes to beta.
. "$SRCDIR/tests/fixtures/layout-lib.sh"
layout_start mixed
stack_map_stages 'backend.{image}.image.tag'
stack_map_image dashboard dashboard.image.tag
UPDATES=$STACK_DIR/ssh/srv/gitops.log/updates
# the oracle agrees that this chart is refused, and why
if out=$(stack_image_tags beta 2>&1); then stack_fail "the oracle accepted the unmapped chart: $out"; fi
stack_expect_in "image 'superset' has no tag location: tried backend.superset.image.tag" "$out" "oracle"
rc=0
out=$(stack_ctl check 2>&1) || rc=$?
stack_expect_eq "$rc" 1 "pipelinectl check's exit status ($out)"
stack_expect_in "superset" "$out" "pipelinectl check"
stack_expect_in "backend.superset.image.tag" "$out" "pipelinectl check"
stack_ok "pipelinectl check refuses the chart before anything is written: $(grep -m1 -F superset <<<"$out")"

stack_daemon_start
sha=$(stack_release "feat: superset dashboards")
pushes=$(wc -l <"$UPDATES")
stack_kick >/dev/null || true
beta_json() { stack_status | jq -c '.stages[] | select(.name == "beta")'; }
blocked_beta() { [ "$(beta_json | jq -r .blocked)" = true ]; }
stack_wait_for blocked_beta 30 || stack_fail "status never showed beta blocked"
reason=$(beta_json | jq -r .blocked_reason)
stack_expect_in "superset" "$reason" "status --json: beta's blocked_reason"
stack_expect_in "backend.superset.image.tag" "$reason" "status --json: beta's blocked_reason"
text=$(stack_ctl status 2>&1) || stack_fail "pipelinectl status failed: $text"
line=$(grep -i 'blocked' <<<"$text" | grep -E '^beta' || true)
[ -n "$line" ] || stack_fail "pipelinectl status does not say beta is blocked: $text"
stack_expect_in "backend.superset.image.tag" "$line" "pipelinectl status"
stack_expect_in "superset" "$line" "pipelinectl status"
stack_ok "status (JSON and text) shows beta blocked: $line"
health=$(curl -s -w ' %{http_code}' "$STACK_URL/healthz")
stack_expect_in "degraded" "$health" "/healthz while beta is blocked"
stack_expect_eq "$(curl -s "$STACK_URL/metrics" | grep -E '^pipelined_stage_blocked\{stage="beta"\}' | awk '{print $2}')" 1 \
	"pipelined_stage_blocked{stage=\"beta\"}"
stack_ok "/healthz says degraded ($health), pipelined_stage_blocked{stage=\"beta\"} is 1"

journal() { grep -E "superset" "$STACK_LOG" | grep -F 'backend.superset.image.tag' | grep -cF "$1" || true; }
stack_wait_for '[ "$(journal values-beta.yaml)" -ge 1 ]' 10 || stack_fail "no journal line names superset's path"
stack_wait_cycles 4
for st in beta paper live; do
	stack_expect_eq "$(journal "values-$st.yaml")" 1 "journal lines naming superset's path in values-$st.yaml after 4 more cycles"
done
! grep -i 'recovered' "$STACK_LOG" || stack_fail "the journal says 'recovered' while still blocked"
stack_ok "one journal line per stage: $(grep -F 'values-beta.yaml' "$STACK_LOG" | grep -F 'backend.superset.image.tag' | head -n1)"

stack_expect_eq "$(stack_git rev-parse main)" "$sha" "main while blocked"
stack_expect_eq "$(wc -l <"$UPDATES")" "$pushes" "ref updates received by the server while blocked"
[ -z "$(stack_promotions beta)" ] || stack_fail "a promotion was pushed while blocked"
stack_values beta | cmp -s - "$STACK_VALUES_DIR/values-beta.yaml" || stack_fail "values-beta.yaml changed while blocked"
stack_ok "nothing pushed while blocked (main at $sha, no ref update at the server)"

stack_map_image superset superset.image.tag
stack_daemon_reload
stack_wait_for '[ -n "$(stack_promotions beta "$sha")" ]' 60 || stack_fail "$sha did not reach beta after the mapping was fixed"
layout_check_commit "$(stack_promotions beta "$sha")" beta "$sha" 14
stack_wait_for '! blocked_beta' 30 || stack_fail "beta still shown blocked after the fix"
stack_expect_eq "$(curl -s "$STACK_URL/metrics" | grep -E '^pipelined_stage_blocked\{stage="beta"\}' | awk '{print $2}')" 0 \
	"pipelined_stage_blocked{stage=\"beta\"} after the fix"
stack_ok "with [image \"superset\"] added and a reload, beta is unblocked and $sha promoted"
echo "layout_unmapped: all checks passed"
