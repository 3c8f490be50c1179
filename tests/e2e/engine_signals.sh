#!/usr/bin/env bash
# SIGTERM at random points of a promotion cycle leaves no partial state:
# the daemon exits 0, the remote holds each promotion at most once, and
# after a restart every release is promoted exactly once.  A signed
# webhook delivery triggers a cycle at once (the poll interval is long
# here); a bad signature gets 401 and triggers nothing.
set -euo pipefail
. "$SRCDIR/tests/fixtures/engine-lib.sh"

stack_up
printf 'test-secret\n' >"$T/hook.secret"
write_config "$T/pipelines.conf" "[http]" "	webhookSecret = $T/hook.secret"
count_tag() { rgit log --first-parent --format='%(trailers:key=Image-Tag,valueonly)' main | grep -c "^$1$" || true; }

for i in 1 2 3; do
	start_daemon "2026-03-09 12:00:00"
	X=$(app_commit "release $i")
	push_evidence "$X"
	push_images "$X"
	sleep "$((RANDOM % 3)).$((RANDOM % 10))"
	kill -TERM "$PD_PID"
	rc=0
	wait "$PD_PID" || rc=$?
	PD_PID=
	[ "$rc" = 0 ] || { tail "$T/pipelined.log" >&2; fail "round $i: SIGTERM exit $rc"; }
	n=$(count_tag "$X")
	[ "$n" -le 1 ] || fail "round $i: promoted $n times"
	for ref in $(rgit for-each-ref --format='%(refname)' refs/pipelined); do fail "leaked $ref"; done
	start_daemon "2026-03-09 12:00:00"
	once() { [ "$(count_tag "$X")" = 1 ]; }
	wait_for 30 once || fail "round $i: not promoted after the restart"
	sleep 2
	[ "$(count_tag "$X")" = 1 ] || fail "round $i: promoted twice after the restart"
	kill -TERM "$PD_PID"
	wait "$PD_PID" || fail "round $i: second SIGTERM"
	PD_PID=
	echo "round $i: stopped $( [ "$n" = 1 ] && echo after || echo before) the push, promoted once"
done
ok "SIGTERM mid-cycle: exit 0, every release promoted exactly once across restarts"

# webhooks: a long poll interval so only a trigger explains a quick cycle
POLL=1h write_config "$T/pipelines.conf" "[http]" "	webhookSecret = $T/hook.secret"
start_daemon "2026-03-09 12:00:00"
# the start-up cycle must be over before the release appears: only a
# trigger may explain the next one
_first_cycle() { poll_metric "$HTTP_PORT" pipelined_cycles_total; [ "$POLL_METRIC" -ge 1 ]; }
poll_until 30 _first_cycle || fail "the start-up cycle did not complete"
X=$(app_commit "release by webhook")
push_evidence "$X"
push_images "$X"
post() {	# SECRET DELIVERY
	local body='{"action":"published","registry_package":{"name":"superset"}}' sig
	sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$1" | awk '{print $NF}')
	curl -s -o /dev/null -w '%{http_code}' -H "X-GitHub-Event: registry_package" \
		-H "X-GitHub-Delivery: $2" -H "X-Hub-Signature-256: sha256=$sig" \
		--data "$body" "http://127.0.0.1:$HTTP_PORT/hooks/github"
}
[ "$(post wrong-secret d1)" = 401 ] || fail "bad signature not refused"
sleep 2
[ "$(count_tag "$X")" = 0 ] || fail "a bad signature triggered a cycle"
[ "$(post test-secret d2)" = 202 ] || fail "good signature not accepted"
once() { [ "$(count_tag "$X")" = 1 ]; }
wait_for 10 once || fail "webhook did not trigger a promotion"
ok "webhook: 401 and nothing for a bad signature; a signed delivery promotes at once"
