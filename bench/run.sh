#!/usr/bin/env bash
# The one benchmark command (issue 15 item 5): every figure of the
# performance table next to its baseline, and pipelined side by side with
# the shell pipeline an operator would write instead (bench/shell-loop.sh:
# skopeo list-tags + sed + git commit/push).  Release build without
# sanitizers (BUILD, default build-bench); not part of the tests (SPEC 12).
#
#   bash bench/run.sh         the quick run (about 5 minutes on 2 cores):
#                             bench/audit.sh (audit and log over N=30000
#                             promotions, next to git log over the same
#                             repository), bench/idle.sh (idle CPU and RSS at
#                             pollInterval = 30s) when present, bench/engine.sh
#                             (registry requests per idle cycle, latency) and
#                             bench/shell-baseline.sh (pipelined vs the shell
#                             loop); ends with the compact table
#   bash bench/run.sh --all   also the YAML edit, registry, Argo CD and GitOps
#                             round-trip benchmarks, the kill -9 soak
#                             (scripts/soak.sh, 100 restarts) and the fuzz
#                             summary (scripts/fuzz.sh 60)
# Environment: N (promotions for audit.sh, default 30000), IDLE_BASE_REV
# (the baseline of bench/idle.sh, default 0560d84: before issue 15), IDLE_SECONDS
# (idle window of shell-baseline.sh, default 30).
set -euo pipefail
cd "$(dirname "$0")/.."
ALL=0
case ${1:-} in
--all) ALL=1 ;;
'') ;;
*) echo "usage: bash bench/run.sh [--all]" >&2; exit 2 ;;
esac

bash scripts/deps.sh
export BUILD=${BUILD:-build-bench}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DPIPELINED_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j "$(nproc)" >/dev/null
OUT=$(mktemp -d "${TMPDIR:-/tmp}/bench-run.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
t_start=$(date +%s)
ms() { local s e; s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N); echo $(((e - s) / 1000000)); }
sec() { awk -v v="$1" 'BEGIN {printf "%.2f s", v / 1000}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf b ? "%.1fx" : "-", a / b}'; }
# the value after "LABEL:" in FILE, or "-"
field() { { grep -m1 -- "$2" "$1" || true; } | sed "s/^.*$2 *//" | grep . || echo -; }

# ---- audit and log over N promotions, and git log on the same repository
N=${N:-30000}
echo "== audit: pipelinectl log and audit over $N promotions (bench/audit.sh)"
KEEP=1 N=$N bash bench/audit.sh | tee "$OUT/audit"
repo=$(sed -n 's/^kept: //p' "$OUT/audit")/r.git
git30_ms=$(ms git --git-dir="$repo" log --format='%H %(trailers)' HEAD~30..HEAD)
echo "git log --format=%(trailers) HEAD~30..HEAD: $git30_ms ms"
rm -rf "$(dirname "$repo")"
num() { grep -Eo '[0-9]+' <<<"$1" | head -n1; }
# git log over the whole history as audit.sh timed it, beside the others
git_ms=$(num "$(field "$OUT/audit" 'git log --format=%(trailers):')")
audit_ms=$(num "$(field "$OUT/audit" 'audit --repo (all):')")
audit30_ms=$(num "$(field "$OUT/audit" 'audit --repo HEAD~30.. (cold):')")
audit30w_ms=$(num "$(field "$OUT/audit" 'audit --repo HEAD~30.. (warm):')")
gitraw_ms=$(num "$(field "$OUT/audit" 'git log --first-parent --raw --no-abbrev:')")
log_ms=$(num "$(field "$OUT/audit" 'log --repo (all):')")

# ---- idle CPU and RSS (bench/idle.sh belongs to its own change; run when present)
if [ -f bench/idle.sh ]; then
	echo "== idle: CPU and memory at pollInterval = 30s (bench/idle.sh)"
	# the baseline: the tree before issue 15's idle work
	BASE_REV=${IDLE_BASE_REV:-0560d84} bash bench/idle.sh | tee "$OUT/idle"
else
	echo "== idle: bench/idle.sh is not in this tree; idle figures from shell-baseline.sh (1 s poll, scaled)"
	: >"$OUT/idle"
fi

# ---- the engine on the loopback stack
echo "== engine: registry requests per idle cycle, latency (bench/engine.sh)"
SRCDIR=. TOOLDIR=$BUILD PIPELINED=$BUILD/pipelined PIPELINECTL=$BUILD/pipelinectl PIPELINED_GIT=$BUILD/pipelined-git \
	bash bench/engine.sh | tee "$OUT/engine"

# ---- pipelined vs the shell loop
echo "== pipelined vs the shell loop (bench/shell-baseline.sh)"
bash bench/shell-baseline.sh | tee "$OUT/shell"

