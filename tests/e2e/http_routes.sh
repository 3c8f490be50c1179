#!/usr/bin/env bash
# ctest: quick
# The route table as a client sees it: handlers, query and header lookup,
# 404, 405 with Allow, HEAD on GET routes, prefix routes, per-route body
# limits and a graceful stop (IPv6 loopback: http_ipv6.sh).
set -euo pipefail
. "$SRCDIR/tests/fixtures/http-lib.sh"

start_testd
body=$(curl -sf "$URL/healthz") && [ "$body" = ok ] || fail "/healthz: '$body'"
ok "GET /healthz 200"

json=$(curl -sf -A 'probe/1.0' "$URL/api/v1/echo?q=a%20b%26c&other=1")
"$PY" - "$json" <<'PYEOF' || fail "echo JSON: $json"
import json, sys
j = json.loads(sys.argv[1])
assert j == {"method": "GET", "path": "/api/v1/echo", "q": "a b&c", "user_agent": "probe/1.0",
             "remote": "127.0.0.1", "body_len": 0}, j
PYEOF
ctype=$(curl -s -o /dev/null -w '%{content_type}' "$URL/api/v1/echo")
[ "$ctype" = application/json ] || fail "echo content type '$ctype'"
ok "JSON route: query decoded, header looked up, content type set"

[ "$(status GET /nope)" = 404 ] || fail "unknown path not 404"
[ "$(status GET /healthz/extra)" = 404 ] || fail "exact route matched a longer path"
ok "unknown paths 404"

curl -s -D "$T/h" -o /dev/null -X DELETE "$URL/healthz"
grep -q '^HTTP/1.1 405' "$T/h" || fail "DELETE /healthz not 405"
grep -qi '^Allow: GET, HEAD' "$T/h" || fail "405 without 'Allow: GET, HEAD': $(cat "$T/h")"
curl -s -D "$T/h" -o /dev/null "$URL/hooks/github"
grep -q '^HTTP/1.1 405' "$T/h" && grep -qi '^Allow: POST' "$T/h" || fail "GET on the hook not 405 Allow: POST"
curl -s -D "$T/h" -o /dev/null -X PUT "$URL/api/v1/echo"
grep -qi '^Allow: GET, HEAD, POST' "$T/h" || fail "Allow does not list every method: $(cat "$T/h")"
ok "wrong method 405 with Allow"

curl -s -I "$URL/healthz" > "$T/h"
grep -q '^HTTP/1.1 200' "$T/h" && grep -qi '^Content-Length: 3' "$T/h" || fail "HEAD headers: $(cat "$T/h")"
n=$(curl -s -X HEAD --max-time 2 "$URL/healthz" 2>/dev/null | wc -c | tr -d ' ' || true)
[ "$n" = 0 ] || fail "HEAD sent a body ($n bytes)"
ok "HEAD on a GET route: headers, no body"

body=$(curl -sf "$URL/static/css/site.css") && [ "$body" = "static /static/css/site.css" ] \
	|| fail "prefix route: '$body'"
curl -s -D "$T/h" -o /dev/null "$URL/static/x"
grep -qi '^Cache-Control: max-age=60' "$T/h" || fail "extra response header missing"
ok "prefix route with an extra response header"

head -c 65536 /dev/zero | tr '\0' x > "$T/64k"
json=$(curl -sf --data-binary @"$T/64k" "$URL/api/v1/echo") || fail "64 KiB body refused"
case $json in *'"body_len":65536'*) ;; *) fail "64 KiB body: $json";; esac
printf y >> "$T/64k"
code=$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$T/64k" "$URL/api/v1/echo")
[ "$code" = 413 ] || fail "64 KiB + 1 body got $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Length: 5' --data-binary hello -X GET "$URL/healthz")
[ "$code" = 413 ] || fail "body on a no-body route got $code"
ok "per-route body limit: 64 KiB accepted, one byte more 413"

