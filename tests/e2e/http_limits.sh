#!/usr/bin/env bash
# ctest: quick
# ctest: serial
# The HTTP layer under abuse: connection floods past the per-address and
# total limits are refused without harm, and slow senders (headers or
# body) are cut off at the request deadline while the loop keeps turning.
set -euo pipefail
. "$SRCDIR/tests/fixtures/http-lib.sh"

# Held connections must outlive the probe: a long request deadline here.
start_testd --max-conns 12 --per-ip 6 --request-timeout-ms 30000
"$PY" "$SRCDIR/tests/tools/conn_probe.py" limits "$PORT" 6 12 || fail "connection limits"
kill -0 "$TESTD_PID" || fail "server died under the flood"
stop_testd

start_testd --request-timeout-ms 1500 --idle-timeout 10

"$PY" "$SRCDIR/tests/tools/conn_probe.py" slow "$PORT" headers 1500 || fail "slow headers"
ok "slow header sender cut off, loop timer kept firing, others served"
"$PY" "$SRCDIR/tests/tools/conn_probe.py" slow "$PORT" body 1500 || fail "slow body"
ok "slow body sender cut off"
grep -q 'dropping a connection that sent no whole request within 1500ms' "$T/testd.log" \
	|| fail "the cut was not logged"

[ "$(status GET /healthz)" = 200 ] || fail "not serving after the abuse"
stop_testd
ok "server still healthy, stopped cleanly"
