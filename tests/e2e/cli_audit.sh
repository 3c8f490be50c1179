#!/usr/bin/env bash
# pipelinectl log and audit on a history built here and served by a real
# sshd: well-formed promotions (the daemon's merges of real request
# commits) audit clean and read back in log; then each kind of tampering
# (direct push to values-paper.yaml, a paper promotion inside market hours
# without Break-Glass, a reused Request:, a skipped stage, promotion
# trailers from a non-daemon committer, an extra file in a promotion) is
# flagged with one line and exit 1; the CI invocation (audit BASE..HEAD in
# a checkout) and a promotion request's pull request are judged too.
. "$SRCDIR/tests/fixtures/cli-lib.sh"
start_sshd
seed_repo a1
C=$T/a.conf
write_conf "$C" a1
W=$T/w
git clone -q "$SSH_URL_BASE/a1.git" "$W"
T1=1111111111111111111111111111111111111111
T2=2222222222222222222222222222222222222222
T3=3333333333333333333333333333333333333333
SAT=2026-03-07T15:00:00Z   # Saturday: market closed
MON=2026-03-09T15:00:00Z   # Monday 11:00 EDT: market open
DAEMON_NAME=pipelined DAEMON_EMAIL=pipelined@gremlin-1

# promo STAGE SOURCE TAG DATE [REQUEST|new] [BREAK-GLASS]: the daemon's
# promotion commit on W's HEAD (a merge when there is a request); prints it.
# COMMITTER_NAME/COMMITTER_EMAIL override the daemon identity; EXTRA_FILE is
# also changed when set.
promo() {
	local st=$1 src=$2 tag=$3 date=$4 req=${5:-} bg=${6:-} tree c
	local args=(format --stage "$st" --source "$src" --tag "$tag" --inttest "passed 3/3")
	"$PIPELINECTL" edit "$W/values/values-$st.yaml" 'services.*.image.tag' --tag "$tag" -i >/dev/null
	[ -z "${EXTRA_FILE:-}" ] || echo "extra" >>"$W/$EXTRA_FILE"
	git -C "$W" add -A
	tree=$(git -C "$W" write-tree)
	if [ "$req" = new ]; then
		req=$(GIT_AUTHOR_DATE=$date GIT_COMMITTER_DATE=$date git -C "$W" commit-tree "$tree" \
			-p HEAD -m "promote $st: ${tag:0:7}")
	fi
	if [ "$date" = "$MON" ]; then args+=(--market "open, closes 16:00 EDT")
	else args+=(--market "closed (weekend)"); fi
	[ -z "$req" ] || args+=(--request "$req" --requested-by "Other Writer <writer@example.com>")
	if [ -n "$bg" ]; then printf %s "$bg" >"$T/bg"; args+=(--break-glass-file "$T/bg"); fi
	"$TOOLDIR/trailer_fmt" "${args[@]}" >"$T/msg"
	c=$(GIT_COMMITTER_NAME=${COMMITTER_NAME:-$DAEMON_NAME} \
		GIT_COMMITTER_EMAIL=${COMMITTER_EMAIL:-$DAEMON_EMAIL} GIT_COMMITTER_DATE=$date \
		GIT_AUTHOR_DATE=$date git -C "$W" commit-tree "$tree" -p HEAD ${req:+-p "$req"} -F "$T/msg")
	git -C "$W" reset -q --hard "$c"
	echo "$c"
}
# audit_ci: the CI template's invocation inside the checkout (--repo .);
# sets RC and OUT
audit_ci() {
	RC=0
	OUT=$(cd "$W" && "$PIPELINECTL" -c "$C" audit --repo . "$@" 2>&1) || RC=$?
}
# expect_one CODE: exit 1 and exactly one line, naming CODE, after the line
# that names the repository read
expect_one() {
	[ "$RC" = 1 ] || fail "$1: audit exited $RC: $OUT"
	case $(head -1 <<<"$OUT") in "repository: "*) ;; *) fail "$1: no repository line first: $OUT" ;; esac
	[ "$(sed 1d <<<"$OUT" | wc -l)" = 1 ] || fail "$1: expected one line, got: $OUT"
	expect_in " $1: " "$OUT" "$1"
}

