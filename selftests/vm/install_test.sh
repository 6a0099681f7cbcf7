#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Install glock the admin's way on this host, use it in a guest, remove it.
#
# usage: install_test.sh [dkms] [deb]          (default: both, in that order)
#
# dkms: the module sources to /usr/src/glock-VERSION, dkms add/build/install
#       for KVER, and "make install" of the user space into a staging root
#       (PREFIX=/usr/local under a DESTDIR: writing /usr/local here would
#       put a library and a Python package in other people's way).
# deb:  build the packages (scripts/build-deb.sh), apt-get install them, the
#       glock-dkms postinst builds the module with DKMS.
# Each then boots KVER's kernel (QEMU/TCG, virtme-ng), which sees this
# host's / read-only: it modprobes glock and glock_i2c from
# /lib/modules/KVER/updates/dkms and runs install_smoke.sh (CLI, a program
# built through pkg-config, Python). Afterwards: dkms remove / apt-get purge,
# and a check that nothing of glock is left in /lib/modules, /usr/src, dkms.
#
# The guest lock (~/.cache/glock/vm.lock) is held from the moment anything
# is installed in /lib/modules or /usr until it is all removed again, so no
# other guest on this machine boots with an installed glock.ko in its tree.
# The packages' DKMS build is limited to KVER with /etc/dkms/glock.conf
# (BUILD_EXCLUSIVE_KERNEL), DKMS's own per-module override, so that kernels
# glock may not build for do not fail the install; GLOCK_DKMS_ALL_KERNELS=1
# leaves all kernels in.
# Environment: KVER, CACHE, VM_TIMEOUT (s, 900), VM_MEMORY (1G).
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${CACHE:-$HOME/.cache/glock}
KVER=${KVER:-$(ls /lib/modules 2>/dev/null | grep -- '-amd64$' | sort -V | tail -n 1)}
VM_TIMEOUT=${VM_TIMEOUT:-900}
version=$(sed -n 's/^VERSION := //p' "$repo/lib/Makefile")
PKGS=(glock-dkms libglock0 libglock-dev glock-tools python3-glock)
export DEBIAN_FRONTEND=noninteractive
# Wait for another apt/dpkg on this shared host rather than fail.
APT=(apt-get -q -y -o DPkg::Lock::Timeout=300)

say() { printf '# install_test: %s\n' "$*"; }
die() { printf 'install_test: %s\n' "$*" >&2; exit 1; }

modes=()
for a in "$@"; do
	case $a in
	dkms|deb) modes+=("$a") ;;
	*) echo "usage: $0 [dkms] [deb]" >&2; exit 2 ;;
	esac
