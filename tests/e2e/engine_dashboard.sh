#!/usr/bin/env bash
# The dashboard mounted on the daemon: GET / serves the page, and a promote
# from an authenticated operator (HTTP Basic against the users file, CSRF
# token) creates a request branch exactly as pipelinectl promote does, which
# the engine then merges through the same gates, with the operator as
# Requested-By.  Without a CSRF token nothing is created.
set -euo pipefail
. "$SRCDIR/tests/fixtures/engine-lib.sh"

stack_up
printf 'ops:%s:ops@example.com\n' "$(htpasswd -nbBC 10 ops s3cret | cut -d: -f2)" >"$T/users"
write_config "$T/pipelines.conf" "[http]" "	users = $T/users"
start_daemon "2026-03-09 12:00:00"	# 08:00 EDT: closed
U=http://127.0.0.1:$HTTP_PORT
X=$(app_commit "feature one")
push_images "$X"
push_evidence "$X"
in_stage() { rgit log --first-parent --format='%(trailers:key=Stage,valueonly,separator=) %(trailers:key=Image-Tag,valueonly,separator=)' main | grep -x "$1 $X" >/dev/null; }
wait_for 30 in_stage beta || fail "not in beta"

curl -fsS "$U/" | grep -i '<html' >/dev/null || fail "GET / is not the page"
body=$(printf '{"stage":"paper","tag":"%s","notes":"from the dashboard"}' "$X")
code=$(curl -s -o "$T/nocsrf" -w '%{http_code}' -u ops:s3cret -H 'Content-Type: application/json' \
	--data "$body" "$U/api/v1/promote")
[ "$code" = 403 ] || fail "promote without CSRF token: $code"
[ -z "$(rgit for-each-ref refs/heads/promote)" ] || fail "a branch was created without a token"
token=$(curl -fsS -u ops:s3cret "$U/api/v1/csrf" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
code=$(curl -s -o "$T/promote.json" -w '%{http_code}' -u ops:s3cret -H 'Content-Type: application/json' \
	-H "X-CSRF-Token: $token" --data "$body" "$U/api/v1/promote")
[ "$code" = 202 ] || { cat "$T/promote.json"; tail "$T/pipelined.log"; fail "promote: HTTP $code"; }
branch=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["branch"])' "$T/promote.json")
expect_in "promote/paper/" "$branch" "branch name"
wait_for 30 in_stage paper || { tail "$T/pipelined.log"; fail "dashboard request not merged"; }
M=$(remote_main)
[ "$(rgit log -1 --format='%(trailers:key=Requested-By,valueonly,separator=)' "$M")" = \
	"ops <ops@example.com>" ] || fail "Requested-By"
[ "$(rgit log -1 --format='%(trailers:key=Notes,valueonly,separator=)' "$M")" = "from the dashboard" ] ||
	fail "Notes"
gone() { ! rgit rev-parse -q --verify "refs/heads/$branch" >/dev/null; }
wait_for 10 gone || fail "request branch left"
ok "dashboard promote: 403 without CSRF; with it a request branch, merged by the engine with the operator as Requested-By"

# Roll back (issue 14 item 4): Y goes to paper from the dashboard, then the
# Roll back button's request (a rollback field) takes paper back to X, built
# the same way, merged with Rollback: and Rolled-Back-From:.
Y=$(app_commit "feature two")
push_images "$Y"
push_evidence "$Y"
paper_now() {
	rgit log --first-parent --format='%(trailers:key=Stage,valueonly,separator=) %(trailers:key=Image-Tag,valueonly,separator=)' main |
		awk '$1 == "paper" { print $2; exit }'
}
post() {	# BODY: 202 and the reply in $T/post.json, or fail
	code=$(curl -s -o "$T/post.json" -w '%{http_code}' -u ops:s3cret -H 'Content-Type: application/json' \
		-H "X-CSRF-Token: $token" --data "$1" "$U/api/v1/promote")
	[ "$code" = 202 ] || { cat "$T/post.json"; tail "$T/pipelined.log"; fail "POST $1: HTTP $code"; }
}
y_in_beta() { rgit log --first-parent --format='%(trailers:key=Stage,valueonly,separator=) %(trailers:key=Image-Tag,valueonly,separator=)' main | grep -x "beta $Y" >/dev/null; }
wait_for 30 y_in_beta || fail "Y not in beta"
post "$(printf '{"stage":"paper","tag":"%s","notes":"Y"}' "$Y")"
paper_is() { [ "$(paper_now)" = "$1" ]; }
wait_for 30 paper_is "$Y" || fail "Y not merged into paper"
code=$(curl -s -o "$T/post.json" -w '%{http_code}' -u ops:s3cret -H 'Content-Type: application/json' \
	-H "X-CSRF-Token: $token" --data "$(printf '{"stage":"paper","tag":"%s","rollback":" "}' "$X")" \
	"$U/api/v1/promote")
[ "$code" = 400 ] || fail "rollback without a reason: HTTP $code"
post "$(printf '{"stage":"paper","tag":"%s","rollback":"Y breaks fills"}' "$X")"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["rollback"] is True, d' "$T/post.json" ||
	fail "the reply does not say rollback"
wait_for 30 paper_is "$X" || fail "dashboard rollback not merged"
M=$(remote_main)
[ "$(rgit log -1 --format='%(trailers:key=Rollback,valueonly,separator=)' "$M")" = "Y breaks fills" ] ||
	fail "Rollback: on the merge"
[ "$(rgit log -1 --format='%(trailers:key=Rolled-Back-From,valueonly,separator=)' "$M")" = "$Y" ] ||
	fail "Rolled-Back-From: on the merge"
[ "$(rgit log -1 --format='%(trailers:key=Requested-By,valueonly,separator=)' "$M")" = \
	"ops <ops@example.com>" ] || fail "Requested-By of the rollback"
ok "dashboard Roll back: a reason is required; the request merges with Rollback: and Rolled-Back-From:"
