#!/usr/bin/env bash
# ctest: quick
# ctest: cost 20
# Golden cases for `pipelinectl check` (tests/data/check/NNN-name/):
#   repo/       the files of the GitOps repository's branch
#   conf        pipelines.conf without [repository] and [daemon] (the test
#               writes those: the repository is a local bare one, served by
#               path, so no sshd is needed)
#   valuesdir   [repository] valuesDir when not "values"
#   out, rc     the expected standard output and exit status; in out, @T@
#               stands for the test's directory and @TIP@ for the branch tip
# Each case is checked twice: from a fresh fetch (into the user's cache)
# and again, the second run reading the same cache.  Then --stage, --json
# and the command's own errors.
#   bash tests/golden/ctl_check.sh [--update]   (--update rewrites out and rc)
set -uo pipefail
: "${PIPELINECTL:?}" "${PIPELINED_GIT:?}" "${TESTDATA:?}"
PIPELINECTL=$(realpath "$PIPELINECTL")
export PIPELINED_GIT=$(realpath "$PIPELINED_GIT")
unset XDG_CACHE_HOME
DATA=$TESTDATA/check
UPDATE=false
[ "${1:-}" = --update ] && UPDATE=true
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export HOME=$T/home
mkdir -p "$HOME"
git config --global user.name 'Chart Author'
git config --global user.email author@example.com
git config --global init.defaultBranch main
FAILS=0
CASES=0
bad() { echo "FAIL ${ID:-}: $*"; FAILS=$((FAILS + 1)); }

# make_repo DIR NAME: a bare repository T/NAME.git whose main holds DIR/repo
make_repo() {
	local w=$T/work-$2
	rm -rf "$w" "$T/$2.git"
	git init -q --bare "$T/$2.git"
	git init -q "$w"
	cp -r "$1/repo/." "$w/"
	git -C "$w" add -A
	GIT_COMMITTER_DATE=2026-03-07T15:00:00Z GIT_AUTHOR_DATE=2026-03-07T15:00:00Z \
		git -C "$w" commit -q -m "chart"
	git -C "$w" push -q "$T/$2.git" HEAD:refs/heads/main
	TIP=$(git -C "$w" rev-parse --short=12 HEAD)
}

# write_conf DIR NAME FILE
write_conf() {
	local vd=values
	[ -f "$1/valuesdir" ] && vd=$(cat "$1/valuesdir")
	{
		printf '[repository]\n\turl = %s\n\tbranch = main\n\tvaluesDir = %s\n' "$T/$2.git" "$vd"
		printf '[daemon]\n\tstateDir = %s\n' "$T/state"
		cat "$1/conf"
	} >"$3"
}

normalize() { sed -e "s#$T#@T@#g" -e "s#$TIP#@TIP@#g" -E -e "s#(/\.cache/pipelined/)[^)]*#\1@KEY@#"; }

