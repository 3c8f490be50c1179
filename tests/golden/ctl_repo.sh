#!/usr/bin/env bash
# ctest: quick
# Which repository pipelinectl log and audit read: the configured one, never
# the checkout the command happens to run in.  A configured repository
# (served as a local path, so no sshd is needed) holds a promotion and then
# a direct push to values-paper.yaml; an unrelated checkout holds a clean
# history of its own.  Run inside that checkout, audit must still flag the
# configured repository's direct push and log must show its promotion, each
# with a first line naming the url and branch read; --repo still reads the
# clone it names; the daemon's mirror is read when it holds the remote's
# tip and passed over (fetch into the user's cache) when it is stale.
set -euo pipefail

: "${PIPELINECTL:?}" "${PIPELINED_GIT:?}" "${TOOLDIR:?}" "${SRCDIR:?}"
PIPELINECTL=$(realpath "$PIPELINECTL")
export PIPELINED_GIT=$(realpath "$PIPELINED_GIT")
unset GITHUB_HEAD_REF XDG_CACHE_HOME
T=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
export HOME=$T/home
mkdir -p "$HOME"
git config --global user.name 'Other Writer'
git config --global user.email writer@example.com
git config --global init.defaultBranch main
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
ok() { echo "ok - $*"; }
expect_in() { case $2 in *"$1"*) ;; *) fail "$3: expected '$1' in: $2" ;; esac; }
expect_not() { case $2 in *"$1"*) fail "$3: unexpected '$1' in: $2" ;; esac; }

TAG=1111111111111111111111111111111111111111
SAT=2026-03-07T15:00:00Z

# the configured repository: a beta promotion by the daemon, then a direct
# push to values-paper.yaml
git init -q --bare "$T/srv.git"
W=$T/w
git init -q "$W"
cp -r "$SRCDIR/values" "$W/values"
git -C "$W" add -A
git -C "$W" commit -q -m "initial layout"
"$PIPELINECTL" edit "$W/values/values-beta.yaml" 'services.*.image.tag' --tag $TAG -i
git -C "$W" add -A
"$TOOLDIR/trailer_fmt" format --stage beta --source integration-test --tag $TAG \
	--inttest "passed 3/3" --market "closed (weekend)" >"$T/msg"
GIT_COMMITTER_NAME=pipelined GIT_COMMITTER_EMAIL=pipelined@gremlin-1 GIT_COMMITTER_DATE=$SAT \
	GIT_AUTHOR_DATE=$SAT git -C "$W" commit -q -F "$T/msg"
PROMO=$(git -C "$W" rev-parse HEAD)
sed -i "0,/tag: \"0\{40\}\"/s//tag: \"$TAG\"/" "$W/values/values-paper.yaml"
git -C "$W" commit -q -am "bump paper by hand"
DIRECT=$(git -C "$W" rev-parse HEAD)
git -C "$W" push -q "$T/srv.git" HEAD:refs/heads/main

# an unrelated checkout: its own clean history with the same layout
U=$T/unrelated
git init -q "$U"
cp -r "$SRCDIR/values" "$U/values"
git -C "$U" add -A
git -C "$U" commit -q -m "someone else's chart"

C=$T/p.conf
cat >"$C" <<CONF
[repository]
	url = $T/srv.git
	branch = main
[registry]
	namespace = acme/app
[stage "beta"]
	values = values-beta.yaml
	tagPath = services.*.image.tag
[stage "paper"]
	values = values-paper.yaml
	tagPath = services.*.image.tag
[stage "live"]
	values = values-live.yaml
	tagPath = services.*.image.tag
[daemon]
	identity = pipelined <pipelined@gremlin-1>
	stateDir = $T/state
CONF
CACHE=$HOME/.cache/pipelined

# --- inside the unrelated checkout: the configured repository is read -----
rc=0
out=$(cd "$U" && "$PIPELINECTL" -c "$C" audit 2>&1) || rc=$?
[ "$rc" = 1 ] || fail "audit inside an unrelated checkout exited $rc (want 1: the direct push): $out"
first=$(head -1 <<<"$out")
expect_in "repository: $T/srv.git branch main at ${DIRECT:0:12} (fetched into $CACHE/" "$first" \
	"audit's first line"
expect_in "${DIRECT:0:12} direct-change: " "$out" "audit flags the configured repository's direct push"
ok "audit inside an unrelated checkout reads the configured repository and flags its direct push"

out=$(cd "$U" && "$PIPELINECTL" -c "$C" log 2>&1)
expect_in "repository: $T/srv.git branch main at ${DIRECT:0:12} (fetched into $CACHE/" \
	"$(head -1 <<<"$out")" "log's first line"
expect_in "beta  <- integration-test" "$out" "log shows the configured repository's promotion"
expect_in "commit ${PROMO:0:12}" "$out" "log names the promotion commit"
ok "log inside an unrelated checkout reads the configured repository"

