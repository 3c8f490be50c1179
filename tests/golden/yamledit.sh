#!/usr/bin/env bash
# ctest: cost 25
# Golden cases for `pipelinectl edit` (tests/data/yamledit/README.md):
#   NNN.in    the document
#   NNN.args  the arguments after FILE, one per line (tag paths, --tag, TAG)
#   NNN.out   the expected document, or
#   NNN.err   the expected error line (exit status 2)
# Each case runs in its own directory on a copy named values.yaml.  For an
# .out case the diff against the input must be pure line changes, one line per
# changed scalar, each carrying the new tag, and -i must write exactly .out.
# For an .err case -i must leave the file byte-identical and no temp file.
#   bash tests/golden/yamledit.sh [--update]   (--update rewrites .out/.err)
# Each case runs two sanitizer-built pipelinectl processes, which cost most;
# around them the script uses shell builtins where a process would do the
# same (cd without a subshell, globs for ls, parameter expansion).
set -uo pipefail
shopt -s dotglob nullglob
: "${PIPELINECTL:?}" "${TESTDATA:?}"
DATA=$TESTDATA/yamledit
UPDATE=false
[ "${1:-}" = --update ] && UPDATE=true
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
FAILS=0
CASES=0

bad() {
	echo "FAIL $ID: $*"
	FAILS=$((FAILS + 1))
}

# The tag is the argument after --tag in the .args file: in TAG.
case_tag() {
	local prev= a
	TAG=
	for a in "${ARGS[@]}"; do
		[ "$prev" = --tag ] && { TAG=$a; return; }
		prev=$a
	done
}

# in_dir DIR COMMAND...: COMMAND run from DIR, without a subshell
in_dir() {
	local rc=0 back=$PWD
	cd "$1" || return
	shift
	"$@" || rc=$?
	cd "$back" || exit 1
	return $rc
}

# The files left in DIR, as `ls -A` names them: in LEFT.
left_in() {
	local f
	LEFT=
	for f in "$1"/*; do
		LEFT+="${LEFT:+$'\n'}${f##*/}"
	done
}

# Pure changes only ("NcN" / "N,McN,M" with equal ranges), one changed line
# per line the editor reported, every new line holding the tag.
check_diff() {
	local dir=$1 lines=$2 tag
	case_tag
	tag=$TAG
	diff "$dir/values.yaml" "$dir/stdout" >"$dir/diff"
	awk -v want="$lines" -v tag="$tag" '
		/^[0-9]/ {
			if ($0 !~ /^[0-9]+(,[0-9]+)?c[0-9]+(,[0-9]+)?$/) { print "not a pure change: " $0; bad = 1 }
			split($0, h, "c"); if (h[1] != h[2]) { print "lines moved: " $0; bad = 1 }
		}
		/^</ { old++ }
		/^>/ { new++; if (index($0, tag) == 0) { print "changed line lacks the tag: " $0; bad = 1 } }
		END {
			if (old != want || new != want) { print "diff has " old "/" new " changed lines, expected " want; bad = 1 }
			exit bad
		}' "$dir/diff"
}

run_ok() {
	local dir=$1 lines
	if ! cmp -s "$dir/stdout" "$CASE.out"; then
		bad "output differs from $ID.out"; diff "$CASE.out" "$dir/stdout" | head -20
		return
	fi
	lines=$(sed -n 's/^pipelinectl: values.yaml: [0-9]* matched, [0-9]* changed, \([0-9]*\) lines$/\1/p' "$dir/stderr")
	[ -n "$lines" ] || { bad "no summary on stderr: $(<"$dir/stderr")"; return; }
	check_diff "$dir" "$lines" || bad "diff check"
	cp "$CASE.in" "$dir/inplace/values.yaml"
	in_dir "$dir/inplace" "$PIPELINECTL" edit -i values.yaml "${ARGS[@]}" || bad "-i failed"
	cmp -s "$dir/inplace/values.yaml" "$CASE.out" || bad "-i did not write $ID.out"
	left_in "$dir/inplace"
	[ "$LEFT" = values.yaml ] || bad "-i left files: $LEFT"
}

run_err() {
	local dir=$1 rc=$2
	[ "$rc" -eq 2 ] || bad "exit status $rc, expected 2"
	[ -s "$dir/stdout" ] && bad "output on a refused edit"
	cmp -s "$dir/stderr" "$CASE.err" || { bad "error differs from $ID.err"; cat "$dir/stderr"; return; }
	cp "$CASE.in" "$dir/inplace/values.yaml"
	in_dir "$dir/inplace" "$PIPELINECTL" edit -i values.yaml "${ARGS[@]}" 2>/dev/null && bad "-i succeeded"
	cmp -s "$dir/inplace/values.yaml" "$CASE.in" || bad "-i changed the file on a refused edit"
	left_in "$dir/inplace"
	[ "$LEFT" = values.yaml ] || bad "-i left files: $LEFT"
}

for IN in "$DATA"/*.in; do
	CASE=${IN%.in}
	ID=${CASE##*/}
	DIR=$TMP/$ID
	mapfile -t ARGS <"$CASE.args"
	mkdir -p "$DIR/inplace" && cp "$IN" "$DIR/values.yaml"
	RC=0
	in_dir "$DIR" "$PIPELINECTL" edit -v values.yaml "${ARGS[@]}" >"$DIR/stdout" 2>"$DIR/stderr" || RC=$?
	CASES=$((CASES + 1))
	if $UPDATE; then
		rm -f "$CASE.out" "$CASE.err"
		if [ $RC -eq 0 ]; then cp "$DIR/stdout" "$CASE.out"; else cp "$DIR/stderr" "$CASE.err"; fi
	fi
	if [ -f "$CASE.out" ]; then
		[ $RC -eq 0 ] || { bad "exit status $RC: $(<"$DIR/stderr")"; continue; }
		run_ok "$DIR"
	elif [ -f "$CASE.err" ]; then
		run_err "$DIR" "$RC"
	else
		bad "neither $ID.out nor $ID.err"
	fi
done

echo "yamledit golden: $CASES cases, $FAILS failures"
[ "$CASES" -ge 30 ] || { echo "FAIL: fewer than 30 cases"; exit 1; }
[ "$FAILS" -eq 0 ]
