#!/usr/bin/env bash
# ctest: quick
# Integration-test evidence (SPEC 4.6): the JSON layer of <ns>/inttest:<sha>.
# Real docker-registry: passed, failed (with details), missing, malformed,
# duplicate keys, oversized (these three: unreadable, not an error), and an
# unreadable artifact asked about again by its manifest digest (one HEAD,
# nothing fetched).  Fault server: digest mismatch, a blob larger than its
# manifest says (with and without Content-Length), a trickle, a truncated
# body (errors), a manifest that is not JSON or is an index (unreadable).
set -euo pipefail
. "$SRCDIR/tests/fixtures/lib.sh"
T=$TOOLDIR/registry_tool
W=$(mktemp -d)
trap 'bash "$SRCDIR/tests/fixtures/registry.sh" stop "$W/reg"; stop_pids "$W"; rm -rf "$W"' EXIT
mkdir "$W/reg"
bash "$SRCDIR/tests/fixtures/registry.sh" start "$W/reg" none tls
B=$(cat "$W/reg/base") CA=$W/reg/ca.pem NS=celesrenata/stonks-oracle
sha() { printf '%040x' "$1"; }
artifact() {	# N JSON-FILE: push the file as the evidence for sha N
  bash "$SRCDIR/tests/fixtures/push-image.sh" -k "$CA" -a "$2" "$B" "$NS/inttest" "$(sha "$1")" > /dev/null
}
evidence() { run "$T" --ca "$CA" evidence "$B" "$NS" "$(sha "$1")"; }

printf '{"exit_code":0,"passed":120,"failed":0,"skipped":3,"total":123,"runner":"pytest"}' > "$W/pass.json"
artifact 1 "$W/pass.json"
evidence 1
expect_rc 0 "passed"
expect_out '^result: passed$' "passed"
expect_out '^exit_code 0 passed 120 failed 0 skipped 3 total 123$' "passed counts"
expect_out "^digest sha256:$(sha256sum "$W/pass.json" | cut -d' ' -f1)$" "passed digest"
ok "passed: counts kept, blob digest verified"

cat > "$W/fail.json" <<'J'
{"exit_code": 1, "passed": 118, "failed": 2, "skipped": 3, "total": 123,
 "failures": [{"name": "test_paper_fill", "message": "x"}, "test_risk_cap"]}
J
artifact 2 "$W/fail.json"
evidence 2
expect_rc 1 "failed"
expect_out '^result: failed$' "failed"
expect_out '^failures: test_paper_fill, test_risk_cap$' "failed names"
ok "failed: exit_code 1, 2 failures named"

# exit_code 0 but failed > 0 still fails
printf '{"exit_code":0,"failed":1}' > "$W/f2.json"
artifact 3 "$W/f2.json"
evidence 3
expect_rc 1 "exit 0 with failures"
ok "exit_code 0 with failed 1: failed"

evidence 4
expect_rc 1 "missing"
expect_out '^result: missing$' "missing"
ok "no artifact: missing"

