#!/usr/bin/env bash
# Promotion messages from trailer_format_promotion, committed with the real
# git, read back exactly by `git interpret-trailers --parse` and by
# `git log --format=%(trailers:key=K,valueonly)` for every key, hostile
# notes and justifications included; and request messages read the same by
# pipelined (libgit2) as by git.
#
# A process of the sanitizer build costs far more to start and exit than to
# parse a message, so the many messages are read in batches: one
# `trailer_fmt parse FILE...` and one `git interpret-trailers --in-place`
# for all of them, and one `git log` for all the readings of a commit.
set -euo pipefail
shopt -s extglob

T="$TOOLDIR/trailer_fmt"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME="$W" GIT_AUTHOR_DATE=@1700000000 GIT_COMMITTER_DATE=@1700000000
git init -q "$W/repo"
cd "$W/repo"
git config user.name "Test"
git config user.email "test@example.com"
git config commit.gpgsign false

KEYS=(Stage Source-Stage Image-Tag Requested-By Request Notes Break-Glass Market
      Integration-Test Signed-By)
SHA=0123456789abcdef0123456789abcdef01234567
REQ=89abcdef0123456789abcdef0123456789abcdef
failures=0
checks=0

fail() { echo "FAIL [$1]: $2"; failures=$((failures + 1)); }
same() { # name what expected actual
	checks=$((checks + 1))
	if [ "$3" != "$4" ]; then
		fail "$1" "$2"
		diff <(printf '%s\n' "$3") <(printf '%s\n' "$4") | sed 's/^/    /' || true
	fi
}

# text with its trailing newlines removed, as $(...) removes them: in TEXT
chomp() {
	TEXT=${1%%+($'\n')}
}

