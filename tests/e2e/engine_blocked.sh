#!/usr/bin/env bash
# ctest: cost 110
# Permanent errors are not retried hot (issue 10, item 4), on the whole
# stack (sshd + git-shell, docker-registry, the daemon as a user runs it):
#
#  1. beta's values file does not satisfy the mapping (superset lost its
#     entry): the stage is blocked before anything is written; ONE journal
#     line naming the file, the image and the path; pipelinectl status
#     (text and --json), /api/v1/status, /healthz ("degraded") and
#     pipelined_stage_blocked{stage="beta"} say so; and the server sees no
#     fetch and no push for it, only the one ls-remote per cycle that
#     watches the branch (counted at the server, from git's own trace of
#     each session), also across a reload; a fix pushed to the values file
#     unblocks it (one line) and the release is promoted.
#  2. a server-side hook declines the promotion's push (and a refusal
#     note's): blocked with the hook's text; no further push until the
#     branch moves; once the freeze is lifted and main moves, the
#     promotion lands, the block clears and the note is pushed.
set -euo pipefail
. "$SRCDIR/tests/fixtures/stack.sh"

beta() { stack_status | jq -r ".stages[] | select(.name == \"beta\") | .$1"; }
log_count() { grep -c -- "$1" "$STACK_LOG" || true; }
blocked_metric() {
	curl -fsS "$STACK_URL/metrics" | awk '$1 == "pipelined_stage_blocked{stage=\"beta\"}" {print $2}'
}

stack_start
orig=$(stack_git rev-parse main)
stack_direct_push values/values-beta.yaml '/^  superset:/,$d' "values: superset leaves beta" >/dev/null
X=$(stack_release "feature one")

# ---- 1. the layout check blocks beta ------------------------------------
stack_daemon_start
stack_wait_for '[ "$(beta blocked)" = true ]' 30 || stack_fail "beta was not blocked"
reason=$(beta blocked_reason)
stack_expect_in "values/values-beta.yaml" "$reason" "the reason names the file"
stack_expect_in "superset" "$reason" "the reason names the image"
stack_expect_in "services.superset.image.tag" "$reason" "the reason names the path"
[ "$(beta blocked_since)" != null ] || stack_fail "blocked_since is null"
[ -z "$(stack_promotions beta)" ] || stack_fail "something was promoted into a blocked stage"
stack_ok "beta blocked by the layout check, before any write: $reason"

human=$(stack_ctl status) || stack_fail "pipelinectl status failed"
stack_expect_in "beta is BLOCKED since" "$human" "pipelinectl status"
stack_expect_in "services.superset.image.tag" "$human" "pipelinectl status shows the reason"
health=$(curl -sS -w ' %{http_code}' "$STACK_URL/healthz")
case $health in "degraded: stage beta blocked: "*" 200") ;; *) stack_fail "/healthz: $health" ;; esac
stack_expect_eq "$(blocked_metric)" 1 "pipelined_stage_blocked{stage=\"beta\"}"
stack_ok "pipelinectl status, /healthz (degraded) and the metric show the block"

# what reaches the server while beta is blocked and nothing moves
c0=$(stack_metric pipelined_cycles_total) u0=$(stack_sessions upload) r0=$(stack_sessions receive)
f0=$(log_count "fetched in")
stack_wait_cycles 8
c1=$(stack_metric pipelined_cycles_total) u1=$(stack_sessions upload) r1=$(stack_sessions receive)
f1=$(log_count "fetched in")
cycles=$((c1 - c0)) uploads=$((u1 - u0))
echo "while blocked: $cycles cycles, $uploads upload-pack sessions, $((r1 - r0)) receive-pack sessions, $((f1 - f0)) fetches"
[ "$r1" = "$r0" ] || stack_fail "a push reached the server while beta was blocked"
[ "$f1" = "$f0" ] || stack_fail "the daemon fetched while nothing moved"
# one ls-remote per cycle (+1: a cycle may be in flight at either end)
[ "$uploads" -le $((cycles + 1)) ] ||
	stack_fail "$uploads upload-pack sessions in $cycles cycles: more than the ls-remote"
