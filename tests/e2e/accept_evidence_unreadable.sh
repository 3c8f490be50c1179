#!/usr/bin/env bash
# Issue 11 item 9: integration-test evidence that is published but cannot
# be read (not JSON; JSON without an integer exit_code) is one state for
# every release -- "evidence unreadable: <why>" in the status API,
# pipelinectl status and the dashboard's data -- not "missing" for one and
# "unknown" for another.  The daemon says so once per release in its log,
# does not back off or retry with an error line every few seconds, refuses
# a request for it with evidence-unreadable, and holds the automatic
# promotion with that reason.  Republishing valid evidence makes it pass and
# promote.
. "$SRCDIR/tests/fixtures/stack.sh"
stack_start "2026-11-30 18:00:00"
stack_daemon_start

# evidence SHA FILE: push FILE as the sha's inttest artifact, as the
# integration-test stage does (the same route as stack_evidence)
evidence_file() {
	bash "$SRCDIR/tests/fixtures/push-image.sh" -a "$2" "$STACK_REGISTRY" \
		"$STACK_NS/inttest" "$1" >/dev/null || stack_fail "push of $2 failed"
}
release_json() { stack_status | jq -c --arg s "$1" '.releases[] | select(.sha == $s)'; }
unreadable_lines() { grep -c "evidence of release ${1:0:7} is unreadable" "$STACK_LOG" || true; }

one=$(stack_app_commit "feat: order book snapshots")
stack_publish "$one"
printf '{"exit_code": 0, "passed": 312, ' >"$STACK_DIR/truncated.json"
evidence_file "$one" "$STACK_DIR/truncated.json"
two=$(stack_app_commit "feat: risk limits per desk")
stack_publish "$two"
printf '{"passed": 312, "failed": 0, "total": 312}\n' >"$STACK_DIR/noexit.json"
evidence_file "$two" "$STACK_DIR/noexit.json"
stack_kick >/dev/null || true
stack_wait_for '[ "$(release_json "$one" | jq -r .evidence)" = unreadable ] &&
	[ "$(release_json "$two" | jq -r .evidence)" = unreadable ]' 30 ||
	stack_fail "both releases should read 'unreadable': $(stack_status | jq -c .releases)"
r1=$(release_json "$one") r2=$(release_json "$two")
stack_expect_in '"evidence_summary":"evidence unreadable: inttest-results.json: invalid JSON' \
	"$r1" "status of $one"
stack_expect_in '"evidence_summary":"evidence unreadable: inttest-results.json: evidence has no integer \"exit_code\""' \
	"$r2" "status of $two"
stack_ok "two releases with malformed evidence: both 'unreadable', each with its why"
echo "  $r1"
echo "  $r2"

text=$(stack_ctl status)
stack_expect_in "release ${one:0:7}: evidence unreadable: inttest-results.json: invalid JSON" "$text" \
	"pipelinectl status"
stack_expect_in "release ${two:0:7}: evidence unreadable: inttest-results.json: evidence has no integer \"exit_code\"" \
	"$text" "pipelinectl status"
stack_ok "pipelinectl status names both releases: evidence unreadable: why"

req=$(stack_request beta "$one")
note=$(stack_wait_note "$req" 'evidence-unreadable' 30)
stack_expect_in "cannot be read: inttest-results.json: invalid JSON" "$note" "note on the request"
stack_ok "beta request for $one refused: $note"
stack_wait_for 'grep -q "automatic promotion into beta waits: evidence-unreadable: the integration-test evidence of ${two:0:7}" "$STACK_LOG"' 30 ||
	stack_fail "the automatic promotion does not say why it waits"
stack_ok "automatic promotion into beta waits: evidence-unreadable (newest release ${two:0:7})"

# over many cycles: one line per release, no error backoff, no re-reads
stack_wait_cycles 2
before=$(grep -c 'unreadable' "$STACK_LOG" || true)
stack_wait_cycles 12
for s in "$one" "$two"; do
	stack_expect_eq "$(unreadable_lines "$s")" 1 "log lines about the unreadable evidence of ${s:0:7}"
done
stack_expect_eq "$(grep -c 'unreadable' "$STACK_LOG" || true)" "$before" \
	"lines mentioning 'unreadable' during 12 more cycles"
if grep -E "cannot check release (${one:0:7}|${two:0:7})|malformed evidence" "$STACK_LOG"; then
	stack_fail "unreadable evidence reported as a registry error"
fi
stack_expect_eq "$(release_json "$one" | jq -r .evidence)" unreadable "status of $one after 12 cycles"
stack_expect_eq "$(stack_tag beta)" 0000000000000000000000000000000000000000 "beta"
[ -z "$(stack_promotions beta)" ] || stack_fail "a release with unreadable evidence was promoted"
gets=$(grep -cE "GET .*/inttest/(manifests|blobs)/" "$STACK_LOG" || true)
stack_wait_cycles 8
stack_expect_eq "$(grep -cE "GET .*/inttest/(manifests|blobs)/" "$STACK_LOG" || true)" "$gets" \
	"GETs of the unreadable artifacts during 8 more cycles"
heads=$(grep -cE "HEAD .*/inttest/manifests/" "$STACK_LOG" || true)
stack_ok "14+ cycles: exactly 1 line per release, no registry error, no re-fetch ($heads HEADs of the evidence manifests in all)"

# republished valid evidence: read again (its digest changed), passes, promotes
stack_evidence "$two" pass
stack_kick >/dev/null || true
stack_wait_for '[ "$(stack_tag beta)" = "$two" ]' 60 || stack_fail "beta did not get $two"
stack_expect_eq "$(release_json "$two" | jq -r .evidence)" passed "status of $two after republishing"
stack_expect_eq "$(grep -c "evidence of release ${two:0:7} is readable now: passed 312/312" "$STACK_LOG")" 1 \
	"log line when it became readable"
stack_expect_in "passed 312/312" "$(stack_trailer "$(stack_promotions beta "$two")" Integration-Test)" \
	"Integration-Test trailer"
stack_expect_eq "$(unreadable_lines "$two")" 1 "unreadable lines for ${two:0:7} in the end"
stack_ok "valid evidence republished for ${two:0:7}: readable (logged once), passed, promoted into beta"
echo "accept_evidence_unreadable: all checks passed"
