#!/usr/bin/env bash
# ctest: quick
# From a repository on a real sshd + git-shell remote to a configuration
# pipelined accepts, as a newcomer would: `pipelinectl init URL --key
# --known-hosts -o FILE` over ssh, the key and known_hosts put beside the
# file under the names it gives them, `pipelined -n` says configuration OK,
# and `pipelinectl check` reads the same repository over ssh and shows the
# 14 tag locations per stage.  Then the layout moves under the
# configuration's feet (a direct push renames one service): check exits 1
# naming the image and the path, and after a fix it is 0 again.
. "$SRCDIR/tests/fixtures/cli-lib.sh"
: "${PIPELINED:?}"
start_sshd
seed_repo i1
D=$T/etc
mkdir -p "$D"
URL=$SSH_URL_BASE/i1.git

out=$("$PIPELINECTL" init "$URL" --key "$KEY_ED25519" --known-hosts "$KNOWN_HOSTS" -o "$D/pipelines.conf" 2>&1) ||
	fail "init over ssh: $out"
expect_in "wrote $D/pipelines.conf" "$out" "init says where it wrote"
grep -qxF "	url = $URL" "$D/pipelines.conf" || fail "url: $(grep 'url =' "$D/pipelines.conf")"
grep -qxF "	sshKey = deploy_key" "$D/pipelines.conf" || fail "sshKey not named"
grep -q "^# check: 3 of 3 stages can be promoted" "$D/pipelines.conf" || fail "no passing check in the file"
ok "init over ssh writes a configuration whose appended check passes"

out=$("$PIPELINED" -n -c "$D/pipelines.conf" 2>&1) && fail "pipelined -n passed without the key files: $out"
expect_in "deploy_key" "$out" "-n names the missing key file"
cp "$KEY_ED25519" "$D/deploy_key"
cp "$KNOWN_HOSTS" "$D/known_hosts"
out=$("$PIPELINED" -n -c "$D/pipelines.conf" 2>&1) || fail "pipelined -n: $out"
[ "$out" = "configuration OK" ] || fail "pipelined -n said: $out"
ok "with the key files beside it under the names it gives, pipelined -n says configuration OK"

# the check reads the configured repository over ssh, from anywhere
out=$(cd "$T/seed-i1" && "$PIPELINECTL" -c "$D/pipelines.conf" check 2>&1) || fail "check: $out"
expect_in "repository: $URL branch main at $(remote_tip i1 | cut -c1-12)" "$(head -1 <<<"$out")" "check's first line"
[ "$(grep -c ' -> ' <<<"$out")" = 42 ] || fail "check: expected 14 locations in each of 3 stages: $out"
ok "pipelinectl check over ssh: 42 tag locations, first line names the url, branch and tip"

# the layout changes behind the configuration: one service renamed in paper
W=$T/w
git clone -q "$URL" "$W"
sed -i 's/^  risk:$/  risk-engine:/' "$W/values/values-paper.yaml"
git -C "$W" commit -q -am "rename risk in paper"
git -C "$W" push -q origin HEAD:main
rc=0
out=$("$PIPELINECTL" -c "$D/pipelines.conf" check 2>&1) || rc=$?
[ "$rc" = 1 ] || fail "check after the rename exited $rc: $out"
expect_in "paper: values/values-paper.yaml: cannot be promoted: image 'risk' has no tag location: tried services.risk.image.tag" \
	"$out" "the refusal names the image and the path"
expect_in "check: 2 of 3 stages can be promoted" "$out" "summary"
out=$("$PIPELINECTL" -c "$D/pipelines.conf" check --stage beta 2>&1) || fail "check --stage beta: $out"
git -C "$W" revert --no-edit HEAD >/dev/null
git -C "$W" push -q origin HEAD:main
out=$("$PIPELINECTL" -c "$D/pipelines.conf" check 2>&1) || fail "check after the revert: $out"
ok "a layout that stops fitting: exit 1 naming image and path; --stage beta still 0; fixed: 0"
echo "cli_init: all checks passed"
