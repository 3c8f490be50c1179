#!/usr/bin/env bash
# The pipelined demo: the whole promotion story on this machine, with real
# servers on loopback and a pinned clock, in about a minute.
#
#   bash scripts/demo.sh          install packages, build, run the demo
#   bash scripts/demo.sh --ci     use the binaries named by $PIPELINED,
#                                 $PIPELINECTL, $PIPELINED_GIT (the test)
#
# It starts an sshd with a git-shell account serving the GitOps repository
# and a Debian docker-registry, publishes a 14-image release with passing
# integration-test evidence, runs pipelined with its clock pinned to Monday
# 2026-11-30 14:00 New York time (market open), and walks through:
# automatic beta; a paper request refused during market hours; the same
# request with break-glass; a live request with notes, queued until the
# close and merged at 16:00:00; the audit trail.  Nothing depends on the
# real time of day; every server is stopped at the end; any failed step
# makes the script exit non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
SRCDIR=$PWD
CI_MODE=0
[ "${1:-}" != --ci ] || CI_MODE=1

if [ $CI_MODE = 0 ]; then
	bash scripts/deps.sh
	BUILD=${BUILD:-build-demo}
	echo "== building a release tree in $BUILD"
	cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build "$BUILD" -j "$(nproc)" --target pipelined pipelinectl pipelined-git >/dev/null
	PIPELINED=$PWD/$BUILD/pipelined PIPELINECTL=$PWD/$BUILD/pipelinectl PIPELINED_GIT=$PWD/$BUILD/pipelined-git
fi
: "${PIPELINED:?}" "${PIPELINECTL:?}" "${PIPELINED_GIT:?}"
export SRCDIR PIPELINED PIPELINECTL PIPELINED_GIT

# shellcheck source=../tests/fixtures/stack.sh
. "$SRCDIR/tests/fixtures/stack.sh"

B=$'\e[1m' N=$'\e[0m'
[ -t 1 ] || B='' N=''
step() { printf '\n%s==== %s ====%s\n' "$B" "$*" "$N"; }
say() { printf '%s\n' "$*" | fold -s -w 100 | sed 's/^/   /'; }
show() {	# show CMD...: print the command as a user would type it, run it
	local shown="$*"
	case $1 in pctl) shown="pipelinectl ${*:2}" ;; rgit) shown="git ${*:2}" ;; esac
	printf '%s$ %s%s\n' "$B" "$shown" "$N"
	"$@" 2>&1 | sed 's/^/    /'
	return "${PIPESTATUS[0]}"
}
# The user-facing commands, with the stack's paths filled in.  A
# pipelinectl built without status/log/audit falls back to what the daemon
# serves (status) or says so (log, audit).
pctl() {
	local cmd=$1
	[ "$cmd" != --json ] || cmd=$2
	if stack_ctl_has "$cmd"; then
		stack_ctl "$@"
	elif [ "$cmd" = status ]; then
		echo "(this pipelinectl has no status command: GET /api/v1/status)"
		curl -fsS "$STACK_URL/api/v1/status" | jq '{stages: [.stages[] | {name, enabled, current_tag}], requests: [.requests[] | {branch, state, code, message}], market: .market.status}'
	else
		echo "(this pipelinectl has no $cmd command)"
		[ "$cmd" != audit ] || return "${DEMO_AUDIT_RC:-0}"
	fi
}
rgit() { git -C "$VIEW" "$@"; }
refresh_view() {
	git -C "$VIEW" fetch -q --prune origin '+refs/heads/*:refs/remotes/origin/*' '+refs/notes/*:refs/notes/*'
	git -C "$VIEW" checkout -q --detach origin/main
}
et() { TZ=America/New_York date -d "@$1" '+%a %F %T %Z'; }

step "1. Real servers on loopback"
stack_start "2026-11-30 13:58:00"
say "sshd (git-shell) serving the GitOps repository: $STACK_REPO_URL"
say "docker-registry (OCI distribution):             $STACK_REGISTRY"
say "The repository holds the application and values/values-{beta,paper,live}.yaml;"
say "every image tag in them is still forty zeros (nothing promoted yet)."
VIEW=$(stack_clone)
show git -C "$VIEW" log --oneline

step "2. CI builds a release: 14 images + integration-test evidence"
SHA=$(stack_app_commit "feat(trading-engine): smarter order routing")
say "A developer pushed $SHA to main. CI pushes every image tagged with it:"
stack_publish "$SHA"
for img in "${STACK_IMAGES[@]}"; do printf '    %s/%s:%s\n' "${STACK_REGISTRY#http://}" "$STACK_NS/$img" "${SHA:0:12}"; done
stack_evidence "$SHA" pass 312 0
say "and publishes the integration tests' inttest-results.json as the OCI artifact $STACK_NS/inttest:${SHA:0:12}:"
sed 's/^/    /' "$STACK_DIR/inttest-$SHA.json"

