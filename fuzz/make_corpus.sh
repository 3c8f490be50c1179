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

# fuzz/corpus/pktline/: ref advertisements as git-upload-pack sends them (a
# repository with refs and tags, an empty one, protocol v1, an ERR packet,
# a truncated one) and SSH URLs.
out=fuzz/corpus/pktline
mkdir -p "$out"
pkt() { printf '%04x%s' $(( ${#1} + 4 )) "$1"; }
# a first line: "<id> <name>", NUL, capabilities, newline
pkt1() { printf '%04x%s\0%s\n' $(( ${#1} + ${#2} + 6 )) "$1" "$2"; }
A=1111111111111111111111111111111111111111
B=2222222222222222222222222222222222222222
{ pkt1 "$A HEAD" "multi_ack side-band-64k ofs-delta symref=HEAD:refs/heads/main agent=g"
  pkt "$A refs/heads/main"$'\n'; pkt "$B refs/tags/v1"$'\n'; pkt "$A refs/tags/v1^{}"$'\n'
  printf 0000; } >"$out/seed-refs"
{ pkt "version 1"$'\n'
  pkt1 "0000000000000000000000000000000000000000 capabilities^{}" "agent=git"
  printf 0000; } >"$out/seed-empty-v1"
pkt "ERR access denied or repository not exported"$'\n' >"$out/seed-err"
{ pkt "$A HEAD"$'\n'; pkt "shallow $B"$'\n'; printf 0000; } >"$out/seed-shallow"
pkt "$A refs/heads/mai" | head -c 30 >"$out/seed-truncated"
printf 'ssh://deploy@[::1]:2222/srv/it'"'"'s!.git' >"$out/seed-url-ssh"
printf 'me@host:org/repo.git' >"$out/seed-url-scp"
