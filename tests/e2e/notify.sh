#!/usr/bin/env bash
# ctest: quick
# ctest: serial
# notify.c on a real datagram socket: READY, STATUS, WATCHDOG at half of
# WATCHDOG_USEC only while the health predicate holds, RELOADING/READY,
# STOPPING last; and nothing at all without NOTIFY_SOCKET.
set -euo pipefail
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3
T=$(mktemp -d)
LPID=
cleanup() { [ -n "$LPID" ] && kill "$LPID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- messages:"; cat "$T/msgs" 2>/dev/null; exit 1; }

"$PY" "$SRCDIR/tests/tools/notify_listen.py" "$T/notify.sock" "$T/msgs" "$T/ready" 5 &
LPID=$!
for _ in $(seq 100); do [ -e "$T/ready" ] && break; sleep 0.05; done
[ -e "$T/ready" ] || fail "listener did not bind"

out=$(NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=200000 "$TOOLDIR/notify_driver")
wait "$LPID"; LPID=
echo "driver: $out"
case $out in "watchdog_ms=200 "*) ;; *) fail "driver did not see WATCHDOG_USEC: $out";; esac

# Message order and watchdog cadence, checked from the recorded timeline.
"$PY" - "$T/msgs" <<'EOF' || fail "timeline check"
import sys
msgs = [l.rstrip("\n").split(" ", 1) for l in open(sys.argv[1])]
msgs = [(int(t), m.split("|")) for t, m in msgs]
def idx(field):
    for i, (_, parts) in enumerate(msgs):
        if field in parts:
            return i
    sys.exit("missing %s" % field)
assert msgs[0][1] == ["READY=1", "STATUS=started"], msgs[0]
assert msgs[-1][1] == ["STOPPING=1"], msgs[-1]
serving = idx("STATUS=serving (second line is folded)")
sick, well = idx("STATUS=phase unhealthy"), idx("STATUS=phase healthy")
reload_i = idx("RELOADING=1")
assert any(p.startswith("MONOTONIC_USEC=") for p in msgs[reload_i][1])
ready2 = idx("STATUS=reloaded")
assert "READY=1" in msgs[ready2][1] and reload_i < ready2 < len(msgs) - 1
assert 0 < serving < sick < well < reload_i
pings = [t for t, p in msgs if p == ["WATCHDOG=1"]]
before = [t for t in pings if t < msgs[sick][0]]
during = [i for i, (t, p) in enumerate(msgs) if p == ["WATCHDOG=1"] and sick < i < well]
after = [i for i, (t, p) in enumerate(msgs) if p == ["WATCHDOG=1"] and i > well]
print("pings: %d before, %d while unhealthy, %d after" % (len(before), len(during), len(after)))
assert len(before) >= 4, "too few pings while healthy"
assert not during, "WATCHDOG=1 sent while unhealthy"
assert len(after) >= 3, "pings did not resume"
gaps = [b - a for a, b in zip(before, before[1:])]
print("gaps between pings (ms):", gaps)
# half of 200 ms; generous bounds for a loaded CI box
assert all(60 <= g <= 180 for g in gaps), gaps
EOF
echo "ok: READY, STATUS, WATCHDOG cadence, withheld while unhealthy, RELOADING/READY, STOPPING"

# No NOTIFY_SOCKET: a no-op, exit 0, no watchdog.
out=$(env -u NOTIFY_SOCKET -u WATCHDOG_USEC "$TOOLDIR/notify_driver")
[ "$out" = "watchdog_ms=0 pings=0" ] || fail "without NOTIFY_SOCKET: $out"
# A WATCHDOG_PID naming another process disables the watchdog.
out=$(NOTIFY_SOCKET="$T/none.sock" WATCHDOG_USEC=200000 WATCHDOG_PID=1 "$TOOLDIR/notify_driver")
[ "$out" = "watchdog_ms=0 pings=0" ] || fail "foreign WATCHDOG_PID: $out"
echo "ok: no-op without NOTIFY_SOCKET, watchdog off for a foreign WATCHDOG_PID"
