#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Build the Debian packages (glock-dkms, libglock0, libglock-dev,
# glock-tools, python3-glock) with dpkg-buildpackage -b -us -uc, from a
# copy of the tree in build/deb/glock-VERSION: dpkg-buildpackage writes its
# output next to the source, and next to a clone may be someone else's.
# Prints the paths of the built .deb files on stdout, one a line.
# Environment: DEB_OUT (default <repo>/build/deb).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
out=${DEB_OUT:-$repo/build/deb}
version=$(dpkg-parsechangelog -l "$repo/debian/changelog" -S Version)

log() { printf 'build-deb: %s\n' "$*" >&2; }

src=$out/glock-$version
rm -rf "$src"
mkdir -p "$src"
rm -f "$out"/*.deb "$out"/*.buildinfo "$out"/*.changes
rsync -a --exclude=/.git --exclude=/build --exclude='*.o' --exclude='*.ko' \
	--exclude='*.mod' --exclude='*.mod.c' --exclude='.*.cmd' \
	--exclude='*.a' --exclude='*.so*' --exclude=__pycache__ \
	"$repo/" "$src/"

log "dpkg-buildpackage -b -us -uc in $src"
t0=$(date +%s)
# /usr/bin first: the packages are for the system's python3, whatever
# python3 a developer's PATH finds first.
if ! (cd "$src" && PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH \
	dpkg-buildpackage -b -us -uc) >"$out/build.log" 2>&1; then
	tail -n 40 "$out/build.log" >&2
	log "failed; the whole log is $out/build.log"
	exit 1
fi
log "built in $(( $(date +%s) - t0 )) s; log: $out/build.log"
ls "$out"/*_"$version"_*.deb
