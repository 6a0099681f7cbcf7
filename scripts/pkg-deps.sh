#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Install what building the Debian packages and the DKMS/package install
# test need (make deb, make check-install), only when something is missing;
# the VM tooling itself comes from scripts/deps.sh. Uses the system's
# configured package sources only.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

PKGS=(dkms dh-dkms debhelper dh-python dpkg-dev fakeroot build-essential
      python3 pkgconf rsync)

log() { printf 'pkg-deps: %s\n' "$*" >&2; }

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { log "not root and no sudo"; exit 1; }
	SUDO="sudo -n"
fi

# One query per package: dpkg-query exits non-zero for a package it has
# never seen, which only means "missing".
missing=()
for p in "${PKGS[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
log "installing: ${missing[*]}"
apt_q() { $SUDO apt-get -q -y -o Dpkg::Use-Pty=0 "$@" </dev/null; }
apt_q update || { log "apt-get update failed"; exit 1; }
apt_q install --no-install-recommends "${missing[@]}" ||
	{ log "apt-get install ${missing[*]} failed"; exit 1; }
