#!/usr/bin/env bash
# The git layer against a real sshd + git-shell: ls-remote, fetch, a commit
# without a work tree pushed over SSH and byte-identical in a plain clone,
# the two-parent merge of a request with its author kept, exactly-once on a
# re-run, notes, request-branch deletion (and its guard), server-side
# refusal, the gate, file:// remotes and the history helpers.
. "$SRCDIR/tests/fixtures/gitops-lib.sh"
start_sshd
new_repo r1
V=values/values-beta.yaml

# --- ls-remote and fetch -------------------------------------------------
tip0=$(remote_tip r1)
out=$(drive r1 ls-remote)
expect_in "$tip0 refs/heads/main" "$out" "ls-remote lists main"
drive r1 fetch >/dev/null
[ "$(git --git-dir="$T/mirror-r1" rev-parse refs/pipelined/remote/heads/main)" = "$tip0" ] ||
	fail "fetch did not update the tracking ref"
drive r1 read refs/pipelined/remote/heads/main $V >"$T/read.out"
git --git-dir="$T/srv/r1.git" show main:$V | cmp - "$T/read.out" || fail "read differs from git show"
drive r1 --tick-ms 50 read refs/pipelined/remote/heads/main $V | head -n -1 >"$T/qread.out"
cmp "$T/read.out" "$T/qread.out" || fail "read on the threadpool (gitops_queue) differs"
ok "ls-remote, fetch into refs/pipelined/remote/, read a file at a ref"

# --- the ref bound: more than GITOPS_MAX_REFS refs fail loudly, never a
# silent first part (the one-shot helper and the daemon's SSH session)
new_repo many
tipm0=$(remote_tip many)
for ((i = 0; i < 4100; i++)); do echo "create refs/heads/promote/paper/r$i $tipm0"; done |
	git --git-dir="$T/srv/many.git" update-ref --stdin
out=$(drive many ls-remote || true)
expect_in "error rc=-3" "$out" "one-shot ls-remote over the bound"
expect_in "advertises 4102 refs, more than 4096" "$out" "one-shot ls-remote names the count"
out=$(drive many --tick-ms 50 ls-remote || true)
expect_in "error rc=-3" "$out" "session ls-remote over the bound"
expect_in "more than 4096 refs" "$out" "session ls-remote says why"
ok "ls-remote of 4,102 refs (HEAD, main and 4,100 branches) fails with the bound named, by the helper and by the session"

# --- a commit without a work tree, pushed over SSH -----------------------
out=$(drive r1 edit $V '# bumped by test' 'promote beta: test bump')
c1=$(sed -n 's/^commit //p' <<<"$out")
expect_in "attempts 1" "$out" "first push"
[ "$(remote_tip r1)" = "$c1" ] || fail "remote main is not our commit"
git clone -q "$SSH_URL_BASE/r1.git" "$T/clone1"
git -C "$T/clone1" cat-file commit "$c1" >"$T/clone.raw"
git --git-dir="$T/mirror-r1" cat-file commit "$c1" >"$T/mirror.raw"
cmp "$T/clone.raw" "$T/mirror.raw" || fail "pushed commit differs from the one built"
git -C "$T/clone1" log --format=raw main >"$T/clone.log"
git --git-dir="$T/mirror-r1" log --format=raw refs/pipelined/remote/heads/main >"$T/mirror.log"
cmp "$T/clone.log" "$T/mirror.log" || fail "git log --format=raw differs between clone and mirror"
[ "$(git -C "$T/clone1" log -1 --format='%an <%ae>|%cn <%ce>|%P|%s' "$c1")" = \
  "pipelined <pipelined@gremlin-1>|pipelined <pipelined@gremlin-1>|$tip0|promote beta: test bump" ] ||
	fail "author/committer/parent/subject of the pushed commit"
[ "$(git -C "$T/clone1" diff --name-only "$tip0" "$c1")" = "$V" ] || fail "commit touched more than $V"
[ "$(git -C "$T/clone1" show "$c1:$V" | tail -n1)" = "# bumped by test" ] || fail "edit not applied"
[ "$(git -C "$T/clone1" fsck --strict 2>&1 | grep -c -i error || true)" = 0 ] || fail "fsck"
ok "commit built without a work tree is byte-identical in a plain clone (cat-file, log --format=raw)"

