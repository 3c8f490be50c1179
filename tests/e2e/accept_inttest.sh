#!/usr/bin/env bash
# Seed requirement 7.4 (and 7.2, 8.3): failing integration tests block the
# promotion to beta, and the failure details are visible: the daemon's
# status, its log, and the note on a request for that tag.  Missing
# evidence blocks too.  A later release that passes goes through.
. "$SRCDIR/tests/fixtures/stack.sh"
stack_start "2026-11-30 18:00:00"
stack_daemon_start
bad=$(stack_app_commit "feat: paper fills via websocket")
stack_publish "$bad"
stack_evidence "$bad" fail 310 2
stack_kick >/dev/null || true
stack_wait_cycles 3
stack_expect_eq "$(stack_tag beta)" 0000000000000000000000000000000000000000 "beta after a failing run"
[ -z "$(stack_promotions beta)" ] || stack_fail "failing release promoted"
stack_ok "failing evidence (exit 1, 2 failed): beta unchanged"

st=$(stack_status)
r=$(jq -c --arg s "$bad" '.releases[] | select(.sha == $s)' <<<"$st")
[ -n "$r" ] || stack_fail "status does not list release $bad: $st"
stack_expect_eq "$(jq -r .evidence <<<"$r")" failed "status: evidence of $bad"
stack_expect_in "test_paper_fill_roundtrip" "$r" "status: the failing test is named"
grep -qE '310/312|failed 2' <<<"$r" || stack_fail "status lacks the counts: $r"
echo "  status: $r"
grep -E "${bad:0:7}|$bad" "$STACK_LOG" | grep -E 'fail' >/dev/null ||
	stack_fail "the daemon log does not report the failing release"
stack_ok "failure details visible in pipelinectl status --json and in the log"

req=$(stack_request beta "$bad" --notes "please")
note=$(stack_wait_note "$req" 'inttest-failed' 30)
stack_ok "beta request for it refused: $note"
req=$(stack_request paper "$bad" --notes "please")
note=$(stack_wait_note "$req" 'inttest-failed' 30)
stack_ok "paper request for it refused: $note"

none=$(stack_app_commit "feat: no test run yet")
stack_publish "$none"
stack_kick >/dev/null || true
stack_wait_cycles 3
stack_expect_eq "$(stack_tag beta)" 0000000000000000000000000000000000000000 "beta with evidence missing"
req=$(stack_request beta "$none")
note=$(stack_wait_note "$req" 'inttest-missing' 30)
stack_ok "missing evidence: not promoted, request refused: $note"

good=$(stack_release "fix: paper fills")
stack_kick >/dev/null || true
stack_wait_for '[ "$(stack_tag beta)" = "$good" ]' 60
stack_expect_in "passed" "$(stack_trailer "$(stack_promotions beta "$good")" Integration-Test)" "Integration-Test"
stack_ok "next passing release goes to beta"
echo "accept_inttest: all checks passed"
