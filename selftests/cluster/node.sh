#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Inside one guest of make check-cluster: network, corosync, dlm_controld,
# glock.ko and glock_dlm.ko; then node 1 serves commands (the agent, "A")
# and node 2 runs the scenarios (the driver, "B": scenarios.sh).
#
# usage: node.sh ID SHARED     (ID 1 or 2; SHARED: the run's --rwdir)
# The two guests talk over 10.99.0.0/24 (a QEMU socket link on the host's
# loopback) and meet through flag files in SHARED.
set -uo pipefail

id=${1:?usage: node.sh ID SHARED}
S=${2:?usage: node.sh ID SHARED}
peer=$((3 - id))
repo=$(cd "$(dirname "$0")/../.." && pwd)
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
export S repo id peer

# Settings from the host (CLUSTER_ROUNDS...).
[ -f "$S/env" ] && . "$S/env"
GLOCK_KMOD_DIR=${GLOCK_KMOD_DIR:-$repo/kmod}
export CLUSTER_ROUNDS GLOCK_KMOD_DIR

# A sleep without a fork: each process costs much under TCG on one CPU.
mkfifo /tmp/.snooze 2>/dev/null
exec 7<>/tmp/.snooze
snooze() { read -r -t "$1" -u 7 _ || true; }
export -f snooze

up() { cut -d' ' -f1 /proc/uptime; }
log() { echo "# n$id $(up): $*"; }
fatal() {
	log "setup failed: $*"
	echo "setup n$id: $*" >"$S/n$id.failed"
	dmesg >"$S/n$id.dmesg"
	exit 1
}
# wait_for SECONDS COMMAND...: poll every 0.2 s.
wait_for() {
	local t=$1 i
	shift
	for ((i = 0; i < t * 5; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

log "booted $(uname -r)"
t_boot=$(up)
nic=$(ls /sys/class/net | grep -v '^lo$' | head -n 1)
[ -n "$nic" ] || { modprobe virtio_net; sleep 1; nic=$(ls /sys/class/net | grep -v '^lo$' | head -n 1); }
[ -n "$nic" ] || fatal "no network interface"
ip link set lo up
ip addr add "10.99.0.$id/24" dev "$nic" && ip link set "$nic" up || fatal "ip on $nic"

modprobe dlm || fatal "modprobe dlm"
mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config
mkdir -p /dev/shm
mountpoint -q /dev/shm || mount -t tmpfs tmpfs /dev/shm
for d in /etc/corosync /var/lib/corosync /var/log/corosync /run/dlm_controld \
	 /var/log/cluster /var/run; do
	mkdir -p "$d" 2>/dev/null || { mount -t tmpfs tmpfs "$(dirname "$d")" && mkdir -p "$d"; }
done
cp "$S/corosync.conf" /etc/corosync/corosync.conf || fatal "corosync.conf"

wait_for 60 busybox ping -c 1 -W 1 "10.99.0.$peer" || fatal "peer 10.99.0.$peer does not answer"
log "peer answers"
t_cs=$(up)
corosync -f >"$S/n$id.corosync.log" 2>&1 &
cs_pid=$!
quorate() { corosync-quorumtool -s 2>/dev/null | grep -q 'Total votes: *2'; }
wait_for 180 quorate || fatal "corosync: no 2-node quorum"
log "corosync: 2 members, quorate"
dlm_controld --foreground --enable_fencing 0 >"$S/n$id.dlm_controld.log" 2>&1 &
dc_pid=$!
dlm_ready() { [ "$(dlm_tool status 2>/dev/null | grep -c '^node [0-9]* M')" -ge 2 ]; }
wait_for 120 dlm_ready || fatal "dlm_controld: the two nodes are not members"
log "dlm_controld ready"
insmod "$GLOCK_KMOD_DIR/glock.ko" || fatal "insmod glock.ko"
insmod "$GLOCK_KMOD_DIR/glock_dlm.ko" || fatal "insmod glock_dlm.ko"
ls_up() { [ "$(cat /sys/module/glock_dlm/parameters/state)" = up ]; }
wait_for 180 ls_up || fatal "glock_dlm: lockspace not up ($(cat /sys/module/glock_dlm/parameters/state))"
t_up=$(up)
log "glock_dlm up: $(cat /sys/kernel/debug/glock_dlm/status)"
echo "formation_s=$(echo "$t_up - $t_cs" | bc) boot_to_up_s=$(echo "$t_up - $t_boot" | bc)" \
	>"$S/n$id.times"
touch "$S/n$id.ready"

stop_daemons() {
	kill "$dc_pid" 2>/dev/null
	sleep 1
	kill "$cs_pid" 2>/dev/null
	wait "$dc_pid" "$cs_pid" 2>/dev/null
}

if [ "$id" = 1 ]; then
	# The agent: run cmd.1.N files in the background, in order; the
	# pid (commands 'exec' their program), output and status go next to
	# them. Ends at the stop file.
	n=0
	while [ ! -f "$S/stop" ]; do
		f=$S/cmd.1.$n
		if [ -f "$f" ]; then
			(
				bash "$f" >"$S/out.1.$n" 2>&1 &
				echo $! >"$S/pid.1.$n"
				wait $!
				echo $? >"$S/rc.1.$n.tmp"
				mv "$S/rc.1.$n.tmp" "$S/rc.1.$n"
			) &
			n=$((n + 1))
		else
			snooze 0.2
		fi
	done
	log "stop"
	rmmod glock_dlm && rmmod glock || log "rmmod failed"
	dmesg >"$S/n$id.dmesg"
	stop_daemons
	exit 0
fi

wait_for 300 test -f "$S/n1.ready" || fatal "node 1 never got ready"
bash "$repo/selftests/cluster/scenarios.sh"
rc=$?
dmesg >"$S/n$id.dmesg"
stop_daemons
exit $rc
