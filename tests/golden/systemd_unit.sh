#!/usr/bin/env bash
# ctest: quick
# systemd/pipelined.service: parses, keeps the settings the daemon relies
# on, rates below 2.0 ("OK") with `systemd-analyze security`, and the
# NixOS module carries the same [Service] settings.
set -euo pipefail
UNIT=$SRCDIR/systemd/pipelined.service
NIX=$SRCDIR/systemd/nixos-module.nix
fail() { echo "FAIL: $*"; exit 1; }

for want in Type=notify NotifyAccess=main WatchdogSec=30s Restart=on-failure \
	'ExecStart=/usr/sbin/pipelined -c /etc/pipelined/pipelines.conf' \
	'ExecReload=/bin/kill -HUP $MAINPID' StateDirectory=pipelined DynamicUser=yes \
	Environment=HOME=/var/lib/pipelined 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6'; do
	grep -qxF "$want" "$UNIT" || fail "pipelined.service lacks '$want'"
done
echo "ok: notify, watchdog, reload, state directory, HOME and network settings present"

# Every [Service] key of the unit is set in the NixOS module too.
keys=$(sed -n '/^\[Service\]/,/^\[/p' "$UNIT" | grep -E '^[A-Za-z]+=' | cut -d= -f1 | sort -u)
for k in $keys; do
	[ "$k" = Environment ] && k=environment.HOME
	grep -qE "^ *$k = " "$NIX" || fail "nixos-module.nix lacks $k"
done
echo "ok: nixos-module.nix sets all $(echo "$keys" | wc -w) [Service] keys"
command -v nix-instantiate >/dev/null \
	|| fail "nix-instantiate not installed (Debian package 'nix-bin'; scripts/deps.sh installs it)"
nix-instantiate --parse "$NIX" >/dev/null || fail "nixos-module.nix does not parse"
echo "ok: nixos-module.nix parses"

command -v systemd-analyze >/dev/null \
	|| fail "systemd-analyze not installed (Debian package 'systemd'; scripts/deps.sh installs it)"
# The binary and man pages are not installed here; anything else is a
# real problem with the unit.
out=$(systemd-analyze verify "$UNIT" 2>&1 || true)
bad=$(printf '%s\n' "$out" | grep -v -e 'is not executable' -e "Command 'man " -e '^$' || true)
[ -z "$bad" ] || fail "systemd-analyze verify: $bad"
echo "ok: systemd-analyze verify finds nothing beyond the uninstalled binary and man pages"

out=$(systemd-analyze security --offline=true "$UNIT" 2>&1) || fail "systemd-analyze security: $out"
line=$(printf '%s\n' "$out" | grep 'Overall exposure level for pipelined.service:') \
	|| fail "no overall exposure line in: $out"
level=$(printf '%s\n' "$line" | sed -E 's/.*: ([0-9]+\.[0-9]+) .*/\1/')
echo "$line"
awk -v l="$level" 'BEGIN { exit !(l < 2.0) }' || fail "exposure $level is not below 2.0"
echo "ok: exposure $level < 2.0"
