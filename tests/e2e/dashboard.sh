#!/usr/bin/env bash
# ctest: quick
# The dashboard as a browser and an attacker see it, over real HTTP: the
# page and its assets (CSP, no external URL), login by Basic and by the
# trusted proxy header, CSRF, same-origin checks, input validation (and the
# promote callback not called on a refusal), a good request reaching the
# callback with exactly the operator's fields, the login throttle.
# tests/tools/dashboard_testd stands in for the engine.
set -euo pipefail
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3
T=$(mktemp -d)
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- server log:"; cat "$T/log" 2>/dev/null; exit 1; }
ok() { echo "ok: $*"; }
FIX=$TESTDATA/dashboard
SHA=1111111111111111111111111111111111111111

# start [options]: sets URL.
start() {
	rm -f "$T/port"
	: > "$T/record"
	"$TOOLDIR/dashboard_testd" --port-file "$T/port" --status "$FIX/status.json" \
		--history-dir "$FIX" --record "$T/record" "$@" 2>"$T/log" &
	PID=$!
	for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
	[ -s "$T/port" ] || fail "dashboard_testd did not start"
	URL=http://127.0.0.1:$(cat "$T/port")
}
stop() {
	kill -TERM "$PID"
	local rc=0
	wait "$PID" || rc=$?
	PID=
	[ "$rc" -eq 0 ] || fail "dashboard_testd exited $rc after SIGTERM"
}
# post BODY [curl options...]: a same-origin JSON POST; prints the status,
# the reply body lands in $T/reply.
post() {
	local body=$1; shift
	curl -s -o "$T/reply" -w '%{http_code}' -H 'Content-Type: application/json' \
		-H "Origin: $URL" -H 'Sec-Fetch-Site: same-origin' "$@" \
		--data-binary "$body" "$URL/api/v1/promote"
}
reply() { cat "$T/reply"; }
records() { wc -l < "$T/record" | tr -d ' '; }

# --- the users file is checked when loaded ---
alice=$(htpasswd -nbBC 10 alice 'correct horse')
bob="bob:$(openssl passwd -6 'battery staple'):bob@example.org"
md5="mallory:$(openssl passwd -1 'weak')"
printf '# operators\n%s\n%s\n' "$alice" "$md5" > "$T/users-weak"
if "$TOOLDIR/dashboard_testd" --port-file "$T/port" --status "$FIX/status.json" \
	--history-dir "$FIX" --record "$T/record" --users "$T/users-weak" 2>"$T/log"; then
	fail "started with an MD5 hash in the users file"
fi
grep -q "^$T/users-weak:3: MD5-crypt" "$T/log" || fail "no file:line error for MD5: $(cat "$T/log")"
ok "weak MD5 hash refused at load with file:line"

dave=$(htpasswd -nbBC 12 dave 'slow hash')	# ~0.6 s per check
printf '%s\n%s\n%s\n' "$alice" "$bob" "$dave" > "$T/users"
start --users "$T/users"

# --- the page ---
curl -s -D "$T/h" -o "$T/page" "$URL/"
grep -q '^HTTP/1.1 200' "$T/h" || fail "GET / not 200"
grep -qi "^Content-Security-Policy: default-src 'self'" "$T/h" || fail "no CSP: $(cat "$T/h")"
grep -qi '^Content-Type: text/html; charset=utf-8' "$T/h" || fail "page content type"
grep -qi '^X-Content-Type-Options: nosniff' "$T/h" || fail "no nosniff"
grep -q 'src="/static/app.js"' "$T/page" || fail "page does not load app.js"
for a in app.js:text/javascript app.css:text/css; do
	name=${a%%:*} type=${a#*:}
	curl -s -D "$T/h" -o "$T/$name" "$URL/static/$name"
	grep -q '^HTTP/1.1 200' "$T/h" || fail "$name not served"
	grep -qi "^Content-Type: $type" "$T/h" || fail "$name content type: $(grep -i content-type "$T/h")"
	cmp -s "$T/$name" "$SRCDIR/web/$name" || fail "$name differs from web/$name"
done
cmp -s "$T/page" "$SRCDIR/web/index.html" || fail "page differs from web/index.html"
if grep -nE '(https?:)?//[a-z0-9.-]+\.[a-z]{2,}' "$T/page" "$T/app.js" "$T/app.css"; then
	fail "an external URL in the dashboard"
fi
grep -q innerHTML "$T/app.js" && fail "app.js uses innerHTML"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/static/nope.js")" = 404 ] || fail "missing asset not 404"
ok "page and assets served with CSP, right types, no external URL, no innerHTML"

