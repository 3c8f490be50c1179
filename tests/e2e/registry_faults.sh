#!/usr/bin/env bash
# ctest: quick
# Every fault a registry can throw at a release check ends in "error, retry
# later" with the right backoff: never complete, never "missing", no crash,
# no leak (the tool runs under ASan/LSan; a leak makes it exit non-zero).
set -euo pipefail
. "$SRCDIR/tests/fixtures/lib.sh"
T=$TOOLDIR/registry_tool
W=$(mktemp -d)
trap 'stop_pids "$W"; rm -rf "$W"' EXIT
start_fault "$W"
B=$(cat "$W/fault.base") NS=acme SHA=0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c

# release IMAGE... -> $OUT/$RC; every case must be "result: error"
release_error() {
  local why=$1; shift
  run "$T" "$@"
  expect_rc 2 "$why"
  expect_out '^result: error$' "$why"
  if printf '%s\n' "$OUT" | grep -E '^result: (complete|incomplete)$' >/dev/null; then fail "$why: false answer"; fi
}
retry_ms() { field backoff-ms; }

# healthy baseline through the same server
run "$T" release "$B" "$NS" "$SHA" ok-1 ok-2 f-missing
expect_rc 1 "baseline"
expect_out '^missing f-missing$' "baseline"
[ "$(retry_ms)" = 0 ] || fail "baseline: no backoff expected"
ok "baseline: 2 present, 1 missing, no backoff"

release_error "429 seconds" release "$B" "$NS" "$SHA" ok-1 f-429
[ "$(retry_ms)" -ge 7000 ] || fail "Retry-After: 7 gave $(retry_ms) ms"
expect_out "rate limited" "429 seconds"
ok "429 Retry-After: 7 -> next attempt in $(retry_ms) ms (>= 7000)"

release_error "429 date" release "$B" "$NS" "$SHA" ok-1 f-429-date
# An HTTP-date has whole seconds: formatted at X.999 as X+9 and read at
# X+1.001 it leaves 7.999 s.  7 s still tells "the date was honoured" apart
# from the 2.5-5 s backoff an error without Retry-After gets.
[ "$(retry_ms)" -ge 7000 ] || fail "Retry-After: <date +9s> gave $(retry_ms) ms"
ok "429 Retry-After: HTTP-date +9s -> next attempt in $(retry_ms) ms (>= 7000)"

release_error "503" release "$B" "$NS" "$SHA" ok-1 f-503
[ "$(retry_ms)" -ge 3000 ] || fail "503 Retry-After: 3 gave $(retry_ms) ms"
ok "503 Retry-After: 3 -> $(retry_ms) ms"

# 500 without Retry-After: the first backoff step, 5 s with equal jitter
release_error "500" --backoff-ms 5000 release "$B" "$NS" "$SHA" ok-1 f-500
r=$(retry_ms)
if [ "$r" -lt 2500 ] || [ "$r" -gt 5000 ]; then fail "500: backoff $r ms outside [2500, 5000]"; fi
ok "500 -> backoff $r ms (first step, jittered in [2.5 s, 5 s])"

# an error beats a 404 on another image: the answer is error, not incomplete
release_error "500 + 404" release "$B" "$NS" "$SHA" f-missing f-500 ok-1
expect_out '^missing f-missing$' "500 + 404 still records the 404"
ok "one 500 and one 404: error (the 404 alone is not the answer)"

# while backing off, the client refuses to ask again (the daemon waits)
run "$T" --repeat 2 release "$B" "$NS" "$SHA" f-502
expect_rc 3 "refused while backing off"
expect_out '^refused: backing off, retry in [0-9]+ms$' "refused while backing off"
[ "$(grep -c '^requests' <<< "$OUT")" = 1 ] || fail "the second cycle must not send anything"
ok "second cycle inside the backoff window: refused without a request"

for c in f-nodigest:"no valid Docker-Content-Digest" f-html:"no image manifest or index media type" \
         f-403:"unexpected HTTP 403" f-basic:"Basic credentials and none are configured" \
         f-bearer-loop:"authentication failed" f-tok-500:"token endpoint returned HTTP 500" \
         f-tok-garbage:"token endpoint: invalid JSON" f-tok-dup:"token endpoint: invalid JSON" \
         f-bad-challenge:"without a usable WWW-Authenticate"; do
  img=${c%%:*} msg=${c#*:}
  release_error "$img" release "$B" "$NS" "$SHA" ok-1 "$img"
  expect_out "unknown $img: .*$msg" "$img"
  [ "$(retry_ms)" -gt 0 ] || fail "$img: no backoff"
  ok "$img: error ($msg), backoff $(retry_ms) ms"
done
# the duplicate-key token body must not be echoed
if grep -q "fault-token-" <<< "$OUT"; then fail "token text echoed in an error"; fi

run "$T" release "$B" "$NS" "$SHA" f-bearer ok-1
expect_rc 0 "bearer against the fault server"
ok "Bearer challenge -> anonymous token -> 200"

printf 'tester:fault-pass\n' > "$W/creds"
run "$T" --creds "$W/creds" --debug release "$B" "$NS" "$SHA" f-basic
expect_rc 0 "basic with credentials"
if grep -q "fault-pass" <<< "$OUT"; then fail "basic password printed"; fi
printf 'tester:wrong\n' > "$W/creds"
release_error "basic, wrong password" --creds "$W/creds" release "$B" "$NS" "$SHA" f-basic
expect_out "refused the credentials" "basic, wrong password"
ok "Basic challenge: credentials from the file -> 200; a wrong password -> error"

# a server that accepts and never answers: the total timeout ends it
start=$(date +%s)
release_error "hang" --timeout-ms 1500 release "$B" "$NS" "$SHA" ok-1 f-hang
expect_out "unknown f-hang: Timeout" "hang"
[ $(( $(date +%s) - start )) -lt 10 ] || fail "hang took too long"
ok "never-answering server: timeout after 1.5 s, error, backoff $(retry_ms) ms"

# shutting down with requests in flight (a hung HEAD, a Bearer flow waiting
# on its token): everything is freed, no callback runs, no handle is left
# open (the tool exits 70 if the loop still has handles, LSan reports leaks)
run "$T" --cancel-ms 300 release "$B" "$NS" "$SHA" f-hang f-bearer ok-1 ok-2
expect_rc 4 "cancel in flight"
expect_out '^cancelled with requests in flight$' "cancel in flight"
ok "freed with requests in flight: clean (no leak, no open handle)"

# nothing listening
dead=$(free_port)
release_error "refused" release "http://127.0.0.1:$dead" "$NS" "$SHA" ok-1
expect_out "Couldn't connect" "refused"
ok "connection refused: error, backoff $(retry_ms) ms"

# the request budget: 14 images with a budget of 5 -> error, no false result
# and no backoff (the next cycle gets a new budget)
run "$T" --budget 5 release "$B" "$NS" "$SHA" i1 i2 i3 i4 i5 i6 i7 i8 i9 i10 i11 i12 i13 i14
expect_rc 2 "budget"
expect_out '^error: .*request budget exhausted, retry later.* \[budget\]$' "budget"
expect_out '^present 5 missing 0 unknown 9$' "budget: only 5 asked"
[ "$(field requests)" = 5 ] || fail "budget: $(field requests) requests sent"
[ "$(retry_ms)" = 0 ] || fail "budget exhaustion is not a registry failure"
ok "budget of 5 for 14 images: 5 requests, error 'budget exhausted, retry later'"
echo "registry_faults: all checks passed"
