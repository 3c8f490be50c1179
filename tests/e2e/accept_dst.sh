#!/usr/bin/env bash
# Seed 11.4: Eastern Time with daylight saving.  Monday 2026-03-09, the
# first trading day after the switch to EDT: at 09:45 EDT (13:45 UTC) the
# market is open and a paper request is refused -- with plain EST rules it
# would read 08:45, before the open -- and the note gives the close in EDT.
# At 16:05 EDT (20:05 UTC, which EST rules would call 15:05, open) it is
# merged.
. "$SRCDIR/tests/fixtures/stack.sh"
stack_start "2026-03-09 09:40:00"
stack_daemon_start
x=$(stack_release "feat: X")
stack_kick >/dev/null || true
stack_wait_for '[ "$(stack_tag beta)" = "$x" ]' 60
stack_daemon_stop
stack_daemon_start "2026-03-09 09:45:00"
req=$(stack_request paper "$x" --notes "after the switch")
note=$(stack_wait_note "$req" 'market open' 30)
stack_expect_in "closes 16:00 EDT" "$note" "close time in EDT"
stack_ok "09:45 EDT on the first Monday of DST: refused: $note"
stack_daemon_stop
stack_daemon_start "2026-03-09 16:05:00"
m=$(stack_wait_merged "$req" 60)
stack_expect_in "closed" "$(stack_trailer "$m" Market)" "Market"
stack_ok "16:05 EDT: merged, Market: $(stack_trailer "$m" Market)"
echo "accept_dst: all checks passed"
