#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Install what glock's build and VM tests need; fast when all is present.
# Needs only bash and apt: a minimal Debian 12 has no make yet.
#
# usage: deps.sh [packages] [vng] [kselftest] [cluster] [perf]
#                                     (default: the first three)
#   packages   Debian packages, from the system's configured apt sources
#              only, plus the kernels (image + headers) that KVERS/KVER name
#   vng        virtme-ng 1.35 from trixie, through a private apt state (the
#              system's sources are read, never changed)
#   kselftest  kselftest_harness.h and checkpatch, extracted from Debian's
#              linux-source-6.1 tarball into $CACHE/linux-source-6.1/
#   cluster    corosync and dlm-controld from the system's sources, for
#              make check-cluster only (make check never needs them)
#   perf       linux-perf from the system's sources, for make profile only
#
# KVERS/KVER: releases (6.1.0-57-amd64) or aliases (6.1, 6.12, 6.12-rt: see
# scripts/kernels.sh). An alias with no installed release gets the newest
# one the sources offer with headers.
set -eEuo pipefail

here=$(cd "$(dirname "$0")" && pwd)
CACHE=${CACHE:-$HOME/.cache/glock}
export DEBIAN_FRONTEND=noninteractive

# virtme-init powers the guest off with the host's poweroff (systemd-sysv);
# cli_test checks make install through make, cc and pkg-config; glock list
# prints through libsmartcols, as lslocks; the Python package builds with
# setuptools.
PKGS=(qemu-system-x86 linux-image-amd64 linux-headers-amd64 busybox-static
      cpio kmod build-essential make pkgconf python3 sparse linux-source-6.1
      bc flex bison libelf-dev libssl-dev dwarves file python3-argcomplete
      python3-pkg-resources python3-requests gcc-multilib g++ i2c-tools
      procps systemd-sysv iproute2 xz-utils rsync libsmartcols-dev
      python3-setuptools python3-wheel)
# make check-cluster only: the cluster stack the guests run (dlm.ko is in
# the kernel image package).
CLUSTER_PKGS=(corosync dlm-controld)
# make profile only: perf, run in the guest from the host's root.
PERF_PKGS=(linux-perf)
VNG_VERSION=1.35-1
SRC_TARBALL=/usr/src/linux-source-6.1.tar.xz
SRC_MEMBERS=(tools/testing/selftests/kselftest_harness.h
	     tools/testing/selftests/kselftest.h
	     scripts/checkpatch.pl
	     scripts/spelling.txt
	     scripts/const_structs.checkpatch)

log() { printf 'deps: %s\n' "$*" >&2; }
die() { printf 'deps: error: %s\n' "$*" >&2; exit 1; }
# Anything else that fails: say where, not just "Error 1" from make.
on_err() { log "failed (status $1) at line $2: $3"; exit "$1"; }
trap 'on_err $? $LINENO "$BASH_COMMAND"' ERR

steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(packages vng kselftest)
for s in "${steps[@]}"; do
	case $s in
	packages|vng|kselftest|cluster|perf) ;;
	*) die "unknown step '$s' (usage: deps.sh [packages] [vng] [kselftest] [cluster] [perf])" ;;
	esac
done

# Only apt needs root; extracting the kselftest files does not.
apt_q() {
	local sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null || die "apt-get needs root, and there is no sudo: run as root"
		sudo=(sudo -n)
	fi
	"${sudo[@]}" apt-get -q -y -o Dpkg::Use-Pty=0 "$@" </dev/null
}

# dpkg-query exits 1 for a package dpkg has never seen, and lists removed
# ones as "deinstall ... config-files": ask one package at a time and trust
# only the status "installed".
installed() {
	local st
	st=$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) || return 1
	[ "$st" = installed ]
}

