#!/usr/bin/env bash
# The README's demo (scripts/demo.sh) in CI mode with the test build's
# binaries: every step must pass and nothing may be left running.
set -euo pipefail
out=$(mktemp)
trap 'rm -f "$out"' EXIT
start=$(date +%s)
if ! bash "$SRCDIR/scripts/demo.sh" --ci >"$out" 2>&1; then
	cat "$out"
	echo "FAIL: scripts/demo.sh --ci failed" >&2
	exit 1
fi
grep -q '^demo: all steps passed$' "$out" || { cat "$out"; echo "FAIL: no success line" >&2; exit 1; }
for want in 'promote beta: ' 'blocked: market open, closes 16:00 EST' 'Break-Glass: INC-4711' \
	'Notes: CAB-118 approved by risk' 'committed at Mon 2026-11-30 16:00:0'; do
	grep -qF -- "$want" "$out" || { cat "$out"; echo "FAIL: demo output lacks '$want'" >&2; exit 1; }
done
echo "ok - demo ran every step in $(($(date +%s) - start))s"
