#!/usr/bin/env bash
# ctest: quick
# The acceptance-test stack itself (tests/fixtures/stack.sh), without the
# daemon: what it publishes is what the registry client sees, the request
# branches it makes are what a developer would push, and its fake clock is
# the one pipelinectl reads.
. "$SRCDIR/tests/fixtures/stack.sh"
R=$TOOLDIR/registry_tool
stack_start
"$PIPELINED" -n -c "$STACK_CONF" | grep -x 'configuration OK' >/dev/null || stack_fail "stack_config is not a valid configuration"
stack_ok "servers up, repo seeded, configuration accepted by pipelined -n"

for s in beta paper live; do
	[ "$(stack_tag $s)" = 0000000000000000000000000000000000000000 ] || stack_fail "$s: initial tag"
	stack_tags_agree $s || stack_fail "$s: tags disagree"
	stack_git show main:values/values-$s.yaml | cmp -s - "$SRCDIR/values/values-$s.yaml" ||
		stack_fail "values-$s.yaml differs from the project's"
done
[ "$(stack_git rev-list --count main)" -ge 4 ] || stack_fail "seed history too short"
stack_ok "remote main: an application history and the project's three values files"

sha=$(stack_release "feat: first release")
[ "$(stack_git rev-parse main)" = "$sha" ] || stack_fail "release commit is not main's tip"
"$R" release "$STACK_REGISTRY" "$STACK_NS" "$sha" "${STACK_IMAGES[@]}" >"$STACK_DIR/rel.out" ||
	{ cat "$STACK_DIR/rel.out"; stack_fail "14 images not complete"; }
"$R" evidence "$STACK_REGISTRY" "$STACK_NS" "$sha" | grep -x 'result: passed' >/dev/null || stack_fail "evidence not passed"
stack_ok "stack_release: commit on main, 14 images and passing evidence at $sha"

sha2=$(stack_app_commit "feat: partial")
stack_publish "$sha2" "${STACK_IMAGES[@]:0:13}"
stack_evidence "$sha2" fail
set +e
out=$("$R" release "$STACK_REGISTRY" "$STACK_NS" "$sha2" "${STACK_IMAGES[@]}"); rc=$?
set -e
[ $rc = 1 ] && grep -qx 'missing superset' <<<"$out" || stack_fail "13 of 14: $out"
out=$("$R" evidence "$STACK_REGISTRY" "$STACK_NS" "$sha2" || true)
grep -qx 'result: failed' <<<"$out" && grep -q '^failures: test_paper_fill_roundtrip' <<<"$out" ||
	stack_fail "failing evidence: $out"
stack_ok "13 of 14 images is incomplete; failing evidence names its failures"

req=$(stack_request paper "$sha" --notes "ship it" --break-glass "hotfix for #42")
b=$(cat "$STACK_DIR/last-branch")
stack_has_branch "$b" || stack_fail "request branch $b not on the remote"
[ "$(stack_git rev-parse "refs/heads/$b")" = "$req" ] || stack_fail "branch tip is not the request"
[ "$(stack_git diff --name-only main "$req")" = values/values-paper.yaml ] || stack_fail "request touches more"
[ "$(stack_git show "$req:values/values-paper.yaml" | grep -c "tag: \"$sha\"")" = 14 ] ||
	stack_fail "request does not set all 14 paper tags"
[ "$(stack_trailer "$req" Notes)" = "ship it" ] || stack_fail "Notes trailer"
[ "$(stack_trailer "$req" Break-Glass)" = "hotfix for #42" ] || stack_fail "Break-Glass trailer"
stack_ok "stack_request: promote/paper/... with one commit, 14 tags, Notes and Break-Glass trailers"

stack_clock_set "2026-11-30 15:59:30"
out=$(stack_ctl window)
grep -qE '^Market: *open, closes 16:00 EST \(in (2[89]|30)s\)' <<<"$out" || stack_fail "fake clock not seen by pipelinectl: $out"
c=$(stack_app_commit "chore: dated")
[ "$(stack_git log -1 --format=%ct "$c")" -ge "$(TZ=America/New_York date -d '2026-11-30 15:59:30' +%s)" ] ||
	stack_fail "developer commits do not carry the fake time"
stack_ok "fake clock: pipelinectl window reads the pinned instant, commits carry it"
echo "stack_fixture: all checks passed"
