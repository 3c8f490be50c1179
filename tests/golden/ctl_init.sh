#!/usr/bin/env bash
# ctest: quick
# pipelinectl init: from a repository to `pipelined -n` OK in two commands.
# A git repository is built from the project's own values/ files (14 images
# under services.<image>.image.tag); `pipelinectl init DIR -o FILE` writes a
# pipelines.conf whose appended check says every stage can be promoted,
# `pipelined -n -c FILE` says "configuration OK" and `pipelinectl check`
# agrees.  The same for the other layouts of tests/data/check (one shared
# tag; unrelated paths, quoting, a reference, several files), read by url
# as well as from a clone.  And the file is never overwritten without
# --force.
set -uo pipefail
: "${PIPELINECTL:?}" "${PIPELINED:?}" "${PIPELINED_GIT:?}" "${SRCDIR:?}" "${TESTDATA:?}"
PIPELINECTL=$(realpath "$PIPELINECTL")
PIPELINED=$(realpath "$PIPELINED")
export PIPELINED_GIT=$(realpath "$PIPELINED_GIT")
unset XDG_CACHE_HOME
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export HOME=$T/home
mkdir -p "$HOME"
git config --global user.name 'Chart Author'
git config --global user.email author@example.com
git config --global init.defaultBranch main
FAILS=0
bad() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok - $*"; }

# repo_from NAME DIR...: a clone T/NAME holding the given trees, committed
repo_from() {
	local name=$1
	shift
	git init -q "$T/$name"
	for d in "$@"; do cp -r "$d" "$T/$name/"; done
	git -C "$T/$name" add -A
	git -C "$T/$name" commit -q -m "chart"
}

# two_commands SRC CONF WHAT: init then pipelined -n, and check agrees
two_commands() {
	local rc=0 out
	out=$("$PIPELINECTL" init "$1" -o "$2" 2>&1) || rc=$?
	[ "$rc" = 0 ] || { bad "$3: init exited $rc: $out"; return; }
	grep -q "^# check: [0-9] of [0-9] stages* can be promoted: every image has exactly one tag location$" "$2" ||
		bad "$3: the check appended to the file does not say every stage can be promoted: $(sed -n '/---- pipelinectl check/,$p' "$2")"
	out=$("$PIPELINED" -n -c "$2" 2>&1) || bad "$3: pipelined -n failed: $out"
	[ "$out" = "configuration OK" ] || bad "$3: pipelined -n said: $out"
	rc=0
	out=$("$PIPELINECTL" -c "$2" check 2>&1) || rc=$?
	[ "$rc" = 0 ] || bad "$3: pipelinectl check of the written file exited $rc: $out"
}

# --- the project's own values files -------------------------------------------
repo_from own "$SRCDIR/values"
two_commands "$T/own" "$T/own.conf" "the project's values/"
grep -qxF "	url = $T/own" "$T/own.conf" || bad "url is not the clone's path: $(grep 'url =' "$T/own.conf")"
grep -qxF "	tagPath = services.{image}.image.tag" "$T/own.conf" || bad "no per-image template"
[ "$(grep -c '^	image = ' "$T/own.conf")" = 14 ] || bad "not 14 images: $(grep '^	image = ' "$T/own.conf")"
grep -qxF "	namespace = celesrenata/stonks-oracle" "$T/own.conf" || bad "namespace not inferred"
grep -qxF "	url = https://ghcr.io" "$T/own.conf" || bad "registry not inferred"
grep -q "^#sshKey\|^	#sshKey = deploy_key" "$T/own.conf" || bad "a local url should leave sshKey commented"
grep -q "^# beta: values/values-beta.yaml: ok, 14 images at 14 locations" "$T/own.conf" ||
	bad "the appended check does not list beta's 14 locations"
ok "the project's values/: init then pipelined -n says configuration OK (14 images, services.{image}.image.tag)"
echo "---- pipelinectl init on the project's values/ (for the record) ----"
sed 's/^/  | /' "$T/own.conf"

# --- the other layouts ---------------------------------------------------------
repo_from shared "$TESTDATA/check/002-shared/repo/values"
two_commands "$T/shared" "$T/shared.conf" "one shared tag"
grep -qxF "	tagPath = global.image.tag" "$T/shared.conf" || bad "shared: no global.image.tag"
grep -q "one tag scalar (global.image.tag) serves every image" "$T/shared.conf" || bad "shared: not explained"
ok "one shared tag (global.image.tag) is a shared path serving every image"