# --- CSRF tokens need an operator ---
curl -s -D "$T/h" -o "$T/reply" "$URL/api/v1/csrf"
grep -q '^HTTP/1.1 401' "$T/h" || fail "csrf without auth not 401"
grep -qi '^WWW-Authenticate: Basic realm="pipelined"' "$T/h" || fail "no Basic challenge"
curl -s -D "$T/h" -o /dev/null -H 'X-Requested-With: pipelined-dashboard' "$URL/api/v1/csrf"
grep -qi '^WWW-Authenticate: Dashboard' "$T/h" || fail "the page's fetch would pop the browser's dialog"
code=$(curl -s -o "$T/reply" -w '%{http_code}' -u 'alice:wrong' "$URL/api/v1/csrf")
[ "$code" = 401 ] || fail "wrong password got $code"
code=$(curl -s -o "$T/reply" -w '%{http_code}' -u 'nobody:correct horse' "$URL/api/v1/csrf")
[ "$code" = 401 ] || fail "unknown user got $code"
code=$(curl -s -o "$T/csrf" -w '%{http_code}' -u 'alice:correct horse' "$URL/api/v1/csrf")
[ "$code" = 200 ] || fail "alice's login got $code: $(cat "$T/csrf")"
TOKEN=$("$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["operator"]=="alice"; print(j["token"])' "$T/csrf") \
	|| fail "csrf reply: $(cat "$T/csrf")"
BOBTOKEN=$(curl -sf -u 'bob:battery staple' "$URL/api/v1/csrf" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["token"])')
ok "CSRF token only for a logged-in operator (401 with challenge otherwise)"

A=(-u 'alice:correct horse')
GOOD="{\"stage\":\"paper\",\"tag\":\"$SHA\",\"notes\":\"weekly\"}"

# --- refusals before the callback ---
[ "$(post "$GOOD" -H "X-CSRF-Token: $TOKEN")" = 401 ] || fail "POST without auth: $(reply)"
[ "$(post "$GOOD" "${A[@]}")" = 403 ] || fail "POST without CSRF: $(reply)"
grep -q 'X-CSRF-Token' "$T/reply" || fail "no CSRF message: $(reply)"
[ "$(post "$GOOD" "${A[@]}" -H "X-CSRF-Token: $BOBTOKEN")" = 403 ] || fail "bob's token accepted for alice"
# Flip the last hex digit to a different one (a fixed replacement would be
# a no-op for a token that already ends in it).
case "${TOKEN: -1}" in 0) flip=1 ;; *) flip=0 ;; esac
[ "$(post "$GOOD" "${A[@]}" -H "X-CSRF-Token: ${TOKEN%?}$flip")" = 403 ] || fail "tampered token accepted"
code=$(curl -s -o "$T/reply" -w '%{http_code}' "${A[@]}" -H 'Content-Type: application/json' \
	-H "X-CSRF-Token: $TOKEN" -H 'Origin: https://evil.example' --data-binary "$GOOD" "$URL/api/v1/promote")
[ "$code" = 403 ] && grep -q 'Origin' "$T/reply" || fail "wrong Origin got $code: $(reply)"
code=$(curl -s -o "$T/reply" -w '%{http_code}' "${A[@]}" -H 'Content-Type: application/json' \
	-H "X-CSRF-Token: $TOKEN" -H 'Sec-Fetch-Site: cross-site' --data-binary "$GOOD" "$URL/api/v1/promote")
[ "$code" = 403 ] || fail "Sec-Fetch-Site: cross-site got $code"
code=$(curl -s -o "$T/reply" -w '%{http_code}' "${A[@]}" -H 'Content-Type: text/plain' \
	-H "X-CSRF-Token: $TOKEN" --data-binary "$GOOD" "$URL/api/v1/promote")
[ "$code" = 415 ] || fail "text/plain POST got $code"
[ "$(records)" = 0 ] || fail "callback called for a refused request: $(cat "$T/record")"
ok "POST: no auth 401, no/bad/other's CSRF 403, wrong Origin 403, cross-site 403, not JSON 415"

