#!/usr/bin/env bash
# Seed requirements 9.3, 10.3, 11.1, 11.3, 12.1, 12.3-12.5, 15.1-15.2: during
# market hours (Mon 2026-11-30 14:00 ET) a paper request without
# break-glass is refused, and the note on the request says why and when the
# market closes; the same request with a Break-Glass: trailer is merged and
# the justification, the requester and the time are in the commit's
# trailers; break-glass covers that one promotion only; live is blocked too.
. "$SRCDIR/tests/fixtures/stack.sh"
stack_start "2026-11-30 14:00:00"
stack_daemon_start
x=$(stack_release "feat: X")
stack_kick >/dev/null || true
stack_wait_for '[ "$(stack_tag beta)" = "$x" ]' 60
stack_ok "beta (not market-gated) promoted to $x at 14:00 ET"

req=$(stack_request paper "$x" --notes "weekly paper refresh")
branch=$(cat "$STACK_DIR/last-branch")
note=$(stack_wait_note "$req" 'market open' 30)
stack_expect_in "closes 16:00 EST" "$note" "note names the close time"
stack_expect_in "Break-Glass" "$note" "note says how to override"
stack_has_branch "$branch" || stack_fail "refused request branch was deleted"
stack_expect_eq "$(stack_tag paper)" 0000000000000000000000000000000000000000 "paper during the window"
st=$(stack_status)
r=$(jq -c --arg b "$branch" '.requests[] | select(.branch == $b)' <<<"$st")
[ -n "$r" ] || stack_fail "status does not list $branch: $st"
stack_expect_eq "$(jq -r .state <<<"$r")" queued "status: request state"
stack_expect_eq "$(jq -r .code <<<"$r")" market-open "status: request code"
stack_expect_eq "$(jq -r .queued_until <<<"$r")" 2026-11-30T21:00:00Z "status: queued until the close"
grep -qE '^open, closes 16:00 EST \((in )?(1h[0-9]+m|2h)' <<<"$(jq -r .market.status <<<"$st")" ||
	stack_fail "status: market indicator without countdown: $(jq -c .market <<<"$st")"
out=$(stack_ctl window)
grep -qE '^Market: *open, closes 16:00 EST \(in (1h[0-9]+m|2h)' <<<"$out" || stack_fail "pipelinectl window: $out"
stack_ok "paper request at 14:00 ET refused: $note"

tip=$(stack_request_update "$branch" --notes "weekly paper refresh" \
	--break-glass "INC-4711: paper broker rejects all orders, fix in $x")
m=$(stack_wait_merged "$tip" 60)
stack_expect_eq "$(stack_tag paper)" "$x" "paper after break-glass"
stack_expect_eq "$(stack_trailer "$m" Break-Glass)" "INC-4711: paper broker rejects all orders, fix in $x" "Break-Glass"
stack_expect_eq "$(stack_trailer "$m" Requested-By)" "Dana Developer <dana@example.com>" "Requested-By"
stack_expect_eq "$(stack_trailer "$m" Request)" "$tip" "Request"
stack_expect_eq "$(stack_trailer "$m" Stage)" paper "Stage"
stack_expect_eq "$(stack_trailer "$m" Source-Stage)" beta "Source-Stage"
stack_expect_eq "$(stack_trailer "$m" Image-Tag)" "$x" "Image-Tag"
stack_expect_eq "$(stack_trailer "$m" Notes)" "weekly paper refresh" "Notes"
stack_expect_in "open" "$(stack_trailer "$m" Market)" "Market"
stack_expect_eq "$(stack_git log -1 --format='%an <%ae>' "$m")" "Dana Developer <dana@example.com>" "author"
stack_expect_eq "$(stack_git log -1 --format='%cn' "$m")" pipelined "committer"
stack_expect_eq "$(stack_git rev-list --parents -n1 "$m" | cut -d' ' -f3)" "$tip" "second parent is the request"
stack_expect_eq "$(stack_git diff --name-only "$m^1" "$m")" values/values-paper.yaml "files changed"
ct=$(stack_git log -1 --format=%ct "$m")
[ "$ct" -ge "$(TZ=America/New_York date -d '2026-11-30 14:00:00' +%s)" ] &&
	[ "$ct" -lt "$(TZ=America/New_York date -d '2026-11-30 16:00:00' +%s)" ] ||
	stack_fail "break-glass commit time $ct is not inside the window"
stack_wait_for '! stack_has_branch "$branch"' 30 || stack_fail "merged request branch not deleted"
stack_ok "with Break-Glass: merged as $m, justification/requester/time in the trailers, branch deleted"

y=$(stack_release "feat: Y")
stack_kick >/dev/null || true
stack_wait_for '[ "$(stack_tag beta)" = "$y" ]' 60
req=$(stack_request paper "$y" --notes "next one")
note=$(stack_wait_note "$req" 'market open' 30)
stack_expect_eq "$(stack_tag paper)" "$x" "paper"
stack_ok "break-glass was single-use: the next paper request is refused again"

req=$(stack_request live "$x" --notes "ship X to production")
note=$(stack_wait_note "$req" 'market open' 30)
stack_expect_eq "$(stack_tag live)" 0000000000000000000000000000000000000000 "live"
stack_ok "live request with notes during the window refused: $note"
echo "accept_market_window: all checks passed"
