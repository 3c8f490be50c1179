#!/usr/bin/env bash
# ctest: quick
# The NYSE calendar by rule: the rules alone reproduce the 2026-2028 table
# the exchange announced (and pipelined shipped before it had rules)
# exactly, every holiday and early close and nothing extra; the rules plus
# the shipped exceptions reproduce the exchange's published calendars for
# 2018-2025; the old full table still loads and gives the same days.
# Every day is asked of the market window itself (tests/tools/calendar_table
# calls clock_window at 10:00 New York time on each weekday).
set -euo pipefail

: "${PIPELINECTL:?}" "${SRCDIR:?}" "${TOOLDIR:?}" "${TESTDATA:?}"
unset PIPELINED_ZONEINFO PIPELINED_CALENDAR
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
table="$TOOLDIR/calendar_table"
shipped="$SRCDIR/data/nyse.calendar"
old="$TESTDATA/calendar/nyse-2026-2028.calendar"
published="$TESTDATA/calendar/nyse-2018-2025.expected"

fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}

check() {
	echo "ok: $*"
}

# same WHAT EXPECTED ACTUAL: the two day lists are identical
same() {
	if ! diff -u "$2" "$3" >"$tmp/diff"; then
		fail "$1"
		sed 's/^/  | /' "$tmp/diff" >&2
	fi
}

# Date lines only, as the calendar file writes them.
grep -E '^[0-9]{4}-' "$old" >"$tmp/announced-2026-2028"
grep -E '^[0-9]{4}-' "$published" >"$tmp/published-2018-2025"
[ "$(wc -l <"$tmp/announced-2026-2028")" -eq 34 ] || fail "the 2026-2028 table is not 34 days"
[ "$(wc -l <"$tmp/published-2018-2025")" -eq 95 ] || fail "the 2018-2025 table is not 95 days"

"$table" 2026 2028 >"$tmp/rules-2026-2028"
same "the rules alone differ from the announced 2026-2028 calendar" \
	"$tmp/announced-2026-2028" "$tmp/rules-2026-2028"
check "the rules alone give the announced 2026-2028 calendar exactly (34 days)"

"$table" --calendar "$shipped" 2026 2028 >"$tmp/shipped-2026-2028"
same "the shipped calendar differs from the announced 2026-2028 calendar" \
	"$tmp/announced-2026-2028" "$tmp/shipped-2026-2028"
"$table" --calendar "$old" 2026 2028 >"$tmp/old-2026-2028"
same "the old full 2026-2028 table no longer gives the same days" \
	"$tmp/announced-2026-2028" "$tmp/old-2026-2028"
check "the shipped exceptions and the old full table both give the same 2026-2028"

"$table" --calendar "$shipped" 2018 2025 >"$tmp/shipped-2018-2025"
same "rules + shipped exceptions differ from the published 2018-2025 calendars" \
	"$tmp/published-2018-2025" "$tmp/shipped-2018-2025"
check "rules + exceptions give the published 2018-2025 calendars exactly (95 days)"

grep -v 'National Day of Mourning' "$tmp/published-2018-2025" >"$tmp/published-rules-only"
"$table" 2018 2025 >"$tmp/rules-2018-2025"
same "the rules alone differ from 2018-2025 by more than the days of mourning" \
	"$tmp/published-rules-only" "$tmp/rules-2018-2025"
check "the two days of mourning are the only exceptions 2018-2025 needs"

# --- what an operator sees with exceptions ----------------------------------
cat >"$tmp/changed.calendar" <<'CAL'
covers 2028-2028
2028-07-03 open Day before Independence Day, full session
2028-11-24 closed Day after Thanksgiving, closed this year
CAL
"$table" --calendar "$tmp/changed.calendar" 2028 2028 >"$tmp/changed"
grep -v -e '^2028-07-03 ' -e '^2028-11-24 ' "$tmp/announced-2026-2028" | grep '^2028-' >"$tmp/want"
echo "2028-11-24 closed Day after Thanksgiving, closed this year" >>"$tmp/want"
sort -o "$tmp/want" "$tmp/want"
same "an 'open' and a 'closed' exception do not replace exactly their rule day" \
	"$tmp/want" "$tmp/changed"
"$PIPELINECTL" window --calendar "$tmp/changed.calendar" --at 2028-07-03T19:59:00Z >"$tmp/out"
grep -qxF "Market:      open, closes 16:00 EDT (in 1m)" "$tmp/out" ||
	fail "an 'open' exception does not give a full session: $(cat "$tmp/out")"
check "'open' turns the rules' early close into a full session, 'closed' a day off"

printf 'covers 2028-2028\n2028-07-05 open Not a holiday\n2028-07-06 shut Nope\n' >"$tmp/bad.calendar"
rc=0
"$PIPELINECTL" window --calendar "$tmp/bad.calendar" --at 2028-07-05T15:00:00Z \
	>"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" -eq 2 ] || fail "a bad exception exited $rc, expected 2"
grep -qxF "$tmp/bad.calendar:2: 2028-07-05 is a regular session by the exchange's rules; 'open' only overrides a holiday or an early close" "$tmp/err" ||
	fail "no file:line error for a needless 'open': $(cat "$tmp/err")"
grep -qxF "$tmp/bad.calendar:3: expected 'closed NAME', 'close HH:MM NAME' or 'open NAME' after 2028-07-06" "$tmp/err" ||
	fail "no file:line error for an unknown kind: $(cat "$tmp/err")"
check "an 'open' on a regular day and an unknown kind are file:line errors"

if [ "$fails" -ne 0 ]; then
	echo "$fails check(s) failed" >&2
	exit 1
fi
echo "all calendar checks passed"
