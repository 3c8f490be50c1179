#!/usr/bin/env bash
# ctest: quick
# Release completeness against a real docker-registry over TLS (HTTP/2 via
# ALPN): 13 of 14 images -> incomplete naming the missing one; all 14 ->
# complete with the 14 pushed digests, over ONE TCP connection.
set -euo pipefail
. "$SRCDIR/tests/fixtures/lib.sh"
T=$TOOLDIR/registry_tool
W=$(mktemp -d)
trap 'bash "$SRCDIR/tests/fixtures/registry.sh" stop "$W/reg"; rm -rf "$W"' EXIT
mkdir "$W/reg"
bash "$SRCDIR/tests/fixtures/registry.sh" start "$W/reg" none tls
B=$(cat "$W/reg/base") CA=$W/reg/ca.pem NS=celesrenata/stonks-oracle
IMAGES=(scheduler symbol-registry ingestion parser extractor aggregation recommendation
        risk broker-adapter lake-publisher query-api trading-engine dashboard superset)
SHA=3f2a9c1e5b7d4f6a8c0e2b4d6f8a0c2e4b6d8f0a
OTHER=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa

for img in "${IMAGES[@]}"; do
  [ "$img" = risk ] && continue
  bash "$SRCDIR/tests/fixtures/push-image.sh" -k "$CA" "$B" "$NS/$img" "$SHA" >> "$W/pushed"
  printf '%s ' "$img" >> "$W/order"
done
ok "pushed 13 of 14 images at $SHA"

run "$T" --ca "$CA" release "$B" "$NS" "$SHA" "${IMAGES[@]}"
expect_rc 1 "13 of 14"
expect_out '^result: incomplete$' "13 of 14"
expect_out '^missing risk$' "13 of 14 names the missing image"
[ "$(printf '%s\n' "$OUT" | grep -c '^missing ')" -eq 1 ] || fail "only risk is missing"
expect_out '^present 13 missing 1 unknown 0$' "13 of 14 counts"
ok "13 of 14: incomplete, missing risk"

# a SHA nobody pushed: every image missing, still not an error
run "$T" --ca "$CA" release "$B" "$NS" "$OTHER" "${IMAGES[@]}"
expect_rc 1 "unknown sha"
expect_out '^present 0 missing 14 unknown 0$' "unknown sha"
ok "unpushed SHA: 14 missing"

bash "$SRCDIR/tests/fixtures/push-image.sh" -k "$CA" "$B" "$NS/risk" "$SHA" >> "$W/pushed"
run "$T" --ca "$CA" release "$B" "$NS" "$SHA" "${IMAGES[@]}"
expect_rc 0 "14 of 14"
expect_out '^result: complete$' "14 of 14"
expect_out '^present 14 missing 0 unknown 0$' "14 of 14 counts"
# the digests are exactly the ones the registry gave the pushes
got=$(printf '%s\n' "$OUT" | awk '$1=="digest"{print $3}' | sort)
want=$(awk '{print $3}' "$W/pushed" | sort)
[ "$got" = "$want" ] || fail "digests differ from the pushed ones"
ok "14 of 14: complete with the 14 pushed digests"

# HTTP/2 multiplexing: all 14 HEADs on one TCP connection
[ "$(field connections)" = 1 ] || { echo "$OUT"; fail "14 HEADs used $(field connections) connections"; }
[ "$(field http-version)" = 3 ] || fail "expected HTTP/2 (CURL_HTTP_VERSION_2_0=3), got $(field http-version)"
[ "$(field requests)" = 14 ] || fail "expected 14 requests, got $(field requests)"
ok "14 HEADs, 14 requests, 1 TCP connection, HTTP/2"

# trust: without the test CA the TLS handshake fails -> error, never "missing"
run "$T" release "$B" "$NS" "$SHA" "${IMAGES[@]}"
expect_rc 2 "unknown CA"
expect_out '^present 0 missing 0 unknown 14$' "unknown CA is an error for every image"
ok "untrusted certificate: error, not missing"

# plain http to a non-loopback host is refused up front
run "$T" release "http://registry.example:5000" "$NS" "$SHA" scheduler
expect_rc 2 "http non-loopback"
expect_out "must be https" "http non-loopback"
ok "http to a non-loopback registry refused"
echo "registry_release: all checks passed"
