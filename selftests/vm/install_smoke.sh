#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Inside the guest of install_test.sh: use glock the way an admin installed
# it. modprobe glock and glock_i2c from /lib/modules (DKMS's updates/dkms),
# then the installed CLI, a program built against the installed library
# through pkg-config, the installed Python package, the udev rules loader.
#
# usage: install_smoke.sh RESULTS_DIR [ROOT]
# ROOT: where "make install" put the user-space parts (DESTDIR with
# PREFIX=/usr/local); empty for the Debian packages (PREFIX=/usr).
# Writes passed=, failed=, done=1 to RESULTS_DIR/counts.
set -uo pipefail
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

results=${1:?usage: install_smoke.sh RESULTS_DIR [ROOT]}
root=${2:-}
if [ -n "$root" ]; then
	prefix=$root/usr/local
	libdir=$prefix/lib
	site=$(ls -d "$prefix"/lib/python3*/dist-packages 2>/dev/null | head -n 1)
	export PKG_CONFIG_SYSROOT_DIR=$root PKG_CONFIG_PATH=$libdir/pkgconfig
	export LD_LIBRARY_PATH=$libdir PYTHONPATH=$site
else
	prefix=/usr
	site=/usr/lib/python3/dist-packages
fi
glock=$prefix/bin/glock
tmp=$(mktemp -d)
name=install-smoke

passed=0
failed=0
n=0
ok() { n=$((n + 1)); passed=$((passed + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
check() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$what"
	else
		nok "$what"
		[ -n "$out" ] && printf '#   %s\n' "${out//$'\n'/$'\n'#   }"
	fi
}
expect_status() {
	local what=$1 want=$2 got
	shift 2
	"$@" >/dev/null 2>&1
	got=$?
	if [ "$got" = "$want" ]; then ok "$what"; else nok "$what (status $got, want $want)"; fi
}

kver=$(uname -r)
echo "# kernel $kver; user space from ${root:-the packages} ($prefix)"

# --- the modules, from the installed tree ---------------------------------
check "modprobe glock" modprobe glock
check "modprobe glock_i2c" modprobe glock_i2c
for m in glock glock_i2c; do
	path=$(modinfo -n "$m" 2>/dev/null)
	echo "# $m: $path"
	check "$m comes from /lib/modules/$kver/updates/dkms" \
		bash -c "[[ '$path' == /lib/modules/$kver/updates/dkms/$m.ko* ]]"
done
check "/dev/glock is a character device" test -c /dev/glock
mode=$(stat -c %a /dev/glock 2>/dev/null)
check "/dev/glock has mode 666 (is $mode)" test "$mode" = 666

# --- the installed CLI -----------------------------------------------------
check "the CLI is installed ($glock)" test -x "$glock"
exec 3<>/dev/glock
check "glock lock --fd 3 $name" "$glock" lock --fd 3 "$name"
out=$("$glock" state "$name" 2>&1)
echo "# glock state: $out"
check "glock state says exclusive" grep -qi exclusive <<<"$out"
expect_status "glock run -t 0 is refused while held (status 1)" 1 \
	"$glock" run "$name" -t 0 -- true
check "glock unlock --fd 3 $name" "$glock" unlock --fd 3 "$name"
expect_status "glock run -t 0 gets it once free (status 0)" 0 \
	"$glock" run "$name" -t 0 -- true
exec 3>&-

# --- a program built against the installed library, through pkg-config ----
cat >"$tmp/prog.c" <<'PROG'
#include <errno.h>
#include <stdio.h>
#include <glock.h>

int main(void)
{
	struct glock_dev *g = glock_open();
	unsigned int res = 0;

	if (!g || glock_lock(g, "install-smoke", GLOCK_EXCLUSIVE,
			     GLOCK_MSEC(500), &res) != 1) {
		fprintf(stderr, "%s\n", glock_strerror(errno));
		return 1;
	}
	printf("depth-after-unlock=%d abi=%zu\n",
	       glock_unlock(g, "install-smoke"), sizeof(struct glock_lock));
	glock_close(g);
	return 0;
}
PROG
flags=$(pkg-config --cflags --libs glock 2>&1)
echo "# pkg-config --cflags --libs glock: $flags"
check "cc prog.c \$(pkg-config --cflags --libs glock)" \
	cc -Wall -Wextra -Werror -o "$tmp/prog" "$tmp/prog.c" $flags
check "the program runs against the installed libglock" \
	bash -c "'$tmp/prog' | grep -q depth-after-unlock=0"
check "it is linked to the installed libglock.so.0" \
	bash -c "ldd '$tmp/prog' | grep -q 'libglock.so.0 => ${root:+$root}/'"

# --- the installed Python package -------------------------------------------
check "python3 imports glock from $site" /usr/bin/python3 - "$site" <<'PY'
import sys, glock
assert glock.__file__.startswith(sys.argv[1] + "/"), glock.__file__
with glock.Lock("install-smoke", timeout=1.0):
    other = glock.Lock("install-smoke")
    assert other.acquire(timeout=0) is False
    other.close()
again = glock.Lock("install-smoke")
assert again.acquire(timeout=0) is True
again.release()
again.close()
PY

# --- the udev rules loader is harmless without /etc/glock/rules -------------
loader=$prefix/libexec/glock/glock-rules-load
check "glock-rules-load exits 0 with no /etc/glock/rules" "$loader"

# --- with the packages' udev rule, rules load when the module appears ----
rules_loaded() { "$glock" rules show -n 2>/dev/null | grep -q '^smoke-\*'; }
udev_rule=
for d in /lib/udev/rules.d /usr/lib/udev/rules.d; do
	[ -f "$d/60-glock.rules" ] && udev_rule=$d/60-glock.rules
done
if [ -n "$udev_rule" ] && mkdir -p /etc/glock &&
   printf 'smoke-*  root  root  0600\n' >/etc/glock/rules; then
	modprobe -r glock_i2c glock
	modprobe glock
	udevadm settle -t 30 >/dev/null 2>&1
	for i in $(seq 50); do rules_loaded && break; sleep 0.2; done
	check "udev ($udev_rule) loaded /etc/glock/rules when glock appeared" \
		rules_loaded
	rm -f /etc/glock/rules
	"$glock" rules clear
	modprobe glock_i2c
else
	echo "# no installed udev rule (make install went to a staging root):" \
	     "rules loading at module load not checked here"
fi

check "modprobe -r glock_i2c glock" modprobe -r glock_i2c glock
splats=$(dmesg | grep -E 'WARNING:|BUG:|Oops|Call Trace|general protection' || true)
if [ -z "$splats" ]; then ok "no kernel problems in dmesg"; else nok "kernel problems in dmesg"; echo "$splats" | sed 's/^/#   /'; fi

echo "1..$n"
printf 'passed=%d\nfailed=%d\ndone=1\n' "$passed" "$failed" >"$results/counts"
[ "$failed" = 0 ]
