#!/usr/bin/env bash
# ctest: cost 60
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
# parse and by the parse when the bytes say otherwise.  Each range is judged
# warm (from the checkpoint the previous run left in the git directory),
# every third also cold (--no-checkpoint); a checkpoint older than the
# range, a damaged one, another configuration's and a git directory where
# none can be written all give the full audit's verdict.
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

# audit [RANGE]: the violations as "commit code message" lines in OUT; RC;
# the commit the facts before the range were restored at in CK ("None":
# replayed from the root).  CONF picks the configuration.
CONF=$W/p.conf
audit() {
	RC=0
	"$PIPELINECTL" -c "$CONF" audit --repo "$W/r.git" --json "$@" >"$W/out.json" 2>"$W/err" ||
		RC=$?
	OUT=$(python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
print(d["checkpoint"])
for v in d["violations"]:
    print(v["commit"], v["code"], v["message"])' "$W/out.json")
	CK=${OUT%%$'\n'*}
	[[ $OUT == *$'\n'* ]] && OUT=${OUT#*$'\n'} || OUT=
}
# want_of A B: the full audit's violations of the commits after A up to B,
# in its order, into WANT
want_of() {
	local i
	WANT=
	for ((i = $1 + 1; i <= $2; i++)); do
		WANT+=${of_commit[${ids[i]}]:-}
	done
	WANT=${WANT%$'\n'}
}
CKDIR=$W/r.git/pipelined
audit --no-checkpoint
[ ! -e "$CKDIR" ] || fail "audit --no-checkpoint wrote a checkpoint"
audit
full=$OUT
[ "$RC" = 1 ] || fail "full audit exited $RC"
[ "$CK" = None ] || fail "the full audit restored facts from $CK"
ckfile=$(ls "$CKDIR"/audit-checkpoint-* 2>/dev/null | head -1)
[ -n "$ckfile" ] && [ -s "$ckfile" ] || fail "the full audit left no checkpoint in the git directory"
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
	[[ ${of_commit[${ids[i]}]:-} == *"${ids[i]} malformed-trailers "* ]] && starts+=("$i")
done
[ "${#starts[@]}" -gt 0 ] || fail "no malformed promotion planted"
RANDOM=15
for round in $(seq 1 $((12 + ${#starts[@]}))); do
	a=$((RANDOM % (n - 1))) b=$((a + 1 + RANDOM % 40))
	[ "$round" -gt 12 ] && a=${starts[round - 13]} b=$((a + 60))
	[ "$b" -lt "$n" ] || b=$((n - 1))
	want_of "$a" "$b"
	want=$WANT
	# warm: the checkpoint the last run left (at the full audit's tip, or
	# at the last range's end: restored inside it, or replayed from it),
	# then cold (every third round)
	for how in warm $([ $((round % 3)) = 1 ] && echo cold); do
		if [ $how = warm ]; then
			audit "${ids[a]}..${ids[b]}"
			[ "$CK" != None ] || fail "range $a..$b ($how) read no checkpoint"
		else
			audit --no-checkpoint "${ids[a]}..${ids[b]}"
			[ "$CK" = None ] || fail "range $a..$b ($how) restored facts from $CK"
		fi
		if [ "$OUT" != "$want" ]; then
			fail "range $a..$b ($how) differs from the full audit"
			diff <(printf '%s\n' "$want") <(printf '%s\n' "$OUT") | sed 's/^/    /' || true
		fi
		[ "$RC" = "$([ -z "$want" ] && echo 0 || echo 1)" ] || fail "range $a..$b ($how) exited $RC"
	done
done

# range CASE A B: a..b judged as the full audit judges it
range() {
	local what=$1 a=$2 b=$3 want
	want_of "$a" "$b"
	want=$WANT
	audit "${ids[a]}..${ids[b]}"
	if [ "$OUT" != "$want" ]; then
		fail "$what: range $a..$b differs from the full audit"
		diff <(printf '%s\n' "$want") <(printf '%s\n' "$OUT") | sed 's/^/    /' || true
	fi
	[ "$RC" = "$([ -z "$want" ] && echo 0 || echo 1)" ] || fail "$what: exited $RC"
	[ ! -s "$W/err" ] || { fail "$what: said on stderr:"; sed 's/^/    /' "$W/err"; }
}
# a checkpoint older than the range: replayed from it to the range's start
rm -rf "$CKDIR"
c=$((n / 3))
audit "${ids[c]}"
ckfile=$(ls "$CKDIR"/audit-checkpoint-* 2>/dev/null | head -1)
[ -n "$ckfile" ] || fail "an audit up to a commit left no checkpoint"
range "older checkpoint" $((c + 17)) $((c + 50))
[ "$CK" = "${ids[c]}" ] || fail "older checkpoint: restored at $CK, not ${ids[c]}"
# damaged: the same verdict as none, and a good one written in its place
for damage in corrupt truncated empty; do
	case $damage in
	corrupt) printf 'X' | dd of="$ckfile" bs=1 seek=$(($(stat -c %s "$ckfile") / 2)) conv=notrunc \
			2>/dev/null ;;
	truncated) truncate -s $(($(stat -c %s "$ckfile") - 9)) "$ckfile" ;;
	empty) : >"$ckfile" ;;
	esac
	range "$damage checkpoint" $((c + 5)) $((c + 60))
	[ "$CK" = None ] || fail "$damage checkpoint: restored facts from $CK"
done
range "after the damaged checkpoints" $((c + 5)) $((c + 60))
[ "$CK" != None ] || fail "no good checkpoint written in place of the damaged one"
# another configuration's checkpoint: another file; under this one's name,
# ignored (its key is inside)
sed 's/^\[daemon\]/[audit]\n\tsince = 2026-03-01\n[daemon]/' "$W/p.conf" >"$W/p2.conf"
CONF=$W/p2.conf audit
[ "$(ls "$CKDIR" | grep -c '^audit-checkpoint-')" = 2 ] ||
	fail "another configuration did not get its own checkpoint: $(ls "$CKDIR")"
other=$(ls -t "$CKDIR"/audit-checkpoint-* | head -1)
[ "$other" != "$ckfile" ] || fail "the other configuration wrote this one's checkpoint"
cp "$other" "$ckfile"
range "foreign checkpoint" $((c + 5)) $((c + 60))
[ "$CK" = None ] || fail "foreign checkpoint: restored facts from $CK"
# a write clears what interrupted runs and old configurations left: a
# temporary file older than 10 minutes, another checkpoint not written for
# 30 days; another run's write in progress and a recent checkpoint stay
: >"$CKDIR/audit-checkpoint-killed.tmp.AbC123"
touch -d '-1 hour' "$CKDIR/audit-checkpoint-killed.tmp.AbC123"
: >"$CKDIR/audit-checkpoint-writing.tmp.XyZ789"
cp "$other" "$CKDIR/audit-checkpoint-0123456789abcdef"
touch -d '-40 days' "$CKDIR/audit-checkpoint-0123456789abcdef"
: >"$CKDIR/unrelated"
touch -d '-40 days' "$CKDIR/unrelated"
rm -f "$ckfile"
audit
swept=$(cd "$CKDIR" && ls | sort | tr '\n' ' ')
want_left="$(basename "$ckfile") $(basename "$other") audit-checkpoint-writing.tmp.XyZ789 unrelated"
want_left=$(printf '%s\n' $want_left | sort | tr '\n' ' ')
[ "$swept" = "$want_left" ] || fail "checkpoint clean-up left: $swept (want: $want_left)"
# ... and only when it writes: a run that leaves its checkpoint alone
# leaves the directory alone too
touch -d '-1 hour' "$CKDIR/audit-checkpoint-writing.tmp.XyZ789"
range "no write, no sweep" $((n - 20)) $((n - 5))
[ -e "$CKDIR/audit-checkpoint-writing.tmp.XyZ789" ] || fail "a run that wrote nothing swept"
# a git directory where no checkpoint can be written: no failure
rm -rf "$CKDIR"
: >"$CKDIR"
range "unwritable git directory" $((c + 5)) $((c + 60))
[ -f "$CKDIR" ] && [ ! -s "$CKDIR" ] || fail "unwritable git directory: $CKDIR changed"
rm -f "$CKDIR"
[ "$failures" = 0 ] && echo "audit_range: ok ($n commits, $((12 + ${#starts[@]})) ranges, cold and warm)"
exit $((failures > 0))
