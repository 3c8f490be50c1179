#!/usr/bin/env bash
# pipelinectl audit A..B says of the commits in the range exactly what the
# full audit says of them: a generated history of ~300 first-parent commits
# (well-formed promotions, and each kind of tampering the audit can see from
# Git: direct changes, forged and malformed trailers, skipped stages, tag
# mismatches, edits beyond the tag scalars, extra files, reused requests,
# rollbacks) is audited whole, then over random ranges, and the violations
# of each range (commit, code, message) and its exit status must be the
# full audit's for those commits.  A malformed promotion before a range
# records no tag for the range either (the range is judged on the facts the
# full audit had).  The full audit must also see every kind planted, so the
# values files are judged both by re-applying a promotion's tag without a
# parse and by the parse when the bytes say otherwise.
set -euo pipefail
W=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME="$W"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

git init -q --bare "$W/r.git"
python3 - "$SRCDIR/values" >"$W/stream" <<'PY'
import random, sys
vals = sys.argv[1]
base = {s: open(f"{vals}/values-{s}.yaml").read() for s in ("beta", "paper", "live")}
cur = dict(base)
zero = "0" * 40
rnd = random.Random(15)
out = sys.stdout.buffer
t = 1772900000          # a Saturday
def blob(data):
    b = data.encode()
    return b"data %d\n" % len(b) + b + b"\n"
def commit(who, msg, files):
    global t
    t += 3600
    out.write(b"commit refs/heads/main\ncommitter %s %d +0000\n" % (who.encode(), t))
    out.write(blob(msg))
    for path, data in files:
        out.write(b"M 100644 inline %s\n" % path.encode() + blob(data))
daemon = "pipelined <pipelined@gremlin-1>"
dev = "Dev <dev@example.com>"
def settag(st, tag):
    import re
    return re.sub(r'(tag: ")[0-9a-f]{40}(")', lambda m: m.group(1) + tag + m.group(2), cur[st])
def trailers(st, src, tag, extra="", market=True):
    m = ("Market: closed (weekend)\n" if market else "")
    return (f"promote {st}: {tag[:7]}\n\nStage: {st}\nSource-Stage: {src}\nImage-Tag: {tag}\n"
            f"Requested-By: pipelined (automatic)\nBreak-Glass: test\n{m}"
            f"Integration-Test: passed 1/1\n{extra}")
def promote(st, src, tag, msg=None, data=None, extra_files=()):
    body = data if data is not None else settag(st, tag)
    commit(daemon, msg or trailers(st, src, tag), [(f"values/values-{st}.yaml", body)] + list(extra_files))
    cur[st] = body
commit(dev, "initial layout\n", [(f"values/values-{s}.yaml", base[s]) for s in base] + [("README", "r\n")])
src = {"beta": "integration-test", "paper": "beta", "live": "paper"}
ran = {"beta": [], "paper": [], "live": []}
req = "ab" * 20
for rel in range(1, 70):
    tag = "%040x" % (rel * 7919)
    for st in ("beta", "paper", "live"):
        k = rnd.random()
        if rel in (20, 45) and st == "paper":
            k = 0.13      # the reused request, planted twice at least
        if k < 0.03:      # a push that bypassed pipelined
            body = cur[st].replace("stage: ", "stage:  ", 1)
            commit(dev, "tweak\n", [(f"values/values-{st}.yaml", body)])
            cur[st] = body
        elif k < 0.05:    # promotion trailers by someone else
            commit(dev, trailers(st, src[st], tag), [(f"values/values-{st}.yaml", settag(st, tag))])
            continue
        elif k < 0.07:    # the daemon's, but no Market: (malformed: records no tag)
            promote(st, src[st], tag, msg=trailers(st, src[st], tag, market=False))
            continue
        elif k < 0.09:    # the file says another tag
            other = "%040x" % (rel * 7919 + 1)
            promote(st, src[st], tag, data=settag(st, other))
            ran[st].append(other)
            continue
        elif k < 0.11:    # beyond the tag scalars
            promote(st, src[st], tag, data=settag(st, tag).replace("namespace: ", "namespace:  ", 1))
            ran[st].append(tag)
            continue
        elif k < 0.12:    # another file too
            promote(st, src[st], tag, extra_files=[("README", "r%d\n" % rel)])
            ran[st].append(tag)
            continue
        elif k < 0.14:    # a request used twice
            promote(st, src[st], tag, msg=trailers(st, src[st], tag).replace(
                "Requested-By: pipelined (automatic)", "Requested-By: P <p@example.com>\nRequest: " + req))
            ran[st].append(tag)
            continue
        elif k < 0.16 and len(ran[st]) > 2:   # a rollback, sometimes to what never ran
            back = rnd.choice(ran[st][:-1] + ["%040x" % 3])
            prev = ran[st][-1] if rnd.random() < 0.7 else "%040x" % 5
            promote(st, src[st], back, msg=trailers(st, src[st], back,
                    extra=f"Rollback: bad release\nRolled-Back-From: {prev}\n"))
            ran[st].append(back)
            continue
        elif k < 0.18 and st != "beta":       # a tag its source never ran
            skip = "%040x" % (rel * 7919 + 2)
            promote(st, src[st], skip)
            ran[st].append(skip)
            continue
        promote(st, src[st], tag)
        ran[st].append(tag)
