#!/usr/bin/env bash
# Issue 11 item 8, against the real daemon: trust at the HTTP edge.
#  - DNS rebinding: a page whose name (evil.example) resolves to the
#    daemon sends Host: evil.example:PORT, a matching Origin and the
#    trusted proxy header; it gets 421 for the CSRF token and for
#    POST /api/v1/promote, and no request branch is created.  The same
#    requests with the listen address as Host work (202, a branch).
#  - [http] allowedHosts replaces the default list (after SIGHUP).
#  - Failed logins lock the operator name: five wrong passwords for alice
#    from 127.0.0.1 (where a loopback ingress puts every client) lock
#    alice, even with the right password, and not bob.
#  - A forwarded client address is honoured from the trusted proxy: the
#    log names the address the proxy appended, not the client's own claim.
. "$SRCDIR/tests/fixtures/stack.sh"
stack_start "2026-11-30 18:00:00"	# Monday evening: market closed
{
	htpasswd -nbBC 10 alice 'correct horse'
	htpasswd -nbBC 10 bob 'battery staple'
} >"$STACK_DIR/users"
stack_conf_set http.users "$STACK_DIR/users"
stack_conf_set http.trustedProxyHeader X-Remote-User
stack_daemon_start
x=$(stack_release "feat: X")
stack_kick >/dev/null || true
stack_wait_for '[ "$(stack_tag beta)" = "$x" ]' 60
PORT=$STACK_HTTP_PORT
EVIL=http://evil.example:$PORT
# curl connects to 127.0.0.1 but sends Host: evil.example:PORT, as a
# browser does once the attacker's DNS answers with the daemon's address
REBIND=(--resolve "evil.example:$PORT:127.0.0.1")
promote_refs() { stack_git for-each-ref --format='%(refname)' refs/heads/promote/; }
body=$(printf '{"stage":"paper","tag":"%s","notes":"from the dashboard"}' "$x")

code=$(curl -s -o "$STACK_DIR/reply" -w '%{http_code}' "${REBIND[@]}" -H 'X-Remote-User: carol' \
	-H "Origin: $EVIL" -H 'Sec-Fetch-Site: same-origin' "$EVIL/api/v1/csrf")
stack_expect_eq "$code" 421 "CSRF token for a rebinding Host"
stack_expect_in "allowedHosts" "$(cat "$STACK_DIR/reply")" "421 body"
stack_expect_in "nothing was done" "$(cat "$STACK_DIR/reply")" "421 body"
stack_ok "rebinding Host evil.example:$PORT gets no CSRF token (421): $(cat "$STACK_DIR/reply")"

# Even with a valid token (which the rebinding page could not get), the
# POST is refused before anything else looks at it.
token=$(curl -fsS -H 'X-Remote-User: carol' "$STACK_URL/api/v1/csrf" | jq -r .token)
code=$(curl -s -o "$STACK_DIR/reply" -w '%{http_code}' "${REBIND[@]}" -H 'X-Remote-User: carol' \
	-H "Origin: $EVIL" -H 'Sec-Fetch-Site: same-origin' -H 'Content-Type: application/json' \
	-H "X-CSRF-Token: $token" --data "$body" "$EVIL/api/v1/promote")
stack_expect_eq "$code" 421 "POST /api/v1/promote with a rebinding Host"
sleep 1
stack_expect_eq "$(promote_refs)" "" "request branches after the rebinding POST"
stack_ok "rebinding POST /api/v1/promote refused (421), no request branch created"

code=$(curl -s -o "$STACK_DIR/reply" -w '%{http_code}' -H 'X-Remote-User: carol' \
	-H "Origin: $STACK_URL" -H 'Sec-Fetch-Site: same-origin' -H 'Content-Type: application/json' \
	-H "X-CSRF-Token: $token" --data "$body" "$STACK_URL/api/v1/promote")
stack_expect_eq "$code" 202 "the same POST with the listen address as Host ($(cat "$STACK_DIR/reply"))"
branch=$(jq -r .branch "$STACK_DIR/reply")
stack_expect_in "promote/paper/" "$branch" "branch"
stack_wait_for '[ "$(stack_tag paper)" = "$x" ]' 60 || stack_fail "dashboard request not merged"
stack_ok "the same request with Host 127.0.0.1:$PORT: 202, $branch merged into paper"

# --- per-operator lockout, everyone on 127.0.0.1 ---
for _ in 1 2 3 4 5; do
	code=$(curl -s -o /dev/null -w '%{http_code}' -u 'alice:wrong' "$STACK_URL/api/v1/csrf")
	stack_expect_eq "$code" 401 "a wrong password for alice"
done
code=$(curl -s -D "$STACK_DIR/h" -o "$STACK_DIR/reply" -w '%{http_code}' -u 'alice:correct horse' \
	"$STACK_URL/api/v1/csrf")
stack_expect_eq "$code" 429 "alice after five wrong passwords, with the right one"
grep -qi '^Retry-After: [0-9]' "$STACK_DIR/h" || stack_fail "429 without Retry-After"
code=$(curl -s -o "$STACK_DIR/reply" -w '%{http_code}' -u 'bob:battery staple' "$STACK_URL/api/v1/csrf")
stack_expect_eq "$code" 200 "bob from the same address ($(cat "$STACK_DIR/reply"))"
stack_expect_eq "$(jq -r .operator "$STACK_DIR/reply")" bob "operator"
stack_ok "five wrong passwords for alice from 127.0.0.1 lock alice (429), not bob (200)"

# --- the forwarded client address, from the trusted proxy on loopback ---
curl -s -o /dev/null -u 'mallory:guess' -H 'X-Forwarded-For: 10.6.6.6, 198.51.100.7' \
	"$STACK_URL/api/v1/csrf"
stack_wait_for "grep -q \"failed login for 'mallory' from 198.51.100.7\" '$STACK_LOG'" 10 ||
	stack_fail "the log does not name the forwarded address: $(grep 'failed login' "$STACK_LOG" | tail -3)"
! grep -q "from 10.6.6.6" "$STACK_LOG" || stack_fail "a client-supplied X-Forwarded-For entry was believed"
stack_ok "X-Forwarded-For from the trusted proxy: the entry it appended is the client"

# --- [http] allowedHosts replaces the defaults ---
stack_conf_set http.allowedHosts "dash.example:$PORT"
stack_daemon_reload
DASH=(--resolve "dash.example:$PORT:127.0.0.1")
stack_wait_for "[ \"\$(curl -s -o /dev/null -w '%{http_code}' ${DASH[*]} -H 'X-Remote-User: carol' \
	http://dash.example:$PORT/api/v1/csrf)\" = 200 ]" 20 ||
	stack_fail "allowedHosts = dash.example:$PORT not in force after SIGHUP"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Remote-User: carol' "$STACK_URL/api/v1/csrf")
stack_expect_eq "$code" 421 "Host 127.0.0.1:$PORT once allowedHosts lists only dash.example"
code=$(curl -s -o /dev/null -w '%{http_code}' "$STACK_URL/api/v1/status")
stack_expect_eq "$code" 200 "reads are not bound to the Host list"
stack_ok "allowedHosts = dash.example:$PORT: that name works, 127.0.0.1 gets 421 for writes, reads unchanged"
echo "accept_http_trust: all checks passed"
