#!/usr/bin/env bash
# ctest: quick
# The GHCR-style Bearer flow against docker-registry in token mode with a
# local RS256 token server that refuses anonymous pulls: credentials come
# from the credentials file, tokens are cached per scope, and neither the
# password nor any token ever appears in the client's output, even with
# debug logging.
set -euo pipefail
. "$SRCDIR/tests/fixtures/lib.sh"
T=$TOOLDIR/registry_tool
W=$(mktemp -d)
trap 'bash "$SRCDIR/tests/fixtures/registry.sh" stop "$W/reg"; rm -rf "$W"' EXIT
mkdir "$W/reg"
bash "$SRCDIR/tests/fixtures/registry.sh" start "$W/reg" token tls
B=$(cat "$W/reg/base") CA=$W/reg/ca.pem NS=celesrenata/stonks-oracle
CREDS=$W/reg/creds REALM=http://127.0.0.1:$(cat "$W/reg/token.port")/token
PASS=$(cut -d: -f2 "$CREDS")
IMAGES=(scheduler symbol-registry ingestion parser extractor aggregation recommendation
        risk broker-adapter lake-publisher query-api trading-engine dashboard superset)
SHA=5e8b1d4a7c0f3e6b9d2a5c8f1e4b7d0a3c6f9e2b
push() { bash "$SRCDIR/tests/fixtures/push-image.sh" -k "$CA" -u "$(cat "$CREDS")" -t "$REALM" "$B" "$NS/$1" "$SHA"; }

for img in "${IMAGES[@]}"; do
  [ "$img" = dashboard ] || push "$img" >> "$W/pushed"
done
ok "pushed 13 of 14 images with a push token"
: > "$W/all-output"

# anonymous pull is denied: that is an error for every image, never "missing"
run "$T" --ca "$CA" --debug release "$B" "$NS" "$SHA" "${IMAGES[@]}"
printf '%s\n' "$OUT" >> "$W/all-output"
expect_rc 2 "anonymous"
expect_out '^present 0 missing 0 unknown 14$' "anonymous"
expect_out "token endpoint refused anonymous access \(HTTP 401\)" "anonymous"
ok "anonymous pull denied: error (not missing), retry later"

run "$T" --ca "$CA" --creds "$CREDS" --debug --repeat 2 release "$B" "$NS" "$SHA" "${IMAGES[@]}"
printf '%s\n' "$OUT" >> "$W/all-output"
expect_rc 1 "13 of 14 with token auth"
expect_out '^missing dashboard$' "13 of 14 with token auth"
[ "$(printf '%s\n' "$OUT" | grep -c '^present 13 missing 1 unknown 0$')" = 2 ] || fail "both cycles: 13 present"
# cycle 1: 14 HEADs answered 401 + 14 tokens + 14 retries; cycle 2 uses the
# cached tokens: 14 more requests and no token request
reqs=$(printf '%s\n' "$OUT" | awk '$1=="requests"{print $2}' | tr '\n' ' ')
toks=$(printf '%s\n' "$OUT" | awk '$1=="requests"{print $4}' | tr '\n' ' ')
[ "$reqs" = "42 56 " ] || fail "requests per cycle: $reqs (want 42 then 56)"
[ "$toks" = "14 14 " ] || fail "token requests: $toks (want 14, then none more)"
ok "credentials from the file; cycle 1: 42 requests, cycle 2 reuses cached tokens: 14"

push dashboard >> "$W/pushed"
run "$T" --ca "$CA" --creds "$CREDS" --debug release "$B" "$NS" "$SHA" "${IMAGES[@]}"
printf '%s\n' "$OUT" >> "$W/all-output"
expect_rc 0 "14 of 14 with token auth"
expect_out '^present 14 missing 0 unknown 0$' "14 of 14 with token auth"
got=$(printf '%s\n' "$OUT" | awk '$1=="digest"{print $3}' | sort)
[ "$got" = "$(awk '{print $3}' "$W/pushed" | sort)" ] || fail "digests differ from the pushed ones"
ok "14 of 14 with token auth: complete, digests match"

# a wrong password is an authentication error, not "missing"
printf 'tester:wrong-%s\n' "$PASS" > "$W/badcreds"
run "$T" --ca "$CA" --creds "$W/badcreds" --debug release "$B" "$NS" "$SHA" scheduler
printf '%s\n' "$OUT" >> "$W/all-output"
expect_rc 2 "wrong password"
expect_out "token endpoint refused the configured credentials" "wrong password"
ok "wrong password: authentication error"

# a malformed credentials file: refused at start, content not echoed
printf 'no-colon-%s\n' "$PASS" > "$W/garbled"
run "$T" --ca "$CA" --creds "$W/garbled" release "$B" "$NS" "$SHA" scheduler
printf '%s\n' "$OUT" >> "$W/all-output"
expect_rc 2 "garbled credentials"
expect_out "must hold one line 'username:token'" "garbled credentials"
ok "malformed credentials file: clear error"

# the secrets: the password and every token the server issued
[ -s "$W/reg/tokens.log" ] || fail "the token server issued no token"
if grep -qF "$PASS" "$W/all-output"; then fail "the password appears in the output"; fi
while read -r tok; do
  # the JWT header is the same for every token: look for the signature too
  if grep -qF -e "$tok" -e "${tok##*.}" "$W/all-output"; then fail "a token appears in the output"; fi
done < "$W/reg/tokens.log"
grep -q 'debug \[registry\]' "$W/all-output" || fail "debug logging was not on"
ok "$(wc -l < "$W/reg/tokens.log") issued tokens and the password never printed ($(wc -l < "$W/all-output") lines checked)"
echo "registry_token: all checks passed"
