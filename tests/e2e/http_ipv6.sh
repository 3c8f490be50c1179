#!/usr/bin/env bash
# ctest: quick
# Listening on the IPv6 loopback: [::1] in `listen`, the client's address
# reported as ::1.  Exits 77 (reported by ctest as skipped, never as passed)
# on a machine without an IPv6 loopback.
set -euo pipefail
. "$SRCDIR/tests/fixtures/http-lib.sh"

if ! "$PY" -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
	echo "skip: no IPv6 loopback here"
	exit 77
fi
URL_HOST='http://[::1]' start_testd --listen '[::1]:0'
body=$(curl -sf "$URL/healthz") && [ "$body" = ok ] || fail "IPv6 /healthz: '$body'"
json=$(curl -sf "$URL/api/v1/echo")
case $json in *'"remote":"::1"'*) ;; *) fail "IPv6 remote: $json";; esac
stop_testd
ok "listening on [::1]"
