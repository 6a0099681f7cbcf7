#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# make check-cluster: two QEMU/TCG guests (virtme-ng) joined by a QEMU
# socket link on 127.0.0.1 (a port free for this run), each running
# corosync + dlm_controld (fencing off: a test set-up) and glock +
# glock_dlm; node 2 drives the scenarios of scenarios.sh, node 1 serves.
# Prints the guests' output and, last, "N passed, N failed"; exits non-zero
# on any failure.
# Environment: KVER (Debian kernel to boot), CLUSTER_TOKEN (corosync token
# in ms, 10000: TCG stalls), CLUSTER_ROUNDS (increments per node, 1000),
# CLUSTER_TIMEOUT (s per guest, 1500), GLOCK_KMOD_DIR (the modules to
# load, built for KVER; default <repo>/kmod).
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
KVER=${KVER:-$("$repo/scripts/kernels.sh" default)}
TOKEN=${CLUSTER_TOKEN:-10000}
T=${CLUSTER_TIMEOUT:-1500}
kernel=/boot/vmlinuz-$KVER
say() { printf '# cluster: %s\n' "$*"; }
die() { printf 'cluster: %s\n' "$*" >&2; echo "0 passed, 1 failed"; exit 1; }

command -v vng >/dev/null || die "vng not found: run scripts/deps.sh"
command -v corosync >/dev/null && command -v dlm_controld >/dev/null ||
	die "corosync/dlm_controld missing: run 'bash scripts/deps.sh cluster'"
[ -r "$kernel" ] || die "no $kernel (KVER=$KVER)"
kmod_dir=${GLOCK_KMOD_DIR:-$repo/kmod}
[ -f "$kmod_dir/glock_dlm.ko" ] || die "no $kmod_dir/glock_dlm.ko (make modules KVER=$KVER)"
[ -x "$repo/selftests/cluster_helper" ] || die "no selftests/cluster_helper (make selftests)"

if mkdir -p "$repo/build/cluster" 2>/dev/null && [ -w "$repo/build/cluster" ]; then
	results=$(mktemp -d "$repo/build/cluster/run.XXXXXX")
	ln -sfn "$(basename "$results")" "$repo/build/cluster/latest"
else
	results=$(mktemp -d /tmp/glock-cluster.XXXXXX)
fi
chmod 0777 "$results"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

cat >"$results/corosync.conf" <<CONF
totem {
	version: 2
	cluster_name: glockclu
	transport: knet
	crypto_cipher: none
	crypto_hash: none
	token: $TOKEN
}
logging {
	to_stderr: yes
	to_logfile: no
	to_syslog: no
	timestamp: on
}
quorum {
	provider: corosync_votequorum
	two_node: 1
}
nodelist {
	node {
		name: n1
		nodeid: 1
		ring0_addr: 10.99.0.1
	}
	node {
		name: n2
		nodeid: 2
		ring0_addr: 10.99.0.2
	}
}
CONF

printf 'CLUSTER_ROUNDS=%q\nGLOCK_KMOD_DIR=%q\n' "${CLUSTER_ROUNDS:-1000}" \
	"$kmod_dir" >"$results/env"

guest=/tmp/glock-cluster
# vng checks a --rwdir path relative to the current directory: run from /.
cd / || exit 1
vm() {
	local id=$1 net=$2
	timeout -k 30 "$T" vng --run "$kernel" --disable-kvm --force-9p \
		-m 1G --cpus 1 --name "n$id" --rwdir "$guest=$results" \
		--qemu-opts="-netdev socket,id=cl0,$net -device virtio-net-pci,netdev=cl0,mac=52:54:00:99:00:0$id" \
		-v --exec "$repo/selftests/cluster/node.sh $id $guest" \
		</dev/null >"$results/n$id.out" 2>"$results/n$id.console"
}

say "two guests of $kernel (TCG, 1 CPU each), link on 127.0.0.1:$port, token $TOKEN ms; logs in $results"
t0=$(date +%s)
vm 1 "listen=127.0.0.1:$port" &
p1=$!
# The second one connects: wait until the first listens.
for ((i = 0; i < 600; i++)); do
	ss -ltn 2>/dev/null | grep -q "127.0.0.1:$port " && break
	sleep 0.1
done
vm 2 "connect=127.0.0.1:$port" &
p2=$!
trap 'kill -TERM $p1 $p2 2>/dev/null' INT TERM HUP
tail -s 0.5 -n +1 -F --pid="$p2" "$results/n2.out" 2>/dev/null &
wait "$p2"
rc2=$?
# Node 1 was reset by the last scenario (or is told to stop): give it a
# moment, then end it.
for ((i = 0; i < 300; i++)); do
	kill -0 "$p1" 2>/dev/null || break
	sleep 0.1
done
kill -TERM "$p1" 2>/dev/null
wait "$p1"
wait
secs=$(( $(date +%s) - t0 ))

passed=0 failed=0 done=0
# Only "name=digits" lines of the guest's counts become assignments.
[ -f "$results/counts" ] &&
	eval "$(grep -E '^(passed|failed|done)=[0-9]+$' "$results/counts")"
for f in "$results"/n?.failed; do
	[ -f "$f" ] || continue
	say "$(cat "$f")"
	failed=$((failed + 1))
done
if [ "$done" != 1 ]; then
	say "node 2 ended (status $rc2) before the scenarios finished"
	failed=$((failed + 1))
	for n in 1 2; do
		echo "# ---- n$n: last output and console lines"
		tail -n 15 "$results/n$n.out" | sed 's/^/# /'
		tail -n 25 "$results/n$n.console" | sed 's/^/# /'
	done
fi
for n in 1 2; do
	[ -f "$results/n$n.times" ] && say "n$n: $(cat "$results/n$n.times")"
done
[ -f "$results/figures" ] && sed 's/^/# cluster: figure: /' "$results/figures"
say "$secs s wall for both guests; logs in $results"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
