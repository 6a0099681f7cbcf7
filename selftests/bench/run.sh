#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Run the glock benchmark; selftests/vm/run.sh bench calls this inside the
# guest with glock.ko loaded. Usable on any machine with /dev/glock.
#
# usage: run.sh [glock_bench options]   (see glock_bench.c; e.g. -t 1 -r 7)
# The report also goes to $GLOCK_RESULTS/bench.txt when that is set.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bench=$here/glock_bench

if [ ! -x "$bench" ]; then
	echo "run.sh: $bench is not built: run 'make' (or 'make -C selftests/bench') first" >&2
	exit 2
fi
if [ ! -c /dev/glock ]; then
	echo "run.sh: /dev/glock is missing: load the module (insmod kmod/glock.ko)" >&2
	exit 2
fi

out=/dev/null
if [ -n "${GLOCK_RESULTS:-}" ] && [ -d "$GLOCK_RESULTS" ]; then
	out=$GLOCK_RESULTS/bench.txt
fi

{
	echo "# glock benchmark: $(uname -r), $(nproc) CPUs," \
		"clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null || echo '?')," \
		"$(date -u '+%F %T') UTC"
	grep -q hypervisor /proc/cpuinfo && echo "# (virtual machine: absolute figures mean little, ratios do)"
	"$bench" "$@"
} 2>&1 | tee "$out"
exit "${PIPESTATUS[0]}"
