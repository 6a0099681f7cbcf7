#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Install what glock's build and VM tests need; fast when all is present.
#
# Debian packages (apt only when something is missing), virtme-ng 1.35 from
# trixie through a private apt state (the system's sources are not touched),
# and the few kernel files the tests and lint need, extracted from Debian's
# linux-source-6.1 tarball into $CACHE/linux-source-6.1/.
set -euo pipefail

CACHE=${CACHE:-$HOME/.cache/glock}
export DEBIAN_FRONTEND=noninteractive

PKGS=(qemu-system-x86 linux-image-amd64 linux-headers-amd64 busybox-static
      cpio kmod build-essential python3 sparse linux-source-6.1 bc flex bison
      libelf-dev libssl-dev dwarves file python3-argcomplete
      python3-pkg-resources python3-requests gcc-multilib g++ i2c-tools
      procps
      xz-utils rsync)
VNG_VERSION=1.35-1
SRC_TARBALL=/usr/src/linux-source-6.1.tar.xz
SRC_MEMBERS=(tools/testing/selftests/kselftest_harness.h
	     tools/testing/selftests/kselftest.h
	     scripts/checkpatch.pl
	     scripts/spelling.txt
	     scripts/const_structs.checkpatch)

log() { printf 'deps: %s\n' "$*" >&2; }

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { log "not root and no sudo"; exit 1; }
	SUDO="sudo -n"
fi

apt_q() { $SUDO apt-get -q -y -o Dpkg::Use-Pty=0 "$@" </dev/null; }

# --- Debian packages -------------------------------------------------------
# One dpkg-query for all: packages never seen are simply not listed.
installed=" $(dpkg-query -W -f='${Package}:${db:Status-Status} ' "${PKGS[@]}" \
	2>/dev/null | tr ' ' '\n' | sed -n 's/:installed$//p' | tr '\n' ' ' || true) "
missing=()
for p in "${PKGS[@]}"; do
	[[ $installed == *" $p "* ]] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	log "installing: ${missing[*]}"
	apt_q update
	apt_q install --no-install-recommends "${missing[@]}"
fi

# --- virtme-ng from trixie ---------------------------------------------------
# The mirror URI the system already uses (deb822 first, then one-line lists).
mirror_uri() {
	local f uri
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		uri=$(awk 'tolower($1)=="uris:" { for (i = 2; i <= NF; i++)
			if ($i !~ /security/) { print $i; exit } }' "$f")
		[ -n "$uri" ] && { echo "$uri"; return; }
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		uri=$(awk '$1=="deb" { for (i = 2; i <= NF; i++)
			if ($i ~ /^(https?|ftp):/ && $i !~ /security/) { print $i; exit } }' "$f")
		[ -n "$uri" ] && { echo "$uri"; return; }
	done
	echo http://deb.debian.org/debian
}

if ! vng --version >/dev/null 2>&1; then
	A=$CACHE/apt-trixie
	mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$A/debs"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $(mirror_uri) trixie main" \
		>"$A/sources.list"
	# Own source list, lists and package cache: the system's apt state
	# (and its pkgcache.bin) stay exactly as they were.
	APTO=(-o "Dir::Etc::SourceList=$A/sources.list"
	      -o Dir::Etc::SourceParts=/dev/null
	      -o "Dir::State::Lists=$A/lists"
	      -o "Dir::Cache=$A/cache"
	      -o APT::Sandbox::User=root)
	log "fetching virtme-ng $VNG_VERSION from trixie"
	deb=$(ls "$A/debs"/virtme-ng_*_all.deb 2>/dev/null | head -n 1 || true)
	if [ -z "$deb" ]; then
		apt_q "${APTO[@]}" update
		(cd "$A/debs" && apt-get -q "${APTO[@]}" download \
			"virtme-ng=$VNG_VERSION" </dev/null ||
		 apt-get -q "${APTO[@]}" download virtme-ng </dev/null)
		deb=$(ls "$A/debs"/virtme-ng_*_all.deb | head -n 1)
	fi
	# Dependencies come from the system's own (bookworm) sources.
	apt_q install --no-install-recommends "$deb" ||
		{ apt_q update && apt_q install --no-install-recommends "$deb"; }
	vng --version >/dev/null
fi

# --- kernel files from linux-source-6.1 --------------------------------------
ver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
dst=$CACHE/linux-source-6.1
stamp=$dst/.glock-extracted
if [ "$(cat "$stamp" 2>/dev/null)" != "$ver" ]; then
	log "extracting kselftest and checkpatch files from linux-source-6.1 $ver"
	tmp=$(mktemp -d "$CACHE/.src.XXXXXX")
	tar -xJf "$SRC_TARBALL" -C "$tmp" \
		"${SRC_MEMBERS[@]/#/linux-source-6.1/}"
	mkdir -p "$dst"
	(cd "$tmp/linux-source-6.1" && tar -cf - .) | tar -xf - -C "$dst"
	rm -rf "$tmp"
	echo "$ver" >"$stamp"
fi
exit 0
