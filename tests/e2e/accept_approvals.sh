#!/usr/bin/env bash
# ctest: cost 110
# Issue 14 item 3, the two-person rule, on the real stack: live wants one
# approval (approvals = 1, signed requests).  A signed live request waits,
# refused approval-required (note, status); an approval signed with the
# author's own key under a second e-mail address is refused and named as a
# self-approval; pipelinectl approve by a second person (risk) makes it
# merge with an Approved-By: naming her and her verified principal, the
# merge's second parent being the approval.  pipelinectl audit passes on
# that history and fails, naming the commit, on a promotion pushed behind
# the daemon's back whose one approval is the author's.
# The dashboard's Approve button (POST /api/v1/approve): refused with a
# clear error while no [http] approvalKey is set; once it is, the
# requester's own attempt is refused and pushes nothing, and another
# operator's approval (signed with the approval key, Operator: trailer)
# merges the request with an Approved-By: naming that operator, which
# pipelinectl audit accepts.
. "$SRCDIR/tests/fixtures/stack.sh"
FMT=$TOOLDIR/trailer_fmt
stack_start "2026-11-30 18:00:00"	# Monday evening: market closed
K=$STACK_DIR/keys
mkdir -p "$K"
for who in dana rita; do ssh-keygen -q -t ed25519 -N '' -C "$who" -f "$K/$who"; done
# dana's key carries two addresses: an approval under the second is still hers
{
	printf 'dana@example.com,dana@home.example namespaces="git" %s\n' "$(cut -d' ' -f1,2 "$K/dana.pub")"
	printf 'rita@example.com namespaces="git" %s\n' "$(cut -d' ' -f1,2 "$K/rita.pub")"
} >"$K/allowed"
stack_conf_set stage.live.requireSignature true
stack_conf_set stage.live.signers "$K/allowed"
stack_conf_set stage.live.approvals 1
# dashboard operators: dana (the developer) and risk
printf 'dana:%s:dana@example.com\nrisk:%s:risk@example.com\n' \
	"$(htpasswd -nbBC 10 dana pw-dana | cut -d: -f2)" "$(htpasswd -nbBC 10 risk pw-risk | cut -d: -f2)" \
	>"$STACK_DIR/users"
stack_conf_set http.users "$STACK_DIR/users"
out=$("$PIPELINED" -n -c "$STACK_CONF") || stack_fail "config with approvals: $out"
# the developer signs every commit, as git commit -S would
dev=$STACK_DIR/dev
git -C "$dev" config gpg.format ssh
git -C "$dev" config user.signingkey "$K/dana"
git -C "$dev" config commit.gpgsign true
stack_daemon_start

x=$(stack_release "feat: X")
stack_kick >/dev/null || true
stack_wait_for '[ "$(stack_tag beta)" = "$x" ]' 60
preq=$(stack_request paper "$x" --notes "paper first")
stack_wait_merged "$preq" 60 >/dev/null
stack_ok "release $x in beta and paper"

# ---- the request waits for a second person ------------------------------
lreq=$(stack_request live "$x" --notes "CAB-12: risk limits" --name cab-12)
branch=promote/live/cab-12
note=$(stack_wait_note "$lreq" '^approval-required' 30)
stack_expect_in "live requires 1 approval by someone other than the author, 0 given" "$note" "note"
stack_expect_in "the author (dana@example.com) cannot approve" "$note" "note names the author"
stack_expect_in "pipelinectl approve $branch" "$note" "note says how to approve"
js=$(stack_status)
jq -e --arg b "$branch" '.requests[] | select(.branch == $b) |
	.code == "approval-required" and .state == "queued"' <<<"$js" >/dev/null ||
	stack_fail "status does not show $branch queued approval-required: $js"
jq -e --arg b "$branch" '.requests[] | select(.branch == $b) | .approvals |
	.needed == 1 and .given == [] and .author == "dana@example.com" and .dashboard == false' \
	<<<"$js" >/dev/null || stack_fail "status does not show the approvals of $branch: $js"
stack_ok "a signed live request waits: approval-required (note, status queued, approvals 0 of 1)"