# --- well-formed history ---------------------------------------------------
promo beta integration-test $T1 $SAT >/dev/null
c_paper=$(promo paper beta $T1 $SAT new)
REQ_PAPER=$(git -C "$W" rev-parse "$c_paper^2")
promo live paper $T1 $MON new "hotfix for the broker outage" >/dev/null
echo "docs" >>"$W/README.md"
git -C "$W" commit -q -am "docs: mention pipelined"
git -C "$W" push -q origin HEAD:main
CLEAN=$(git -C "$W" rev-parse HEAD)
out=$(cd "$T" && "$PIPELINECTL" -c "$C" audit)
expect_in "audit: clean: 4 commits checked" "$out" "clean remote history"
expect_in "3 promotions" "$out" "clean remote history"
audit_ci "HEAD~2..HEAD"
[ "$RC" = 0 ] || fail "CI-style audit of a clean range: $OUT"
expect_in "audit: clean: 2 commits checked in HEAD~2..HEAD, 1 promotion" "$OUT" "CI-style clean range"
ok "well-formed promotions audit clean (remote fetch and BASE..HEAD in a checkout)"

# --- log -------------------------------------------------------------------
out=$("$PIPELINECTL" -c "$C" log)
[ "$(grep -c ' <- ' <<<"$out")" = 3 ] || fail "log shows 3 promotions: $out"
head -1 <<<"$out" | grep "^repository: $SSH_URL_BASE/a1.git branch main at ${CLEAN:0:12} (fetched into $HOME/.cache/pipelined/" >/dev/null ||
	fail "log's first line does not name the repository read: $(head -1 <<<"$out")"
sed -n 2p <<<"$out" | grep '^2026-03-09 15:00 UTC (11:00 EDT)  live  <- paper .* 1111111  by Other Writer <writer@example.com>$' >/dev/null ||
	fail "log's first entry: $(sed -n 2p <<<"$out")"
expect_in "break-glass: hotfix for the broker outage" "$out" "log shows break-glass"
expect_in "market: open, closes 16:00 EDT  integration-test: passed 3/3" "$out" "log market/inttest"
expect_in "2026-03-07 15:00 UTC (10:00 EST)  beta  <- integration-test" "$out" "log in EST before DST"
out=$("$PIPELINECTL" -c "$C" log --stage paper --json)
python3 - "$out" "$REQ_PAPER" "$T1" <<'PY' || fail "log --json: $out"
import json, sys
v = json.loads(sys.argv[1])
assert len(v) == 1, v
e = v[0]
assert e["stage"] == "paper" and e["source"] == "beta", e
assert e["tag"] == sys.argv[3] and e["tag_short"] == sys.argv[3][:7], e
assert e["request"] == sys.argv[2], e
assert e["time"] == "2026-03-07T15:00:00Z" and e["time_local"] == "2026-03-07T10:00:00-05:00", e
assert e["requested_by"] == "Other Writer <writer@example.com>" and e["break_glass"] is None, e
assert e["committer"] == "pipelined", e
PY
out=$("$PIPELINECTL" log --repo "$W" -n 1)
[ "$(grep -c ' <- ' <<<"$out")" = 1 ] || fail "log --repo -n 1: $out"
expect_in "live  <- paper" "$out" "log --repo without configuration"
ok "log: newest first, UTC and New York time, every audit field, --stage/--json/-n/--repo"

# --- tampering, one kind at a time -------------------------------------------
# a direct push to values-paper.yaml, really pushed over SSH
"$PIPELINECTL" edit "$W/values/values-paper.yaml" 'services.*.image.tag' --tag $T3 -i >/dev/null
git -C "$W" commit -q -am "bump paper by hand"
git -C "$W" push -q origin HEAD:main
RC=0
OUT=$(cd "$T" && "$PIPELINECTL" -c "$C" audit 2>&1) || RC=$?
expect_one direct-change
expect_in "values/values-paper.yaml without being a promotion commit" "$OUT" "direct-change message"
audit_ci "$CLEAN..HEAD"
expect_one direct-change
ok "direct push to values-paper.yaml flagged (remote and CI range)"

tamper() { git -C "$W" reset -q --hard "$CLEAN"; }

tamper
promo beta integration-test $T2 $SAT >/dev/null
promo paper beta $T2 $MON new >/dev/null
audit_ci "$CLEAN..HEAD"
expect_one market-open
expect_in "paper changed while the market was open, closes 16:00 EDT, without Break-Glass:" "$OUT" "market-open message"
ok "paper promotion inside market hours without Break-Glass flagged"

tamper
promo beta integration-test $T2 $SAT >/dev/null
promo paper beta $T2 $SAT "$REQ_PAPER" >/dev/null
audit_ci "$CLEAN..HEAD"
expect_one reused-request
ok "reused Request: flagged"

tamper
promo beta integration-test $T3 $SAT >/dev/null
promo live paper $T3 $SAT new >/dev/null
audit_ci "$CLEAN..HEAD"
expect_one skipped-stage
expect_in "promoted into live from paper, where it had never been promoted" "$OUT" "skipped-stage message"
ok "tag that skipped paper flagged"

