#!/usr/bin/env bash
# Run the acceptance tests against a build tree (default build-test):
#   bash tests/accept/run.sh [BUILD] [accept_x ...]
# Names are looked up in tests/accept/, then tests/e2e/.  Prints one line per
# test with its time; logs in $BUILD/accept-logs/.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
B=$(realpath "${1:-build-test}")
shift || true
export PIPELINED=$B/pipelined PIPELINECTL=$B/pipelinectl PIPELINED_GIT=$B/pipelined-git
export SRCDIR=$PWD TESTDATA=$PWD/tests/data BUILDDIR=$B TOOLDIR=$B/tests/tools
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
mkdir -p "$B/accept-logs"
tests=("$@")
# default: every acceptance test, those still here and those moved to e2e/
[ ${#tests[@]} -gt 0 ] || mapfile -t tests < <(find tests/accept tests/e2e -name "accept_*.sh" |
	sed "s,.*/,,;s,\.sh$,," | sort -u)
pass=0 failn=0
for t in "${tests[@]}"; do
	f=tests/accept/$t.sh
	[ -f "$f" ] || f=tests/e2e/$t.sh
	s=$(date +%s)
	if timeout 600 bash "$f" >"$B/accept-logs/$t.log" 2>&1; then
		echo "PASS $t ($(($(date +%s) - s))s)"; pass=$((pass + 1))
	else
		echo "FAIL $t ($(($(date +%s) - s))s): $(grep -m1 '^FAIL' "$B/accept-logs/$t.log")"; failn=$((failn + 1))
	fi
done
echo "$pass passed, $failn failed"