# ---- the dashboard: POST /api/v1/approve ---------------------------------
dash_approve() {	# USER PASSWORD BRANCH COMMIT: the HTTP code; the reply in $STACK_DIR/ap.json
	local token
	token=$(curl -fsS -u "$1:$2" "$STACK_URL/api/v1/csrf" | jq -r .token)
	curl -s -o "$STACK_DIR/ap.json" -w '%{http_code}' -u "$1:$2" -H 'Content-Type: application/json' \
		-H "X-CSRF-Token: $token" --data "$(jq -cn --arg b "$3" --arg c "$4" '{branch: $b, commit: $c}')" \
		"$STACK_URL/api/v1/approve"
}
code=$(dash_approve risk pw-risk "$branch" "$lreq")
[ "$code" = 409 ] || stack_fail "dashboard approve without approvalKey: HTTP $code: $(cat "$STACK_DIR/ap.json")"
stack_expect_in "the dashboard cannot approve: no [http] approvalKey is configured" \
	"$(jq -r .error "$STACK_DIR/ap.json")" "no approvalKey"
[ "$(stack_git rev-parse "refs/heads/$branch")" = "$lreq" ] || stack_fail "something was pushed"
stack_ok "dashboard Approve without [http] approvalKey: 409 saying so, nothing pushed"

# ---- pipelinectl approve refuses the author at once ---------------------
set +e
err=$(stack_ctl approve "$branch" --signing-key "$K/dana" 2>&1); rc=$?
set -e
[ $rc = 2 ] || stack_fail "approve by the author: exit $rc: $err"
stack_expect_in "you (dana@example.com) wrote request ${lreq:0:7}; someone else must approve it" "$err" \
	"approve by the author"
set +e
err=$(stack_ctl approve live/nope --signing-key "$K/rita" 2>&1); rc=$?
set -e
[ $rc = 2 ] || stack_fail "approve of a missing branch: exit $rc"
stack_expect_in "there is no request branch 'promote/live/nope' on the remote" "$err" "missing branch"
stack_ok "pipelinectl approve: the author and a missing branch are refused before anything is pushed"

# ---- a self-approval: the author's key under her second address ---------
out=$(GIT_AUTHOR_NAME="Dana at home" GIT_AUTHOR_EMAIL=dana@home.example \
	stack_ctl approve "$branch" --signing-key "$K/dana") || stack_fail "self-approval push: $out"
self=$(stack_git rev-parse "refs/heads/$branch")
[ "$(stack_git rev-parse "$self^")" = "$lreq" ] || stack_fail "approval is not on the request"
[ "$(stack_git rev-parse "$self^{tree}")" = "$(stack_git rev-parse "$lreq^{tree}")" ] ||
	stack_fail "the approval changes files"
stack_git cat-file commit "$self" | grep '^gpgsig -----BEGIN SSH SIGNATURE-----' >/dev/null ||
	stack_fail "the approval is not SSH-signed"
[ "$(stack_trailer "$self" Approves)" = "$lreq" ] || stack_fail "Approves: trailer"
note=$(stack_wait_note "$self" 'self-approval' 30)
stack_expect_in "0 given (not counted: ${self:0:7} (self-approval by dana@example.com))" "$note" \
	"self-approval named"
stack_wait_cycles 2
[ -z "$(stack_merge_of "$lreq")" ] || stack_fail "merged on a self-approval"
stack_ok "an approval with the author's key under another address: refused, named, not merged"

# ---- the second person approves -----------------------------------------
out=$(GIT_AUTHOR_NAME="Rita Risk" GIT_AUTHOR_EMAIL=rita@example.com \
	stack_ctl approve "$branch" --signing-key "$K/rita") || stack_fail "approve: $out"
stack_expect_in "approved request ${lreq:0:7} on $branch" "$out" "approve output"
appr=$(stack_git rev-parse "refs/heads/$branch")
m=$(stack_wait_merged "$lreq" 60)
stack_expect_eq "$(stack_trailer "$m" Approved-By)" \
	"Rita Risk <rita@example.com> (principal rita@example.com, approval $appr)" "Approved-By"
stack_expect_eq "$(stack_trailer "$m" Signed-By)" "dana@example.com" "Signed-By"
stack_expect_eq "$(stack_trailer "$m" Request)" "$lreq" "Request: names the request commit"
stack_expect_eq "$(stack_git rev-parse "$m^2")" "$appr" "second parent is the branch tip"
stack_expect_eq "$(stack_tag live)" "$x" "live runs the release"
stack_wait_for '! stack_has_branch "$branch"' 30 || stack_fail "request branch not deleted"
stack_ok "a second person's signed approval: merged with one Approved-By: (approver, principal, approval)"

