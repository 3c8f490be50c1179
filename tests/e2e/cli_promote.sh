#!/usr/bin/env bash
# ctest: quick
# pipelinectl promote against a real sshd + git-shell remote: the request
# branch and its one commit exactly as SPEC 5 describes (parent = tip of
# main, only the stage's 14 tag scalars changed, Notes:/Break-Glass: as the
# only trailers, author = the user), and every bad input refused with exit
# 2, a clear message and nothing pushed.
. "$SRCDIR/tests/fixtures/cli-lib.sh"
start_sshd
seed_repo p1
C=$T/p.conf
write_conf "$C" p1
TAG=1111111111111111111111111111111111111111
TAG2=2222222222222222222222222222222222222222
main0=$(remote_tip p1)

# --- the request, as a developer would make it by hand --------------------
out=$("$PIPELINECTL" -c "$C" promote paper $TAG --name rel-1 \
	--notes $'roll out the new risk model\nafter the review' --break-glass "broker outage fix")
expect_in "pushed promote/paper/rel-1" "$out" "promote output names the branch"
expect_in "the daemon validates it on its next cycle; see pipelinectl status" "$out" "what next"
expect_in "from git config user.name/user.email" "$out" "identity source"
req=$(git --git-dir="$T/srv/p1.git" rev-parse refs/heads/promote/paper/rel-1)
G="git --git-dir=$T/srv/p1.git"
[ "$(remote_tip p1)" = "$main0" ] || fail "promote moved main"
[ "$($G log -1 --format=%P "$req")" = "$main0" ] || fail "request parent is not main's tip"
[ "$($G diff --name-only "$main0" "$req")" = values/values-paper.yaml ] || fail "request touches more than values-paper.yaml"
changed=$($G diff -U0 "$main0" "$req" | grep -c '^+ .*tag: "'"$TAG"'"$' || true)
[ "$changed" = 14 ] || fail "expected 14 tag lines changed, got $changed"
[ "$($G diff -U0 "$main0" "$req" | grep -c '^[-+] ')" = 28 ] || fail "lines other than the tags changed"
[ "$($G log -1 --format='%an <%ae>' "$req")" = "Other Writer <writer@example.com>" ] || fail "author is not the user"
[ "$($G log -1 --format='%s' "$req")" = "promote paper: 1111111" ] || fail "subject"
trailers=$($G log -1 --format='%(trailers)' "$req")
[ "$trailers" = $'Notes: roll out the new risk model after the review\nBreak-Glass: broker outage fix' ] ||
	fail "trailers are: $trailers"
[ "$($G log -1 --format='%(trailers:key=Break-Glass,valueonly)' "$req")" = "broker outage fix" ] || fail "Break-Glass value"
[ "$(git -C "$T" interpret-trailers --parse <<<"$($G log -1 --format=%B "$req")" | wc -l)" = 2 ] ||
	fail "interpret-trailers sees other trailers"
ok "promote paper: branch promote/paper/rel-1, one commit on main's tip, 14 tag lines, trailers, author"

# --- identity from the environment; default name; notes cannot add trailers
out=$(GIT_AUTHOR_NAME="Env Dev" GIT_AUTHOR_EMAIL=env@example.com "$PIPELINECTL" -c "$C" \
	promote beta $TAG2 --notes $'x\n\nStage: live\nImage-Tag: '$TAG)
branch=$(sed -n 's/^pushed \(promote\/beta\/[^ ]*\) .*/\1/p' <<<"$out")
[[ $branch =~ ^promote/beta/2222222-[0-9]+$ ]] || fail "default name: '$branch'"
expect_in "from GIT_AUTHOR_NAME/GIT_AUTHOR_EMAIL" "$out" "identity source from env"
[ "$($G log -1 --format='%an <%ae>' "refs/heads/$branch")" = "Env Dev <env@example.com>" ] || fail "env author"
tr=$($G log -1 --format='%(trailers)' "refs/heads/$branch")
[ "$tr" = "Notes: x Stage: live Image-Tag: $TAG" ] || fail "notes leaked trailers: $tr"
ok "identity from GIT_AUTHOR_*, default name <sha7>-<time>, notes single-lined into one trailer"

