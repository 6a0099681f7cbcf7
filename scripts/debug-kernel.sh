#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Build (once per source version and config fragment) a debug kernel from
# Debian's linux-source-6.1: by default the lockdep/KASAN/kmemleak/UBSAN one of
# selftests/vm/debug.config for `make check-debug`; DEBUG_CONFIG=<fragment>
# (e.g. selftests/vm/kcsan.config for `make check-kcsan`) picks another.
#
# The tree lands in $CACHE/debug-kernel-<key>/ (key = linux-source package
# version + sha of the fragment); a finished tree is reused.
# Prints the tree's path on stdout. JOBS (default 2) sets make -j; the build
# runs under nice -n $NICE (default 19). About 21 min on 2 idle cores.
set -euo pipefail

CACHE=${CACHE:-$HOME/.cache/glock}
JOBS=${JOBS:-2}
NICE=${NICE:-19}
repo=$(cd "$(dirname "$0")/.." && pwd)
frag=${DEBUG_CONFIG:-selftests/vm/debug.config}
case $frag in /*) ;; *) frag=$repo/$frag ;; esac
tarball=/usr/src/linux-source-6.1.tar.xz

log() { printf 'debug-kernel: %s\n' "$*" >&2; }

[ -r "$frag" ] || { log "no config fragment $frag"; exit 1; }

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
	# merge_config only warns when an option does not stick: insist on
	# every one the fragment sets or unsets.
	bad=0
	while IFS= read -r line; do
		case $line in
		CONFIG_*=[ym])
			opt=${line%%=*}
			grep -Eq "^$opt=[ym]\$" .config ;;
		CONFIG_*=*)
			opt=${line%%=*}
			grep -qxF -- "$line" .config ;;
		"# CONFIG_"*" is not set")
			opt=${line#\# }; opt=${opt%% *}
			! grep -Eq "^$opt=" .config ;;
		*) continue ;;
		esac || { log "$line did not stick in .config"; bad=1; }
	done <"$frag"
	[ $bad = 0 ] || exit 1
	echo "$sha" >.glock-configured
fi

log "building bzImage and modules (nice -n $NICE make -j$JOBS)"
nice -n "$NICE" make -j"$JOBS" bzImage modules >&2
touch .glock-built
log "done in $(( $(date +%s) - start )) s: $tree"
echo "$tree"