out=$(drive r1 edit $V '# bumped by test' 'promote beta: test bump')
expect_in "unchanged" "$out" "re-applied edit"
[ "$(remote_tip r1)" = "$c1" ] || fail "an edit that changes nothing pushed a commit"
ok "an edit that changes nothing pushes nothing"

# --- a request branch, merged with its author kept, then deleted ---------
git -C "$T/clone1" checkout -q -b promote/paper/req1 main
echo 'tag: "from-the-request"' >>"$T/clone1/values/values-paper.yaml"
echo 'not allowed' >"$T/clone1/evil.txt"
git -C "$T/clone1" add -A
GIT_AUTHOR_NAME='Dev Eloper' GIT_AUTHOR_EMAIL=dev@example.com \
GIT_AUTHOR_DATE='2026-01-02T03:04:05+0100' \
	git -C "$T/clone1" commit -q -m 'promote paper please' -m 'Notes: a request'
req=$(git -C "$T/clone1" rev-parse HEAD)
git -C "$T/clone1" push -q origin promote/paper/req1
drive r1 fetch >/dev/null
[ "$(git --git-dir="$T/mirror-r1" rev-parse refs/pipelined/remote/heads/promote/paper/req1)" = "$req" ] ||
	fail "request branch not fetched"
out=$(drive r1 merge "$req" values/values-paper.yaml 'tag: "set-by-daemon"' \
	'promote paper: merged request' refs/heads/promote/paper/req1)
m=$(sed -n 's/^commit //p' <<<"$out")
git -C "$T/clone1" fetch -q origin
[ "$(git -C "$T/clone1" rev-parse origin/main)" = "$m" ] || fail "merge not on main"
[ "$(git -C "$T/clone1" log -1 --format='%P' "$m")" = "$c1 $req" ] || fail "merge parents"
[ "$(git -C "$T/clone1" log -1 --format='%an <%ae> %ad' --date=raw "$m")" = \
  "Dev Eloper <dev@example.com> 1767319445 +0100" ] || fail "merge author is not the request's"
[ "$(git -C "$T/clone1" log -1 --format='%cn <%ce>' "$m")" = "pipelined <pipelined@gremlin-1>" ] ||
	fail "merge committer"
git -C "$T/clone1" cat-file -e "$m:evil.txt" 2>/dev/null && fail "merge took the request's tree"
[ "$(git -C "$T/clone1" diff --name-only "$c1" "$m")" = "values/values-paper.yaml" ] ||
	fail "merge tree is not the tip's tree plus the edit"
[ -z "$(git ls-remote "$SSH_URL_BASE/r1.git" refs/heads/promote/paper/req1)" ] ||
	fail "request branch not deleted"
git --git-dir="$T/mirror-r1" rev-parse -q --verify refs/pipelined/remote/heads/promote/paper/req1 &&
	fail "tracking ref of the deleted request branch kept"
ok "merge: parents (tip, request), request author with original time, daemon committer, request tree ignored, branch deleted"

out=$(drive r1 merge "$req" values/values-paper.yaml 'tag: "set-by-daemon"' 'promote paper: again')
expect_in "already-merged" "$out" "second merge of the same request"
[ "$(remote_tip r1)" = "$m" ] || fail "the request was merged twice"
ok "exactly-once: a request already on the branch is not merged again"

# --- the deletion guard: a request that moved is not deleted ------------
git -C "$T/clone1" checkout -q -b promote/paper/req2 origin/main
echo 'tag: "req2"' >>"$T/clone1/values/values-paper.yaml"
git -C "$T/clone1" commit -q -am 'req2 first'
r2a=$(git -C "$T/clone1" rev-parse HEAD)
git -C "$T/clone1" push -q origin promote/paper/req2
drive r1 fetch >/dev/null
echo 'tag: "req2 amended"' >>"$T/clone1/values/values-paper.yaml"
git -C "$T/clone1" commit -q -am 'req2 second'
r2b=$(git -C "$T/clone1" rev-parse HEAD)
git -C "$T/clone1" push -q origin promote/paper/req2
set +e
out=$(drive r1 merge "$r2a" values/values-paper.yaml 'tag: "r2"' 'promote paper: req2' \
	refs/heads/promote/paper/req2)