# The URIs of the system's configured sources (deb822 and one-line lists),
# found where apt itself looks.
source_uris() {
	local list parts f
	eval "$(apt-config shell list Dir::Etc::sourcelist/f parts Dir::Etc::sourceparts/d)"
	for f in "${list:-/etc/apt/sources.list}" "${parts:-/etc/apt/sources.list.d/}"*.list; do
		[ -f "$f" ] || continue
		awk '$1 == "deb" { for (i = 2; i <= NF; i++)
			if ($i ~ /^[a-z+]+:/) { print $i; break } }' "$f"
	done
	for f in "${parts:-/etc/apt/sources.list.d/}"*.sources; do
		[ -f "$f" ] || continue
		awk 'tolower($1) == "enabled:" && tolower($2) == "no" { off = 1 }
		     /^[ \t]*$/ { off = 0 }
		     tolower($1) == "uris:" && !off {
			for (i = 2; i <= NF; i++) print $i }' "$f"
	done
}

need_sources() {
	[ -n "$(source_uris)" ] ||
		die "no apt sources are configured (see 'apt-config dump | grep Dir::Etc'): add your Debian mirror there, then run this again"
}

# --- Debian packages and kernels ---------------------------------------------
# Kernel packages for KVERS/KVER. Prints "image headers" pairs to install;
# an alias with nothing installed is resolved after apt-get update.
kernel_words() {
	local w
	for w in ${KVERS:-} ${KVER:-}; do
		echo "$w"
	done | awk '!seen[$0]++'
}

# The newest release matching an alias's regex that dpkg has installed,
# headers included.
installed_release() {
	local re=$1 r
	# Exits 1 when no package matches at all.
	{ dpkg-query -W -f='${Package} ${db:Status-Status}\n' 'linux-image-*' 2>/dev/null || true; } |
		awk '$2 == "installed" { sub(/^linux-image-/, "", $1); print $1 }' |
		{ grep -E -- "$re" || true; } | sort -rV |
		while read -r r; do
			if installed "linux-headers-$r"; then
				echo "$r"
				break
			fi
		done
}

# The newest release matching an alias's regex that the sources offer
# with headers.
available_release() {
	local re=$1 r
	apt-cache search --names-only "^linux-image-${re#^}" 2>/dev/null |
		awk '{ sub(/^linux-image-/, "", $1); print $1 }' | sort -rV |
		while read -r r; do
			if apt-cache show "linux-headers-$r" >/dev/null 2>&1; then
				echo "$r"
				break
			fi
		done
}

