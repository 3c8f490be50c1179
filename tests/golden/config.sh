#!/usr/bin/env bash
# ctest: cost 40
# Golden tests of the configuration checker (STYLE.md 10).
#
# tests/data/config/NNN.conf is checked from inside a copy of
# tests/data/config, so messages name it "NNN.conf" and relative file paths
# in it point into that directory (files/ holds stand-in secret files; the
# copy adds what git cannot hold: files/fifo, a FIFO, files/approval_key's
# mode 0600 (git keeps 0644, which ssh-keygen refuses), and files/huge.calendar,
# over the calendar's bound).  Each check runs under `timeout 10`: a file
# that would block a reader must fail fast, not hang.  Expected result:
#   NNN.err  the exact lines on stderr (exit status 1), or
#   NNN.ok   the file is valid: "configuration OK" on stdout, exit status 0.
# Both `pipelined -n -c` and `pipelinectl -c ... check-config` must give it.
#
# Regenerate the expected files after an intended change of wording (then
# review the diff before committing):
#   PIPELINED=build-test/pipelined bash tests/golden/config.sh --update
#
# Last, the shipped pipelines.conf is checked the way an operator installs
# it: copied into a directory next to its deploy key and known_hosts.
unset CREDENTIALS_DIRECTORY
set -uo pipefail

SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
TESTDATA=$(realpath "${TESTDATA:-$SRCDIR/tests/data}")
PIPELINED=${PIPELINED:-$SRCDIR/build-test/pipelined}
PIPELINECTL=${PIPELINECTL:-$(dirname "$PIPELINED")/pipelinectl}
update=0
[ "${1:-}" = --update ] && update=1
# The cases run from their own directory: make the binaries' paths absolute.
PIPELINED=$(realpath "$PIPELINED") PIPELINECTL=$(realpath "$PIPELINECTL")
[ -x "$PIPELINED" ] && [ -x "$PIPELINECTL" ] || { echo "FAIL no binaries at $PIPELINED"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 n=0

check_case() {
	local conf=$1 base=${1%.conf} rc ctlrc
	timeout 10 "$PIPELINED" -n -c "$conf" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	timeout 10 "$PIPELINECTL" -c "$conf" check-config >"$tmp/ctlout" 2>"$tmp/ctlerr"
	ctlrc=$?
	if [ $rc = 124 ] || [ $ctlrc = 124 ]; then
		echo "FAIL $conf: checking it hung (killed after 10s)"; fail=1; return
	fi
	if [ $update = 1 ]; then
		rm -f "$TESTDATA/config/$base.err" "$TESTDATA/config/$base.ok"
		if [ $rc = 0 ]; then cp "$tmp/out" "$TESTDATA/config/$base.ok"
		else cp "$tmp/err" "$TESTDATA/config/$base.err"; fi
		return
	fi
	n=$((n + 1))
	if [ -f "$base.ok" ]; then
		if [ $rc != 0 ] || ! cmp -s "$tmp/out" "$base.ok" || [ -s "$tmp/err" ]; then
			echo "FAIL $conf: expected configuration OK, got exit $rc:"; cat "$tmp/err"
			fail=1; return
		fi
	elif [ -f "$base.err" ]; then
		if [ $rc != 1 ] || [ -s "$tmp/out" ] || ! cmp -s "$tmp/err" "$base.err"; then
			echo "FAIL $conf: exit $rc, stderr differs from $base.err:"
			diff "$base.err" "$tmp/err"
			fail=1; return
		fi
		if ! grep -qv "^$conf:[0-9][0-9]*: " "$base.err"; then :; else
			echo "FAIL $base.err: a line without '$conf:LINE: '"; fail=1; return
		fi
	else
		echo "FAIL $conf: no $base.err or $base.ok"; fail=1; return
	fi
	if [ $ctlrc != $rc ] || ! cmp -s "$tmp/out" "$tmp/ctlout" || ! cmp -s "$tmp/err" "$tmp/ctlerr"; then
		echo "FAIL $conf: pipelinectl check-config (exit $ctlrc) disagrees with pipelined -n (exit $rc)"
		fail=1; return
	fi
	echo "ok   $conf"
}

cp -R "$TESTDATA/config" "$tmp/config" || exit 1
cd "$tmp/config" || exit 1
mkfifo files/fifo
chmod 600 files/approval_key files/approval_key_locked
cp files/approval_key files/approval_key_open && chmod 644 files/approval_key_open
{ echo "covers 2026-2026"; head -c 300000 /dev/zero | tr '\0' '#'; echo; } >files/huge.calendar
for conf in [0-9][0-9][0-9].conf; do
	check_case "$conf"
done
[ $update = 1 ] && { echo "updated expected files in $TESTDATA/config"; exit 0; }
[ $n -ge 25 ] || { echo "FAIL only $n golden cases"; fail=1; }

# Not only the checker: the daemon itself and `pipelinectl window` stop at
# once on a FIFO calendar or include, with the same file:line message (they
# used to hang at startup, silent, waiting for a writer).
fast_fail() {	# WANT-LINE COMMAND...
	local want=$1 rc start=$SECONDS
	shift
	timeout 10 "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	if [ $rc = 124 ]; then
		echo "FAIL $*: hung (killed after 10s)"; fail=1
	elif [ $rc = 0 ] || ! grep -qxF "$want" "$tmp/err"; then
		echo "FAIL $*: exit $rc, want '$want' in:"; cat "$tmp/err"; fail=1
	else
		echo "ok   $* fails at once ($((SECONDS - start))s, exit $rc): $want"
	fi
}
fast_fail "$(cat 045.err)" "$PIPELINED" -c 045.conf
fast_fail "$(cat 045.err)" "$PIPELINECTL" -c 045.conf window
fast_fail "$(cat 044.err)" "$PIPELINED" -c 044.conf
fast_fail "$(cat 044.err)" "$PIPELINECTL" -c 044.conf window
fast_fail "pipelinectl window: cannot read calendar 'files/fifo': is a FIFO, not a regular file" \
	"$PIPELINECTL" window --calendar files/fifo

# The shipped file, installed as an operator would: next to its key files.
mkdir "$tmp/etc"
cp "$SRCDIR/pipelines.conf" "$tmp/etc/"
printf 'stand-in deploy key\n' >"$tmp/etc/deploy_key"
printf 'github.com ssh-ed25519 stand-in\n' >"$tmp/etc/known_hosts"
out=$("$PIPELINED" -n -c "$tmp/etc/pipelines.conf" 2>&1)
if [ $? = 0 ] && [ "$out" = "configuration OK" ]; then
	echo "ok   shipped pipelines.conf, installed with its key files: $out"
else
	echo "FAIL shipped pipelines.conf: $out"; fail=1
fi
# Without the key files the only complaints are those two files.
rm "$tmp/etc/deploy_key" "$tmp/etc/known_hosts"
out=$("$PIPELINED" -n -c "$tmp/etc/pipelines.conf" 2>&1 | sed "s|$tmp/etc/||")
expect="pipelines.conf:$(grep -n '^	sshKey = deploy_key$' "$SRCDIR/pipelines.conf" | cut -d: -f1): cannot read 'repository.sshKey' file 'deploy_key': No such file or directory
pipelines.conf:$(grep -n '^	knownHosts = known_hosts$' "$SRCDIR/pipelines.conf" | cut -d: -f1): cannot read 'repository.knownHosts' file 'known_hosts': No such file or directory"
if [ "$out" = "$expect" ]; then
	echo "ok   shipped pipelines.conf without its key files names exactly those"
else
	echo "FAIL shipped pipelines.conf without key files:"; echo "$out"; fail=1
fi
# Under systemd the key files come from $CREDENTIALS_DIRECTORY (LoadCredential=
# in pipelined.service): the shipped file then checks those, not /etc's.
mkdir "$tmp/creds"
printf 'stand-in deploy key\n' >"$tmp/creds/deploy_key"
printf 'github.com ssh-ed25519 stand-in\n' >"$tmp/creds/known_hosts"
out=$(CREDENTIALS_DIRECTORY="$tmp/creds" "$PIPELINED" -n -c "$tmp/etc/pipelines.conf" 2>&1)
if [ $? = 0 ] && [ "$out" = "configuration OK" ]; then
	echo "ok   shipped pipelines.conf under systemd reads its secrets from CREDENTIALS_DIRECTORY"
else
	echo "FAIL shipped pipelines.conf with CREDENTIALS_DIRECTORY: $out"; fail=1
fi
rm "$tmp/creds/known_hosts"
out=$(CREDENTIALS_DIRECTORY="$tmp/creds" "$PIPELINED" -n -c "$tmp/etc/pipelines.conf" 2>&1)
case "$out" in
*"cannot read 'repository.knownHosts' file 'known_hosts'"*)
	echo "ok   a credential systemd did not hand over is reported" ;;
*)	echo "FAIL missing credential not reported: $out"; fail=1 ;;
esac
# Every key of the table is documented in the shipped file.
for key in url branch sshKey knownHosts valuesDir deadline namespace image credentials \
	caFile pollInterval mode requestBudget maxPages timeout timezone open close calendar \
	enabled values tagPath digest auto marketGated requireNotes requireSignature signers approvals queue \
	listen users webhookSecret trustedProxyHeader allowedHosts stateDir logLevel identity since; do
	grep -q "\b$key\b" "$SRCDIR/pipelines.conf" || { echo "FAIL key $key undocumented"; fail=1; }
done

[ $fail = 0 ] && echo "all $n config cases passed"
exit $fail