tamper
COMMITTER_NAME="Other Writer" COMMITTER_EMAIL=writer@example.com promo beta integration-test $T2 $SAT >/dev/null
audit_ci "$CLEAN..HEAD"
expect_one forged-trailer
expect_in "committed by Other Writer <writer@example.com>, not pipelined <pipelined@gremlin-1>" "$OUT" "forged message"
ok "promotion trailers by a non-daemon committer flagged"

tamper
EXTRA_FILE=README.md promo beta integration-test $T2 $SAT >/dev/null
audit_ci "$CLEAN..HEAD"
expect_one wrong-files
expect_in "also changed 'README.md'" "$OUT" "wrong-files message"
audit_ci "$CLEAN..HEAD" --json
[ "$RC" = 1 ] || fail "--json exit $RC"
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert not d["clean"] and d["violations"][0]["code"]=="wrong-files", d' "$OUT" ||
	fail "audit --json: $OUT"
ok "promotion that changed another file flagged; --json"

# --- a promotion request's pull request (GITHUB_HEAD_REF) --------------------
tamper
"$PIPELINECTL" edit "$W/values/values-paper.yaml" 'services.*.image.tag' --tag $T2 -i >/dev/null
git -C "$W" commit -q -am "promote paper: 2222222" -m "Notes: after review"
RC=0; OUT=$(cd "$W" && GITHUB_HEAD_REF=promote/paper/pr1 "$PIPELINECTL" -c "$C" audit --repo . "$CLEAN..HEAD" 2>&1) || RC=$?
[ "$RC" = 0 ] || fail "request pull request: $OUT"
audit_ci "$CLEAN..HEAD"
expect_one direct-change
git -C "$W" commit -q --amend -m "promote paper: 2222222" -m "Image-Tag: $T2"
RC=0; OUT=$(cd "$W" && "$PIPELINECTL" -c "$C" audit --repo . --branch promote/paper/pr1 "$CLEAN..HEAD" 2>&1) || RC=$?
expect_one forged-trailer
ok "a request's pull request is judged as a request (GITHUB_HEAD_REF or --branch)"

# --- ... and by the daemon's shape rules: one commit on main, modes included --
audit_pr() {
	RC=0
	OUT=$(cd "$W" && "$PIPELINECTL" -c "$C" audit --repo . --branch promote/paper/pr2 "$CLEAN..HEAD" 2>&1) || RC=$?
}
tamper
"$PIPELINECTL" edit "$W/values/values-paper.yaml" 'services.*.image.tag' --tag $T2 -i >/dev/null
chmod +x "$W/values/values-paper.yaml"
git -C "$W" commit -q -am "promote paper: 2222222"
audit_pr
expect_one mode-change
expect_in "mode-change: the request changes the mode of \"values/values-paper.yaml\" from 100644 to 100755" \
	"$OUT" "mode-change message"
chmod -x "$W/values/values-paper.yaml"
git -C "$W" commit -q -a --amend --no-edit
audit_pr
[ "$RC" = 0 ] || fail "the request with its mode restored: $OUT"
good=$(git -C "$W" rev-parse HEAD)
git -C "$W" commit -q --allow-empty -m "promote paper: notes" -m "Notes: more"
audit_pr
expect_one off-branch
expect_in "the parent of request $(git -C "$W" rev-parse --short=7 HEAD), ${good:0:7}, is not on main" "$OUT" \
	"off-branch message"
git -C "$W" checkout -q -B side "$CLEAN"
git -C "$W" commit -q --allow-empty -m "foreign"
git -C "$W" checkout -q -B main "$good"
git -C "$W" merge -q --no-ff -m "promote paper (merge)" side
audit_pr
expect_one merge-request
ok "a request's pull request that is a stack, a merge or a mode change is flagged with the daemon's codes"

# --- operational errors: exit 2 ----------------------------------------------
for args in "a...b" "--repo $T/nowhere" "nosuchrev..HEAD" "--bogus"; do
	RC=0
	# shellcheck disable=SC2086
	OUT=$(cd "$W" && "$PIPELINECTL" -c "$C" audit $args 2>&1) || RC=$?
	[ "$RC" = 2 ] || fail "audit $args: exit $RC ($OUT)"
done
RC=0; OUT=$("$PIPELINECTL" -c "$T/none.conf" audit 2>&1) || RC=$?
[ "$RC" = 2 ] || fail "audit without configuration: exit $RC"
ok "bad range, missing repository, unknown revision, bad option, no configuration: exit 2"