for dir in "$DATA"/*/; do
	dir=${dir%/}
	ID=$(basename "$dir")
	CASES=$((CASES + 1))
	make_repo "$dir" "$ID"
	write_conf "$dir" "$ID" "$T/$ID.conf"
	for run in fetch cached; do
		rc=0
		"$PIPELINECTL" -c "$T/$ID.conf" check >"$T/out.raw" 2>"$T/err" || rc=$?
		normalize <"$T/out.raw" >"$T/out"
		if $UPDATE; then
			cp "$T/out" "$dir/out"
			echo "$rc" >"$dir/rc"
			break
		fi
		if ! cmp -s "$T/out" "$dir/out"; then
			bad "($run) output differs from $ID/out"
			diff "$dir/out" "$T/out" | head -30
		fi
		[ "$rc" = "$(cat "$dir/rc")" ] || bad "($run) exit $rc, expected $(cat "$dir/rc") ($(cat "$T/err"))"
		# a failing stage's reason goes to standard output with the stage;
		# standard error stays empty unless the command itself failed
		[ "$rc" = 2 ] || [ ! -s "$T/err" ] || bad "($run) unexpected stderr: $(cat "$T/err")"
	done
	echo "ok $ID"
done
$UPDATE && { echo "updated $CASES cases"; exit 0; }

# --- one stage, JSON -----------------------------------------------------------
ID=options
make_repo "$DATA/001-template" opt
write_conf "$DATA/001-template" opt "$T/opt.conf"
rc=0
out=$("$PIPELINECTL" -c "$T/opt.conf" check --stage paper 2>&1) || rc=$?
[ "$rc" = 0 ] || bad "--stage paper exited $rc: $out"
grep -q '^paper: ' <<<"$out" || bad "--stage paper does not show paper: $out"
! grep -qE '^(beta|live): ' <<<"$out" || bad "--stage paper shows other stages: $out"
rc=0
"$PIPELINECTL" -c "$T/opt.conf" --json check >"$T/json" 2>"$T/err" || rc=$?
[ "$rc" = 0 ] || bad "--json exited $rc: $(cat "$T/err")"
python3 - "$T/json" "$T/opt.git" <<'PY' || bad "--json document: $(cat "$T/json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] is True, d
assert d["repository"]["repository"] == sys.argv[2] and d["repository"]["branch"] == "main", d
assert [s["stage"] for s in d["stages"]] == ["beta", "paper", "live"], d
beta = d["stages"][0]
assert beta["ok"] and beta["error"] is None, beta
locs = beta["locations"]
assert [l["images"] for l in locs] == [["api"], ["worker"]], locs
assert locs[0]["path"] == "services.api.image.tag" and locs[0]["form"] == "tag", locs
assert locs[0]["line"] == 8 and locs[0]["column"] == 12, locs
assert locs[0]["value"] == "0" * 40 and locs[0]["rule"] == "services.{image}.image.tag", locs
assert beta["untouched"] == ["services.redis.image.tag"], beta
PY
echo "ok --stage and --json"

ID=errors
make_repo "$DATA/004-unresolved" err
write_conf "$DATA/004-unresolved" err "$T/err.conf"
rc=0
"$PIPELINECTL" -c "$T/err.conf" --json check >"$T/json" 2>"$T/err" || rc=$?
[ "$rc" = 1 ] || bad "--json of failing stages exited $rc"
python3 - "$T/json" <<'PY' || bad "--json of failing stages: $(cat "$T/json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] is False, d
assert all(not s["ok"] and s["error"] and s["locations"] == [] for s in d["stages"]), d
PY
for args in "--stage ci" "--stage nope" "--bogus" "--stage"; do
	rc=0
	# shellcheck disable=SC2086
	out=$("$PIPELINECTL" -c "$T/err.conf" check $args 2>&1) || rc=$?
	[ "$rc" = 2 ] || bad "check $args exited $rc: $out"
done
printf '[stage "paper"]\n\tenabled = false\n' >>"$T/err.conf"
rc=0
out=$("$PIPELINECTL" -c "$T/err.conf" check --stage paper 2>&1) || rc=$?
[ "$rc" = 2 ] && grep -q "stage 'paper' is disabled" <<<"$out" || bad "--stage of a disabled stage: $rc $out"
rc=0
out=$("$PIPELINECTL" -c "$T/none.conf" check 2>&1) || rc=$?
[ "$rc" = 2 ] || bad "check without a configuration exited $rc"
sed -i "s#url = .*#url = $T/gone.git#" "$T/opt.conf"
rc=0
out=$("$PIPELINECTL" -c "$T/opt.conf" check 2>&1) || rc=$?
[ "$rc" = 2 ] && grep -q "fetch from '$T/gone.git' failed" <<<"$out" ||
	bad "an unreachable repository: exit $rc: $out"
echo "ok errors: evidence stage, unknown stage, bad option, disabled stage, no configuration, unreachable repository"

if [ "$FAILS" -ne 0 ]; then
	echo "$FAILS of the checks failed ($CASES cases)"
	exit 1
fi
echo "all $CASES check cases passed"
