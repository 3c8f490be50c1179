#!/usr/bin/env bash
# ctest: timing
# SPEC 5.4, seed 9.3/9.4/11.2: a paper request refused only because the
# market is open is queued and merged when the market closes, at 16:00:00
# ET on the dot (within one poll cycle), by the daemon's clock: the daemon
# runs under a fake clock started at 15:59:30 ET, and the check is the
# committer time of the promotion commit.
. "$SRCDIR/tests/fixtures/stack.sh"
stack_start "2026-11-30 15:59:00"
x=$(stack_release "feat: X")
stack_daemon_start "2026-11-30 15:59:30"
stack_kick >/dev/null || true
stack_wait_for '[ "$(stack_tag beta)" = "$x" ]' 20
req=$(stack_request paper "$x" --notes "end-of-day paper refresh")
note=$(stack_wait_note "$req" 'market open' 20)
now=$(stack_now)
close=$(TZ=America/New_York date -d '2026-11-30 16:00:00' +%s)
[ "$now" -lt "$close" ] || stack_fail "set-up took too long: it is already past 16:00 on the fake clock"
stack_expect_in "closes 16:00 EST" "$note" "note"
stack_expect_eq "$(stack_tag paper)" 0000000000000000000000000000000000000000 "paper before the close"
st=$(stack_status)
grep -qi 'queued' <<<"$st" || stack_fail "status does not show the request queued: $st"
stack_ok "at $(TZ=America/New_York date -d "@$now" +%T) ET: request queued: $note"

m=$(stack_wait_merged "$req" 60)
ct=$(stack_git log -1 --format=%ct "$m")
delay=$((ct - close))
echo "promotion commit $m at $(TZ=America/New_York date -d "@$ct" '+%T %Z') (close + ${delay}s)"
[ "$delay" -ge 0 ] || stack_fail "merged ${delay}s BEFORE the close"
[ "$delay" -le 2 ] || stack_fail "merged ${delay}s after the close (want within one 1s cycle)"
stack_expect_eq "$(stack_tag paper)" "$x" "paper after the close"
stack_expect_in "closed" "$(stack_trailer "$m" Market)" "Market trailer"
[ -z "$(stack_trailer "$m" Break-Glass)" ] || stack_fail "queued promotion claims break-glass"
stack_ok "merged at 16:00:0$delay ET without break-glass, Market: $(stack_trailer "$m" Market)"
echo "accept_queue_close: all checks passed"