PY
git --git-dir="$W/r.git" fast-import --quiet <"$W/stream"
git --git-dir="$W/r.git" symbolic-ref HEAD refs/heads/main
cp "$TESTDATA/audit/pipelines.conf" "$W/p.conf"

# audit NAME [RANGE]: the audit's exit status in RC[NAME], its violations
# (JSON) in $W/NAME.json; violations_of NAME... turns them into "commit
# code message" lines in OUT[NAME], one python for all the audits
declare -A RC OUT
audit() {
	local name=$1
	shift
	RC[$name]=0
	"$PIPELINECTL" -c "$W/p.conf" audit --repo "$W/r.git" --json "$@" >"$W/$name.json" ||
		RC[$name]=$?
}
violations_of() {
	local name
	python3 -c 'import json,sys
for f in sys.argv[1:]:
    for v in json.load(open(f))["violations"]:
        print(v["commit"], v["code"], v["message"])
    print("\0", end="")' "${@/#/"$W/"}" >"$W/violations"
	{
		for name; do
			IFS= read -r -d '' 'OUT[$name]' || true
			OUT[$name]=${OUT[$name]%$'\n'}
		done
	} <"$W/violations"
}
audit full
violations_of full.json
full=${OUT[full.json]}
[ "${RC[full]}" = 1 ] || fail "full audit exited ${RC[full]}"
# the full audit's violations by commit, in its order
declare -A of_commit
while IFS= read -r line; do
	of_commit[${line%% *}]+=$line$'\n'
done <<<"$full"
for code in direct-change forged-trailer malformed-trailers tag-mismatch wrong-files \
	    reused-request rollback skipped-stage; do
	[[ $full == *" $code "* ]] || fail "the full audit found no $code"
done
mapfile -t ids < <(git --git-dir="$W/r.git" rev-list --first-parent --reverse main)
n=${#ids[@]}
# the ranges that start on each malformed promotion (which records no tag
# for what follows), then random ones
starts=()
for ((i = 0; i < n; i++)); do
	[[ $'\n'${of_commit[${ids[i]}]:-} == *$'\n'"${ids[i]} malformed-trailers "* ]] &&
		starts+=("$i")
done
[ "${#starts[@]}" -gt 0 ] || fail "no malformed promotion planted"
RANDOM=15
rounds=$((12 + ${#starts[@]}))
ranges=()
for ((round = 1; round <= rounds; round++)); do
	a=$((RANDOM % (n - 1))) b=$((a + 1 + RANDOM % 40))
	[ "$round" -gt 12 ] && a=${starts[round - 13]} b=$((a + 60))
	[ "$b" -lt "$n" ] || b=$((n - 1))
	ranges+=("$a..$b")
	audit "$a..$b" "${ids[a]}..${ids[b]}"
done
violations_of "${ranges[@]/%/.json}"
for range in "${ranges[@]}"; do
	a=${range%..*} b=${range#*..}
	want=
	for ((i = a + 1; i <= b; i++)); do
		want+=${of_commit[${ids[i]}]:-}
	done
	want=${want%$'\n'}
	got=${OUT[$range.json]}
	if [ "$got" != "$want" ]; then
		fail "range $a..$b differs from the full audit"
		diff <(printf '%s\n' "$want") <(printf '%s\n' "$got") | sed 's/^/    /' || true
	fi
	[ -z "$want" ] && wantrc=0 || wantrc=1
	[ "${RC[$range]}" = "$wantrc" ] || fail "range $a..$b exited ${RC[$range]}"
done
[ "$failures" = 0 ] && echo "audit_range: ok ($n commits, $((12 + ${#starts[@]})) ranges)"
exit $((failures > 0))
