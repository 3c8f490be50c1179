#!/usr/bin/env bash
# Seed requirement 15 and SPEC 6: the daemon's own history is a clean audit
# trail (pipelinectl audit exits 0; pipelinectl log shows who, when, from
# where, what, notes and break-glass per stage), and each kind of tampering
# pushed behind its back is flagged by pipelinectl audit (non-zero exit,
# one line naming the commit): a direct edit of values-paper.yaml, a forged
# promotion commit made by a person, a promotion made inside the market
# window without break-glass, a tag that skipped a stage, a reused request,
# a promotion commit missing trailers.
. "$SRCDIR/tests/fixtures/stack.sh"
FMT=$TOOLDIR/trailer_fmt
stack_start "2026-11-30 14:00:00"
stack_daemon_start
x=$(stack_release "feat: X")
stack_kick >/dev/null || true
stack_wait_for '[ "$(stack_tag beta)" = "$x" ]' 60
preq=$(stack_request paper "$x" --notes "paper refresh" --break-glass "INC-7: paper broker down")
pm=$(stack_wait_merged "$preq" 60)
lreq=$(stack_request live "$x" --notes "CAB-9 approved" --break-glass "INC-7: same fix for live")
lm=$(stack_wait_merged "$lreq" 60)
stack_daemon_stop
stack_ok "daemon history: beta (automatic), paper and live (break-glass) for $x"

set +e
out=$(stack_ctl audit 2>&1); rc=$?
set -e
[ $rc = 0 ] || stack_fail "audit of the daemon's own history: exit $rc: $out"
grep -qE 'clean: .*, 3 promotions' <<<"$out" || stack_fail "audit did not judge the 3 promotions: $out"
echo "  $out"
stack_ok "pipelinectl audit passes on the daemon's history"

out=$(stack_ctl log) || stack_fail "pipelinectl log: $out"
for want in "${x:0:7}" "Dana Developer" "INC-7: paper broker down" "CAB-9 approved" "pipelined (automatic)"; do
	stack_expect_in "$want" "$out" "pipelinectl log"
done
out=$(stack_ctl log --stage paper)
stack_expect_in "INC-7: paper broker down" "$out" "log --stage paper"
case $out in *"CAB-9 approved"*) stack_fail "log --stage paper shows live's promotion: $out" ;; esac
js=$(stack_ctl --json log) || stack_fail "pipelinectl --json log"
jq -e . >/dev/null <<<"$js" || stack_fail "log --json is not JSON: $js"
for want in "$x" "$pm" "$lm" "INC-7: same fix for live" "dana@example.com"; do
	stack_expect_in "$want" "$js" "pipelinectl --json log"
done
stack_ok "pipelinectl log (text, --stage, --json): requester, tag, stages, notes, break-glass"

# ---- tampering, one kind at a time, each pushed by someone else ---------
dev=$STACK_DIR/dev
z=$(stack_release "feat: Z")	# a release the daemon (stopped) never saw
daemon_commit() {	# TIME-ET MSG-FILE: commit the dev tree as the daemon would, push
	local t
	t="@$(TZ=America/New_York date -d "$1" +%s) +0000"
	git -C "$dev" add -A
	GIT_COMMITTER_NAME=pipelined GIT_COMMITTER_EMAIL=pipelined@gremlin-1 \
		GIT_COMMITTER_DATE=$t GIT_AUTHOR_DATE=$t git -C "$dev" commit -q -F "$2"
	git -C "$dev" push -q origin main
	git -C "$dev" rev-parse HEAD
}
expect_flagged() {	# COMMIT ERE WHAT
	local out rc
	set +e
	out=$(stack_ctl audit 2>&1); rc=$?
	set -e
	[ $rc != 0 ] || stack_fail "$3: audit exited 0: $out"
	grep -E "${1:0:7}" <<<"$out" | grep -iE -- "$2" >/dev/null ||
		stack_fail "$3: no audit line naming ${1:0:7} matching /$2/: $out"
	echo "  audit: $(grep -E "${1:0:7}" <<<"$out" | head -n1)"
	stack_ok "$3 flagged"
}
set_tags() { "$PIPELINECTL" edit "$dev/values/values-$1.yaml" 'services.*.image.tag' --tag "$2" -i >/dev/null; }

c=$(stack_direct_push values/values-paper.yaml "s/tag: \"$x\"/tag: \"$z\"/" "hotfix paper by hand")
expect_flagged "$c" 'direct|bypass|not a promotion|without|well-formed' "direct push to values-paper.yaml"

_stack_dev_sync; set_tags beta "$z"
"$FMT" format --stage beta --source integration-test --tag "$z" --requested-by "pipelined (automatic)" \
	--market "closed (after close)" --inttest "passed 312/312" >"$STACK_DIR/msg"
git -C "$dev" add -A
_stack_dated git -C "$dev" commit -q -F "$STACK_DIR/msg"
git -C "$dev" push -q origin main
c=$(git -C "$dev" rev-parse HEAD)
expect_flagged "$c" 'forg|committer|identity|not .*pipelined|not made by' "promotion commit forged by a person"

zm=$(stack_release "feat: ZM"); _stack_dev_sync; set_tags paper "$zm"
"$FMT" format --stage paper --source beta --tag "$zm" --requested-by "Mallory <m@example.com>" \
	--request "$(git -C "$dev" rev-parse HEAD)" --market "open, closes 16:00 EST" \
	--inttest "passed 312/312" >"$STACK_DIR/msg"
c=$(daemon_commit "2026-11-30 15:00:00" "$STACK_DIR/msg")
expect_flagged "$c" 'market|window|break-glass' "paper promotion inside the window without break-glass"

_stack_dev_sync; z2=$(stack_release "feat: Z2"); _stack_dev_sync; set_tags live "$z2"
printf 'ok\n' >"$STACK_DIR/notes"
"$FMT" format --stage live --source paper --tag "$z2" --requested-by "Mallory <m@example.com>" \
	--request "$z2" --notes-file "$STACK_DIR/notes" --market "closed (after close)" \
	--inttest "passed 312/312" >"$STACK_DIR/msg"
c=$(daemon_commit "2026-11-30 18:30:00" "$STACK_DIR/msg")
expect_flagged "$c" 'skip|never|not-in-source|not in' "live promotion of a tag never in paper"

_stack_dev_sync; set_tags paper "$x"
"$FMT" format --stage paper --source beta --tag "$x" --requested-by "Dana Developer <dana@example.com>" \
	--request "$preq" --market "closed (after close)" --inttest "passed 312/312" >"$STACK_DIR/msg"
c=$(daemon_commit "2026-11-30 18:40:00" "$STACK_DIR/msg")
expect_flagged "$c" 'reuse' "a promotion reusing request $preq"

_stack_dev_sync; set_tags beta "$z2"
printf 'promote beta: %s from integration-test\n\nStage: beta\nImage-Tag: %s\n' "${z2:0:7}" "$z2" >"$STACK_DIR/msg"
c=$(daemon_commit "2026-11-30 18:50:00" "$STACK_DIR/msg")
expect_flagged "$c" 'missing|malformed|trailer' "promotion commit missing trailers"
echo "accept_audit: all checks passed"
