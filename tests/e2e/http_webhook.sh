#!/usr/bin/env bash
# ctest: quick
# ctest: serial
# POST /hooks/github end to end: signed deliveries trigger within 1 s,
# unsigned or mis-signed ones get 401 and trigger nothing, oversized
# bodies are refused without harm, bursts coalesce into one trigger,
# and /metrics counts it all in a page a strict parser accepts.
set -euo pipefail
. "$SRCDIR/tests/fixtures/http-lib.sh"
W=$TESTDATA/webhook

start_testd --window-ms 2000

# A good delivery: 202 and one trigger, within a second of sending.
t0=$(date +%s%N)
code=$(post_hook registry_package "$W/registry_package_published.json" first-delivery)
for _ in $(seq 100); do [ "$(triggers)" = 1 ] && break; sleep 0.01; done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$code" = 202 ] || fail "good delivery got $code"
[ "$(triggers)" = 1 ] || fail "no trigger after a good delivery"
[ "$ms" -lt 1000 ] || fail "trigger took ${ms}ms"
grep -q '^trigger registry_package published scheduler:3f9a1c2b7d4e5f60718293a4b5c6d7e8f9012345$' \
	"$T/triggers" || fail "trigger line: $(cat "$T/triggers")"
ok "signed registry_package published: 202, trigger in ${ms}ms"

# Refusals: nothing may trigger.  (Still inside the coalescing window,
# but a refusal is decided before the coalescer is asked.)
expect_401() {
	local what=$1; shift
	code=$(post_hook "$@")
	[ "$code" = 401 ] || fail "$what: got $code"
	[ "$(cat "$T/reply")" = "bad signature" ] || fail "$what: reply '$(cat "$T/reply")'"
}
P=$W/package_published.json
good=$(sign "$P")
expect_401 "missing signature" package "$P" d-1 -
expect_401 "wrong secret" package "$P" d-2 "$(sign "$P" 'not the secret')"
expect_401 "sha1 prefix" package "$P" d-3 "sha1=${good#sha256=}"
expect_401 "uppercase hex" package "$P" d-4 "sha256=$(printf '%s' "${good#sha256=}" | tr a-f A-F)"
expect_401 "truncated hex" package "$P" d-5 "${good%????}"
expect_401 "empty header" package "$P" d-6 ""
# the right signature for other bytes
printf '{"action":"published"}' > "$T/other.json"
expect_401 "signature of another body" package "$P" d-7 "$(sign "$T/other.json")"
sleep 0.2
[ "$(triggers)" = 1 ] || fail "a refused delivery triggered"
ok "missing, wrong, sha1, uppercase, truncated, empty, mismatched signatures: 401, no trigger"

# Oversized: 10 MB with Content-Length is refused before it is read.
head -c 10000000 /dev/zero | tr '\0' '{' > "$T/big"
code=$(post_hook package "$T/big" big-1)
[ "$code" = 413 ] || fail "10 MB body got $code"
# ...and sent chunked (no length up front) the upload is cut at the bound:
# libmicrohttpd cannot queue a reply mid-body, so the connection closes
# (curl then reports the last status it saw, the 100 Continue, or 000).
read -r code sent < <(curl -s -o /dev/null -w '%{http_code} %{size_upload}\n' \
	-H 'Transfer-Encoding: chunked' \
	-H 'X-GitHub-Event: package' -H "X-Hub-Signature-256: $(sign "$T/big")" \
	--data-binary @"$T/big" "$URL/hooks/github" || true)
# Either a 413, or the connection closed before curl could send the whole
# body: a server that read on to the end (and then answered, or not) fails.
case $code in
413) ;;
100|000) [ "$sent" -lt 10000000 ] || fail "chunked 10 MB body read to the end ($sent bytes), then $code" ;;
*) fail "chunked 10 MB body got $code" ;;
esac
[ "$(status GET /healthz)" = 200 ] || fail "not serving after the 10 MB bodies"
[ "$(triggers)" = 1 ] || fail "an oversized body triggered"
ok "10 MB body: 413 (chunked: $code, cut after $sent bytes), no trigger, still serving"

