#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Build (once per source version and config fragment) a lockdep/KASAN/
# kmemleak/UBSAN kernel from Debian's linux-source-6.1 for `make check-debug`.
#
# The tree lands in $CACHE/debug-kernel-<key>/ (key = linux-source package
# version + sha of selftests/vm/debug.config); a finished tree is reused.
# Prints the tree's path on stdout. JOBS (default 2) sets make -j; the build
# runs under nice -n $NICE (default 19). About 21 min on 2 idle cores.
set -euo pipefail

CACHE=${CACHE:-$HOME/.cache/glock}
JOBS=${JOBS:-2}
NICE=${NICE:-19}
repo=$(cd "$(dirname "$0")/.." && pwd)
frag=$repo/selftests/vm/debug.config
tarball=/usr/src/linux-source-6.1.tar.xz

log() { printf 'debug-kernel: %s\n' "$*" >&2; }

ver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
sha=$(sha256sum "$frag" | cut -c1-12)
tree=$CACHE/debug-kernel-$ver-$sha

if [ -f "$tree/.glock-built" ]; then
	echo "$tree"
	exit 0
fi

mkdir -p "$CACHE"
exec 9>"$CACHE/debug-kernel.lock"
if ! flock -n 9; then
	log "another build holds $CACHE/debug-kernel.lock; waiting"
	flock 9
fi
[ -f "$tree/.glock-built" ] && { echo "$tree"; exit 0; }

start=$(date +%s)
if [ ! -f "$tree/.glock-extracted" ]; then
	log "extracting $tarball ($ver) into $tree"
	rm -rf "$tree"
	mkdir -p "$tree"
	tar -xJf "$tarball" -C "$tree" --strip-components=1
	touch "$tree/.glock-extracted"
fi

cd "$tree"
if [ "$(cat .glock-configured 2>/dev/null)" != "$sha" ]; then
	log "configuring (vng --kconfig + $frag)"
	vng --kconfig </dev/null >&2
	scripts/kconfig/merge_config.sh -m .config "$frag" >&2
	make olddefconfig >&2
	# merge_config only warns when an option does not stick: insist on the
	# ones the check is about.
	for opt in PROVE_LOCKING KASAN DEBUG_KMEMLEAK UBSAN DEBUG_FS MODULE_UNLOAD \
		   I2C_STUB IPC_NS; do
		grep -Eq "^CONFIG_$opt=[ym]" .config ||
			{ log "CONFIG_$opt did not stick in .config"; exit 1; }
	done
	echo "$sha" >.glock-configured
fi

log "building bzImage and modules (nice -n $NICE make -j$JOBS)"
nice -n "$NICE" make -j"$JOBS" bzImage modules >&2
touch .glock-built
log "done in $(( $(date +%s) - start )) s: $tree"
echo "$tree"
