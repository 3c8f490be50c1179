#!/usr/bin/env bash
# ctest: quick
# The chart of issue 10: 14 images share one tag scalar (global.image.tag).
# The daemon used to refuse it every cycle ("the tag paths match 1 tag(s)
# but 14 images are configured") and log a recovery that did not happen;
# with the explicit mapping (tagPath = global.image.tag serves every image)
# the automatic beta promotion changes exactly that one line, nothing is
# blocked and no error or "recovered" line is logged.  Whole stack: sshd +
# git-shell, docker-registry, the daemon.
set -euo pipefail
. "$SRCDIR/tests/fixtures/stack.sh"

stack_start
_stack_dev_sync
{
	printf 'global:\n  image:\n    registry: ghcr.io/%s\n' "$STACK_NS"
	printf '    tag: "0000000000000000000000000000000000000000"\n'
	printf '    pullPolicy: IfNotPresent\nservices:\n'
	for img in "${STACK_IMAGES[@]}"; do printf '  %s:\n    replicas: 1\n' "$img"; done
} >"$STACK_DIR/dev/values/values-beta.yaml"
git -C "$STACK_DIR/dev" add -A
_stack_dated git -C "$STACK_DIR/dev" commit -q -m "values: beta's images share one tag"
git -C "$STACK_DIR/dev" push -q origin main
stack_conf_set stage.beta.tagPath global.image.tag

X=$(stack_release "feature one")
stack_daemon_start
stack_wait_for '[ "$(stack_tag beta)" = "$X" ]' 60 || stack_fail "beta was not promoted"
P=$(stack_git rev-parse main)
stack_expect_eq "$(stack_git diff --numstat "$P~1" "$P")" "$(printf '1\t1\tvalues/values-beta.yaml')" \
	"the promotion's change"
beta() { stack_status | jq -r ".stages[] | select(.name == \"beta\") | .$1"; }
stack_wait_for '[ "$(beta current_tag)" = "$X" ]' 30 || stack_fail "status: beta's tag"
st=$(stack_status)
stack_expect_eq "$(jq -r '.stages[] | select(.name == "beta") | .blocked' <<<"$st")" false "status: blocked"
! grep -E "blocked|recovered after|images are configured|^error" "$STACK_LOG" ||
	stack_fail "an error, block or recovery was logged"
stack_ok "14 images, one shared tag: beta promoted to ${X:0:7} by a one-line change"
