#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Where the time of the figures make bench cannot bring to target goes: a
# perf profile of the whole machine while glock_bench -P runs one workload
# (two no-op ioctls, the name pair, the handle pair, 4 processes contending
# by name). selftests/vm/run.sh profile calls this inside the guest with
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
trap 'rm -rf "$data"' EXIT

# Self time by symbol and by binary; callers are left out, the first
# lines carry the answer. Samples in idle say the CPUs had nothing to run.
report() {
	perf report -i "$1" --no-children --stdio -g none "${@:2}" 2>/dev/null |
		grep -v -e '^#' -e '^$'
}

{
	status=0
	echo "# glock profile: $(uname -r), $(nproc) CPUs, $(date -u '+%F %T') UTC"
	echo "# perf record -a (cpu-clock, 2 kHz) over glock_bench -P WORKLOAD -t $secs;"
	echo "# self time per binary, then per symbol (>= 1.5%)"
	for w in noop name handle contended; do
		echo
		echo "## $w"
		if ! perf record -q -a -e cpu-clock -F 2000 -o "$data/$w" -- \
			"$bench" -P "$w" -t "$secs" 2>&1; then
			echo "not ok - perf record of $w"
			status=1
			continue
		fi
		report "$data/$w" --sort dso --percent-limit 1 | head -8
		echo "#"
		report "$data/$w" --sort dso,sym --percent-limit 1.5 | head -30
	done
	exit $status
} 2>&1 | tee "$out"
exit "${PIPESTATUS[0]}"
