#!/usr/bin/env bash
# ctest: quick
# Tag-list mode: Link rel="next" pagination per the OCI distribution spec
# (docker-registry 2.8 ignores n/last, so the fault server paginates), with
# the page and tag caps, "tags": null, absolute and cross-origin links.
set -euo pipefail
. "$SRCDIR/tests/fixtures/lib.sh"
T=$TOOLDIR/registry_tool
W=$(mktemp -d)
trap 'stop_pids "$W"; rm -rf "$W"' EXIT
start_fault "$W"
F=$(cat "$W/fault.base")
count() { curl -fsS "$F/_count"; }

c0=$(count)
run "$T" tags "$F" acme/tags-250
expect_rc 0 "250 tags"
expect_out '^pages 3 tags 250 skipped 0 truncated 0$' "250 tags in 3 pages"
expect_out '^first v00000 last v00249$' "250 tags order"
[ $(( $(count) - c0 )) = 3 ] || fail "server saw $(( $(count) - c0 )) requests, want 3"
[ "$(field requests)" = 3 ] || fail "client counted $(field requests) requests"
ok "250 tags: 3 pages of 100 via relative Link, 3 requests"

run "$T" tags "$F" acme/tags-250/abs
expect_rc 0 "absolute link"
expect_out '^pages 3 tags 250 ' "absolute link"
ok "absolute same-origin Link followed"

run "$T" --page-cap 2 tags "$F" acme/tags-1000
expect_rc 0 "page cap"
expect_out '^pages 2 tags 200 skipped 0 truncated 1$' "page cap"
[ "$(field requests)" = 2 ] || fail "page cap: $(field requests) requests"
ok "page cap 2 of 10 pages: 200 tags, truncated, 2 requests"

run "$T" --tag-cap 150 tags "$F" acme/tags-1000
expect_rc 0 "tag cap"
expect_out '^pages 2 tags 150 skipped 0 truncated 1$' "tag cap"
ok "tag cap 150: stops after the 2nd page, truncated"

run "$T" tags "$F" acme/null
expect_rc 0 "null"
expect_out '^pages 1 tags 0 skipped 0 truncated 0$' "tags null"
ok '"tags": null is an empty list'

run "$T" tags "$F" acme/tags-250/cross
expect_rc 2 "cross origin"
expect_out "another origin; not followed" "cross origin"
ok "Link to another origin: not followed, error"

run "$T" tags "$F" acme/tags-250/badlink
expect_rc 2 "bad link"
expect_out "malformed Link header" "bad link"
ok "malformed Link: error"

run "$T" --budget 2 tags "$F" acme/tags-1000
expect_rc 2 "budget"
expect_out "budget exhausted, retry later.*\[budget\]" "budget"
ok "budget of 2 for a 10-page listing: error, retry later"
echo "registry_tags: all checks passed"
