#!/usr/bin/env bash
# requireSignature (SPEC 5.2 `signature`, SPEC 6 Signed-By): a live request
# signed with an allowed SSH key is merged and the verified principal is
# the Signed-By trailer; an unsigned one is refused `signature`; one signed
# by a key that is not in the allowed-signers file is refused too.  Paper
# first, outside market hours, so the release is in live's source stage.
set -euo pipefail
. "$SRCDIR/tests/fixtures/engine-lib.sh"

stack_up
ssh-keygen -q -t ed25519 -N '' -C dev -f "$T/dev_key"
ssh-keygen -q -t ed25519 -N '' -C stranger -f "$T/stranger_key"
printf 'writer@example.com namespaces="git" %s\n' "$(cut -d' ' -f1,2 "$T/dev_key.pub")" >"$T/allowed"
write_config "$T/pipelines.conf"
sed -i "s|\trequireNotes = true|\trequireNotes = true\n\trequireSignature = true\n\tsigners = $T/allowed|" \
	"$T/pipelines.conf"
start_daemon "2026-03-09 12:00:00"	# 08:00 EDT: closed
X=$(app_commit "feature one")
push_images "$X"
push_evidence "$X"
promos() { rgit log --first-parent --format='%(trailers:key=Stage,valueonly,separator=) %(trailers:key=Image-Tag,valueonly,separator=)' main | grep -c "^$1 $2$" || true; }
in_beta() { [ "$(promos beta "$X")" = 1 ]; }
wait_for 30 in_beta || fail "not in beta"

request() {	# BRANCH STAGE MESSAGE [KEY]
	git -C "$W" fetch -q origin
	git -C "$W" checkout -q -B req origin/main
	sed -i "s/tag: \"[0-9a-f]*\"/tag: \"$X\"/" "$W/values/values-$2.yaml"
	if [ -n "${4:-}" ]; then
		git -C "$W" -c gpg.format=ssh -c user.signingkey="$4" commit -q -S -a -m "$3"
	else
		git -C "$W" commit -q -a -m "$3"
	fi
	git -C "$W" push -q origin "req:refs/heads/$1"
	git -C "$W" rev-parse HEAD
}
has_note() { rgit notes --ref=pipelined show "$1" 2>/dev/null | grep -- "$2" >/dev/null; }

request promote/paper/p paper "$(printf 'paper\n\nNotes: paper run')" >/dev/null
in_paper() { [ "$(promos paper "$X")" = 1 ]; }
wait_for 30 in_paper || fail "paper request not merged"

U=$(request promote/live/unsigned live "$(printf 'live\n\nNotes: go live')")
wait_for 20 has_note "$U" "signature" || { tail "$T/pipelined.log"; fail "unsigned request not refused"; }
ok "unsigned live request: signature"

S2=$(request promote/live/stranger live "$(printf 'live\n\nNotes: go live, stranger')" "$T/stranger_key")
wait_for 20 has_note "$S2" "signature" || fail "request signed by an unknown key not refused"
[ "$(promos live "$X")" = 0 ] || fail "live promoted without an allowed signature"
ok "live request signed by a key outside the allowed signers: signature"

git -C "$W" push -q origin :refs/heads/promote/live/unsigned :refs/heads/promote/live/stranger
S=$(request promote/live/signed live "$(printf 'live\n\nNotes: go live, signed')" "$T/dev_key")
in_live() { [ "$(promos live "$X")" = 1 ]; }
wait_for 30 in_live || { tail "$T/pipelined.log"; fail "signed request not merged"; }
M=$(remote_main)
[ "$(rgit log -1 --format='%(trailers:key=Signed-By,valueonly)' "$M" | sed '/^$/d')" = writer@example.com ] ||
	fail "Signed-By trailer"
[ "$(rgit log -1 --format='%(trailers:key=Request,valueonly)' "$M" | sed '/^$/d')" = "$S" ] || fail "Request"
ok "signed live request merged; Signed-By names the verified principal"
