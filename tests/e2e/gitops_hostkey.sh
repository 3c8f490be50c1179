#!/usr/bin/env bash
# ctest: quick
# SSH trust: the configured known_hosts decides, fail-closed.  An unknown
# host, a changed key and a missing known_hosts file each end the connection
# before authentication (sshd logs no public-key attempt, the repository is
# unchanged) with an error naming the host and the SHA256 fingerprint seen.
# A HOME whose known_hosts trusts the server does not override it.  Hashed
# entries and ECDSA deploy keys work; an RSA deploy key is refused with the
# reason; a key the server does not know stops after one attempt.
. "$SRCDIR/tests/fixtures/gitops-lib.sh"
SSHD_RSA_KEY=1 start_sshd
new_repo r1
fp=$(host_fingerprint)
hostname="[127.0.0.1]:$SSHD_PORT"
tip=$(remote_tip r1)

# a second key pair for "changed" and "unknown" setups
ssh-keygen -q -t ed25519 -N '' -C other -f "$T/other"
printf '%s %s\n' "$hostname" "$(cut -d' ' -f1,2 "$T/other.pub")" >"$T/kh_changed"
printf '[127.0.0.1]:1 %s\n' "$(cut -d' ' -f1,2 "$HOST_KEY_PUB")" >"$T/kh_unknown"
: >"$T/kh_empty"

# refused KH_FILE LABEL NEEDLE: a push is refused before authentication
refused() {
	local kh=$1 label=$2 needle=$3 lines out rc
	lines=$(wc -l <"$SSHD_LOG")
	set +e
	out=$(drive r1 --known-hosts "$kh" edit values/values-beta.yaml "# $label" "promote beta: $label")
	rc=$?
	set -e
	[ $rc -ne 0 ] || fail "$label: push succeeded"
	expect_in "rc=-20" "$out" "$label: GITOPS_EHOSTKEY"
	expect_in "$needle" "$out" "$label: reason"
	expect_in "$hostname" "$out" "$label: names the host"
	expect_in "$fp" "$out" "$label: names the fingerprint ($fp)"
	[ "$(remote_tip r1)" = "$tip" ] || fail "$label: remote changed"
	sleep 0.2	# let sshd write its last line
	new=$(tail -n +"$((lines + 1))" "$SSHD_LOG")
	expect_in "[preauth]" "$new" "$label: sshd saw the connection end before auth"
	if grep -E -q 'publickey|Accepted|Starting session' <<<"$new"; then
		fail "$label: an authentication attempt reached sshd: $new"
	fi
	ok "$label: refused before authentication, error names $hostname and $fp"
}

refused "$T/kh_unknown" "unknown host" "is not in known_hosts"
refused "$T/kh_empty" "empty known_hosts" "is not in known_hosts"
refused "$T/kh_changed" "changed host key" "has CHANGED"
refused "$T/does-not-exist" "missing known_hosts" "cannot read known_hosts"

# the daemon's poll: ls-remote on a loop goes through the long-lived session
# helper (libssh2 without libgit2), which judges the host key the same way,
# before authentication, in the same words
refused_session() {
	local kh=$1 label=$2 needle=$3 lines out rc
	lines=$(wc -l <"$SSHD_LOG")
	set +e
	out=$(drive r1 --known-hosts "$kh" --tick-ms 50 ls-remote)
	rc=$?
	set -e
	[ $rc -ne 0 ] || fail "session, $label: ls-remote succeeded"
	expect_in "rc=-20" "$out" "session, $label: GITOPS_EHOSTKEY"
	expect_in "ls-remote of '$SSH_URL_BASE/r1.git' failed: " "$out" "session, $label: which call"
	expect_in "$needle" "$out" "session, $label: reason"
	expect_in "$hostname" "$out" "session, $label: names the host"
	expect_in "$fp" "$out" "session, $label: names the fingerprint"
	sleep 0.2
	new=$(tail -n +"$((lines + 1))" "$SSHD_LOG")
	if grep -E -q 'publickey|Accepted|Starting session' <<<"$new"; then
		fail "session, $label: an authentication attempt reached sshd: $new"
	fi
	ok "session, $label: refused before authentication, error names $hostname and $fp"
}
refused_session "$T/kh_unknown" "unknown host" "is not in known_hosts"
refused_session "$T/kh_changed" "changed host key" "has CHANGED"
refused_session "$T/does-not-exist" "missing known_hosts" "cannot read known_hosts"
out=$(drive r1 --tick-ms 50 ls-remote)
expect_in "$tip refs/heads/main" "$out" "session: pinned key"
ok "session: the pinned key lists the refs"
chmod 000 "$T/kh_changed"
cp "$KNOWN_HOSTS" "$T/kh_unreadable" && chmod 000 "$T/kh_unreadable"
if [ "$(id -u)" != 0 ]; then
	refused "$T/kh_unreadable" "unreadable known_hosts" "cannot read known_hosts"