check400() {	# BODY EXPECTED-MESSAGE-PART
	local code
	code=$(post "$1" "${A[@]}" -H "X-CSRF-Token: $TOKEN")
	[ "$code" = 400 ] || fail "bad input '$1' got $code: $(reply)"
	grep -q -- "$2" "$T/reply" || fail "bad input '$1': message $(reply) lacks '$2'"
}
check400 "{\"stage\":\"prod\",\"tag\":\"$SHA\"}" "'prod' is not a deploy stage"
check400 "{\"stage\":\"ci\",\"tag\":\"$SHA\"}" "'ci' is not a deploy stage"
check400 '{"stage":"paper","tag":"latest"}' "'latest' is not a release id"
check400 "{\"stage\":\"paper\",\"tag\":\"ABCDEF0123456789ABCDEF0123456789ABCDEF01\"}" "is not a release id"
check400 "{\"stage\":\"paper\",\"tag\":\"$SHA\",\"break_glass\":\"\"}" "Break-Glass needs a written justification"
check400 "{\"stage\":\"paper\",\"tag\":\"$SHA\",\"break_glass\":\"  \\n \"}" "Break-Glass needs a written justification"
long=$(head -c 4097 /dev/zero | tr '\0' n)
check400 "{\"stage\":\"paper\",\"tag\":\"$SHA\",\"notes\":\"$long\"}" "'notes' is longer than 4096 bytes"
long=$(head -c 1025 /dev/zero | tr '\0' j)
check400 "{\"stage\":\"paper\",\"tag\":\"$SHA\",\"break_glass\":\"$long\"}" "'break_glass' is longer than 1024"
check400 "{\"stage\":\"paper\",\"tag\":\"$SHA\",\"author\":\"root\"}" "unknown field 'author'"
check400 "{\"stage\":\"paper\",\"tag\":\"$SHA\",\"stage\":\"live\"}" "not a JSON object"
check400 '[1,2]' "not a JSON object"
check400 "{\"stage\":\"paper\",\"tag\":42}" "'tag' must be a string"
[ "$(records)" = 0 ] || fail "callback called for bad input: $(cat "$T/record")"
ok "bad input 400 with a clear message, callback not called"

# --- good requests reach the callback ---
code=$(post "$GOOD" "${A[@]}" -H "X-CSRF-Token: $TOKEN")
[ "$code" = 202 ] || fail "good request got $code: $(reply)"
grep -q '"branch":"promote/paper/dashboard-1"' "$T/reply" || fail "no branch in $(reply)"
host=$(hostname)
"$PY" - "$T/record" "$SHA" "$host" <<'PYEOF' || fail "callback got: $(cat "$T/record")"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
got = json.loads(lines[0])
want = {"stage": "paper", "tag": sys.argv[2], "notes": "weekly", "break_glass_given": False,
        "break_glass": "", "author_name": "alice", "author_email": "alice@" + sys.argv[3],
        "remote": "127.0.0.1"}
assert got == want, (got, want)
PYEOF
ok "good request 202 with the branch; callback got exactly stage, tag, notes, author alice"

bg="{\"stage\":\"live\",\"tag\":\"$SHA\",\"notes\":\"\",\"break_glass\":\"hotfix: broker outage <b>\"}"
code=$(post "$bg" -u 'bob:battery staple' -H "X-CSRF-Token: $BOBTOKEN")
[ "$code" = 202 ] || fail "break-glass request got $code: $(reply)"
tail -n 1 "$T/record" | "$PY" -c '
import json, sys
g = json.load(sys.stdin)
assert g["break_glass_given"] is True and g["break_glass"] == "hotfix: broker outage <b>", g
assert g["author_name"] == "bob" and g["author_email"] == "bob@example.org", g
assert g["stage"] == "live" and g["notes"] == "", g' || fail "break-glass record: $(tail -n 1 "$T/record")"
ok "break-glass request carries the justification; e-mail from the users file"

code=$(post "{\"stage\":\"beta\",\"tag\":\"$SHA\",\"notes\":\"refuse me\"}" "${A[@]}" -H "X-CSRF-Token: $TOKEN")
[ "$code" = 409 ] && grep -q 'refused by the test engine' "$T/reply" || fail "engine refusal got $code: $(reply)"
ok "an engine refusal comes back as 409 with its message"

# --- at most two password checks at once (the thread pool is shared) ---
args=()
for i in 1 2 3 4 5 6 7 8; do args+=(-o /dev/null -w '%{http_code}\n' "$URL/api/v1/csrf?$i"); done
curl -s --parallel --parallel-immediate --parallel-max 8 -u 'dave:slow hash' "${args[@]}" > "$T/codes"
n200=$(grep -c '^200$' "$T/codes" || true) n503=$(grep -c '^503$' "$T/codes" || true)
[ "$n200" -ge 2 ] && [ "$n503" -ge 1 ] && [ $((n200 + n503)) = 8 ] \
	|| fail "8 concurrent slow logins: $(tr '\n' ' ' < "$T/codes")"
ok "8 concurrent logins: $n200 checked, $n503 told to retry (503) instead of filling the pool"