done
[ ${#modes[@]} -gt 0 ] || modes=(dkms deb)

[ "$(id -u)" = 0 ] || die "needs root (dkms, apt-get)"
command -v vng >/dev/null || die "vng not found: run scripts/deps.sh (make deps)"
command -v dkms >/dev/null || die "dkms not found: run scripts/pkg-deps.sh"
[ -r "/boot/vmlinuz-$KVER" ] || die "no /boot/vmlinuz-$KVER (KVER=$KVER)"
[ -d "/lib/modules/$KVER/build" ] || die "no headers for $KVER"
[ "$(cat "$repo/dkms.conf" | sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p')" = "$version" ] ||
	die "dkms.conf's PACKAGE_VERSION is not lib/Makefile's $version"
[ "$(dpkg-parsechangelog -l "$repo/debian/changelog" -S Version)" = "$version" ] ||
	die "debian/changelog's version is not lib/Makefile's $version"

mkdir -p "$repo/build/install-test"
results=$(mktemp -d "$repo/build/install-test/run.XXXXXX")
chmod 0777 "$results"
say "KVER=$KVER, modes: ${modes[*]}, logs in $results"

# --- what an installed glock leaves on this host -----------------------------
leftovers() {
	local f p st
	dkms status -m glock 2>/dev/null | sed 's/^/dkms: /'
	for f in /lib/modules/*/updates/dkms/glock*.ko* /lib/modules/*/extra/kmod/glock*.ko* \
		 /usr/src/glock-* /etc/dkms/glock.conf /lib/udev/rules.d/60-glock.rules \
		 /usr/lib/modules-load.d/glock.conf /usr/bin/glock; do
		[ -e "$f" ] && echo "$f"
	done
	for p in "${PKGS[@]}"; do
		# Never seen or purged: dpkg-query fails or says not-installed.
		st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
		[ -z "$st" ] || [ "$st" = not-installed ] || echo "package $p: $st"
	done
}
before=$(leftovers)
[ -z "$before" ] || die "glock is already installed on this host; not touching it:
$before"

cleanup_dkms() {
	dkms remove -m glock -v "$version" --all >>"$results/cleanup.log" 2>&1
	rm -rf "/usr/src/glock-$version"
}
# The packages dpkg knows (apt-get purge refuses a list with unknown ones).
known_pkgs() {
	local p st
	for p in "${PKGS[@]}"; do
		st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
		[ -z "$st" ] || [ "$st" = not-installed ] || echo "$p"
	done
}
cleanup_deb() {
	local known
	known=$(known_pkgs)
	# shellcheck disable=SC2086
	[ -z "$known" ] || "${APT[@]}" purge $known >>"$results/cleanup.log" 2>&1
	rm -f /etc/dkms/glock.conf
	cleanup_dkms
}
cleanup() {
	cleanup_deb
	local left
	left=$(leftovers)
	if [ -n "$left" ]; then
		say "LEFT ON THE HOST after clean-up:"
		echo "$left" | sed 's/^/#   /'
		return 1
	fi
	return 0
}
trap 'cleanup; exit 130' INT TERM HUP

# Boot KVER and run install_smoke.sh; sets guest_rc and prints its output.
boot_smoke() {
	local tag=$1 root=${2:-} t0 out=$results/$1
	mkdir -p "$out"
	chmod 0777 "$out"
	t0=$(date +%s)
	# Run vng from / (VM-NOTES: --rwdir paths are checked from the cwd).
	(cd / && timeout -k 30 "$VM_TIMEOUT" \
		vng --run "/boot/vmlinuz-$KVER" --disable-kvm --force-9p \
		-m "${VM_MEMORY:-1G}" --cpus "${VM_CPUS:-2}" \
		--rwdir "/tmp/glock-results=$out" -v \
		--exec "$(printf '%q /tmp/glock-results %q' \
			"$repo/selftests/vm/install_smoke.sh" "$root")" \
		</dev/null 2>"$out/console.log") | tee "$out/output.log"
	guest_rc=${PIPESTATUS[0]}
	say "$tag: guest status $guest_rc, $(( $(date +%s) - t0 )) s from boot to power-off"
	grep -q '^done=1' "$out/counts" 2>/dev/null || {
		say "$tag: the guest did not finish; last console lines:"
		tail -n 30 "$out/console.log" | sed 's/^/#   /'
		guest_rc=1
	}
	if grep -aE 'WARNING:|BUG:|Oops|general protection|Kernel panic' "$out/console.log" |
		grep -q .; then
		say "$tag: kernel problems on the console ($out/console.log)"
		guest_rc=1
	fi
}

mkdir -p "$CACHE"
exec 9>"$CACHE/vm.lock"
take_vm_lock() {
	flock -n 9 || { say "waiting for another guest on this machine ($CACHE/vm.lock)"; flock 9; }
}

failed=0
passed=0
result() { if [ "$1" = 0 ]; then passed=$((passed + 1)); echo "ok - $2"; \
	else failed=$((failed + 1)); echo "not ok - $2"; fi; }

# --- DKMS ---------------------------------------------------------------------
run_dkms() {
	local t0 rc stage=$results/dkms-root
	say "dkms: make dkms-source, dkms add, dkms build -k $KVER"
	t0=$(date +%s)
	make -s -C "$repo" dkms-source >"$results/dkms.log" 2>&1 &&
		dkms add -m glock -v "$version" >>"$results/dkms.log" 2>&1 &&
		dkms build -m glock -v "$version" -k "$KVER" >>"$results/dkms.log" 2>&1
	rc=$?
	result $rc "dkms add/build for $KVER ($(( $(date +%s) - t0 )) s)"
	[ $rc = 0 ] || { tail -n 30 "$results/dkms.log"; cleanup_dkms; return; }
	# User space the "make install" way, staged (see the top).
	make -s -C "$repo/lib" >>"$results/dkms.log" 2>&1 &&
		make -s -C "$repo/lib" install DESTDIR="$stage" PREFIX=/usr/local \
			PYTHON=/usr/bin/python3 >>"$results/dkms.log" 2>&1
	rc=$?
	result $rc "make install DESTDIR=... PREFIX=/usr/local"
	[ $rc = 0 ] || { tail -n 30 "$results/dkms.log"; cleanup_dkms; return; }
	# "make; make install PREFIX=/usr" once installed a .pc for /usr/local.
	make -s -C "$repo/lib" install DESTDIR="$stage-usr" PREFIX=/usr \
		PYTHON=/usr/bin/python3 >>"$results/dkms.log" 2>&1 &&
		grep -qx 'prefix=/usr' "$stage-usr/usr/lib/pkgconfig/glock.pc" &&
		test -f "$stage-usr/usr/include/glock/linux/glock.h" &&
		test ! -e "$stage-usr/usr/include/linux"
	result $? "make install PREFIX=/usr after make: glock.pc says /usr, ABI header in include/glock/"

	take_vm_lock
	dkms install -m glock -v "$version" -k "$KVER" >>"$results/dkms.log" 2>&1
	rc=$?
	result $rc "dkms install -k $KVER"
	if [ $rc = 0 ]; then
		dkms status -m glock | sed 's/^/# /'
		boot_smoke dkms "$stage"
		result $guest_rc "guest: modprobe from the DKMS tree, CLI, pkg-config, Python"
	fi
	cleanup_dkms
	flock -u 9
	[ -z "$(leftovers)" ]
	result $? "dkms remove leaves nothing behind"
}

# --- Debian packages ------------------------------------------------------------
run_deb() {
	local t0 rc debs
	t0=$(date +%s)
	debs=$("$repo/scripts/build-deb.sh" 2>"$results/deb-build.log")
	rc=$?
	result $rc "dpkg-buildpackage -b -us -uc ($(( $(date +%s) - t0 )) s)"
	[ $rc = 0 ] || { cat "$results/deb-build.log"; return; }
	debs=$(for p in "${PKGS[@]}"; do echo "$debs" | grep "/${p}_${version}_"; done)
	echo "$debs" | sed 's/^/# /'

	take_vm_lock
	if [ "${GLOCK_DKMS_ALL_KERNELS:-0}" != 1 ]; then
		mkdir -p /etc/dkms
		printf '# install_test.sh: build for the tested kernel only\nBUILD_EXCLUSIVE_KERNEL="^%s$"\n' \
			"${KVER//./\\.}" >/etc/dkms/glock.conf
	fi
	t0=$(date +%s)
	# shellcheck disable=SC2086
	"${APT[@]}" install $debs >"$results/deb-install.log" 2>&1
	rc=$?
	result $rc "apt-get install ./*.deb ($(( $(date +%s) - t0 )) s, DKMS build included)"
	grep -E 'Building for|Building initial|Skipped|Done\.|Error|error' \
		"$results/deb-install.log" | sed 's/^/# /'
	if [ $rc = 0 ]; then
		dkms status -m glock | sed 's/^/# /'
		boot_smoke deb ""
		result $guest_rc "guest: modprobe, CLI, pkg-config, Python from the packages"
	else
		tail -n 30 "$results/deb-install.log"
	fi
	t0=$(date +%s)
	# shellcheck disable=SC2086
	"${APT[@]}" purge $(known_pkgs) >"$results/deb-purge.log" 2>&1
	result $? "apt-get purge ($(( $(date +%s) - t0 )) s)"
	rm -f /etc/dkms/glock.conf
	flock -u 9
	[ -z "$(leftovers)" ]
	result $? "the purge leaves nothing behind"
}

T0=$(date +%s)
for m in "${modes[@]}"; do
	"run_$m"
done
cleanup || failed=$((failed + 1))
trap - INT TERM HUP
say "$(( $(date +%s) - T0 )) s in all; logs in $results"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