rc=$?
set -e
[ $rc -ne 0 ] || fail "deleting a moved request branch reported success"
expect_in "rc=-25" "$out" "moved request"
expect_in "moved" "$out" "moved request message"
[ "$(git ls-remote "$SSH_URL_BASE/r1.git" refs/heads/promote/paper/req2 | cut -f1)" = "$r2b" ] ||
	fail "a moved request branch was deleted"
ok "a request branch that moved after it was read is left in place (GITOPS_EMOVED)"

# --- a request merge that would change nothing is not made ---------------
git -C "$T/clone1" fetch -q origin
git -C "$T/clone1" checkout -q -b promote/paper/req3 origin/main
echo '# req3' >>"$T/clone1/values/values-paper.yaml"
git -C "$T/clone1" commit -q -am 'req3'
r3=$(git -C "$T/clone1" rev-parse HEAD)
git -C "$T/clone1" push -q origin promote/paper/req3
drive r1 fetch >/dev/null
tip3=$(remote_tip r1)
set +e
out=$(drive r1 merge "$r3" values/values-paper.yaml 'tag: "set-by-daemon"' 'promote paper: req3' \
	refs/heads/promote/paper/req3)
rc=$?
set -e
[ $rc -ne 0 ] || fail "a merge whose edit changes nothing reported success"
expect_in "rc=-27" "$out" "no-op merge"
[ "$(remote_tip r1)" = "$tip3" ] || fail "a merge that changes nothing was pushed"
[ "$(git ls-remote "$SSH_URL_BASE/r1.git" refs/heads/promote/paper/req3 | cut -f1)" = "$r3" ] ||
	fail "the request branch of a merge not made was deleted"
ok "a request merge whose edit changes nothing on the tip is not made (GITOPS_ECURRENT)"

# --- notes under refs/notes/pipelined ------------------------------------
drive r1 note "$r2b" 'blocked: market open, closes 16:00 EST' >/dev/null
drive r1 note "$c1" 'second note' >/dev/null
git -C "$T/clone1" fetch -q origin 'refs/notes/pipelined:refs/notes/pipelined'
[ "$(git -C "$T/clone1" notes --ref=pipelined show "$r2b")" = 'blocked: market open, closes 16:00 EST' ] ||
	fail "note on the request commit"
[ "$(git -C "$T/clone1" notes --ref=pipelined show "$c1")" = 'second note' ] || fail "second note"
[ "$(git -C "$T/clone1" rev-list --count refs/notes/pipelined)" = 2 ] || fail "notes history not linear"
out=$(drive r1 note-read refs/pipelined/remote/notes/pipelined "$r2b")
[ "$out" = 'blocked: market open, closes 16:00 EST' ] || fail "note-read: $out"
ok "notes added and pushed under refs/notes/pipelined, fast-forward only"

# --- server-side refusal (pre-receive hook) ------------------------------
tip=$(remote_tip r1)
touch "$T/srv/r1.refuse"
set +e
out=$(drive r1 --attempts 2 --backoff-ms 50 edit $V '# refused' 'promote beta: refused')
rc=$?
set -e
rm -f "$T/srv/r1.refuse"
[ $rc -ne 0 ] || fail "a refused push reported success"
expect_in "pre-receive hook declined" "$out" "server status"
expect_in "remote: policy: r1 is frozen" "$out" "remote sideband text"
expect_in "gave up after 2 attempts" "$out" "bounded retries"
expect_in "rc=-26" "$out" "GITOPS_EHOOK: a hook declined, not a race"
[ "$(remote_tip r1)" = "$tip" ] || fail "refused push changed the remote"
! grep -q '^commit ' <<<"$out" || fail "a declined push reported a commit as made: $out"
ok "server-side refusal is detected, reported with the hook's text, retried a bounded number of times"