fi

# the process HOME (and libgit2's own $HOME/.ssh lookup) trusts the server;
# the configured file does not: the configured file wins
mkdir -p "$HOME/.ssh" "$T/mirror-r1/pipelined-home/.ssh"
cp "$KNOWN_HOSTS" "$HOME/.ssh/known_hosts"
cp "$KNOWN_HOSTS" "$T/mirror-r1/pipelined-home/.ssh/known_hosts"
chmod 644 "$T/kh_changed"
refused "$T/kh_changed" "HOME trusts, config does not" "has CHANGED"
rm -rf "$HOME/.ssh"

# hashed entries (ssh-keygen -H) are understood
cp "$KNOWN_HOSTS" "$T/kh_hashed"
ssh-keygen -q -H -f "$T/kh_hashed" >/dev/null 2>&1
rm -f "$T/kh_hashed.old"
grep -q '^|1|' "$T/kh_hashed" || fail "ssh-keygen -H did not hash"
out=$(drive r1 --known-hosts "$T/kh_hashed" ls-remote) || fail "hashed known_hosts: $out"
expect_in "$tip refs/heads/main" "$out" "hashed known_hosts"
ok "hashed known_hosts entries work"

# deploy keys: ECDSA works, RSA is refused up front, an unknown key once
out=$(drive r1 --key "$KEY_ECDSA" ls-remote) || fail "ECDSA key: $out"
expect_in "$tip refs/heads/main" "$out" "ECDSA deploy key"
ok "ECDSA deploy key works"

lines=$(wc -l <"$SSHD_LOG")
set +e
out=$(drive r1 --key "$KEY_RSA" edit values/values-beta.yaml '# rsa' 'promote beta: rsa')
rc=$?
set -e
[ $rc -ne 0 ] || fail "RSA key: push succeeded"
expect_in "rc=-21" "$out" "RSA key: GITOPS_EAUTH"
expect_in "is ssh-rsa" "$out" "RSA key: says what the key is"
expect_in "use an Ed25519 or ECDSA key" "$out" "RSA key: says what to do"
[ "$(remote_tip r1)" = "$tip" ] || fail "RSA key: remote changed"
ok "RSA deploy key refused with the reason (libssh2 1.10 signs RSA with SHA-1 only)"

set +e
out=$(timeout 60 "$DRIVE" --url "$SSH_URL_BASE/r1.git" --key "$T/other" --known-hosts "$KNOWN_HOSTS" \
	--mirror "$T/mirror-r1" --deadline-ms 20000 ls-remote)
rc=$?
set -e
[ $rc -eq 1 ] || fail "unknown deploy key: exit $rc (looping credential callback?)"
expect_in "rc=-21" "$out" "unknown key: GITOPS_EAUTH"
expect_in "refused deploy key '$T/other' (ssh-ed25519)" "$out" "unknown key: message"
new=$(tail -n +"$((lines + 1))" "$SSHD_LOG")
[ "$(grep -c 'Failed publickey' <<<"$new" || true)" = 1 ] ||
	fail "unknown key: expected exactly one failed attempt, sshd saw: $new"
ok "a deploy key the server refuses is tried once and reported"

set +e
out=$(drive r1 --key "$T/does-not-exist" ls-remote)
set -e
expect_in "cannot read deploy key" "$out" "missing key file"
ok "a missing deploy key file is reported"
