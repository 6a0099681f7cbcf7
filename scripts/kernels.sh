#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Which kernels glock builds for, shared by the Makefile, deps.sh and the
# test scripts so that they all agree.
#
# usage: kernels.sh default          the kernel to build for when KVER is unset
#        kernels.sh resolve WORD...  one installed release per WORD
#        kernels.sh pattern WORD     the release regex of an alias (else fails)
#
# A WORD is a release as in /lib/modules (any distribution, any suffix), or
# one of the Debian aliases below, which stand for the newest installed
# release of that line for this machine's architecture:
#   6.1      bookworm's kernel               (6.1.0-57-amd64)
#   6.12     Debian 12's 6.12 line, trixie's (6.12.117+deb12-amd64)
#   6.12-rt  its PREEMPT_RT twin             (6.12.117+deb12-rt-amd64)
# deps.sh installs an alias's newest packaged release when none is installed.
set -euo pipefail

modules=/lib/modules

die() { printf 'kernels.sh: %s\n' "$*" >&2; exit 1; }

# Debian's flavour suffix is the dpkg architecture (amd64, arm64, ...).
arch() { dpkg --print-architecture 2>/dev/null || echo amd64; }

pattern() {
	local a
	a=$(arch)
	case $1 in
	6.1) echo "^6\\.1\\.[0-9]+-[0-9]+-$a\$" ;;
	6.12) echo "^6\\.12\\.[0-9]+\\+deb[0-9]+-$a\$" ;;
	6.12-rt) echo "^6\\.12\\.[0-9]+\\+deb[0-9]+-rt-$a\$" ;;
	*) return 1 ;;
	esac
}

# Releases with a build directory, newest version first; flavours of one
# version (-amd64, -cloud-amd64, -rt-amd64) in name order, so a plain
# flavour comes before its -rt twin.
with_build() {
	local d r
	for d in "$modules"/*/build; do
		[ -d "$d" ] || continue
		r=${d%/build}
		r=${r##*/}
		printf '%s %s\n' "${r%%[-+]*}" "$r"
	done | sort -s -k1,1Vr | cut -d' ' -f2
}

# The running kernel if its headers are there (what out-of-tree modules
# usually build for), else the newest installed.
default() {
	local r
	r=$(uname -r)
	if [ -d "$modules/$r/build" ]; then
		echo "$r"
	else
		with_build | head -n 1
	fi
}

resolve() {
	local w re r
	for w in "$@"; do
		if re=$(pattern "$w"); then
			r=$(with_build | grep -E -- "$re" | head -n 1) ||
				die "no installed kernel for '$w' (${re}): run 'bash scripts/deps.sh' with KVERS='$w'"
		else
			r=$w
			[ -d "$modules/$r/build" ] ||
				die "no headers for kernel $r ($modules/$r/build): run 'bash scripts/deps.sh' with KVERS='$r'"
		fi
		echo "$r"
	done
}

case ${1:-} in
default) default ;;
resolve) shift; resolve "$@" ;;
pattern) pattern "${2:?usage: kernels.sh pattern WORD}" ;;
*) echo "usage: $0 default | resolve WORD... | pattern WORD" >&2; exit 2 ;;
esac
