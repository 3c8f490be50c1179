#!/usr/bin/env bash
# Issue 11 item 4: one verdict per commit, pushed once.  One request commit
# under two branches that get different refusals (promote/paper/a:
# wrong-files, promote/PAPER/a: malformed) gets one note listing both
# verdicts, one line per branch in byte order of the names, and the
# server sees refs/notes/pipelined updated once over many cycles (its
# pre-receive hook logs every ref update), not once per cycle.  A third
# branch at the commit changes the text, which is pushed once more.
. "$SRCDIR/tests/fixtures/stack.sh"
CYCLES=${ACCEPT_NOTE_ONCE_CYCLES:-10}
stack_start "2026-11-30 18:00:00"
stack_daemon_start
updates=$STACK_DIR/ssh/srv/gitops.log/updates
note_pushes() { awk '$3 == "refs/notes/pipelined"' "$updates" | wc -l; }
before=$(note_pushes)

# one commit, two branches, one push (so no cycle sees only one of them)
dev=$STACK_DIR/dev
_stack_dev_sync
echo "# not a tag change" >>"$dev/README.md"
git -C "$dev" add -A
_stack_dated git -C "$dev" commit -q -m "promote paper: everything"
req=$(git -C "$dev" rev-parse HEAD)
git -C "$dev" reset -q --hard origin/main
git -C "$dev" push -q origin "$req:refs/heads/promote/paper/a" "$req:refs/heads/promote/PAPER/a"
stack_kick >/dev/null || true
both() { [ "$(stack_note "$req" | grep -c '^promote/')" = 2 ]; }
stack_wait_for both 60 || stack_fail "no note with both verdicts on $req (note now: '$(stack_note "$req")')"
stack_wait_cycles "$CYCLES"
note=$(stack_note "$req")
stack_expect_eq "$(sed -n 1p <<<"$note" | cut -d: -f1-2)" "promote/PAPER/a: malformed" "first line"
stack_expect_eq "$(sed -n 2p <<<"$note" | cut -d: -f1-2)" "promote/paper/a: wrong-files" "second line"
stack_expect_in 'unknown stage "PAPER"' "$note" "the malformed verdict"
stack_expect_in 'changes "README.md"' "$note" "the wrong-files verdict"
stack_expect_eq "$(($(note_pushes) - before))" 1 "pushes of refs/notes/pipelined over $CYCLES cycles"
stack_ok "two branches, two verdicts, one note pushed once in $CYCLES cycles:"$'\n'"$note"

stack_push_ref "$req" promote/live/a
three() { [ "$(stack_note "$req" | grep -c '^promote/')" = 3 ]; }
stack_wait_for three 60 || stack_fail "the third verdict is not in the note (note now: '$(stack_note "$req")')"
stack_wait_cycles "$CYCLES"
stack_expect_eq "$(stack_note "$req" | sed -n 2p | cut -d: -f1-2)" "promote/live/a: wrong-files" "second line"
stack_expect_eq "$(($(note_pushes) - before))" 2 "pushes of refs/notes/pipelined after a third branch"
stack_ok "a third branch at the commit: the note changed once, pushed once more"
echo "accept_note_once: all checks passed"
