#!/usr/bin/env bash
# ctest: quick
# The test scripts themselves: none pipes into a reader that leaves before
# the end of its input.  They run under `set -o pipefail`, so in
# `producer | grep -q X` grep leaving at the first match can kill the
# producer with SIGPIPE, and the pipeline then fails although X matched.
# That made e2e/accept_inttest fail in CI once (a log with many matching
# lines), and such a failure shows only under load.  Read to the end
# instead: `grep X >/dev/null`, `sed -n 1p`, `grep X <<<"$var"`.
set -euo pipefail
fail() { echo "FAIL: $*"; exit 1; }

cd "$SRCDIR"
# `bash -c "..."` strings run in a shell without pipefail: not counted
bad=$(grep -nE '\|[[:space:]]*grep[[:space:]]+-[a-zA-Z]*q' \
	tests/e2e/*.sh tests/golden/*.sh tests/fixtures/*.sh bench/*.sh |
	grep -v 'bash -c' | grep -vE '^[^:]+:[0-9]+:[[:space:]]*#' || true)
[ -z "$bad" ] || fail "a pipe into grep -q (SIGPIPE under pipefail); use grep >/dev/null:
$bad"
echo "ok: no test pipes into grep -q"