# --- bad input: exit 2, one clear line, nothing pushed ---------------------
refs0=$(remote_refs p1)
refuse() { # refuse "expected message" args...
	local want=$1 rc=0 err
	shift
	err=$("$PIPELINECTL" -c "$C" promote "$@" 2>&1 >/dev/null) || rc=$?
	[ "$rc" = 2 ] || fail "promote $* exited $rc, want 2 ($err)"
	expect_in "$want" "$err" "promote $*"
	[ "$(remote_refs p1)" = "$refs0" ] || fail "promote $* pushed something"
}
refuse "'staging' is not a deploy stage" staging $TAG
refuse "'ci' is not a deploy stage" ci $TAG
refuse "is not a release id" paper v1.2.3
refuse "is not a release id" paper 1111111
refuse "is not a release id" paper AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
refuse "--notes is longer than 4096 bytes" paper $TAG --notes "$(head -c 5000 /dev/zero | tr '\0' n)"
refuse "--break-glass needs a justification" paper $TAG --break-glass ""
refuse "--break-glass needs a justification" paper $TAG --break-glass $'  \t '
refuse "--notes is empty" paper $TAG --notes " "
refuse "--break-glass needs a justification" paper $TAG --break-glass $'\xc2\xa0'
refuse "--break-glass needs a justification" paper $TAG --break-glass $'\xe3\x80\x80 \xe2\x80\x8b'
refuse "--notes is empty" paper $TAG --notes $'\xc2\xa0\xe3\x80\x80'
refuse "stage 'live' requires notes" live $TAG
refuse "invalid --name '../x'" paper $TAG --name ../x
refuse "invalid --name 'a b'" paper $TAG --name "a b"
refuse "'promote/paper/rel-1' already exists on the remote" paper $TAG2 --name rel-1
refuse "already sets every tag to $Z40" paper $Z40 --name same
refuse "usage: pipelinectl promote" paper
refuse "'--notes' needs a value" paper $TAG --notes
# no identity at all
rc=0
err=$(HOME=$T/nohome XDG_CONFIG_HOME=$T/nohome "$PIPELINECTL" -c "$C" promote paper $TAG 2>&1) || rc=$?
[ "$rc" = 2 ] || fail "no identity: exit $rc"
expect_in "no git identity" "$err" "no identity"
# a disabled stage
sed '/^\[stage "paper"\]/a\	enabled = false' "$C" >"$T/disabled.conf"
rc=0
err=$("$PIPELINECTL" -c "$T/disabled.conf" promote paper $TAG 2>&1) || rc=$?
[ "$rc" = 2 ] || fail "disabled stage: exit $rc"
expect_in "stage 'paper' is disabled" "$err" "disabled stage"
# a remote that cannot be reached: operational error, exit 2
sed "s#url = .*#url = ssh://nobody@127.0.0.1:1/none.git#" "$C" >"$T/down.conf"
rc=0
err=$("$PIPELINECTL" -c "$T/down.conf" promote paper $TAG 2>&1) || rc=$?
[ "$rc" = 2 ] || fail "unreachable remote: exit $rc"
expect_in "fetch from" "$err" "unreachable remote"
[ "$(remote_refs p1)" = "$refs0" ] || fail "refusals changed the remote"
ok "bad input refused with exit 2 and nothing pushed (17 cases)"

# --- dry run ---------------------------------------------------------------
out=$("$PIPELINECTL" -c "$C" promote live $TAG --notes "go live" --name dry --dry-run)
expect_in "dry run: would push promote/live/dry" "$out" "dry run output"
expect_in "Notes: go live" "$out" "dry run shows the message"
[ "$(remote_refs p1)" = "$refs0" ] || fail "dry run pushed"
out=$("$PIPELINECTL" -c "$C" --json promote live $TAG --notes "go live" --name j1)
expect_in '"branch": "promote/live/j1"' "$out" "json branch"
expect_in '"pushed": true' "$out" "json pushed"
ok "--dry-run pushes nothing; --json"
