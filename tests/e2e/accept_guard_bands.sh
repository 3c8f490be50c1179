#!/usr/bin/env bash
# ctest: timing
# Issue 14 item 2 on the real stack (sshd + git-shell, docker-registry,
# pipelined under the fake clock): paper has quietBefore = 30m and
# quietAfter = 15m.  A paper request at 09:05 ET (market closed, before the
# open) is refused like market-open and queued until the end of the band;
# at 16:10 (market closed, after the close) it still is; it merges at
# 16:15:00 ET, by the committer time of the promotion commit.  Beta, without
# bands and not market-gated, promotes at 09:05.  pipelinectl window shows
# the band.
. "$SRCDIR/tests/fixtures/stack.sh"
stack_start "2026-12-01 09:04:00"	# a Tuesday
stack_conf_set stage.paper.quietBefore 30m
stack_conf_set stage.paper.quietAfter 15m
x=$(stack_release "feat: auction imbalance feed")
stack_daemon_start "2026-12-01 09:04:40"
stack_kick >/dev/null || true
stack_wait_for '[ "$(stack_tag beta)" = "$x" ]' 20
stack_ok "beta (no bands) promoted at $(TZ=America/New_York date -d "@$(stack_now)" +%T) ET"

out=$(stack_ctl window --at 2026-12-01T09:05:00-05:00)
stack_expect_in "Quiet paper  now: Tue 2026-12-01 09:00:00 EST to Tue 2026-12-01 16:15:00 EST (30m before the open, 15m after the close)" "$out" "pipelinectl window"
stack_expect_in "closed (before open)" "$out" "pipelinectl window: the market itself"
json=$(stack_ctl --json window --at 2026-12-01T16:15:00-05:00)
stack_expect_eq "$(jq -c '.quiet[0] | [.stage, .quiet, .from, .until]' <<<"$json")" \
	'["paper",false,"2026-12-02T14:00:00Z","2026-12-02T21:15:00Z"]' "pipelinectl window --json at 16:15:00"
stack_ok "pipelinectl window shows paper's band"

req=$(stack_request paper "$x" --notes "auction imbalance feed")
note=$(stack_wait_note "$req" 'paper is quiet' 30)
now=$(stack_now)
stack_expect_in "blocked: market closed (before open); paper is quiet from 09:00 EST to 16:15 EST (30m before the open, 15m after the close); queued until the quiet band ends; add a Break-Glass: trailer to override" "$note" "note at 09:05"
st=$(stack_status)
stack_expect_eq "$(jq -r --arg c "$req" '.requests[] | select(.commit == $c) | .state + " " + .code + " " + .queued_until' <<<"$st")" \
	"queued market-open 2026-12-01T21:15:00Z" "status at 09:05"
stack_expect_eq "$(jq -c '.stages[] | select(.name == "paper") | .quiet' <<<"$st")" \
	'{"before_s":1800,"after_s":900,"in":true,"from":"2026-12-01T14:00:00Z","until":"2026-12-01T21:15:00Z"}' "status: paper's band (the dashboard's Quiet line)"
stack_expect_eq "$(stack_tag paper)" 0000000000000000000000000000000000000000 "paper at 09:05"
stack_ok "at $(TZ=America/New_York date -d "@$now" +%T) ET: refused market-open-style, queued until 16:15"

stack_daemon_stop
stack_daemon_start "2026-12-01 16:09:55"
note=$(stack_wait_note "$req" 'after close.*paper is quiet' 30)
stack_expect_in "blocked: market closed (after close); paper is quiet from 09:00 EST to 16:15 EST" "$note" "note at 16:10"
stack_wait_cycles 2
now=$(stack_now)
[ "$now" -lt "$(TZ=America/New_York date -d '2026-12-01 16:15:00' +%s)" ] ||
	stack_fail "set-up took too long: it is already past 16:15 on the fake clock"
stack_expect_eq "$(stack_tag paper)" 0000000000000000000000000000000000000000 "paper at 16:10"
stack_ok "at $(TZ=America/New_York date -d "@$now" +%T) ET: still refused in the band after the close"

stack_daemon_stop
stack_daemon_start "2026-12-01 16:14:30"
end=$(TZ=America/New_York date -d '2026-12-01 16:15:00' +%s)
m=$(stack_wait_merged "$req" 60)
ct=$(stack_git log -1 --format=%ct "$m")
delay=$((ct - end))
[ "$delay" -ge 0 ] || stack_fail "merged ${delay}s BEFORE the end of the band"
# one 1s poll cycle, plus slack for a loaded machine (the edge timer fires
# at 16:15:00.2; the cycle then fetches, decides and pushes under ASan)
[ "$delay" -le 5 ] || stack_fail "merged ${delay}s after the end of the band (want within a cycle)"
stack_expect_eq "$(stack_tag paper)" "$x" "paper after the band"
stack_expect_in "closed (after close)" "$(stack_trailer "$m" Market)" "Market trailer"
[ -z "$(stack_trailer "$m" Break-Glass)" ] || stack_fail "queued promotion claims break-glass"
stack_ok "merged at 16:15:0$delay ET, the end of the band, without break-glass"
stack_daemon_stop
