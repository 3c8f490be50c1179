#!/usr/bin/env bash
# Installs every Debian package pipelined needs to build, test and demo.
# Idempotent: does nothing (and needs no network) when all are present.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config clang
  libgit2-dev libssh2-1-dev libuv1-dev libyaml-dev libcurl4-openssl-dev
  libjansson-dev libmicrohttpd-dev libcmocka-dev libssl-dev libcrypt-dev systemd
  git openssh-server openssh-client docker-registry skopeo
  faketime libfaketime apache2-utils openssl python3 python3-yaml tzdata ca-certificates
  curl jq shellcheck procps iproute2 chromium mandoc groff-base nix-bin
  python3-yaml python3-jsonschema
)
# Node.js may come from another packaging of it (its npm bundled): ask for
# Debian's packages only when the commands are missing.
EXTRA=()
command -v node >/dev/null 2>&1 || EXTRA+=(nodejs)
command -v npm >/dev/null 2>&1 || EXTRA+=(npm)

missing=("${EXTRA[@]}")
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "deps: installing ${missing[*]}" >&2
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
