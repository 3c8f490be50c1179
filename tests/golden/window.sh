#!/usr/bin/env bash
# ctest: quick
# pipelinectl window: the acceptance lines of the market clock, the JSON
# shape, and the errors an operator can run into (bad --at, bad calendar,
# bad zone file).  Independent of the real time of day: every run passes
# --at.
set -euo pipefail

: "${PIPELINECTL:?}" "${SRCDIR:?}"
export PIPELINED_CALENDAR="$SRCDIR/data/nyse.calendar"
unset PIPELINED_ZONEINFO
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}

# run EXPECTED_RC ARGS...: stdout to $tmp/out, stderr to $tmp/err
run() {
	local want=$1 rc=0
	shift
	"$PIPELINECTL" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	if [ "$rc" -ne "$want" ]; then
		fail "pipelinectl $* exited $rc, expected $want"
		sed 's/^/  | /' "$tmp/out" "$tmp/err" >&2
	fi
}

expect_line() {
	if ! grep -qxF -- "$2" "$tmp/$1"; then
		fail "$1 lacks the line '$2'"
		sed 's/^/  | /' "$tmp/$1" >&2
	fi
}

expect_text() {
	if ! grep -qF -- "$2" "$tmp/$1"; then
		fail "$1 lacks '$2'"
		sed 's/^/  | /' "$tmp/$1" >&2
	fi
}

check() {
	echo "ok: $*"
}

# --- the acceptance lines ------------------------------------------------
run 0 window --at 2026-03-09T13:29:00Z
expect_line out "Market:      closed (before open), opens Mon 2026-03-09 09:30 EDT (in 1m)"
check "2026-03-09T13:29:00Z (first Monday on EDT, 09:29 local) is closed"

run 0 window --at 2026-03-09T13:30:00Z
expect_line out "Market:      open, closes 16:00 EDT (in 6h30m)"
expect_line out "Why:         weekday session"
expect_line out "New York:    Mon 2026-03-09 09:30:00 EDT (2026-03-09T13:30:00Z)"
expect_line out "Next close:  Mon 2026-03-09 16:00:00 EDT (2026-03-09T20:00:00Z)"
check "2026-03-09T13:30:00Z is open; local New York time and countdown shown"

run 0 window --at 2026-11-27T18:01:00Z
expect_line out "Market:      closed (after early close: Day after Thanksgiving), opens Mon 2026-11-30 09:30 EST (in 2d20h29m)"
check "2026-11-27T18:01:00Z is closed (early close at 13:00)"

run 0 window --at 2026-11-27T17:59:00Z
expect_line out "Market:      open, closes 13:00 EST (in 1m)"
check "2026-11-27T17:59:00Z is still open before the early close"

run 0 window --at 2026-11-26T15:00:00Z
expect_line out "Market:      closed (holiday: Thanksgiving Day), opens Fri 2026-11-27 09:30 EST (in 23h30m)"
expect_line out "Why:         holiday: Thanksgiving Day"
check "2026-11-26T15:00:00Z is closed (holiday)"

run 0 window --at 2026-11-28T12:00:00-05:00
expect_line out "Why:         weekend"
check "a ±hh:mm offset in --at is honoured (Saturday noon in New York)"

# --- JSON: exactly one object --------------------------------------------
run 0 --json window --at 2026-03-09T13:30:00Z
python3 - "$tmp/out" <<'PY' || fail "--json output is not the expected single object"
import json, re, sys
text = open(sys.argv[1]).read()
obj = json.loads(text)          # raises on a second document
assert isinstance(obj, dict), obj
assert obj["open"] is True, obj
assert obj["reason"] == "weekday session", obj
rfc = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
for k in ("next_change", "next_open", "next_close", "now"):
    assert rfc.match(obj[k]), (k, obj[k])
assert obj["next_change"] == "2026-03-09T20:00:00Z", obj
assert obj["next_open"] == "2026-03-10T13:30:00Z", obj
assert obj["seconds_to_change"] == 6 * 3600 + 1800, obj
assert obj["local_time"] == "2026-03-09T09:30:00-04:00", obj
assert obj["market"] == "open, closes 16:00 EDT", obj
assert "warning" not in obj, obj
PY
check "--json is one object: open true, reason, next_change 2026-03-09T20:00:00Z"

run 0 window --json --at 2026-11-26T15:00:00Z
python3 - "$tmp/out" <<'PY' || fail "--json (holiday) is wrong"
import json, sys
obj = json.loads(open(sys.argv[1]).read())
assert obj["open"] is False, obj
assert obj["reason"] == "holiday: Thanksgiving Day", obj
assert obj["reason_code"] == "holiday", obj
assert obj["next_change"] == "2026-11-27T14:30:00Z", obj
assert obj["next_close"] == "2026-11-27T18:00:00Z", obj
assert obj["market"] == "closed (holiday: Thanksgiving Day)", obj
PY
check "--json after the command, on a holiday: open false, next_change Friday 09:30 EST"

