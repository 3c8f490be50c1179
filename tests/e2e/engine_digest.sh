#!/usr/bin/env bash
# ctest: quick
# digest = true (issue 10, item 1): the automatic beta promotion writes,
# beside each image's tag, the manifest digest the registry check verified
# (Docker-Content-Digest of the manifest HEAD), so that what Argo CD
# deploys is immutable; the other stages' files are untouched.  On the
# whole stack: sshd + git-shell, docker-registry, the daemon.
set -euo pipefail
. "$SRCDIR/tests/fixtures/stack.sh"

stack_start
# the chart gains a digest scalar beside every tag of beta
stack_direct_push values/values-beta.yaml 's/^\(      \)tag: \(.*\)$/\1tag: \2\n\1digest: ""/' \
	"values: digests beside beta's tags" >/dev/null
stack_conf_set stage.beta.digest true
X=$(stack_release "feature one")
stack_daemon_start
stack_wait_for '[ "$(stack_tag beta)" = "$X" ]' 60 || stack_fail "beta was not promoted"

file=$(stack_git show main:values/values-beta.yaml)
n=0
for img in "${STACK_IMAGES[@]}"; do
	want=$(curl -fsSI -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		"$STACK_REGISTRY/v2/$STACK_NS/$img/manifests/$X" |
		tr -d '\r' | awk 'tolower($1) == "docker-content-digest:" {print $2}')
	[ -n "$want" ] || stack_fail "the registry gave no digest for $img"
	got=$(awk -v img="  $img:" '$0 == img {on = 1; next} on && /^  [^ ]/ {on = 0}
		on && $1 == "digest:" {gsub(/"/, "", $2); print $2; exit}' <<<"$file")
	stack_expect_eq "$got" "$want" "digest of $img in values-beta.yaml"
	n=$((n + 1))
done
stack_tags_agree beta || stack_fail "beta's tags disagree"
P=$(stack_git rev-parse main)
stack_expect_eq "$(stack_git diff --name-only "$P~1" "$P")" values/values-beta.yaml "files the promotion changed"
stack_ok "beta promoted to ${X:0:7} with the $n digests the registry check verified"
[ "$(stack_status | jq -r '.stages[] | select(.name == "beta") | .blocked')" = false ] ||
	stack_fail "beta blocked after a good promotion"