code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 70000 /dev/zero | tr '\0' a)" "$URL/healthz")
[ "$code" = 431 ] || fail "70 KB header got $code"
code=$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$T/64k" "$URL/nope")
[ "$code" = 404 ] || fail "body to an unknown path got $code"
for p in /static/../healthz /static/./x /static/x/.. /./healthz; do
	code=$(curl -s -o /dev/null -w '%{http_code}' --path-as-is "$URL$p")
	[ "$code" = 400 ] || fail "dot segment path $p got $code"
done
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/static/%2e%2e/healthz")
[ "$code" = 400 ] || fail "percent-encoded dot segment got $code"
body=$(curl -sf --path-as-is "$URL/static/..x/.y") && [ "$body" = "static /static/..x/.y" ] \
	|| fail "dotted names that are not dot segments: '$body'"
[ "$(status GET /healthz)" = 200 ] || fail "not serving after bad requests"
ok "oversized header 431, body to unknown path 404, dot segments 400"

# Deferred replies: the loop keeps serving while one waits.
t0=$(date +%s%N)
body=$(curl -sf "$URL/debug/slow?ms=400") && [ "$body" = "slow 400" ] || fail "deferred reply: '$body'"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ms" -ge 400 ] || fail "deferred reply came after ${ms}ms, before its timer"
body=$(curl -sf "$URL/debug/slow?ms=0") && [ "$body" = "slow 0" ] || fail "reply inside the handler: '$body'"
curl -s -o "$T/slow" "$URL/debug/slow?ms=1500" &
EXTRA_PIDS+=($!)
sleep 0.2
t0=$(date +%s%N)
[ "$(status GET /healthz)" = 200 ] || fail "/healthz while a reply is deferred"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ms" -lt 500 ] || fail "/healthz took ${ms}ms while a reply was deferred"
wait "${EXTRA_PIDS[-1]}"
[ "$(cat "$T/slow")" = "slow 1500" ] || fail "long deferred reply: $(cat "$T/slow")"
ok "deferred replies (400 ms, inside the handler, 1.5 s while /healthz answers in ${ms}ms)"

# Graceful stop while a keep-alive connection idles and another has sent
# half its headers: both are dropped, exit 0 promptly.
"$PY" - "$PORT" "$T/clients-ready" <<'PYEOF' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
s.recv(4096)
h = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
h.sendall(b"GET /healthz HTTP/1.1\r\nHo")
open(sys.argv[2], "w").write("both sent\n")
time.sleep(5)
PYEOF
EXTRA_PIDS+=($!)
# both connections made (a fixed sleep lost this race under load)
poll_until 20 test -s "$T/clients-ready" || fail "the two test clients did not connect"
t0=$(date +%s%N)
stop_testd
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ms" -lt 1500 ] || fail "graceful stop took ${ms}ms with idle and half-sent clients"
ok "SIGTERM with an idle keep-alive and a half-sent request: exit 0 in ${ms}ms"

# Stopping with a deferred reply outstanding: after the grace period its
# owner is told, the client gets 503, and the server still exits 0.
start_testd
curl -s -o "$T/slow" -w '%{http_code}' "$URL/debug/slow?ms=20000" > "$T/slow.code" &
EXTRA_PIDS+=($!)
poll_until 20 grep -q 'slow request deferred for 20000 ms' "$T/testd.log" ||
	fail "the deferred request never reached its handler"
stop_testd
wait "${EXTRA_PIDS[-1]}" || true
[ "$(cat "$T/slow.code")" = 503 ] || fail "deferred request at stop got $(cat "$T/slow.code")"
grep -q 'slow request cancelled' "$T/testd.log" || fail "deferred owner not told of the stop"
ok "SIGTERM with a deferred reply pending: owner cancelled, client 503, exit 0"

# A port already taken: one clear error, non-zero exit.
start_testd
"$TOOLDIR/http_testd" --listen "127.0.0.1:$PORT" --port-file "$T/port2" \
	--secret-file "$T/secret" --trigger-log "$T/t2" 2>"$T/err" && fail "second bind succeeded"
grep -q "cannot listen on '127.0.0.1:$PORT': Address already in use" "$T/err" \
	|| fail "port in use: $(cat "$T/err")"
ok "port in use: $(cat "$T/err")"
stop_testd