# --- beyond the calendar: the rules still apply, with a warning -------------
# Thanksgiving 2029 is past the shipped file's years: closed by the rules
# (it was a weekday session in the old weekday-only fallback), and the
# warning says only that closures announced for 2029 are unknown.
run 0 --json window --at 2029-11-22T17:00:00Z
python3 - "$tmp/out" <<'PY' || fail "--json beyond the calendar is wrong"
import json, sys
obj = json.loads(open(sys.argv[1]).read())
assert obj["open"] is False, obj
assert obj["reason"] == "holiday: Thanksgiving Day", obj
assert "outside the calendar's years 2018-2028" in obj["warning"], obj
assert "closures announced for that year are unknown" in obj["warning"], obj
assert "weekday rule" not in obj["warning"], obj
PY
run 0 window --at 2029-11-22T17:00:00Z
expect_line err "pipelinectl window: warning: 2029-11-22 is outside the calendar's years 2018-2028; holidays and early closes follow the exchange's rules, closures announced for that year are unknown"
expect_line out "Why:         holiday: Thanksgiving Day"
expect_line out "Market:      closed (holiday: Thanksgiving Day), opens Fri 2029-11-23 09:30 EST (in 21h30m)"
check "past 2028 the rules still close Thanksgiving; the warning names only the unknown closures"

run 0 window --at 2029-11-23T17:59:00Z
expect_line out "Market:      open, closes 13:00 EST (in 1m)"
check "past 2028 the day after Thanksgiving still closes at 13:00"

run 0 window --at 2025-01-09T15:00:00Z
expect_line out "Why:         holiday: National Day of Mourning for President Jimmy Carter"
[ -s "$tmp/err" ] && fail "a covered year printed a warning"
check "2025-01-09 (Carter day of mourning) is closed by the file's exception"

run 0 window --at 2021-12-31T20:59:00Z
expect_line out "Market:      open, closes 16:00 EST (in 1m)"
check "2021-12-31 is a full session: New Year's Day 2022 (a Saturday) is not observed"

# --- bad input -------------------------------------------------------------
for bad in garbage 2026-03-09 2026-03-09T13:30:00 2026-02-30T13:30:00Z 2026-03-09T13:30:00+5:00 ""; do
	run 2 window --at "$bad"
	expect_text err "pipelinectl window: --at: invalid RFC 3339 time '$bad'"
	[ -s "$tmp/out" ] && fail "bad --at '$bad' still printed to stdout"
done
check "bad --at values exit 2 with 'invalid RFC 3339 time' and no output"

run 2 window --at
expect_text err "'--at' needs a value"
run 2 window --frobnicate
expect_text err "unknown argument '--frobnicate'"
check "missing values and unknown arguments exit 2"

printf 'covers 2026-2026\n2026-11-26 closed Thanksgiving Day\n2026-11-28 closed Saturday\n2026-13-01 closed Nope\n' >"$tmp/bad.calendar"
run 2 window --calendar "$tmp/bad.calendar" --at 2026-11-26T15:00:00Z
expect_line err "$tmp/bad.calendar:3: 2026-11-28 is a Saturday; the market is closed on weekends anyway"
expect_line err "$tmp/bad.calendar:4: '2026-13-01' is neither a date (YYYY-MM-DD), 'covers' nor a comment"
check "a bad --calendar reports every error as file:line and exits 2"

run 2 window --calendar "$tmp/absent.calendar" --at 2026-11-26T15:00:00Z
expect_text err "cannot read calendar '$tmp/absent.calendar': not found"
check "an absent calendar is an error"

printf 'covers 2026-2026\n2026-11-25 closed Test Day\n' >"$tmp/test.calendar"
run 0 window --calendar="$tmp/test.calendar" --at 2026-11-25T15:00:00Z
expect_text out "holiday: Test Day"
PIPELINED_CALENDAR="$tmp/test.calendar" run 0 window --at 2026-11-25T15:00:00Z
expect_text out "holiday: Test Day"
check "--calendar and PIPELINED_CALENDAR choose the calendar"

printf 'TZif2 but not really\n' >"$tmp/zone"
PIPELINED_ZONEINFO="$tmp/zone" run 2 window --at 2026-03-09T13:30:00Z
expect_text err "bad TZif data"
expect_text err "$tmp/zone"
check "a present but unparsable zone file is a hard error"

PIPELINED_ZONEINFO="$tmp/no-such-zone" run 0 window --at 2026-03-09T13:30:00Z
expect_line out "Market:      open, closes 16:00 EDT (in 6h30m)"
check "an absent zone file falls back to the built-in New York rule"

PIPELINED_CALENDAR= run 0 window --at 2026-11-26T15:00:00Z
expect_text out "closed (holiday: Thanksgiving Day)"
check "the shipped calendar is found without any environment help"

cat >"$tmp/short.conf" <<'CONF'
[repository]
	url = file:///srv/gitops.git
[registry]
	namespace = acme/app
[market]
	close = 13:00
[stage "beta"]
	enabled = false
[stage "paper"]
	enabled = false
[stage "live"]
	enabled = false
CONF
PIPELINED_CALENDAR= run 0 -c "$tmp/short.conf" window --at 2026-03-09T17:30:00Z
expect_text out "closed (after close)"
check "[market] close from the -c configuration moves the window's end"

printf '[market]\n\tclose = 25:00\n' >"$tmp/bad.conf"
run 2 -c "$tmp/bad.conf" window --at 2026-03-09T17:30:00Z
expect_text err "bad.conf:2: bad value '25:00' for 'market.close'"
check "a bad -c configuration is reported with file:line and exit 2"

if [ "$fails" -ne 0 ]; then
	echo "$fails check(s) failed" >&2
	exit 1
fi
echo "all window checks passed"
