#!/usr/bin/env bash
# ctest: quick
# man/pipelined.8, man/pipelinectl.1, man/pipelines.conf.5: mandoc finds
# nothing at WARNING level or worse and no STYLE note beyond the one
# justified below; the pages cannot drift from the code: every key of the
# shipped pipelines.conf and of the parser's key table is documented under
# its section (and nothing else is), every command of pipelinectl's command
# table has an entry, every refusal code of the policy has an entry (and no
# other code does); `cmake --install` into a DESTDIR puts each page in its
# section's directory.
set -euo pipefail
MAN=$SRCDIR/man
PAGES=(pipelined.8 pipelinectl.1 pipelines.conf.5)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

command -v mandoc >/dev/null ||
	{ echo "FAIL: mandoc is not installed (Debian package 'mandoc', see scripts/deps.sh)"; exit 1; }

# ---- lint ----------------------------------------------------------------
# Run from man/ so that mandoc resolves the pages' references to each other
# (it looks for NAME.SECTION beside the page): a reference to one of our
# pages that does not resolve is a real error.  The one STYLE note allowed
# is "referenced manual not found" for another package's manual (git(1),
# ssh-keygen(1), systemd.exec(5), ...): whether those are installed depends
# on the machine, not on the pages.
(cd "$MAN" && mandoc -Tlint -W all "${PAGES[@]}") >"$W/lint" 2>"$W/lint.err" && lintrc=0 || lintrc=$?
[ "$lintrc" -le 1 ] || fail "mandoc -Tlint exited $lintrc (warning or worse)"
ours_re='Xr (pipelined|pipelinectl|pipelines\.conf) [0-9]'
nlint=0
while IFS= read -r line || [ -n "$line" ]; do
	[ -n "$line" ] || continue
	nlint=$((nlint + 1))
	case $line in
	*": STYLE: referenced manual not found: Xr "*)
		if [[ $line =~ $ours_re ]]; then
			fail "lint: $line (a reference to one of our own pages)"
		else
			echo "allowed: $line"
		fi ;;
	*) fail "lint: $line" ;;
	esac
done <"$W/lint"
if grep -v -e 'outdated mandoc.db' -e '^$' "$W/lint.err" >"$W/lint.other"; then
	fail "mandoc said on stderr: $(cat "$W/lint.other")"
fi
echo "ok: mandoc -Tlint -W all: ${#PAGES[@]} pages, $nlint note(s), none at WARNING or worse"

# Each page renders to text without mandoc complaining at all.
for p in "${PAGES[@]}"; do
	(cd "$MAN" && mandoc -Tutf8 -W warning "$p") >"$W/$p.txt" 2>"$W/render.err" ||
		fail "$p does not render: $(cat "$W/render.err")"
	[ "$(wc -l <"$W/$p.txt")" -gt 50 ] || fail "$p renders to almost nothing"
done
echo "ok: every page renders"

# man(1) on Debian formats with groff, not mandoc: it must not warn either.
command -v groff >/dev/null || {
	echo "FAIL: groff not installed (Debian package 'groff-base'; scripts/deps.sh installs it)"
	exit 1
}
for p in "${PAGES[@]}"; do
	out=$(cd "$MAN" && groff -mdoc -Tutf8 -ww -z "$p" 2>&1) || fail "groff fails on $p: $out"
	[ -z "$out" ] || fail "groff -ww warns on $p: $out"
done
echo "ok: groff -mdoc -ww formats every page without a warning"

# ---- coverage ------------------------------------------------------------
# compare WHAT EXPECTED_FILE DOCUMENTED_FILE STRICT: every expected entry is
# documented; with STRICT, every documented entry is expected.
compare() {
	local what=$1 want=$2 have=$3 strict=$4 missing extra
	sort -u -o "$want" "$want"
	sort -u -o "$have" "$have"
	[ -s "$want" ] || { fail "$what: found nothing to check (extraction broken?)"; return; }
	missing=$(comm -23 "$want" "$have")
	extra=$(comm -13 "$want" "$have")
	for m in $missing; do fail "$what: '$m' is not documented"; done
	for e in $extra; do
		if [ "$strict" = strict ]; then
			fail "$what: '$e' is documented but does not exist"
		else
			echo "note: $what: '$e' is documented but not in the code yet"
		fi
	done
	[ -n "$missing" ] || echo "ok: $what: all $(wc -l <"$want") documented"
}

