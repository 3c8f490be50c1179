#!/usr/bin/env bash
# Benchmark of the git layer over SSH on loopback (not a timed test):
#   - our transaction (fetch + commit without a work tree + push), median of N
#   - its parts: fetch, ls-remote, and a push of a new branch
#   - the floor: plain `git fetch; git commit; git push` over the same sshd
#   - the helper-process overhead: start and exit of pipelined-git, and an
#     ls-remote of a local repository (spawn + libgit2 init + trivial work)
#
# usage (as root, like the e2e tests):
#   cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release && cmake --build build-rel
#   bash bench/gitops-roundtrip.sh build-rel [N]
set -euo pipefail
B=$(realpath "${1:?build dir}")
N=${2:-21}
SRCDIR=$(realpath "$(dirname "$0")/..")
TOOLDIR=$B/tests/tools
PIPELINED_GIT=$B/pipelined-git
export SRCDIR TOOLDIR PIPELINED_GIT
. "$SRCDIR/tests/fixtures/gitops-lib.sh"
start_sshd
new_repo r1

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

for i in $(seq "$N"); do
	drive r1 edit values/values-beta.yaml "# bench $i" "promote beta: bench $i" |
		sed -n 's/^elapsed_ms //p'
done | median >"$T/txn.ms"
for op in fetch ls-remote; do
	for _ in $(seq "$N"); do drive r1 $op | sed -n 's/^elapsed_ms //p'; done | median >"$T/$op.ms"
done
for i in $(seq "$N"); do
	drive r1 ref-set "refs/heads/promote/beta/b$i" refs/pipelined/remote/heads/main >/dev/null
	drive r1 push "refs/heads/promote/beta/b$i" "refs/heads/promote/beta/b$i" "" |
		sed -n 's/^elapsed_ms //p'
done | median >"$T/push.ms"

git clone -q "$SSH_URL_BASE/r1.git" "$T/cli"
for i in $(seq "$N"); do
	s=$(date +%s%N)
	git -C "$T/cli" fetch -q origin main
	git -C "$T/cli" reset -q --hard origin/main
	echo "# cli $i" >>"$T/cli/values/values-beta.yaml"
	git -C "$T/cli" commit -q -am "cli $i"
	git -C "$T/cli" push -q origin HEAD:main
	ms "$s"
done | median >"$T/cli.ms"

for _ in $(seq "$N"); do
	s=$(date +%s%N)
	"$PIPELINED_GIT" >/dev/null 2>&1 || true
	ms "$s"
done | median >"$T/spawn.ms"
git clone -q --bare "$T/srv/r1.git" "$T/local.git"
for _ in $(seq "$N"); do
	"$DRIVE" --url "$T/local.git" --mirror "$T/mirror-local" ls-remote | sed -n 's/^elapsed_ms //p'
done | median >"$T/local.ms"

cat <<EOF
gitops over SSH on loopback, median of $N (ms)
  transaction fetch+commit+push   $(cat "$T/txn.ms")
  fetch                           $(cat "$T/fetch.ms")
  ls-remote                       $(cat "$T/ls-remote.ms")
  push (new branch)               $(cat "$T/push.ms")
  git CLI fetch+commit+push       $(cat "$T/cli.ms")
helper process
  pipelined-git start+exit        $(cat "$T/spawn.ms")
  ls-remote of a local repo       $(cat "$T/local.ms")
EOF
