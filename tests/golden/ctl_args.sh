#!/usr/bin/env bash
# ctest: quick
# pipelinectl log, check, audit and init: what a mistyped command line
# prints and the exit status, byte for byte.  tests/data/ctl_args/cases has
# one command line a line; tests/data/ctl_args/expected what each gives
# ("$ pipelinectl ARGS", its stdout and stderr, "rc=N").  Every case fails
# before any configuration, network or repository is touched.
# Regenerate with UPDATE=1 after a deliberate change.
set -euo pipefail

: "${PIPELINECTL:?}" "${SRCDIR:?}"
data=$SRCDIR/tests/data/ctl_args
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export PIPELINED_CONFIG=/nonexistent/pipelines.conf
while read -r line; do
	rc=0
	echo "\$ pipelinectl $line"
	# shellcheck disable=SC2086 # the case is a word list
	(cd "$tmp" && "$PIPELINECTL" $line) 2>&1 || rc=$?
	echo "rc=$rc"
done <"$data/cases" >"$tmp/got"
if [ "${UPDATE:-}" = 1 ]; then
	cp "$tmp/got" "$data/expected"
	echo "updated $data/expected"
	exit 0
fi
if ! diff -u "$data/expected" "$tmp/got"; then
	echo "FAIL: pipelinectl argument handling changed (see the diff above)" >&2
	exit 1
fi
echo "ctl_args: $(wc -l <"$data/cases") command lines as expected"
