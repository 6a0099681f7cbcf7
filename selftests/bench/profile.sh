#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Where the time of the figures make bench cannot bring to target goes: a
# perf profile while glock_bench -P runs one workload (two no-op ioctls,
# the name pair, the handle pair, each in one process on the last CPU,
# which is recorded; 4 processes contending by name, all CPUs recorded),
# as a summary (glock's functions, idle, slab, the rest) and the top
# symbols. selftests/vm/run.sh profile calls this inside the guest with
# glock.ko loaded; usable on any machine with /dev/glock and perf.
#
# usage: profile.sh [-t SECONDS]   (default 4 per workload)
# The report also goes to $GLOCK_RESULTS/profile.txt when that is set.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bench=$here/glock_bench
secs=4

while getopts t: o; do
	case $o in
	t) secs=$OPTARG ;;
	*) echo "usage: $0 [-t SECONDS]" >&2; exit 2 ;;
	esac
done

die() { echo "profile.sh: $*" >&2; exit 2; }
[ -x "$bench" ] || die "$bench is not built: run 'make' first"
[ -c /dev/glock ] || die "/dev/glock is missing: load the module (insmod kmod/glock.ko)"
command -v perf >/dev/null || die "perf is missing: install linux-perf (make profile does)"

out=/dev/null
if [ -n "${GLOCK_RESULTS:-}" ] && [ -d "$GLOCK_RESULTS" ]; then
	out=$GLOCK_RESULTS/profile.txt
fi
data=$(mktemp -d) || die "mktemp failed"
# The last CPU: CPU 1 in the 2-vCPU guest, and still one on a single CPU.
cpu=$(( $(nproc) - 1 ))
trap 'rm -rf "$data"' EXIT

# Self time by symbol, callers left out: the first lines carry the answer.
report() {
	perf report -i "$1" --no-children --stdio -g none --sort dso,sym \
		"${@:2}" 2>/dev/null | grep -v -e '^#' -e '^$'
}

# One line: the share of glock's own functions, the CPU idle, the slab
# allocator, the rest of the kernel and user space.
summary() {
	report "$1" | awk '
		{ p = $1; sub(/%/, "", p); s = $NF }
		$3 == "[.]"					{ u += p; next }
		s ~ /^_*glock_/					{ g += p; next }
		s ~ /safe_halt|idle/				{ i += p; next }
		s ~ /^(kmem_cache_|kfree|__kmalloc|kmalloc|___?slab_)/	{ a += p; next }
							{ k += p }
		END { printf "# glock %.1f%%, idle %.1f%%, slab %.1f%%, other kernel %.1f%%, user %.1f%%\n",
			     g, i, a, k, u }'
}

{
	status=0
	echo "# glock profile: $(uname -r), $(nproc) CPUs, $(date -u '+%F %T') UTC"
	echo "# perf record (cpu-clock, 1 kHz) over glock_bench -P WORKLOAD -t $secs:"
	echo "# one process pinned to CPU $cpu and that CPU recorded, or (contended)"
	echo "# 4 processes and both CPUs; self time per symbol (>= 1.5%)"
	for w in noop name handle contended; do
		echo
		echo "## $w"
		if [ $w = contended ]; then
			rec=(-a) run=("$bench" -P "$w" -t "$secs")
		else
			rec=(-C "$cpu") run=(taskset -c "$cpu" "$bench" -P "$w" -t "$secs")
		fi
		if ! perf record -q "${rec[@]}" -e cpu-clock -F 1000 \
			-o "$data/$w" -- "${run[@]}" 2>&1; then
			echo "not ok - perf record of $w"
			status=1
			continue
		fi
		summary "$data/$w"
		report "$data/$w" --percent-limit 1.5 | head -25
	done
	exit $status
} 2>&1 | tee "$out"
exit "${PIPESTATUS[0]}"
