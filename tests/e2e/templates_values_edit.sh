#!/usr/bin/env bash
# ctest: quick
# shellcheck disable=SC2016  # literal $ in awk programs and patterns
# The stage values files as pipelined edits them: the tag path
# services.*.image.tag that pipelines.conf names matches the 14 image tags of
# each file, and `pipelinectl edit` bumps them with a one-line diff per tag
# (14 changed lines, every other byte identical), idempotently, in place
# when asked. Needs `pipelinectl edit` (yamledit) and pipelines.conf.
set -euo pipefail
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
PIPELINECTL=${PIPELINECTL:?path to pipelinectl}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
pass=0
fail=0
ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
expect() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}

TAGPATH='services.*.image.tag'
OLD=0000000000000000000000000000000000000000
NEW1=3f1c2a9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a
NEW2=a94a8fe5ccb19ba61c4c0873d391e987982fbbd3

if "$PIPELINECTL" edit 2>&1 | grep "is not a command" >/dev/null; then
	echo "FAIL pipelinectl has no 'edit' command yet (needs yamledit)"
	exit 1
fi

conf=$SRCDIR/pipelines.conf
expect "pipelines.conf exists" [ -f "$conf" ]
expect "pipelines.conf: valuesDir = values" grep -qE '^\s*valuesDir\s*=\s*values\s*$' "$conf"

# changed_lines A B: the diff A -> B is only replaced lines; prints how many.
changed_lines() {
	diff "$1" "$2" | grep -c '^>' || true
}
only_tags_changed() { # orig new oldtag newtag
	local d lines
	# diff exits 1 when the files differ: read its output once, outside any
	# pipeline (under pipefail its status would decide every test below)
	d=$(diff "$1" "$2") && return 1
	lines=$(grep -E '^[<>]' <<<"$d")
	[ -n "$lines" ] || return 1
	# every removed line is a tag line with the old value, every added
	# line the same line with the new value
	[ "$(grep '^<' <<<"$d" | sed "s/$3/$4/")" = "$(grep '^>' <<<"$d" | sed 's/^>/</')" ] &&
		! grep -vE "^[<>]       tag: \"[0-9a-f]{40}\"$" <<<"$lines" >/dev/null
}

for stage in beta paper live; do
	f=$SRCDIR/values/values-$stage.yaml
	expect "pipelines.conf: [stage \"$stage\"] values = values-$stage.yaml" \
		awk -v s="[stage \"$stage\"]" -v want="values-$stage.yaml" '
			/^[[:space:]]*\[/ { in_s = (index($0, s) == 1) }
			in_s && $1 == "values" && $3 == want { found = 1 }
			END { exit !found }' "$conf"
	expect "pipelines.conf: [stage \"$stage\"] tagPath = $TAGPATH" \
		awk -v s="[stage \"$stage\"]" -v want="$TAGPATH" '
			/^[[:space:]]*\[/ { in_s = (index($0, s) == 1) }
			in_s && $1 == "tagPath" && $3 == want { found = 1 }
			END { exit !found }' "$conf"

	rc=0
	"$PIPELINECTL" edit "$f" "$TAGPATH" --tag "$NEW1" -v >"$W/$stage.1" 2>"$W/err" || rc=$?
	expect "values-$stage.yaml: edit exits 0" [ "$rc" -eq 0 ]
	expect "values-$stage.yaml: 14 tags matched" grep -q "14 matched" "$W/err"
	expect "values-$stage.yaml: exactly 14 lines changed" [ "$(changed_lines "$f" "$W/$stage.1")" -eq 14 ]
	expect "values-$stage.yaml: only the tag values changed, byte for byte" only_tags_changed "$f" "$W/$stage.1" "$OLD" "$NEW1"
	expect "values-$stage.yaml: every tag now $NEW1" [ "$(grep -c "tag: \"$NEW1\"" "$W/$stage.1")" -eq 14 ]

	"$PIPELINECTL" edit "$W/$stage.1" "$TAGPATH" --tag "$NEW2" >"$W/$stage.2"
	expect "values-$stage.yaml: second bump is again 14 one-line changes" \
		only_tags_changed "$W/$stage.1" "$W/$stage.2" "$NEW1" "$NEW2"
	"$PIPELINECTL" edit "$W/$stage.2" "$TAGPATH" --tag "$NEW2" >"$W/$stage.3"
	expect "values-$stage.yaml: same tag again changes nothing" cmp -s "$W/$stage.2" "$W/$stage.3"

	cp "$f" "$W/inplace.yaml"
	"$PIPELINECTL" edit "$W/inplace.yaml" "$TAGPATH" --tag "$NEW1" -i
	expect "values-$stage.yaml: -i writes the same bytes" cmp -s "$W/inplace.yaml" "$W/$stage.1"

	rc=0
	"$PIPELINECTL" edit "$f" "$TAGPATH" --tag "not a tag!" >"$W/bad" 2>"$W/err" || rc=$?
	expect "values-$stage.yaml: an invalid tag is refused (exit 2, message)" bash -c "[ $rc -eq 2 ] && [ -s '$W/err' ]"
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