# Answered but not acted on.
code=$(post_hook ping "$W/ping.json" ping-1); [ "$code" = 200 ] || fail "ping got $code"
[ "$(cat "$T/reply")" = pong ] || fail "ping reply"
code=$(post_hook push "$W/push.json" push-1); [ "$code" = 204 ] || fail "push got $code"
code=$(post_hook workflow_run "$W/workflow_run_requested.json" wr-0)
[ "$code" = 204 ] || fail "workflow_run requested got $code"
printf 'payload=%%7B%%7D' > "$T/form"
code=$(post_hook package "$T/form" form-1); [ "$code" = 400 ] || fail "form body got $code"
grep -q 'application/json' "$T/reply" || fail "form reply: $(cat "$T/reply")"
code=$(curl -s -o "$T/reply" -w '%{http_code}' -H "X-Hub-Signature-256: $(sign "$P")" \
	--data-binary @"$P" "$URL/hooks/github")
[ "$code" = 400 ] || fail "missing X-GitHub-Event got $code"
[ "$(triggers)" = 1 ] || fail "ping/push/requested/bad payload triggered"
ok "ping 200, push and workflow_run requested 204, form-encoded and event-less 400, no trigger"

# A burst: one delivery per platform manifest, 5 within a second, after
# the first trigger's window has passed: exactly one more trigger.
sleep 2.1
for i in 1 2 3 4 5; do
	code=$(post_hook package "$P" "burst-$i")
	[ "$code" = 202 ] || fail "burst delivery $i got $code"
	sleep 0.1
done
sleep 0.3
[ "$(triggers)" = 2 ] || fail "burst of 5 gave $(( $(triggers) - 1 )) triggers"
ok "burst of 5 deliveries within 1 s: exactly one trigger"

# Redelivery of an old delivery id after the window: acknowledged, no cycle.
sleep 2.1
code=$(post_hook registry_package "$W/registry_package_published.json" first-delivery)
[ "$code" = 202 ] && [ "$(cat "$T/reply")" = "duplicate delivery" ] || fail "redelivery: $code"
code=$(post_hook workflow_run "$W/workflow_run_completed.json" wr-1)
[ "$code" = 202 ] && [ "$(cat "$T/reply")" = "cycle triggered" ] || fail "workflow_run: $code"
[ "$(triggers)" = 3 ] || fail "redelivery or workflow_run miscounted: $(triggers)"
tail -n1 "$T/triggers" | grep '^trigger workflow_run completed ci@3f9a1c2b7d4e (success)$' >/dev/null \
	|| fail "workflow_run trigger line"
ok "redelivered id ignored; workflow_run completed triggers"

# /metrics: strict format, and the deliveries counted by outcome.
curl -sf -D "$T/mh" "$URL/metrics" > "$T/metrics"
grep -qi '^Content-Type: text/plain; version=0.0.4; charset=utf-8' "$T/mh" || fail "metrics content type"
"$PY" "$SRCDIR/tests/tools/promcheck.py" "$T/metrics" || fail "metrics page rejected"
if command -v promtool >/dev/null; then
	promtool check metrics < "$T/metrics" || fail "promtool rejected /metrics"
	echo "promtool: ok"
fi
for want in 'result="triggered"} 3' 'result="bad_signature"} 7' 'result="merged"} 4' \
	'result="duplicate"} 1' 'result="ping"} 1' 'result="ignored"} 2' 'result="bad_payload"} 2' \
	'pipelined_cycles_total 3'; do
	grep -qF "$want" "$T/metrics" || fail "metrics lack '$want'"
done
grep -qF 'code="quote\" back\\slash\nnewline"} 1' "$T/metrics" || fail "label escaping"
ok "/metrics passes the strict parser and counts every outcome"

# The checker itself must reject what a scraper rejects.
must_reject() {
	printf '%b' "$1" > "$T/bad"
	if "$PY" "$SRCDIR/tests/tools/promcheck.py" "$T/bad" >/dev/null; then
		fail "promcheck accepted: $1"
	fi
}
must_reject '# TYPE a counter\na{x="1",} 3\n'
must_reject 'a{x="\\q"} 3\n'
must_reject 'a 1\nb 1\na{x="y"} 2\n'
must_reject '# TYPE a counter\na -1\n'
must_reject 'a 1'
must_reject 'a 1\na 2\n'
must_reject 'a{x="\xff"} 1\n'
ok "the checker rejects trailing commas, bad escapes, split families, negative counters, missing newline, duplicates"

stop_testd
ok "stopped cleanly"