step "3. pipelined starts; its clock is pinned to Monday 2026-11-30 14:00 ET"
stack_daemon_start "2026-11-30 14:00:00"
say "pipelined -c pipelines.conf is running (log: $STACK_LOG); the market is open:"
show pctl window

step "4. Automatic promotion into beta"
stack_kick >/dev/null || true
stack_wait_for '[ "$(stack_tag beta)" = "$SHA" ]' 60 || stack_fail "beta was not promoted"
refresh_view
P=$(stack_promotions beta "$SHA")
say "The release is complete (14/14 images) and its tests passed, so pipelined committed the bump to"
say "values-beta.yaml by itself (beta is not market-gated). One commit, 14 one-line changes:"
show rgit show --stat --format='commit %H%nAuthor:    %an <%ae>%nCommitter: %cn <%ce>  %cd%n%n%B' --date=iso "$P"

step "5. A paper request during market hours is refused"
say "A developer asks for paper: a branch promote/paper/<name> whose one commit sets paper's tags."
if stack_ctl_has promote; then
	printf '%s$ pipelinectl promote paper %s --name weekly-refresh --notes "weekly paper refresh"%s\n' "$B" "${SHA:0:12}" "$N"
	REQ=$(stack_request paper "$SHA" --ctl --name weekly-refresh --notes "weekly paper refresh")
	sed 's/^/    /' "$STACK_DIR/promote.out"
else
	REQ=$(stack_request paper "$SHA" --name weekly-refresh --notes "weekly paper refresh")
fi
BR=promote/paper/weekly-refresh
NOTE=$(stack_wait_note "$REQ" 'market open' 30)
refresh_view
say "pipelined refused it and wrote the reason as a git note on the request commit:"
show rgit notes --ref=pipelined show "$REQ"
say "The request stays open (queued for the close); pipelinectl status shows it:"
show pctl status
case $NOTE in *"closes 16:00 EST"*) ;; *) stack_fail "note has no close time: $NOTE" ;; esac
say "How long until the close (the countdown the note's reason refers to):"
show pctl window

step "6. The same request with Break-Glass"
say "An incident: the paper broker rejects every order and the fix is in ${SHA:0:7}. The developer adds a"
say "commit to the request branch carrying a Break-Glass: trailer with the justification:"
TIP=$(stack_request_update "$BR" --notes "weekly paper refresh" \
	--break-glass "INC-4711: paper broker rejects all orders; fix is in ${SHA:0:7}")
M=$(stack_wait_merged "$TIP" 60)
refresh_view
say "Merged as a two-parent commit (the request is its second parent), branch deleted:"
show rgit log -1 --format='commit %H%nMerge:     %p%nAuthor:    %an <%ae>%nCommitter: %cn <%ce>  %cd%n%n%B' --date=iso "$M"
[ "$(stack_tag paper)" = "$SHA" ] || stack_fail "paper is not at $SHA"

step "7. A live request with notes: blocked until the close, merged at 16:00:00"
LREQ=$(stack_request live "$SHA" --name go-live --notes "CAB-118 approved by risk; paper ran clean")
LNOTE=$(stack_wait_note "$LREQ" 'market open' 30)
say "Live requires notes (it has them) and is market-gated; without break-glass it waits:"
say "$LNOTE"
say "Fast-forward the demo clock to 15:59:50 ET (restart pipelined; Git holds all its state):"
stack_daemon_stop
stack_daemon_start "2026-11-30 15:59:50"
show pctl window
LM=$(stack_wait_merged "$LREQ" 60)
refresh_view
say "At the close the queued request was merged:"
show rgit log -1 --format='commit %H%nCommitter: %cn <%ce>  %cd%n%n%B' --date=iso-local "$LM"
say "committed at $(et "$(stack_git log -1 --format=%ct "$LM")")"

step "8. The audit trail: Git history and pipelinectl"
show pctl status
show pctl log
show rgit log --first-parent --format='%h %<(8)%(trailers:key=Stage,valueonly,separator=) %(trailers:key=Image-Tag,valueonly,separator=) by %(trailers:key=Requested-By,valueonly,separator=)%n         break-glass: %(trailers:key=Break-Glass,valueonly,separator=)' \
	--grep='^Stage: ' origin/main
show pctl audit
say "Someone now edits values-live.yaml by hand, bypassing pipelined:"
BAD=$(stack_direct_push values/values-live.yaml 's/tag: "[0-9a-f]\{40\}"/tag: "0000000000000000000000000000000000000000"/' "rollback live by hand")
refresh_view
if DEMO_AUDIT_RC=1 show pctl audit; then
	stack_fail "audit passed a direct push ($BAD)"
fi
say "pipelinectl audit exits non-zero and names the commit."

step "Done"
stack_daemon_stop
say "Every server is stopped and the temporary directory removed on exit."
echo "demo: all steps passed"
