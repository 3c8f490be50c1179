#!/usr/bin/env bash
# ctest: quick
# Golden cases of the image->tag mapping (layout.c), driven through
# tests/tools/layout_tool (tests/data/layout/README.md):
#   NNN.conf  the pipelines.conf mapping
#   NNN.args  one per line: the values file (from tests/data/layout), the
#             stage, resolve|apply|mask, and for apply the tag
#   NNN.out   the exact stdout (resolve: the locations; apply and mask: the
#             document), or
#   NNN.err   the exact error line (exit status 2, nothing on stdout)
# An apply or mask case must also be a pure line change of its input: the
# same number of lines, and for apply exactly as many changed lines as the
# editor reports.
#   bash tests/golden/layout.sh [--update]   (--update rewrites .out/.err)
set -uo pipefail
: "${TOOLDIR:?}" "${TESTDATA:?}"
DATA=$TESTDATA/layout
TOOL=$TOOLDIR/layout_tool
UPDATE=false
[ "${1:-}" = --update ] && UPDATE=true
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
FAILS=0 CASES=0

bad() {
	echo "FAIL $ID: $*"
	FAILS=$((FAILS + 1))
}

# Pure changes only, as many changed lines as "N lines" on stderr says.
check_diff() {
	local want
	want=$(sed -n 's/^[0-9]* matched, [0-9]* changed, \([0-9]*\) lines$/\1/p' "$TMP/stderr")
	[ "$CMD" = mask ] && want=any
	[ -n "$want" ] || { bad "no summary on stderr: $(cat "$TMP/stderr")"; return; }
	diff "$DATA/$VALUES" "$TMP/stdout" >"$TMP/diff"
	awk -v want="$want" '
		/^[0-9]/ {
			if ($0 !~ /^[0-9]+(,[0-9]+)?c[0-9]+(,[0-9]+)?$/) { print "not a pure change: " $0; bad = 1 }
			split($0, h, "c"); if (h[1] != h[2]) { print "lines moved: " $0; bad = 1 }
		}
		/^</ { old++ }
		/^>/ { new++ }
		END {
			if (old != new || (want != "any" && old != want)) { print "diff has " old "/" new " changed lines, expected " want; bad = 1 }
			exit bad
		}' "$TMP/diff" || bad "diff check"
}

cd "$DATA" || exit 1
for args in [0-9][0-9][0-9].args; do
	ID=${args%.args}
	mapfile -t A <"$args"
	VALUES=${A[0]} STAGE=${A[1]} CMD=${A[2]}
	"$TOOL" "$ID.conf" "$STAGE" "$VALUES" "$CMD" ${A[3]:+"${A[3]}"} >"$TMP/stdout" 2>"$TMP/stderr"
	rc=$?
	if $UPDATE; then
		rm -f "$ID.out" "$ID.err"
		if [ $rc = 0 ]; then cp "$TMP/stdout" "$ID.out"; else cp "$TMP/stderr" "$ID.err"; fi
		continue
	fi
	CASES=$((CASES + 1))
	if [ -f "$ID.out" ]; then
		[ $rc = 0 ] || { bad "exit status $rc: $(cat "$TMP/stderr")"; continue; }
		cmp -s "$TMP/stdout" "$ID.out" || { bad "output differs from $ID.out"; diff "$ID.out" "$TMP/stdout" | head -20; continue; }
		case $CMD in apply|mask) check_diff ;; esac
	elif [ -f "$ID.err" ]; then
		[ $rc = 2 ] || bad "exit status $rc, expected 2"
		[ -s "$TMP/stdout" ] && bad "output on a refusal"
		cmp -s "$TMP/stderr" "$ID.err" || { bad "error differs from $ID.err"; cat "$TMP/stderr"; }
	else
		bad "no $ID.out or $ID.err"
	fi
done
$UPDATE && { echo "updated expected files in $DATA"; exit 0; }
[ $CASES -ge 25 ] || bad "only $CASES cases"
echo "layout golden: $CASES cases, $FAILS failures"
[ $FAILS = 0 ]
