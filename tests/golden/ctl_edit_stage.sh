#!/usr/bin/env bash
# ctest: quick
# pipelinectl edit --stage S FILE: the configured mapping of a stage, the
# daemon's edit (layout.h), on the layouts of tests/data/check: a per-image
# template leaves a key that is not a configured image alone; a shared tag
# is one changed line; digests are written beside the tags and into a
# reference, and are required when the stage pins them.  The older form
# (FILE TAGPATH...) still sets every scalar the paths match.
set -uo pipefail
: "${PIPELINECTL:?}" "${TESTDATA:?}"
PIPELINECTL=$(realpath "$PIPELINECTL")
D=$TESTDATA/check
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
FAILS=0
bad() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok - $*"; }
Z=0000000000000000000000000000000000000000
A=4f2a9c17e0b3d5a86c1f2e9b7d4a6c8e0f1b3d5a

# conf CASE: the case's configuration (no repository is read by edit)
conf() {
	local vd=values
	[ -f "$D/$1/valuesdir" ] && vd=$(cat "$D/$1/valuesdir")
	printf '[repository]\n\turl = %s\n\tvaluesDir = %s\n' "$T/unused.git" "$vd" >"$T/$1.conf"
	cat "$D/$1/conf" >>"$T/$1.conf"
}

# changed_lines A B: the "<" / ">" lines of diff A B
changed() { diff "$1" "$2" | grep -c '^>' || true; }

# --- a per-image template ---------------------------------------------------
conf 001-template
f=$D/001-template/repo/values/values-beta.yaml
rc=0
"$PIPELINECTL" -c "$T/001-template.conf" edit --stage beta "$f" --tag $A >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" = 0 ] || bad "template: exit $rc: $(cat "$T/err")"
sed "s/tag: \"$Z\"/tag: \"$A\"/" "$f" >"$T/want"
cmp -s "$T/out" "$T/want" || { bad "template: not exactly the two image tags"; diff "$T/want" "$T/out"; }
grep -q 'tag: "7.2"' "$T/out" || bad "template: redis (not a configured image) was edited"
ok "edit --stage beta: api and worker set, redis (not an image) untouched, nothing else"

"$PIPELINECTL" edit "$f" 'services.*.image.tag' --tag $A >"$T/out2" 2>"$T/err" || bad "old form: $(cat "$T/err")"
[ "$(changed "$f" "$T/out2")" = 3 ] || bad "old form: expected every matched scalar (3) set"
ok "edit FILE TAGPATH... still sets every scalar the paths match"

cp "$f" "$T/inplace.yaml"
"$PIPELINECTL" -c "$T/001-template.conf" edit --stage beta "$T/inplace.yaml" --tag $A -i -v 2>"$T/err" ||
	bad "-i: $(cat "$T/err")"
cmp -s "$T/inplace.yaml" "$T/want" || bad "-i did not write the edit"
grep -q "2 changed" "$T/err" || bad "-v: $(cat "$T/err")"
ok "edit --stage -i writes the file; -v says 2 changed"

# --- one shared tag -------------------------------------------------------------
conf 002-shared
f=$D/002-shared/repo/values/values-beta.yaml
"$PIPELINECTL" -c "$T/002-shared.conf" edit --stage beta "$f" --tag $A >"$T/out" 2>"$T/err" ||
	bad "shared: $(cat "$T/err")"
[ "$(changed "$f" "$T/out")" = 1 ] || bad "shared: expected one changed line"
grep -q "^    tag: $A\$" "$T/out" || bad "shared: global.image.tag not set (plain scalar kept plain)"
ok "edit --stage on a shared tag: one line"

# --- digests --------------------------------------------------------------------
conf 003-mixed
f=$D/003-mixed/repo/deploy/values-beta.yaml
rc=0
"$PIPELINECTL" -c "$T/003-mixed.conf" edit --stage beta "$f" --tag $A >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" = 2 ] && grep -q "writes digests: --digest orders=... is missing" "$T/err" ||
	bad "digest stage without --digest: exit $rc: $(cat "$T/err")"
args=()
i=0
for img in orders billing dashboard superset gateway; do
	i=$((i + 1))
	args+=(--digest "$img=sha256:$(printf "%064d" $((i * 7)) | tr 0 a)")
done
rc=0
"$PIPELINECTL" -c "$T/003-mixed.conf" edit --stage beta "$f" --tag $A "${args[@]}" >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" = 0 ] || bad "digests: exit $rc: $(cat "$T/err")"
[ "$(grep -c "$A" "$T/out")" = 5 ] || bad "digests: 5 tags expected: $(cat "$T/out")"
grep -q "gateway:$A@sha256:aaaa" "$T/out" || bad "digests: the reference's digest suffix"
grep -q "digest: 'sha256:aaaa" "$T/out" || bad "digests: single quotes kept on superset's digest"
[ "$(changed "$f" "$T/out")" = 9 ] || bad "digests: expected 9 changed lines (4 tags, 4 digests, 1 reference)"
ok "edit --stage with --digest: tags, sibling digests and the reference's @sha256 suffix"

# --- refusals ---------------------------------------------------------------------
run2() {	# WHAT ARGS...: exit 2 expected
	local what=$1 rc=0
	shift
	"$PIPELINECTL" "$@" >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" = 2 ] || bad "$what: exit $rc: $(cat "$T/err")"
	[ ! -s "$T/out" ] || bad "$what: printed a document"
}
run2 "unknown --digest image" -c "$T/003-mixed.conf" edit --stage beta "$f" --tag $A --digest nope=sha256:1
run2 "--digest without =" -c "$T/003-mixed.conf" edit --stage beta "$f" --tag $A --digest orders
run2 "--digest without --stage" edit "$f" 'x.tag' --tag $A --digest orders=sha256:1
run2 "--stage and tag paths" -c "$T/001-template.conf" edit --stage beta "$f" services.x.tag --tag $A
run2 "--stage of an evidence stage" -c "$T/001-template.conf" edit --stage ci "$f" --tag $A
run2 "--stage without a configuration" -c "$T/none.conf" edit --stage beta "$f" --tag $A
run2 "a file the mapping does not fit" -c "$T/001-template.conf" edit --stage beta \
	"$D/002-shared/repo/values/values-beta.yaml" --tag $A
grep -q "image" "$T/err" || bad "a file the mapping does not fit: the error does not name the image: $(cat "$T/err")"
ok "bad --digest, --stage with paths, an evidence stage, no configuration, a file that does not fit: exit 2"

if [ "$FAILS" -ne 0 ]; then
	echo "$FAILS check(s) failed"
	exit 1
fi
echo "all edit --stage checks passed"