for c in 'malformed:{"exit_code": 0, "passed": :invalid JSON' \
         'noexit:{"passed": 3, "failed": 0}:no integer "exit_code"' \
         'strexit:{"exit_code": "0"}:no integer "exit_code"' \
         'negcount:{"exit_code": 0, "failed": -1}:"failed" is not a non-negative integer' \
         'dupkey:{"exit_code": 0, "exit_code": 1}:duplicate object key' \
         'array:[0]:not an object'; do
  name=${c%%:*} rest=${c#*:}
  body=${rest%:*} msg=${rest##*:}
  printf '%s' "$body" > "$W/$name.json"
  n=$((0x$(printf '%s' "$name" | sha256sum | cut -c1-6)))
  artifact "$n" "$W/$name.json"
  evidence "$n"
  expect_rc 5 "$name"
  expect_out "^unreadable: inttest-results.json: .*$msg" "$name"
  expect_out '^artifact sha256:[0-9a-f]{64}$' "$name artifact digest"
  ok "$name: unreadable ($msg)"
done

# known unreadable: one HEAD, and the same answer without a GET or a parse
known=$(printf '%s\n' "$OUT" | sed -n 's/^artifact //p')
run "$T" --ca "$CA" --known "$known" evidence "$B" "$NS" "$(sha "$n")"
expect_rc 5 "known unreadable"
expect_out "^artifact $known unchanged$" "known unreadable"
expect_out '^requests 1 ' "known unreadable: one request"
ok "unreadable artifact asked again by its digest: 1 request, not fetched or parsed"
# republished: the digest differs, so it is read again
printf '{"exit_code":0,"passed":4,"failed":0,"total":4}' > "$W/fixed.json"
artifact "$n" "$W/fixed.json"
run "$T" --ca "$CA" --known "$known" evidence "$B" "$NS" "$(sha "$n")"
expect_rc 0 "republished"
expect_out '^result: passed$' "republished"
expect_out '^requests 3 ' "republished: HEAD, manifest, blob"
ok "republished valid evidence: read again (3 requests), passed"

head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' > "$W/big.json"
artifact 9 "$W/big.json"
evidence 9
expect_rc 5 "oversized"
expect_out "^unreadable: inttest-results.json is 1048577 bytes, over the 1048576 byte cap" "oversized"
ok "1 MiB + 1 byte artifact: unreadable before fetching the blob"

# the fault server's misbehaviours
start_fault "$W"
F=$(cat "$W/fault.base") S=$(sha 1)
fev() { run "$T" "$@" evidence "$F" "$NS/ev-$case" "$S"; }
for c in "digest-mismatch:digest mismatch" "big-cl:response body larger than 100 bytes" \
         "big-chunked:response body larger than 100 bytes" "truncated:Transferred a partial file"; do
  case=${c%%:*} msg=${c#*:}
  fev
  expect_rc 2 "$case"
  expect_out "^error: .*$msg" "$case"
  ok "fault $case: error ($msg)"
done
for c in "declared-big:over the 1048576 byte cap" "bad-manifest:artifact manifest: invalid JSON" \
         "index:is an image index" "dupkey:duplicate object key" "malformed:invalid JSON"; do
  case=${c%%:*} msg=${c#*:}
  fev
  expect_rc 5 "$case"
  expect_out "^unreadable: .*$msg" "$case"
  ok "fault $case: unreadable ($msg)"
done
case=trickle
start=$(date +%s)
fev --low-speed-s 2 --timeout-ms 20000
expect_rc 2 "trickle"
expect_out "^error: .*Timeout" "trickle"
[ $(( $(date +%s) - start )) -lt 10 ] || fail "trickle not stopped by the low-speed limit"
ok "fault trickle: stopped by the low-speed limit"
case=passed; fev; expect_rc 0 "fault passed"
case=failed; fev; expect_rc 1 "fault failed"
expect_out '^failures: test_order_roundtrip, test_risk_limits$' "fault failed names"
case=missing; fev; expect_rc 1 "fault missing"
ok "fault server passed/failed/missing agree with the real registry"
# Blob storage elsewhere (GHCR redirects blob downloads): the redirect is
# followed, but neither a Bearer token nor Basic credentials go to the other
# host, and a downgrade to plain http is refused.
mkdir "$W/tls"
start_fault "$W/tls" tls
X=$(cat "$W/tls/fault.base")
printf 'tester:fault-pass\n' > "$W/creds"
run "$T" --ca "$W/tls/ca.pem" evidence "$X" "$NS/auth/ev-redirect" "$S"
expect_rc 0 "redirect with a token"
run "$T" --ca "$W/tls/ca.pem" --creds "$W/creds" evidence "$X" "$NS/basic/ev-redirect" "$S"
expect_rc 0 "redirect with Basic credentials"
seen=$(curl -fsS --cacert "$W/tls/ca.pem" "$X/_redirect_auth")
[ "$seen" = "[false, false]" ] || fail "credentials sent to the redirect target: $seen"
ok "307 to another host: followed, no Authorization sent there (token and Basic)"
run "$T" --ca "$W/tls/ca.pem" evidence "$X" "$NS/ev-redirect-http" "$S"
expect_rc 2 "redirect to http"
expect_out "^error: .*(Protocol|protocol).*(disabled|not supported)" "redirect to http"
ok "307 from https to plain http: refused, error"
echo "registry_evidence: all checks passed"