set +e
out=$(stack_ctl audit 2>&1); rc=$?
set -e
[ $rc = 0 ] || stack_fail "audit of the daemon's history: exit $rc: $out"
echo "  $(tail -n1 <<<"$out")"
stack_ok "pipelinectl audit verifies the approval and passes"

# ---- the dashboard's Approve button, with an approval key ---------------
ssh-keygen -q -t ed25519 -N '' -C dashboard -f "$K/desk"
printf 'dashboard@desk namespaces="git" %s\n' "$(cut -d' ' -f1,2 "$K/desk.pub")" >>"$K/allowed"
stack_daemon_stop
stack_conf_set http.approvalKey "$K/desk"
out=$("$PIPELINED" -n -c "$STACK_CONF") || stack_fail "config with approvalKey: $out"
stack_daemon_start
z=$(stack_release "feat: Z")
stack_kick >/dev/null || true
stack_wait_for '[ "$(stack_tag beta)" = "$z" ]' 60
pzreq=$(stack_request paper "$z" --notes "paper Z")
stack_wait_merged "$pzreq" 60 >/dev/null
zreq=$(stack_request live "$z" --notes "CAB-13" --name cab-13)
zbranch=promote/live/cab-13
stack_wait_note "$zreq" '^approval-required' 30 >/dev/null
stack_wait_for "stack_status | jq -e --arg b $zbranch '.requests[] | select(.branch == \$b) |
	.code == \"approval-required\" and .approvals.dashboard' >/dev/null" 30 ||
	stack_fail "status does not offer dashboard approval of $zbranch: $(stack_status)"
# the requester herself
code=$(dash_approve dana pw-dana "$zbranch" "$zreq")
[ "$code" = 409 ] || stack_fail "dashboard self-approval: HTTP $code: $(cat "$STACK_DIR/ap.json")"
stack_expect_in "you (dana <dana@example.com>) requested '$zbranch'" "$(jq -r .error "$STACK_DIR/ap.json")" \
	"self-approval refusal"
stack_expect_in "someone else must approve it" "$(jq -r .error "$STACK_DIR/ap.json")" "self-approval refusal"
[ "$(stack_git rev-parse "refs/heads/$zbranch")" = "$zreq" ] || stack_fail "a self-approval was pushed"
# a stale page (another tip) and a request that does not exist
code=$(dash_approve risk pw-risk "$zbranch" "$pzreq")
[ "$code" = 409 ] || stack_fail "approve of a stale tip: HTTP $code"
stack_expect_in "moved since the page showed it" "$(jq -r .error "$STACK_DIR/ap.json")" "stale tip"
code=$(dash_approve risk pw-risk promote/live/nope "$zreq")
[ "$code" = 404 ] || stack_fail "approve of a missing request: HTTP $code"
stack_ok "dashboard Approve: the requester, a stale tip and an unknown request are refused, nothing pushed"

code=$(dash_approve risk pw-risk "$zbranch" "$zreq")
[ "$code" = 202 ] || { tail -n 20 "$STACK_LOG"; stack_fail "dashboard approve: HTTP $code: $(cat "$STACK_DIR/ap.json")"; }
dappr=$(jq -r .approval "$STACK_DIR/ap.json")
[ "$(stack_git rev-parse "refs/heads/$zbranch")" = "$dappr" ] || stack_fail "approval not on the branch"
[ "$(stack_git rev-parse "$dappr^")" = "$zreq" ] || stack_fail "dashboard approval is not on the request"
[ "$(stack_git rev-parse "$dappr^{tree}")" = "$(stack_git rev-parse "$zreq^{tree}")" ] ||
	stack_fail "the dashboard approval changes files"
stack_git cat-file commit "$dappr" | grep '^gpgsig -----BEGIN SSH SIGNATURE-----' >/dev/null ||
	stack_fail "the dashboard approval is not SSH-signed"
stack_expect_eq "$(stack_trailer "$dappr" Approves)" "$zreq" "Approves: of the dashboard approval"
stack_expect_eq "$(stack_trailer "$dappr" Operator)" "risk" "Operator: of the dashboard approval"
stack_expect_eq "$(stack_git log -1 --format='%an <%ae>' "$dappr")" "risk <risk@example.com>" \
	"the dashboard approval's author"