repo_from mixed "$TESTDATA/check/003-mixed/repo/deploy"
two_commands "$T/mixed" "$T/mixed.conf" "unrelated paths"
grep -qxF "	valuesDir = deploy" "$T/mixed.conf" || bad "mixed: valuesDir"
grep -qxF "	tagPath = backend.{image}.image.tag" "$T/mixed.conf" || bad "mixed: backend template"
grep -A2 -F '[image "gateway"]' "$T/mixed.conf" | grep -xF "	tagPath = gateway.image" >/dev/null ||
	bad "mixed: the reference gateway.image has no [image] path"
grep -qF '[stage "live"]' "$T/mixed.conf" && grep -A2 -F '[stage "live"]' "$T/mixed.conf" | grep "enabled = false" >/dev/null ||
	bad "mixed: live has no file and should be disabled"
ok "unrelated paths, mixed quoting and a reference: templates, [image] paths, live disabled"

# by url (a bare repository served by path), not a clone
git clone -q --bare "$T/own" "$T/own-bare.git"
rc=0
out=$("$PIPELINECTL" init "file://$T/own-bare.git" 2>"$T/err") || rc=$?
[ "$rc" = 0 ] || bad "init URL exited $rc: $(cat "$T/err")"
grep -qxF "	url = file://$T/own-bare.git" <<<"$out" || bad "init URL: url line: $(grep 'url =' <<<"$out")"
grep -q "^# check: 3 of 3 stages can be promoted" <<<"$out" || bad "init URL: no check"
ok "init URL (fetched into a throw-away mirror) writes to standard output"

# a clone of a hosted repository: the url written is its origin's, in the
# ssh form pipelined speaks, without credentials; the key files are named
git clone -q "$T/own" "$T/hosted"
git -C "$T/hosted" remote set-url origin "https://ci-bot:s3cret@github.com/acme/gitops"
rc=0
out=$("$PIPELINECTL" init "$T/hosted" 2>"$T/err") || rc=$?
grep -qxF "	url = ssh://git@github.com/acme/gitops.git" <<<"$out" || bad "origin url: $(grep 'url =' <<<"$out")"
grep -q "s3cret" <<<"$out" && bad "the origin's credentials were copied into the file"
grep -qxF "	sshKey = deploy_key" <<<"$out" && grep -qxF "	knownHosts = known_hosts" <<<"$out" ||
	bad "an ssh url without sshKey/knownHosts"
grep -q "^# check: 3 of 3 stages can be promoted" <<<"$out" || bad "hosted: the check ran on the clone"
ok "a clone's https origin becomes its ssh url (no credentials); sshKey and knownHosts are named"

# --- never overwrite ----------------------------------------------------------
cp "$T/own.conf" "$T/keep.conf"
rc=0
out=$("$PIPELINECTL" init "$T/shared" -o "$T/own.conf" 2>&1) || rc=$?
[ "$rc" = 2 ] && grep -q "exists; not overwritten (use --force)" <<<"$out" || bad "overwrite: $rc $out"
cmp -s "$T/own.conf" "$T/keep.conf" || bad "the existing file changed"
"$PIPELINECTL" init "$T/shared" -o "$T/own.conf" --force 2>/dev/null || bad "--force failed"
grep -qxF "	tagPath = global.image.tag" "$T/own.conf" || bad "--force did not write"
ok "an existing file is kept without --force and replaced with it"

# --- bad input ------------------------------------------------------------------
for args in "" "$T/nowhere-at-all" "--bogus $T/own" "$T/own -o"; do
	rc=0
	# shellcheck disable=SC2086
	out=$("$PIPELINECTL" init $args 2>&1) || rc=$?
	[ "$rc" = 2 ] || bad "init $args exited $rc: $out"
done
mkdir -p "$T/empty"
git init -q "$T/empty"
git -C "$T/empty" commit -q --allow-empty -m empty
rc=0
out=$("$PIPELINECTL" init "$T/empty" 2>&1) || rc=$?
grep -q "0 values files found" <<<"$out" || bad "an empty repository: $out"
ok "no source, a missing directory, a bad option, -o without a file: exit 2; an empty repository says so"

if [ "$FAILS" -ne 0 ]; then
	echo "$FAILS check(s) failed"
	exit 1
fi
echo "all init checks passed"
