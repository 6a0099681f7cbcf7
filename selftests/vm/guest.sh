#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Inside the test guest: load glock.ko, run the suite (or the demo or the
# benchmarks), unload, check the kernel log; counts go to RESULTS/counts.
#
# usage: guest.sh check|demo|bench|profile RESULTS_DIR
# GLOCK_KMOD_DIR: where glock.ko (and glock_i2c.ko) are; default <repo>/kmod.
# GLOCK_TEST_TIMEOUT: seconds per test program (default: selftests/settings).
# GLOCK_TIME_SCALE: how much slower this kernel runs than a plain one (a
# debug kernel: 4); the runner's and the tests' time limits are multiplied
# by it, the properties they check are not.
# GLOCK_STRICT=1 (make check): a skipped test counts as failed, since
# deps.sh installed everything the suite needs.
# Exported to the tests: GLOCK_REPO, GLOCK_KMOD_DIR, GLOCK_RESULTS.
set -uo pipefail

mode=${1:?usage: guest.sh check|demo|bench|profile RESULTS_DIR}
results=${2:?usage: guest.sh check|demo|bench|profile RESULTS_DIR}
repo=$(cd "$(dirname "$0")/../.." && pwd)
export GLOCK_REPO=$repo
export GLOCK_KMOD_DIR=${GLOCK_KMOD_DIR:-$repo/kmod}
export GLOCK_RESULTS=$results
# The default is kselftest's per-program timeout, from selftests/settings.
test_timeout=${GLOCK_TEST_TIMEOUT:-$(sed -n 's/^timeout=//p' "$repo/selftests/settings" 2>/dev/null)}
test_timeout=${test_timeout:-600}
export GLOCK_TIME_SCALE=${GLOCK_TIME_SCALE:-1}
test_timeout=$(( test_timeout * GLOCK_TIME_SCALE ))
strict=${GLOCK_STRICT:-0}
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH

passed=0
failed=0

pass() { passed=$((passed + 1)); echo "ok - runner: $*"; }
fail() { failed=$((failed + 1)); echo "not ok - runner: $*"; }

# Written after every program, so a crash still leaves partial counts;
# done=1 only at the very end.
write_counts() {
	printf 'passed=%d\nfailed=%d\ndone=%d\n' "$passed" "$failed" "${1:-0}" \
		>"$results/counts.tmp" && mv "$results/counts.tmp" "$results/counts"
}

# Lines of the kernel log that mean something went wrong in the kernel.
# The start-up lines of kmemleak and RCU-lockdep are not findings; KCSAN
# reports are judged on the host (run.sh), by whether a glock frame is in
# their stacks.
splat_re='WARNING:|BUG:|Oops|lockdep|possible circular|KASAN|UBSAN|kmemleak|general protection|Call Trace'
benign_re='kmemleak: (Kernel memory leak detector initialized|Automatic memory scanning thread started)|RCU lockdep checking is enabled|BUG: KCSAN: '
kernel_splats() {
	dmesg | grep -E -- "$splat_re" | grep -Ev -- "$benign_re"
}

load_glock() {
	local out
	if ! out=$(insmod "$GLOCK_KMOD_DIR/glock.ko" 2>&1); then
		fail "insmod $GLOCK_KMOD_DIR/glock.ko: ${out:-failed}"
		return 1
	fi
	pass "insmod glock.ko"
}

# Run one program under a time limit, in its own process group (timeout's),
# streaming its output from a log file so that children it leaves behind
# cannot hold a pipe open; they are killed afterwards. Sets prog_rc.
run_prog() {
	local log=$1 prog=$2 pid
	shift
	(cd "$repo/selftests" && exec timeout -k 10 "$test_timeout" "$@") \
		</dev/null >"$log" 2>&1 &
	pid=$!
	tail -s 0.2 -n +1 -f --pid="$pid" "$log"
	wait "$pid"
	prog_rc=$?
	if kill -0 -- "-$pid" 2>/dev/null; then
		echo "# runner: killing processes $(basename "$prog") left behind"
		kill -KILL -- "-$pid" 2>/dev/null
	fi
}