if [ "$ALL" = 1 ]; then
	echo "== YAML edit: splice vs libyaml parse and parse+emit round trip"
	"$BUILD/bench/bench_yamledit" tests/data/yamledit/003.in 'services.*.image.tag'
	"$BUILD/bench/bench_yamledit" tests/data/yamledit/001.in image.tag
	for runner in registry argocd gitops-roundtrip; do
		echo "== $runner"
		bash "bench/$runner.sh"
	done
	echo "== kill -9 soak (scripts/soak.sh)"
	bash scripts/soak.sh | tee "$OUT/soak"
	echo "== fuzz summary (scripts/fuzz.sh 60)"
	bash scripts/fuzz.sh 60 | tee "$OUT/fuzz"
fi

# ---- the compact table
row() { printf '| %-44s | %-16s | %-16s | %-40s |\n' "$@"; }
col() { awk -F'|' -v m="$1" -v c="$2" '$1 == m {print $c}' "$OUT/shell"; }
echo
echo "Figures ($(nproc) cores, $BUILD, $(date -u '+%F %H:%M UTC'), $(($(date +%s) - t_start)) s):"
row measure pipelined "shell loop" baseline
row "---" "---" "---" "---"
row "audit over $N promotions" "$(sec "$audit_ms")" "" "git log $(sec "$git_ms"): $(ratio "$audit_ms" "$git_ms") (target <= 2x)"
row "audit over $N promotions vs git's tree diff" "$(sec "$audit_ms")" "" "git log --raw $(sec "$gitraw_ms"): $(ratio "$audit_ms" "$gitraw_ms")"
row "audit HEAD~30..HEAD, cold" "$audit30_ms ms" "" "git log $git30_ms ms (whole history replayed)"
row "audit HEAD~30..HEAD, warm (checkpoint)" "$audit30w_ms ms" "" "git log $git30_ms ms (target <= 50 ms)"
row "log over $N promotions" "$(sec "$log_ms")" "" "git log $(sec "$git_ms"): $(ratio "$log_ms" "$git_ms") (target <= 1.5x)"
if [ -s "$OUT/idle" ]; then
	# bench/idle.sh's rows: LABEL  baseline  this-build
	idle() { awk -v k="$1" 'index($0, k) {print $NF, $(NF - 1); exit}' "$OUT/idle"; }
	read -r now base < <(idle 'idle CPU, total')
	row "idle CPU, 30 s poll (bench/idle.sh)" "$now % of a core" "" "$base % at ${IDLE_BASE_REV:-0560d84} (target <= 0.05 %)"
	read -r now base < <(idle 'CPU seconds per hour')
	row "CPU per hour idle, 30 s poll (bench/idle.sh)" "$now s" "" "$base s at ${IDLE_BASE_REV:-0560d84}"
	read -r now base < <(idle 'RSS (KiB)')
	row "idle RSS, 30 s poll (bench/idle.sh)" "$now KiB" "" "$base KiB at ${IDLE_BASE_REV:-0560d84} (target <= 10 MB)"
fi
rss=$(field "$OUT/engine" 'idle RSS:')
row "idle RSS (bench/engine.sh, 1 s poll)" "$rss" "" "16.3 MB before (target <= 10 MB)"
read -r cyc answers < <(sed -n 's/^idle: \([0-9]*\) cycles in 10 s, \([0-9]*\) registry answers/\1 \2/p' "$OUT/engine")
row "registry requests per idle cycle" "$(awk -v a="${answers:-0}" -v c="${cyc:-0}" 'BEGIN {printf c ? "%.1f" : "-", a / c}') (metrics)" \
	"" "engine.sh: $answers answers in $cyc cycles"
for m in "registry requests per idle cycle" "seconds per idle cycle" "seconds per promoting cycle"; do
	row "$m (counting proxy)" "$(col "$m" 2)" "$(col "$m" 3)" "same stack, same proxy"
done
p=$(col "CPU s per hour idle (30 s poll)" 2) s=$(col "CPU s per hour idle (30 s poll)" 3)
row "CPU per hour idle, 30 s poll (scaled)" "$p s ($(awk -v v="$p" 'BEGIN {printf "%.3f", v / 36}') %)" \
	"$s s ($(awk -v v="$s" 'BEGIN {printf "%.3f", v / 36}') %)" "0.14 % = 5.0 s/h before (target 1.8 s/h)"
row "latency, 14th image to commit (poll)" "$(field "$OUT/engine" 'latency (poll):' | awk '{print $1, $2}')" "" "1 s poll interval"
row "bash scripts/test.sh" "not run here" "" "19 min 22 s before (target <= 12 min)"
if [ "$ALL" = 1 ]; then
	row "kill -9 soak" "$(grep -m1 '^soak: restarts' "$OUT/soak" | sed 's/^soak: //' | cut -c1-60)" "" "~20-28 restarts, 102 promotions before"
	row "fuzzing (60 s per target)" "see above" "" ">= 10 M per parser: scripts/fuzz.sh --long"
else
	row "kill -9 soak" "bash scripts/soak.sh" "" "~20-28 restarts before (target 100)"
fi
