#!/usr/bin/env bash
# Golden cases of the freeze file (freeze.c), driven through
# tests/tools/freeze_tool:
#   NNN.yaml   a freeze file, parsed: NNN.out holds the entries (line, id,
#              stages, start, end in UTC, breakGlass, reason), or NNN.err the
#              exact "file:line: what" lines (exit status 2)
#   NNN.args   one line: add|lift, a freeze file of this directory, and the
#              tool's arguments (freeze_tool.c; for add the reason is the
#              rest of the line); NNN.out the spliced file,
#              or NNN.err its refusal
# A splice that succeeds must parse again, and its diff against the input
# must only add lines (add) or only remove lines (lift).
#   bash tests/golden/freeze.sh [--update]   (--update rewrites .out/.err)
set -uo pipefail
: "${TOOLDIR:?}" "${TESTDATA:?}"
DATA=$TESTDATA/freeze
TOOL=$TOOLDIR/freeze_tool
UPDATE=false
[ "${1:-}" = --update ] && UPDATE=true
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
FAILS=0 CASES=0

bad() {
	echo "FAIL $ID: $*"
	FAILS=$((FAILS + 1))
}

judge() {
	if $UPDATE; then
		rm -f "$ID.out" "$ID.err"
		if [ $rc = 0 ]; then cp "$TMP/stdout" "$ID.out"; else cp "$TMP/stderr" "$ID.err"; fi
		return 1
	fi
	CASES=$((CASES + 1))
	if [ -f "$ID.out" ]; then
		[ $rc = 0 ] || { bad "exit status $rc: $(cat "$TMP/stderr")"; return 1; }
		cmp -s "$TMP/stdout" "$ID.out" || { bad "output differs from $ID.out"; diff "$ID.out" "$TMP/stdout" | head -20; return 1; }
	elif [ -f "$ID.err" ]; then
		[ $rc = 2 ] || bad "exit status $rc, expected 2"
		[ -s "$TMP/stdout" ] && bad "output on a refusal"
		cmp -s "$TMP/stderr" "$ID.err" || { bad "error differs from $ID.err"; cat "$TMP/stderr"; }
		return 1
	else
		bad "no $ID.out or $ID.err"
		return 1
	fi
	return 0
}

cd "$DATA" || exit 1
for f in [0-9][0-9][0-9].yaml; do
	ID=${f%.yaml}
	"$TOOL" parse "$f" >"$TMP/stdout" 2>"$TMP/stderr"
	rc=$?
	judge || true
done
for args in [0-9][0-9][0-9].args; do
	ID=${args%.args}
	read -r -a A <"$args"
	# the reason is the rest of the line after the fixed arguments
	if [ "${A[0]}" = add ]; then
		reason=$(cut -d' ' -f9- "$args")
		"$TOOL" add "${A[1]}" "${A[@]:2:6}" "$reason" >"$TMP/stdout" 2>"$TMP/stderr"
	else
		"$TOOL" "${A[0]}" "${A[1]}" "${A[@]:2}" >"$TMP/stdout" 2>"$TMP/stderr"
	fi
	rc=$?
	judge || continue
	cp "$TMP/stdout" "$TMP/spliced.yaml"
	"$TOOL" parse "$TMP/spliced.yaml" >/dev/null 2>&1 || bad "the spliced file does not parse"
	diff "${A[1]}" "$TMP/stdout" >"$TMP/diff"
	# add may rewrite only the key's own line ("freezes: []" -> "freezes:")
	# and give a last line its missing newline
	last=$(tail -c1 "${A[1]}" | od -An -c | tr -d ' ')
	case ${A[0]} in
	add) grep '^< ' "$TMP/diff" | grep -v '^< freezes:' |
		{ [ "$last" = '\n' ] || [ -z "$last" ] && cat || sed '$d'; } | grep . >/dev/null &&
		bad "add changed or removed lines" ;;
	lift) grep -q '^>' "$TMP/diff" && bad "lift changed or added lines" ;;
	esac
done
$UPDATE && { echo "updated expected files in $DATA"; exit 0; }
[ $CASES -ge 30 ] || bad "only $CASES cases"
echo "freeze golden: $CASES cases, $FAILS failures"
[ $FAILS = 0 ]