run_tests() {
	local t name ok nok skips
	shopt -s nullglob
	local progs=()
	for t in "$repo"/selftests/*_test "$repo"/selftests/*_test.sh \
		 "$repo"/selftests/*_test.py; do
		# GLOCK_TESTS: run only the programs whose names match a glob.
		# shellcheck disable=SC2053
		[[ $(basename "$t") == ${GLOCK_TESTS:-*} ]] || continue
		[ -f "$t" ] && [ -x "$t" ] && progs+=("$t")
	done
	shopt -u nullglob
	# One global order, by file name.
	mapfile -t progs < <(printf '%s\n' "${progs[@]}" | LC_ALL=C sort)
	[ ${#progs[@]} -gt 0 ] && [ -n "${progs[0]}" ] || {
		echo "# runner: no test programs in $repo/selftests"
		return
	}
	for t in "${progs[@]}"; do
		name=$(basename "$t")
		echo "# ==== $name"
		local t0=$SECONDS
		prog_log=$results/$name.log
		run_prog "$prog_log" "$t"
		ok=$(grep -c '^ok ' "$prog_log")
		nok=$(grep -c '^not ok ' "$prog_log")
		skips=$(grep -ciE '^ok .*# skip' "$prog_log")
		if [ "$strict" = 1 ] && [ "$skips" -gt 0 ]; then
			ok=$((ok - skips))
			nok=$((nok + skips))
			echo "not ok - runner: $name skipped $skips tests (GLOCK_STRICT=1)"
		fi
		passed=$((passed + ok))
		failed=$((failed + nok))
		echo "# ==== $name: exit $prog_rc, $ok ok, $nok not ok, $((SECONDS - t0)) s"
		if [ "$prog_rc" -eq 124 ] || [ "$prog_rc" -eq 137 ]; then
			fail "$name timed out after ${test_timeout} s"
		elif [ "$prog_rc" -eq 4 ] && [ "$nok" -eq 0 ]; then
			# kselftest's KSFT_SKIP: a whole-program skip.
			if [ "$strict" = 1 ]; then
				fail "$name skipped (GLOCK_STRICT=1)"
			elif [ "$ok" -eq 0 ]; then
				pass "$name skipped"
			fi
		elif [ "$prog_rc" -ne 0 ] && [ "$nok" -eq 0 ]; then
			fail "$name exited with status $prog_rc"
		elif [ "$ok" -eq 0 ] && [ "$nok" -eq 0 ]; then
			fail "$name printed no TAP result"
		fi
		write_counts
		# Each test must leave glock.ko loaded for the next one.
		if [ ! -d /sys/module/glock ]; then
			fail "glock.ko still loaded after $name"
			load_glock || return
		fi
	done
}

unload() {
	local out
	if [ -d /sys/module/glock_i2c ] &&
	   ! out=$(rmmod glock_i2c 2>&1); then
		fail "rmmod glock_i2c: $out"
	fi
	if out=$(rmmod glock 2>&1); then
		pass "rmmod glock"
	else
		fail "rmmod glock: $out"
		cat /sys/module/glock/refcnt 2>/dev/null |
			sed 's/^/# glock refcnt: /'
	fi
}

check_kmemleak() {
	local f=/sys/kernel/debug/kmemleak leaks
	[ -w "$f" ] || return 0
	# Objects must be a few seconds old and seen unreferenced by two
	# scans before kmemleak reports them.
	echo scan >"$f"
	sleep 6
	echo scan >"$f"
	leaks=$(cat "$f")
	if [ -n "$leaks" ]; then
		printf '%s\n' "$leaks" | sed 's/^/# /'
		printf '%s\n' "$leaks" >"$results/kmemleak.txt"
		fail "kmemleak: $(grep -c '^unreferenced object' <<<"$leaks") suspected leaks"
	else
		pass "kmemleak clean"
	fi
}

check_dmesg() {
	local bad
	dmesg >"$results/dmesg.txt"
	bad=$(kernel_splats)
	if [ -n "$bad" ]; then
		printf '%s\n' "$bad" | sed 's/^/# dmesg: /'
		fail "dmesg clean"
	else
		pass "dmesg clean"
	fi
}

# Run a script that may be missing; its exit status is the result.
run_optional() {
	local what=$1 script=$2
	if [ ! -x "$script" ] && [ ! -f "$script" ]; then
		echo "# runner: $script is missing: no $what yet"
		return 0
	fi
	(cd "$repo" && timeout -k 10 "${GLOCK_SCRIPT_TIMEOUT:-1200}" bash "$script" </dev/null)
	local rc=$?
	if [ "$rc" -eq 0 ]; then pass "$what"; else fail "$what (exit $rc)"; fi
}

# QEMU's TCG can leave a vCPU re-running a stale int3 at a site the kernel
# has just patched back, with interrupts off, while the patching vCPU waits
# for it in text_poke_bp()'s IPI: RCU stall, suite stuck. Seen twice on
# debug kernels when a test enabled trace events, which registers the
# saved_cmdlines probes and so patches sched_switch and sched_wakeup in
# __schedule() and try_to_wake_up(). One rare event enabled for the whole
# suite keeps those probes registered, so no test patches the scheduler.
# Not in bench mode: the probe costs every context switch.
keep_cmdline_probes() {
	local t=/sys/kernel/tracing e
	[ -d $t/events ] || mount -t tracefs nodev $t 2>/dev/null
	e=$t/events/sched/sched_kthread_stop/enable
	if [ -w "$e" ] && echo 1 >"$e"; then
		echo "# runner: saved_cmdlines probes kept registered (QEMU TCG, see guest.sh)"
	fi
}

mkdir -p "$results"
rm -f "$results/counts"
echo "# runner: $(uname -r), $(nproc) CPUs, mode $mode, modules from $GLOCK_KMOD_DIR"
# The kmemleak report must be about this run, not about boot.
[ -w /sys/kernel/debug/kmemleak ] && echo clear >/sys/kernel/debug/kmemleak

case $mode in
check)
	keep_cmdline_probes
	if load_glock; then
		run_tests
		unload
	fi
	check_kmemleak
	check_dmesg
	;;
demo)
	load_glock && run_optional demo "$repo/lib/demo.sh"
	check_dmesg
	;;
bench)
	load_glock && run_optional bench "$repo/selftests/bench/run.sh"
	check_dmesg
	;;
profile)
	load_glock && run_optional profile "$repo/selftests/bench/profile.sh"
	check_dmesg
	;;
*)
	echo "guest.sh: unknown mode $mode" >&2
	exit 2
	;;
esac

write_counts 1
echo "# runner: guest done: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