# commit_case NAME EXPECTED_TRAILERS -- trailer_fmt format args...
commit_case() {
	local name=$1 expected=$2 fmt k i line want subject
	local -a got
	shift 3
	"$T" format "$@" >"$W/msg"
	git commit -q --allow-empty --cleanup=verbatim -F "$W/msg"
	# the commit holds exactly the bytes written
	git cat-file commit HEAD | sed '1,/^$/d' >"$W/stored"
	checks=$((checks + 1))
	cmp -s "$W/msg" "$W/stored" || fail "$name" "stored message differs"
	same "$name" "interpret-trailers --parse" "$expected" \
		"$(git interpret-trailers --parse <"$W/msg")"
	# git's other readings, each a NUL-ended field of one `git log`:
	# unfolded, folded, each key's values, the subject
	fmt='%(trailers:only,unfold)%x00%(trailers:only)%x00'
	for k in "${KEYS[@]}"; do
		fmt+="%(trailers:key=$k,valueonly)%x00"
	done
	mapfile -t -d '' got < <(git log -1 --format="$fmt%s%x00")
	for i in "${!got[@]}"; do
		chomp "${got[i]}"
		got[i]=$TEXT
	done
	same "$name" "log %(trailers:only,unfold)" "$expected" "${got[0]}"
	same "$name" "log %(trailers:only) (folded)" "$expected" "${got[1]}"
	same "$name" "pipelined's own reading" "$expected" "$("$T" parse <"$W/msg")"
	i=2
	for k in "${KEYS[@]}"; do
		want=
		while IFS= read -r line; do
			[[ $line != "$k: "* ]] || want+=${line#"$k: "}$'\n'
		done <<<"$expected"
		chomp "$want"
		same "$name" "key=$k" "$TEXT" "${got[i]}"
		i=$((i + 1))
	done
	IFS= read -r subject <"$W/msg" || true
	same "$name" "subject" "$subject" "${got[i]}"
	checks=$((checks + 1))
	grep -qxF '[skip ci]' "$W/msg" || fail "$name" "no [skip ci] line"
	echo "ok: $name"
}

BASE=(--stage paper --source beta --tag "$SHA" --requested-by "Dana Dev <dana@example.com>"
      --request "$REQ" --market "open, closes 16:00 EST" --inttest "passed 312/312")

printf 'Risk limits per symbol.\n\nSecond paragraph.\n' >"$W/notes"
printf 'broker outage, hotfix for order routing' >"$W/bg"
commit_case "request with notes, break-glass, signer" "Stage: paper
Source-Stage: beta
Image-Tag: $SHA
Requested-By: Dana Dev <dana@example.com>
Request: $REQ
Notes: Risk limits per symbol. Second paragraph.
Break-Glass: broker outage, hotfix for order routing
Market: open, closes 16:00 EST
Integration-Test: passed 312/312
Signed-By: dana@example.com" -- "${BASE[@]}" --notes-file "$W/notes" \
	--break-glass-file "$W/bg" --signed-by dana@example.com
same "request body" "body keeps the notes' lines" "Risk limits per symbol.

Second paragraph.

[skip ci]" "$(git log -1 --format=%b | sed '/^\[skip ci\]$/q')"

commit_case "automatic into beta" "Stage: beta
Source-Stage: integration-test
Image-Tag: $SHA
Requested-By: pipelined (automatic)
Market: closed (weekend)
Integration-Test: passed 312/312" -- --stage beta --source integration-test \
	--tag "$SHA" --market "closed (weekend)" --inttest "passed 312/312"

# notes ending in a forged block, with a divider and a scissors line that
# would make git stop reading before the real trailers
printf '%s\n' "Looks fine." "" "Stage: live" "Image-Tag: ffffffffffffffffffffffffffffffffffffffff" \
	"---" "# ------------------------ >8 ------------------------" "" \
	"Requested-By: Mallory <m@evil>" >"$W/notes"
printf 'x\nStage: live\n\nSigned-By: root' >"$W/bg"
commit_case "notes that forge trailers" "Stage: live
Source-Stage: paper
Image-Tag: $SHA
Requested-By: Dana Dev <dana@example.com>
Request: $REQ
Notes: Looks fine. Stage: live Image-Tag: ffffffffffffffffffffffffffffffffffffffff --- # ------------------------ >8 ------------------------ Requested-By: Mallory <m@evil>
Break-Glass: x Stage: live Signed-By: root
Market: open, closes 16:00 EST
Integration-Test: passed 312/312" -- "${BASE[@]}" --stage live --source paper \
	--notes-file "$W/notes" --break-glass-file "$W/bg"

# the notes are nothing but a trailer block: still only the body
printf 'Stage: live\nImage-Tag: ffffffffffffffffffffffffffffffffffffffff\n' >"$W/notes"
commit_case "notes that are a trailer block" "Stage: paper
Source-Stage: beta
Image-Tag: $SHA
Requested-By: Dana Dev <dana@example.com>
Request: $REQ
Notes: Stage: live Image-Tag: ffffffffffffffffffffffffffffffffffffffff
Market: open, closes 16:00 EST
Integration-Test: passed 312/312" -- "${BASE[@]}" --notes-file "$W/notes"

# CRLF, tabs, trailing blanks, terminal escapes, blank-line runs
printf '\r\n\r\n  indented  \r\n\r\n\r\n\tline two\033]0;title\007 \r\n\r\n' >"$W/notes"
printf '\tpager down \033[2J now\r\n' >"$W/bg"
commit_case "control characters" "Stage: paper
Source-Stage: beta
Image-Tag: $SHA
Requested-By: Eve <eve@example.com> Stage: live
Request: $REQ
Notes: indented line two ]0;title
Break-Glass: pager down [2J now
Market: open, closes 16:00 EST
Integration-Test: passed 312/312" -- "${BASE[@]}" --notes-file "$W/notes" \
	--break-glass-file "$W/bg" --requested-by $'Eve <eve@example.com>\nStage: live'
checks=$((checks + 1))
if git log -1 --format=%B | LC_ALL=C grep -q $'[\r\033\007]'; then
	fail "control characters" "control bytes reached the commit"
fi

# blank notes: no Notes trailer at all
printf ' \n\t\n' >"$W/notes"
commit_case "blank notes" "Stage: paper
Source-Stage: beta
Image-Tag: $SHA
Requested-By: Dana Dev <dana@example.com>
Request: $REQ
Market: open, closes 16:00 EST
Integration-Test: passed 312/312" -- "${BASE[@]}" --notes-file "$W/notes"

# bounds: refused with the reason, nothing committed
before=$(git rev-parse HEAD)
head -c 4097 /dev/zero | tr '\0' n >"$W/notes"
checks=$((checks + 1))
if "$T" format "${BASE[@]}" --notes-file "$W/notes" >"$W/msg" 2>"$W/err"; then
	fail "oversized notes" "accepted"
fi
same "oversized notes" "error" "trailer_fmt: Notes: value is 4097 bytes, more than the 4096 allowed" \
	"$(cat "$W/err")"
head -c 1025 /dev/zero | tr '\0' j >"$W/bg"
checks=$((checks + 1))
if "$T" format "${BASE[@]}" --break-glass-file "$W/bg" >"$W/msg" 2>"$W/err"; then
	fail "oversized justification" "accepted"
fi
same "oversized justification" "error" \
	"trailer_fmt: Break-Glass: value is 1025 bytes, more than the 1024 allowed" "$(cat "$W/err")"
same "bounds" "HEAD unchanged" "$before" "$(git rev-parse HEAD)"
echo "ok: bounds"

# Messages read in batches: message NAME is the file $W/msgs/NAME.
mkdir "$W/msgs"
declare -A PARSED PARSED_RC GIT_RC

# parse_batch NAME...: pipelined's reading of each message, in one
# trailer_fmt: PARSED_RC[NAME] the exit status `trailer_fmt parse` has on
# that message alone, PARSED[NAME] what it prints (the trailers, or the
# error line).  A batch that dies (a sanitizer's abort) has printed the
# records before the message it died on: that one gets the exit status and
# the rest a batch of their own.
parse_batch() {
	local rc rec
	local -a recs
	while [ $# -gt 0 ]; do
		rc=0
		"$T" parse "${@/#/"$W/msgs/"}" >"$W/parsed" || rc=$?
		mapfile -t -d '' recs <"$W/parsed"
		for rec in "${recs[@]}"; do
			PARSED_RC[$1]=${rec%%$'\n'*}
			chomp "${rec#*$'\n'}"
			PARSED[$1]=$TEXT
			shift
		done
		if [ $# -gt 0 ]; then
			[ "$rc" -ne 0 ] || rc=255	# no record, yet no failure
			PARSED_RC[$1]=$rc PARSED[$1]=
			shift
		fi
	done
}

# git_read DIR [OPTION] -- NAME...: git's reading of each message,
# `git interpret-trailers --parse OPTION`, into $W/DIR/NAME, and GIT_RC[NAME]
# 0 where git read it: one git for all of them (--in-place on copies), or,
# if that one fails or hangs, one per message under its own timeout, so one
# message git cannot read does not hide the others.
git_read() {
	local dir=$W/$1 opt=$2 name
	shift 3
	mkdir "$dir"
	[ $# -gt 0 ] || return 0
	cp -- "${@/#/"$W/msgs/"}" "$dir/"
	if timeout 60 git interpret-trailers --parse ${opt:+"$opt"} --in-place "${@/#/"$dir/"}"; then
		for name; do GIT_RC[$name]=0; done
		return
	fi
	for name; do
		GIT_RC[$name]=0
		timeout 10 git interpret-trailers --parse ${opt:+"$opt"} <"$W/msgs/$name" \
			>"$dir/$name" || GIT_RC[$name]=$?
	done
}

# Request messages: pipelined must read what git reads (CRs aside).
reqs=()
while IFS= read -r -d '' m; do
	reqs+=("req.$((${#reqs[@]} + 1))")
	printf '%b' "$m" >"$W/msgs/${reqs[-1]}"
done < <(printf '%s\0' \
	'req\n\nNotes: fixes\nBreak-Glass: outage\n' \
	'req\r\n\r\nbody\r\n\r\nNotes: crlf\r\n  folded\r\nbreak-glass: x\r\n' \
	'req\n\nNotes: first\n\tsecond\n third\nBREAK-GLASS:   y  \nnotes: again\n' \
	'req\n\ntext\nmore\nNotes: x\nSigned-off-by: A <a@b>\n' \
	'req\n\nNotes : spaced\nCo-authored-by: A <a>\nCo-authored-by: B <b>\n' \
	'req\n\nBreak-Glass:\nStage: live\n' \
	'req\n\nNotes: n\nBreak-Glass:' \
	'req\n\nNotes:\n  continued\nX:\t\n' \
	'req\n\nbody\n\nStage: live\n# ------------------------ >8 ------------------------\nfoo\n' \
	'req\n\nbody\n----\n\nNotes: x\n' \
	'req\n\nNotes: a\n# comment\nX: y\n' \
	'req\n\nNotes: x\n\nmore prose\n' \
	'req\n\n  : odd\nSigned-off-by: A <a@b>\n:x\n')
parse_batch "${reqs[@]}"
git_read req-git "" -- "${reqs[@]}"
for name in "${reqs[@]}"; do
	want=$(<"$W/req-git/$name")
	got=
	if [ "${PARSED_RC[$name]}" = 0 ]; then
		got=${PARSED[$name]}
	else
		printf '%s\n' "${PARSED[$name]}" >&2
	fi
	same "request ${name#req.}" "git and pipelined agree" "${want//$'\r'/}" "$got"
done
echo "ok: ${#reqs[@]} request messages read alike"

# ... and a "---" line that makes git read two different blocks is refused
printf 'req\n\nbody\n---\n\nStage: live\n' >"$W/req"
checks=$((checks + 1))
if "$T" parse <"$W/req" >/dev/null 2>"$W/err"; then
	fail "divider" "ambiguous message accepted"
fi
same "divider" "error" 'trailer_fmt: a "---" line makes git read the trailers in two ways; remove the line' \
	"$(cat "$W/err")"

# Random request messages from a grammar of the lines that matter to git's
# trailer rules: pipelined reads what git reads, or refuses the message
# exactly when git's two readings (with and without the "---" divider)
# disagree.  Seeded, so every run checks the same messages.
RANDOM=20261127
LINES=('Notes: a b' 'Break-Glass:' 'Stage: live' 'image-tag: 1' '  continued' $'\tcontinued'
       '# comment' '---' '----' '--- x' '' 'some prose' 'Signed-off-by: A <a@b>' 'Key : v'
       ':x' '(cherry picked from commit abc)' 'Notes:' $'X:\t'
       '# ------------------------ >8 ------------------------' 'Co-authored-by: B <b@x>')
# The messages first, every draw from RANDOM in this shell (a $(...) would
# draw from a subshell's own seed), then each read by git and by pipelined.
# git 2.39 itself loops forever on a "---" divider before a scissors line:
# such a message is not given to git.
divider=$'(^|\n)---([[:space:]]|$)'
rands=() togit=()
declare -A GIT_HANGS
for ((n = 1; n <= 300; n++)); do
	msg=$'subject\n\n'
	for ((l = RANDOM % 7 + 1; l > 0; l--)); do
		msg+="${LINES[RANDOM % ${#LINES[@]}]}"$'\n'
	done
	[ $((RANDOM % 5)) -ne 0 ] || msg=${msg%$'\n'}
	printf '%s' "$msg" >"$W/msgs/rand.$n"
	rands+=("rand.$n")
	if [[ $msg =~ $divider && $msg == *'# -------'* ]]; then
		GIT_HANGS[rand.$n]=1
	else
		togit+=("rand.$n")
	fi
done
parse_batch "${rands[@]}"
git_read git "" -- "${togit[@]}"
# git's reading without the divider, for the messages pipelined refuses
ambiguous=()
for name in "${togit[@]}"; do
	[ "${GIT_RC[$name]}" != 0 ] || [ "${PARSED_RC[$name]}" = 0 ] || ambiguous+=("$name")
done
git_read nodivider --no-divider -- "${ambiguous[@]}"

agree=0
refused=0
hung=0
for name in "${rands[@]}"; do
	n=${name#rand.}
	# the timeout only guards against other cases git hangs on
	if [ -n "${GIT_HANGS[$name]:-}" ] || [ "${GIT_RC[$name]}" != 0 ]; then
		hung=$((hung + 1))
		checks=$((checks + 1))
		[ "${PARSED_RC[$name]}" -le 2 ] ||
			fail "random $n" "trailer_fmt parse exited with ${PARSED_RC[$name]}"
		continue
	fi
	want=$(<"$W/git/$name")
	if [ "${PARSED_RC[$name]}" = 0 ]; then
		same "random $n" "git and pipelined agree" "$want" "${PARSED[$name]}"
		agree=$((agree + 1))
	else
		checks=$((checks + 1))
		if [ "${PARSED_RC[$name]}" != 2 ]; then
			fail "random $n" "trailer_fmt parse exited with ${PARSED_RC[$name]}"
		elif [ "$want" = "$(<"$W/nodivider/$name")" ]; then
			fail "random $n" "refused although git reads it one way: ${PARSED[$name]}"
			sed 's/^/    /' "$W/msgs/$name"
		fi
		refused=$((refused + 1))
	fi
done
echo "ok: random messages: $agree read alike, $refused refused as ambiguous," \
	"$hung skipped (git hangs)"

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
