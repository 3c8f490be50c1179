#!/usr/bin/env bash
# Issue 11 item 5: a request is one commit, not a merge, whose parent is on
# main, changing only tag scalars, file modes included.  Each of these sets
# nothing but paper's tags in its files, so only its shape is wrong: a mode
# change on the values file (mode-change), a root commit (orphan-request), a
# merge of a commit that is not on main (merge-request), a stack of two
# commits (off-branch), one commit built on a feature branch's commit
# (off-branch).  Each is refused with its code in a note, the status and the
# API, and main keeps its tip and its one root.  Then the mode-change
# request, fixed as its note says, merges as a single commit on main.
. "$SRCDIR/tests/fixtures/stack.sh"
stack_start
stack_daemon_start
x=$(stack_release "feat: X")
stack_kick >/dev/null || true
stack_wait_for '[ "$(stack_tag beta)" = "$x" ]' 60

dev=$STACK_DIR/dev
f=$(stack_values_path paper)
zero=0000000000000000000000000000000000000000
tip=$(stack_git rev-parse main)
commits=$(stack_git rev-list --count main)

# The developer's clone on a new local branch off main.
start() { _stack_dev_sync; git -C "$dev" checkout -q -B "$1" "${2:-origin/main}"; }
# paper's tags set to $x in the work tree and staged
set_tags() {
	stack_faked "$PIPELINECTL" edit "$dev/$f" 'services.*.image.tag' --tag "$x" -i >/dev/null
	git -C "$dev" add -A
}
commit() { _stack_dated git -C "$dev" commit -q "$@"; }
# push HEAD as promote/paper/NAME; prints the commit
push() {
	git -C "$dev" push -q origin "HEAD:refs/heads/promote/paper/$1"
	git -C "$dev" rev-parse HEAD
}
roots() { stack_git rev-list --max-parents=0 main | wc -l; }

# refused REQ NAME CODE: the note, the status and the API say CODE; main
# did not move and has one root.
refused() {
	local req=$1 b=promote/paper/$2 code=$3 note api
	note=$(stack_wait_note "$req" "^$code: " 60)
	stack_expect_eq "$(jq -r --arg b "$b" '.requests[] | select(.branch == $b) | .code' \
		<<<"$(stack_status)")" "$code" "status of $b"
	api=$(curl -fsS "$STACK_URL/api/v1/status")
	stack_expect_eq "$(jq -r --arg b "$b" '.requests[] | select(.branch == $b) | .code' \
		<<<"$api")" "$code" "GET /api/v1/status of $b"
	stack_expect_eq "$(stack_git rev-parse main)" "$tip" "main after $b"
	stack_expect_eq "$(roots)" 1 "root commits of main after $b"
	stack_expect_eq "$(stack_tag paper)" "$zero" "paper after $b"
	stack_has_branch "$b" || stack_fail "refused request branch $b was deleted"
	echo "$note"
}

# --- mode change on the values file: tags right, mode 100644 -> 100755
start shape-mode
set_tags
chmod +x "$dev/$f"
git -C "$dev" add -A
commit -m "promote paper: ${x:0:12}"
mode=$(push mode)
stack_expect_eq "$(git -C "$dev" ls-tree HEAD "$f" | cut -c1-6)" 100755 "mode in the request"
note=$(refused "$mode" mode mode-change)
stack_expect_in "\"$f\" from 100644 to 100755" "$note" "mode-change note"
stack_expect_in "git update-index --chmod=-x \"$f\"" "$note" "mode-change note says what to do"
stack_ok "mode change on $f refused: $note"

# --- an orphan: main's files plus the tag change, but no parent
_stack_dev_sync
git -C "$dev" checkout -q --orphan shape-orphan origin/main
set_tags
commit -m "promote paper: ${x:0:12}"
orphan=$(push orphan)
stack_expect_eq "$(git -C "$dev" rev-list --count HEAD)" 1 "the orphan is a root"
note=$(refused "$orphan" orphan orphan-request)
stack_expect_in "has no parent" "$note" "orphan-request note"
stack_expect_in "git checkout -B <branch> origin/main" "$note" "orphan-request note says what to do"
stack_ok "orphan request refused, main has one root: $note"

# --- a merge as the request: the tag commit merged with a commit that is
# not on main (whose files are main's: only its history is foreign)
start side
commit --allow-empty -m "foreign: a commit that is not on main"
foreign=$(git -C "$dev" rev-parse HEAD)
git -C "$dev" checkout -q -B shape-merge origin/main
set_tags
commit -m "promote paper: ${x:0:12}"
_stack_dated git -C "$dev" merge -q --no-ff -m "promote paper: ${x:0:12} (merge)" side
merge=$(push merge)
note=$(refused "$merge" merge merge-request)
stack_expect_in "is a merge commit (2 parents)" "$note" "merge-request note"
stack_expect_in "git rebase -i origin/main" "$note" "merge-request note says what to do"
stack_git merge-base --is-ancestor "$foreign" main && stack_fail "the foreign commit reached main"
stack_ok "merge commit as a request refused: $note"

# --- a stack of two commits: the tag change, then a second commit on it
start shape-stack
set_tags
commit -m "promote paper: ${x:0:12}"
commit --allow-empty -m "promote paper: add notes" -m "Notes: weekly paper refresh"
stack=$(push stack)
note=$(refused "$stack" stack off-branch)
stack_expect_in "is not on main (a stack of commits" "$note" "off-branch note"
stack_expect_in "git rebase -i origin/main" "$note" "off-branch note says what to do"
stack_ok "two-commit stack refused: $note"

# --- one commit, built on a feature branch's commit that is not on main
start feature/risk
commit --allow-empty -m "risk: work in progress"
git -C "$dev" push -q origin feature/risk
feature=$(git -C "$dev" rev-parse HEAD)
set_tags
commit -m "promote paper: ${x:0:12}"
based=$(push based)
note=$(refused "$based" based off-branch)
stack_expect_in "the parent of request ${based:0:7}, ${feature:0:7}, is not on main" "$note" \
	"off-branch note names the parent"
stack_ok "request built on a commit not on main refused: $note"

# --- the mode-change request, fixed as its note says, merges
git -C "$dev" checkout -q shape-mode
git -C "$dev" update-index --chmod=-x "$f"
_stack_dated git -C "$dev" commit -q --amend --no-edit
fixed=$(push mode-fixed)
m=$(stack_wait_merged "$fixed" 60)
stack_expect_eq "$(stack_tag paper)" "$x" "paper after the fixed request"
stack_expect_eq "$(stack_git rev-list --parents -n1 "$m")" "$m $tip $fixed" "parents of the merge"
stack_expect_eq "$(stack_git rev-list --count main)" $((commits + 2)) \
	"commits main gained (the request and its merge)"
stack_expect_eq "$(roots)" 1 "root commits of main"
stack_expect_eq "$(stack_git ls-tree main "$f" | cut -c1-6)" 100644 "mode of $f on main"
stack_ok "the same request with its mode restored merged as $m"
echo "accept_request_shape: all checks passed"
