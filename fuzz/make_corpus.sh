#!/usr/bin/env bash
# Rebuilds fuzz/corpus/yamledit/ from the golden inputs: each seed is one tag
# selector byte followed by a golden document (see fuzz_yamledit.c).
set -euo pipefail
cd "$(dirname "$0")/.."
out=fuzz/corpus/yamledit
mkdir -p "$out"
i=0
for f in tests/data/yamledit/*.in; do
	id=$(basename "$f" .in)
	{ printf "\\$(printf '%03o' $((i % 10)))"; cat "$f"; } >"$out/golden-$id"
	i=$((i + 1))
done
