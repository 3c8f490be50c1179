#!/usr/bin/env bash
# pipelinectl log and audit over a long history: N promotions (beta, paper,
# live in turn, each a one-file commit by the daemon identity with the full
# trailer block), written with git fast-import, then both commands timed on
# the local clone, next to `git log --format=%(trailers)` over the same
# history (what reading every commit's record costs in git itself) and
# `git log --first-parent --raw --no-abbrev` (git's own tree diff per
# commit: the fair baseline for work that must diff trees, as the full
# audit does).  The range HEAD~30..HEAD is timed cold (--no-checkpoint:
# the history before it replayed from the root), warm (the checkpoint the
# previous run left at HEAD) and from a checkpoint 1,000 commits back (the
# CI case: the last run audited an older base).  BUILD names a build
# directory with pipelinectl; N=100000 is the issue's target.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-bench}
N=${N:-3000}
T=$(mktemp -d)
[ -z "${KEEP:-}" ] || echo "kept: $T"
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
git init -q --bare "$T/r.git"
python3 - "$N" >"$T/stream" <<'PY'
import sys
n = int(sys.argv[1])
base = {s: open(f"values/values-{s}.yaml").read() for s in ("beta", "paper", "live")}
zero = "0" * 40
def blob(data):
    b = data.encode()
    return b"data %d\n" % len(b) + b + b"\n"
out = sys.stdout.buffer
t = 1772800000
out.write(b"commit refs/heads/main\ncommitter Dev <dev@example.com> %d +0000\n" % t)
out.write(blob("initial layout\n"))
for s in base:
    out.write(b"M 100644 inline values/values-%s.yaml\n" % s.encode() + blob(base[s]))
src = {"beta": "integration-test", "paper": "beta", "live": "paper"}
for i in range(n):
    rel = i // 3
    st = ("beta", "paper", "live")[i % 3]
    tag = "%040x" % (rel + 1)
    t += 3600 * 24 * 7 // 3 if i % 3 else 3600   # keep to weekends/nights loosely
    msg = (f"promote {st}: {tag[:7]} from {src[st]}\n\n[skip ci]\n\nStage: {st}\n"
           f"Source-Stage: {src[st]}\nImage-Tag: {tag}\n"
           f"Requested-By: pipelined (automatic)\nBreak-Glass: bench\nMarket: closed (weekend)\n"
           f"Integration-Test: passed 1/1\n")
    out.write(b"commit refs/heads/main\ncommitter pipelined <pipelined@gremlin-1> %d +0000\n" % t)
    out.write(blob(msg))
    out.write(b"M 100644 inline values/values-%s.yaml\n" % st.encode() + blob(base[st].replace(zero, tag)))
PY
git --git-dir="$T/r.git" fast-import --quiet <"$T/stream"
git --git-dir="$T/r.git" symbolic-ref HEAD refs/heads/main
cp tests/data/audit/pipelines.conf "$T/p.conf"
ctl=$BUILD/pipelinectl
# wall ms, and the CPU (user+sys) it took: on a shared machine the CPU
# figure is the one to compare
timeit() {
	local s e out rc
	s=$(date +%s%N)
	out=$( { TIMEFORMAT=%3U+%3S; time { "$@" >/dev/null 2>&1; echo "rc $?"; }; } 2>&1)
	e=$(date +%s%N)
	rc=$(sed -n 's/^rc //p' <<<"$out")
	[ "$rc" -le 1 ] || { echo "failed ($rc): $*" >&2; exit 1; }
	echo "$(( (e - s) / 1000000 )) ms (cpu $(grep -v '^rc ' <<<"$out" | bc) s)"
}
gitlog() { git --git-dir="$T/r.git" log --format=%\(trailers\) main; }
gitraw() { git --git-dir="$T/r.git" log --first-parent --raw --no-abbrev --format=%H main; }
audit() { "$ctl" -c "$T/p.conf" audit --repo "$T/r.git" "$@"; }
echo "$N promotions + 1 commit"
echo "git log --format=%(trailers): $(timeit gitlog)"
echo "git log --first-parent --raw --no-abbrev: $(timeit gitraw)"
echo "log --repo (all):        $(timeit "$ctl" -c "$T/p.conf" log --repo "$T/r.git")"
echo "audit --repo (all):      $(timeit audit)"
# the full audit left its checkpoint at HEAD
echo "audit --repo HEAD~30.. (cold): $(timeit audit --no-checkpoint HEAD~30..HEAD)"
echo "audit --repo HEAD~30.. (warm): $(timeit audit HEAD~30..HEAD)"
if [ "$N" -gt 1100 ]; then
	audit HEAD~1000 >/dev/null || true
	echo "audit --repo HEAD~30.. (checkpoint 1000 back): $(timeit audit HEAD~30..HEAD)"
fi
audit | tail -1
