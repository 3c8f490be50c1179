#!/usr/bin/env bash
# ctest: quick
# The dashboard in a real browser (headless Chromium from scripts/deps.sh),
# against tests/tools/dashboard_testd: stages render, login through the
# page, the Break-Glass dialog refuses an empty justification, a justified
# request arrives.  Leaves a screenshot at $BUILDDIR/dashboard.png.
set -euo pipefail
T=$(mktemp -d)
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- server log:"; cat "$T/log" 2>/dev/null; exit 1; }
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || fail "no Chromium: run scripts/deps.sh"
htpasswd -nbBC 10 alice 'correct horse' > "$T/users"
: > "$T/record"
"$TOOLDIR/dashboard_testd" --port-file "$T/port" --status "$TESTDATA/dashboard/status.json" \
	--history-dir "$TESTDATA/dashboard" --record "$T/record" --users "$T/users" 2>"$T/log" &
PID=$!
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
[ -s "$T/port" ] || fail "dashboard_testd did not start"
start=$(date +%s)
node "$SRCDIR/tests/web/browser.js" "http://127.0.0.1:$(cat "$T/port")/" "$T/record" \
	"$BUILDDIR/dashboard.png" "$T/profile" || fail "browser test"
echo "browser test took $(( $(date +%s) - start ))s"
kill -TERM "$PID"
rc=0; wait "$PID" || rc=$?; PID=
[ "$rc" -eq 0 ] || fail "dashboard_testd exited $rc"
