#!/usr/bin/env bash
# ctest: cost 110
# ctest: timing
# Promotion requests end to end (SPEC 5.2-5.4, 6): a paper request during
# market hours without Break-Glass is refused market-open (a git note with
# the close time on the request commit, the branch stays, status shows it
# queued); the same request amended with Break-Glass is merged as the
# two-parent commit with the justification in its trailers and the branch
# is deleted; the used commit on another branch is reused-request; a
# request touching another file is wrong-files.  Then a restart with an
# empty state directory (nothing promoted twice), a request queued at
# 15:59:45 ET merged at the 16:00 close, and live without notes refused.
set -euo pipefail
. "$SRCDIR/tests/fixtures/engine-lib.sh"

stack_up
start_daemon "2026-03-09 15:00:00"	# Monday 11:00 EDT: market open
X=$(app_commit "feature one")
push_images "$X"
push_evidence "$X"
beta_has() { [ "$(rgit log -1 --format='%(trailers:key=Image-Tag,valueonly)' main | sed '/^$/d')" = "$1" ]; }
wait_for 30 beta_has "$X" || fail "release not promoted into beta"
ok "release promoted into beta during market hours (beta is not gated)"

# request BRANCH STAGE TAG MESSAGE [extra file]: push a request commit
request() {
	git -C "$W" fetch -q origin
	git -C "$W" checkout -q -B req origin/main
	sed -i "s/tag: \"[0-9a-f]*\"/tag: \"$3\"/" "$W/values/values-$2.yaml"
	[ -z "${5:-}" ] || echo "extra" >>"$W/$5"
	git -C "$W" commit -q -a -m "$4"
	git -C "$W" push -q -f origin "req:refs/heads/$1"
	git -C "$W" rev-parse HEAD
}
note_of() { rgit notes --ref=pipelined show "$1" 2>/dev/null; }
has_note() { note_of "$1" | grep -- "$2" >/dev/null; }

R1=$(request promote/paper/first paper "$X" "$(printf 'promote %s to paper\n\nNotes: first paper run' "${X:0:7}")")
wait_for 20 has_note "$R1" "market open, closes 16:00 EDT" || { tail -20 "$T/pipelined.log"; fail "no refusal note"; }
note=$(note_of "$R1")
expect_in "blocked: market open, closes 16:00 EDT" "$note" "refusal note"
expect_in "Break-Glass" "$note" "refusal note says how to override"
rgit rev-parse -q --verify refs/heads/promote/paper/first >/dev/null || fail "branch deleted"
status_json | python3 -c '
import json, sys
s = json.load(sys.stdin)
r = [r for r in s["requests"] if r["branch"] == "promote/paper/first"][0]
assert r["state"] == "queued" and r["code"] == "market-open", r
assert r["queued_until"].startswith("2026-03-09T20:00:00"), r' || fail "status of the refused request"
grep -c "request 'promote/paper/first' .* refused: blocked: market open" "$T/pipelined.log" | grep -x 1 >/dev/null ||
	fail "refusal not logged exactly once"
wait_cycles 3
[ "$(grep -c "note on request 'promote/paper/first'" "$T/pipelined.log")" = 1 ] || fail "note pushed again"
ok "paper request in market hours: market-open, note with the close time, branch kept, queued"

# the developer amends the request with the trailer (a request is one
# commit on main, never a stack) and replaces the branch: deletion, then
# push (the server refuses force pushes, as GitHub's protected branches may)
git -C "$W" commit -q --amend -m "$(printf 'break glass\n\nNotes: first paper run\nBreak-Glass: broker fix must ship before the close')"
git -C "$W" push -q origin :refs/heads/promote/paper/first
git -C "$W" push -q origin "req:refs/heads/promote/paper/first"
R2=$(git -C "$W" rev-parse HEAD)
gone() { ! rgit rev-parse -q --verify refs/heads/promote/paper/first; }
wait_for 30 gone || { tail -20 "$T/pipelined.log"; fail "break-glass request not merged"; }
M=$(remote_main)
[ "$(rgit log -1 --format=%P "$M" | wc -w)" = 2 ] || fail "not a two-parent merge"
[ "$(rgit log -1 --format=%P "$M" | cut -d' ' -f2)" = "$R2" ] || fail "second parent"
tr() { rgit log -1 --format="%(trailers:key=$1,valueonly)" "$M" | sed '/^$/d'; }
[ "$(tr Break-Glass)" = "broker fix must ship before the close" ] || fail "Break-Glass trailer"
[ "$(tr Request)" = "$R2" ] || fail "Request trailer"
[ "$(tr Requested-By)" = "Other Writer <writer@example.com>" ] || fail "Requested-By"
[ "$(tr Stage)" = paper ] && [ "$(tr Source-Stage)" = beta ] || fail "Stage/Source-Stage"
[ "$(tr Notes)" = "first paper run" ] || fail "Notes"
expect_in "open, closes 16:00 EDT" "$(tr Market)" "Market trailer"
[ "$(rgit log -1 --format=%an "$M")" = "Other Writer" ] || fail "author"
[ "$(rgit log -1 --format=%cn "$M")" = pipelined ] || fail "committer"
[ "$(rgit diff --name-only "$M^1" "$M")" = values/values-paper.yaml ] || fail "merge changes more"
ok "break-glass request merged: two parents, trailers, author kept, branch deleted"

