#!/usr/bin/env bash
# ctest: quick
# Plain HTTP Basic auth against docker-registry in htpasswd mode: the
# credentials file is used after the Basic challenge, anonymous access and a
# wrong password are errors (never "missing"), the password is never printed.
set -euo pipefail
. "$SRCDIR/tests/fixtures/lib.sh"
T=$TOOLDIR/registry_tool
W=$(mktemp -d)
trap 'bash "$SRCDIR/tests/fixtures/registry.sh" stop "$W/reg"; rm -rf "$W"' EXIT
mkdir "$W/reg"
bash "$SRCDIR/tests/fixtures/registry.sh" start "$W/reg" htpasswd
B=$(cat "$W/reg/base") CREDS=$W/reg/creds NS=acme
PASS=$(cut -d: -f2 "$CREDS")
SHA=c0ffee0000000000000000000000000000c0ffee
for img in api web; do
  bash "$SRCDIR/tests/fixtures/push-image.sh" -u "$(cat "$CREDS")" "$B" "$NS/$img" "$SHA" >> "$W/pushed"
done
: > "$W/all-output"

run "$T" --debug release "$B" "$NS" "$SHA" api web worker
printf '%s\n' "$OUT" >> "$W/all-output"
expect_rc 2 "anonymous"
expect_out '^present 0 missing 0 unknown 3$' "anonymous"
expect_out "wants HTTP Basic credentials and none are configured" "anonymous"
ok "Basic challenge without credentials: error for every image"

run "$T" --debug --creds "$CREDS" --repeat 2 release "$B" "$NS" "$SHA" api web worker
printf '%s\n' "$OUT" >> "$W/all-output"
expect_rc 1 "with credentials"
[ "$(grep -c '^missing worker$' <<< "$OUT")" = 2 ] || fail "worker missing in both cycles"
got=$(awk '$1=="digest"{print $3}' <<< "$OUT" | sort -u)
[ "$got" = "$(awk '{print $3}' "$W/pushed" | sort)" ] || fail "digests differ from the pushed ones"
reqs=$(awk '$1=="requests"{print $2}' <<< "$OUT" | tr '\n' ' ')
# cycle 1: 3 challenged + 3 retried; cycle 2 sends Basic straight away
[ "$reqs" = "6 9 " ] || fail "requests per cycle: $reqs (want 6, then 3 more)"
ok "credentials file used after the Basic challenge; the next cycle sends them at once"

printf 'tester:x%s\n' "$PASS" > "$W/bad"
run "$T" --debug --creds "$W/bad" release "$B" "$NS" "$SHA" api
printf '%s\n' "$OUT" >> "$W/all-output"
expect_rc 2 "wrong password"
expect_out "refused the credentials" "wrong password"
ok "wrong password: authentication error"

if grep -qF "$PASS" "$W/all-output"; then fail "the password appears in the output"; fi
# base64("tester:...") starts with dGVzdGVyO: a Basic header in any form
if grep -qiE 'authorization:|dGVzdGVyO' "$W/all-output"; then fail "an Authorization header appears in the output"; fi
ok "password never printed ($(wc -l < "$W/all-output") lines checked, debug on)"
echo "registry_basic: all checks passed"