# --- the gate is re-checked before each push -----------------------------
touch "$T/gate"
set +e
out=$(drive r1 --gate-refuse "$T/gate" edit $V '# gated' 'promote beta: gated')
rc=$?
set -e
[ $rc -ne 0 ] || fail "gate refusal reported success"
expect_in "rc=-23" "$out" "gate code"
expect_in "refused before pushing: gate file" "$out" "gate message"
[ "$(remote_tip r1)" = "$tip" ] || fail "gated change reached the remote"
ok "a gate refusal stops the push"

# --- pushing a new branch (what pipelinectl promote does) ----------------
drive r1 ref-set refs/heads/promote/beta/new refs/pipelined/remote/heads/main >/dev/null
drive r1 push refs/heads/promote/beta/new refs/heads/promote/beta/new "" >/dev/null
[ "$(git ls-remote "$SSH_URL_BASE/r1.git" refs/heads/promote/beta/new | cut -f1)" = "$tip" ] ||
	fail "new branch push"
set +e
out=$(drive r1 push refs/heads/promote/beta/new refs/heads/promote/beta/new "")
set -e
expect_in "rc=-22" "$out" "pushing a 'new' branch that exists"
set +e
out=$(drive r1 push +refs/heads/promote/beta/new refs/heads/main "$tip")
set -e
expect_in "error rc=-5" "$out" "forced refspec refused"
ok "push of a new ref; an existing ref or a forced refspec is refused"

git push -q "$SSH_URL_BASE/r1.git" --delete refs/heads/promote/beta/new
drive r1 fetch >/dev/null
git --git-dir="$T/mirror-r1" rev-parse -q --verify refs/pipelined/remote/heads/promote/beta/new &&
	fail "fetch did not prune a request branch deleted on the remote"
ok "fetch prunes request branches deleted on the remote"

# --- file:// and plain paths ----------------------------------------------
git clone -q --bare "$T/srv/r1.git" "$T/local.git"
for url in "file://$T/local.git" "$T/local.git"; do
	before=$(git --git-dir="$T/local.git" rev-parse main)
	out=$("$DRIVE" --url "$url" --mirror "$T/mirror-local" --deadline-ms 20000 \
		edit $V "# local $url" 'promote beta: local')
	c=$(sed -n 's/^commit //p' <<<"$out")
	[ "$(git --git-dir="$T/local.git" rev-parse main)" = "$c" ] || fail "push to $url"
	[ "$(git --git-dir="$T/local.git" rev-parse main^)" = "$before" ] || fail "parent for $url"
done
ok "file:// URLs and local paths work without SSH"

# --- history helpers ------------------------------------------------------
M=$T/mirror-r1
tipm=$(git --git-dir="$M" rev-parse refs/pipelined/remote/heads/main)
diff <(drive r1 first-parents "$tipm" "$tip0" 100) \
	<(git --git-dir="$M" rev-list --first-parent "$tipm" ^"$tip0") || fail "first-parents"
diff <(drive r1 first-parents "$tipm" - 100) <(git --git-dir="$M" rev-list --first-parent "$tipm") ||
	fail "first-parents to the root"
out=$(drive r1 first-parents "$tipm" - 1 || true)
expect_in "rc=-3" "$out" "bounded walk"
[ "$(drive r1 merge-base "$r2b" "$tipm")" = "$(git --git-dir="$M" merge-base "$r2b" "$tipm")" ] ||
	fail "merge-base"
[ "$(drive r1 is-ancestor "$tip0" "$tipm")" = yes ] || fail "is-ancestor yes"
[ "$(drive r1 is-ancestor "$r2b" "$tipm")" = no ] || fail "is-ancestor no"
ok "first-parent walk (bounded), merge-base, is-ancestor agree with git"

[ ! -s "$T/srv/r1.log/forced" ] || fail "a non-fast-forward update reached the server"
ok "no forced update ever reached the server"