stack_expect_eq "$(log_count "stage beta is blocked")" 1 "journal lines about the block"
stack_expect_eq "$(log_count "recovered after")" 0 "'recovered' lines"
stack_ok "no fetch, no push while blocked: only the ls-remote of each cycle, one journal line"

# a reload re-checks (one fetch) and finds the same reason: no new line
stack_daemon_reload
stack_wait_for 'grep -q "configuration .* reloaded" "$STACK_LOG"' 20
stack_wait_cycles 3
[ "$(beta blocked)" = true ] || stack_fail "a reload unblocked beta without a fix"
stack_expect_eq "$(log_count "stage beta is blocked")" 1 "journal lines after a reload"
stack_ok "reload: checked again, still blocked, no second line"

# the fix: the values file gets superset's entry back
_stack_dev_sync
git -C "$STACK_DIR/dev" checkout -q "$orig" -- values/values-beta.yaml
_stack_dated git -C "$STACK_DIR/dev" commit -q -m "values: superset is back in beta"
git -C "$STACK_DIR/dev" push -q origin main
stack_wait_for '[ "$(stack_tag beta)" = "$X" ]' 60 || stack_fail "beta was not promoted after the fix"
stack_wait_for '[ "$(beta blocked)" = false ]' 10
stack_expect_eq "$(log_count "stage beta is no longer blocked")" 1 "journal lines about the unblock"
stack_expect_eq "$(log_count "stage beta is blocked")" 1 "journal lines about the block"
stack_expect_eq "$(blocked_metric)" 0 "pipelined_stage_blocked{stage=\"beta\"} after the fix"
stack_expect_eq "$(curl -sS "$STACK_URL/healthz")" ok "/healthz after the fix"
[ "$(beta blocked_reason)" = null ] || stack_fail "blocked_reason after the fix"
stack_tags_agree beta || stack_fail "beta's tags disagree after the promotion"
stack_ok "a fix pushed to the values file: unblocked (one line), ${X:0:7} promoted"

# ---- 2. a hook declines the push ----------------------------------------
# While the daemon is down: a release commit, a request it will refuse
# (live needs notes), then the server freezes main and every other ref.
stack_daemon_stop
Y=$(stack_app_commit "feature two")
R=$(stack_request live "$X")
touch "$STACK_DIR/ssh/srv/gitops.refuse"
stack_publish "$Y"
stack_evidence "$Y" pass
stack_daemon_start
stack_wait_for '[ "$(beta blocked)" = true ]' 60 || stack_fail "a declined push did not block beta"
reason=$(beta blocked_reason)
stack_expect_in "hook declined" "$reason" "the reason says a hook declined"
stack_expect_in "policy: gitops is frozen" "$reason" "the reason carries the hook's text"
stack_expect_eq "$(log_count "stage beta is blocked")" 2 "one more journal line"
stack_wait_for 'grep -q "a hook declined the note on request" "$STACK_LOG"' 30 ||
	stack_fail "the declined note was not reported"
r0=$(stack_sessions receive)
stack_wait_cycles 6
stack_expect_eq "$(stack_sessions receive)" "$r0" "pushes while the hook declines them"
stack_expect_eq "$(log_count "stage beta is blocked")" 2 "journal lines while blocked by the hook"
stack_expect_eq "$(log_count "a hook declined the note")" 1 "journal lines about the note"
stack_ok "a hook's refusal blocks beta with its text; no push (promotion or note) until something changes"

rm -f "$STACK_DIR/ssh/srv/gitops.refuse"
stack_app_commit "feature three (not built)" >/dev/null	# main moves: one more attempt
stack_wait_for '[ "$(stack_tag beta)" = "$Y" ]' 60 || stack_fail "beta was not promoted after the freeze"
stack_wait_for '[ "$(beta blocked)" = false ]' 10
stack_expect_eq "$(log_count "stage beta is no longer blocked")" 2 "journal lines about the unblock"
stack_expect_eq "$(log_count "recovered after")" 0 "'recovered' lines"
stack_wait_note "$R" . 30 >/dev/null
stack_ok "freeze lifted, main moved: ${Y:0:7} promoted, block cleared, the refusal note pushed"