step_packages() {
	local p w re r missing=() aliases=()

	for p in "${PKGS[@]}"; do
		installed "$p" || missing+=("$p")
	done
	while read -r w; do
		[ -n "$w" ] || continue
		if re=$("$here/kernels.sh" pattern "$w"); then
			[ -n "$(installed_release "$re")" ] || aliases+=("$w")
		elif [ -d "/lib/modules/$w/build" ] && [ -r "/boot/vmlinuz-$w" ]; then
			:	# installed, by dpkg or otherwise
		else
			for p in "linux-image-$w" "linux-headers-$w"; do
				installed "$p" || missing+=("$p")
			done
		fi
	done < <(kernel_words)

	if [ ${#missing[@]} -eq 0 ] && [ ${#aliases[@]} -eq 0 ]; then
		log "all ${#PKGS[@]} packages and the kernels asked for are installed"
		return
	fi
	need_sources
	log "updating the package lists from the configured sources"
	apt_q update || die "apt-get update failed: check the sources (apt-config dump | grep Dir::Etc) and the network"
	for w in "${aliases[@]}"; do
		re=$("$here/kernels.sh" pattern "$w")
		r=$(available_release "$re")
		[ -n "$r" ] ||
			die "kernel '$w': no linux-image/linux-headers pair matching $re in the configured sources (6.12 comes from bookworm-updates and bookworm-security)"
		log "kernel '$w' is $r"
		missing+=("linux-image-$r" "linux-headers-$r")
	done
	log "installing ${#missing[@]} packages: ${missing[*]}"
	apt_q install --no-install-recommends "${missing[@]}" ||
		die "apt-get install failed for: ${missing[*]}"
	for p in "${missing[@]}"; do
		installed "$p" || die "$p is still not installed after apt-get install"
	done
}

# --- packages only one make target needs -------------------------------------
# install_for WHAT PKG...: install the PKGs that are missing, for WHAT.
install_for() {
	local what=$1 p missing=()
	shift
	for p in "$@"; do
		installed "$p" || missing+=("$p")
	done
	[ ${#missing[@]} -gt 0 ] || return 0
	need_sources
	log "installing $what: ${missing[*]}"
	apt_q install --no-install-recommends "${missing[@]}" ||
		{ apt_q update && apt_q install --no-install-recommends "${missing[@]}"; } ||
		die "apt-get install failed for: ${missing[*]}"
	for p in "${missing[@]}"; do
		installed "$p" || die "$p is still not installed after apt-get install"
	done
}

# corosync and dlm_controld, for make check-cluster.
step_cluster() { install_for "the cluster stack" "${CLUSTER_PKGS[@]}"; }

# perf, for make profile.
step_perf() { install_for "perf" "${PERF_PKGS[@]}"; }

# --- virtme-ng from trixie ---------------------------------------------------
step_vng() {
	local A uri deb
	if vng --version >/dev/null 2>&1; then
		return
	fi
	need_sources
	# The system's first Debian archive (not its security archive): trixie
	# lives next to bookworm there.
	uri=$(source_uris | grep -v -- '-security' | head -n 1)
	[ -n "$uri" ] || die "no non-security apt source to fetch trixie's virtme-ng from"
	A=$CACHE/apt-trixie
	mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$A/debs"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri trixie main" \
		>"$A/sources.list"
	# Own source list, lists and package cache: the system's apt state
	# (and its pkgcache.bin) stay exactly as they were.
	local APTO=(-o "Dir::Etc::SourceList=$A/sources.list"
		    -o Dir::Etc::SourceParts=/dev/null
		    -o "Dir::State::Lists=$A/lists"
		    -o "Dir::Cache=$A/cache"
		    -o APT::Sandbox::User=root)
	deb=$(find "$A/debs" -name 'virtme-ng_*_all.deb' | head -n 1)
	if [ -z "$deb" ]; then
		log "fetching virtme-ng $VNG_VERSION from trixie at $uri"
		apt_q "${APTO[@]}" update ||
			die "could not read trixie's package list from $uri"
		(cd "$A/debs" && apt-get -q "${APTO[@]}" download \
			"virtme-ng=$VNG_VERSION" </dev/null ||
		 apt-get -q "${APTO[@]}" download virtme-ng </dev/null) ||
			die "could not download virtme-ng from trixie at $uri"
		deb=$(find "$A/debs" -name 'virtme-ng_*_all.deb' | head -n 1)
		[ -n "$deb" ] || die "apt-get download left no virtme-ng .deb in $A/debs"
	fi
	log "installing $(basename "$deb") (dependencies from the system's sources)"
	apt_q install --no-install-recommends "$deb" ||
		{ apt_q update && apt_q install --no-install-recommends "$deb"; } ||
		die "could not install $deb"
	vng --version >/dev/null || die "vng still does not run after installing $deb"
}

# --- kernel files from linux-source-6.1 --------------------------------------
step_kselftest() {
	local ver dst stamp tmp
	installed linux-source-6.1 ||
		die "linux-source-6.1 is not installed: run 'bash scripts/deps.sh packages'"
	ver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
	dst=$CACHE/linux-source-6.1
	stamp=$dst/.glock-extracted
	[ "$(cat "$stamp" 2>/dev/null)" != "$ver" ] || return 0
	log "extracting kselftest and checkpatch files from linux-source-6.1 $ver"
	mkdir -p "$CACHE"
	tmp=$(mktemp -d "$CACHE/.src.XXXXXX")
	tar -xJf "$SRC_TARBALL" -C "$tmp" "${SRC_MEMBERS[@]/#/linux-source-6.1/}"
	mkdir -p "$dst"
	(cd "$tmp/linux-source-6.1" && tar -cf - .) | tar -xf - -C "$dst"
	rm -rf "$tmp"
	echo "$ver" >"$stamp"
}

for s in "${steps[@]}"; do
	"step_$s"
done