# --- the throttle ---
for _ in 1 2 3 4 5; do
	curl -s -o /dev/null -u 'alice:nope' "$URL/api/v1/csrf"
done
curl -s -D "$T/h" -o "$T/reply" -u 'alice:correct horse' "$URL/api/v1/csrf"
grep -q '^HTTP/1.1 429' "$T/h" || fail "no lockout after 5 failures: $(head -1 "$T/h")"
grep -qi '^Retry-After: [0-9]' "$T/h" || fail "429 without Retry-After"
code=$(curl -s -o "$T/reply" -w '%{http_code}' -u 'bob:battery staple' "$URL/api/v1/csrf")
[ "$code" = 200 ] || fail "bob from the same address after alice's lockout got $code: $(reply)"
ok "five failed logins lock alice out (429, Retry-After), even with the right password; not bob"

# --- writes need an allowed Host (DNS rebinding) ---
PORT=${URL##*:}
code=$(curl -s -o "$T/reply" -w '%{http_code}' --resolve "evil.example:$PORT:127.0.0.1" \
	-u 'bob:battery staple' "http://evil.example:$PORT/api/v1/csrf")
[ "$code" = 421 ] && grep -q 'allowedHosts' "$T/reply" || fail "rebinding csrf got $code: $(reply)"
n=$(records)
code=$(curl -s -o "$T/reply" -w '%{http_code}' --resolve "evil.example:$PORT:127.0.0.1" \
	-H 'Content-Type: application/json' -H "Origin: http://evil.example:$PORT" \
	-u 'bob:battery staple' -H "X-CSRF-Token: $TOKEN" --data-binary "$GOOD" \
	"http://evil.example:$PORT/api/v1/promote")
[ "$code" = 421 ] && [ "$(records)" = "$n" ] || fail "rebinding promote got $code: $(reply)"
[ "$(curl -s -o /dev/null -w '%{http_code}' --resolve "evil.example:$PORT:127.0.0.1" \
	"http://evil.example:$PORT/")" = 200 ] || fail "page not served under another Host"
ok "Host evil.example:PORT: 421 for the CSRF token and the promote POST, callback not called"
stop

start --users "$T/users" --allowed-host "dash.example:4443" --allowed-host "dash.example"
code=$(curl -s -o "$T/reply" -w '%{http_code}' -u 'bob:battery staple' "$URL/api/v1/csrf")
[ "$code" = 421 ] || fail "default Host with allowedHosts set got $code"
code=$(curl -s -o "$T/reply" -w '%{http_code}' -H 'Host: DASH.example:4443' \
	-u 'bob:battery staple' "$URL/api/v1/csrf")
[ "$code" = 200 ] || fail "allowed Host got $code: $(reply)"
ok "allowed hosts configured: only those names (any case) get write routes"
stop

# --- the proxy header, and no write path at all ---
start --proxy-header X-Remote-User
code=$(curl -s -o "$T/csrf" -w '%{http_code}' -H 'X-Remote-User: carol' "$URL/api/v1/csrf")
[ "$code" = 200 ] && grep -q '"operator":"carol"' "$T/csrf" || fail "proxy login got $code: $(cat "$T/csrf")"
TOKEN=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$T/csrf")
code=$(post "$GOOD" -H 'X-Remote-User: carol' -H "X-CSRF-Token: $TOKEN")
[ "$code" = 202 ] && grep -q '"author_name":"carol"' "$T/record" || fail "proxy promote got $code: $(reply)"
code=$(curl -s -o "$T/reply" -w '%{http_code}' -H 'X-Remote-User: <script>' "$URL/api/v1/csrf")
[ "$code" = 403 ] || fail "bad proxy user name got $code"
code=$(curl -s -o "$T/reply" -w '%{http_code}' "$URL/api/v1/csrf")
[ "$code" = 403 ] || fail "proxy mode without the header got $code"
ok "trusted proxy header from loopback names the operator; invalid or absent 403"
stop

start
code=$(post "$GOOD" -H 'X-Remote-User: carol')
[ "$code" = 403 ] && grep -q 'write actions are disabled' "$T/reply" || fail "no write path got $code: $(reply)"
code=$(curl -s -o "$T/reply" -w '%{http_code}' "$URL/api/v1/csrf")
[ "$code" = 403 ] || fail "csrf with no write path got $code"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/")" = 200 ] || fail "page not served read-only"
[ "$(records)" = 0 ] || fail "callback called with writes disabled"
ok "no users file and no proxy header: writes 403 with the reason, page still served"
stop
echo "all dashboard checks passed"
