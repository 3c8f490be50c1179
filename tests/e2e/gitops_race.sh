#!/usr/bin/env bash
# ctest: cost 130
# Concurrent writers on the tracked branch, over the same sshd.  20 rounds
# (GITOPS_RACE_ROUNDS for more): in each, another writer pushes with plain
# `git push` exactly between our fetch and our push (from inside the gate,
# which runs right before the push), and a second writer pushes from a
# free-running shell loop.  Our commit must land on top of theirs every
# time, theirs kept, no forced update ever reaching the server, every commit
# reachable exactly once.  The gate makes the race happen in every round,
# so more rounds repeat the same check (about 4 CPU-seconds a round under
# the sanitizers: 50 rounds made this the slowest script of the suite).
. "$SRCDIR/tests/fixtures/gitops-lib.sh"
start_sshd
new_repo r1
ROUNDS=${GITOPS_RACE_ROUNDS:-20}
BG=${GITOPS_RACE_BG:-10}
URL=$SSH_URL_BASE/r1.git

# push_one DIR FILE LINE: commit and push like a person would (rebase on
# rejection), bounded
cat >"$T/push-one.sh" <<'EOF'
#!/bin/bash
set -eu
cd "$1"
echo "$3" >>"$2"
git add "$2"
git commit -q -m "$3"
for _ in $(seq 100); do
	git push -q origin HEAD:main 2>/dev/null && exit 0
	git pull -q --rebase origin main
done
echo "push-one: gave up" >&2
exit 1
EOF
chmod +x "$T/push-one.sh"

git clone -q "$URL" "$T/gate-writer"
git clone -q "$URL" "$T/bg-writer"
# the gate program: on the first attempt of each round another writer
# pushes; on our retry it stays quiet
cat >"$T/gate.sh" <<EOF
#!/bin/bash
set -eu
[ "\$(cat "$T/gate.last" 2>/dev/null || true)" != "\$GITOPS_ROUND" ] || exit 0
echo "\$GITOPS_ROUND" >"$T/gate.last"
exec "$T/push-one.sh" "$T/gate-writer" gate.txt "gate-writer \$GITOPS_ROUND"
EOF
chmod +x "$T/gate.sh"

(
	for i in $(seq "$BG"); do
		"$T/push-one.sh" "$T/bg-writer" bg.txt "bg-writer $i"
		sleep 0.$((RANDOM % 5))
	done
) >"$T/bg.log" 2>&1 &
EXTRA_PIDS=$!

out=$(drive r1 --attempts 12 --backoff-ms 20 --gate-exec "$T/gate.sh" \
	rounds "$ROUNDS" values/values-beta.yaml ours) || { echo "$out"; fail "our rounds failed"; }
wait "$EXTRA_PIDS" || { cat "$T/bg.log"; fail "background writer failed"; }
EXTRA_PIDS=

git clone -q "$URL" "$T/check"
cd "$T/check"
total=$(sed -n 's/^total-attempts //p' <<<"$out")
[ "$total" -ge $((2 * ROUNDS)) ] || fail "only $total push attempts: the interleaving did not happen"
grep -q -v 'attempts 1$' <<<"$(grep '^round' <<<"$out")" || fail "no round needed a retry"

subjects=$(git log --format=%s main)
for who in "ours:$ROUNDS" "gate-writer:$ROUNDS" "bg-writer:$BG"; do
	name=${who%%:*} n=${who##*:}
	for i in $(seq "$n"); do
		c=$(grep -c -x "$name $i" <<<"$subjects" || true)
		[ "$c" = 1 ] || fail "'$name $i' is on main $c times"
	done
done
[ "$(git rev-list --count main)" = $((1 + 2 * ROUNDS + BG)) ] || { git log --format="%h %p %s" main | head -20; fail "unexpected extra commits"; }
ok "$ROUNDS of ours, $ROUNDS gate-timed and $BG free-running writer commits: each exactly once"

# every one of ours sits on top of the writer's push of the same round
for i in $(seq "$ROUNDS"); do
	ours=$(git log --format=%H -1 --grep="^ours $i\$" main)
	[ "$(git log -1 --format=%s "$ours^")" != "" ] || fail "ours $i has no parent"
	git merge-base --is-ancestor "$(git log --format=%H -1 --grep="^gate-writer $i\$" main)" "$ours" ||
		fail "ours $i is not on top of gate-writer $i"
done
seq "$ROUNDS" | sed 's/^/ours /' | diff - <(grep '^ours ' values/values-beta.yaml) ||
	fail "values file lost or reordered our lines"
[ "$(wc -l <gate.txt)" = "$ROUNDS" ] || fail "gate writer's file lost lines"
[ "$(wc -l <bg.txt)" = "$BG" ] || fail "background writer's file lost lines"
ok "each of ours landed on top of the writer that raced it; no line of anybody's lost"

[ ! -s "$T/srv/r1.log/forced" ] || fail "forced updates reached the server: $(cat "$T/srv/r1.log/forced")"
n=$(wc -l <"$T/srv/r1.log/updates")
ok "0 forced updates among $n ref updates the server accepted or refused; $total push attempts for $ROUNDS rounds"
