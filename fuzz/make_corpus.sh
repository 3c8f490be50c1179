#!/usr/bin/env bash
# Rebuilds fuzz/corpus/yamledit/ and fuzz/corpus/layout/ from the golden
# inputs: each seed is one selector byte followed by a golden document (see
# fuzz_yamledit.c and fuzz_layout.c).
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

# fuzz/corpus/layout/: a selector byte (tag in the low bits, digest = true in
# the high bit) before each layout chart and each yamledit golden input.
out=fuzz/corpus/layout
mkdir -p "$out"
i=0
for f in tests/data/layout/charts/*.yaml tests/data/yamledit/*.in; do
	id=$(basename "$f"); id=${id%.*}
	[ "${f#tests/data/yamledit/}" != "$f" ] && id=yamledit-$id
	sel=$(( (i % 8) | (i % 3 == 0 ? 128 : 0) ))
	{ printf "\\$(printf '%03o' $sel)"; cat "$f"; } >"$out/seed-$id"
	i=$((i + 1))
done

# fuzz/corpus/freeze/: the golden freeze files as they are.
out=fuzz/corpus/freeze
mkdir -p "$out"
for f in tests/data/freeze/*.yaml; do
	cp "$f" "$out/seed-$(basename "$f" .yaml)"
done