rc=0
out=$(cd "$U" && "$PIPELINECTL" -c "$C" audit HEAD~1..HEAD 2>&1) || rc=$?
[ "$rc" = 1 ] || fail "audit HEAD~1..HEAD of the configured repository exited $rc: $out"
expect_in "${DIRECT:0:12} direct-change: " "$out" "HEAD~1..HEAD means the configured branch's tip"
rc=0
out=$(cd "$U" && "$PIPELINECTL" -c "$C" audit HEAD~2..HEAD~1 2>&1) || rc=$?
[ "$rc" = 0 ] || fail "audit HEAD~2..HEAD~1 exited $rc: $out"
expect_in "audit: clean: 1 commit checked in HEAD~2..HEAD~1, 1 promotion" "$out" "a range below the tip"
ok "HEAD in a range means the configured branch's tip, not the checkout's"

js=$(cd "$U" && "$PIPELINECTL" -c "$C" --json audit) || true
python3 - "$js" "$T/srv.git" "$DIRECT" <<'PY' || fail "audit --json names the repository: $js"
import json, sys
d = json.loads(sys.argv[1])
r = d["repository"]
assert r["repository"] == sys.argv[2] and r["branch"] == "main", r
assert r["commit"] == sys.argv[3] and r["source"] == "cache", r
assert not d["clean"], d
PY
ok "audit --json says which repository, branch and commit it judged"

# --- --repo still reads the clone it names --------------------------------
rc=0
out=$(cd "$T" && "$PIPELINECTL" -c "$C" audit --repo "$U" 2>&1) || rc=$?
[ "$rc" = 0 ] || fail "audit --repo UNRELATED exited $rc: $out"
expect_in "repository: $U HEAD at $(git -C "$U" rev-parse --short=12 HEAD) (--repo)" "$out" "--repo first line"
expect_in "audit: clean: 0 commits checked in HEAD" "$out" "--repo judges the named clone"
out=$(cd "$U" && "$PIPELINECTL" -c "$C" audit --repo . 2>&1) || true
expect_in "(--repo)" "$(head -1 <<<"$out")" "--repo . in the checkout"
out=$("$PIPELINECTL" log --repo "$W")
expect_in "repository: $W HEAD at ${DIRECT:0:12} (--repo)" "$out" "log --repo without configuration"
expect_in "beta  <- integration-test" "$out" "log --repo"
ok "--repo reads the named clone (and '.' only when asked)"

# --- the daemon's mirror: read when current, passed over when stale ------
git clone -q --bare "$T/srv.git" "$T/state/mirror"
git -C "$T/state/mirror" update-ref refs/pipelined/remote/heads/main "$DIRECT"
out=$(cd "$U" && "$PIPELINECTL" -c "$C" log 2>&1)
expect_in "repository: $T/srv.git branch main at ${DIRECT:0:12} (the daemon's mirror $T/state/mirror)" \
	"$(head -1 <<<"$out")" "log reads the current daemon mirror"
git -C "$T/state/mirror" update-ref refs/pipelined/remote/heads/main "$PROMO"
rc=0
out=$(cd "$U" && "$PIPELINECTL" -c "$C" audit 2>&1) || rc=$?
[ "$rc" = 1 ] || fail "audit with a stale daemon mirror exited $rc: $out"
expect_in "at ${DIRECT:0:12} (fetched into $CACHE/" "$(head -1 <<<"$out")" \
	"a stale daemon mirror is passed over"
ok "the daemon's mirror is read only while it holds the remote's tip"

sed -i "s#url = $T/srv.git#url = $T/gone.git#" "$C"
rc=0
out=$(cd "$U" && "$PIPELINECTL" -c "$C" log 2>&1) || rc=$?
[ "$rc" = 0 ] || fail "log with an unreachable remote and a daemon mirror exited $rc: $out"
expect_in "warning: cannot reach '$T/gone.git'" "$out" "unreachable remote warning"
expect_in "(the daemon's mirror $T/state/mirror, as of its last fetch: the remote cannot be reached)" \
	"$out" "unreachable remote: first line says the mirror may be stale"
rm -rf "$T/state"
rc=0
out=$(cd "$U" && "$PIPELINECTL" -c "$C" audit 2>&1) || rc=$?
[ "$rc" = 2 ] || fail "audit with an unreachable remote and no mirror exited $rc: $out"
expect_in "fetch from '$T/gone.git' failed" "$out" "unreachable remote error"
expect_not "audit: clean" "$out" "an unreachable remote is never clean"
ok "an unreachable remote: the daemon's mirror with a warning, or exit 2; never the checkout"

if [ "$fails" -ne 0 ]; then
	echo "$fails check(s) failed" >&2
	exit 1
fi
echo "all repository-selection checks passed"