m=$(stack_wait_merged "$zreq" 60)
stack_expect_eq "$(stack_trailer "$m" Approved-By)" \
	"risk <risk@example.com> (principal dashboard@desk, approval $dappr)" "Approved-By of a dashboard approval"
stack_expect_eq "$(stack_tag live)" "$z" "live runs Z"
has_approved_by() {	# the history API lists the merge's Approved-By (after the daemon's next scan)
	curl -fsS "$STACK_URL/api/v1/history?stage=live" | jq -e --arg m "$m" --arg a "$dappr" \
		'.entries[] | select(.commit == $m) | .approved_by == ["risk <risk@example.com> (principal dashboard@desk, approval " + $a + ")"]' \
		>/dev/null
}
stack_wait_for has_approved_by 30 || stack_fail "history API: no approved_by on $m: $(curl -fsS "$STACK_URL/api/v1/history?stage=live")"
stack_ok "dashboard Approve by another operator: signed approval (Operator: risk), merged with Approved-By naming risk"
set +e
out=$(stack_ctl audit 2>&1); rc=$?
set -e
[ $rc = 0 ] || stack_fail "audit with a dashboard approval: exit $rc: $out"
stack_ok "pipelinectl audit accepts the dashboard approval"

# ---- a promotion whose approval is the author's, pushed behind its back --
y=$(stack_release "feat: Y")
stack_wait_for '[ "$(stack_tag beta)" = "$y" ]' 60
pyreq=$(stack_request paper "$y" --notes "paper Y")
stack_wait_merged "$pyreq" 60 >/dev/null
stack_daemon_stop
git -C "$dev" fetch -q origin
git -C "$dev" checkout -q -B forged origin/main
stack_faked "$PIPELINECTL" edit "$dev/values/values-live.yaml" 'services.*.image.tag' --tag "$y" -i >/dev/null
git -C "$dev" add -A
_stack_dated git -C "$dev" commit -q -m "promote live: ${y:0:12}" -m "Notes: sneaky"
r2=$(git -C "$dev" rev-parse HEAD)
GIT_AUTHOR_NAME="Dana at home" GIT_AUTHOR_EMAIL=dana@home.example \
	_stack_dated git -C "$dev" commit -q --allow-empty -m "approve live: ${r2:0:7}" -m "Approves: $r2"
a2=$(git -C "$dev" rev-parse HEAD)
printf 'sneaky\n' >"$STACK_DIR/notes"
"$FMT" format --stage live --source paper --tag "$y" --requested-by "Dana Developer <dana@example.com>" \
	--request "$r2" --notes-file "$STACK_DIR/notes" --market "closed (after close)" \
	--inttest "passed 312/312" >"$STACK_DIR/msg"
printf 'Signed-By: dana@example.com\nApproved-By: Dana at home <dana@home.example> (principal dana@example.com, approval %s)\n' \
	"$a2" >>"$STACK_DIR/msg"
t="@$(stack_now) +0000"
m2=$(GIT_COMMITTER_NAME=pipelined GIT_COMMITTER_EMAIL=pipelined@gremlin-1 GIT_COMMITTER_DATE=$t \
	GIT_AUTHOR_DATE=$t git -C "$dev" commit-tree "$r2^{tree}" -p origin/main -p "$a2" -F "$STACK_DIR/msg")
git -C "$dev" push -q origin "$m2:refs/heads/main"
git -C "$dev" checkout -q main
set +e
out=$(stack_ctl audit 2>&1); rc=$?
set -e
[ $rc = 1 ] || stack_fail "audit of a self-approved promotion: exit $rc: $out"
line=$(grep -E "^${m2:0:12} self-approval: " <<<"$out") ||
	stack_fail "no self-approval line naming ${m2:0:12}: $out"
stack_expect_in "approval ${a2:0:12} by dana@" "$line" "audit names the approval"
echo "  $line"
grep -vE "^${m2:0:12} " <<<"$out" | grep -E '^[0-9a-f]{12} ' >/dev/null &&
	stack_fail "audit flags other commits too: $out"
stack_ok "pipelinectl audit flags a promotion approved by its own author (exit 1, commit named)"
echo "accept_approvals: all checks passed"