# Config keys, as section.key (section lower-cased, stage sections as
# "stage"): the key lines of the shipped file, commented-out ones (and
# commented-out section headers) included,
# and the parser's key table.
awk '
	/^[ \t]*#?\[/ { s = tolower($0); sub(/^[ \t]*#?\[/, "", s); sub(/[ \t\]"].*/, "", s); next }
	s != "" && match($0, /^[ \t]*[#;]?[ \t]*[A-Za-z][A-Za-z0-9]*[ \t]*=/) {
		k = substr($0, 1, RLENGTH); sub(/^[ \t]*[#;]?[ \t]*/, "", k); sub(/[ \t]*=$/, "", k)
		print s "." k
	}' "$SRCDIR/pipelines.conf" >"$W/conf.keys"
sed -nE 's/^[[:space:]]*\{ SEC_([A-Z]+), "([A-Za-z]+)",.*/\1.\2/p' "$SRCDIR/daemon/core/config.c" |
	awk -F. '{ print tolower($1) "." $2 }' >"$W/table.keys"
[ "$(wc -l <"$W/table.keys")" -ge 30 ] || fail "config.c key table: only $(wc -l <"$W/table.keys") keys found"
# In the page: ".It Ic KEY" under ".Ss [SECTION] ...", until the next .Ss/.Sh.
awk '
	/^\.S[hs] / { s = "" }
	/^\.Ss \[/ { s = $2; sub(/^\[/, "", s); sub(/[\]].*/, "", s) }
	s != "" && /^\.It Ic [A-Za-z]/ { print s "." $3 }' "$MAN/pipelines.conf.5" >"$W/page.keys"
# Every shipped key is documented; the key table is the whole truth both ways.
compare "pipelines.conf(5) keys of the shipped pipelines.conf" "$W/conf.keys" "$W/page.keys" loose
compare "pipelines.conf(5) keys of the parser's key table" "$W/table.keys" "$W/page.keys" strict

# pipelinectl commands: the command table's names against ".It Cm NAME"
# directly under COMMANDS.  Documented commands that the table lacks are
# only noted: SPEC 10's commands are documented before they are merged.
sed -nE 's/^[[:space:]]*\{ "([a-z-]+)", cmd_[a-z_]+,.*/\1/p' "$SRCDIR/daemon/ctl/pipelinectl.c" >"$W/ctl.cmds"
awk '
	/^\.Sh / { on = ($0 == ".Sh COMMANDS"); depth = 0; next }
	on && /^\.Bl / { depth++ }
	on && /^\.El/ { depth-- }
	on && depth == 1 && /^\.It Cm / { print $3 }' "$MAN/pipelinectl.1" >"$W/page.cmds"
compare "pipelinectl(1) commands" "$W/ctl.cmds" "$W/page.cmds" loose

# Refusal codes: policy.c's code_names against ".It Cm CODE" under REFUSAL
# CODES of pipelined(8).
sed -nE 's/^[[:space:]]*\[POLICY_[A-Z_]+\] = "([a-z-]+)",.*/\1/p' "$SRCDIR/daemon/core/policy.c" |
	grep -vx allow >"$W/policy.codes" || true
awk '
	/^\.Sh / { on = ($0 == ".Sh REFUSAL CODES"); next }
	on && /^\.It Cm / { print $3 }' "$MAN/pipelined.8" >"$W/page.codes"
compare "pipelined(8) refusal codes" "$W/policy.codes" "$W/page.codes" strict

# Audit violation codes (audit.c's code names) against ".It Cm CODE" under
# AUDIT VIOLATIONS of pipelinectl(1), once the audit module is there.
if [ -f "$SRCDIR/daemon/core/audit.c" ]; then
	sed -nE 's/^[[:space:]]*\[AUDIT_[A-Z_]+\] = "([a-z-]+)",.*/\1/p' "$SRCDIR/daemon/core/audit.c" >"$W/audit.codes"
	awk '
		/^\.Sh / { on = ($0 == ".Sh AUDIT VIOLATIONS"); next }
		on && /^\.It Cm / { print $3 }' "$MAN/pipelinectl.1" >"$W/page.audit"
	compare "pipelinectl(1) audit violation codes" "$W/audit.codes" "$W/page.audit" strict
else
	echo "note: daemon/core/audit.c is not here yet: audit violation codes not checked"
fi

# The unit's Documentation= names pages that exist.
for ref in $(grep -oE 'man:[a-z.]+\([0-9]\)' "$SRCDIR/systemd/pipelined.service" || true); do
	name=${ref#man:}; sect=${name#*(}; sect=${sect%)}; name=${name%(*}
	[ -f "$MAN/$name.$sect" ] || fail "pipelined.service names $ref, which man/ lacks"
done
echo "ok: the unit's Documentation= pages exist"

# ---- the full example of pipelines.conf(5) is a valid configuration -------
# Its secrets are relative names, which resolve beside the file (outside
# systemd, so without CREDENTIALS_DIRECTORY): stand-ins go there.
mkdir -p "$W/example"
awk '/^\.Sh EXAMPLES/ { on = 1 } on && /^\.Bd -literal/ { lit = 1; next }
	lit && /^\.Ed/ { exit } lit' "$MAN/pipelines.conf.5" >"$W/example/pipelines.conf"
grep -q '^\[stage "live"\]' "$W/example/pipelines.conf" ||
	fail "no full example found in pipelines.conf(5)"
sed -nE 's/^[[:space:]]*(sshKey|knownHosts|credentials|caFile|users|webhookSecret|signers) = ([^/][^ ]*)$/\2/p' \
	"$W/example/pipelines.conf" | while IFS= read -r f; do echo "stand-in" >"$W/example/$f"; done
if out=$(env -u CREDENTIALS_DIRECTORY "$PIPELINED" -n -c "$W/example/pipelines.conf" 2>&1); then
	echo "ok: the example of pipelines.conf(5): $out"
else
	fail "the example of pipelines.conf(5) is not a valid configuration: $out"
fi

# ---- install -------------------------------------------------------------
DESTDIR="$W/dest" cmake --install "$BUILDDIR" >"$W/install.log" 2>&1 ||
	fail "cmake --install into a DESTDIR failed: $(tail -5 "$W/install.log")"
for p in "${PAGES[@]}"; do
	sect=${p##*.}
	found=$(find "$W/dest" -path "*/share/man/man$sect/$p" -type f 2>/dev/null | head -n1)
	if [ -z "$found" ]; then
		fail "cmake --install did not install $p into share/man/man$sect"
	elif ! cmp -s "$found" "$MAN/$p"; then
		fail "installed $found differs from man/$p"
	else
		echo "ok: installed ${found#"$W/dest"}"
	fi
done

if [ "$failures" -ne 0 ]; then
	echo "$failures failure(s)"
	exit 1
fi
echo "all man page checks passed"