git -C "$W" push -q origin "$R2:refs/heads/promote/live/again"
reused() {
	status_json | python3 -c '
import json, sys
r = [r for r in json.load(sys.stdin)["requests"] if r["branch"] == "promote/live/again"]
sys.exit(0 if r and r[0]["code"] == "reused-request" else 1)'
}
wait_for 20 reused || fail "reused break-glass not refused"
rgit rev-parse -q --verify refs/heads/promote/live/again >/dev/null || fail "reused branch deleted"
[ "$(remote_main)" = "$M" ] || fail "reused request promoted"
[ "$(note_of "$R2")" = "accepted: promoted into paper with break-glass" ] ||
	fail "the merged commit's note changed: $(note_of "$R2")"
ok "the same commit on another stage's branch: reused-request, its accepted note kept"

# on a branch of the stage it was merged into, the commit is a request
# already done (as after a crash before the clean-up): deleted, not refused
git -C "$W" push -q origin "$R2:refs/heads/promote/paper/again"
gone_again() { ! rgit rev-parse -q --verify refs/heads/promote/paper/again; }
wait_for 20 gone_again || fail "a done request's branch was not deleted"
[ "$(remote_main)" = "$M" ] || fail "a done request promoted again"
[ "$(note_of "$R2")" = "accepted: promoted into paper with break-glass" ] || fail "note changed"
ok "the merged commit on another paper branch: recognised as done, branch deleted"

R3=$(request promote/paper/sneaky paper "$X" "sneak a file in" src/app.txt)
wait_for 20 has_note "$R3" "wrong-files" || fail "wrong-files"
ok "request touching another file: wrong-files"

# restart with a lost state directory: everything re-derived from Git
stop_daemon
rm -rf "$T/state"
Y=$(app_commit "feature two")
push_images "$Y"
push_evidence "$Y"
start_daemon "2026-03-09 19:59:30"	# 15:59:30 EDT
wait_for 30 beta_has "$Y" || fail "second release not promoted into beta"
[ "$(rgit log --format='%(trailers:key=Request,valueonly)' main | grep -c "$R2")" = 1 ] ||
	fail "request merged twice after restart"
R4=$(request promote/paper/second paper "$Y" "$(printf 'paper %s\n\nNotes: after the close' "${Y:0:7}")")
wait_for 15 has_note "$R4" "market-open\|market open" || fail "second request not queued"
gone2() { ! rgit rev-parse -q --verify refs/heads/promote/paper/second; }
wait_for 40 gone2 || { tail -20 "$T/pipelined.log"; fail "queued request not merged at the close"; }
M2=$(remote_main)
ct=$(rgit log -1 --format=%ct "$M2")
close=$(date -u -d '2026-03-09 20:00:00' +%s)
[ "$ct" -ge "$close" ] && [ "$ct" -le $((close + 3)) ] || fail "merged at $ct, close is $close"
expect_in "closed" "$(rgit log -1 --format='%(trailers:key=Market,valueonly)' "$M2")" "Market"
ok "queued request merged at 16:00:00 ET (+$((ct - close))s); restart with no state promoted nothing twice"

R5=$(request promote/live/nonotes live "$Y" "live without notes")
wait_for 20 has_note "$R5" "notes-required" || fail "live without notes"
ok "live request without Notes: notes-required"
