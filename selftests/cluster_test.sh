#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The cluster: scope on one machine without a cluster stack: glock_dlm
# loads without dlm_controld, says it is not up, every cluster: request
# fails with ENOTCONN and changes nothing, local names are untouched, and
# it unloads cleanly. Then the same without the module (no backend). The
# two-node behaviour is make check-cluster's (selftests/cluster/).
#
# Runs in the test guest as root with glock.ko loaded; needs the kernel's
# dlm module (Debian: CONFIG_DLM=m). TAP output.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tap.sh
. "$here/tap.sh"
repo=${GLOCK_REPO:-$(dirname "$here")}
kmod_dir=${GLOCK_KMOD_DIR:-$repo/kmod}
H=$here/cluster_helper
P=/sys/module/glock_dlm/parameters

cleanup() {
	[ -d /sys/module/glock_dlm ] && rmmod glock_dlm 2>/dev/null
}
trap cleanup EXIT

echo "TAP version 13"
if ! modinfo dlm >/dev/null 2>&1; then
	ok "no dlm module in $(uname -r): glock_dlm cannot load here, nothing to test"
	finish
fi
if [ ! -f "$kmod_dir/glock_dlm.ko" ]; then
	nok "no $kmod_dir/glock_dlm.ko"
	finish
fi
[ -d /sys/module/glock ] || { nok "glock.ko is not loaded"; finish; }

# Without a backend.
out=$($H lock cluster:nobackend -t 0)
check "no backend: LOCK cluster:x gives ENOTCONN ($out)" grep -q 'errno=ENOTCONN' <<<"$out"

modprobe dlm 2>/dev/null
out=$(insmod "$kmod_dir/glock_dlm.ko" 2>&1)
check "insmod glock_dlm.ko without dlm_controld ($out)" test -d /sys/module/glock_dlm
sleep 1
st=$(cat $P/state 2>/dev/null)
check "lockspace state is down or joining, not up ($st)" eval '[ "$st" = down ] || [ "$st" = joining ]'
status=$(cat /sys/kernel/debug/glock_dlm/status 2>/dev/null)
check "debugfs glock_dlm/status ($status)" grep -q "^lockspace name=glock .*state=\(down\|joining\)" <<<"$status"

out=$("$repo/lib/glock" cluster status 2>&1; echo "status=$?")
check "glock cluster status: not up, exit 1 ($(tr '\n' ' ' <<<"$out"))" \
	eval 'grep -q "^state: \(down\|joining\)" <<<"$out" && grep -q "status=1" <<<"$out"'
for args in "-t 0" "-t 200" "" "-s -t 0"; do
	out=$($H lock cluster:smoke $args)
	check "LOCK cluster:smoke $args: ENOTCONN ($out)" grep -q 'errno=ENOTCONN' <<<"$out"
done
out=$($H state cluster:smoke)
check "STATE cluster:smoke: ENOTCONN ($out)" grep -q 'errno=ENOTCONN' <<<"$out"
check "nothing changed: no cluster: lock in glock's table" \
	eval '! grep -q "cluster:" /sys/kernel/debug/glock/locks'
check "nothing changed: glock_dlm has no lock" \
	eval '[ -z "$(cat /sys/kernel/debug/glock_dlm/locks)" ]'
out=$($H lock local-name -t 0 -H 0)
check "a local name still works beside it ($out)" grep -q 'rc=0' <<<"$out"
out=$(python3 - "$repo" <<'PY' 2>&1
import errno, sys
sys.path.insert(0, sys.argv[1] + "/lib/python")
import glock
try:
    with glock.Lock("cluster:py", timeout=0.2):
        print("held?!")
except glock.GlockError as e:
    print("errno", errno.errorcode.get(e.errno))
PY
)
check "Python Lock(\"cluster:py\"): ENOTCONN by name, no handle trouble ($out)" \
	grep -q 'errno ENOTCONN' <<<"$out"
out=$("$repo/lib/glock" run -n cluster:cli -- true 2>&1; echo "status=$?")
check "glock run cluster:cli: not obtained, status 2 ($out)" grep -q 'status=2' <<<"$out"

out=$(rmmod glock_dlm 2>&1)
check "rmmod glock_dlm while the join keeps failing ($out)" test ! -d /sys/module/glock_dlm
out=$($H lock cluster:gone -t 0)
check "after rmmod: ENOTCONN again ($out)" grep -q 'errno=ENOTCONN' <<<"$out"
# Load and unload once more: the join worker and its retries stop cleanly.
insmod "$kmod_dir/glock_dlm.ko" && sleep 3 && rmmod glock_dlm
check "second load/unload cycle" test ! -d /sys/module/glock_dlm
finish
