#!/usr/bin/env bash
# ctest: quick
# ctest: serial
# A server that accepts the TCP connection and never speaks (what a hung git
# host looks like): fetch, ls-remote, push and a whole transaction each give
# up at the deadline with ERR_TIMEOUT, the helper process is killed, and a
# libuv timer on the caller's loop keeps firing on schedule meanwhile.
. "$SRCDIR/tests/fixtures/gitops-lib.sh"
# shellcheck source=../fixtures/poll.sh
. "$SRCDIR/tests/fixtures/poll.sh"
start_sshd
new_repo r1

/usr/bin/python3 "$SRCDIR/tests/fixtures/silent-server.py" "$T/silent.port" &
SILENT_PID=$!
for _ in $(seq 100); do [ -s "$T/silent.port" ] && break; sleep 0.05; done
port=$(cat "$T/silent.port")
DEADLINE=1500
TICK=50

silent() {
	"$DRIVE" --url "ssh://git@127.0.0.1:$port/srv/x.git" --key "$KEY_ED25519" \
		--known-hosts "$KNOWN_HOSTS" --mirror "$T/mirror-silent" \
		--deadline-ms $DEADLINE --tick-ms $TICK "$@"
}

for op in fetch ls-remote "push refs/heads/x refs/heads/x -" \
	"edit values/values-beta.yaml x promote"; do
	set +e
	# shellcheck disable=SC2086
	out=$(silent $op)
	rc=$?
	set -e
	[ $rc -ne 0 ] || fail "$op against a silent server succeeded"
	expect_in "rc=-7" "$out" "$op: ERR_TIMEOUT"
	expect_in "timed out after ${DEADLINE}ms (helper killed)" "$out" "$op: message"
	elapsed=$(sed -n 's/^elapsed_ms //p' <<<"$out")
	ticks=$(sed -n 's/^ticks \([0-9]*\) .*/\1/p' <<<"$out")
	gap=$(sed -n 's/.*maxgap_ms //p' <<<"$out")
	# The upper bound leaves room for killing and reaping the helper on a
	# busy machine.
	if [ "$elapsed" -lt $DEADLINE ] || [ "$elapsed" -ge $((DEADLINE + 1500)) ]; then
		fail "$op: gave up after ${elapsed}ms, deadline ${DEADLINE}ms"
	fi
	[ "$gap" -le $((3 * TICK)) ] || fail "$op: loop blocked, largest timer gap ${gap}ms"
	[ "$ticks" -ge $((DEADLINE / TICK / 2)) ] || fail "$op: only $ticks ticks in ${elapsed}ms"
	ok "$op: ERR_TIMEOUT after ${elapsed}ms (deadline ${DEADLINE}ms); timer ticked $ticks times, largest gap ${gap}ms"
done

# no helper survives its deadline (the kill is sent at the deadline; its
# reaping may lag on a loaded machine, so allow it a few seconds)
helper_gone() { ! pgrep -f "pipelined-git .*127.0.0.1:$port" >/dev/null; }
poll_until 5 helper_gone || fail "a killed helper is still running 5 s after its deadline"
ok "no pipelined-git helper outlives its deadline"

# the same loop does real work over SSH with the timer still on schedule
out=$("$DRIVE" --url "$SSH_URL_BASE/r1.git" --key "$KEY_ED25519" --known-hosts "$KNOWN_HOSTS" \
	--mirror "$T/mirror-r1" --deadline-ms 20000 --tick-ms $TICK \
	edit values/values-beta.yaml '# ticked' 'promote beta: while ticking')
gap=$(sed -n 's/.*maxgap_ms //p' <<<"$out")
expect_in "commit " "$out" "transaction while ticking"
[ "$gap" -le $((3 * TICK)) ] || fail "loop blocked during a real transaction: gap ${gap}ms"
ok "a real fetch+commit+push transaction leaves the loop free (largest gap ${gap}ms)"
